#
# bench/bench.mk: `make bench`, included by the main Makefile and run in
# any build directory (bench/README.md says how to read the result).
#
# Builds each program of BENCH_PROGS (bench/NAME.c), unmodified, four
# ways under obj/bench/:
#   glibc        $(CC) -O2 -pthread                      (dynamic, the system libc)
#   musl         stock musl 1.2.3 from the same verified source
#                (`make stock-musl`): its musl-gcc -static -O2 -pthread
#   weft-native  the sibling build obj/pal/native (`make pal-build-native`):
#                its bin/weft-gcc -static -O2 -pthread
#   weft-epoll   likewise obj/pal/epoll
#   weft-uring   likewise obj/pal/uring (the echo rows only)
# The weft variants always come from the sibling builds, never from this
# build directory, so that every weft column is a default (non-debug)
# configure whatever this directory was configured with.  Static for
# musl and weft alike, so the two differ only in the PAL.
# examples/echo_server.c and bench/echo_fsync.c (the same server with
# threads doing fdatasync beside it) are built the same ways and
# examples/echo_load.c once, with $(CC) (glibc), as the fixed client.
# Two more columns:
#   go           the Go twins, bench/go/*/main.go, built by `go build`
#                (stdlib only, no network: GOPROXY=off, GOCACHE and GOPATH
#                under obj/bench/go-build); no column when go is missing
#   epoll-loop   bench/echo_epoll.c, an epoll event-loop echo server,
#                with $(CC): the echo rows only (issue 18's anchor)
# Then bench/run.sh runs them all and writes obj/bench/results.txt.
#
#   make bench                   medians of 5 runs (about 20 minutes on 2 cores)
#   make bench BENCH_QUICK=1     small sizes, 3 runs: a smoke test (under 3 minutes)
#   make bench BENCH_RUNS=7      more runs
#   make bench LOAD=2            the same with 2 CPU-bound processes beside
#                                it (tests/load.sh); results-load2.txt
#
# A toolchain that does not build leaves its column as "no build"; a
# program that fails, hangs or hits a resource limit gets "fail",
# "timeout" or "n/a (EAGAIN)" in its cell.  Neither stops the run.
#

BENCH_RUNS ?=
BENCH_QUICK ?=
BENCH_C_VARIANTS = glibc musl weft-native weft-epoll weft-uring
BENCH_VARIANTS = $(BENCH_C_VARIANTS) go epoll-loop
BENCH_LOAD = $(filter-out 0,$(strip $(LOAD)))
BENCH_PROGS = spawn condvar ring tree mutex lock yield sleepers blocked pipeline
BENCH_EXAMPLES = $(srcdir)/examples
BENCH_CFLAGS = -O2 -pthread
BO = obj/bench

BENCH_CC_glibc = $(CC)
BENCH_CC_musl = $(STOCK)/inst/bin/musl-gcc -static
BENCH_CC_weft-native = obj/pal/native/bin/weft-gcc -static
BENCH_CC_weft-epoll = obj/pal/epoll/bin/weft-gcc -static
BENCH_CC_weft-uring = obj/pal/uring/bin/weft-gcc -static
BENCH_LIB_glibc =
BENCH_LIB_musl = $(STOCK)/inst/lib/libc.a
BENCH_LIB_weft-native = obj/pal/native/lib/libc.a
BENCH_LIB_weft-epoll = obj/pal/epoll/lib/libc.a
BENCH_LIB_weft-uring = obj/pal/uring/lib/libc.a

# Set by `bench` for bench-build: the variants whose toolchain built.
BENCH_BUILD = $(BENCH_VARIANTS)
BENCH_HAVE_ECHO = $(and $(wildcard $(BENCH_EXAMPLES)/echo_server.c),$(wildcard $(BENCH_EXAMPLES)/echo_load.c))

# bench-build's targets for each variant (weft-uring runs the echo rows
# only: its scheduler is weft-epoll's, so the other rows would repeat it).
BENCH_ECHO_TARGETS = echo_server echo_fsync
$(foreach v,$(BENCH_C_VARIANTS),$(eval BENCH_TARGETS_$(v) = $(if $(filter weft-uring,$(v)),,$(BENCH_PROGS:%=$(BO)/$(v)/%)) \
	$(if $(BENCH_HAVE_ECHO),$(BENCH_ECHO_TARGETS:%=$(BO)/$(v)/%))))
BENCH_TARGETS_go = $(BENCH_PROGS:%=$(BO)/go/%) $(if $(BENCH_HAVE_ECHO),$(BO)/go/echo_server)
BENCH_TARGETS_epoll-loop = $(if $(BENCH_HAVE_ECHO),$(BO)/epoll-loop/echo_server)

