#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cachepeerctl prints a node's counters in three forms, all driven by one
# table (ctl/counters.c): every counter of the table, and every op and
# status, must appear in each form with the value of one snapshot, under
# its one name. Needs no kernel: ctl_render renders a made-up snapshot.
source "$(dirname "$0")/lib.sh"

# ctl_render's sections ("== NAME" lines) into $CP_TMP/render.NAME.
render() {
	"$(dirname "$0")/ctl_render" |
		awk -v out="$CP_TMP/render" '/^== / { f = out "." $2; next } { print > f }'
}

test_forms_agree() {
	render
	python3 - "$CP_TMP/render" <<'PY'
import json, re, sys
sec = {n: open(f"{sys.argv[1]}.{n}").read().splitlines()
       for n in ("table", "json", "pretty", "prometheus")}
table = [l.split("\t") for l in sec["table"]]
stats = json.loads("".join(sec["json"]))
prom = {}
for l in sec["prometheus"]:
    if l.startswith("#"):
        m = re.match(r"^# TYPE cachepeer_(\w+) (counter|gauge|histogram)$", l)
        if l.startswith("# TYPE") and not m:
            sys.exit(f"bad TYPE line: {l}")
        continue
    if l.startswith("cachepeer_request_duration_seconds"):
        continue  # test_latency_forms
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

# The latency histograms ctl_render made up, read back from each form
# against the bucket layout the uapi header states, worked out here anew.
test_latency_forms() {
	render
	python3 - "$CP_TMP/render" <<'PY'
import json, math, re, sys
sec = {n: open(f"{sys.argv[1]}.{n}").read().splitlines()
       for n in ("table", "json", "pretty", "prometheus")}
NB = (38 - 10) * 4 + 2
def upper(i):  # bucket i holds [lower(i), lower(i + 1)); None: no bound
    if i == NB - 1:
        return None
    j = i + 1
    e = 10 + (j - 1) // 4
    return (1 << e) + (((j - 1) % 4) << (e - 2))
made = {"get": ({0: 1, 5: 10, 41: 989}, 123456789),
        "put": ({30: 7, NB - 1: 3}, 3000000000000)}
def quantile(b, q):
    n, seen = sum(b.values()), 0
    want = max(1, math.ceil(q * n))
    for i in sorted(b):
        seen += b[i]
        if seen >= want:
            return upper(i)
lat = json.loads("".join(sec["json"]))["latency"]
bad = []
if sorted(lat) != sorted(made):
    bad.append(f"json latency ops {sorted(lat)}, want {sorted(made)}")
prom = "\n".join(sec["prometheus"])
pretty = "\n".join(sec["pretty"])
def fmt(ns):
    if ns is None:
        return f">{upper(NB - 2) / 1e9:.0f} s"
    if ns < 1000:
        return f"{ns} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.1f} us"
    if ns < 1e9:
        return f"{ns / 1e6:.1f} ms"
    return f"{ns / 1e9:.2f} s"
for op, (b, s) in made.items():
    j = lat.get(op, {})
    n = sum(b.values())
    want = [[upper(i), b[i]] for i in sorted(b)]
    if j.get("buckets") != want or j.get("count") != n or j.get("sum_ns") != s:
        bad.append(f"json {op}: {j}, want buckets {want}, count {n}, sum {s}")
    qs = {k: quantile(b, q) for k, q in (("p50", .5), ("p99", .99), ("p999", .999))}
    for k, v in qs.items():
        if j.get(k + "_ns", "missing") != v:
            bad.append(f"json {op} {k}_ns {j.get(k + '_ns')}, want {v}")
    # Prometheus: cumulative at every power of two from 2^10 ns, +Inf, sum, count.
    for e in range(10, 39):
        cum = sum(c for i, c in b.items() if upper(i) is not None and upper(i) <= 1 << e)
        pat = (r'^cachepeer_request_duration_seconds_bucket\{node="n1",op="%s",le="%s"\} %d$'
               % (op, re.escape("%.9g" % ((1 << e) / 1e9)), cum))
        if not re.search(pat, prom, re.M):
            bad.append(f"prometheus {op} le=2^{e} ns: no bucket line of {cum}")
    for pat in (r'_bucket\{node="n1",op="%s",le="\+Inf"\} %d$' % (op, n),
                r'_count\{node="n1",op="%s"\} %d$' % (op, n),
                r'_sum\{node="n1",op="%s"\} %s$' % (op, re.escape("%.9f" % (s / 1e9)))):
        if not re.search("^cachepeer_request_duration_seconds" + pat, prom, re.M):
            bad.append(f"prometheus lacks {pat}")
    line = "    %s: p50 %s, p99 %s, p999 %s, mean %s, %d requests" % (
        op, fmt(qs["p50"]), fmt(qs["p99"]), fmt(qs["p999"]), fmt(s // n), n)
    if line not in sec["pretty"]:
        bad.append(f"pretty lacks '{line}'")
if re.search(r'^cachepeer_request_duration_seconds\w*\{node="n1",op="(?!get"|put")', prom, re.M):
    bad.append("prometheus has a histogram for an op with no requests")
if not re.search(r"^# TYPE cachepeer_request_duration_seconds histogram$", prom, re.M):
    bad.append("prometheus: no histogram TYPE line")
if bad:
    sys.exit("\n".join(bad))
print("latency histograms agree in all three forms")
PY
}

ktap_print_header
ktap_set_plan 2
run_test "every counter in pretty, JSON and Prometheus, with one value" test_forms_agree
run_test "latency histograms in pretty, JSON and Prometheus, as the buckets say" test_latency_forms
ktap_finished
