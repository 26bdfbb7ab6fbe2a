#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Cache lifecycle: limits, eviction policies, restart persistence, scrub and
# statistics, through cachepeerctl.
#
#   ns l: node on 127.0.0.1:7000
#
source "$(dirname "$0")/lib.sh"

stat_of() { on l "$CTL" stats -j | python3 -c "import json,sys; print(json.load(sys.stdin)['stats']['$1'])"; }
no_conns() { [ "$(stat_of conns)" = 0 ]; }
scrub_of() { on l "$CTL" scrub -j | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# name_of KEY SIZE: the file name the node stores block KEY of SIZE bytes under
# (no python here: this runs often, and an interpreter starts slowly under TCG).
name_of() {
	printf '%s.%x\n' "$(printf '%s' "$1" | sha256sum | cut -c1-32)" "$2"
}

# present DIR KEY SIZE: is block KEY on disk?
present() { [ -e "$1/$(name_of "$2" "$3")" ]; }

# Each subtest gets a fresh namespace, so its counters start at zero.
fresh() {
	ns_del l 2>/dev/null || true
	ns_add l
	"$@"
}

setup() {
	modprobe loop
	load_module
	head -c $((4 << 20)) /dev/urandom >"$CP_TMP/block"
	head -c 65536 /dev/urandom >"$CP_TMP/small"
}

test_lru_by_count() {
	local d=$CP_TMP/lru k

	on l "$CTL" start $(start_args lru)
	on l "$CTL" set --max-blocks 3
	for k in k1 k2 k3; do
		on l "$CTL" put $k "$CP_TMP/small"
	done
	on l "$CTL" get k1 -o /dev/null		# k2 is now the least recently used
	on l "$CTL" put k4 "$CP_TMP/small"
	expect_eq "$(stat_of blocks)" 3 "blocks"
	expect_eq "$(stat_of evictions)" 1 "evictions"
	expect_err 3 "cachepeerctl: get 'k2': not found" on l "$CTL" get k2 -o /dev/null
	fails present "$d" k2 65536
	for k in k1 k3 k4; do
		on l "$CTL" get $k -o "$CP_TMP/got"
		cmp "$CP_TMP/small" "$CP_TMP/got"
	done
	on l "$CTL" stop
}

test_limit_by_bytes() {
	local k

	on l "$CTL" start $(start_args bytes)
	on l "$CTL" set --max-bytes 10M
	for k in a b c d; do
		on l "$CTL" put $k "$CP_TMP/block"
	done
	expect_eq "$(stat_of blocks)" 2 "blocks under a 10 MiB limit"
	expect_eq "$(stat_of bytes)" $((8 << 20)) "bytes under a 10 MiB limit"
	# A lower limit is applied before the command returns.
	on l "$CTL" set --max-bytes 4M
	expect_eq "$(stat_of blocks)" 1 "blocks under a 4 MiB limit"
	on l "$CTL" get d -o "$CP_TMP/got"
	cmp "$CP_TMP/block" "$CP_TMP/got"
	expect_eq "$(ls "$CP_TMP/bytes" | wc -l)" 1 "files under a 4 MiB limit"
	# A block larger than the byte limit never fits.
	on l "$CTL" set --max-bytes 1M
	expect_err 1 "cachepeerctl: put 'e': no space" on l "$CTL" put e "$CP_TMP/block"
	on l "$CTL" stop
}

test_2random() {
	local d=$CP_TMP/r i k oldest not_lru=0 live=(hot) kept

	on l "$CTL" start $(start_args r)
	on l "$CTL" set --max-blocks 4 --evict 2-random
	expect_eq "$(on l "$CTL" limits -j | json_get evict)" 2-random "policy"
	on l "$CTL" put hot "$CP_TMP/small"
	for i in $(seq 1 20); do
		on l "$CTL" put n$i "$CP_TMP/small"
		live+=(n$i)
		[ ${#live[@]} -gt 4 ] || continue
		# The block just stored is the newest: never the victim.
		present "$d" n$i 65536
		oldest=${live[0]}
		present "$d" "$oldest" 65536 && not_lru=1
		kept=()
		for k in "${live[@]}"; do
			! present "$d" "$k" 65536 || kept+=("$k")
		done
		live=("${kept[@]}")
		expect_eq ${#live[@]} 4 "blocks after put $i"
	done
	expect_eq "$(stat_of evictions)" 17 "evictions"
	# Strict LRU order 17 times in a row has odds of 0.4^17 under 2-random.
	expect_eq $not_lru 1 "some eviction spared the oldest block"
	on l "$CTL" stop
}

test_policy_none() {
	on l "$CTL" start $(start_args none)
	on l "$CTL" set --max-blocks 2 --evict none
	on l "$CTL" put a "$CP_TMP/small"
	on l "$CTL" put b "$CP_TMP/small"
	expect_err 1 "cachepeerctl: put 'c': no space" on l "$CTL" put c "$CP_TMP/small"
	expect_eq "$(stat_of blocks)" 2 "blocks"
	expect_eq "$(stat_of evictions)" 0 "evictions"
	expect_eq "$(ls "$CP_TMP/none" | wc -l)" 2 "files"
	on l "$CTL" stop
}

test_free_space() {
	local d=$CP_TMP/fs

	mkdir -p "$d"
	mount -t tmpfs -o size=20M cp-fs "$d"
	on l "$CTL" start --listen 127.0.0.1:7000 --dir "$d"
	# 4 MiB blocks on 20 MiB: the third leaves 40% free, under cull (50%),
	# so the node evicts until 55% is free again: two blocks stay.
	on l "$CTL" set --fs-stop 30 --fs-cull 50 --fs-run 55
	on l "$CTL" put a "$CP_TMP/block"
	on l "$CTL" put b "$CP_TMP/block"
	on l "$CTL" put c "$CP_TMP/block"
	expect_eq "$(stat_of blocks)" 2 "blocks after culling"
	expect_eq "$(stat_of evictions)" 1 "evictions"
	on l "$CTL" get c -o "$CP_TMP/got"
	cmp "$CP_TMP/block" "$CP_TMP/got"
	# Without culling, below stop (50%) PUTs are refused.
	on l "$CTL" set --fs-cull 0 --fs-stop 50
	on l "$CTL" put d "$CP_TMP/block"
	expect_err 1 "cachepeerctl: put 'e': no space" on l "$CTL" put e "$CP_TMP/block"
	expect_eq "$(stat_of no_space)" True "no_space"
	on l "$CTL" del d
	on l "$CTL" put e "$CP_TMP/block"
	on l "$CTL" stop
	umount "$d"
}

test_evict_while_serving() {
	local i rc bad=0

	mkfs_ext4 ev 64M
	on l "$CTL" start --listen 127.0.0.1:7000 --dir "$CP_TMP/ev"
	on l "$CTL" put blk "$CP_TMP/block"
	for i in 1 2 3 4; do
		(
			while :; do
				on l "$CTL" get blk -o "$CP_TMP/got$i" && rc=0 || rc=$?
				[ $rc = 3 ] && exit 0		# evicted: not found
				[ $rc = 0 ] || exit 1
				cmp -s "$CP_TMP/block" "$CP_TMP/got$i" || exit 1
				touch "$CP_TMP/ok$i"
			done
		) &
	done
	# Evict once every client has been served at least once.
	wait_for 120 eval '[ "$(ls "$CP_TMP"/ok* 2>/dev/null | wc -l)" = 4 ]'
	on l "$CTL" set --max-bytes 1
	for i in 1 2 3 4; do
		wait -n || bad=$((bad + 1))
	done
	expect_eq $bad 0 "clients that saw an error or wrong bytes"
	expect_eq "$(stat_of evictions)" 1 "evictions"
	expect_eq "$(ls "$CP_TMP/ev" | grep -vc lost+found)" 0 "files left"
	on l "$CTL" stop
	umount "$CP_TMP/ev"
	rm -f "$CP_TMP"/ok* "$CP_TMP"/got*
}

# Wait up to 30 s for the start-up index scan.
wait_scan() {
	local i

	for i in $(seq 1 60); do
		[ "$(stat_of scan_done)" = True ] && return 0
		sleep 0.5
	done
	echo "index scan did not finish"
	return 1
}

test_persistence() {
	local d=$CP_TMP/pers sizes="1 4096 32767 32769 1048583 4194304" s

	mkfs_ext4 pers 64M
	on l "$CTL" start --listen 127.0.0.1:7000 --dir "$d"
	for s in $sizes; do
		head -c $s /dev/urandom >"$CP_TMP/p$s"
		on l "$CTL" put "key $s" "$CP_TMP/p$s"
	done
	on l "$CTL" stop
	# What a restart must ignore or clean up: a foreign file under a block's
	# name (removed when first used), and files that are not blocks at all.
	cp "$CP_TMP/small" "$d/$(name_of foreign 65536)"
	echo junk >"$d/notes.txt"
	touch "$d/0123.4"
	rmmod cachepeer
	load_module
	ns_del l
	ns_add l
	on l "$CTL" start --listen 127.0.0.1:7000 --dir "$d"
	wait_scan
	expect_eq "$(stat_of scan_found)" 7 "names indexed"
	for s in $sizes; do
		on l "$CTL" get "key $s" -o "$CP_TMP/got"
		cmp "$CP_TMP/p$s" "$CP_TMP/got"
	done
	on l "$CTL" stat "key 4096" >/dev/null
	expect_err 3 "cachepeerctl: get 'foreign': not found" on l "$CTL" get foreign -o /dev/null
	expect_eq "$(stat_of foreign)" 1 "foreign files removed"
	fails present "$d" foreign 65536
	[ -e "$d/notes.txt" ] && [ -e "$d/0123.4" ]
	expect_eq "$(stat_of blocks)" 6 "blocks"
	on l "$CTL" stop
	umount "$d"
}

# Names a block had when the index was built, replaced before its first use:
# a FIFO (opening it would block the worker, and with it stop and rmmod) and
# a symbolic link. Neither is opened; each is removed and counted.
test_not_regular_files() {
	local d=$CP_TMP/nr k fifo link

	mkdir -p "$d"
	on l "$CTL" start --listen 127.0.0.1:7000 --dir "$d"
	for k in fifo link; do
		on l "$CTL" put $k "$CP_TMP/small"
	done
	on l "$CTL" stop
	on l "$CTL" start --listen 127.0.0.1:7000 --dir "$d"
	wait_scan
	fifo=$d/$(name_of fifo 65536)
	link=$d/$(name_of link 65536)
	# Replaced by a rename, so that the names never go missing: the scrub
	# patrol opening one in between would drop the block as gone, not as
	# foreign (the debug kernel took seconds between rm and mkfifo).
	mkfifo "$d/.fifo"
	ln -s "$CP_TMP/small" "$d/.link"
	mv -fT "$d/.fifo" "$fifo"
	mv -fT "$d/.link" "$link"
	for k in fifo link; do
		# A worker stuck in open() would hold this GET (and stop) for good.
		expect_err 3 "cachepeerctl: get '$k': not found" \
			timeout 60 ip netns exec "$(ns l)" "$CTL" get $k -o /dev/null
	done
	expect_eq "$(stat_of foreign)" 2 "foreign files"
	expect_eq "$(ls "$d" | wc -l)" 0 "names left"
	on l "$CTL" stop
}

scrub_idle() { [ "$(scrub_of running)" = False ]; }
scrub_passed() { [ "$(scrub_of passes)" -gt "$1" ]; }

test_scrub() {
	local d=$CP_TMP/sc f p0 b0

	mkfs_ext4 sc 64M
	on l "$CTL" start --listen 127.0.0.1:7000 --dir "$d"
	on l "$CTL" put good "$CP_TMP/block"
	on l "$CTL" put bad "$CP_TMP/block"
	f=$d/$(name_of bad $((4 << 20)))
	flip "$f" 3000000
	sync
	# The patrol skips blocks used in the last minute; an on-demand pass
	# checks them all.
	on l "$CTL" set --scrub-rate 64M
	wait_for $((30 * ${CP_TIME_SCALE:-1})) scrub_idle
	p0=$(scrub_of passes)
	b0=$(scrub_of blocks)
	on l "$CTL" scrub start
	wait_for $((30 * ${CP_TIME_SCALE:-1})) scrub_passed "$p0"
	# The pass asked for; a patrol pass (one a minute) may end too where
	# the kernel is slow enough, as the debug kernel under emulation is.
	[ "$(scrub_of passes)" -ge $((p0 + 1)) ]
	# A walk of the index may see a block twice when another is dropped.
	[ $(($(scrub_of blocks) - b0)) -ge 2 ] || { echo "scrubbed fewer than 2 blocks"; return 1; }
	expect_eq "$(scrub_of corrupt)" 1 "corrupt found by scrub"
	expect_eq "$(stat_of corrupt)" 1 "blocks dropped for bad CRCs"
	[ ! -e "$f" ]
	expect_err 3 "cachepeerctl: get 'bad': not found" on l "$CTL" get bad -o /dev/null
	on l "$CTL" get good -o "$CP_TMP/got"
	cmp "$CP_TMP/block" "$CP_TMP/got"
	on l "$CTL" scrub | grep -q "corrupt blocks found: 1"
	on l "$CTL" stop
	umount "$d"
}

test_stats_exact() {
	on l "$CTL" start $(start_args st)
	on l "$CTL" put a "$CP_TMP/block"
	on l "$CTL" put b "$CP_TMP/small"
	on l "$CTL" get a -o /dev/null
	on l "$CTL" get b -o /dev/null
	on l "$CTL" get b --offset 100 --length 1000 -o /dev/null
	expect_err 3 "cachepeerctl: get 'nope': not found" on l "$CTL" get nope -o /dev/null
	on l "$CTL" stat a >/dev/null
	on l "$CTL" del b
	# The tool's connections are freed after it has its answers.
	wait_for 60 no_conns
	on l "$CTL" stats -j >"$CP_TMP/stats.json"
	python3 - "$CP_TMP/stats.json" <<'PY'
import json, sys
n = json.load(open(sys.argv[1]))
s = n["stats"]
# The 1,000-byte range is copied: a range that small is not worth a page.
want = {"hits": 3, "misses": 1, "zc_bytes": (4 << 20) + 65536, "copied_bytes": 1000,
        "blocks": 1, "bytes": 4 << 20, "evictions": 0, "corrupt": 0, "inflight": 0,
        "conns": 0}
ops = {"get": 4, "put": 2, "stat": 1, "del": 1, "ping": 0}
status = {"ok": 7, "not_found": 1}
bad = [f"{k}={s[k]} want {v}" for k, v in want.items() if s[k] != v]
bad += [f"ops.{k}={s['ops'][k]} want {v}" for k, v in ops.items() if s["ops"][k] != v]
bad += [f"status.{k}={s['status'][k]} want {v}" for k, v in status.items() if s["status"][k] != v]
if n["epoch"] != 0 or n["limits"]["max_blocks"] != 0 or n["limits"]["max_bytes"] != 0:
    bad.append("epoch/limits")
if s["index_mem"] <= 0 or s["scan_done"] is not True:
    bad.append("index_mem/scan_done")
if bad:
    sys.exit("; ".join(bad))
PY
	# status -j is the same object: the same fields, and the same values but
	# for what the node changes on its own between the two reads (index
	# memory, block files closed when idle, the scrub patrol's counters, the
	# filesystem's free space).
	on l "$CTL" -j >"$CP_TMP/status.json"
	python3 -c 'import json, sys
def steady(n):
    s = n["stats"]
    del s["index_mem"], s["open_files"], s["fs_avail"]
    s["scrub"] = sorted(s["scrub"])
    return n
a, b = (steady(json.load(open(f))) for f in sys.argv[1:])
if a != b:
    sys.exit(f"stats -j: {a}\nstatus -j: {b}")' "$CP_TMP/stats.json" "$CP_TMP/status.json"
	on l "$CTL" stats --prometheus >"$CP_TMP/stats.prom"
	python3 - "$CP_TMP/stats.prom" <<'PY'
import re, sys
sample = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?P<labels>\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (?P<value>-?[0-9.e+]+|NaN|[+-]Inf)$')
typed, seen, values = {}, set(), {}
for line in open(sys.argv[1]).read().splitlines():
    if line.startswith("# HELP "):
        continue
    m = re.match(r"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|untyped)$", line)
    if m:
        if m[1] in typed:
            sys.exit(f"TYPE given twice for {m[1]}")
        typed[m[1]] = m[2]
        continue
    m = sample.match(line)
    if not m:
        sys.exit(f"bad line: {line!r}")
    name, labels = m["name"], m["labels"] or ""
    family = re.sub(r"_(bucket|sum|count)$", "", name)
    if name not in typed and typed.get(family) != "histogram":
        sys.exit(f"sample before TYPE: {line!r}")
    if (name, labels) in seen:
        sys.exit(f"duplicate series: {line!r}")
    seen.add((name, labels))
    values[name + labels] = float(m["value"])
for k, v in {'cachepeer_hits_total{node=""}': 3, 'cachepeer_misses_total{node=""}': 1,
             'cachepeer_requests_total{node="",op="get"}': 4,
             'cachepeer_responses_total{node="",status="not_found"}': 1,
             'cachepeer_cache_blocks{node=""}': 1, 'cachepeer_up{node=""}': 1,
             'cachepeer_request_duration_seconds_count{node="",op="get"}': 4,
             'cachepeer_request_duration_seconds_bucket{node="",op="get",le="+Inf"}': 4}.items():
    if values.get(k) != v:
        sys.exit(f"{k} = {values.get(k)}, want {v}")
# The GETs' buckets: cumulative, in order of their bounds, up to the count.
les = sorted((float(k.split('le="')[1].rstrip('"}')), v) for k, v in values.items()
             if k.startswith('cachepeer_request_duration_seconds_bucket{node="",op="get"'))
if [v for _, v in les] != sorted(v for _, v in les) or les[-1][1] != 4:
    sys.exit(f"GET buckets not cumulative: {les}")
PY
	on l "$CTL" stats >"$CP_TMP/stats.txt"
	grep -qx "  GETs answered with data: 3" "$CP_TMP/stats.txt"
	grep -qx "  GETs answered NOT_FOUND: 1" "$CP_TMP/stats.txt"
	on l "$CTL" stop
}

test_conns() {
	on l "$CTL" start $(start_args cn)
	expect_eq "$(on l "$CTL" conns)" "no connections" "idle listing"
	on l python3 - "$CTL" <<'PY'
import json, os, socket, struct, subprocess, sys, time
s = socket.create_connection(("127.0.0.1", 7000))
# One PING: 48-byte header, magic CPRQ, version 1, opcode 5.
s.sendall(struct.pack(">IBBHQHHIQQQ", 0x43505251, 1, 5, 0, 42, 0, 0, 0, 0, 0, 0))
assert len(s.recv(48)) == 48
out = json.loads(subprocess.check_output([sys.argv[1], "conns", "-j"]))
port = s.getsockname()[1]
assert len(out) == 1, out
c = out[0]
assert c["peer"] == f"127.0.0.1:{port}", c
assert c["rx_bytes"] == 48 and c["tx_bytes"] == 48 and c["inflight"] == 0, c
assert 0 <= c["cpu"] < os.cpu_count(), c
PY
	on l "$CTL" stop
}

# Where a connection's TX runs (conns' cpu): on the CPU that receives its
# segments when RPS moves them off the client's, and not on the client's
# CPU when the client's own send() processes them (lo without RPS).
test_conns_tx_cpu() {
	[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"
	on l "$CTL" start $(start_args cpu)
	on l python3 - "$CTL" <<'PY'
import json, os, socket, struct, subprocess, sys
PING = struct.pack(">IBBHQHHIQQQ", 0x43505251, 1, 5, 0, 42, 0, 0, 0, 0, 0, 0)

def rps(mask):
    with open("/sys/class/net/lo/queues/rx-0/rps_cpus", "w") as f:
        f.write(f"{mask:x}\n")

def conn(client_cpu):
    os.sched_setaffinity(0, {client_cpu})
    s = socket.create_connection(("127.0.0.1", 7000))
    for _ in range(20):
        s.sendall(PING)
        got = b""
        while len(got) < 48:
            chunk = s.recv(48 - len(got))
            assert chunk, "connection closed"
            got += chunk
    return s

def cpu_of(s):
    port = s.getsockname()[1]
    out = json.loads(subprocess.check_output([sys.argv[1], "conns", "-j"]))
    c = [c for c in out if c["peer"] == f"127.0.0.1:{port}"]
    assert len(c) == 1, out
    return c[0]["cpu"]

# Two connections each time: connections also take the CPUs in turn, and
# one of the two would be on the wanted CPU by that alone.
for mask, client, want in ((2, 0, 1), (1, 1, 0)):
    rps(mask)
    a, b = conn(client), conn(client)
    got = [cpu_of(a), cpu_of(b)]
    assert got == [want, want], f"rps_cpus {mask:x}, client on CPU {client}: TX on {got}"
    a.close()
    b.close()
rps(0)
# Without RPS they take the two CPUs in turn, not the client's CPU twice.
a, b = conn(0), conn(0)
got = sorted((cpu_of(a), cpu_of(b)))
assert got == [0, 1], f"without RPS, client on CPU 0: TX on {got}, want [0, 1]"
PY
	on l "$CTL" stop
}

test_bad_limits() {
	on l "$CTL" start $(start_args bad)
	expect_err 1 "cachepeerctl: set: free-space thresholds must satisfy stop < cull < run (Invalid argument)" \
		on l "$CTL" set --fs-cull 50 --fs-run 40
	expect_usage "cachepeerctl set: --fs-stop must be 0 to 99, not '150'" \
		on l "$CTL" set --fs-stop 150
	expect_usage "cachepeerctl set: invalid value 'fifo' for --evict (lru, 2-random, none)" \
		on l "$CTL" set --evict fifo
	expect_usage "cachepeerctl set: invalid number '1K' for --max-blocks (decimal digits)" \
		on l "$CTL" set --max-blocks 1K
	expect_usage "cachepeerctl set: nothing to set" on l "$CTL" set
	# Nothing changed.
	expect_eq "$(on l "$CTL" limits -j | json_get fs_cull)" 7 "fs_cull"
	on l "$CTL" stop
}

test_module_params() {
	unload_module
	load_deps
	insmod "$KO" max_blocks=5 max_bytes=1G evict=2-random scrub_rate=0 fs_stop=1 fs_cull=2 fs_run=3
	"$CTL" limits -j >"$CP_TMP/l.json"
	python3 - "$CP_TMP/l.json" <<'PY'
import json, sys
l = json.load(open(sys.argv[1]))
want = {"max_blocks": 5, "max_bytes": 1 << 30, "evict": "2-random", "scrub_rate": 0,
        "fs_stop": 1, "fs_cull": 2, "fs_run": 3}
assert all(l[k] == v for k, v in want.items()), l
PY
	rmmod cachepeer
	fails_logged "\`fifo' invalid for parameter \`evict'" insmod "$KO" evict=fifo
	fails_logged "fs_stop=5 fs_cull=4 fs_run=10: free-space thresholds must satisfy stop < cull < run" \
		insmod "$KO" fs_stop=5 fs_cull=4
	load_module
}

ktap_print_header
ktap_set_plan 14
setup
run_test "LRU eviction by block count" fresh test_lru_by_count
run_test "byte limit, applied at once when lowered" fresh test_limit_by_bytes
run_test "2-random eviction spares the newest, not strictly LRU" fresh test_2random
run_test "policy none refuses PUTs over a limit" fresh test_policy_none
run_test "free-space cull/run and stop thresholds" fresh test_free_space
run_test "eviction during GETs leaves served bytes intact" fresh test_evict_while_serving
run_test "blocks persist across rmmod/insmod; foreign files removed" fresh test_persistence
run_test "a FIFO or a link under a block's name is never opened" fresh test_not_regular_files
run_test "scrub finds a block corrupted on disk" fresh test_scrub
run_test "stats match known traffic; JSON and Prometheus parse" fresh test_stats_exact
run_test "conns lists a connection with its bytes" fresh test_conns
run_test "TX follows receive processing off the client's CPU" fresh test_conns_tx_cpu
run_test "bad limits are refused with a reason" fresh test_bad_limits
run_test "module parameters set the initial node's limits" fresh test_module_params
ktap_finished
