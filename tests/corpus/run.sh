#!/bin/sh
# tests/corpus/run.sh WEFT_GCC OUTDIR [PROGRAM]...
#
# The driver of `make corpus` (tests/corpus/corpus.mk): runs each
# program's recipe, tests/corpus/PROGRAM.sh (default: pigz sqlite3
# memcached), which fetches the program's Debian source package, builds
# it with WEFT_GCC (the M:N epoll build's weft-gcc, static) and with the
# system gcc (glibc, $CC or gcc) as the reference, runs its tests under
# a timeout and records one line per test in OUTDIR/raw.txt.  Then
# prints one table, also written to OUTDIR/results.txt:
#
#   test | build weft/glibc | passed/failed, weft and glibc |
#   wall seconds, weft and glibc, and weft's over glibc's |
#   peak OS threads of the program's process, weft and glibc
#
# A recipe that fails to fetch or build still gives its rows ("fail" in
# the build column); nothing here stops the run.  The exit status is 0
# when the weft build built and ran every test glibc's did and failed
# no more checks in any; 1 otherwise.
#
#   run.sh --report OUTDIR   prints the table again from OUTDIR/raw.txt
#
# Environment: CC (the reference compiler, default gcc), CORPUS_RUNS
# (pigz runs per setting, default 3), CORPUS_PIGZ_MIB (default 200),
# CORPUS_MC_CONNS (memcached load connections, default 2000),
# CORPUS_JOBS (make -j for the programs' builds, default nproc).
set -u

[ $# -ge 2 ] || { echo "usage: run.sh WEFT_GCC OUTDIR [PROGRAM]... | run.sh --report OUTDIR" >&2; exit 2; }
CORPUS=$(cd "$(dirname "$0")" && pwd)
WEFT_CC=$1 CO=$2
shift 2
REPORT=
[ "$WEFT_CC" = --report ] && REPORT=1 WEFT_CC=/bin/true
case $WEFT_CC in /*) ;; *) WEFT_CC=$(pwd)/$WEFT_CC ;; esac
[ -x "$WEFT_CC" ] || { echo "corpus: $WEFT_CC: no such weft-gcc (make pal-build-epoll)" >&2; exit 2; }
mkdir -p "$CO" && CO=$(cd "$CO" && pwd)
GLIBC_CC=${CC:-gcc}
JOBS=${CORPUS_JOBS:-$(nproc 2>/dev/null || echo 2)}
RAW=$CO/raw.txt
TSAMPLE=$CO/tsample
export CORPUS CO WEFT_CC GLIBC_CC JOBS RAW TSAMPLE
PROGRAMS=${*:-pigz sqlite3 memcached}


# table: the table of $RAW and its last line; status 1 if weft is worse.
table() {
	awk -F'|' '
	{
		t = $1; v = $2
		if (!(t in seen)) { seen[t] = 1; order[++n] = t }
		b[t, v] = $3; p[t, v] = $4; f[t, v] = $5; w[t, v] = $6; th[t, v] = $7
		if ($8 != "") note[t] = note[t] (note[t] != "" ? "; " : "") v ": " $8
	}
	function pf(t, v) { return (p[t, v] == "" || p[t, v] == "-") ? "-" : p[t, v] "/" f[t, v] }
	function nz(x) { return x == "" ? "-" : x }
	END {
		fmt = "%-40s %-11s %-11s %-11s %8s %8s %7s %7s %7s  %s\n"
		printf fmt, "test", "build", "pass/fail", "pass/fail", "wall s", "wall s", "weft/", "threads", "threads", ""
		printf fmt, "", "weft/glibc", "weft", "glibc", "weft", "glibc", "glibc", "weft", "glibc", "note"
		for (i = 1; i <= n; i++) {
			t = order[i]
			r = "-"
			if (w[t, "weft"] + 0 > 0 && w[t, "glibc"] + 0 > 0) r = sprintf("%.2fx", w[t, "weft"] / w[t, "glibc"])
			printf fmt, t, nz(b[t, "weft"]) "/" nz(b[t, "glibc"]), pf(t, "weft"), pf(t, "glibc"),
				nz(w[t, "weft"]), nz(w[t, "glibc"]), r, nz(th[t, "weft"]), nz(th[t, "glibc"]), note[t]
			# Worse: weft did not build or run what glibc did, or
			# failed more.  Passed counts are not compared: some
			# suites run a varying number of subtests (memcached
			# prove t/: 174,471 to 174,717 in six runs here).
			pw = p[t, "weft"]; pg = p[t, "glibc"]
			if ((b[t, "weft"] != "ok" && b[t, "glibc"] == "ok") || (pw == "-" && pg != "-") ||
			    (pg != "-" && f[t, "weft"] + 0 > f[t, "glibc"] + 0)) worse++
		}
		printf "\ncorpus: %d tests, %d where weft failed more than glibc (or did not build or run)\n", n, worse
		exit worse > 0
	}' "$RAW"
}

if [ -n "$REPORT" ]; then
	[ -s "$RAW" ] || { echo "corpus: no $RAW to report" >&2; exit 2; }
	head -n 2 "$CO/results.txt" 2>/dev/null
	echo "(table printed again from $RAW by run.sh --report)"
	echo
	table
	exit $?
fi

"$GLIBC_CC" -O2 -o "$TSAMPLE" "$CORPUS/tsample.c" || { echo "corpus: cannot build tsample" >&2; exit 2; }
: > "$RAW"
start=$(date +%s)
for p in $PROGRAMS; do
	[ -f "$CORPUS/$p.sh" ] || { echo "corpus: no recipe $CORPUS/$p.sh" >&2; continue; }
	t0=$(date +%s)
	echo "corpus: == $p" >&2
	sh "$CORPUS/$p.sh" || echo "corpus: $p.sh exited $?" >&2
	echo "corpus: == $p done in $(($(date +%s) - t0)) s" >&2
done
total=$(($(date +%s) - start))

cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
commit=$(git -C "$CORPUS" rev-parse --short HEAD 2>/dev/null || echo unknown)
{
	echo "make corpus, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit, $(nproc) CPUs ($cpu), kernel $(uname -r), $total s in all"
	echo "weft = epoll (M:N) weft-gcc -static; glibc = $("$GLIBC_CC" --version | head -n 1), dynamic; same sources and flags"
	echo
	table
} > "$CO/results.txt"
rc=$?
cat "$CO/results.txt"
echo "corpus: logs under $CO/<program>/<variant>/" >&2
exit $rc
