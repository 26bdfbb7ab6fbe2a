#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The family driven by the kernel's own YNL tool (tools/net/ynl/cli.py from
# linux-source-6.12) and our spec, Documentation/netlink/specs/cachepeer.yaml,
# with no cachepeerctl in the way: what it reads agrees with cachepeerctl.
#
#   ns y: node n1 on 127.0.0.1:7000, in a ring of one
source "$(dirname "$0")/lib.sh"

KSRC=$CP_TOP/.cache/linux-src
SPEC=$CP_TOP/Documentation/netlink/specs/cachepeer.yaml

# ynl ARGS...: cli.py in namespace y, the schema named (the default is
# found relative to the spec, which is not in the kernel tree), as JSON.
ynl() {
	on y /usr/bin/python3 "$KSRC/tools/net/ynl/cli.py" --spec "$SPEC" \
		--schema "$KSRC/Documentation/netlink/genetlink-legacy.yaml" --output-json "$@"
}

setup() {
	[ -e "$KSRC/tools/net/ynl/cli.py" ] || skip "no tools/net/ynl (run scripts/setup.sh)"
	load_module
	ns_add y
	on y ip link set lo up
	"$CTL" genkey >"$CP_TMP/cluster.key"
	mkdir -p "$CP_TMP/y"
	on y "$CTL" start --listen 127.0.0.1:7000 --dir "$CP_TMP/y"
	on y "$CTL" set --name n1 --cluster-key "$CP_TMP/cluster.key"
	on y "$CTL" join --seed 127.0.0.1:7000 >/dev/null
}

test_node_get() {
	ynl --do node-get >"$CP_TMP/ynl.json"
	on y "$CTL" -j status >"$CP_TMP/ctl.json"
	python3 - "$CP_TMP/ynl.json" "$CP_TMP/ctl.json" <<'PY'
import json, sys
y, c = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
bad = []
def same(what, a, b):
    if a != b:
        bad.append(f"{what}: ynl {a!r}, cachepeerctl {b!r}")
same("name", y["name"], c["name"])
same("state", y["state"], c["state"])
same("epoch", y["epoch"], c["epoch"])
same("max-block", y["max-block"], c["max_block"])
same("listen-port", y["listen-port"], int(c["listen"].rsplit(":", 1)[1]))
same("listen-addr", y["listen-addr"], "7f000001")
same("blocks", y["stats"]["blocks"], c["stats"]["blocks"])
same("ops.hello", y["stats"]["ops"].get("hello", 0), c["stats"]["ops"]["hello"])
if bad:
    sys.exit("\n".join(bad))
PY
}

# A connection held open: the dump lists it, at its port.
test_conn_dump() {
	local port

	mkfifo "$CP_TMP/held.in"
	on y "$(dirname "$0")/cp_raw" -w 127.0.0.1:7000 stat held <"$CP_TMP/held.in" \
		>"$CP_TMP/held" &
	sleep 3600 >"$CP_TMP/held.in" &
	echo $! >"$CP_TMP/held.sleep"
	wait_for 60 test -s "$CP_TMP/held"
	port=$(sed 's/^port //' "$CP_TMP/held")
	ynl --dump conn-get >"$CP_TMP/conns.json"
	kill "$(cat "$CP_TMP/held.sleep")"
	python3 - "$CP_TMP/conns.json" "$port" <<'PY'
import json, sys
conns = json.load(open(sys.argv[1]))
ports = [m["conn"]["port"] for m in conns]
if int(sys.argv[2]) not in ports:
    sys.exit(f"port {sys.argv[2]} not among {ports}")
PY
}

# ring-lookup with a key given as hex: the hash and owner cachepeerctl finds.
test_ring_lookup() {
	local hex

	hex=$(printf 'block-42' | od -An -tx1 | tr -d ' \n')
	ynl --do ring-lookup --json "{\"key-hash-of\": \"$hex\"}" >"$CP_TMP/lookup.json"
	on y "$CTL" ring lookup block-42 >"$CP_TMP/lookup.txt"
	python3 - "$CP_TMP/lookup.json" "$CP_TMP/lookup.txt" <<'PY'
import json, sys
y = json.load(open(sys.argv[1]))
key, h, owner, addr = open(sys.argv[2]).read().split()[:4]
if y["member"][0]["name"] != owner or "%016x" % y["key-hash"] != h.lower().removeprefix("0x"):
    sys.exit(f"ynl {y}, cachepeerctl {key} {h} {owner} {addr}")
PY
}

# A write, as an admin: the setting changes; unprivileged, it is refused.
test_node_set() {
	ynl --do node-set --json '{"scrub-rate": 2097152}' >"$CP_TMP/set" || {
		cat "$CP_TMP/set"
		return 1
	}
	expect_eq "$(on y "$CTL" -j limits | json_get scrub_rate)" 2097152 "scrub rate"
	fails on y setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all \
		/usr/bin/python3 "$KSRC/tools/net/ynl/cli.py" --spec "$SPEC" \
		--schema "$KSRC/Documentation/netlink/genetlink-legacy.yaml" \
		--do node-set --json '{"scrub-rate": 0}' >"$CP_TMP/unpriv" 2>&1 || {
		cat "$CP_TMP/unpriv"
		return 1
	}
	grep -q "Operation not permitted" "$CP_TMP/unpriv"
	expect_eq "$(on y "$CTL" -j limits | json_get scrub_rate)" 2097152 "after the refused set"
}

ktap_print_header
ktap_set_plan 4
setup
run_test "node-get: what cachepeerctl status says" test_node_get
run_test "conn-get dump lists a held connection" test_conn_dump
run_test "ring-lookup: the hash and owner cachepeerctl finds" test_ring_lookup
run_test "node-set as admin; refused unprivileged" test_node_set
ktap_finished
