#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make run": runs inside the guest. The main job of a cache cluster:
#   1. three nodes, each in its own network namespace, on a bridge;
#   2. joined into one ring with cachepeerctl join (a shared cluster key);
#   3. a few hundred blocks warmed up through the ring (each to its owner);
#   4. every block read back through client routing, bytes and CRC checked;
#   5. the ring, each node's statistics and the throughput.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ctl=$top/ctl/cachepeerctl
nodes=(1 2 3)
br=cpdemo0
work=$(mktemp -d /tmp/cachepeer-demo.XXXXXX)

cleanup() {
	for n in "${nodes[@]}"; do ip netns del "cp-node$n" 2>/dev/null || true; done
	ip link del "$br" 2>/dev/null || true
	rmmod cachepeer 2>/dev/null || true
	umount -l "$work" 2>/dev/null || true
}
trap cleanup EXIT

on() {
	local n=$1

	shift
	ip netns exec "cp-node$n" "$@"
}

echo "== insmod cachepeer.ko; three nodes on bridge $br"
# The guest's /tmp is overlayfs, which keeps no page cache of its own.
mount -t tmpfs cachepeer-demo "$work"
modprobe bridge
modprobe veth
insmod "$top/kmod/cachepeer.ko"
ip link add "$br" type bridge
ip link set "$br" up
# Keys: the nodes' member key, and a write key for the clients below.
(umask 077; "$ctl" genkey >"$work/cluster.key"; "$ctl" genkey >"$work/client.key")
export CACHEPEER_KEY=client:$work/client.key
for n in "${nodes[@]}"; do
	ip netns add "cp-node$n"
	on "$n" ip link set lo up
	ip link add "cpdemo-v$n" type veth peer name eth0 netns "cp-node$n"
	ip link set "cpdemo-v$n" master "$br" up
	on "$n" ip addr add "10.88.0.$n/24" dev eth0
	on "$n" ip link set eth0 up
	mkdir "$work/cache$n"
	on "$n" "$ctl" set --name "node$n" --cluster-key "$work/cluster.key" --access all
	on "$n" "$ctl" key add client --role write "$work/client.key"
	on "$n" "$ctl" start --listen "10.88.0.$n:7000" --dir "$work/cache$n"
done

echo "== join: node1 starts the ring, node2 and node3 join through it"
for n in "${nodes[@]}"; do
	on "$n" "$ctl" join --seed 10.88.0.1:7000
done

echo "== 300 blocks of 16-256 KiB to warm up"
python3 - "$work/blocks" <<'PY'
import os, random, sys
random.seed(1)
for i in range(300):
    d = os.path.join(sys.argv[1], "chunks", str(i % 10))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "%d_0_4194304" % i), "wb") as f:
        f.write(os.urandom(16384 * random.randint(1, 16)))
PY

echo "== warmup through the ring (from node1)"
on 1 "$ctl" warmup --jobs 4 "$work/blocks"
echo "== read back through routing (from node2), bytes and CRC-32C checked"
on 2 "$ctl" warmup --check --jobs 4 "$work/blocks"

echo "== a client without the key is refused (exit status 7)"
rc=0
CACHEPEER_KEY= on 2 "$ctl" get --peer 10.88.0.2:7000 chunks/0/0_0_4194304 -o /dev/null || rc=$?
if [ "$rc" != 7 ]; then
	echo "demo: a GET without the key under access all ended with status $rc, not 7" >&2
	exit 1
fi

echo "== ring, as node3 sees it"
on 3 "$ctl" ring
for n in "${nodes[@]}"; do
	echo "== stats of node$n"
	on "$n" "$ctl" stats
done
