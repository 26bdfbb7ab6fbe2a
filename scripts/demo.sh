#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make run": runs inside the guest. Loads cachepeer, makes three network
# namespaces, each an independent node, starts and names them, and shows
# every node's status.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ctl=$top/ctl/cachepeerctl
nodes=(node1 node2 node3)

cache=$(mktemp -d /tmp/cachepeer-demo.XXXXXX)

cleanup() {
	for n in "${nodes[@]}"; do ip netns del "cp-$n" 2>/dev/null || true; done
	rmmod cachepeer 2>/dev/null || true
	umount -l "$cache" 2>/dev/null || true
}
trap cleanup EXIT

echo "== insmod cachepeer.ko"
# The guest's /tmp is overlayfs, which keeps no page cache of its own.
mount -t tmpfs cachepeer-demo "$cache"
modprobe libcrc32c
insmod "$top/kmod/cachepeer.ko"
for n in "${nodes[@]}"; do
	ip netns add "cp-$n"
	ip -n "cp-$n" link set lo up
	ip netns exec "cp-$n" "$ctl" set name "$n"
	mkdir "$cache/$n"
	ip netns exec "cp-$n" "$ctl" start --listen 127.0.0.1:7000 --dir "$cache/$n"
done
head -c 4194304 /dev/urandom >"$cache/block"
for n in "${nodes[@]}"; do
	ip netns exec "cp-$n" "$ctl" put "block-of-$n" "$cache/block"
	ip netns exec "cp-$n" "$ctl" get "block-of-$n" -o "$cache/back"
	cmp "$cache/block" "$cache/back"
	echo "cp-$n: 4 MiB block stored and read back, CRC-checked: $(ip netns exec "cp-$n" "$ctl" stat "block-of-$n")"
done

for n in "${nodes[@]}"; do
	echo "== netns cp-$n"
	ip netns exec "cp-$n" "$ctl"
done
echo "== initial netns"
"$ctl"
echo "== JSON (cachepeerctl -j) of cp-node1"
ip netns exec cp-node1 "$ctl" -j
