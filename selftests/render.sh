#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cachepeerctl prints a node's counters in three forms, all driven by one
# table (ctl/counters.c): every counter of the table, and every op and
# status, must appear in each form with the value of one snapshot, under
# its one name. Needs no kernel: ctl_render renders a made-up snapshot.
source "$(dirname "$0")/lib.sh"

test_forms_agree() {
	"$(dirname "$0")/ctl_render" >"$CP_TMP/render.txt"
	python3 - "$CP_TMP/render.txt" <<'PY'
import json, re, sys
sec, cur = {}, None
for line in open(sys.argv[1]).read().splitlines():
    m = re.match(r"^== (\w+)$", line)
    if m:
        cur = m[1]
        sec[cur] = []
    else:
        sec[cur].append(line)
table = [l.split("\t") for l in sec["table"]]
stats = json.loads("".join(sec["json"]))
prom = {}
for l in sec["prometheus"]:
    if l.startswith("#"):
        m = re.match(r"^# TYPE cachepeer_(\w+) (counter|gauge)$", l)
        if l.startswith("# TYPE") and not m:
            sys.exit(f"bad TYPE line: {l}")
        continue
    m = re.match(r'^cachepeer_(\w+)\{node="n1"(?:,(\w+="\w+"))?\} ([0-9.]+)$', l)
    if not m:
        sys.exit(f"bad sample: {l}")
    prom[m[1] + ("{" + m[2] + "}" if m[2] else "")] = float(m[3])
pretty = "\n".join(sec["pretty"])
bad, names = [], set()
for path, pname, kind, unit, help, value, shown in table:
    value = int(value)
    if path in names or pname in names:
        bad.append(f"{path} / {pname}: a name used twice")
    names |= {path, pname}
    # JSON: under "stats", in its group; booleans as true/false.
    node = stats
    for k in path.split("."):
        node = node.get(k) if isinstance(node, dict) else None
    if node is None or int(node) != value or (unit == "2") != isinstance(node, bool):
        bad.append(f"json {path} = {node!r}, want {value}")
    # Prometheus: counters end in _total; milliseconds are seconds there.
    got = prom.get(pname)
    want = value / 1000 if unit == "3" else value
    if got is None or abs(got - want) > 1e-6:
        bad.append(f"prometheus {pname} = {got}, want {want}")
    if kind == "counter" and not pname.split("{")[0].endswith("_total"):
        bad.append(f"prometheus {pname}: a counter's name must end in _total")
    # Pretty: "help: value" for counters, "op value" for the families.
    if help != "-":
        if not re.search(r"^ +" + re.escape(f"{help}: {shown}") + "$", pretty, re.M):
            bad.append(f"pretty has no line '{help}: {shown}'")
    elif not re.search(r"[ :]" + re.escape(f"{path.split('.')[1]} {value}") + r"[,\n]",
                       pretty + "\n"):
        bad.append(f"pretty lacks {path} {value}")
if len(prom) != len(table):
    bad.append(f"prometheus has {len(prom)} series, the table {len(table)}")
if bad:
    sys.exit("\n".join(bad))
print(f"{len(table)} counters agree in all three forms")
PY
}

ktap_print_header
ktap_set_plan 1
run_test "every counter in pretty, JSON and Prometheus, with one value" test_forms_agree
ktap_finished
