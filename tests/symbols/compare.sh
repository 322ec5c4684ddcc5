#!/bin/sh
# compare.sh WEFT_LIB STOCK_LIB: compare the public symbols of weft's
# libc.a or libc.so with stock musl's.  Prints "symbols: N public, same"
# or every difference ("+ name type": only weft; "- name type": only
# stock musl) and exits 1 on any difference not listed in allowed.txt.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
w=$(mktemp) s=$(mktemp)
trap 'rm -f "$w" "$s"' EXIT
sh "$here/public-symbols.sh" "$1" > "$w"
sh "$here/public-symbols.sh" "$2" > "$s"
allowed=$(grep -v '^#' "$here/allowed.txt" 2>/dev/null | awk '{print $1}' | tr '\n' ' ')
bad=0
diff "$s" "$w" | sed -n 's/^> /+ /p; s/^< /- /p' > "$w.diff" || :
while read -r sign name type; do
	case " $allowed " in
	*" $name "*) echo "allowed: $sign $name $type" ;;
	*) echo "DIFFERENCE: $sign $name $type"; bad=1 ;;
	esac
done < "$w.diff"
rm -f "$w.diff"
[ $bad = 0 ] && echo "symbols: $(wc -l < "$w") public in $(basename "$1"), same as stock musl's" ||
	echo "symbols: $(basename "$1") differs from stock musl's"
exit $bad
