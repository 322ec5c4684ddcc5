#!/bin/sh
# demo-echo.sh WEFT_GCC CONNS SECONDS [DIR]
#
# The thread-per-connection echo server (examples/echo_server.c), built
# unmodified two ways: with WEFT_GCC (a build's bin/weft-gcc) and with
# the system gcc (glibc).  For each, start it, open CONNS connections to
# it at once with examples/echo_load.c (built with gcc) and measure for
# SECONDS, sampling the server's OS threads (/proc/PID/task) and memory
# (/proc/PID/status) meanwhile; then stop it.  Programs and logs go to
# DIR (default obj/examples).  At the end one table compares them:
#   conns                connections echo_load had open at once (H/CONNS
#                        if it could not open all CONNS)
#   requests/s, p99 us   from echo_load (send to complete echo); "-" unless
#                        all CONNS were held and measured
#   threads              most OS threads the server had at one sample
#   RSS MiB              the server's peak resident memory (VmHWM)
#   KiB/conn             (VmHWM - VmRSS when idle, before the load) / CONNS
#   errors               echo_load's count (verification failures, lost
#                        connections, ...), or why there is no count
# Exits 0 only if every variant ran with no errors.  Environment:
# LOAD_THREADS (echo_load's threads, default 2), WAIT (seconds echo_load
# waits without progress before giving up, default 30).
set -u

die() { printf 'demo-echo: %s\n' "$*" >&2; exit 1; }
isnum() { case $1 in '' | *[!0-9]*) return 1 ;; esac; }

[ $# -eq 3 ] || [ $# -eq 4 ] || die "usage: demo-echo.sh WEFT_GCC CONNS SECONDS [DIR]"
weft_gcc=$1 conns=$2 secs=$3 dir=${4:-obj/examples}
load_threads=${LOAD_THREADS:-2} wait=${WAIT:-30}
isnum "$conns" && [ "$conns" -gt 0 ] || die "CONNS must be a positive number, not '$conns'"
isnum "$secs" && [ "$secs" -gt 0 ] || die "SECONDS must be a positive number, not '$secs'"
isnum "$load_threads" && isnum "$wait" || die "LOAD_THREADS and WAIT must be numbers"
wg=$(command -v "$weft_gcc") || die "$weft_gcc: no such weft-gcc"
top=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$top/examples/echo_server.c" ] || die "examples/echo_server.c not found under $top"
mkdir -p "$dir" && dir=$(cd "$dir" && pwd) || die "cannot make $dir"

# --- limits: the server and echo_load each hold one descriptor per connection.
need=$((conns + 64))
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ]; then
	ulimit -n "$(cat /proc/sys/fs/nr_open 2>/dev/null || echo 1048576)" 2>/dev/null
else
	ulimit -n "$hard" 2>/dev/null
fi
soft=$(ulimit -n)
[ "$soft" = unlimited ] || [ "$soft" -ge "$need" ] ||
	die "$conns connections need $need file descriptors per process; ulimit -n is $soft (hard limit $hard)"
read -r plo phi < /proc/sys/net/ipv4/ip_local_port_range &&
	[ $((phi - plo + 1)) -lt "$conns" ] &&
	die "$conns connections need as many local ports; net.ipv4.ip_local_port_range has $((phi - plo + 1))"
# A 1:1 server needs a thread (a pid) per connection: warn, the run shows it.
for f in /proc/sys/kernel/pid_max /proc/sys/kernel/threads-max; do
	[ -r "$f" ] && [ "$(cat "$f")" -le $((conns + 100)) ] &&
		printf 'demo-echo: warning: %s is %s: a 1:1 server may not get %s threads\n' \
			"$f" "$(cat "$f")" "$conns" >&2
done

# --- build
backend=$("$wg" -print-weft-backend 2>/dev/null)
weft=weft-${backend:-unknown}
echo "== building into $dir"
timeout 300 "$weft_gcc" -O2 -Wall -Wextra -o "$dir/echo_server-$weft" "$top/examples/echo_server.c" ||
	die "building echo_server with $weft_gcc failed"
timeout 300 gcc -O2 -Wall -Wextra -pthread -o "$dir/echo_server-glibc" "$top/examples/echo_server.c" ||
	die "building echo_server with gcc failed"
timeout 300 gcc -O2 -Wall -Wextra -pthread -o "$dir/echo_load" "$top/examples/echo_load.c" ||
	die "building echo_load with gcc failed"

