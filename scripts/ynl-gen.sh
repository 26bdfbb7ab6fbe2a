#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module's netlink policies and op table, kmod/nl_gen.[ch], generated from
# Documentation/netlink/specs/cachepeer.yaml by the kernel's own
# tools/net/ynl/ynl-gen-c.py (from linux-source-6.12, extracted by setup.sh),
# as in-tree families generate theirs.
#
#   scripts/ynl-gen.sh           regenerate kmod/nl_gen.c and kmod/nl_gen.h
#   scripts/ynl-gen.sh --check   fail if the committed files are not what
#                                the spec generates (make check runs this)
#
# The generator finds the spec's schema relative to the spec
# (../genetlink-legacy.yaml) and the tree's root by a MAINTAINERS file above
# it, to name the spec in the files' header. A staging tree laid out as the
# kernel's gives it both, so the files name the spec by the same path here.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ksrc=$top/.cache/linux-src
gen=$ksrc/tools/net/ynl/ynl-gen-c.py
spec=Documentation/netlink/specs/cachepeer.yaml

die() { printf 'ynl-gen: error: %s\n' "$*" >&2; exit 1; }

[ -e "$gen" ] || die "$gen missing (run scripts/setup.sh)"
case "${1:-}" in
"") check=0 ;;
--check) check=1 ;;
*) die "usage: ynl-gen.sh [--check]" ;;
esac

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/${spec%/*}" "$stage/out"
touch "$stage/MAINTAINERS"
cp "$ksrc/Documentation/netlink/genetlink-legacy.yaml" "$stage/Documentation/netlink/"
cp "$top/$spec" "$stage/$spec"

# The .c file includes its header by the name it is written under.
(cd "$stage" &&
 python3 "$gen" --mode kernel --spec "$spec" --header -o out/nl_gen.h &&
 python3 "$gen" --mode kernel --spec "$spec" --source -o out/nl_gen.c) ||
	die "ynl-gen-c.py failed on $spec"

if [ $check = 0 ]; then
	cp "$stage/out/nl_gen.h" "$stage/out/nl_gen.c" "$top/kmod/"
	echo "ynl-gen: kmod/nl_gen.c and kmod/nl_gen.h regenerated from $spec"
	exit 0
fi
stale=0
for f in nl_gen.h nl_gen.c; do
	if ! diff -u "$top/kmod/$f" "$stage/out/$f" >&2; then
		stale=1
	fi
done
# The output is the generator's as much as the spec's: name the one used.
[ $stale = 0 ] || die "kmod/nl_gen.[ch] differ from what ynl-gen-c.py of" \
	"linux-source-6.12 $(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null)" \
	"makes of $spec: run scripts/ynl-gen.sh and commit them"
echo "ynl-gen: kmod/nl_gen.[ch] match $spec"
