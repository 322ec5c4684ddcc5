#!/bin/sh
# run-host.sh: build and run the host-side unit tests of sched/ with the
# system gcc, glibc and Debian's libcmocka-dev; no weft build needed.
#
#  1. Compile every sched/ source as libc would (-std=c99 -ffreestanding
#     -fno-stack-protector -Werror); with MUSL_INCLUDE=<musl include dir>,
#     again against musl's headers only (-nostdinc).
#  2. Build one binary per module (the table below).
#  3. Run every test in its own process under timeout(1).
#
# env: OUT (build dir, default a fresh temporary one), CC (default gcc),
#      TEST_TIMEOUT (seconds per test, default 60)
# Exit status: 0 if everything built and every test passed or skipped.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
sched=$top/sched
here=$top/tests/sched
cc=${CC:-gcc}
tmo=${TEST_TIMEOUT:-60}
out=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/weft-sched.XXXXXX")}
mkdir -p "$out"

if [ ! -f /usr/include/cmocka.h ]; then
	echo "run-host.sh: needs cmocka (apt-get install libcmocka-dev)" >&2
	exit 2
fi

libc_flags="-std=c99 -ffreestanding -fno-stack-protector -O2 \
	-Wall -Wextra -Werror"
for src in "$sched"/*.c "$sched"/*.S; do
	$cc $libc_flags -c "$src" -o "$out/libc-check.o"
	if [ -n "${MUSL_INCLUDE:-}" ]; then
		$cc $libc_flags -nostdinc -isystem "$MUSL_INCLUDE" \
			-D_XOPEN_SOURCE=700 -c "$src" -o "$out/libc-check.o"
	fi
done
rm -f "$out/libc-check.o"
echo "sched/ compiles as libc code${MUSL_INCLUDE:+, with host and musl headers}"

# One line per test binary: its name (tests/sched/NAME.c), then the
# sched/ sources it links.  test_stack includes stack.c itself.
binaries="
test_switch switch_x86_64.S cpu_x86_64.c
test_stack
test_runq runq.c
test_lot lot.c
"
cflags="-std=gnu11 -O2 -g -fno-stack-protector -Wall -Wextra -Werror \
	-Wno-unused-parameter -pthread -I$sched -I$here"
echo "$binaries" | while read -r bin srcs; do
	[ -n "$bin" ] || continue
	set --
	for src in $srcs; do set -- "$@" "$sched/$src"; done
	$cc $cflags -o "$out/$bin" "$here/$bin.c" "$@" -lcmocka -lm
done
names=$(echo "$binaries" | awk 'NF { print $1 }')

pass=0 skip=0 fail=0 failed=
for bin in $names; do
	for t in $("$out/$bin" --list); do
		set +e
		timeout -k 5 "$tmo" "$out/$bin" "$t" >"$out/$bin.$t.log" 2>&1
		rc=$?
		set -e
		if [ $rc -eq 0 ]; then
			grep -v '^\[' "$out/$bin.$t.log" | sed "s/^/$bin $t: /" || :
			if grep -q '^\[  SKIPPED \]' "$out/$bin.$t.log"; then
				skip=$((skip + 1))
				echo "[  SKIPPED ] $bin: $t"
			else
				pass=$((pass + 1))
				echo "[       OK ] $bin: $t"
			fi
		else
			fail=$((fail + 1)) failed="$failed $bin:$t"
			[ $rc -eq 124 ] && why="timed out after ${tmo}s" ||
				why="exit status $rc"
			echo "[  FAILED  ] $bin: $t ($why)"
			sed 's/^/    /' "$out/$bin.$t.log"
		fi
	done
done
echo "[==========] $((pass + skip + fail)) test(s): $pass passed," \
	"$skip skipped, $fail failed${failed:+:$failed}"
[ -z "${OUT:-}" ] && rm -rf "$out"
[ $fail -eq 0 ]
