#!/bin/sh
# tests/toolchain/run.sh BUILD PAL PREFIX OUTDIR: weft as a user's build
# meets it, from an installed copy.
#
#   install     `make install prefix=PREFIX` in the build directory BUILD
#               (backend PAL) installs weft-gcc, libc, the CMake toolchain
#               file, the meson cross file, weft.pc and the loader's path;
#               an M:N build's gdb script too, named by the installed
#               libc's .debug_gdb_scripts at PREFIX
#   backend     weft-gcc --version and -print-weft-backend name PAL; the
#               programs it links, libc.so and libc.a carry the note
#               "weft backend: PAL"
#   triplet     -dumpmachine, -print-multiarch and the triplet a configure
#               script works out from the preprocessor (as CPython's does)
#               are all x86_64-linux-musl
#   search      -print-file-name=libc.so|libc.a|libpthread.a and
#               -print-search-dirs name weft's files, never glibc's
#   glibc       linking refuses glibc's library directories (-L, -Wl,-L,
#               -rpath), a library that needs libc.so.6 and a static
#               archive compiled against glibc's headers, saying to
#               rebuild it; a library built with weft-gcc links and runs;
#               glibc's header directories (-I, -isystem) are refused
#   c++         a C++ source or -lstdc++ is refused: C++ is not supported
#   cmake       a small threaded project (tests/toolchain/project: a
#               shared library and a program) built with the toolchain
#               file; installed into PREFIX, the program finds the library
#               through the loader's path file, with no RPATH
#   meson       the same project with the cross file, and `meson test`
#   pkg-config  the same program with weft.pc's cc, cflags and libs,
#               static and dynamic
#   uninstall   `make uninstall prefix=PREFIX` leaves nothing behind
#
# A tool that is not installed (cmake, meson or ninja, pkg-config) skips
# its test and says so.  Output: "PASS name", "FAIL name: why" (and where
# its log is), "SKIP name: why"; then
#   toolchain: N passed, M failed, K skipped
# Exit status 1 if any test failed.  env: MAKE (the make to install with).
set -u
[ $# -eq 4 ] || { echo "usage: $0 BUILD PAL PREFIX OUTDIR" >&2; exit 2; }
build=$1 pal=$2 prefix=$3
make=${MAKE:-make}
src=$(cd "$(dirname "$0")" && pwd)
proj=$src/project
rm -rf "$4" && mkdir -p "$4" && out=$(cd "$4" && pwd) || exit 2
wg=$prefix/bin/weft-gcc
expect="16 threads, tally 136000"
triplet=x86_64-linux-musl
npass=0 nfail=0 nskip=0

pass() { npass=$((npass + 1)); echo "PASS $1"; }
skip() { nskip=$((nskip + 1)); echo "SKIP $1: skipped: $2"; }
# fail NAME WHY [LOG]
fail() {
	nfail=$((nfail + 1))
	echo "FAIL $1: $2"
	if [ $# -ge 3 ] && [ -s "$3" ]; then
		echo "    log $3:"
		tail -n 30 "$3" | sed 's/^/    /'
	fi
}
# run_prog NAME PROG LOG: PROG must print $expect and exit 0.
run_prog() {
	o=$(timeout -k 5 60 "$2" 2>>"$3")
	rc=$?
	[ $rc -eq 0 ] && [ "$o" = "$expect" ] && return 0
	fail "$1" "$2 printed '$o' (exit $rc), expected '$expect'" "$3"
	return 1
}
# interp PROG: the program interpreter (dynamic loader) PROG names.
interp() { LC_ALL=C readelf -l "$1" 2>/dev/null | sed -n 's/.*program interpreter: \(.*\)]$/\1/p'; }
# dynamic_ok NAME PROG LOG: PROG must be loaded by weft's installed libc.so.
dynamic_ok() {
	i=$(interp "$2")
	[ "$i" = "$prefix/lib/libc.so" ] && return 0
	fail "$1" "$2's loader is '$i', not $prefix/lib/libc.so" "$3"
	return 1
}

# ---- install
log=$out/install.log
if ! $make --no-print-directory -C "$build" install prefix="$prefix" >"$log" 2>&1; then
	fail install "make install prefix=$prefix failed" "$log"
	echo "toolchain: $npass passed, $nfail failed, $nskip skipped"
	exit 1
fi
missing=
for f in bin/weft-gcc lib/libc.so lib/libc.a lib/Scrt1.o lib/weft-gcc.specs \
	lib/pkgconfig/weft.pc share/weft/toolchain.cmake share/weft/meson-cross.ini \
	include/pthread.h etc/ld-musl-x86_64.path; do
	[ -f "$prefix/$f" ] || missing="$missing $f"
done
# An M:N build's gdb script, which the installed libc's .debug_gdb_scripts
# entry must name at this prefix, whatever prefix configure was given.
gdbpy=
if [ -f "$build/share/weft/gdb/weft-gdb.py" ]; then
	gdbpy=$prefix/share/weft/gdb/weft-gdb.py
	[ -f "$gdbpy" ] || missing="$missing share/weft/gdb/weft-gdb.py"
fi
if [ -n "$missing" ]; then
	fail install "not installed:$missing" "$log"
elif [ "$(cat "$prefix/etc/ld-musl-x86_64.path")" != "$prefix/lib" ]; then
	fail install "etc/ld-musl-x86_64.path says '$(cat "$prefix/etc/ld-musl-x86_64.path")', not $prefix/lib"
elif [ -n "$gdbpy" ] && ! LC_ALL=C readelf -p .debug_gdb_scripts "$prefix/lib/libc.so" | grep -qF "$gdbpy"; then
	fail install "the installed libc.so's .debug_gdb_scripts does not name $gdbpy"
else
	pass install
fi

# ---- backend
log=$out/backend.log
d=$out/backend
mkdir -p "$d"
ok=1
v=$("$wg" --version 2>>"$log" | sed -n 2p)
case $v in "weft backend: $pal "*) ;; *) ok=0; fail backend "weft-gcc --version's second line is '$v'" ;; esac
b=$("$wg" -print-weft-backend 2>>"$log")
[ "$b" = "$pal" ] || { ok=0; fail backend "weft-gcc -print-weft-backend printed '$b', not $pal"; }
if "$wg" -O2 -pthread -I"$proj" -o "$d/static" -static "$proj/threads.c" "$proj/tally.c" >>"$log" 2>&1 &&
	"$wg" -O2 -pthread -I"$proj" -o "$d/dynamic" "$proj/threads.c" "$proj/tally.c" >>"$log" 2>&1; then
	for f in "$d/static" "$d/dynamic" "$prefix/lib/libc.so" "$prefix/lib/libc.a"; do
		strings -a "$f" | grep -q "^weft backend: $pal (" ||
			{ ok=0; fail backend "no 'weft backend: $pal' in $f"; }
	done
	LC_ALL=C readelf -n "$d/static" | grep -q '^ *weft ' ||
		{ ok=0; fail backend "readelf -n $d/static shows no weft note"; }
	run_prog backend "$d/static" "$log" && run_prog backend "$d/dynamic" "$log" &&
		dynamic_ok backend "$d/dynamic" "$log" || ok=0
