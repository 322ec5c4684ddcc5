#!/bin/sh
# tests/conformance/run.sh: the differential conformance suite (issue 15:
# "M:N is transparent").  Usage:
#
#   run.sh NATIVE_GCC EPOLL_GCC OUTDIR [NAME...]
#
# Each tests/conformance/NAME.c is an ordinary POSIX/Linux program that
# prints deterministic lines to stdout.  It is built with NATIVE_GCC and
# EPOLL_GCC, each -static and dynamic, and with the system gcc (glibc, if
# found; CONF_GCC overrides, CONF_GCC= skips it), then run with stdin from
# /dev/null under `timeout -k 5 $CONF_TIMEOUT` (default 60 s).  The
# native-static run's stdout plus a last line "exit: N", "signal: SIGxxx"
# or "timeout" is the reference; native-dynamic and epoll-static/dynamic
# at WEFT_WORKERS=1, 2 and 4 must print exactly the same, or the test
# FAILs and a unified diff is printed.  A glibc mismatch is only a NOTE.
#
# A marker line in NAME.c
#   /* conformance: xfail epoll -- issue 15 item N: short reason */
# declares a known failure: a mismatch under epoll is then XFAIL (diffs
# kept in OUTDIR/NAME/, printed with CONF_VERBOSE=1) and a full match is
# XPASS (reported, not a failure; delete the marker).  A mismatch of any
# other variant still FAILs.
#
# Output: one line per test ("PASS name", "FAIL name [variant]", "XFAIL
# name [variants]", "XPASS name", "NOTE name [glibc]"), then
#   conformance: X xfail, Y xpass
#   conformance: N passed, M failed
# (N: tests whose every variant matched, XPASS included; XFAIL tests are
# in neither N nor M).  Exit status 1 if any test failed, else 0.
# OUTDIR/NAME/ keeps binaries, outputs (VARIANT.out), stderr (VARIANT.err),
# compiler logs (VARIANT.cc) and diffs (VARIANT.diff); OUTDIR/times each
# test's run time.
# env: CONF_TIMEOUT (s per run), CONF_JOBS (parallel compiles, default 2),
#      CONF_RUN_JOBS (epoll runs of one test at once, default 6),
#      CONF_GCC (glibc compiler), CONF_VERBOSE=1
set -u

# Internal: compile one variant (run in parallel by xargs).
if [ "${1:-}" = --compile ]; then
	v=$2 name=$3
	d=$CONF_OUT/$name
	flags="-std=gnu11 -O2 -g -pthread -D_GNU_SOURCE"
	case $v in
	native-static) cc=$CONF_NGCC flags="$flags -static" ;;
	native-dynamic) cc=$CONF_NGCC ;;
	epoll-static) cc=$CONF_EGCC flags="$flags -static" ;;
	epoll-dynamic) cc=$CONF_EGCC ;;
	glibc) cc=$CONF_GCC ;;
	esac
	rm -f "$d/$v"
	# shellcheck disable=SC2086
	$cc $flags -o "$d/$v" "$CONF_SRC/$name.c" >"$d/$v.cc" 2>&1
	exit 0
fi

