#!/bin/sh
# tests/load.sh N CMD [ARG...]: run CMD with N CPU-bound processes beside
# it, as `make check LOAD=N` does, to show the tests that depend on
# timing (a sleep taken for synchronisation, a deadline, a rate) rather
# than on behaviour.  The spinners are stopped when CMD ends, fails or is
# interrupted (INT, TERM, HUP), and each also stops by itself once this
# shell is gone (even if it was SIGKILLed).  N = 0 runs CMD alone.
# Exit status: CMD's; 2 for a bad N.
set -u

[ $# -ge 2 ] || { echo "usage: $0 N CMD [ARG...]" >&2; exit 2; }
n=$1
shift
case $n in
''|*[!0-9]*) echo "load.sh: LOAD must be a number of processes, not '$n'" >&2; exit 2 ;;
esac

pids=
stop() {
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill $pids 2>/dev/null
	# shellcheck disable=SC2086
	wait $pids 2>/dev/null
	echo "load: stopped the $n CPU-bound process(es)"
	pids=
}
trap stop EXIT
trap 'stop; trap - INT; kill -INT $$' INT
trap 'stop; trap - TERM; kill -TERM $$' TERM
trap 'stop; trap - HUP; kill -HUP $$' HUP

# A spinner: pure shell arithmetic (no system calls) in 20,000-step
# rounds, checking between rounds that this shell ($0 in it) still runs.
i=0
while [ "$i" -lt "$n" ]; do
	sh -c 'while kill -0 "$0" 2>/dev/null; do
		j=0; while [ "$j" -lt 20000 ]; do j=$((j + 1)); done
	done' "$$" &
	pids="$pids $!"
	i=$((i + 1))
done
[ -z "$pids" ] || echo "load: $n CPU-bound process(es) running beside: $* (pids$pids)"

"$@"
rc=$?
stop
exit "$rc"