else
	ok=0; fail backend "weft-gcc could not build tests/toolchain/project/threads.c" "$log"
fi
[ $ok = 1 ] && pass backend

# ---- triplet: CPython's configure compares these.
log=$out/triplet.log
cat >"$out/triplet.c" <<'EOF'
#include <features.h>
#undef linux
#if defined(__linux__) && defined(__x86_64__) && defined(__LP64__)
# if defined(__GLIBC__)
x86_64-linux-gnu
# else
x86_64-linux-musl
# endif
#endif
EOF
m=$("$wg" -dumpmachine 2>>"$log") a=$("$wg" -print-multiarch 2>>"$log")
a2=$("$wg" --print-multiarch 2>>"$log")
p=$("$wg" -E "$out/triplet.c" 2>>"$log" | grep -v '^#' | tr -d ' \n')
if [ "$m" = $triplet ] && [ "$a" = $triplet ] && [ "$a2" = $triplet ] && [ "$p" = $triplet ]; then
	pass triplet
else
	fail triplet "-dumpmachine '$m', -print-multiarch '$a', --print-multiarch '$a2', preprocessor '$p': all must be $triplet" "$log"
fi

# ---- search
log=$out/search.log
ok=1
for f in libc.so libc.a libpthread.a crt1.o; do
	r=$("$wg" -print-file-name=$f 2>>"$log")
	[ "$r" = "$prefix/lib/$f" ] || { ok=0; fail search "-print-file-name=$f printed '$r', not $prefix/lib/$f"; }
