#!/bin/sh
# tests/corpus/memcached.sh: memcached 1.6.18 on libevent 2.1.12, both
# from Debian's source packages (bookworm: memcached 1.6.18-1,
# libevent 2.1.12-stable-8), upstream source, Debian patches not applied.
#
# Per variant, libevent is configured with --disable-shared
# --disable-openssl --disable-samples, with zlib 1.2.13 built from
# Debian's source by the same compiler (for its bufferevent_zlib test),
# and installed under the variant's directory; memcached is configured --with-libevent= that, so both are
# built by the same compiler (weft: weft-gcc -static; glibc: gcc).
# Tests:
#   libevent regress   its own test/regress, every test ("N tests ok" or
#                      "N/M TESTS FAILED")
#   memcached testapp  its C unit tests (ok / not ok lines)
#   memcached prove    its own `prove t/` (perl, Debian package perl),
#                      -j CORPUS_PROVE_JOBS (default 4): the tests mostly
#                      sleep; passed/failed are prove's subtests
#   memcached load     memcached -t 4 on loopback; mc_load.c (built with
#                      the system gcc) holds CORPUS_MC_CONNS (default
#                      2000) connections open, each doing 20 set/get
#                      pairs; every value is compared byte for byte
. "$CORPUS/lib.sh"

P=$CO/memcached

# memcached's t/lib starts each server as `timedrun N memcached-debug ...`,
# and a Memcached::Handle going out of scope sends SIGINT to timedrun,
# which passes it on.  timedrun forks the server before it installs its
# handlers, so a SIGINT that comes first kills timedrun and leaves the
# server running, orphaned, holding prove's output pipe: prove then waits
# for it until the time limit.  t/issue_67.t sends that SIGINT as soon as
# the server has written its ports file, so a server that gets there
# before timedrun's parent runs again hits it, on any libc: a glibc
# stand-in that writes the file at once left 36 orphans in 10 runs of
# t/issue_67.t on one CPU (tests/corpus/repro/README.md).  While prove
# runs, this stops such orphans (this build's memcached-debug whose
# parent is neither timedrun nor a server, and which is not a daemon
# leading its own session) with the SIGINT their timedrun would have
# sent, and lists their pids in $2; the table's note counts them.
reap_orphans() {
	while sleep 2; do
		for _p in /proc/[0-9]*; do
			[ "$(readlink "$_p/exe" 2>/dev/null)" = "$1" ] || continue
			_pp=$(sed -n 's/^PPid:[[:space:]]*//p' "$_p/status" 2>/dev/null)
			[ -n "$_pp" ] || continue
			# (A server's own child before its exec has the server's exe.)
			case $(readlink "/proc/$_pp/exe" 2>/dev/null) in */timedrun | "$1") continue ;; esac
			# Not a daemon (t/daemonize.t's -d): it has left its
			# parent on purpose and leads a session of its own.
			_sid=$(sed 's/.*) //' "$_p/stat" 2>/dev/null | cut -d' ' -f4)
			[ "$_sid" = "${_p#/proc/}" ] && continue
			kill -INT "${_p#/proc/}" 2>/dev/null && echo "${_p#/proc/}" >> "$2"
		done
	done
}
CONNS=${CORPUS_MC_CONNS:-2000}
PJ=${CORPUS_PROVE_JOBS:-4}
mkdir -p "$P"
LOAD="memcached: load $CONNS conns x 20 set+get"
tests="libevent: test/regress|memcached: testapp|memcached: prove t/|$LOAD"

skip_all() { # NOTE
	printf '%s\n' "$tests" | tr '|' '\n' | while read -r t; do
		for v in $VARIANTS; do record "$t" $v fail - - none "$1"; done
	done
	exit 0
}

zt=$(fetch zlib '1:1.2.13.dfsg-1$' zlib_1.2.13.dfsg.orig.tar.bz2 \
	71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1) &&
lt=$(fetch libevent '2.1.12-stable-' libevent_2.1.12-stable.orig.tar.gz \
	92e6de1be9ec176428fd2367677e61ceffc2ee1cb119035037a27d346b0403bb) &&
mt=$(fetch memcached '1.6.18-' memcached_1.6.18.orig.tar.xz \
	35872bd25f8d29d7cc2072d23e74344530891bfd0aa4f4f64184a8ae7291164b) || skip_all "source not fetched"
need prove perl || skip_all "no perl"

"$GLIBC_CC" -O2 -o "$P/mc_load" "$CORPUS/mc_load.c" || skip_all "mc_load did not build"

build_libevent() ( # VARIANT
	cc=$(cc_of "$1") d=$P/$1
	unpack "$zt" "$d/zlib" &&
	(cd "$d/zlib" && CC="$cc" CFLAGS=-O2 ./configure --static && make -j"$JOBS" libz.a) \
		> "$d/libevent-build.log" 2>&1 &&
	unpack "$lt" "$d/libevent" && cd "$d/libevent" &&
	./configure --prefix="$d/inst" --disable-shared --enable-static --disable-openssl \
		--disable-samples CC="$cc" CPPFLAGS="-I$d/zlib" LDFLAGS="-L$d/zlib" \
		>> "$d/libevent-build.log" 2>&1 &&
	make -j"$JOBS" >> "$d/libevent-build.log" 2>&1 &&
	make -j"$JOBS" test/regress >> "$d/libevent-build.log" 2>&1 &&
	make install >> "$d/libevent-build.log" 2>&1
)

