#!/bin/sh
# Compare a libc-test REPORT with an expected-failures list.
# usage: compare.sh REPORT [EXPECTED_LIST]
# REPORT is libc-test's top-level report (BUILDDIR/src/REPORT); the per-test
# result files next to it (src/*/*.err, src/*/*.exe) give the set of tests.
# Exit status: 0 if no unexpected failure, 1 otherwise, 2 on usage errors.
set -eu

die() { echo "compare.sh: $*" >&2; exit 2; }
[ $# -eq 1 ] || [ $# -eq 2 ] || die "usage: $0 REPORT [EXPECTED_LIST]"
report=$1
expected=${2:-$(dirname "$0")/../libc-test-expected-failures.txt}
[ -f "$report" ] || die "report not found: $report"
[ -f "$expected" ] || die "expected-failures list not found: $expected"
b=$(dirname "$report")

export LC_ALL=C
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lt-compare.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' HUP INT TERM

# Failures are the lines runtest writes: "FAIL src/DIR/NAME.exe [reason]".
# A test that failed to build gets one too (runtest cannot exec it).
sed -n 's|^FAIL .*/\([^/]*/[^/]*\)\.exe \[.*\]$|\1|p' "$report" | sort -u >"$tmp/failed"

# Every test executable has a DIR/NAME.err; build logs are *.{o,lo,ld,so}.err.
# Count those whose .exe was built, plus the failures (covers build failures).
# This skips tests that are deliberately not built (musl/pleval dynamic).
for f in "$b"/*/*.err; do
	case $f in *.o.err|*.lo.err|*.ld.err|*.so.err) continue ;; esac
	[ -e "${f%.err}.exe" ] || continue
	f=${f%.err}
	echo "${f#"$b"/}"
done | cat - "$tmp/failed" | sort -u >"$tmp/all"

sed 's/#.*//; s/^[[:space:]]*//; s/[[:space:]]*$//; /^$/d' "$expected" | sort -u >"$tmp/expected"

total=$(wc -l <"$tmp/all")
nfail=$(wc -l <"$tmp/failed")
echo "libc-test: $((total - nfail)) passed, $((nfail)) failed"
echo "expected failures: $(($(wc -l <"$tmp/expected")))"
[ "$total" -gt 0 ] || { echo "compare.sh: no test results found next to $report" >&2; exit 1; }

comm -23 "$tmp/failed" "$tmp/expected" | sed 's/^/UNEXPECTED FAIL: /' >"$tmp/unexpected"
cat "$tmp/unexpected"
comm -12 "$tmp/expected" "$tmp/all" | comm -23 - "$tmp/failed" | sed 's/^/UNEXPECTED PASS: /'
# Listed but absent from the run: the test was renamed/removed, or not built.
comm -23 "$tmp/expected" "$tmp/all" | sed 's/^/NOT RUN: /'

[ ! -s "$tmp/unexpected" ]
