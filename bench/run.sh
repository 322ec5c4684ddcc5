#!/bin/sh
# bench/run.sh BENCHDIR [COMMAND] - run the bench/ programs built under
# BENCHDIR/<variant>/ (bench/bench.mk builds them) and print one table.
#
# Runs are interleaved: for run in 1..N, for each benchmark, for each
# variant, so that drift on the machine spreads over all variants alike.
# Every run is bounded by `timeout` and measured by GNU time (%M, the
# peak RSS).  A variant whose run fails, times out or hits a limit is
# not run again for that benchmark; its cell says why.  The table goes
# to stdout and to BENCHDIR/results.txt; each run's output is kept in
# BENCHDIR/logs/.  COMMAND is only quoted in the header.
#
# Environment: BENCH_RUNS (default 5, or 3 with BENCH_QUICK), BENCH_QUICK
# (non-empty and not 0: small sizes), BENCH_VARIANTS (default "glibc musl
# weft-native weft-epoll weft-uring go epoll-loop"; the first is the
# baseline of the ratios; weft-uring runs the echo rows only, epoll-loop
# is a server only and runs the plain echo rows only),
# BENCH_ECHO (non-empty: the echo rows; needs echo_server and echo_fsync
# per variant and glibc/echo_load), BENCH_GO_VERSION (`go version`'s line for the
# header, or "none": go is not installed, no go column), BENCH_LOAD (N:
# run everything with N CPU-bound processes beside it, tests/load.sh's;
# the files are then results-loadN.txt, raw-loadN.txt, logs-loadN/).
set -u

die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: run.sh BENCHDIR [COMMAND]"
BO=$1
CMD=${2:-"sh run.sh $*"}
[ -d "$BO" ] || die "$BO: no such directory (run make bench)"
BO=$(cd "$BO" && pwd)

QUICK=${BENCH_QUICK:-}
[ "$QUICK" = 0 ] && QUICK=
RUNS=${BENCH_RUNS:-}
[ -n "$RUNS" ] || { [ -n "$QUICK" ] && RUNS=3 || RUNS=5; }
case $RUNS in '' | *[!0-9]* | 0) die "BENCH_RUNS must be a positive number, not '$RUNS'" ;; esac
VARIANTS=${BENCH_VARIANTS:-"glibc musl weft-native weft-epoll weft-uring go epoll-loop"}
BASE=${VARIANTS%% *}
ECHO=${BENCH_ECHO:-}
GOV=${BENCH_GO_VERSION:-}
LOAD=${BENCH_LOAD:-}
[ "$LOAD" = 0 ] && LOAD=
case $LOAD in *[!0-9]*) die "LOAD must be a number of processes, not '$LOAD'" ;; esac

# LOAD=N: the whole run again under tests/load.sh, which starts the N
# spinners, and stops them however this ends (even if it is killed: each
# spinner stops by itself once load.sh is gone).
if [ -n "$LOAD" ] && [ "${BENCH_LOADED:-}" != "$LOAD" ]; then
	LOADSH=$(dirname "$0")/../tests/load.sh
	[ -f "$LOADSH" ] || die "$LOADSH: not found (needed by LOAD=$LOAD)"
	BENCH_LOADED=$LOAD
	export BENCH_LOADED
	exec sh "$LOADSH" "$LOAD" sh "$0" "$BO" "$CMD"
fi

SUFFIX=${LOAD:+-load$LOAD}
LOGS=$BO/logs$SUFFIX
RAW=$BO/raw$SUFFIX.txt
OUT=$BO/results$SUFFIX.txt
rm -rf "$LOGS" && mkdir -p "$LOGS" || die "cannot make $LOGS"
: > "$RAW"

# GNU time gives each run's peak RSS (ru_maxrss).  Without it (Debian
# package `time`), a run's VmHWM is sampled from /proc every 0.2 s
# instead, which can miss a short final peak.
if /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then
	RSS_HOW="GNU time %M (ru_maxrss)"
	GNU_TIME=1
else
	RSS_HOW="VmHWM sampled every 0.2 s (no GNU time: apt-get install time)"
	GNU_TIME=
	echo "bench: warning: /usr/bin/time (GNU time, Debian package 'time') not found; sampling VmHWM instead" >&2
