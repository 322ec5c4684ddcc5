#
# weft: one non-recursive GNU make file (docs/build.md explains it).
#
# The build directory (the source tree, or any directory where configure
# ran) gets:
#   tree/   musl's source unpacked, with libc-overlay/ linked in by path
#   obj/    objects; lib/ include/ bin/  the usable toolchain:
#   lib/libc.a lib/libc.so (also the dynamic loader) lib/*crt*.o,
#   include/ (headers), bin/weft-gcc (works from here, or after install)
#

# No config.mak yet: in the source tree, configure with the defaults.
ifeq ($(wildcard config.mak),)
ifeq ($(wildcard configure),)
$(error no config.mak here: run configure first (see README.md))
endif
config.mak:
	sh ./configure
endif
include config.mak
.DEFAULT_GOAL := all

# Quiet by default: one short line per target, in the style of Linux's
# kbuild ("  CC      src/stdio/printf.o": objects are named without obj/);
# `make V=1` prints the commands instead.  A sibling build (obj/pal/P)
# tags its lines with its backend, QPREFIX=[P].
ifneq ($(V),1)
msg = @printf '  %-7s %s%s\n' '$(1)' '$(if $(QPREFIX),$(QPREFIX) )' '$(patsubst obj/%,%,$(2))';
Q = @
endif

# The threading model of the configured backend, as users are told it.
PAL_MODEL = $(if $(filter native,$(PAL)),1:1,M:N)

T = tree
OVERLAY = $(srcdir)/libc-overlay
MUSL_SOURCE = $(or $(MUSL_TREE),$(MUSL_TARBALL))
MALLOC_DIR = mallocng
AR = ar
RANLIB = ranlib

bindir = $(prefix)/bin
libdir = $(prefix)/lib
includedir = $(prefix)/include
datadir = $(prefix)/share
gdbdir = $(datadir)/weft/gdb

NO_TREE_GOALS = clean distclean
ifneq ($(filter-out $(NO_TREE_GOALS),$(or $(MAKECMDGOALS),all)),)

# The overlay's file list; rewritten only when it changes, so that the
# merged tree is remade only then (file contents reach it by symlink).
OVERLAY_FILES := $(shell cd $(OVERLAY) && find . -type f ! -name '*.md' | LC_ALL=C sort)
$(shell mkdir -p obj && echo '$(OVERLAY_FILES)' > obj/overlay.list.new && \
	{ cmp -s obj/overlay.list.new obj/overlay.list || mv obj/overlay.list.new obj/overlay.list; })

# The merged tree must exist before the source lists below are read: make
# remakes this included file first and then restarts (GNU make manual,
# "How Makefiles Are Remade").
include obj/tree.mk
obj/tree.mk: $(MUSL_SOURCE) obj/overlay.list $(srcdir)/tools/mktree.sh
	$(call msg,TREE,$(T)/)sh $(srcdir)/tools/mktree.sh '$(MUSL_SOURCE)' $(OVERLAY) $(T)
	$(Q)echo 'TREE_READY = 1' > $@
endif

# ---- Sources, the way musl's own Makefile finds them, rooted at tree/ ----
# An arch file (src/x/$(ARCH)/f.s) replaces the generic src/x/f.c; an
# overlay file replaces upstream's by sitting at its path in tree/.

