#!/bin/sh
# Build and run musl's libc-test with a given C compiler, then compare the
# results against the expected-failures list.
# usage: run.sh LIBCTEST_DIR CC [OUTDIR]
# env:   JOBS (make -j, default 2), LIBCTEST_TIMEOUT (seconds, default 3600),
#        EXPECTED (expected-failures list, default ../libc-test-expected-failures.txt)
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

cd "$out"
make cleanall >/dev/null 2>&1 || true
echo "libc-test: building and running in $out (CC=$cc, log: $out/make.log)"
start=$(date +%s)
rc=0
timeout "${LIBCTEST_TIMEOUT:-3600}" make -j"${JOBS:-2}" >make.log 2>&1 || rc=$?
echo "libc-test: make finished in $(($(date +%s) - start))s (exit $rc)"
[ "$rc" -ne 124 ] || die "make timed out after ${LIBCTEST_TIMEOUT:-3600}s, see $out/make.log"
[ -f src/REPORT ] || die "no src/REPORT produced (make exit $rc), see $out/make.log"

echo "libc-test: report: $out/src/REPORT"
exec "$here/compare.sh" src/REPORT "$expected"
