# tests/corpus/lib.sh: helpers shared by the corpus recipes (sourced).
#
# The driver (run.sh) sets:
#   CORPUS     tests/corpus/ in the source tree
#   CO         the output directory (obj/corpus, absolute)
#   WEFT_CC    the epoll build's weft-gcc (M:N), absolute
#   GLIBC_CC   the system gcc (glibc), the reference
#   TSAMPLE    the measuring tool (tsample.c, built with GLIBC_CC)
#   RAW        the file results are appended to
#   JOBS       make -j for the programs' own builds
#
# A recipe builds its program once per variant, "weft" and "glibc", into
# $CO/PROG/VARIANT, runs it under `measure`, and records one line per test
# with `record`.

set -u

VARIANTS="weft glibc"

log() { printf 'corpus: %s\n' "$*" >&2; }

# cc_of VARIANT: the compiler command of a variant.  weft is static (the
# M:N build and libc.a); glibc is the system gcc, dynamic, as usual.
cc_of() {
	case $1 in
	weft) printf '%s -static' "$WEFT_CC" ;;
	glibc) printf '%s' "$GLIBC_CC" ;;
	esac
}

# fetch PKG VERSION-PREFIX ORIG SHA256 [FALLBACK-SUITES]
# Downloads Debian's source package PKG into $CO/dl/PKG with
# tools/debsrc.sh, checks every file against the sha256 and size that the
# .dsc lists, and the orig tarball ORIG against SHA256 pinned in the
# recipe (as configure pins musl's).  Prints the orig tarball's path.
# Done once: a verified tarball is kept.
fetch() (
	pkg=$1 ver=$2 orig=$3 sum=$4 fb=${5-}
	d=$CO/dl/$pkg
	if [ -f "$d/$orig.ok" ] && [ -f "$d/$orig" ]; then
		printf '%s\n' "$d/$orig"
		return 0
	fi
	rm -rf "$d" && mkdir -p "$d"
	log "$pkg: fetching Debian source package $pkg $ver"
	v=$(DEBSRC_FALLBACK_SUITES=${fb:-bookworm} sh "$CORPUS/../../tools/debsrc.sh" "$pkg" "$ver" "$d") || {
		log "$pkg: debsrc.sh failed"
		return 1
	}
	dsc=$(ls "$d"/*.dsc 2>/dev/null | head -n 1)
	[ -n "$dsc" ] || { log "$pkg: no .dsc downloaded"; return 1; }
	# Checksums-Sha256: lines " SUM SIZE NAME" up to the next field.
	awk '/^Checksums-Sha256:/ { on = 1; next } /^[^ ]/ { on = 0 } on && NF == 3 { print }' "$dsc" > "$d/sums"
	[ -s "$d/sums" ] || { log "$pkg: $dsc lists no sha256 checksums"; return 1; }
	while read -r s n f; do
		[ -f "$d/$f" ] || { log "$pkg: $f (listed in the .dsc) was not downloaded"; return 1; }
		got=$(sha256sum "$d/$f" | cut -d' ' -f1)
		size=$(wc -c < "$d/$f")
		[ "$got" = "$s" ] && [ "$size" -eq "$n" ] || {
			log "$pkg: $f: sha256 $got size $size, but the .dsc says $s size $n"
			return 1
		}
	done < "$d/sums"
	got=$(sha256sum "$d/$orig" | cut -d' ' -f1)
	[ "$got" = "$sum" ] || {
		log "$pkg: $orig: sha256 $got, expected $sum (pinned in the recipe)"
		return 1
	}
	log "$pkg: Debian $v, $orig sha256 $got OK (and every file matches the .dsc)"
	: > "$d/$orig.ok"
	printf '%s\n' "$d/$orig"
)

# unpack TARBALL DIR: a fresh copy of the source in DIR.
unpack() {
	rm -rf "$2" && mkdir -p "$2" &&
	tar -xf "$1" -C "$2" --strip-components=1
}

# measure OUT TIMEOUT [-n NAME] -- CMD...: run CMD under tsample with its
# output in OUT.log and the measurement in OUT.m; returns CMD's status.
measure() {
	_m_out=$1 _m_to=$2
	shift 2
	_m_nm=
	if [ "$1" = -n ]; then _m_nm="-n $2"; shift 2; fi
	[ "$1" = -- ] && shift
	# shellcheck disable=SC2086
	"$TSAMPLE" -t "$_m_to" $_m_nm -o "$_m_out.m" -- "$@" > "$_m_out.log" 2>&1
}

# mfield OUT KEY: a field of OUT.m (rc, wall, threads, timeout).
mfield() { tr ' ' '\n' < "$1.m" 2>/dev/null | sed -n "s/^$2=//p"; }

# record TEST VARIANT BUILD PASSED FAILED OUT [NOTE]: one result line.
# BUILD is ok or fail; OUT is the measure prefix (wall time and threads
# come from OUT.m; "-" when it was not run).
record() {
	_r_note=${7-} _r_w=- _r_th=- _r_to=
	if [ -f "$6.m" ]; then
		_r_w=$(mfield "$6" wall) _r_th=$(mfield "$6" threads) _r_to=$(mfield "$6" timeout)
	fi
	[ -n "$_r_to" ] && _r_note="timeout${_r_note:+; $_r_note}"
	printf '%s|%s|%s|%s|%s|%s|%s|%s\n' "$1" "$2" "$3" "$4" "$5" "$_r_w" "$_r_th" "$_r_note" >> "$RAW"
}

# need CMD DEBIAN-PACKAGE: make sure CMD exists, installing the package
# with apt-get when root; fails otherwise.
need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		log "installing Debian package $2 (for $1)"
		# On a fresh machine the package lists may be empty: update once.
		{ DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$2" ||
		  { apt-get update -q && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q --no-install-recommends "$2"; }; } \
			> "$CO/apt-$2.log" 2>&1 && command -v "$1" >/dev/null 2>&1 && return 0
	fi
	log "$1 not found: apt-get install $2"
	return 1
}

# median OUT RUNS: OUT.m from OUT.1.m .. OUT.RUNS.m: the median wall
# time, the peak threads, the worst rc.
median() (
	o=$1 n=$2 i=1 ws= th=0 rc=0 to=
	while [ $i -le $n ]; do
		[ -f "$o.$i.m" ] || break
		ws="$ws $(mfield "$o.$i" wall)"
		t=$(mfield "$o.$i" threads); [ "$t" -gt "$th" ] && th=$t
		r=$(mfield "$o.$i" rc); [ "$r" -ne 0 ] && rc=$r
		[ -n "$(mfield "$o.$i" timeout)" ] && to=" timeout=1"
		i=$((i + 1))
	done
	w=$(printf '%s\n' $ws | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
	printf 'rc=%s wall=%s threads=%s%s\n' $rc "$w" $th "$to" > "$o.m"
)

