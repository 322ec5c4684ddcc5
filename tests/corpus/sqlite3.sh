#!/bin/sh
# tests/corpus/sqlite3.sh: SQLite 3.40.1 from Debian's source package
# (bookworm's sqlite3 3.40.1-2), upstream source, Debian patches not
# applied.
#
# The amalgamation (sqlite3.c) is generated once from the full source
# with the host's gcc and tclsh (Debian package tcl), as upstream's
# `make sqlite3.c` does; the same file is then compiled with each
# compiler, -O2 -DSQLITE_THREADSAFE=1 -DHAVE_USLEEP=1, and linked into
# upstream's thread tests and the multi-process test:
#   threadtest3   test/threadtest3.c: all its tests ("N errors out of M tests")
#   threadtest5   test/threadtest5.c: 4 writers, 1 reader on memdb ("OK")
#   mptest        mptest/mptest.c crash01 and multiwrite01, --repeat 20,
#                 in DELETE and in WAL journal mode ("Summary: N errors
#                 out of M tests"); its clients are processes (system())
#   sqlite_wal    tests/corpus/sqlite_wal.c: CORPUS_SQLITE_WRITERS
#                 (default 100) writer and as many reader threads on
#                 one WAL database; row counts and integrity_check
# threadtest4, whose VACUUM "deadlock" lines appear on glibc too, is not run.
. "$CORPUS/lib.sh"

P=$CO/sqlite3
NW=${CORPUS_SQLITE_WRITERS:-100}
mkdir -p "$P"
WAL=sqlite_wal-${NW}w+${NW}r
tests="threadtest3 threadtest5 mptest-crash01-DELETE mptest-multiwrite01-DELETE mptest-crash01-WAL mptest-multiwrite01-WAL $WAL"

skip_all() { # NOTE
	for t in $tests; do for v in $VARIANTS; do record "sqlite3: $t" $v fail - - none "$1"; done; done
	exit 0
}

st=$(fetch sqlite3 '3.40.1-' sqlite3_3.40.1.orig.tar.xz \
	aaa776260ab4dc976db34aa7891819484c8676b5b2783123ebc6301e2ca5d655) || skip_all "source not fetched"
need tclsh tcl || skip_all "no tclsh to generate sqlite3.c"

S=$P/src
if [ ! -f "$S/bld/sqlite3.c" ] || [ ! -f "$S/.from" ] || [ "$(cat "$S/.from")" != "$st" ]; then
	log "sqlite3: generating the amalgamation (host gcc, tclsh)"
	unpack "$st" "$S" && mkdir -p "$S/bld" &&
	(cd "$S/bld" && ../configure --disable-tcl CC="$GLIBC_CC" && make sqlite3.c) > "$P/amalgamation.log" 2>&1 ||
		skip_all "sqlite3.c not generated (see $P/amalgamation.log)"
	printf '%s\n' "$st" > "$S/.from"
fi

CF="-O2 -DSQLITE_THREADSAFE=1 -DHAVE_USLEEP=1"
build() ( # VARIANT
	cc=$(cc_of "$1") d=$P/$1
	rm -rf "$d" && mkdir -p "$d" && cd "$d" || exit 1
	{
		set -x
		$cc $CF -I"$S/bld" -c "$S/bld/sqlite3.c" -o sqlite3.o &&
		$cc $CF -I"$S/bld" -I"$S/src" -o threadtest3 "$S/test/threadtest3.c" "$S/src/test_multiplex.c" \
			sqlite3.o -lpthread -lm -ldl &&
		$cc $CF -I"$S/bld" -o threadtest5 "$S/test/threadtest5.c" sqlite3.o -lpthread -lm -ldl &&
		$cc $CF -I"$S/bld" -o mptester "$S/mptest/mptest.c" sqlite3.o -lpthread -lm -ldl &&
		$cc $CF -I"$S/bld" -o sqlite_wal "$CORPUS/sqlite_wal.c" sqlite3.o -lpthread -lm -ldl
	} > build.log 2>&1
)

# summary OUT REGEX: "N errors out of M tests" -> passed failed
summary() {
	sed -n "s/.*$2\([0-9][0-9]*\) errors out of \([0-9][0-9]*\) tests.*/\1 \2/p" "$1.log" | tail -n 1 |
		awk '{ f = $1; if (f > $2) f = $2; print $2 - f, $1 }'
}

for v in $VARIANTS; do
	log "sqlite3: building sqlite3.o and the tests ($v)"
	if ! build $v; then
		log "sqlite3: $v build failed (see $P/$v/build.log)"
		for t in $tests; do record "sqlite3: $t" $v fail - - none; done
		continue
	fi
	d=$P/$v
	cd "$d" || continue

	log "sqlite3: threadtest3 ($v, about 4 minutes)"
	rm -f *.db*
	measure "$d/tt3" 900 -- ./threadtest3
	rc=$?
	pf=$(summary "$d/tt3" "")
	[ -n "$pf" ] || pf="0 1"
	[ $rc -eq 0 ] || pf="${pf% *} $((${pf#* } > 0 ? ${pf#* } : 1))"
	record "sqlite3: threadtest3" $v ok ${pf% *} ${pf#* } "$d/tt3"

	log "sqlite3: threadtest5 ($v)"
	if measure "$d/tt5" 300 -- ./threadtest5 && tail -n 1 "$d/tt5.log" | grep -qx OK; then
		record "sqlite3: threadtest5" $v ok 1 0 "$d/tt5"
	else
		record "sqlite3: threadtest5" $v ok 0 1 "$d/tt5"
	fi

	for mode in DELETE WAL; do
		for t in crash01 multiwrite01; do
			log "sqlite3: mptest $t --journalmode $mode ($v)"
			rm -f mptest.db*
			o=$d/mp-$t-$mode
			measure "$o" 600 -- ./mptester mptest.db "$S/mptest/$t.test" --repeat 20 --journalmode $mode
			rc=$?
			pf=$(summary "$o" "Summary: ")
			[ -n "$pf" ] || pf="0 1"
			[ $rc -eq 0 ] || pf="${pf% *} $((${pf#* } > 0 ? ${pf#* } : 1))"
			record "sqlite3: mptest-$t-$mode" $v ok ${pf% *} ${pf#* } "$o"
		done
	done

	log "sqlite3: sqlite_wal, $NW writers and $NW readers ($v)"
	measure "$d/wal" 900 -- ./sqlite_wal wal.db "$NW" "$NW" 20 10
	pf=$(sed -n 's/^sqlite_wal: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$d/wal.log")
	[ -n "$pf" ] || pf="0 1"
	record "sqlite3: $WAL" $v ok ${pf% *} ${pf#* } "$d/wal"
	rm -f *.db*
done