build_memcached() ( # VARIANT
	cc=$(cc_of "$1") d=$P/$1
	unpack "$mt" "$d/memcached" && cd "$d/memcached" &&
	./configure --with-libevent="$d/inst" CC="$cc" > "$d/memcached-build.log" 2>&1 &&
	make -j"$JOBS" memcached memcached-debug sizes testapp timedrun >> "$d/memcached-build.log" 2>&1
)

for v in $VARIANTS; do
	d=$P/$v
	rm -rf "$d" && mkdir -p "$d"
	log "memcached: building libevent ($v)"
	if ! build_libevent $v; then
		log "memcached: libevent $v build failed (see $d/libevent-build.log)"
		printf '%s\n' "$tests" | tr '|' '\n' | while read -r t; do record "$t" $v fail - - none; done
		continue
	fi
	log "memcached: libevent test/regress ($v)"
	(cd "$d/libevent" && measure "$d/regress" 900 -- test/regress)
	l=$(grep -E 'tests ok\.|TESTS FAILED\.' "$d/regress.log" | tail -n 1)
	case $l in
	*"TESTS FAILED"*) pf=$(printf '%s\n' "$l" | sed 's|^\([0-9]*\)/\([0-9]*\) TESTS FAILED.*|\1 \2|' |
		awk '{ print $2 - $1, $1 }') ;;
	*"tests ok"*) pf="$(printf '%s\n' "$l" | sed 's/^\([0-9]*\) tests ok.*/\1/') 0" ;;
	*) pf="0 1" ;;
	esac
	sk=$(printf '%s\n' "$l" | sed -n 's/.*(\([0-9]*\) skipped).*/\1 skipped/p')
	record "libevent: test/regress" $v ok ${pf% *} ${pf#* } "$d/regress" "$sk"

	log "memcached: building memcached ($v)"
	if ! build_memcached $v; then
		log "memcached: $v build failed (see $d/memcached-build.log)"
		for t in "memcached: testapp" "memcached: prove t/" "$LOAD"; do record "$t" $v fail - - none; done
		continue
	fi
	cd "$d/memcached" || continue

	log "memcached: testapp ($v)"
	measure "$d/testapp" 300 -- ./testapp
	record "memcached: testapp" $v ok "$(grep -c '^ok ' "$d/testapp.log")" \
		"$(grep -c '^not ok ' "$d/testapp.log")" "$d/testapp"

	log "memcached: prove -j $PJ t/ ($v, a few minutes)"
	: > "$d/prove.orphans"
	reap_orphans "$d/memcached/memcached-debug" "$d/prove.orphans" &
	reaper=$!
	measure "$d/prove" 1800 -- prove -j "$PJ" t
	kill $reaper 2>/dev/null; wait $reaper 2>/dev/null
	orph=$(grep -c . "$d/prove.orphans")
	[ "$orph" = 0 ] && orph= || orph="$orph orphaned server(s) stopped (timedrun race, see tests/corpus/repro/README.md)"
	tot=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$d/prove.log" | tail -n 1)
	bad=$(sed -n 's|.* \([0-9]*\)/[0-9]* subtests failed.*|\1|p' "$d/prove.log" | tail -n 1)
	if [ -z "$tot" ]; then
		record "memcached: prove t/" $v ok 0 1 "$d/prove" "no prove summary${orph:+; $orph}"
	else
		grep -q '^Result: PASS' "$d/prove.log" && bad=0
		[ -n "$bad" ] || bad=1 # a test program that died without failing a subtest
		record "memcached: prove t/" $v ok $((tot - bad)) $bad "$d/prove" "$orph"
	fi

	log "memcached: $CONNS-connection load ($v)"
	u=
	[ "$(id -u)" = 0 ] && u="-u root"
	port=$((20000 + $$ % 20000))
	measure "$d/load" 300 -- sh -c "
		ulimit -n \$(ulimit -Hn) 2>/dev/null
		./memcached -p $port -U 0 -l 127.0.0.1 -t 4 -m 512 -b 4096 -c $((CONNS + 100)) $u & s=\$!
		i=0; until '$P/mc_load' $port 1 1 5 >/dev/null 2>&1; do
			i=\$((i + 1)); [ \$i -lt 100 ] || { kill \$s; exit 1; }; sleep 0.1; done
		'$P/mc_load' $port $CONNS 20 120; rc=\$?
		kill \$s; wait \$s; exit \$rc"
	pf=$(sed -n 's/^mc_load: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$d/load.log")
	[ -n "$pf" ] || pf="0 1"
	record "$LOAD" $v ok ${pf% *} ${pf#* } "$d/load"
done
