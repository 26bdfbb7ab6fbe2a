#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cachepeer@.service, as "make install-tool" installs it, passes
# "systemd-analyze verify": directives, dependencies, the commands it runs
# and the man pages it names. The one change before verifying: its
# commands' path points into the staging root, where the tool is.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

make -s -C "$top" install-tool DESTDIR="$tmp/root" PREFIX=/usr >/dev/null
unit=$tmp/root/usr/lib/systemd/system/cachepeer@.service
grep -q "^ExecStart=/usr/sbin/cachepeerctl up %i$" "$unit" || {
	echo "unit-check: $unit does not run /usr/sbin/cachepeerctl up" >&2
	exit 1
}
sed "s|=/usr/sbin/|=$tmp/root/usr/sbin/|" "$unit" >"$tmp/cachepeer@n1.service"
out=$(MANPATH=$tmp/root/usr/share/man systemd-analyze verify "$tmp/cachepeer@n1.service" 2>&1) || {
	printf 'unit-check: %s\n' "$out" >&2
	exit 1
}
# Warnings (an unknown directive, say) do not change the exit status.
if [ -n "$out" ]; then
	printf 'unit-check: %s\n' "$out" >&2
	exit 1
fi
echo "unit-check: cachepeer@.service verified"
