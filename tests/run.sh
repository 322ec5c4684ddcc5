#!/bin/sh
# run.sh PAL LOGDIR TEST...: run each cmocka test binary in its own
# process under timeout(1), keep its output in LOGDIR, and end with one
# cmocka-style summary of all the tests as the last lines.  A test that
# cmocka started but did not finish (crash, hang) fails under its own
# name; a binary that exits nonzero with no failed test fails under the
# binary's name.  Exit status: 0 if every test passed, 1 otherwise.
# env: TEST_TIMEOUT (seconds per binary, default 180)
set -u

[ $# -ge 2 ] || { echo "usage: $0 PAL LOGDIR TEST..." >&2; exit 2; }
pal=$1 logs=$2
shift 2
tmo=${TEST_TIMEOUT:-180}
command -v timeout >/dev/null 2>&1 || { echo "run.sh: timeout(1) not found" >&2; exit 2; }
# Absolute: a failing test's log path must work from wherever make was run.
mkdir -p "$logs" && logs=$(cd "$logs" && pwd) || exit 2
results=$logs/results
: >"$results"

# One line per test of a binary's log: "PASS|FAIL|SKIP NAME: TEST [why]".
summarize() {
	awk -v bin="$1" -v rc="$2" -v tmo="$3" '
	function name(s) { return substr(s, 14) }
	/^\[ RUN      \] / { t = name($0); if (!(t in st)) order[n++] = t; st[t] = "RUN"; next }
	/^\[       OK \] / { t = name($0); if (t in st) st[t] = "OK"; next }
	/^\[  FAILED  \] / { t = name($0); if (t in st) st[t] = "FAILED"; next }
	/^\[  SKIPPED \] / { t = name($0); if (t in st) st[t] = "SKIPPED"; next }
	END {
		why = rc == 124 ? "timed out after " tmo "s" : \
			rc > 128 ? "killed by signal " rc - 128 : "exit status " rc
		for (i = 0; i < n; i++) {
			t = order[i]
			if (st[t] == "OK") print "PASS " bin ": " t
			else if (st[t] == "SKIPPED") print "SKIP " bin ": " t
			else if (st[t] == "FAILED") { print "FAIL " bin ": " t; nf++ }
			else { print "FAIL " bin ": " t " (" why ")"; nf++ }
		}
		if (rc != 0 && !nf) print "FAIL " bin " (" why ")"
		else if (n == 0) print "FAIL " bin " (no tests run)"
	}' "$4"
}

echo "[==========] weft tests, backend: $pal"
for bin; do
	name=${bin#*tests-out/}
	log=$logs/$(printf '%s' "$name" | tr / _).log
	t0=$(date +%s%N)
	case $bin in /*) path=$bin ;; *) path=./$bin ;; esac
	timeout -k 5 "$tmo" "$path" >"$log" 2>&1 </dev/null
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	summarize "$name" "$rc" "$tmo" "$log" >"$logs/one"
	cat "$logs/one" >>"$results"
	np=$(grep -c '^PASS' "$logs/one")
	nf=$(grep -c '^FAIL' "$logs/one")
	if [ "$nf" -eq 0 ]; then
		printf '[       OK ] %s: %d test(s) passed (%d ms)\n' "$name" "$np" "$ms"
	else
		printf '[  FAILED  ] %s: %d of %d test(s) failed (%d ms), log %s:\n' \
			"$name" "$nf" $((np + nf)) "$ms" "$log"
		sed 's/^/    /' "$log"
	fi
done
rm -f "$logs/one"

np=$(grep -c '^PASS' "$results")
ns=$(grep -c '^SKIP' "$results")
nf=$(grep -c '^FAIL' "$results")
echo "[==========] $((np + ns + nf)) test(s) run."
echo "[  PASSED  ] $np test(s)."
if [ "$ns" -gt 0 ]; then
	echo "[  SKIPPED ] $ns test(s), listed below:"
	sed -n 's/^SKIP /[  SKIPPED ] /p' "$results"
fi
if [ "$nf" -gt 0 ]; then
	echo "[  FAILED  ] $nf test(s), listed below:"
	sed -n 's/^FAIL /[  FAILED  ] /p' "$results"
	exit 1
fi
exit 0
