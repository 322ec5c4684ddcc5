#
# tests/tests.mk: `make check`, included by the main Makefile and run in
# the build directory.  Builds cmocka and every test with bin/weft-gcc,
# under tests-out/, then runs them all with tests/run.sh:
#   tests/unit/*.c         the PAL contract, calling the hidden __pal_*
#                          functions directly: static only (libc.so does
#                          not export them)
#   tests/integration/*.c  pthread programs: each built -static and dynamic
#   tests/sched/test_*.c   the scheduler's building blocks on the host
#                          (system gcc, glibc, Debian's libcmocka-dev);
#                          sched/ is also compiled as libc code first
#   tests/valgrind/*.c     threaded programs under Valgrind's memcheck,
#                          static only; skipped without valgrind in PATH
#
# cmocka is not committed: Debian's source package is fetched at build
# time (tools/debsrc.sh), its orig tarball checked against the sha256
# pinned here, and src/cmocka.c compiled with our tests/cmocka/config.h.
# CMOCKA_TARBALL=/path/to/cmocka_$(CMOCKA_VERSION).orig.tar.xz skips the
# download (the checksum is still checked).
#

CMOCKA_VERSION = 1.1.5
CMOCKA_SHA256 = f0ccd8242d55e2fd74b16ba518359151f6f8383ff8aef4976e48393f77bba8b6
CMOCKA_TARBALL =
# Seconds each test binary may run: a hang detector, not a deadline.
# The longest binaries (stress under 1:1, the sched tests under TSan) took
# 30-45 s on a busy 2-core machine with make check LOAD=2; the tests bound
# their own waits (LONG_MS) and fail much sooner when something hangs.
TEST_TIMEOUT = 180

TO = tests-out
TEST_CC = bin/weft-gcc
TEST_CFLAGS = -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter -DWEFT_PAL='"$(PAL)"' \
	-I$(srcdir)/tests -I$(CMOCKA_SRC)/include -pthread
# Everything a test build needs from `all` (headers and crt files too,
# by the order-only `all`).
TEST_STATIC_DEPS = $(TEST_CC) lib/libc.a lib/weft-gcc.specs
TEST_DYNAMIC_DEPS = $(TEST_CC) lib/libc.so lib/weft-gcc.specs

CMOCKA_DIR = $(TO)/cmocka
CMOCKA_ORIG = $(CMOCKA_DIR)/cmocka_$(CMOCKA_VERSION).orig.tar.xz
CMOCKA_SRC = $(CMOCKA_DIR)/cmocka-$(CMOCKA_VERSION)
CMOCKA_CFLAGS = -std=gnu99 -O2 -g -DHAVE_CONFIG_H -I$(srcdir)/tests/cmocka \
	-I$(CMOCKA_SRC)/include