define bench_variant
$(BO)/$(1)/%: $(srcdir)/bench/%.c $(srcdir)/bench/bench.h $(BENCH_LIB_$(1))
	@mkdir -p $$(@D)
	$(BENCH_CC_$(1)) $(BENCH_CFLAGS) -o $$@ $$<
$(BO)/$(1)/echo_server: $(BENCH_EXAMPLES)/echo_server.c $(BENCH_LIB_$(1))
	@mkdir -p $$(@D)
	$(BENCH_CC_$(1)) $(BENCH_CFLAGS) -o $$@ $$<
$(BO)/$(1)/echo_fsync: $(srcdir)/bench/echo_fsync.c $(BENCH_EXAMPLES)/echo_server.c $(BENCH_LIB_$(1))
	@mkdir -p $$(@D)
	$(BENCH_CC_$(1)) $(BENCH_CFLAGS) -o $$@ $$<
endef
$(foreach v,$(BENCH_C_VARIANTS),$(eval $(call bench_variant,$(v))))

# The Go twins: one main package per directory of the module bench/go
# (go.mod, no requirements).  Built offline into this build directory;
# CGO_ENABLED=0, so they are static and need no C compiler.
BENCH_GO = go
BENCH_GO_LIB = $(srcdir)/bench/go/go.mod $(wildcard $(srcdir)/bench/go/internal/*/*.go)
BENCH_GO_ENV = GOCACHE='$(abspath $(BO))/go-build/cache' GOPATH='$(abspath $(BO))/go-build/path' \
	GOPROXY=off GOFLAGS= GO111MODULE=on GOWORK=off CGO_ENABLED=0
$(BO)/go/%: $(srcdir)/bench/go/%/main.go $(BENCH_GO_LIB)
	@mkdir -p $(@D)
	cd $(srcdir)/bench/go && $(BENCH_GO_ENV) $(BENCH_GO) build -trimpath -o '$(abspath $@)' ./$*

$(BO)/epoll-loop/echo_server: $(srcdir)/bench/echo_epoll.c
	@mkdir -p $(@D)
	$(BENCH_CC_glibc) $(BENCH_CFLAGS) -o $@ $<

$(BO)/glibc/echo_load: $(BENCH_EXAMPLES)/echo_load.c
	@mkdir -p $(@D)
	$(BENCH_CC_glibc) $(BENCH_CFLAGS) -o $@ $<

bench-build: $(foreach v,$(BENCH_BUILD),$(BENCH_TARGETS_$(v))) \
	$(if $(BENCH_HAVE_ECHO),$(BO)/glibc/echo_load)

# go is optional: without it the table has no go column and says so.
bench:
	@ok=glibc; vars='$(filter-out go,$(BENCH_VARIANTS))'; gov=none; \
	if command -v $(BENCH_GO) > /dev/null 2>&1; then \
		ok="$$ok go"; vars='$(BENCH_VARIANTS)'; gov=$$($(BENCH_GO) version); \
	else echo "bench: no '$(BENCH_GO)' (Debian: apt-get install golang-go): no go column" >&2; fi; \
	ok="$$ok epoll-loop"; \
	if $(MAKE) --no-print-directory stock-musl; then ok="$$ok musl"; \
	else echo "bench: stock musl did not build: its column says 'no build'" >&2; fi; \
	for p in native epoll uring; do \
		echo "bench: building the weft $$p sibling (obj/pal/$$p)"; \
		if $(MAKE) --no-print-directory pal-build-$$p; then ok="$$ok weft-$$p"; \
		else echo "bench: obj/pal/$$p did not build: the weft-$$p column says 'no build'" >&2; fi; \
	done; \
	for v in $(BENCH_VARIANTS); do \
		case " $$ok " in *" $$v "*) ;; *) rm -rf $(BO)/$$v ;; esac; \
	done; \
	$(MAKE) --no-print-directory -k bench-build BENCH_BUILD="$$ok" || \
		echo "bench: some programs did not build: their cells say 'no build'" >&2; \
	BENCH_RUNS='$(BENCH_RUNS)' BENCH_QUICK='$(BENCH_QUICK)' BENCH_LOAD='$(BENCH_LOAD)' \
	BENCH_VARIANTS="$$vars" BENCH_GO_VERSION="$$gov" BENCH_ECHO='$(if $(BENCH_HAVE_ECHO),1)' \
		sh $(srcdir)/bench/run.sh $(BO) \
		"make -C $(CURDIR) bench$(if $(BENCH_RUNS), BENCH_RUNS=$(BENCH_RUNS))$(if $(BENCH_QUICK), BENCH_QUICK=$(BENCH_QUICK))$(if $(BENCH_LOAD), LOAD=$(BENCH_LOAD))"

.PHONY: bench bench-build