fi

# The benchmarks: id, timeout (s), row label, unit, better (lower or
# higher), program and arguments.  "echo N" rows are special: one run of
# echo_server + echo_load gives three rows (id.rps, id.p99, id.kib);
# "echo_fsync N A" rows are the same with bench/echo_fsync.c as the
# server, A threads appending and calling fdatasync beside it.
# Sized so that a full run takes about 20 minutes on 2 cores (19 on 2026-12-07).
if [ -n "$QUICK" ]; then
	SECS=1 WAIT=5
	BENCHES='spawn     15 spawn_create+join_(1000_alive)  ns lower spawn 5000
condvar   15 condvar_ping-pong_round_trip   ns lower condvar 5000
ring      15 ring_503_threads,_per_hop      ns lower ring 20000
tree3     15 tree_10^3_leaves,_total        ms lower tree 1000
tree4     15 tree_10^4_leaves,_64K_stacks   ms lower tree 10000 65536
mutex     15 mutex_8_threads,_per_increment ns lower mutex 1000000
lock      15 uncontended_lock+unlock        ns lower lock 10000000
yield     15 task_switch_(yield),_one_way   ns lower yield 50000
sleepers  15 1000_sleepers,_usleep(1_s)_loop %cpu lower sleepers 1000 1000 2
blocked   15 10^4_blocked_threads,_RSS_each KiB lower blocked 10000
pipe2     15 pipeline_(pigz),_2_compressors ms lower pipeline 500 2
pipe16    15 pipeline_(pigz),_16_compressors ms lower pipeline 500 16
echo100   20 echo_100_conns                 -  -     echo 100
echo1000  20 echo_1000_conns                -  -     echo 1000
echofs1000 20 echo_1000_conns,_16_fdatasync_threads - - echo_fsync 1000 16'
else
	SECS=2 WAIT=10
	BENCHES='spawn     60 spawn_create+join_(1000_alive)  ns lower spawn 100000
condvar   60 condvar_ping-pong_round_trip   ns lower condvar 20000
ring      90 ring_503_threads,_per_hop      ns lower ring 1000000
tree5     90 tree_10^5_leaves,_total        ms lower tree 100000
tree6     90 tree_10^6_leaves,_64K_stacks   ms lower tree 1000000 65536
mutex     60 mutex_8_threads,_per_increment ns lower mutex 40000000
lock      60 uncontended_lock+unlock        ns lower lock 100000000
yield     60 task_switch_(yield),_one_way   ns lower yield 300000
sleepers  60 5000_sleepers,_usleep(1_s)_loop %cpu lower sleepers 5000 1000 5
blocked   60 10^5_blocked_threads,_RSS_each KiB lower blocked 100000
pipe2     60 pipeline_(pigz),_2_compressors ms lower pipeline 8000 2
pipe16    60 pipeline_(pigz),_16_compressors ms lower pipeline 8000 16
echo100   40 echo_100_conns                 -  -     echo 100
echo1000  40 echo_1000_conns                -  -     echo 1000
echo10000 60 echo_10000_conns               -  -     echo 10000
echofs1000 40 echo_1000_conns,_64_fdatasync_threads - - echo_fsync 1000 64'
fi
[ -n "$ECHO" ] || BENCHES=$(printf '%s\n' "$BENCHES" | grep -v ' echo\(_fsync\)\? [0-9]')

# Echo: both sides hold a descriptor per connection.
ulimit -n "$(ulimit -Hn)" 2>/dev/null

# ---- one run -------------------------------------------------------------

# record BENCH VARIANT RUN STATUS VALUE RSS_KB: one line of raw.txt.
# STATUS: ok, cannot:ERR, timeout, fail:WHY, nobuild.
record() { printf '%s %s %s %s %s %s\n' "$1" "$2" "$3" "$4" "${5:--}" "${6:--}" >> "$RAW"; }

# field LINE KEY: the value of KEY=value in LINE.
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }

# why RC ERRFILE: a short reason for a failed run.
why() {
	if [ "$1" -gt 128 ] && [ "$1" -lt 160 ]; then
		s=$(kill -l $(($1 - 128)) 2>/dev/null)
		echo "SIG${s:-$(($1 - 128))}"
	else
		echo "exit$1"
	fi
}

