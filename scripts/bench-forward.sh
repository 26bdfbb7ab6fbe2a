#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make bench-forward": runs inside the guest. Two nodes in network
# namespaces on a veth pair form a ring in which one (the owner) owns every
# key and the other (the forwarder, weight 0) none. The same GETs go to the
# owner (the baseline) and to the forwarder, which forwards each to the
# owner and relays the answer; the ratio forwarded / direct is what a client
# loses by asking the wrong member. Guest speed is emulated: only the
# ratios mean anything, and they are taken within a round, from runs next
# to each other in time, their median over BENCH_ROUNDS (3) printed.
#
# Keys outnumber the requests in flight, so that a forward rarely finds one
# of the same block under way (coalesced: counted and printed, not hidden).
#
# BENCH_PROFILE=FILE: then run the forwarded 4 KiB GETs once more under
# "perf record -a -g" (cpu-clock: the guest has no PMU) and write where
# the guest's CPUs went, by symbol, to FILE.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ctl=$top/ctl/cachepeerctl
bench=$top/ctl/cachepeer-bench
secs=${BENCH_SECS:-10}
rounds=${BENCH_ROUNDS:-3}
work=$(mktemp -d /tmp/cachepeer-bench.XXXXXX)
own=cpbf-owner
fwd=cpbf-fwd

cleanup() {
	ip netns exec $own "$ctl" stop 2>/dev/null
	ip netns exec $fwd "$ctl" stop 2>/dev/null
	ip netns del $own 2>/dev/null
	ip netns del $fwd 2>/dev/null
	rmmod cachepeer 2>/dev/null
	umount -l "$work" 2>/dev/null
}
trap cleanup EXIT

on() {
	local n=$1

	shift
	ip netns exec "$n" "$@"
}

mount -t tmpfs -o size=1g cachepeer-bench "$work"
modprobe veth
insmod "$top/kmod/cachepeer.ko"
"$ctl" genkey >"$work/cluster.key"
"$ctl" genkey >"$work/bench.key"
export CACHEPEER_KEY=bench:$work/bench.key
ip netns add $own
ip netns add $fwd
ip link add cpbf0 netns $own type veth peer name cpbf1 netns $fwd
on $own ip addr add 10.88.0.1/24 dev cpbf0
on $fwd ip addr add 10.88.0.2/24 dev cpbf1
for n in $own $fwd; do
	on $n ip link set lo up
	on $n ip link set "$(on $n ip -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1)" up
	mkdir "$work/$n"
	on $n "$ctl" set --name $n --cluster-key "$work/cluster.key"
	on $n "$ctl" key add bench --role write "$work/bench.key"
done
on $own "$ctl" start --listen 10.88.0.1:7000 --dir "$work/$own"
on $fwd "$ctl" start --listen 10.88.0.2:7000 --dir "$work/$fwd"
on $own "$ctl" join --seed 10.88.0.1:7000
on $fwd "$ctl" join --seed 10.88.0.1:7000 --weight 0
for _ in $(seq 100); do
	[ "$(on $fwd "$ctl" ring -j | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["members"]))')" = 2 ] &&
		break
	sleep 0.2
done

# put_blocks PREFIX COUNT SIZE: on the owner, where the ring routes them.
put_blocks() {
	local i

	head -c "$3" /dev/urandom >"$work/src"
	for ((i = 0; i < $2; i++)); do
		on $own "$ctl" put --peer 10.88.0.1:7000 "$1$i" "$work/src"
	done
}
put_blocks big- 32 $((4 << 20))
put_blocks small- 256 4096

joined() {
	on $fwd "$ctl" stats -j |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["cluster"]["forward_joined"])'
}

# run NAME NODE ARGS...: one measurement line, tagged with its round.
run() {
	local name=$1 node=$2 addr

	shift 2
	addr=10.88.0.1:7000
	[ "$node" = fwd ] && addr=10.88.0.2:7000
	printf '%-7s round=%d via=%s ' "$name" "$round" "$node"
	on $fwd "$bench" --peer "$addr" --secs "$secs" --verify "$@"
}

big=(--conns 4 --depth 2 --size $((4 << 20)) --prefix big- --keys 32)
small=(--conns 4 --depth 16 --size 4096 --prefix small- --keys 256)
j0=$(joined)
for ((round = 1; round <= rounds; round++)); do
	if ((round % 2)); then
		run big direct "${big[@]}"
		run big fwd "${big[@]}"
		run small direct "${small[@]}"
		run small fwd "${small[@]}"
	else
		run big fwd "${big[@]}"
		run big direct "${big[@]}"
		run small fwd "${small[@]}"
		run small direct "${small[@]}"
	fi
done | tee "$work/results"
echo "forwarded GETs answered from a forward under way: $(($(joined) - j0))"

echo
echo "medians over $rounds round(s), forwarded / direct:"
awk -v rounds="$rounds" '
function median(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function ratio(name, key,    k, v, s) {
	s = ""
	for (k = 1; k <= rounds; k++) {
		v[k] = r[name, "fwd", k, key] / r[name, "direct", k, key]
		s = s sprintf(" %.2f", v[k])
	}
	return sprintf("%.2fx [%s]", median(v, rounds), substr(s, 2))
}
{ k = $2; sub("round=", "", k); via = $3; sub("via=", "", via)
  for (i = 4; i <= NF; i++) { split($i, kv, "="); r[$1, via, k, kv[1]] = kv[2] } }
END {
	printf "big (4 MiB, 4 conns x 2): GiB/s %s (target >= 0.70x); p99 %s\n",
		ratio("big", "gib_s"), ratio("big", "p99_us")
	printf "small (4 KiB, 4 conns x 16): ops/s %s (target >= 0.50x); p99 %s\n",
		ratio("small", "ops_s"), ratio("small", "p99_us")
}' "$work/results"

if [ -n "${BENCH_PROFILE:-}" ]; then
	perf record -q -a -g -e cpu-clock -o "$work/perf.data" -- \
		ip netns exec $fwd "$bench" --peer 10.88.0.2:7000 --secs "$secs" "${small[@]}"
	perf report -i "$work/perf.data" --no-children --sort sym --stdio -g caller,0.5,callee \
		--percent-limit 0.3 >"$BENCH_PROFILE" 2>/dev/null
	echo "profile of the forwarded 4 KiB GETs: $BENCH_PROFILE"
fi
