#
# tests/conformance/conformance.mk, included by tests/tests.mk:
#   make check-conformance   the differential suite (tests/conformance/
#                            run.sh): every test under native and each
#                            M:N backend (epoll, uring)
# It needs both backends: this build is one, the sibling build obj/pal/P
# (pal-build-P) the other.  `make check` runs it once, from the top build
# (CHECK_OTHERS=yes), after the per-backend suites.
#
CONF_NATIVE_GCC = $(if $(filter native,$(PAL)),bin/weft-gcc,obj/pal/native/bin/weft-gcc)
# Every M:N backend (epoll, uring) is compared with native, each in its
# own OUTDIR: tests-out/conformance for epoll, as before, and
# tests-out/conformance-P for the others.  run.sh names the M:N side
# "epoll" whichever it is (its variants, and xfail markers, apply to it).
CONF_MN = $(filter-out native,$(PALS))
conf_gcc = $(if $(filter $(1),$(PAL)),bin/weft-gcc,obj/pal/$(1)/bin/weft-gcc)
conf_out = $(TO)/conformance$(if $(filter-out epoll,$(1)),-$(1))
CONF_OTHER = $(filter-out $(PAL),native $(CONF_MN))

# With LOAD=N (the Makefile's CHECK_LOAD), check-conformance and check
# are the Makefile's: they make these again under tests/load.sh.
ifeq ($(CHECK_LOAD),)
check-conformance: all $(CONF_OTHER:%=pal-build-%)
	@fail=0; $(foreach p,$(CONF_MN),echo "== conformance: native vs $(p) (tests/conformance, logs in $(call conf_out,$(p)))"; \
	sh $(srcdir)/tests/conformance/run.sh $(CONF_NATIVE_GCC) $(call conf_gcc,$(p)) \
		$(call conf_out,$(p)) || fail=1;) exit $$fail

ifeq ($(CHECK_OTHERS),yes)
check: check-conformance
# Under `make -j check`, not concurrently with the sibling's own check.
ifneq ($(filter check,$(MAKECMDGOALS)),)
check-conformance: | check-suite $(CONF_OTHER:%=check-pal-%)
endif
endif
endif

.PHONY: check-conformance
