#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The man pages render without a warning, cachepeerctl(8) documents every
# command and option that "cachepeerctl --help" lists (the help is made from
# the command table, so a command or option added there and not here fails
# make check), and cachepeer(7) every parameter of the built module.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
page=$top/ctl/cachepeerctl.8
ctl=$top/ctl/cachepeerctl
fail=0

for p in "$top"/ctl/*.[1-8]; do
	warn=$(groff -man -Tutf8 -ww -z "$p" 2>&1) || true
	if [ -n "$warn" ]; then
		printf 'man-check: %s\n' "$warn" >&2
		fail=1
	fi
done

# Module parameters, in cachepeer(7) as ".BI name= VALUE" or ".BR name= ...".
params=$(modinfo -F parm "$top/kmod/cachepeer.ko" | cut -d: -f1)
[ -n "$params" ] || { echo "man-check: no parameters in kmod/cachepeer.ko" >&2; exit 1; }
for m in $params; do
	grep -Eq "^\.(BI|BR) $m=" "$top/ctl/cachepeer.7" || {
		echo "man-check: module parameter '$m' is not in cachepeer.7" >&2
		fail=1
	}
done

# The page's text with font escapes and escaped hyphens undone.
text=$(sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' "$page")
help=$("$ctl" --help)

# Commands: the two-space-indented words under "Commands:".
cmds=$(awk '/^Commands:/ { on = 1; next } on && /^[^ ]/ { exit }
	on && /^  [a-z]/ { print $1 }' <<<"$help")
[ -n "$cmds" ] || { echo "man-check: no commands found in --help" >&2; exit 1; }
for c in $cmds; do
	grep -Eq "^\.(B|BR|BI) \"?$c( |\$)" <<<"$text" || {
		echo "man-check: command '$c' is not in $page" >&2
		fail=1
	}
done

# ("--long option" is the help's word for the kind, not an option.)
for o in $(grep -oE -- '--[a-z][a-z0-9-]+' <<<"$help" | grep -vx -- --long | sort -u); do
	grep -qE -- "$o([^A-Za-z0-9-]|\$)" <<<"$text" || {
		echo "man-check: option '$o' is not in $page" >&2
		fail=1
	}
done

# Short options (-j, -h, -o), as ".BR -j", "\fB-o" or "-j, " in the page.
for o in $(grep -oE -- '(^|[ [])-[a-z]([] ,]|$)' <<<"$help" | grep -oE -- '-[a-z]' | sort -u); do
	grep -qE -- "(^|[ \"B])$o([ ,\"]|\$)" <<<"$text" || {
		echo "man-check: option '$o' is not in $page" >&2
		fail=1
	}
done

# cachepeer.conf(5): every option of start and set, in CamelCase, as
# ".BI \"Setting = \"" (the cluster keys' options are ClusterKey and
# NextClusterKey; --dir is Directory).
conf=$top/ctl/cachepeer.conf.5
settings=$({ "$ctl" help start; "$ctl" help set; } | grep -oE -- '--[a-z][a-z0-9-]+' |
	sort -u | sed -e 's/^--//' -e 's/^dir$/directory/' -e 's/\(^\|-\)\([a-z]\)/\U\2/g')
for s in $settings; do
	grep -q "^\.BI \"$s = \"" "$conf" || {
		echo "man-check: setting '$s' is not in $conf" >&2
		fail=1
	}
done

[ $fail = 0 ] &&
	echo "man-check: $(wc -w <<<"$cmds") commands and their options, $(wc -w <<<"$params") module parameters, $(wc -w <<<"$settings") config settings documented"
exit $fail
