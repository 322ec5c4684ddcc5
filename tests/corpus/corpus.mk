#
# tests/corpus/corpus.mk: `make corpus`, included by the main Makefile.
# Not part of `make check`: it downloads Debian source packages and
# takes about 40 minutes on 2 cores (35 min 26 s measured, weft already
# built; tests/corpus/README.md).
#
# Builds the M:N sibling (obj/pal/epoll, `make pal-build-epoll`), then
# tests/corpus/run.sh fetches each program's Debian source package into
# obj/corpus/dl/ (checked against its .dsc and a pinned sha256), builds it
# with obj/pal/epoll/bin/weft-gcc -static and with the system gcc
# (glibc), runs its tests and prints one table (obj/corpus/results.txt).
#
#   make corpus                          pigz, sqlite3, memcached (+ libevent)
#   make corpus CORPUS_PROGRAMS=pigz     one program
#
CORPUS_PROGRAMS ?=
ifeq ($(PAL),epoll)
CORPUS_GCC = bin/weft-gcc
corpus: all
else
CORPUS_GCC = obj/pal/epoll/bin/weft-gcc
corpus: all pal-build-epoll
endif
	CC='$(CC)' sh $(srcdir)/tests/corpus/run.sh $(CORPUS_GCC) obj/corpus $(CORPUS_PROGRAMS)

.PHONY: corpus