SRC_DIRS = $(addprefix $(T)/,src/* src/malloc/$(MALLOC_DIR) crt ldso)
BASE_SRCS = $(sort $(wildcard $(addsuffix /*.c,$(SRC_DIRS))))
ARCH_SRCS = $(sort $(wildcard $(addsuffix /$(ARCH)/*.[csS],$(SRC_DIRS))))
BASE_OBJS = $(patsubst $(T)/%,%.o,$(basename $(BASE_SRCS)))
ARCH_OBJS = $(patsubst $(T)/%,%.o,$(basename $(ARCH_SRCS)))
REPLACED_OBJS = $(sort $(subst /$(ARCH)/,/,$(ARCH_OBJS)))
ALL_OBJS = $(addprefix obj/,$(filter-out $(REPLACED_OBJS),$(sort $(BASE_OBJS) $(ARCH_OBJS))))

# The backend: pal/$(PAL)/ (and whatever its pal.mak adds, e.g. sched/).
PAL_DIRS = pal/$(PAL)
-include $(srcdir)/pal/$(PAL)/pal.mak
PAL_SRCS = $(sort $(wildcard $(foreach d,$(PAL_DIRS),$(srcdir)/$(d)/*.[csS])) $(PAL_EXTRA_SRCS))
PAL_OBJS = $(patsubst $(srcdir)/%,obj/%.o,$(basename $(PAL_SRCS)))

# The backend's name as an ELF note (toolchain/backend-note.S), in libc and
# in the start files, and so in every program weft-gcc links.
NOTE_OBJ = obj/toolchain/backend-note.o

LIBC_OBJS = $(filter obj/src/%,$(ALL_OBJS)) $(PAL_OBJS) $(NOTE_OBJ)
LDSO_OBJS = $(filter obj/ldso/%,$(ALL_OBJS:%.o=%.lo))
CRT_OBJS = $(filter obj/crt/%,$(ALL_OBJS))
AOBJS = $(LIBC_OBJS)
LOBJS = $(LIBC_OBJS:.o=.lo)
GENH = obj/include/bits/alltypes.h obj/include/bits/syscall.h
GENH_INT = obj/src/internal/version.h

CFLAGS_ALL = $(CFLAGS_C99FSE) -D_XOPEN_SOURCE=700 \
	-I$(T)/arch/$(ARCH) -I$(T)/arch/generic -Iobj/src/internal \
	-I$(T)/src/include -I$(T)/src/internal -Iobj/include -I$(T)/include \
	-I$(srcdir)/pal $(PAL_CPPFLAGS) $(CPPFLAGS) $(CFLAGS_AUTO) $(CFLAGS_CFI) $(CFLAGS)
# Call frame information for debuggers, so that gdb can unwind through
# libc (weft-bt, docs/debugging.md "gdb"): in .debug_frame, not loaded
# with the program and removed by strip -g; the code is unchanged.  It
# costs about 18% of libc.a and 15% of libc.so on disk.  --enable-debug's
# -g emits it anyway.  (tools/debug-frame.h says how.)
ifneq ($(DEBUG),yes)
CFLAGS_CFI = -fasynchronous-unwind-tables -include $(srcdir)/tools/debug-frame.h
endif
# A build made before the header existed has objects without it: remake.
$(ALL_OBJS) $(ALL_OBJS:%.o=%.lo) $(PAL_OBJS) $(LOBJS): $(srcdir)/tools/debug-frame.h
LDFLAGS_ALL = $(LDFLAGS_AUTO) -Wl,--dynamic-list=$(T)/dynamic.list $(LDFLAGS)

ARCH_INCLUDES = $(wildcard $(T)/arch/$(ARCH)/bits/*.h)
GENERIC_INCLUDES = $(wildcard $(T)/arch/generic/bits/*.h)
INCLUDES = $(wildcard $(T)/include/*.h $(T)/include/*/*.h)
ALL_INCLUDES = $(sort $(INCLUDES:$(T)/%=%) $(GENH:obj/%=%) \
	$(ARCH_INCLUDES:$(T)/arch/$(ARCH)/%=include/%) \
	$(GENERIC_INCLUDES:$(T)/arch/generic/%=include/%))