done
r=$("$wg" -print-file-name=libc.so.6 2>>"$log")
[ "$r" = libc.so.6 ] || { ok=0; fail search "-print-file-name=libc.so.6 printed '$r' (weft has none: gcc's answer for a missing file is the bare name)"; }
r=$("$wg" -print-file-name=libgcc.a 2>>"$log")
[ -f "$r" ] || { ok=0; fail search "-print-file-name=libgcc.a printed '$r', not gcc's libgcc.a"; }
libs=$("$wg" -print-search-dirs 2>>"$log" | sed -n 's/^libraries: =//p')
case $libs in
"$prefix/lib/:"*) ;;
*) ok=0; fail search "-print-search-dirs: libraries: =$libs does not start with $prefix/lib/" ;;
esac
IFS=:
for l in $libs; do
	c=$(cd "$l" 2>/dev/null && pwd -P) || continue
	for g in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib64 /usr/lib64; do
		[ "$c" = "$(cd "$g" 2>/dev/null && pwd -P)" ] &&
			{ ok=0; fail search "-print-search-dirs names glibc's $l"; }
	done
done
unset IFS
[ $ok = 1 ] && pass search

# ---- glibc: refused, with the reason; a library built with weft-gcc is not.
log=$out/glibc.log
d=$out/glibc
mkdir -p "$d/glibc" "$d/weft"
ok=1
# refused NAME WHAT ARGS...: weft-gcc ARGS must fail, saying WHAT and "rebuild".
refused() {
	what=$1
	shift
	if "$wg" -o "$d/prog" "$@" >"$d/err" 2>&1; then
		ok=0; fail glibc "weft-gcc $* linked"
	elif ! grep -q "$what" "$d/err" || ! grep -q 'rebuild the library' "$d/err"; then
		ok=0; fail glibc "weft-gcc $*: the message does not say '$what' and to rebuild" "$d/err"
	fi
	cat "$d/err" >>"$log"
}
printf '#include <stdio.h>\nint glibc_dep(void) { char b[8]; return snprintf(b, sizeof b, "%%d", 1); }\n' >"$d/dep.c"
for g in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib64 /usr/lib/x86_64-linux-gnu/; do
	refused "glibc's library directory" -L"$g" "$d/dep.c"
done
refused "glibc's library directory" -Wl,-L,/usr/lib/x86_64-linux-gnu "$d/dep.c"
refused "glibc's library directory" -Wl,-rpath,/lib/x86_64-linux-gnu "$d/dep.c"
# A shared library linked against glibc: by -l, and by path.
if ${CC:-gcc} -shared -fPIC -o "$d/glibc/libglibcdep.so" "$d/dep.c" >>"$log" 2>&1; then
	printf 'int glibc_dep(void);\nint main(void) { return !glibc_dep(); }\n' >"$d/main.c"
	refused "needs glibc's libc.so.6" "$d/main.c" -L"$d/glibc" -lglibcdep
	refused "needs glibc's libc.so.6" "$d/main.c" "$d/glibc/libglibcdep.so"
	# The same library rebuilt with weft-gcc links, and runs.
	if "$wg" -shared -fPIC -o "$d/weft/libglibcdep.so" "$d/dep.c" >>"$log" 2>&1 &&
		"$wg" -o "$d/prog" "$d/main.c" -L"$d/weft" -lglibcdep >>"$log" 2>&1; then
		LD_LIBRARY_PATH=$d/weft timeout -k 5 60 "$d/prog" >>"$log" 2>&1 ||
			{ ok=0; fail glibc "$d/prog, linked with a library built by weft-gcc, failed" "$log"; }
	else
		ok=0; fail glibc "weft-gcc refused a library it built itself" "$log"
	fi
