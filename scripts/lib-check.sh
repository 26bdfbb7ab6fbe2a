#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# libcachepeer's ABI and installation:
# - the shared library exports exactly the functions in
#   lib/libcachepeer.symbols (the version script hides the rest), each at
#   version CACHEPEER_0, under the soname libcachepeer.so.0, and the public
#   header declares each of them;
# - installed into a staging root, the example builds from the header and
#   the pkg-config file alone, and links libcachepeer.so.0.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
lib=$top/lib
so=$lib/libcachepeer.so.0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only "$so" | awk '$2 == "T" {print $3}' | sort >"$tmp/exported"
sed 's/@@CACHEPEER_0$//' "$tmp/exported" >"$tmp/names"
if ! diff -u "$lib/libcachepeer.symbols" "$tmp/names"; then
	echo "lib-check: libcachepeer.so.0 exports other functions than lib/libcachepeer.symbols" >&2
	exit 1
fi
if grep -v '@@CACHEPEER_0$' "$tmp/exported"; then
	echo "lib-check: symbols above are not at version CACHEPEER_0" >&2
	exit 1
fi
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libcachepeer.so.0 ] || {
	echo "lib-check: soname '$soname', not libcachepeer.so.0" >&2
	exit 1
}
while read -r sym; do
	grep -Eq "^[a-z].*[ *]$sym\(" "$lib/include/cachepeer/client.h" || {
		echo "lib-check: $sym is exported but not declared in <cachepeer/client.h>" >&2
		exit 1
	}
done <"$lib/libcachepeer.symbols"

make -s -C "$lib" install DESTDIR="$tmp/root" PREFIX=/usr LIBDIR=/usr/lib/x86_64-linux-gnu >/dev/null
# The header alone: no kernel header, nothing from this tree.
export PKG_CONFIG_PATH=$tmp/root/usr/lib/x86_64-linux-gnu/pkgconfig PKG_CONFIG_SYSROOT_DIR=$tmp/root
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -o "$tmp/cpfetch" "$top/examples/cpfetch.c" \
	$(pkg-config --cflags --libs cachepeer)
readelf -d "$tmp/cpfetch" | grep -q 'NEEDED.*\[libcachepeer.so.0\]' || {
	echo "lib-check: the example does not link libcachepeer.so.0" >&2
	exit 1
}
echo "lib-check: $(wc -l <"$lib/libcachepeer.symbols") symbols at CACHEPEER_0, soname libcachepeer.so.0, the example builds from the installed header and cachepeer.pc"