EMPTY_LIB_NAMES = m rt pthread crypt util xnet resolv dl
EMPTY_LIBS = $(EMPTY_LIB_NAMES:%=lib/lib%.a)
CRT_LIBS = $(addprefix lib/,$(notdir $(CRT_OBJS)))
ALL_LIBS = $(CRT_LIBS) lib/libc.a lib/libc.so $(EMPTY_LIBS) lib/weft-gcc.specs
ALL_TOOLS = bin/weft-gcc
# The M:N scheduler's gdb extension (sched/gdbinfo.c), staged here as it
# is installed: share/weft/gdb/weft-gdb.py.
GDB_SCRIPT = $(if $(filter obj/sched/gdbinfo.o,$(PAL_OBJS)),share/weft/gdb/weft-gdb.py)

# Build-tree toolchain paths (absolute, so weft-gcc works from anywhere).
B := $(CURDIR)

all: $(ALL_LIBS) $(ALL_TOOLS) $(ALL_INCLUDES) $(GDB_SCRIPT)

OBJ_DIRS = $(sort $(patsubst %/,%,$(dir $(ALL_LIBS) $(ALL_TOOLS) $(ALL_OBJS) \
	$(PAL_OBJS) $(NOTE_OBJ) $(GENH) $(GENH_INT))) obj/include)
$(ALL_LIBS) $(ALL_TOOLS) $(ALL_OBJS) $(ALL_OBJS:%.o=%.lo) $(PAL_OBJS) \
	$(LOBJS) $(GENH) $(GENH_INT): | $(OBJ_DIRS)
$(OBJ_DIRS):
	$(Q)mkdir -p $@

obj/include/bits/alltypes.h: $(T)/arch/$(ARCH)/bits/alltypes.h.in $(T)/include/alltypes.h.in $(T)/tools/mkalltypes.sed
	$(call msg,GEN,$@)sed -f $(T)/tools/mkalltypes.sed $(T)/arch/$(ARCH)/bits/alltypes.h.in $(T)/include/alltypes.h.in > $@

obj/include/bits/syscall.h: $(T)/arch/$(ARCH)/bits/syscall.h.in
	$(call msg,GEN,$@)cp $< $@
	$(Q)sed -n -e s/__NR_/SYS_/p < $< >> $@

obj/src/internal/version.h: $(T)/VERSION
	$(call msg,GEN,$@)printf '#define VERSION "%s"\n' "$$(cat $<)" > $@

obj/src/internal/version.o obj/src/internal/version.lo: obj/src/internal/version.h
obj/crt/rcrt1.o: $(T)/ldso/dlstart.c
obj/crt/Scrt1.o obj/crt/rcrt1.o: CFLAGS_ALL += -fPIC