else
	ok=0; fail glibc "${CC:-gcc} could not build a glibc shared library" "$log"
fi
# A static archive compiled against glibc's headers (its C99 sscanf is
# __isoc99_sscanf), by -l and by path; the same source built by weft-gcc
# links.
printf '#include <stdio.h>\nint glibc_dep(void) { int x = 0; sscanf("1", "%%d", &x); return x; }\n' >"$d/sdep.c"
if ${CC:-gcc} -O2 -c -o "$d/glibc/sdep.o" "$d/sdep.c" >>"$log" 2>&1 &&
	ar rc "$d/glibc/libsdep.a" "$d/glibc/sdep.o" >>"$log" 2>&1; then
	printf 'int glibc_dep(void);\nint main(void) { return !glibc_dep(); }\n' >"$d/main.c"
	refused "compiled for glibc" "$d/main.c" -L"$d/glibc" -lsdep
	refused "compiled for glibc" "$d/main.c" "$d/glibc/libsdep.a"
	if ! { "$wg" -O2 -c -o "$d/weft/sdep.o" "$d/sdep.c" &&
		ar rc "$d/weft/libsdep.a" "$d/weft/sdep.o" &&
		"$wg" -o "$d/prog" "$d/main.c" -L"$d/weft" -lsdep && "$d/prog"; } >>"$log" 2>&1; then
		ok=0; fail glibc "weft-gcc refused, or mislinked, a static library it built itself" "$log"
	fi
else
	ok=0; fail glibc "${CC:-gcc} could not build a glibc static library" "$log"
fi
# glibc's header directories (a library's subdirectory is fine).
for a in -I/usr/include "-I /usr/include/x86_64-linux-gnu" "-isystem /usr/include"; do
	# shellcheck disable=SC2086
	if "$wg" $a -c -o "$d/x.o" "$d/main.c" >"$d/err" 2>&1 ||
		! grep -q "glibc's header directory" "$d/err"; then
		ok=0; fail glibc "weft-gcc $a did not refuse glibc's headers" "$d/err"
	fi
	cat "$d/err" >>"$log"
done
"$wg" -I/usr/include/nonexistent-lib -c -o "$d/x.o" "$d/main.c" >>"$log" 2>&1 ||
	{ ok=0; fail glibc "weft-gcc refused a header directory that is not glibc's" "$log"; }
[ $ok = 1 ] && pass glibc

# ---- c++
log=$out/cxx.log
ok=1
printf 'int main() { return 0; }\n' >"$out/prog.cc"
for args in "-c $out/prog.cc" "-o $out/prog $out/prog.cc" "-x c++ -c $out/triplet.c" \
	"-o $out/prog $out/triplet.c -lstdc++"; do
	# shellcheck disable=SC2086
	if "$wg" $args >"$out/err" 2>&1; then
		ok=0; fail c++ "weft-gcc $args succeeded"
	elif ! grep -q 'C++ is not supported yet' "$out/err"; then
		ok=0; fail c++ "weft-gcc $args: the message does not say 'C++ is not supported yet'" "$out/err"
	fi
	cat "$out/err" >>"$log"
done
[ $ok = 1 ] && pass c++

# ---- cmake
log=$out/cmake.log
d=$out/cmake
if ! command -v cmake >/dev/null 2>&1; then
	skip cmake "cmake not installed"
