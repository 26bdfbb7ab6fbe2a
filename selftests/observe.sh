#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Watching a node: latency histograms and tracepoints, read back after
# known traffic.
#
#   ns o1 10.79.0.1:7000 ---- veth ---- ns o2 10.79.0.2:7000
#   cache: $CP_TMP/o1, $CP_TMP/o2 (tmpfs)
#
# The events go to a tracefs instance of this test's own, so that nothing
# else tracing in the guest sees them or is disturbed.
source "$(dirname "$0")/lib.sh"

TRACE=/sys/kernel/tracing
INST=$TRACE/instances/cachepeer$$

setup() {
	load_module
	modprobe veth
	ns_add o1
	ns_add o2
	ip link add "cpo$$" netns "$(ns o1)" type veth peer name eth0 netns "$(ns o2)"
	on o1 ip link set "cpo$$" name eth0
	on o1 ip addr add 10.79.0.1/24 dev eth0
	on o2 ip addr add 10.79.0.2/24 dev eth0
	on o1 ip link set eth0 up
	on o2 ip link set eth0 up
	on o1 ip link set lo up
	on o2 ip link set lo up
	head -c $((1 << 20)) /dev/urandom >"$CP_TMP/block"
	"$CTL" genkey >"$CP_TMP/cluster.key"
	for n in o1 o2; do
		mkdir -p "$CP_TMP/$n"
		on "$n" "$CTL" start --listen "10.79.0.${n#o}:7000" --dir "$CP_TMP/$n"
	done
	[ -d "$TRACE/events" ] || mount -t tracefs nodev "$TRACE"
	mkdir "$INST"
}

teardown() {
	[ -d "$INST" ] && rmdir "$INST"
	true
}