# As musl: -O3 where speed matters, no tree-loop-distribution in the mem*
# functions (gcc would turn them into calls to themselves), no stack
# protector where the thread pointer is not yet (or not the same) TLS.
OPTIMIZE_SRCS = $(wildcard $(addprefix $(T)/src/,internal/*.c malloc/*.c string/*.c))
$(OPTIMIZE_SRCS:$(T)/%.c=obj/%.o) $(OPTIMIZE_SRCS:$(T)/%.c=obj/%.lo): CFLAGS += -O3
# The backend (with the scheduler) is on every lock, switch and wait:
# -O2, so that its small helpers inline.
$(PAL_OBJS) $(PAL_OBJS:%.o=%.lo): CFLAGS += -O2

# x86_64: gcc expands a clear or copy of known size (= { 0 }, a struct
# assignment, memset or memcpy of a struct) as rep stos or rep movs, even
# at -O2, and one costs 40-70 ns on the machines measured, whatever its
# length up to 512 bytes: several per pthread_create.  The backend and
# the thread create and exit path get vector moves instead, where the
# compiler takes configure's flag (docs/scheduler.md, "What a create
# costs").
STRINGOP_OBJS = $(PAL_OBJS) $(filter %/thread/pthread_create.o,$(LIBC_OBJS))
$(STRINGOP_OBJS) $(STRINGOP_OBJS:%.o=%.lo): CFLAGS_ALL += $(CFLAGS_STRINGOP)

MEMOPS_OBJS = $(filter %/memcpy.o %/memmove.o %/memcmp.o %/memset.o,$(LIBC_OBJS))
$(MEMOPS_OBJS) $(MEMOPS_OBJS:%.o=%.lo): CFLAGS_ALL += $(CFLAGS_MEMOPS)

NOSSP_OBJS = $(CRT_OBJS) $(LDSO_OBJS) $(PAL_OBJS) $(filter \
	%/__libc_start_main.o %/__init_tls.o %/__stack_chk_fail.o \
	%/__set_thread_area.o %/memset.o %/memcpy.o, $(LIBC_OBJS))
$(NOSSP_OBJS) $(NOSSP_OBJS:%.o=%.lo): CFLAGS_ALL += $(CFLAGS_NOSSP)

$(CRT_OBJS): CFLAGS_ALL += -DCRT
# The program's .debug_gdb_scripts entry names the build directory's copy
# of the gdb script; install rewrites it (obj/install/gdb-scripts).
obj/sched/gdbinfo.o obj/sched/gdbinfo.lo: CFLAGS_ALL += \
	-DWEFT_GDB_SCRIPT='"$(B)/share/weft/gdb/weft-gdb.py"'
$(LOBJS) $(LDSO_OBJS): CFLAGS_ALL += -fPIC

# Each object has its own dependency file (foo.o.d, foo.lo.d): with one
# foo.d for both, the second compile overwrote the first's, and a header
# change left foo.o stale in libc.a.
CC_CMD = $(call msg,CC,$@)$(CC) $(CFLAGS_ALL) -MMD -MP -MF $@.d -c -o $@ $<

obj/pal/%.o: $(srcdir)/pal/%.c $(GENH)
	$(CC_CMD)
obj/pal/%.lo: $(srcdir)/pal/%.c $(GENH)
	$(CC_CMD)
obj/pal/%.o: $(srcdir)/pal/%.S
	$(CC_CMD)
obj/pal/%.lo: $(srcdir)/pal/%.S
	$(CC_CMD)
obj/sched/%.o: $(srcdir)/sched/%.c $(GENH)
	$(CC_CMD)
obj/sched/%.lo: $(srcdir)/sched/%.c $(GENH)
	$(CC_CMD)
obj/sched/%.o: $(srcdir)/sched/%.S $(GENH)
	$(CC_CMD)
obj/sched/%.lo: $(srcdir)/sched/%.S $(GENH)
	$(CC_CMD)

obj/%.o: $(T)/%.s
	$(CC_CMD)
obj/%.o: $(T)/%.S
	$(CC_CMD)
obj/%.o: $(T)/%.c $(GENH)
	$(CC_CMD)
obj/%.lo: $(T)/%.s
	$(CC_CMD)
obj/%.lo: $(T)/%.S
	$(CC_CMD)
obj/%.lo: $(T)/%.c $(GENH)
	$(CC_CMD)

$(NOTE_OBJ) $(NOTE_OBJ:.o=.lo): $(srcdir)/toolchain/backend-note.S config.mak
	$(call msg,AS,$@)$(CC) $(CFLAGS_C99FSE) \
		-DWEFT_BACKEND_NOTE='"weft backend: $(PAL) ($(PAL_MODEL))"' -c -o $@ $<

-include $(wildcard $(addsuffix .d,$(ALL_OBJS) $(LOBJS) $(LDSO_OBJS) $(PAL_OBJS) $(PAL_OBJS:%.o=%.lo)))

lib/libc.so: $(LOBJS) $(LDSO_OBJS)
	$(call msg,LD,$@)$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -nostdlib -shared \
	-Wl,-e,_dlstart -o $@ $(LOBJS) $(LDSO_OBJS) $(LIBCC)

lib/libc.a: $(AOBJS)
	$(call msg,AR,$@)rm -f $@
	$(Q)$(AR) rc $@ $(AOBJS)
	$(Q)$(RANLIB) $@

$(EMPTY_LIBS):
	$(call msg,AR,$@)rm -f $@
	$(Q)$(AR) rc $@

# crti.o and crtn.o as built; crt1.o, Scrt1.o and rcrt1.o with the
# backend's note.
lib/%.o: obj/crt/$(ARCH)/%.o
	$(call msg,CP,$@)cp $< $@
lib/%.o: obj/crt/%.o $(NOTE_OBJ)
	$(call msg,LD,$@)$(CC) -nostdlib -r -o $@ $< $(NOTE_OBJ)

# Headers, staged in the build tree as they will be installed.
include/bits/%: $(T)/arch/$(ARCH)/bits/%
	@mkdir -p $(@D) && cp $< $@
include/bits/%: $(T)/arch/generic/bits/%
	@mkdir -p $(@D) && cp $< $@
include/bits/%: obj/include/bits/%
	@mkdir -p $(@D) && cp $< $@
include/%: $(T)/include/%
	@mkdir -p $(@D) && cp $< $@

share/weft/gdb/weft-gdb.py: $(srcdir)/toolchain/weft-gdb.py
	@mkdir -p $(@D) && cp $< $@

# weft-gcc and the files that tell build systems about weft, from
# toolchain/*.in: the build tree's copies (bin/weft-gcc and its specs)
# name lib/ and include/ here; `make install` writes copies that name the
# prefix.  sed_in PREFIX,BINDIR,LIBDIR,INCLUDEDIR is the substitution.
sed_in = sed -e 's|@CC@|$(CC)|g' -e 's|@PAL@|$(PAL)|g' -e 's|@MODEL@|$(PAL_MODEL)|g' \
	-e 's|@MUSL_VERSION@|$(MUSL_VERSION)|g' -e 's|@PREFIX@|$(1)|g' \
	-e 's|@BINDIR@|$(2)|g' -e 's|@LIBDIR@|$(3)|g' -e 's|@INCLUDEDIR@|$(4)|g'
lib/weft-gcc.specs: $(srcdir)/toolchain/weft-gcc.specs.sh config.mak
	$(call msg,GEN,$@)sh $< "$(B)/include" "$(B)/lib" "$(B)/lib/libc.so" > $@
bin/weft-gcc: $(srcdir)/toolchain/weft-gcc.in config.mak
	$(call msg,GEN,$@)$(call sed_in,$(B),$(B)/bin,$(B)/lib,$(B)/include) $< > $@
	$(Q)chmod +x $@

# ---- Install -------------------------------------------------------------
# make install [prefix=DIR] [DESTDIR=DIR] installs libc, the headers,
# weft-gcc, an M:N build's gdb script, a CMake toolchain file, a meson
# cross file and weft.pc; make uninstall removes them, and then the
# directories left empty.  The loader's search path for shared libraries
# (musl's $(prefix)/etc/ld-musl-$(ARCH).path: without it, /lib:
# /usr/local/lib:/usr/lib) is written as $(libdir) only if it does not
# exist, and uninstall removes it only if it still says just that.
pkgconfigdir = $(libdir)/pkgconfig
weftdatadir = $(datadir)/weft
ldso_path = $(patsubst %/,%,$(dir $(libdir)))/etc/ld-musl-$(ARCH).path

# With the gdb script, the installed libc.a and libc.so differ from the
# build directory's in one thing: their .debug_gdb_scripts entry names
# the installed script (sched/gdbinfo.c).  It is written at every
# install, for the prefix given then (make install prefix=OTHER).
ifneq ($(GDB_SCRIPT),)
INSTALL_LIBC = obj/install/libc.a obj/install/libc.so
obj/install/gdb-scripts: FORCE
	@mkdir -p $(@D)
	@printf '\001%s\000' '$(gdbdir)/weft-gdb.py' > $@
obj/install/libc.a: lib/libc.a obj/install/gdb-scripts
	$(call msg,OBJCOPY,$@)rm -rf $@ $@.d && mkdir -p $@.d
	$(Q)cd $@.d && $(AR) x $(B)/lib/libc.a gdbinfo.o
	$(Q)objcopy --update-section .debug_gdb_scripts=obj/install/gdb-scripts $@.d/gdbinfo.o
	$(Q)cp lib/libc.a $@.tmp && $(AR) r $@.tmp $@.d/gdbinfo.o && $(RANLIB) $@.tmp
	$(Q)rm -rf $@.d && mv $@.tmp $@
obj/install/libc.so: lib/libc.so obj/install/gdb-scripts
	$(call msg,OBJCOPY,$@)objcopy --update-section .debug_gdb_scripts=obj/install/gdb-scripts lib/libc.so $@
else
INSTALL_LIBC = lib/libc.a lib/libc.so
endif
FORCE:
INSTALL_LIBS = $(CRT_LIBS) $(EMPTY_LIBS)
INSTALLED = $(addprefix $(DESTDIR),$(addprefix $(libdir)/,$(notdir $(INSTALL_LIBS)) \
	libc.a libc.so weft-gcc.specs) $(bindir)/weft-gcc $(pkgconfigdir)/weft.pc \
	$(weftdatadir)/toolchain.cmake $(weftdatadir)/meson-cross.ini \
	$(if $(GDB_SCRIPT),$(gdbdir)/weft-gdb.py) $(ALL_INCLUDES:include/%=$(includedir)/%))
INSTALL_SED = $(call sed_in,$(prefix),$(bindir),$(libdir),$(includedir))

install: all $(INSTALL_LIBC)
	$(call msg,INSTALL,$(DESTDIR)$(prefix))mkdir -p $(DESTDIR)$(libdir) $(DESTDIR)$(bindir) \
		$(DESTDIR)$(includedir) $(DESTDIR)$(pkgconfigdir) $(DESTDIR)$(weftdatadir)
	$(Q)cp $(INSTALL_LIBS) $(filter %.a,$(INSTALL_LIBC)) $(DESTDIR)$(libdir)/
	$(Q)cp $(filter %.so,$(INSTALL_LIBC)) $(DESTDIR)$(libdir)/libc.so.new && chmod 755 $(DESTDIR)$(libdir)/libc.so.new
	$(Q)mv -f $(DESTDIR)$(libdir)/libc.so.new $(DESTDIR)$(libdir)/libc.so
	$(Q)sh $(srcdir)/toolchain/weft-gcc.specs.sh "$(includedir)" "$(libdir)" \
		"$(libdir)/libc.so" > $(DESTDIR)$(libdir)/weft-gcc.specs
	$(Q)$(INSTALL_SED) $(srcdir)/toolchain/weft-gcc.in > $(DESTDIR)$(bindir)/weft-gcc
	$(Q)chmod 755 $(DESTDIR)$(bindir)/weft-gcc
	$(Q)$(INSTALL_SED) $(srcdir)/toolchain/weft.pc.in > $(DESTDIR)$(pkgconfigdir)/weft.pc
	$(Q)$(INSTALL_SED) $(srcdir)/toolchain/toolchain.cmake.in > $(DESTDIR)$(weftdatadir)/toolchain.cmake
	$(Q)$(INSTALL_SED) $(srcdir)/toolchain/meson-cross.ini.in > $(DESTDIR)$(weftdatadir)/meson-cross.ini
	$(Q)cd include && find . -type f | while read -r h; do \
		mkdir -p "$(DESTDIR)$(includedir)/$${h%/*}"; \
		cp "$$h" "$(DESTDIR)$(includedir)/$$h"; done
ifneq ($(GDB_SCRIPT),)
	$(Q)mkdir -p $(DESTDIR)$(gdbdir)
	$(Q)cp $(GDB_SCRIPT) $(DESTDIR)$(gdbdir)/weft-gdb.py
endif
	$(Q)f='$(DESTDIR)$(ldso_path)'; [ -e "$$f" ] || { mkdir -p "$${f%/*}" && \
		echo '$(libdir)' > "$$f"; }

uninstall:
	$(call msg,UNINST,$(DESTDIR)$(prefix))rm -f $(INSTALLED)
	$(Q)f='$(DESTDIR)$(ldso_path)'; [ ! -f "$$f" ] || [ "$$(cat "$$f")" != '$(libdir)' ] || rm -f "$$f"
	$(Q)for d in $(sort $(patsubst %/,%,$(dir $(INSTALLED) $(DESTDIR)$(ldso_path)))) \
		$(DESTDIR)$(datadir) $(DESTDIR)$(prefix); do echo "$$d"; done | \
		sort -r | while read -r d; do rmdir "$$d" 2>/dev/null || :; done

# ---- Reference and conformance -------------------------------------------
# Stock musl built from the same verified source, for comparisons (public
# symbols here; benchmarks later).  It is musl's own build, not weft's.
STOCK = obj/stock-musl
$(STOCK)/inst/lib/libc.a: | obj/tree.mk
	$(call msg,MUSL,stock musl $(MUSL_VERSION); log: $(B)/$(STOCK)/build.log)rm -rf $(STOCK) && mkdir -p $(STOCK)/src
	$(Q)if [ -n "$(MUSL_TREE)" ]; then cp -pR "$(MUSL_TREE)/." $(STOCK)/src/; \
	else tar -xzf "$(MUSL_TARBALL)" -C $(STOCK)/src --strip-components=1; fi
	$(Q)cd $(STOCK)/src && ./configure --prefix=$(B)/$(STOCK)/inst \
		--syslibdir=$(B)/$(STOCK)/inst/lib CC="$(CC)" > ../configure.log
	$(Q)$(MAKE) -C $(STOCK)/src > $(STOCK)/build.log 2>&1
	$(Q)$(MAKE) -C $(STOCK)/src install >> $(STOCK)/build.log 2>&1
stock-musl: $(STOCK)/inst/lib/libc.a

# A sibling build of weft with backend P (native, epoll) under
# obj/pal/P/, configured from the same verified musl source and compiler:
# `make check` tests the other backend there, and bench/ builds against
# both.  Its toolchain is obj/pal/P/bin/weft-gcc.
PALS = $(notdir $(patsubst %/,%,$(dir $(wildcard $(srcdir)/pal/*/))))
obj/pal/%/config.mak: config.mak
	@mkdir -p $(@D)
	$(call msg,CONFIG,--pal=$* in $(B)/$(@D))cd $(@D) && sh $(srcdir)/configure --pal=$* --musl-src="$(MUSL_SOURCE)" \
		--prefix="$(prefix)" CC="$(CC)" > configure.log 2>&1 || \
		{ cat configure.log >&2; exit 1; }
