#
# tests/toolchain/toolchain.mk, included by tests/tests.mk:
#   make check-toolchain   weft as a user's build meets it (tests/toolchain/
#                          run.sh): make install into tests-out/toolchain/
#                          prefix; weft-gcc's answers and refusals there; a
#                          small threaded project built with the installed
#                          CMake toolchain file, meson cross file and
#                          weft.pc; then make uninstall, which must leave
#                          nothing.  A missing cmake, meson or pkg-config
#                          skips its test.
# `make check` runs it in every backend's build.
#
check-toolchain: all
	@echo "== toolchain: install, weft-gcc, cmake, meson, pkg-config, uninstall (logs in $(B)/$(TO)/toolchain)"
	+@MAKE='$(MAKE)' sh $(srcdir)/tests/toolchain/run.sh $(B) $(PAL) \
		$(B)/$(TO)/toolchain/prefix $(B)/$(TO)/toolchain

# (make check LOAD=N makes check again under load, with CHECK_LOAD empty.)
ifeq ($(CHECK_LOAD),)
check: check-toolchain
endif
.PHONY: check-toolchain