lat_json() { on o1 "$CTL" -j stats | python3 -c 'import json, sys
print(json.dumps(json.load(sys.stdin)["stats"]["latency"]))'; }

# After 1 PUT and N GETs on the node (and whatever came before): the GET
# histogram counts exactly N more, its buckets add up to its count, its
# quantiles are in order, and every form says the same.
test_latency() {
	local before after n=20 i

	before=$(lat_json)
	on o1 "$CTL" put lat-blk "$CP_TMP/block"
	for ((i = 0; i < n; i++)); do
		on o1 "$CTL" get lat-blk >/dev/null
	done
	after=$(lat_json)
	on o1 "$CTL" stats --prometheus >"$CP_TMP/prom"
	on o1 "$CTL" stats >"$CP_TMP/pretty"
	python3 - "$before" "$after" "$n" "$CP_TMP/prom" "$CP_TMP/pretty" <<'PY'
import json, re, sys
before, after, n = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
prom, pretty = open(sys.argv[4]).read(), open(sys.argv[5]).read()
def count(j, op):
    return j.get(op, {}).get("count", 0)
bad = []
if count(after, "get") - count(before, "get") != n:
    bad.append(f"GETs counted {count(after, 'get') - count(before, 'get')}, want {n}")
if count(after, "put") - count(before, "put") != 1:
    bad.append("the PUT not counted once")
for op, h in after.items():
    if sum(c for _, c in h["buckets"]) != h["count"]:
        bad.append(f"{op}: buckets add up to {sum(c for _, c in h['buckets'])}, count {h['count']}")
    q = [h["p50_ns"], h["p99_ns"], h["p999_ns"]]
    if None in q or not q[0] <= q[1] <= q[2]:
        bad.append(f"{op}: quantiles {q}")
    # The mean lies within the buckets.
    if not h["buckets"][0][0] // 2 <= h["sum_ns"] / h["count"] <= h["buckets"][-1][0]:
        bad.append(f"{op}: mean {h['sum_ns'] / h['count']} outside {h['buckets']}")
    m = re.search(r'^cachepeer_request_duration_seconds_count\{node="",op="%s"\} (\d+)$' % op,
                  prom, re.M)
    # No request reached the node between stats -j and this.
    if not m or int(m[1]) != h["count"]:
        bad.append(f"prometheus {op} count {m and m[1]}, json {h['count']}")
    if not re.search(r"^    %s: p50 .*, %d requests$" % (op, h["count"]), pretty, re.M):
        bad.append(f"pretty has no latency line for {op}")
if bad:
    sys.exit("\n".join(bad))
PY
}

trace_on() {
	: >"$INST/trace"
	echo 1 >"$INST/events/cachepeer/enable"
}

# The events, also to the subtest's log, which is shown if it fails.
trace_off() {
	echo 0 >"$INST/events/cachepeer/enable"
	grep -v '^#' "$INST/trace" | tee "$CP_TMP/trace"
}

# events NAME [PATTERN]: how many NAME events (matching PATTERN) were traced.
events() { grep -cE "cachepeer_$1: ${2:-}" "$CP_TMP/trace" || true; }

# Known traffic, one connection per command: each event as many times as
# it happened, with the fields it should have.
test_trace_requests() {
	local sz=$((1 << 20))

	trace_on
	on o1 "$CTL" put tr-blk "$CP_TMP/block"
	on o1 "$CTL" get tr-blk | cmp - "$CP_TMP/block"
	expect_err 3 "cachepeerctl: get 'tr-missing': not found" on o1 "$CTL" get tr-missing
	trace_off
	expect_eq "$(events request 'peer=10.79.0.1:[0-9]+ id=[0-9]+ op=put status=ok bytes=0 ns=[1-9]')" 1 "PUT"
	expect_eq "$(events request "peer=10.79.0.1:[0-9]+ id=[0-9]+ op=get status=ok bytes=$sz ns=[1-9]")" 1 "GET"
	expect_eq "$(events request 'peer=10.79.0.1:[0-9]+ id=[0-9]+ op=get status=not_found bytes=0 ns=[1-9]')" 1 "missed GET"
	expect_eq "$(events request)" 3 "requests"
	expect_eq "$(events conn_open 'peer=10.79.0.1:[0-9]+ rx_bytes=0 tx_bytes=0 age_ms=0$')" 3 "opened"
	expect_eq "$(events conn_close 'peer=10.79.0.1:[0-9]+ ')" 3 "closed"
	# The GET's connection sent the block and its header.
	grep -E "cachepeer_conn_close: .* tx_bytes=[0-9]+ " "$CP_TMP/trace" |
		sed -E 's/.* tx_bytes=([0-9]+) .*/\1/' | sort -n | tail -1 >"$CP_TMP/most"
	[ "$(cat "$CP_TMP/most")" -gt "$sz" ]
}

# kid KEY: the block id of KEY, the first 16 bytes of its SHA-256, in hex.
kid() { python3 -c 'import hashlib, sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest()[:32])' "$1"; }

blocks() { on o1 "$CTL" -j stats | python3 -c 'import json, sys; print(json.load(sys.stdin)["stats"]["blocks"])'; }

# Evictions down to one block, then a byte flipped in that one and a scrub
# pass: each evicted block and the corrupt one named by its id, the pass
# with the one block it checked.
test_trace_store() {
	local k f left want

	on o1 "$CTL" put ev-blk "$CP_TMP/block"
	trace_on
	on o1 "$CTL" set --max-blocks 1
	wait_for 60 eval '[ "$(blocks)" = 1 ]'
	on o1 "$CTL" set --max-blocks 0
	f=$(find "$CP_TMP/o1" -regextype posix-extended -regex '.*/[0-9a-f]{32}\.[0-9a-f]+' -printf '%f\n')
	left=${f%%.*}
	for k in lat-blk tr-blk ev-blk; do
		[ "$(kid "$k")" = "$left" ] && continue
		want+="block=$(kid "$k") size=$((1 << 20))"$'\n'
	done
	flip "$CP_TMP/o1/$f" 1000
	sync
	on o1 "$CTL" scrub start
	wait_for 60 eval 'grep -q "cachepeer_scrub_pass: blocks=1 completed=1$" "$INST/trace"'
	trace_off
	expect_eq "$(grep -oE 'cachepeer_evict: .*' "$CP_TMP/trace" | sed 's/cachepeer_evict: //' | sort)" \
		"$(sort <<<"${want%$'\n'}")" "evicted"
	expect_eq "$(events corrupt "block=$left size=$((1 << 20))$")" 1 "corrupt"
	expect_eq "$(events corrupt)" 1 "corrupt events"
}

# A join: the member's push accepted there, the call traced here.
test_trace_ring() {
	on o1 "$CTL" set --cluster-key "$CP_TMP/cluster.key" --name a
	on o2 "$CTL" set --cluster-key "$CP_TMP/cluster.key" --name b
	on o1 "$CTL" join --seed 10.79.0.1:7000 >/dev/null
	trace_on
	on o2 "$CTL" join --seed 10.79.0.1:7000 >/dev/null
	wait_for 60 eval 'grep -q "cachepeer_ring: .* result=accepted" "$INST/trace"'
	wait_for 60 eval 'grep -qE "cachepeer_peer_call: to=10.79.0.1:7000 op=ring_push err=0 status=ok ns=[1-9]" "$INST/trace"'
	trace_off
}

# stats -j -i 1: the lines' GET, hit and byte counts add up to exactly the
# traffic made while it ran (its first line tells the baseline is taken).
test_live_rates() {
	local n=5 i pid

	on o1 "$CTL" put live-blk "$CP_TMP/block"
	# Not through on(): $! would be the function's subshell, and killing
	# it would leave the tool running, past this test and this script.
	ip netns exec "$(ns o1)" "$CTL" -j stats -i 1 -c 600 >"$CP_TMP/live" &
	pid=$!
	wait_for 60 test -s "$CP_TMP/live"
	for ((i = 0; i < n; i++)); do
		on o1 "$CTL" get live-blk >/dev/null
	done
	sum() { python3 -c 'import json, sys
print(sum(json.loads(l)[sys.argv[1]] for l in open(sys.argv[2])))' "$1" "$CP_TMP/live"; }
	wait_for 60 eval '[ "$(sum gets)" -ge $n ]'
	# One more line: nothing left over in the last interval.
	i=$(wc -l <"$CP_TMP/live")
	wait_for 60 eval '[ "$(wc -l <"$CP_TMP/live")" -gt $i ]'
	kill "$pid"
	wait "$pid" || true
	expect_eq "$(sum gets)" "$n" "GETs"
	expect_eq "$(sum hits)" "$n" "hits"
	expect_eq "$(sum sent_bytes)" $((n << 20)) "bytes sent"
	expect_eq "$(sum failed)" 0 "failed"
	on o1 "$CTL" stats -i 1 -c 1 >"$CP_TMP/live.txt"
	head -1 "$CP_TMP/live.txt" | grep -q "req/s.*get_p99"
	expect_eq "$(wc -l <"$CP_TMP/live.txt")" 2 "lines"
}

# With no module a scrape still answers: the node is down.
test_prometheus_no_module() {
	ns_cleanup
	unload_module
	"$CTL" stats --prometheus >"$CP_TMP/prom"
	grep -qx 'cachepeer_up{node=""} 0' "$CP_TMP/prom"
	grep -qE '^cachepeer_build_info\{node="",tool="[^"]+",module=""\} 1$' "$CP_TMP/prom"
}

ktap_print_header
ktap_set_plan 6
setup
run_test "latency histograms count every request, in every form" test_latency
run_test "tracepoints: requests and connections, with their fields" test_trace_requests
run_test "tracepoints: eviction, scrub pass, corruption" test_trace_store
run_test "stats -i: interval lines that add up to the traffic" test_live_rates
run_test "tracepoints: ring adopted, peer call" test_trace_ring
run_test "stats --prometheus with no module: cachepeer_up 0" test_prometheus_no_module
teardown
ktap_finished
