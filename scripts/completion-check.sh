#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bash completion of cachepeerctl (ctl/cachepeerctl.bash-completion), run
# on the host: commands, a command's options and an option's values come
# from the built tool's help; member names from "ring show --config", here
# of a stub standing in for a node.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ctl=$top/ctl/cachepeerctl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0

# shellcheck source=../ctl/cachepeerctl.bash-completion
. "$top/ctl/cachepeerctl.bash-completion"

# complete WANT WORD...: the completions of the last WORD (the command line
# so far) are WANT, sorted and space-separated.
complete_is() {
	local want=$1 got

	shift
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_cachepeerctl
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | xargs)
	n=$((n + 1))
	if [ "$got" != "$want" ]; then
		echo "completion-check: '${*:2}': got '$got', expected '$want'" >&2
		fail=1
	fi
}

cat >"$tmp/stub" <<STUB
#!/bin/sh
if [ "\$*" = "ring show --config" ]; then
	printf '%s\n' '# cachepeer ring' \
		'member cache-a 10.0.0.1:7000 weight 100' 'member cache-b 10.0.0.2:7000 weight 0'
	exit 0
fi
exec "$ctl" "\$@"
STUB
chmod +x "$tmp/stub"

cmds=$("$ctl" --help | awk '/^Commands:/ { on = 1; next } on && /^[^ ]/ { exit }
	on && /^  [a-z]/ { print $1 }' | sort | xargs)
[ -n "$cmds" ] || { echo "completion-check: no commands in --help" >&2; exit 1; }
# The ring's verbs, as its help lists them.
verbs=$("$ctl" help ring | sed -n '/^usage:/,/^  [^ ]/p' | sed '$d' |
	grep -oE '(^ +|\[|\| )[a-z]+' | grep -oE '[a-z]+' | sort -u | xargs)
[ -n "$verbs" ] || { echo "completion-check: no ring verbs in its help" >&2; exit 1; }
complete_is "$cmds" "$ctl" ""
complete_is "start stat stats status stop" "$ctl" st
complete_is "--help --json --key --length --offset --peer -o" "$ctl" get KEY -
complete_is "--frame-timeout" "$ctl" start --listen 1.2.3.4:5 --f
complete_is "--evict" "$ctl" -j set --ev
complete_is "2-random lru none" "$ctl" set --evict ""
complete_is "forward redirect" "$ctl" set --miss ""
complete_is "read write" "$ctl" key add NAME --role ""
complete_is "$verbs" "$ctl" ring ""
complete_is "cache-a cache-b" "$tmp/stub" ring del ""
complete_is "cache-b" "$tmp/stub" ring set cache-b
complete_is "--help --json --version -h -j" "$ctl" -
mkdir "$tmp/dir.d"
complete_is "$tmp/dir.d" "$ctl" start --dir "$tmp/dir"
complete_is "$tmp/dir.d" "$ctl" start --dir = "$tmp/dir"
complete_is "2-random lru none" "$ctl" set --evict =
complete_is "lru" "$ctl" set --evict = l
complete_is "" "$ctl" get KEY --peer ""
touch "$tmp/a b"
complete_is "$tmp/a b" "$ctl" key add NAME --role read "$tmp/a"
complete_is "$tmp/a b" "$ctl" syncconf "$tmp/a"
mkdir "$tmp/etc"
touch "$tmp/etc/cache1.conf" "$tmp/etc/cache2.conf" "$tmp/etc/other.txt"
CACHEPEER_CONFIG_DIR=$tmp/etc complete_is "cache1 cache2" "$ctl" up ""
CACHEPEER_CONFIG_DIR=$tmp/etc complete_is "cache2" "$ctl" down cache2

[ $fail = 0 ] && echo "completion-check: $n completions as expected"
exit $fail
