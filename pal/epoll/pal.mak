# The M:N backend links the scheduler and includes its headers.
PAL_DIRS += sched
PAL_CPPFLAGS = -I$(srcdir)/sched -I$(LIBAIO_SRC)/src $(VALGRIND_CPPFLAGS)

# libaio (Linux AIO, for fsync, fdatasync and O_DIRECT I/O: file.c,
# aio.c).  Only its headers are used: libaio.h (struct iocb and the
# inline io_prep_* helpers) and aio_ring.h (the completion ring's
# header); the io_* calls are made as raw syscalls, so libc exports
# none of libaio's names (docs/design.md, "Linux AIO").  Never
# committed: Debian's source package is fetched once into dl/
# (tools/debsrc.sh) and its orig tarball checked against the sha256
# pinned here, as musl's and cmocka's are.  LIBAIO_TARBALL=/path/to/
# libaio_$(LIBAIO_VERSION).orig.tar.gz skips the download (offline
# builds; the checksum is still checked).
LIBAIO_VERSION = 0.3.113
LIBAIO_SHA256 = 2c44d1c5fd0d43752287c9ae1eb9c023f04ef848ea8d4aafa46e9aedb678200b
LIBAIO_TARBALL =
LIBAIO_ORIG = dl/libaio_$(LIBAIO_VERSION).orig.tar.gz
LIBAIO_SRC = obj/libaio/libaio-$(LIBAIO_VERSION)
LIBAIO_H = $(LIBAIO_SRC)/src/libaio.h

$(LIBAIO_ORIG):
	@rm -rf dl/libaio.new && mkdir -p dl/libaio.new
	@if [ -n '$(LIBAIO_TARBALL)' ]; then \
		cp '$(LIBAIO_TARBALL)' dl/libaio.new/$(@F) || { \
		echo "error: libaio: cannot copy LIBAIO_TARBALL=$(LIBAIO_TARBALL)" >&2; exit 1; }; \
	else \
		v=$$(sh $(srcdir)/tools/debsrc.sh libaio '$(LIBAIO_VERSION)-' dl/libaio.new) || { \
		echo "error: libaio: could not fetch Debian's source package libaio $(LIBAIO_VERSION)" \
			"(needed by --pal=epoll); give the orig tarball with" \
			"make LIBAIO_TARBALL=/path/to/$(@F)" >&2; exit 1; }; \
		echo "libaio: Debian source package libaio $$v"; \
	fi
	@f=dl/libaio.new/$(@F); \
	[ -f $$f ] || { echo "error: libaio: $(@F) was not downloaded" \
		"(see dl/libaio.new)" >&2; exit 1; }; \
	sum=$$(sha256sum $$f | cut -d' ' -f1); \
	[ "$$sum" = '$(LIBAIO_SHA256)' ] || { \
		echo "error: libaio: sha256 mismatch for $$f" >&2; \
		echo "error:   got      $$sum" >&2; \
		echo "error:   expected $(LIBAIO_SHA256) (LIBAIO_SHA256 in pal/epoll/pal.mak)" >&2; \
		exit 1; }; \
	echo "libaio: $(@F) sha256 $$sum OK"
	$(Q)mv dl/libaio.new/$(@F) $@ && rm -rf dl/libaio.new

# libaio.h stands for the unpacked tree (aio_ring.h comes with it).
$(LIBAIO_H): $(LIBAIO_ORIG)
	$(call msg,UNTAR,$(LIBAIO_SRC))rm -rf $(LIBAIO_SRC) && mkdir -p $(dir $(LIBAIO_SRC))
	$(Q)tar -xzf $< -C $(dir $(LIBAIO_SRC))
	$(Q)touch $@

obj/pal/epoll/file.o obj/pal/epoll/file.lo obj/pal/epoll/aio.o \
	obj/pal/epoll/aio.lo: $(LIBAIO_H)
