#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A node started inside a memory cgroup lives within that cgroup's memory:
# what it allocates for its connections is charged there, and at the limit
# it pushes back on its clients or refuses them; it never passes the limit
# and never calls the OOM killer.
source "$(dirname "$0")/lib.sh"

CG_ROOT=/sys/fs/cgroup

# hostile N COUNT WAIT: N connections with tiny receive buffers, each pipelining
# COUNT RING_GETs and never reading, until the node has closed them all (or
# WAIT seconds have passed). Prints how many the node closed.
hostile() {
	python3 - "$@" <<'EOF'
import socket, struct, sys, time
n, count, wait = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
frame = lambda i: struct.pack(">IBBHQHHIQQQ", 0x43505251, 1, 6, 0, i, 0, 0, 0, 0, 0, 0)
conns, pipeline = [], b"".join(frame(i) for i in range(count))
# All connected first, then all sent at once: the node closes each a frame
# timeout after it stops reading, and the test wants them all at once.
for _ in range(n):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        s.connect(("127.0.0.1", 7000))
        s.settimeout(5)
    except OSError:
        pass			# refused, reset: the node said no
    conns.append(s)
for s in conns:
    try:
        s.sendall(pipeline)
    except OSError:
        pass
closed, end = 0, time.time() + wait
while conns and time.time() < end:
    for s in list(conns):
        # The node closed it (reset, or FIN): no longer ESTABLISHED.
        if s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0] != 1:
            closed += 1
            conns.remove(s)
            s.close()
    time.sleep(0.1)
print(closed)
EOF
}

# cg_stat FILE KEY: KEY's value in the cgroup's flat-keyed FILE.
cg_stat() { awk -v k="$2" '$1 == k { print $2 }' "$cg/$1"; }

test_memcg_bounds_node() {
	if [ "$(sysctl -n kernel.unprivileged_userns_clone 2>/dev/null || echo 1)" != 1 ]; then
		skip "unprivileged user namespaces are disabled"
	fi
	[ -e "$CG_ROOT/cgroup.controllers" ] || mount -t cgroup2 none "$CG_ROOT"
	grep -qw memory "$CG_ROOT/cgroup.controllers" || skip "no memory controller"
	echo +memory >"$CG_ROOT/cgroup.subtree_control"
	cg=$CG_ROOT/cachepeer-test-$$
	mkdir "$cg"
	trap 'touch "$CP_TMP/done"; wait; rmdir "$cg"' EXIT
	echo 32M >"$cg/memory.max"
	mkdir -p "$CP_TMP/m"
	chown nobody "$CP_TMP/m"
	{
		for i in $(seq 0 47); do echo "member m$i 10.0.0.$((i + 1)):7000"; done
	} >"$CP_TMP/ring"
	chmod 644 "$CP_TMP/ring"

	# The starter: root of its own user namespace, in the cgroup.
	sh -c "echo \$\$ >'$cg/cgroup.procs'
	       exec setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
		    unshare --user --map-root-user --net sh -ec '
			ip link set lo up
			\"$CTL\" start --listen 127.0.0.1:7000 --dir \"$CP_TMP/m\" --frame-timeout $((5000 * ${CP_TIME_SCALE:-1}))
			\"$CTL\" ring load \"$CP_TMP/ring\"
			echo \$\$ >\"$CP_TMP/pid\"
			until [ -e \"$CP_TMP/done\" ]; do sleep 0.1; done
			\"$CTL\" stop'" &
	wait_for 60 test -s "$CP_TMP/pid"
	local pid net before max peak closed

	pid=$(cat "$CP_TMP/pid")
	net=/proc/$pid/ns/net
	# The node is started: its starter leaves, so that what the cgroup
	# holds from now on is the node's alone, and no task of it can be the
	# OOM killer's victim.
	echo "$pid" >"$CG_ROOT/cgroup.procs"
	wait_for 10 sh -c "! [ -s '$cg/cgroup.procs' ]"

	before=$(cat "$cg/memory.current")
	nsenter --net="$net" bash -c "$(declare -f hostile); hostile 100 512 $((60 * ${CP_TIME_SCALE:-1}))" >"$CP_TMP/closed" &
	max=$before
	while ! [ -s "$CP_TMP/closed" ]; do
		cur=$(cat "$cg/memory.current")
		[ "$cur" -le "$max" ] || max=$cur
		sleep 0.05
	done
	wait $!
	closed=$(cat "$CP_TMP/closed")
	peak=$(cat "$cg/memory.peak")
	echo "memory.current $before before, $max at most; memory.peak $peak of $(cat "$cg/memory.max")"
	echo "$(cg_stat memory.events max) times at the limit, $closed of 100 connections closed"
	nsenter --net="$net" "$CTL" stats -j | python3 -c '
import json, sys
s = json.load(sys.stdin)["stats"]
print(" ".join(f"{k} {s[k]}" for k in ("conns", "conns_refused_memory", "tx_stalls", "timeouts",
                                       "inflight", "queued_bytes", "queue_pauses")))'
	# The connections' memory was the cgroup's...
	[ $((max - before)) -ge $((8 << 20)) ]
	[ "$(cg_stat memory.events max)" -gt 0 ]
	# ...and no more than it allows.
	[ "$peak" -le $((32 << 20)) ]
	expect_eq "$(cg_stat memory.events oom_kill)" 0 "OOM kills in the cgroup"
	expect_eq "$closed" 100 "hostile connections the node closed"
	# The node still serves.
	head -c 100000 /dev/urandom >"$CP_TMP/blk"
	nsenter --net="$net" "$CTL" put blk "$CP_TMP/blk"
	nsenter --net="$net" "$CTL" get blk -o "$CP_TMP/got"
	cmp "$CP_TMP/blk" "$CP_TMP/got"
}

ktap_print_header
ktap_set_plan 1
load_module
run_test "a node in a memory cgroup stays within it" test_memcg_bounds_node
ktap_finished
