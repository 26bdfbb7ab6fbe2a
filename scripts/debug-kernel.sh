#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (once, then cached) Debian's 6.12 source with KASAN, lockdep, kmemleak
# and atomic-sleep checking, for "make check-debug". Prints the tree's path.
# The tree is rebuilt when the source version or a config fragment changes.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tree=${CP_DEBUG_TREE:-$top/.cache/linux-debug}
log=$top/.cache/linux-debug.log

say() { printf 'debug-kernel: %s\n' "$*" >&2; }
die() { printf 'debug-kernel: error: %s\n' "$*" >&2; exit 1; }

"$top/scripts/setup.sh" --debug >&2

src_ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
want="$src_ver $(cat "$top/selftests/config" "$top/selftests/debug.config" | sha256sum | cut -c1-16)"
if [ "$(cat "$tree/.cp-stamp" 2>/dev/null)" = "$want" ] &&
   [ -e "$tree/arch/x86/boot/bzImage" ]; then
	echo "$tree"
	exit 0
fi

say "building a debug kernel in $tree (about 25 minutes on 2 cores; log: $log)"
rm -rf "$tree"
mkdir -p "$tree"
tar -xJf /usr/src/linux-source-6.12.tar.xz -C "$tree" --strip-components=1
cd "$tree"
{
	# virtme-ng's minimal guest config, then the tests' needs, then debugging.
	vng --kconfig --configitem CONFIG_LOCALVERSION=\"-cpdebug\"
	scripts/kconfig/merge_config.sh -m .config \
		"$top/selftests/config" "$top/selftests/debug.config"
	make olddefconfig
	# Everything the fragments ask for must have survived olddefconfig.
	missing=0
	for f in "$top/selftests/config" "$top/selftests/debug.config"; do
		while IFS= read -r line; do
			case "$line" in CONFIG_*=y)
				grep -qx "$line" .config || { echo "MISSING $line"; missing=1; } ;;
			esac
		done <"$f"
	done
	[ $missing = 0 ]
	make -j"$(nproc)" bzImage modules
} >"$log" 2>&1 || die "kernel build failed; see $log"
echo "$want" >.cp-stamp
say "done"
echo "$tree"
