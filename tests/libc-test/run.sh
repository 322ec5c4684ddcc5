#!/bin/sh
# Build and run musl's libc-test with a given C compiler, then compare the
# results against the expected-failures list.
# usage: run.sh LIBCTEST_DIR CC [OUTDIR]
# env:   JOBS (make -j, default 2), LIBCTEST_TIMEOUT (seconds, default 3600),
#        EXPECTED (expected-failures list, default ../libc-test-expected-failures.txt)
# Repeat mode (to find tests that fail only sometimes): after the build
# and first run, run every test again REPEAT times (default 1: no
# repeat) at each WEFT_WORKERS value in WORKERS (default: as the
# environment has it), with LOAD=N that many CPU-bound processes
# running meanwhile, then print one line per test that failed in any run:
#   "repeat: DIR/NAME failed K of N runs at WEFT_WORKERS=W (expected|UNEXPECTED)"
# (expected failures that fail in every run are only counted) and
# "repeat: R runs, U with an unexpected failure".  Exit status 1 if
# any run had one.
set -eu

usage() { echo "usage: $0 LIBCTEST_DIR CC [OUTDIR]" >&2; exit 2; }
die() { echo "run.sh: $*" >&2; exit 2; }

[ $# -eq 2 ] || [ $# -eq 3 ] || usage
src=$1 cc=$2
here=$(cd "$(dirname "$0")" && pwd)
expected=${EXPECTED:-$here/../libc-test-expected-failures.txt}

[ -d "$src" ] || die "libc-test directory not found: $src"
for f in Makefile config.mak.def src/common/runtest.c; do
	[ -f "$src/$f" ] || die "not a libc-test tree (no $f): $src"
done
command -v "$cc" >/dev/null 2>&1 || die "compiler not found or not executable: $cc"
cc=$(command -v "$cc")
case $cc in /*) ;; *) cc=$(pwd)/$cc ;; esac
command -v timeout >/dev/null 2>&1 || die "timeout(1) not found"

if [ $# -eq 3 ]; then
	out=$3
	mkdir -p "$out"
else
	out=$(mktemp -d "${TMPDIR:-/tmp}/libc-test.XXXXXX")
fi
out=$(cd "$out" && pwd)

# Copy only what the build needs, so the source tree stays clean.
cp -R "$src/Makefile" "$src/config.mak.def" "$src/src" "$out/"
# config.mak.def minus its glibc-specific tail (-lcrypt -ldl ... are not needed).
sed '/^# glibc specific/,$d' "$src/config.mak.def" >"$out/config.mak"
echo "CC = $cc" >>"$out/config.mak"
# The SysV IPC tests key their queue, semaphore and segment by
# ftok(".", id), and the static and dynamic builds of one test share that
# key: under make -j the two can run at once and remove each other's
# object (two glibc builds of ipc_sem run side by side fail 67 of 200
# times).  Run each pair one after the other.  config.mak is included
# after the Makefile's "all:", so the default goal stays.
for t in ipc_msg ipc_sem ipc_shm; do
	echo "src/functional/$t-static.err: | src/functional/$t.err"
done >>"$out/config.mak"

cd "$out"
# A test's own children can outlive it: regression/raise-race forks in a
# signal handler, and a child forked once its thread has reached the
# wait loop spins there for good (under load, on glibc as well).  Kill
# every process still running from this directory's tests after each run.
reap_strays() {
	for p in /proc/[0-9]*; do
		e=$(readlink "$p/exe" 2>/dev/null) || continue
		case $e in "$out"/src/*.exe) kill -9 "${p#/proc/}" 2>/dev/null || true ;; esac
	done
}
trap reap_strays EXIT
make cleanall >/dev/null 2>&1 || true
echo "libc-test: building and running in $out (CC=$cc, log: $out/make.log)"
start=$(date +%s)
rc=0
timeout "${LIBCTEST_TIMEOUT:-3600}" make -j"${JOBS:-2}" >make.log 2>&1 || rc=$?
reap_strays
echo "libc-test: make finished in $(($(date +%s) - start))s (exit $rc)"
[ "$rc" -ne 124 ] || die "make timed out after ${LIBCTEST_TIMEOUT:-3600}s, see $out/make.log"
[ -f src/REPORT ] || die "no src/REPORT produced (make exit $rc), see $out/make.log"

echo "libc-test: report: $out/src/REPORT"
[ "${REPEAT:-1}" -gt 1 ] || exec "$here/compare.sh" src/REPORT "$expected"

# ---- Repeat mode ----
rc=0
"$here/compare.sh" src/REPORT "$expected" || rc=1
load= n=0
while [ "$n" -lt "${LOAD:-0}" ]; do
	sh -c 'while :; do :; done' &
	load="$load $!"
	n=$((n + 1))
done
if [ -n "$load" ]; then
	trap 'kill $load 2>/dev/null; reap_strays' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	echo "repeat: $n CPU-bound process(es) (pids$load) run meanwhile"
fi
: >repeat.tally
runs=0 bad=0
for w in ${WORKERS:-default}; do
	i=0
	while [ "$i" -lt "$REPEAT" ]; do
		i=$((i + 1))
		# Only the tests run again: their .err files and the reports go.
		for f in src/*/*.err; do
			case $f in *.o.err|*.lo.err|*.ld.err|*.so.err) continue ;; esac
			[ -e "${f%.err}.exe" ] && rm -f "$f"
		done
		rm -f src/REPORT src/*/REPORT
		if [ "$w" = default ]; then
			timeout "${LIBCTEST_TIMEOUT:-3600}" make -j"${JOBS:-2}" >run.log 2>&1 || true
		else
			WEFT_WORKERS=$w timeout "${LIBCTEST_TIMEOUT:-3600}" \
				make -j"${JOBS:-2}" >run.log 2>&1 || true
		fi
		reap_strays
		runs=$((runs + 1))
		if [ ! -f src/REPORT ]; then
			echo "repeat: run $i at WEFT_WORKERS=$w produced no report (see $out/run.log)"
			bad=$((bad + 1))
			continue
		fi
		"$here/compare.sh" src/REPORT "$expected" >compare.out 2>&1 || bad=$((bad + 1))
		sed -n 's|^FAIL .*/\([^/]*/[^/]*\)\.exe \[.*\]$|\1|p' src/REPORT | sort -u |
			sed "s|^|$w |" >>repeat.tally
		echo "repeat: WEFT_WORKERS=$w run $i: $(sed -n 1p compare.out)$(grep -c '^UNEXPECTED FAIL' compare.out | sed 's/^0$//; s/..*/, & unexpected/')"
	done
done
exp=$(sed 's/#.*//; s/^[[:space:]]*//; s/[[:space:]]*$//; /^$/d' "$expected")
# Expected failures that failed in every run are counted, not listed.
sort repeat.tally | uniq -c | while read -r k w t; do
	case " $(echo $exp) " in *" $t "*) kind=expected ;; *) kind=UNEXPECTED ;; esac
	if [ "$kind" = expected ] && [ "$k" -eq "$REPEAT" ]; then
		echo "$t" >>repeat.always
		continue
	fi
	echo "repeat: $t failed $k of $REPEAT runs at WEFT_WORKERS=$w ($kind)"
done
[ -f repeat.always ] && echo "repeat: $(sort -u repeat.always | wc -l) expected failures failed in every run"
rm -f repeat.always
echo "repeat: $runs runs, $bad with an unexpected failure"
[ "$bad" -eq 0 ] && [ "$rc" -eq 0 ]