# status PID KEY: a line of /proc/PID/status, in kB.
status() { awk -v k="$2:" '$1 == k { print $2; exit }' "/proc/$1/status" 2>/dev/null; }

# timed TIMEOUT RSSFILE CMD...: run CMD, killed (SIGKILL: a hung M:N
# program may not die of SIGTERM) after TIMEOUT s; peak RSS (KiB) to
# RSSFILE; returns CMD's status (137 after a timeout).
timed() {
	to=$1 rf=$2
	shift 2
	if [ -n "$GNU_TIME" ]; then
		timeout -s KILL "$to" /usr/bin/time -f %M -o "$rf" "$@" < /dev/null
		return $?
	fi
	timeout -s KILL "$to" "$@" < /dev/null &
	tpid=$!
	hwm=0
	while kill -0 $tpid 2>/dev/null; do
		for c in $(pgrep -P $tpid); do
			h=$(status $c VmHWM)
			[ -n "$h" ] && [ "$h" -gt $hwm ] && hwm=$h
		done
		sleep 0.2
	done
	wait $tpid
	trc=$?
	echo $hwm > "$rf"
	return $trc
}

# run_prog ID VARIANT RUN TIMEOUT PROG ARGS...
run_prog() {
	id=$1 v=$2 r=$3 to=$4 prog=$5
	shift 5
	bin=$BO/$v/$prog
	[ -x "$bin" ] || { record "$id" "$v" "$r" nobuild; return 1; }
	log=$LOGS/$id.$v.$r
	t0=$(date +%s)
	timed "$to" "$log.rss" "$bin" "$@" > "$log.out" 2> "$log.err"
	rc=$?
	t1=$(date +%s)
	rss=$(tail -n 1 "$log.rss" 2>/dev/null)
	case $rss in '' | *[!0-9]*) rss=- ;; esac
	line=$(grep '^BENCH ' "$log.out" | tail -n 1)
	val=$(field "$line" value)
	cant=$(field "$line" cannot)
	if [ $rc -eq 0 ] && [ -n "$val" ]; then
		record "$id" "$v" "$r" ok "$val" "$rss"
		return 0
	elif [ $rc -eq 137 ] && [ $((t1 - t0)) -ge $((to - 1)) ]; then
		record "$id" "$v" "$r" timeout - "$rss"
		echo "after ${to} s" > "$log.why"
	elif [ $rc -eq 3 ] && [ -n "$cant" ]; then
		record "$id" "$v" "$r" "cannot:$cant" - "$rss"
		head -n 1 "$log.err" > "$log.why"
	else
		record "$id" "$v" "$r" "fail:$(why $rc)" - "$rss"
		{ head -n 2 "$log.err"; [ -s "$log.err" ] || echo "(no stderr; stdout: $(head -c 200 "$log.out"))"; } > "$log.why"
	fi
	return 1
}

