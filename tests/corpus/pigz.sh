#!/bin/sh
# tests/corpus/pigz.sh: pigz with zlib, from Debian's source packages.
#
# Both built unmodified (upstream orig tarballs, Debian patches not
# applied) twice: with the M:N weft-gcc (static) and with the system gcc
# (glibc).  zlib is built from the same source for both, so their
# compressed output must be byte-identical.
#
# pigz: bookworm's 2.6's orig tarball is not on the mirrors this machine
# reaches (404), so 2.8 is taken from trixie (tools/debsrc.sh's fallback
# suite).  zlib: bookworm's 1:1.2.13.dfsg-1 (the security update's files
# were also 404 here, and the orig tarball is the same).
#
# Tests, per variant:
#   make test        pigz's own Makefile test (small files, every format)
#   -p 2, -p 16      compress a CORPUS_PIGZ_MIB (default 200) MiB mixed
#                    file (mkdata.c), CORPUS_RUNS (default 3) times; each
#                    run's output must equal glibc's -p 2 output; then
#                    decompress it as many times; each must equal the input.
# Wall time is the median run; threads the peak over the runs.
. "$CORPUS/lib.sh"

P=$CO/pigz
MIB=${CORPUS_PIGZ_MIB:-200}
RUNS=${CORPUS_RUNS:-3}
mkdir -p "$P"

need bzip2 bzip2 || {
	for v in $VARIANTS; do record "pigz: make test" $v fail - - none "no bzip2 to unpack zlib"; done
	exit 0
}
zt=$(fetch zlib '1:1.2.13.dfsg-1$' zlib_1.2.13.dfsg.orig.tar.bz2 \
	71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1) &&
pt=$(fetch pigz '2.8-' pigz_2.8.orig.tar.xz \
	bec34f9d61e28b9b069da9efd53e73d22cd207a4798ed664832dc9b17aa486aa trixie) || {
	for v in $VARIANTS; do record "pigz: fetch" $v fail - - none "source not fetched"; done
	exit 0
}

build() ( # VARIANT
	v=$1 cc=$(cc_of "$1") d=$P/$1
	unpack "$zt" "$d/zlib" && unpack "$pt" "$d/pigz" || return 1
	(cd "$d/zlib" && CC="$cc" CFLAGS=-O2 ./configure --static && make -j"$JOBS" libz.a) \
		> "$d/build.log" 2>&1 &&
	(cd "$d/pigz" && make -j"$JOBS" CC="$cc" \
		CFLAGS="-O3 -Wall -Wno-unknown-pragmas -I$d/zlib" LDFLAGS="-L$d/zlib" pigz) \
		>> "$d/build.log" 2>&1
)

B_weft=fail B_glibc=fail
for v in $VARIANTS; do
	log "pigz: building zlib and pigz ($v)"
	if build $v; then eval B_$v=ok; else log "pigz: $v build failed (see $P/$v/build.log)"; fi
done

# pigz's own `make test`.
for v in $VARIANTS; do
	eval b=\$B_$v
	if [ $b = ok ]; then
		o=$P/$v/maketest
		if measure "$o" 120 -- make -C "$P/$v/pigz" CC="$(cc_of $v)" \
			CFLAGS="-O3 -I$P/$v/zlib" LDFLAGS="-L$P/$v/zlib" test; then
			record "pigz: make test" $v ok 1 0 "$o"
		else
			record "pigz: make test" $v ok 0 1 "$o"
		fi
	else
		record "pigz: make test" $v fail - - none
	fi
done

[ "$B_weft$B_glibc" = failfail ] && exit 0

data=$P/data.bin
if [ ! -s "$data" ] || [ "$(wc -c < "$data")" -ne $((MIB * 1048576)) ]; then
	log "pigz: writing a $MIB MiB mixed file"
	"$GLIBC_CC" -O2 -o "$P/mkdata" "$CORPUS/mkdata.c" && "$P/mkdata" "$MIB" "$data" || exit 1
fi

ref=$P/ref.gz
rm -f "$ref"
for p in 2 16; do
	for v in $VARIANTS; do eval cp_$v=0 cf_$v=0 dp_$v=0 df_$v=0; done
	r=1
	while [ $r -le "$RUNS" ]; do
		# glibc first in run 1: its -p 2 output is the reference.
		for v in glibc weft; do
			eval b=\$B_$v
			[ $b = ok ] || continue
			bin=$P/$v/pigz/pigz out=$P/$v/out-p$p.gz
			log "pigz: -p $p run $r ($v): compress"
			if measure "$P/$v/c$p.$r" 600 -- sh -c "exec '$bin' -p $p -c '$data' > '$out'" &&
				{ [ -f "$ref" ] || cp "$out" "$ref"; } && cmp -s "$out" "$ref"; then
				eval cp_$v=\$\(\(cp_$v + 1\)\)
			else
				eval cf_$v=\$\(\(cf_$v + 1\)\)
				log "pigz: -p $p run $r ($v): compress failed or output differs from glibc's"
			fi
			log "pigz: -p $p run $r ($v): decompress"
			if measure "$P/$v/d$p.$r" 600 -- sh -c "exec '$bin' -d -p $p -c '$out' > '$P/$v/back'" &&
				cmp -s "$P/$v/back" "$data"; then
				eval dp_$v=\$\(\(dp_$v + 1\)\)
			else
				eval df_$v=\$\(\(df_$v + 1\)\)
				log "pigz: -p $p run $r ($v): decompress failed or differs from the input"
			fi
			rm -f "$P/$v/back"
		done
		r=$((r + 1))
	done
	for v in $VARIANTS; do
		eval b=\$B_$v
		if [ $b = ok ]; then
			median "$P/$v/c$p" "$RUNS"
			median "$P/$v/d$p" "$RUNS"
			eval record "'pigz -p $p: compress $MIB MiB'" $v ok \$cp_$v \$cf_$v "$P/$v/c$p"
			eval record "'pigz -p $p: decompress'" $v ok \$dp_$v \$df_$v "$P/$v/d$p"
		else
			record "pigz -p $p: compress $MIB MiB" $v fail - - none
			record "pigz -p $p: decompress" $v fail - - none
		fi
	done
done
rm -f "$P"/*/out-p*.gz