[ $# -ge 3 ] || { echo "usage: $0 NATIVE_GCC EPOLL_GCC OUTDIR [NAME...]" >&2; exit 2; }
command -v timeout >/dev/null 2>&1 || { echo "run.sh: timeout(1) not found" >&2; exit 2; }
abspath() { case $1 in */*) echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")" ;; *) echo "$1" ;; esac; }
CONF_NGCC=$(abspath "$1") CONF_EGCC=$(abspath "$2")
mkdir -p "$3" || exit 2
CONF_OUT=$(cd "$3" && pwd)
shift 3
CONF_SRC=$(cd "$(dirname "$0")" && pwd)
CONF_GCC=${CONF_GCC-gcc}
[ -n "$CONF_GCC" ] && ! command -v "$CONF_GCC" >/dev/null 2>&1 && CONF_GCC=
export CONF_NGCC CONF_EGCC CONF_OUT CONF_SRC CONF_GCC
tmo=${CONF_TIMEOUT:-60}
jobs=${CONF_JOBS:-2}
rjobs=${CONF_RUN_JOBS:-6}

if [ $# -eq 0 ]; then
	set -- $(cd "$CONF_SRC" && ls *.c 2>/dev/null | sed 's/\.c$//' | sort)
fi
for n; do
	[ -f "$CONF_SRC/$n.c" ] || { echo "run.sh: no test $CONF_SRC/$n.c" >&2; exit 2; }
done

variants="native-static native-dynamic epoll-static epoll-dynamic"
[ -n "$CONF_GCC" ] && variants="$variants glibc"

# Compile everything first, CONF_JOBS at a time.
for n; do
	mkdir -p "$CONF_OUT/$n"
	for v in $variants; do echo "$v $n"; done
done | xargs -n 2 -P "$jobs" sh "$0" --compile

ulimit -c 0 2>/dev/null
: >"$CONF_OUT/times"

# run VARIANT NAME WORKERS OUTFILE: one run, its end status appended.
run() {
	bin=$CONF_OUT/$2/$1
	if [ ! -x "$bin" ]; then
		echo "compile failed: see $CONF_OUT/$2/$1.cc" >"$4"
		return
	fi
	t=$(date +%s)
	(cd "$CONF_OUT/$2" && WEFT_WORKERS=$3 timeout -k 5 "$tmo" "$bin" \
		</dev/null >"$4" 2>"${4%.out}.err"; exit $?) 2>/dev/null
	rc=$?
	# (the "; exit" keeps the shell's "Killed" notice in the subshell's
	# stderr.)  124, or 137 when TERM did not end it and timeout's -k 5 KILLed it
	if [ $rc -eq 124 ] || { [ $rc -eq 137 ] && [ $(($(date +%s) - t)) -ge "$tmo" ]; }; then
		echo "timeout" >>"$4"
	elif [ $rc -gt 128 ]; then
		s=$(kill -l $((rc - 128)) 2>/dev/null) || s=$((rc - 128))
		echo "signal: SIG${s#SIG}" >>"$4"
	else echo "exit: $rc" >>"$4"
	fi
}

verbose=${CONF_VERBOSE:-0}
npass=0 nfail=0 nxfail=0 nxpass=0
for n; do
	d=$CONF_OUT/$n
	xfail=$(sed -n 's|^[[:space:]]*/\*[[:space:]]*conformance:[[:space:]]*xfail[[:space:]]\{1,\}\([a-z]*\).*|\1|p' "$CONF_SRC/$n.c" | sort -u | tr '\n' ' ' | sed 's/ $//')
	t0=$(date +%s)
	ref=$d/native-static.out
	run native-static "$n" 1 "$ref"
	failed=0 xvars= xdiffs= nomatch=0
	if [ ! -x "$d/native-static" ]; then
		echo "FAIL $n [native-static]: compile failed"
		sed 's/^/    /' "$d/native-static.cc"
		failed=1
	elif [ "$(tail -n 1 "$ref")" = timeout ]; then
		echo "FAIL $n [native-static]: the reference run timed out (a test must end)"
		failed=1
	fi
	list="native-dynamic:1"
	[ -n "$CONF_GCC" ] && list="$list glibc:1"
	for v in epoll-static epoll-dynamic; do
		for w in 1 2 4; do list="$list $v:$w"; done
	done
	[ $failed -eq 1 ] && list=
	# The other runs: native-dynamic and glibc together, then the epoll
	# ones CONF_RUN_JOBS at a time (default all 6: a test that hangs
	# under epoll then costs its deadline once); then the comparisons.
	for vw in $list; do
		v=${vw%:*} w=${vw#*:}
		case $v in epoll-*) continue ;; esac
		run "$v" "$n" "$w" "$d/$v.out" &
	done
	wait
	i=0
	for vw in $list; do
		v=${vw%:*} w=${vw#*:}
		case $v in epoll-*) ;; *) continue ;; esac
		run "$v" "$n" "$w" "$d/$v-W$w.out" &
		i=$((i + 1))
		[ $((i % rjobs)) -eq 0 ] && wait
	done
	wait
	for vw in $list; do
		v=${vw%:*} w=${vw#*:}
		case $v in epoll-*) tag="$v W=$w" o=$d/$v-W$w.out ;; *) tag=$v o=$d/$v.out ;; esac
		df=${o%.out}.diff
		if [ ! -x "$d/$v" ]; then
			failed_cc=${failed_cc:-}
			case " $failed_cc " in *" $n/$v "*) continue ;; esac
			failed_cc="$failed_cc $n/$v"
			if [ "$v" = glibc ]; then
				echo "NOTE $n [glibc]: compile failed (informational)"
			else
				echo "FAIL $n [$v]: compile failed"
				failed=1
			fi
			sed 's/^/    /' "$d/$v.cc"
			continue
		fi
		if diff -u --label "native-static" --label "$tag" "$ref" "$o" >"$df"; then
			rm -f "$df"
			continue
		fi
		if [ "$v" = glibc ]; then
			echo "NOTE $n [glibc]: differs from native-static (informational)"
			sed 's/^/    /' "$df"
			continue
		fi
		back=${v%%-*}
		case " $xfail " in
		*" $back "*)
			nomatch=1
			xvars="$xvars${xvars:+, }$tag"
			xdiffs="$xdiffs $df" ;;
		*)
			failed=1
			echo "FAIL $n [$tag]"
			sed 's/^/    /' "$df" ;;
		esac
	done
	echo "$n $(($(date +%s) - t0))s" >>"$CONF_OUT/times"
	if [ $failed -eq 1 ]; then
		nfail=$((nfail + 1))
		[ -n "$xvars" ] && echo "XFAIL $n [$xvars] (expected; diffs in $d)"
	elif [ $nomatch -eq 1 ]; then
		nxfail=$((nxfail + 1))
		echo "XFAIL $n [$xvars]"
		if [ "$verbose" = 1 ]; then for f in $xdiffs; do sed 's/^/    /' "$f"; done
		else echo "    (expected: xfail $xfail; diffs in $d/*.diff, CONF_VERBOSE=1 prints them)"; fi
	elif [ -n "$xfail" ]; then
		nxpass=$((nxpass + 1)) npass=$((npass + 1))
		echo "XPASS $n (marked xfail $xfail but every variant matched: delete the marker)"
	else
		npass=$((npass + 1))
		echo "PASS $n"
	fi
done
echo "conformance: $nxfail xfail, $nxpass xpass"
echo "conformance: $npass passed, $nfail failed"
[ $nfail -eq 0 ]
