#!/bin/sh
# debsrc.sh PACKAGE VERSION-PREFIX DESTDIR
#
# Download the Debian source package PACKAGE, in the newest version that
# starts with VERSION-PREFIX, into DESTDIR (its .dsc, orig tarball and
# Debian changes; nothing is unpacked).  Uses a private apt state under
# DESTDIR/.apt so the system's apt configuration is never changed: the
# deb-src entries are derived at run time from the machine's own Debian
# "deb" entries (same mirrors, same suites, same keys).  If those suites
# lack the version, the same mirrors are asked for the suite named by
# DEBSRC_FALLBACK_SUITES (default: bookworm, the release that ships
# musl 1.2.3).  Needs apt-get (Debian package apt); run as root or as a
# user that may write DESTDIR.
set -eu

die() { printf 'debsrc: %s\n' "$*" >&2; exit 1; }

[ $# -eq 3 ] || die "usage: debsrc.sh PACKAGE VERSION-PREFIX DESTDIR"
pkg=$1 ver=$2 dest=$3
command -v apt-get >/dev/null 2>&1 ||
	die "apt-get not found: install Debian's 'apt' package, or give the source yourself (configure --musl-src=)"

mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
st=$dest/.apt
rm -rf "$st"
mkdir -p "$st/lists/partial" "$st/cache/archives/partial" "$st/sources.list.d"

codename=$(. /etc/os-release 2>/dev/null && printf '%s' "${VERSION_CODENAME:-}")

# deb822 (*.sources) paragraphs whose Types include "deb" become deb-src
# paragraphs; one-line "deb URI SUITE COMPONENTS" entries become "deb-src".
# Only Debian suites of this release are kept (codename, -updates,
# -security), which leaves out third-party repositories.
derive() {
	suites_re="^($codename|$codename-updates|$codename-security$1)\$"
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v re="$suites_re" -v extra="$1" -v cn="$codename" '
		function flush() {
			if (isdeb && uris != "" && suites != "") {
				print "Types: deb-src"; print "URIs: " uris
				print "Suites: " suites; print "Components: " comps
				if (signed != "") print "Signed-By: " signed
				print ""
			}
			isdeb = 0; uris = suites = comps = signed = ""
		}
		/^[ \t]*$/ { flush(); next }
		/^#/ { next }
		/^Types:/ { isdeb = ($0 ~ /[ \t]deb([ \t]|$)/) }
		/^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
		/^Components:/ { sub(/^Components:[ \t]*/, ""); comps = $0 }
		/^Signed-By:/ { sub(/^Signed-By:[ \t]*/, ""); signed = $0 }
		/^Suites:/ {
			sub(/^Suites:[ \t]*/, ""); n = split($0, s, /[ \t]+/)
			for (i = 1; i <= n; i++) if (s[i] ~ re) suites = suites " " s[i]
			# A fallback suite is asked of the main archive only (the
			# paragraph that lists the bare codename): the security
			# archive names its suites CODENAME-security.
			if (extra != "" && (suites " ") ~ (" " cn " ")) suites = suites " " substr(extra, 2)
		}
		END { flush() }' "$f"
	done > "$st/sources.list.d/derived.sources"
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v re="$suites_re" -v extra="$1" -v cn="$codename" '$1 == "deb" {
			i = 1; if ($2 ~ /^\[/) { i = 2; while ($i !~ /\]$/) i++ }
			if ($(i + 2) ~ re) { $1 = "deb-src"; print
				if (extra != "" && $(i + 2) == cn) { $(i + 2) = substr(extra, 2); print } } }' "$f"
	done > "$st/sources.list.d/derived.list"
	[ -s "$st/sources.list.d/derived.sources" ] || [ -s "$st/sources.list.d/derived.list" ] ||
		die "no Debian 'deb' entries for '$codename' in /etc/apt to derive deb-src from; give the source yourself (configure --musl-src=)"
}

apt() {
	apt-get -q -o Dir::Etc::SourceList=/dev/null \
		-o Dir::Etc::SourceParts="$st/sources.list.d" \
		-o Dir::State::Lists="$st/lists" -o Dir::Cache="$st/cache" \
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root "$@"
}

pick() {
	apt update >"$st/update.log" 2>&1 ||
		die "apt-get update with derived deb-src entries failed (see $st/update.log)"
	apt-cache -o Dir::Etc::SourceList=/dev/null \
		-o Dir::Etc::SourceParts="$st/sources.list.d" \
		-o Dir::State::Lists="$st/lists" -o Dir::Cache="$st/cache" \
		showsrc "$pkg" 2>/dev/null |
		sed -n 's/^Version: //p' | grep "^$ver" | sort -rV | head -n 1
}

derive ""
v=$(pick)
if [ -z "$v" ]; then
	for s in ${DEBSRC_FALLBACK_SUITES-bookworm}; do
		[ "$s" = "$codename" ] && continue
		derive "|$s"
		v=$(pick)
		[ -n "$v" ] && break
	done
fi
[ -n "$v" ] || die "Debian source package $pkg $ver* not found in this machine's Debian suites"
cd "$dest"
apt source --download-only "$pkg=$v" >"$st/source.log" 2>&1 ||
	die "apt-get source $pkg=$v failed (see $st/source.log)"
printf '%s\n' "$v"
