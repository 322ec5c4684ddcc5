#
# bench/bench.mk: `make bench`, included by the main Makefile and run in
# any build directory (bench/README.md says how to read the result).
#
# Builds every bench/*.c program, unmodified, four ways under obj/bench/:
#   glibc        $(CC) -O2 -pthread                      (dynamic, the system libc)
#   musl         stock musl 1.2.3 from the same verified source
#                (`make stock-musl`): its musl-gcc -static -O2 -pthread
#   weft-native  the sibling build obj/pal/native (`make pal-build-native`):
#                its bin/weft-gcc -static -O2 -pthread
#   weft-epoll   likewise obj/pal/epoll
# The weft variants always come from the sibling builds, never from this
# build directory, so that every weft column is a default (non-debug)
# configure whatever this directory was configured with.  Static for
# musl and weft alike, so the two differ only in the PAL.
# examples/echo_server.c is built the same four ways and
# examples/echo_load.c once, with $(CC) (glibc), as the fixed client.
# Then bench/run.sh runs them all and writes obj/bench/results.txt.
#
#   make bench                   medians of 5 runs (about 15 minutes on 2 cores)
#   make bench BENCH_QUICK=1     small sizes, 3 runs: a smoke test (< 2 minutes)
#   make bench BENCH_RUNS=7      more runs
#
# A toolchain that does not build leaves its column as "no build"; a
# program that fails, hangs or hits a resource limit gets "fail",
# "timeout" or "n/a (EAGAIN)" in its cell.  Neither stops the run.
#

BENCH_RUNS ?=
BENCH_QUICK ?=
BENCH_VARIANTS = glibc musl weft-native weft-epoll
BENCH_PROGS = spawn condvar ring tree mutex lock yield sleepers blocked pipeline
BENCH_EXAMPLES = $(srcdir)/examples
BENCH_CFLAGS = -O2 -pthread
BO = obj/bench

BENCH_CC_glibc = $(CC)
BENCH_CC_musl = $(STOCK)/inst/bin/musl-gcc -static
BENCH_CC_weft-native = obj/pal/native/bin/weft-gcc -static
BENCH_CC_weft-epoll = obj/pal/epoll/bin/weft-gcc -static
BENCH_LIB_glibc =
BENCH_LIB_musl = $(STOCK)/inst/lib/libc.a
BENCH_LIB_weft-native = obj/pal/native/lib/libc.a
BENCH_LIB_weft-epoll = obj/pal/epoll/lib/libc.a

# Set by `bench` for bench-build: the variants whose toolchain built.
BENCH_BUILD = $(BENCH_VARIANTS)
BENCH_HAVE_ECHO = $(and $(wildcard $(BENCH_EXAMPLES)/echo_server.c),$(wildcard $(BENCH_EXAMPLES)/echo_load.c))

define bench_variant
$(BO)/$(1)/%: $(srcdir)/bench/%.c $(srcdir)/bench/bench.h $(BENCH_LIB_$(1))
	@mkdir -p $$(@D)
	$(BENCH_CC_$(1)) $(BENCH_CFLAGS) -o $$@ $$<
$(BO)/$(1)/echo_server: $(BENCH_EXAMPLES)/echo_server.c $(BENCH_LIB_$(1))
	@mkdir -p $$(@D)
	$(BENCH_CC_$(1)) $(BENCH_CFLAGS) -o $$@ $$<
endef
$(foreach v,$(BENCH_VARIANTS),$(eval $(call bench_variant,$(v))))

$(BO)/glibc/echo_load: $(BENCH_EXAMPLES)/echo_load.c
	@mkdir -p $(@D)
	$(BENCH_CC_glibc) $(BENCH_CFLAGS) -o $@ $<

bench-build: $(foreach v,$(BENCH_BUILD),$(BENCH_PROGS:%=$(BO)/$(v)/%) \
	$(if $(BENCH_HAVE_ECHO),$(BO)/$(v)/echo_server)) \
	$(if $(BENCH_HAVE_ECHO),$(BO)/glibc/echo_load)

bench:
	@ok=glibc; \
	if $(MAKE) --no-print-directory stock-musl; then ok="$$ok musl"; \
	else echo "bench: stock musl did not build: its column says 'no build'" >&2; fi; \
	for p in native epoll; do \
		echo "bench: building the weft $$p sibling (obj/pal/$$p)"; \
		if $(MAKE) --no-print-directory pal-build-$$p; then ok="$$ok weft-$$p"; \
		else echo "bench: obj/pal/$$p did not build: the weft-$$p column says 'no build'" >&2; fi; \
	done; \
	for v in $(BENCH_VARIANTS); do \
		case " $$ok " in *" $$v "*) ;; *) rm -rf $(BO)/$$v ;; esac; \
	done; \
	$(MAKE) --no-print-directory -k bench-build BENCH_BUILD="$$ok" || \
		echo "bench: some programs did not build: their cells say 'no build'" >&2; \
	BENCH_RUNS='$(BENCH_RUNS)' BENCH_QUICK='$(BENCH_QUICK)' \
	BENCH_VARIANTS='$(BENCH_VARIANTS)' BENCH_ECHO='$(if $(BENCH_HAVE_ECHO),1)' \
		sh $(srcdir)/bench/run.sh $(BO) \
		"make -C $(CURDIR) bench$(if $(BENCH_RUNS), BENCH_RUNS=$(BENCH_RUNS))$(if $(BENCH_QUICK), BENCH_QUICK=$(BENCH_QUICK))"

.PHONY: bench bench-build