elif ! cmake -S "$proj" -B "$d" -DCMAKE_TOOLCHAIN_FILE="$prefix/share/weft/toolchain.cmake" \
		-DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_BUILD_TYPE=Release >"$log" 2>&1 ||
	! cmake --build "$d" >>"$log" 2>&1; then
	fail cmake "cmake with $prefix/share/weft/toolchain.cmake could not build tests/toolchain/project" "$log"
elif run_prog cmake "$d/weft-threads" "$log" && dynamic_ok cmake "$d/weft-threads" "$log"; then
	# Installed, with no RPATH: the library is found through the loader's
	# path file, $prefix/etc/ld-musl-x86_64.path.
	if ! cmake --install "$d" >>"$log" 2>&1; then
		fail cmake "cmake --install failed" "$log"
	elif LC_ALL=C readelf -d "$prefix/bin/weft-threads" | grep -q 'R.*PATH'; then
		fail cmake "the installed $prefix/bin/weft-threads has an RPATH or RUNPATH" "$log"
	elif run_prog cmake "$prefix/bin/weft-threads" "$log"; then
		pass cmake
	fi
	[ -f "$d/install_manifest.txt" ] && xargs rm -f <"$d/install_manifest.txt"
fi

# ---- meson
log=$out/meson.log
d=$out/meson
if ! command -v meson >/dev/null 2>&1; then
	skip meson "meson not installed"
elif ! command -v ninja >/dev/null 2>&1; then
	skip meson "ninja not installed (meson needs it)"
elif ! meson setup --cross-file "$prefix/share/weft/meson-cross.ini" "$d" "$proj" >"$log" 2>&1 ||
	! ninja -C "$d" >>"$log" 2>&1; then
	fail meson "meson with $prefix/share/weft/meson-cross.ini could not build tests/toolchain/project" "$log"
elif run_prog meson "$d/weft-threads" "$log" && dynamic_ok meson "$d/weft-threads" "$log"; then
	if meson test -C "$d" >>"$log" 2>&1; then
		pass meson
	else
		fail meson "meson test failed (the cross file says no exe_wrapper is needed)" "$log"
	fi
fi

# ---- pkg-config
log=$out/pkg-config.log
d=$out/pkg-config
mkdir -p "$d"
if ! command -v pkg-config >/dev/null 2>&1; then
	skip pkg-config "pkg-config not installed"
else
	pc() { PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig pkg-config "$@" 2>>"$log"; }
	cc=$(pc --variable=cc weft) cflags=$(pc --cflags weft) libs=$(pc --libs weft)
	if [ "$cc" != "$wg" ]; then
		fail pkg-config "pkg-config --variable=cc weft printed '$cc', not $wg" "$log"
	elif [ "$(pc --variable=backend weft)" != "$pal" ]; then
		fail pkg-config "pkg-config --variable=backend weft is not $pal" "$log"
	# shellcheck disable=SC2086
	elif ! $cc $cflags -I"$proj" -o "$d/static" -static "$proj/threads.c" "$proj/tally.c" $libs >>"$log" 2>&1 ||
		! $cc $cflags -I"$proj" -o "$d/dynamic" "$proj/threads.c" "$proj/tally.c" $libs >>"$log" 2>&1; then
		fail pkg-config "weft.pc's cc, cflags and libs could not build tests/toolchain/project" "$log"
	elif run_prog pkg-config "$d/static" "$log" && run_prog pkg-config "$d/dynamic" "$log" &&
		dynamic_ok pkg-config "$d/dynamic" "$log"; then
		pass pkg-config
	fi
fi

# ---- uninstall
log=$out/uninstall.log
if ! $make --no-print-directory -C "$build" uninstall prefix="$prefix" >"$log" 2>&1; then
	fail uninstall "make uninstall prefix=$prefix failed" "$log"
elif [ -e "$prefix" ]; then
	find "$prefix" >>"$log"
	fail uninstall "make uninstall left files under $prefix" "$log"
else
	pass uninstall
fi

echo "toolchain: $npass passed, $nfail failed, $nskip skipped"
[ $nfail -eq 0 ]