TEST_HDRS = $(srcdir)/tests/testutil.h $(CMOCKA_SRC)/src/cmocka.c
UNIT_NAMES = $(sort $(basename $(notdir $(wildcard $(srcdir)/tests/unit/*.c))))
INTEG_NAMES = $(sort $(basename $(notdir $(wildcard $(srcdir)/tests/integration/*.c))))
UNIT_BINS = $(UNIT_NAMES:%=$(TO)/unit/%-static)
INTEG_BINS = $(foreach n,$(INTEG_NAMES),$(TO)/integration/$(n)-static \
	$(TO)/integration/$(n)-dynamic)

VG_NAMES = $(sort $(basename $(notdir $(wildcard $(srcdir)/tests/valgrind/*.c))))
VG_BINS = $(VG_NAMES:%=$(TO)/valgrind/%-static)

SCHED_TESTS = $(sort $(basename $(notdir $(wildcard $(srcdir)/tests/sched/test_*.c))))
SCHED_BINS = $(SCHED_TESTS:%=$(TO)/sched/%-host)
# The lock-free and lockless parts again under ThreadSanitizer (gcc's
# libtsan): a data race it reports fails the test (exit status 66).
SCHED_TSAN = test_runq test_lot
SCHED_TSAN_BINS = $(SCHED_TSAN:%=$(TO)/sched/%-tsan)

# The suite under this build's backend; `make check` (Makefile) runs it
# here and in a sibling build of every other backend.
check-suite: all $(UNIT_BINS) $(INTEG_BINS) $(TO)/sched/libc-check $(SCHED_BINS) \
		$(SCHED_TSAN_BINS) $(VG_BINS)
	@TEST_TIMEOUT=$(TEST_TIMEOUT) sh $(srcdir)/tests/run.sh '$(PAL)' \
		$(TO)/logs $(UNIT_BINS) $(INTEG_BINS) $(SCHED_BINS) $(SCHED_TSAN_BINS) \
		$(VG_BINS)

# ---- cmocka -------------------------------------------------------------

$(CMOCKA_ORIG):
	@rm -rf $(CMOCKA_DIR)/dl && mkdir -p $(CMOCKA_DIR)/dl
	@if [ -n '$(CMOCKA_TARBALL)' ]; then \
		cp '$(CMOCKA_TARBALL)' $(CMOCKA_DIR)/dl/$(@F); \
	else \
		v=$$(sh $(srcdir)/tools/debsrc.sh cmocka '$(CMOCKA_VERSION)-' \
			$(CMOCKA_DIR)/dl) || exit 1; \
		echo "cmocka: Debian source package cmocka $$v"; \
	fi
	@f=$(CMOCKA_DIR)/dl/$(@F); \
	[ -f $$f ] || { echo "error: cmocka: $(@F) was not downloaded" \
		"(see $(CMOCKA_DIR)/dl)" >&2; exit 1; }; \
	sum=$$(sha256sum $$f | cut -d' ' -f1); \
	[ "$$sum" = '$(CMOCKA_SHA256)' ] || { \
		echo "error: cmocka: sha256 mismatch for $$f" >&2; \
		echo "error:   got      $$sum" >&2; \
		echo "error:   expected $(CMOCKA_SHA256) (CMOCKA_SHA256 in tests/tests.mk)" >&2; \
		exit 1; }; \
	echo "cmocka: $(@F) sha256 $$sum OK"
	$(Q)mv $(CMOCKA_DIR)/dl/$(@F) $@

$(CMOCKA_SRC)/src/cmocka.c: $(CMOCKA_ORIG)
	$(call msg,UNTAR,$(CMOCKA_SRC))rm -rf $(CMOCKA_SRC)
	$(Q)tar -xJf $< -C $(CMOCKA_DIR)
	$(Q)touch $@

# cmocka.o for static tests, cmocka.lo (PIC) for dynamic ones.
$(CMOCKA_DIR)/cmocka.o: $(CMOCKA_SRC)/src/cmocka.c \
		$(srcdir)/tests/cmocka/config.h $(TEST_STATIC_DEPS) | all
	$(call msg,CC,$@)$(TEST_CC) $(CMOCKA_CFLAGS) -c -o $@ $<
$(CMOCKA_DIR)/cmocka.lo: $(CMOCKA_SRC)/src/cmocka.c \
		$(srcdir)/tests/cmocka/config.h $(TEST_DYNAMIC_DEPS) | all
	$(call msg,CC,$@)$(TEST_CC) $(CMOCKA_CFLAGS) -fPIC -c -o $@ $<

# ---- Tests --------------------------------------------------------------

$(TO)/unit/%-static: $(srcdir)/tests/unit/%.c $(srcdir)/pal/pal.h \
		$(srcdir)/tests/unit/palutil.h $(TEST_HDRS) $(CMOCKA_DIR)/cmocka.o $(TEST_STATIC_DEPS) | all
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(TEST_CC) $(TEST_CFLAGS) -I$(srcdir)/pal \
		-static -o $@ $< $(CMOCKA_DIR)/cmocka.o

$(TO)/integration/%-static: $(srcdir)/tests/integration/%.c $(TEST_HDRS) \
		$(CMOCKA_DIR)/cmocka.o $(TEST_STATIC_DEPS) | all
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(TEST_CC) $(TEST_CFLAGS) -static -o $@ $< $(CMOCKA_DIR)/cmocka.o

$(TO)/integration/%-dynamic: $(srcdir)/tests/integration/%.c $(TEST_HDRS) \
		$(CMOCKA_DIR)/cmocka.lo $(TEST_DYNAMIC_DEPS) | all
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(TEST_CC) $(TEST_CFLAGS) -o $@ $< $(CMOCKA_DIR)/cmocka.lo

# gdb_tasks runs gdb on a child with the build's gdb script (weft-gdb.py,
# staged by `all`), trusted by this auto-load safe-path.
$(TO)/integration/gdb_tasks-static $(TO)/integration/gdb_tasks-dynamic: \
	TEST_CFLAGS += -DWEFT_GDB_DIR='"$(B)/share/weft/gdb"'

# WEFT_CLIENT_REQUESTS: the scheduler was built with valgrind.h (sched/vg.h);
# without it an M:N program cannot pass, and the test says so and skips.
$(TO)/valgrind/%-static: $(srcdir)/tests/valgrind/%.c $(TEST_HDRS) \
		$(CMOCKA_DIR)/cmocka.o $(TEST_STATIC_DEPS) config.mak | all
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(TEST_CC) $(TEST_CFLAGS) -DWEFT_CLIENT_REQUESTS=$(if $(VALGRIND_CPPFLAGS),1,0) \
		-static -o $@ $< $(CMOCKA_DIR)/cmocka.o

# ---- sched/ on the host -------------------------------------------------
# The sched/ sources each host test links (test_stack includes stack.c).
sched_srcs_test_switch = switch_x86_64.S cpu_x86_64.c
sched_srcs_test_runq = runq.c
sched_srcs_test_lot = lot.c
SCHED_HOST_CFLAGS = -std=gnu11 -O2 -g -fno-stack-protector -Wall -Wextra \
	-Werror -Wno-unused-parameter -pthread -I$(srcdir)/sched -I$(srcdir)/tests/sched

# Every sched/ source must compile as libc code, with musl's flags and
# internal headers, before any backend links it.
$(TO)/sched/libc-check: $(wildcard $(srcdir)/sched/*.[chS]) $(GENH) | all
	@mkdir -p $(@D)
	@for f in $(wildcard $(srcdir)/sched/*.[cS]); do \
		$(CC) $(CFLAGS_ALL) $(CFLAGS_NOSSP) -Werror -c -o $(@D)/libc-check.o $$f || exit 1; \
	done
	@echo "sched/: every source compiles as libc code" > $@

$(TO)/sched/have-cmocka:
	@[ -f /usr/include/cmocka.h ] || { echo "error: the host tests of sched/" \
		"need cmocka: apt-get install libcmocka-dev" >&2; exit 1; }
	@mkdir -p $(@D) && touch $@

.SECONDEXPANSION:
$(TO)/sched/%-host: $(srcdir)/tests/sched/%.c \
		$$(addprefix $(srcdir)/sched/,$$(sched_srcs_$$*)) \
		$(srcdir)/tests/sched/util.h $(wildcard $(srcdir)/sched/*.h) \
		| $(TO)/sched/have-cmocka
	$(call msg,HOSTCC,$@)$(CC) $(SCHED_HOST_CFLAGS) -o $@ $< \
		$(addprefix $(srcdir)/sched/,$(sched_srcs_$*)) -lcmocka -lm
# -Wno-tsan: TSan does not model fences (lot.c's are paired with seq_cst
# accesses, which it does).
$(TO)/sched/%-tsan: $(srcdir)/tests/sched/%.c \
		$$(addprefix $(srcdir)/sched/,$$(sched_srcs_$$*)) \
		$(srcdir)/tests/sched/util.h $(wildcard $(srcdir)/sched/*.h) \
		| $(TO)/sched/have-cmocka
	$(call msg,HOSTCC,$@)$(CC) $(SCHED_HOST_CFLAGS) -O1 -fsanitize=thread -Wno-tsan -o $@ $< \
		$(addprefix $(srcdir)/sched/,$(sched_srcs_$*)) -lcmocka -lm

-include $(srcdir)/tests/conformance/conformance.mk
-include $(srcdir)/tests/toolchain/toolchain.mk
