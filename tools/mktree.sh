#!/bin/sh
# mktree.sh MUSL_SOURCE OVERLAY_DIR TREE
#
# (Re)make TREE: musl's source (a tarball or a tree, copied with its
# timestamps) with every file of OVERLAY_DIR linked in at the same path.
# Overlay files are symbolic links, so editing one rebuilds just its
# objects; the Makefile reruns this script only when the set of overlay
# files or the musl source changes.
set -eu
src=$1 tree=$3
ov=$(cd "$2" && pwd)
new=$tree.new

old=
[ -f "$tree/.overlay" ] && old=$(cat "$tree/.overlay")
rm -rf "$new"
mkdir -p "$new"
if [ -d "$src" ]; then
	cp -pR "$src/." "$new/"
else
	tar -xzf "$src" -C "$new" --strip-components=1
fi
(cd "$ov" && find . -type f ! -name '*.md' | sed 's|^\./||' | LC_ALL=C sort) > "$new/.overlay"
while read -r f; do
	mkdir -p "$(dirname "$new/$f")"
	rm -f "$new/$f"
	ln -s "$ov/$f" "$new/$f"
done < "$new/.overlay"
# A file overlaid before but not now is upstream's again; make it newer
# than the objects built from the overlay version.
for f in $old; do
	grep -qxF "$f" "$new/.overlay" || { [ -e "$new/$f" ] && touch "$new/$f"; } || :
done
rm -rf "$tree"
mv "$new" "$tree"