# --- clean-up: whatever is running when the script exits is stopped.
live=''
cleanup() {
	[ -n "$live" ] || return 0
	kill -TERM $live 2>/dev/null
	sleep 1
	kill -KILL $live 2>/dev/null
	live=
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

status() { awk -v k="$2:" '$1 == k { print $2; exit }' "/proc/$1/status" 2>/dev/null; }
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

rows='' failed=0
# run NAME SERVER: one variant; appends a line to $rows.
run() {
	name=$1 bin=$2
	sout=$dir/$name.server.out lout=$dir/$name.load.out
	echo "== $name: $conns connections, $secs s"
	# timeout bounds the server even if this script is killed outright.
	timeout -k 5 $((secs + 4 * wait + 120)) "$bin" 0 >"$sout" 2>"$dir/$name.server.err" &
	tpid=$!
	live="$tpid"
	spid='' port='' i=0
	while [ $i -lt 100 ]; do
		[ -n "$spid" ] || spid=$(pgrep -P "$tpid" | head -n 1)
		port=$(sed -n 's/^port \([0-9][0-9]*\)$/\1/p' "$sout")
		[ -n "$spid" ] && [ -n "$port" ] && break
		kill -0 "$tpid" 2>/dev/null || break
		sleep 0.05
		i=$((i + 1))
	done
	if [ -z "$spid" ] || [ -z "$port" ]; then
		echo "$name: the server did not start or print its port:"
		cat "$dir/$name.server.err"
		rows="$rows$name - - - - - - no-server
"
		failed=1
		cleanup
		return
	fi
	live="$tpid $spid"
	idle=$(status "$spid" VmRSS)

	timeout -k 5 $((secs + 3 * wait + 60)) "$dir/echo_load" -t "$load_threads" -w "$wait" \
		-d "$secs" 127.0.0.1 "$port" "$conns" >"$lout" 2>&1 &
	lpid=$!
	live="$tpid $spid $lpid"
	peak=0 hwm=0
	while kill -0 "$lpid" 2>/dev/null; do
		n=$(ls "/proc/$spid/task" 2>/dev/null | wc -l)
		[ "$n" -gt "$peak" ] && peak=$n
		h=$(status "$spid" VmHWM)
		[ -n "$h" ] && hwm=$h
		sleep 0.5
	done
	wait "$lpid"
	lrc=$?
	live="$tpid $spid"
	h=$(status "$spid" VmHWM)
	[ -n "$h" ] && hwm=$h
	alive=1
	kill -0 "$spid" 2>/dev/null || alive=0
	cat "$lout"

	kill -TERM "$spid" 2>/dev/null
	i=0
	while kill -0 "$tpid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kill -KILL "$spid" "$tpid" 2>/dev/null
	wait "$tpid" 2>/dev/null
	live=
	if [ -s "$dir/$name.server.err" ]; then
		echo "$name: server's stderr (first lines):"
		head -n 5 "$dir/$name.server.err"
	fi

	res=$(grep '^RESULT ' "$lout" | tail -n 1)
	held=$(field "$res" conns) rps=$(field "$res" rps) p99=$(field "$res" p99_us)
	err=$(field "$res" errors)
	mib=$(awk -v k="$hwm" 'BEGIN { printf "%.1f", k / 1024 }')
	per=$(awk -v h="$hwm" -v i="${idle:-0}" -v n="$conns" 'BEGIN { printf "%.1f", (h - i) / n }')
	# Figures only for a run that held every connection and measured.
	[ "$held" = "$conns" ] || rps=- p99=- per=-
	[ -n "$held" ] || held=0
	[ "$held" = "$conns" ] || held=$held/$conns
	if [ $lrc -eq 124 ] || [ $lrc -eq 137 ]; then
		err=timeout
	elif [ -z "$err" ]; then
		err="exit-$lrc"
	elif [ $lrc -ne 0 ] && [ "$err" = 0 ]; then
		err="exit-$lrc"
	fi
	[ $alive -eq 1 ] || err="$err,server-died"
	[ "$err" = 0 ] || failed=1
	rows="$rows$name $held $rps $p99 $peak $mib $per $err
"
}

run glibc "$dir/echo_server-glibc"
run "$weft" "$dir/echo_server-$weft"

echo
printf '%-14s %8s %11s %10s %9s %9s %9s  %s\n' \
	variant conns requests/s 'p99 us' threads 'RSS MiB' KiB/conn errors
printf '%s' "$rows" | while read -r v c r p t m k e; do
	printf '%-14s %8s %11s %10s %9s %9s %9s  %s\n' "$v" "$c" "$r" "$p" "$t" "$m" "$k" "$e"
done
cat <<'LEGEND'

  conns        connections the server held at once (of those asked for)
  requests/s   echoes per second over the measured interval, all connections
  p99 us       99th-percentile round trip of one echo, in microseconds
  threads      most OS threads the server process had (/proc/PID/task)
  RSS MiB      the server's peak resident memory (VmHWM)
  KiB/conn     (peak RSS - RSS before the load) / connections
  errors       short or wrong echoes, refused connections; 0 when all is well
LEGEND

# One line that says what the table means: the same unmodified program,
# its thread count, and its speed and memory against glibc's 1:1 threads.
printf '%s' "$rows" | awk -v weft="$weft" '
	{ c[$1] = $2; r[$1] = $3; t[$1] = $5; k[$1] = $7; e[$1] = $8 }
	END {
		if (e[weft] != "0") {
			printf "\nverdict: the %s build FAILED (errors: %s); see the lines above\n", weft, e[weft]
			exit
		}
		printf "\nverdict: the same unmodified server held %s connections on %s OS threads under weft (glibc: %s threads)", c[weft], t[weft], t["glibc"]
		if (e["glibc"] == "0" && r["glibc"] + 0 > 0 && k[weft] + 0 > 0)
			printf "; %.2fx glibc'\''s requests/s, %.2fx its memory per connection", r[weft] / r["glibc"], k[weft] / k["glibc"]
		else
			printf "; the glibc build did not complete (%s), so no ratio", e["glibc"]
		printf "\n"
	}'
exit $failed
