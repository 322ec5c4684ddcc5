#!/bin/sh
# public-symbols.sh LIB: print the public symbols LIB defines, one
# "NAME TYPE" per line, sorted.  For an archive: the GLOBAL and WEAK
# symbols of DEFAULT visibility defined in any member (hidden ones are
# libc-internal even though nm lists them); for a shared object: its
# dynamic symbol table.
set -eu
lib=$1
case "$lib" in
*.a)	readelf -W --syms "$lib" | awk '
		$5 ~ /^(GLOBAL|WEAK)$/ && $6 == "DEFAULT" && $7 != "UND" && NF >= 8 {
			print $8, $4 }' ;;
*)	readelf -W --dyn-syms "$lib" | awk '
		$5 ~ /^(GLOBAL|WEAK)$/ && $6 == "DEFAULT" && $7 != "UND" && NF >= 8 {
			print $8, $4 }' ;;
esac | LC_ALL=C sort -u