.PRECIOUS: obj/pal/%/config.mak
pal-build-%: obj/pal/%/config.mak
	@$(MAKE) --no-print-directory -C obj/pal/$* all QPREFIX=[$*]

# libc.a and libc.so must export exactly stock musl's public symbols.
check-symbols: lib/libc.a lib/libc.so $(STOCK)/inst/lib/libc.a
	$(Q)sh $(srcdir)/tests/symbols/compare.sh lib/libc.a $(STOCK)/inst/lib/libc.a
	$(Q)sh $(srcdir)/tests/symbols/compare.sh lib/libc.so $(STOCK)/inst/lib/libc.so

# make check: public symbols and the suite under this build's backend,
# then the same under every other backend, in its sibling build (obj/pal/P,
# reusing this build's cmocka download and stock musl).  CHECK_OTHERS=no
# tests this backend only.
#
# make check LOAD=N (and make check-conformance LOAD=N): the same with N
# CPU-bound processes running beside it from start to end, stopped however
# it ends (tests/load.sh), to show the tests that depend on timing.  The
# whole check is made again under tests/load.sh with LOAD emptied, so the
# sibling builds and the conformance suite run under the same N.  Empty or
# 0 (the default): no load.  libc-test-repeat keeps its own default, 1.
CHECK_OTHERS = yes
LOAD =
CHECK_LOAD := $(filter-out 0,$(strip $(LOAD)))
ifneq ($(CHECK_LOAD),)
check check-conformance:
	@sh $(srcdir)/tests/load.sh '$(CHECK_LOAD)' $(MAKE) --no-print-directory $@ LOAD=