SRV=
stop_server() {
	[ -n "$SRV" ] || return 0
	kill -TERM $SRV 2>/dev/null
	i=0
	while kill -0 $SRV 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
	kill -KILL $SRV 2>/dev/null
	wait 2>/dev/null
	SRV=
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_echo ID VARIANT RUN TIMEOUT CONNS [APPENDERS]: echo_server built
# for VARIANT (echo_fsync with APPENDERS fdatasync threads, files in
# BENCHDIR), echo_load (glibc) against it; records ID.rps, ID.p99 and
# ID.kib.
run_echo() {
	id=$1 v=$2 r=$3 to=$4 conns=$5 app=${6:-}
	srv=$BO/$v/echo_server load=$BO/glibc/echo_load
	[ -z "$app" ] || srv=$BO/$v/echo_fsync
	log=$LOGS/$id.$v.$r
	if [ ! -x "$srv" ] || [ ! -x "$load" ]; then
		for k in rps p99 kib; do record "$id.$k" "$v" "$r" nobuild; done
		return 1
	fi
	# timeout bounds the server even if this script is killed outright.
	timeout -k 5 $((to + 30)) "$srv" 0 ${app:+"$app" "$BO"} < /dev/null > "$log.server.out" 2> "$log.server.err" &
	tp=$!
	SRV=$tp
	spid= port= i=0
	while [ $i -lt 100 ]; do
		[ -n "$spid" ] || spid=$(pgrep -P $tp | head -n 1)
		port=$(sed -n 's/^port \([0-9][0-9]*\)$/\1/p' "$log.server.out")
		[ -n "$spid" ] && [ -n "$port" ] && break
		kill -0 $tp 2>/dev/null || break
		sleep 0.05
		i=$((i + 1))
	done
	if [ -z "$spid" ] || [ -z "$port" ]; then
		stop_server
		for k in rps p99 kib; do record "$id.$k" "$v" "$r" fail:no-server; done
		{ echo "the server did not start or print its port"; head -n 2 "$log.server.err"; } > "$log.why"
		return 1
	fi
	SRV="$spid $tp"
	idle=$(status $spid VmRSS)
	t0=$(date +%s)
	timeout -k 5 "$to" "$load" -t 2 -w $WAIT -d $SECS 127.0.0.1 "$port" "$conns" \
		< /dev/null > "$log.out" 2> "$log.err"
	rc=$?
	t1=$(date +%s)
	hwm=$(status $spid VmHWM)
	alive=1
	kill -0 $spid 2>/dev/null || alive=0
	stop_server
	res=$(grep '^RESULT ' "$log.out" | tail -n 1)
	rps=$(field "$res" rps) p99=$(field "$res" p99_us) err=$(field "$res" errors)
	if [ $rc -eq 0 ] && [ "$err" = 0 ] && [ -n "$rps" ] && [ $alive = 1 ]; then
		kib=$(awk -v h="${hwm:-0}" -v i="${idle:-0}" -v n="$conns" 'BEGIN { printf "%.2f", (h - i) / n }')
		record "$id.rps" "$v" "$r" ok "$rps" "$hwm"
		record "$id.p99" "$v" "$r" ok "$p99" "$hwm"
		record "$id.kib" "$v" "$r" ok "$kib" "$hwm"
		return 0
	fi
	if [ $rc -eq 124 ] || { [ $rc -eq 137 ] && [ $((t1 - t0)) -ge "$to" ]; }; then
		st=timeout
		echo "echo_load still running after ${to} s" > "$log.why"
	else
		if [ $alive = 0 ]; then st=fail:server-died
		elif [ -n "$err" ] && [ "$err" != 0 ]; then st=fail:errors=$err
		else st=fail:load-$(why $rc)
		fi
		{ [ -n "$res" ] && echo "$res"; head -n 2 "$log.err"; head -n 2 "$log.server.err"; } > "$log.why"
	fi
	for k in rps p99 kib; do record "$id.$k" "$v" "$r" "$st" - "$hwm"; done
	return 1
}

# ---- the runs: interleaved; a failed (benchmark, variant) is not rerun ----

# runs VARIANT PROG: whether VARIANT has a program PROG.  epoll-loop is
# bench/echo_epoll.c, a server only; go has no echo_fsync twin;
# weft-uring shares weft-epoll's scheduler and runs the echo rows only.
runs() {
	case $1/$2 in
	epoll-loop/echo | weft-uring/echo | weft-uring/echo_fsync) return 0 ;;
	epoll-loop/* | weft-uring/* | go/echo_fsync) return 1 ;;
	esac
	return 0
}

printf '%s\n' "$BENCHES" > "$LOGS/benches"
nbench=$(grep -c . "$LOGS/benches")
echo "bench: $nbench benchmarks x $(echo $VARIANTS | wc -w) variants x $RUNS runs; logs in $LOGS"
skip=' '
run=1
while [ $run -le "$RUNS" ]; do
	while read -r id to label unit better prog args; do
		for v in $VARIANTS; do
			case $skip in *" $id/$v "*) continue ;; esac
			runs "$v" "$prog" || continue
			if [ "$prog" = echo ] || [ "$prog" = echo_fsync ]; then
				# shellcheck disable=SC2086
				run_echo "$id" "$v" $run "$to" $args && ok=1 || ok=
				res=$(awk -v b="$id.rps" -v v="$v" -v r=$run \
					'$1 == b && $2 == v && $3 == r { s = $4 " " $5 " req/s" } END { print s }' "$RAW")
			else
				# shellcheck disable=SC2086
				run_prog "$id" "$v" $run "$to" "$prog" $args && ok=1 || ok=
				res=$(awk -v b="$id" -v v="$v" -v r=$run -v u="$unit" \
					'$1 == b && $2 == v && $3 == r { s = $4 " " $5 " " u } END { print s }' "$RAW")
			fi
			printf 'run %s/%s  %-10s %-12s %s\n' $run "$RUNS" "$id" "$v" "$res"
			[ -n "$ok" ] || skip="$skip$id/$v "
		done
	done < "$LOGS/benches"
	run=$((run + 1))
done

# ---- the table -------------------------------------------------------------

# stdin: the benchmark list; then raw.txt (bench variant run status value rss).
TABLE_AWK='
function fmt(x) {
	if (x >= 100) return sprintf("%.0f", x)
	if (x >= 10) return sprintf("%.1f", x)
	return sprintf("%.2f", x)
}
function median(list,   a, n, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function mib(kb) { return sprintf(kb >= 102400 ? "%.0fM" : "%.1fM", kb / 1024) }
function why(s) {
	if (s ~ /^cannot:/) return "n/a (" substr(s, 8) ")"
	if (s == "nobuild") return "no build"
	if (s == "timeout") return "timeout"
	return "fail"
}
# The cell of row r, variant v: "median (ratio)", or why there is none.
function cell(r, v,   m, b, c) {
	if (!((r, v) in st)) return "-"
	if (!((r, v) in vals)) return why(st[r, v])
	m = median(vals[r, v])
	c = fmt(m) (st[r, v] == "ok" ? "" : "!")
	if (v == base) return c
	b = ((r, base) in vals) ? median(vals[r, base]) : 0
	if (b <= 0 || m <= 0) return c " (-)"
	return sprintf("%s (%.2fx)", c, better[r] == "higher" ? m / b : b / m)
}
function addrow(id, lab, bt) { rid[++nrow] = id; rlab[nrow] = lab; better[id] = bt }
FNR == NR {
	lab = $3
	gsub(/_/, " ", lab)
	if ($6 == "echo" || $6 == "echo_fsync") {
		addrow($1 ".rps", lab " [req/s]", "higher")
		addrow($1 ".p99", lab " [p99 us]", "lower")
		addrow($1 ".kib", lab " [KiB/conn]", "lower")
	} else
		addrow($1, lab " [" $4 "]", $5)
	next
}
{
	k = $1 SUBSEP $2
	if ($4 == "ok") vals[k] = vals[k] " " $5
	if (!(k in st) || st[k] == "ok") st[k] = $4
	if ($6 != "-") rss[k] = rss[k] " " $6
}
END {
	n = split(variants, nv, " ")
	base = nv[1]
	w = 10
	for (i = 1; i <= nrow; i++) if (length(rlab[i]) + 2 > w) w = length(rlab[i]) + 2
	printf "%-" w "s", "benchmark [unit]"
	for (j = 1; j <= n; j++) printf "%-18s", nv[j] (j == 1 ? " (base)" : "")
	printf "| peak RSS:"
	for (j = 1; j <= n; j++) printf " %11s", nv[j]
	printf "\n"
	for (i = 1; i <= nrow; i++) {
		r = rid[i]
		printf "%-" w "s", rlab[i]
		for (j = 1; j <= n; j++) printf "%-18s", cell(r, nv[j])
		printf "|          "
		for (j = 1; j <= n; j++)
			printf " %11s", ((r, nv[j]) in rss) ? mib(median(rss[r, nv[j]])) : "-"
		printf "\n"
	}
	print ""
	print "Each figure is the median of the runs; the lower the better except req/s."
	printf "ratio = how many times better than %s: %s / variant for times, p99 and\n", base, base
	printf "KiB/conn; variant / %s for req/s. >1 = better (faster, less memory) than %s.\n", base, base
	print "n/a (EAGAIN): could not create its threads (a 1:1 limit: pid_max, vm.max_map_count,"
	print "memory); fail, timeout: see below; \"!\": a later run failed, median of the runs before it."
	print "peak RSS: median of each run'"'"'s peak; echo rows: the server'"'"'s VmHWM."
	if (secs != "")
		printf "echo: examples/echo_server.c per variant (go: bench/go/echo_server, epoll-loop:\n" \
			"bench/echo_epoll.c), examples/echo_load.c (glibc, 2 threads) as client; all\n" \
			"connections open, then %s s measured; KiB/conn = (server VmHWM after the run\n" \
			"- its VmRSS idle before it) / connections. \"fdatasync threads\": bench/echo_fsync.c,\n" \
			"the same server with that many threads appending 4 KiB + fdatasync in a loop\n" \
			"(files in obj/bench, ext4 or whatever holds it); no go or epoll-loop twin.\n", secs
}'

cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
{
	echo "weft bench, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "kernel $(uname -r); CPU: ${cpu:-unknown}; nproc $(nproc); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "command: $CMD"
	echo "medians of $RUNS run$([ "$RUNS" -gt 1 ] && echo s)$([ -n "$QUICK" ] && echo ' (BENCH_QUICK: small sizes)'), variants interleaved; peak RSS: $RSS_HOW"
	echo "glibc: system gcc -O2 -pthread (dynamic); musl: stock musl 1.2.3, musl-gcc -static -O2;"
	echo "weft-native, weft-epoll, weft-uring: obj/pal/{native,epoll,uring}/bin/weft-gcc -static -O2 (M:N: WEFT_WORKERS=${WEFT_WORKERS:-nproc});"
	echo "    weft-uring: echo rows only (its scheduler is weft-epoll's)"
	case " $VARIANTS " in
	*" go "*)
		echo "go: ${GOV:-$(go version 2>/dev/null)}; bench/go/*/main.go, go build, CGO_ENABLED=0 (static);"
		echo "    GOMAXPROCS=${GOMAXPROCS:-nproc} (yield: 1); no stack attribute (tree 64K and sleepers: Go's own stacks)" ;;
	*) [ "$GOV" = none ] && echo "go: not installed (Debian: apt-get install golang-go): no go column" ;;
	esac
	case " $VARIANTS " in *" epoll-loop "*)
		echo "epoll-loop: bench/echo_epoll.c, system gcc -O2 (glibc), one epoll loop per CPU, SO_REUSEPORT; echo rows only"
	esac
	if [ -n "$LOAD" ]; then
		echo "LOAD=$LOAD: $LOAD CPU-bound process(es) (tests/load.sh's shell spinners) running beside every run"
	else
		echo "no LOAD: nothing else started beside the runs"
	fi
	echo
	awk -v variants="$VARIANTS" -v secs="$([ -n "$ECHO" ] && echo $SECS)" "$TABLE_AWK" \
		"$LOGS/benches" "$RAW"
	# What went wrong, once per (benchmark, variant).
	awk '$4 != "ok" && $4 != "nobuild" { sub(/\.(rps|p99|kib)$/, "", $1); print $1, $2, $3, $4 }' "$RAW" |
		sort -u -k1,2 | {
		hdr=
		while read -r id v r st; do
			[ -n "$hdr" ] || { echo; echo "failures (the first failing run; that benchmark and variant then skipped):"; hdr=1; }
			printf '  %s / %s, run %s: %s: %s\n' "$id" "$v" "$r" "$st" \
				"$(tr '\n' ' ' < "$LOGS/$id.$v.$r.why" 2>/dev/null | cut -c1-240)"
		done
	}
	if grep -q ' nobuild ' "$RAW"; then
		echo
		echo "no build: $(awk '$4 == "nobuild" { print $2 }' "$RAW" | sort -u | tr '\n' ' ')(see make's output)"
	fi
	[ -n "$ECHO" ] || { echo; echo "echo rows skipped: examples/echo_server.c or examples/echo_load.c is missing"; }
	echo
	echo "every run's figure: $RAW (benchmark variant run status value peak-RSS-KiB); outputs: $LOGS"
} > "$OUT.new"
mv "$OUT.new" "$OUT"
echo
cat "$OUT"
echo
echo "bench: table written to $OUT"
