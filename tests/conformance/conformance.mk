#
# tests/conformance/conformance.mk, included by tests/tests.mk:
#   make check-conformance   the differential suite (tests/conformance/
#                            run.sh): every test under native and epoll
# It needs both backends: this build is one, the sibling build obj/pal/P
# (pal-build-P) the other.  `make check` runs it once, from the top build
# (CHECK_OTHERS=yes), after the per-backend suites.
#
CONF_NATIVE_GCC = $(if $(filter native,$(PAL)),bin/weft-gcc,obj/pal/native/bin/weft-gcc)
CONF_EPOLL_GCC = $(if $(filter epoll,$(PAL)),bin/weft-gcc,obj/pal/epoll/bin/weft-gcc)
CONF_OTHER = $(filter-out $(PAL),native epoll)

# With LOAD=N (the Makefile's CHECK_LOAD), check-conformance and check
# are the Makefile's: they make these again under tests/load.sh.
ifeq ($(CHECK_LOAD),)
check-conformance: all $(CONF_OTHER:%=pal-build-%)
	@echo "== conformance: native vs epoll (tests/conformance, logs in $(TO)/conformance)"
	@sh $(srcdir)/tests/conformance/run.sh $(CONF_NATIVE_GCC) $(CONF_EPOLL_GCC) \
		$(TO)/conformance

ifeq ($(CHECK_OTHERS),yes)
check: check-conformance
# Under `make -j check`, not concurrently with the sibling's own check.
ifneq ($(filter check,$(MAKECMDGOALS)),)
check-conformance: | check-suite $(CONF_OTHER:%=check-pal-%)
endif
endif
endif

.PHONY: check-conformance