else
check: check-symbols check-suite
ifeq ($(CHECK_OTHERS),yes)
check: $(patsubst %,check-pal-%,$(filter-out $(PAL),$(PALS)))
endif
endif
check-pal-%: obj/pal/%/config.mak check-symbols check-suite
	@echo "== make check under --pal=$* (sibling build obj/pal/$*)"
	@$(MAKE) --no-print-directory -C obj/pal/$* check CHECK_OTHERS=no QPREFIX=[$*] \
		TEST_TIMEOUT=$(TEST_TIMEOUT) STOCK=$(B)/$(STOCK) \
		CMOCKA_TARBALL=$(B)/$(CMOCKA_ORIG)

# musl's libc-test (fetched by you; see docs/libc-test.md):
#   make libc-test LIBC_TEST=/path/to/libc-test

#   make libc-test-repeat LIBC_TEST=... [REPEAT=20] [WORKERS="1 2 4"] [LOAD=1]
#     the same, then every test again REPEAT times at each WEFT_WORKERS
#     value, with LOAD=1 a CPU-bound process running; prints a per-test
#     failure summary (tests/libc-test/run.sh, "Repeat mode").

libc-test: all
	@[ -n "$(LIBC_TEST)" ] || { echo "usage: make libc-test LIBC_TEST=/path/to/libc-test (see docs/libc-test.md)" >&2; exit 2; }
	sh $(srcdir)/tests/libc-test/run.sh "$(LIBC_TEST)" $(B)/bin/weft-gcc $(B)/obj/libc-test

