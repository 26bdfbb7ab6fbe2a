#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make bench-lib": runs inside the guest. libcachepeer against one node,
# in the split setup of make bench (client on CPU 0, lo's receive
# processing on CPU 1), over 256 blocks of 4 KiB:
# - 64 threads sharing one handle, the library free to open up to 8
#   connections (8 requests deep each before it opens another), against
#   the same threads forced onto one connection (--lib-conns 1);
# - the instructions one 4 KiB GET costs the client, the library's
#   (blocking cachepeer_get(), one thread) against the tool's own client
#   (cachepeer-bench --proto cachepeer --verify, one request at a time; the
#   library checks every CRC too), counted by
#   callgrind as the difference between runs of 1500 and 500 GETs, so that
#   start-up cancels out. Counted, not timed: the guest's speed is emulated.
# Throughput ratios are taken within a round, their median over
# BENCH_ROUNDS (3) printed; BENCH_SECS (10) per measurement.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ctl=$top/ctl/cachepeerctl
bench=$top/ctl/cachepeer-bench
secs=${BENCH_SECS:-10}
rounds=${BENCH_ROUNDS:-3}
rps=/sys/class/net/lo/queues/rx-0/rps_cpus
work=$(mktemp -d /tmp/cachepeer-bench.XXXXXX)

cleanup() {
	"$ctl" stop 2>/dev/null
	rmmod cachepeer 2>/dev/null
	umount -l "$work" 2>/dev/null
	echo 0 >"$rps"
}
trap cleanup EXIT

[ "$(nproc)" -ge 2 ] || { echo "bench-lib: needs 2 CPUs" >&2; exit 1; }
mount -t tmpfs -o size=256m cachepeer-bench "$work"
insmod "$top/kmod/cachepeer.ko"
"$ctl" start --listen 127.0.0.1:7000 --dir "$work"
for i in $(seq 0 255); do
	head -c 4096 /dev/urandom >"$work/src"
	"$ctl" put --peer 127.0.0.1:7000 "lib-$i" "$work/src"
done
echo 2 >"$rps"
client=(taskset -c 0)

run() {
	"${client[@]}" "$bench" --peer 127.0.0.1:7000 --size 4096 --keys 256 --prefix lib- "$@"
}

for ((round = 1; round <= rounds; round++)); do
	one=$(run --proto lib --conns 64 --depth 64 --lib-conns 1 --secs "$secs")
	many=$(run --proto lib --conns 64 --depth 8 --lib-conns 8 --secs "$secs")
	echo "one connection:  $one"
	echo "adaptive (<= 8): $many"
	awk -v a="$one" -v b="$many" 'BEGIN {
		match(a, /ops_s=[0-9]+/); x = substr(a, RSTART + 6, RLENGTH - 6)
		match(b, /ops_s=[0-9]+/); y = substr(b, RSTART + 6, RLENGTH - 6)
		printf "ratio %.2f\n", y / x }' | tee -a "$work/ratios"
done
echo "64 threads, adaptive / one connection, median of $rounds: $(sort -n -k2 "$work/ratios" |
	awk '{ r[NR] = $2 } END { print r[int((NR + 1) / 2)] }')x (target: at least 1.5x)"

# instructions NAME ARGS...: the client's instructions per GET.
instructions() {
	local n lo hi

	for n in 500 1500; do
		valgrind --tool=callgrind --callgrind-out-file="$work/cg.$n" \
			"$bench" --peer 127.0.0.1:7000 --size 4096 --keys 256 --prefix lib- \
			--conns 1 --depth 1 --ops "$n" "$@" >/dev/null 2>"$work/cg.log" || {
			cat "$work/cg.log" >&2
			return 1
		}
	done
	lo=$(sed -n 's/^summary: //p' "$work/cg.500")
	hi=$(sed -n 's/^summary: //p' "$work/cg.1500")
	echo $(((hi - lo) / 1000))
}
tool=$(instructions --proto cachepeer --verify)
libi=$(instructions --proto lib)
echo "instructions per 4 KiB GET: tool's client $tool, library $libi," \
	"$(awk -v a="$tool" -v b="$libi" 'BEGIN { printf "%+.1f%%", (b - a) * 100 / a }') (target: at most +5%)"