REPEAT = 20
WORKERS = 1 2 4
# LOAD is check's knob too, empty by default; here empty means 1.
libc-test-repeat: all
	@[ -n "$(LIBC_TEST)" ] || { echo "usage: make libc-test-repeat LIBC_TEST=/path/to/libc-test [REPEAT=20] [WORKERS=\"1 2 4\"] [LOAD=1]" >&2; exit 2; }
	REPEAT=$(REPEAT) WORKERS="$(WORKERS)" LOAD=$(if $(strip $(LOAD)),$(strip $(LOAD)),1) sh $(srcdir)/tests/libc-test/run.sh \
		"$(LIBC_TEST)" $(B)/bin/weft-gcc $(B)/obj/libc-test

# The main job: examples/echo_server.c, an unmodified thread-per-connection
# server, built with the M:N (epoll) backend's weft-gcc and with the system
# gcc (glibc), each holding DEMO_CONNS connections for DEMO_SECONDS while
# examples/echo_load.c verifies every echo; one table compares them.
DEMO_CONNS = 10000
DEMO_SECONDS = 10
ifeq ($(PAL),epoll)
DEMO_GCC = bin/weft-gcc
demo: all
else
DEMO_GCC = obj/pal/epoll/bin/weft-gcc
demo: all pal-build-epoll
endif
	$(Q)sh $(srcdir)/tools/demo-echo.sh $(DEMO_GCC) $(DEMO_CONNS) $(DEMO_SECONDS) obj/examples

-include $(srcdir)/tests/tests.mk
-include $(srcdir)/bench/bench.mk
-include $(srcdir)/tests/corpus/corpus.mk

clean:
	rm -rf obj lib include bin share $(T) $(T).new tests-out

distclean: clean
	rm -rf config.mak dl

.PHONY: all demo install uninstall clean distclean check check-symbols stock-musl libc-test \
	libc-test-repeat \
	check-suite
