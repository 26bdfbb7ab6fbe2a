#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""
The YNL spec, Documentation/netlink/specs/cachepeer.yaml, against the uapi
header: valid by the kernel's genetlink-legacy schema, and naming every
command, attribute (in every attribute set) and enum value the header
has, with the header's value, and each constant the spec names with the
value of the header's define (the generated policies use the define). A
command or attribute added to the header and not to the spec fails make
check.
"""
import os
import re
import sys

import jsonschema
import yaml

top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
spec_path = os.path.join(top, "Documentation/netlink/specs/cachepeer.yaml")
schema_path = os.path.join(top, ".cache/linux-src/Documentation/netlink/genetlink-legacy.yaml")
header = open(os.path.join(top, "include/uapi/linux/cachepeer.h")).read()


def c_enum(name):
    """An enum of the header: its names and values, __*_MAX and *_MAX = __*_MAX - 1 left out."""
    body = re.search(r"enum %s \{(.*?)\};" % name, header, re.S)
    if not body:
        sys.exit(f"ynl-check: no enum {name} in the header")
    out, v = {}, 0
    for m in re.finditer(r"^\s*(\w+)(?:\s*=\s*([\w -]+))?,?\s*(?:/\*.*)?$", body[1], re.M):
        if m[1].startswith("__") or (m[2] or "").startswith("__"):
            continue
        if m[2]:
            v = int(m[2])
        out[m[1]] = v
        v += 1
    return out


def c_name(prefix, name):
    return (prefix + name).upper().replace("-", "_")


spec = yaml.safe_load(open(spec_path))
jsonschema.validate(spec, yaml.safe_load(open(schema_path)))
bad = []


def compare(what, cname, prefix, entries):
    want = c_enum(cname)
    got = {c_name(prefix, n): v for n, v in entries}
    for n in sorted(set(want) | set(got), key=lambda n: want.get(n, got.get(n))):
        if want.get(n) != got.get(n):
            bad.append(f"{what}: {n} is {got.get(n)} in the spec, {want.get(n)} in the header")


def c_define(name):
    """A #define of the header with a constant integer value: its value."""
    m = re.search(r"^#define %s\s+(.*?)\s*(?:/\*.*)?$" % name, header, re.M)
    expr = re.sub(r"(?<=[0-9])U?L{0,2}\b", "", m[1]) if m else ""
    if not re.fullmatch(r"[0-9()<+* -]+", expr):
        return None
    return eval(expr, {"__builtins__": {}})  # digits, shifts and parentheses only


for d in spec["definitions"]:
    if d["type"] == "const":
        # The generated policies name the header's define for each bound.
        n = c_name("cachepeer-", d["name"])
        if c_define(n) != d["value"]:
            bad.append(f"const {d['name']}: {d['value']} in the spec, {c_define(n)} in the header")
    if d["type"] == "enum":
        start = d.get("value-start", 0)
        compare(f"enum {d['name']}", d["enum-name"], d["name-prefix"],
                [(e, start + i) for i, e in enumerate(d["entries"])])
for s in spec["attribute-sets"]:
    if "enum-name" not in s:  # the sets indexed by op or status
        continue
    v, entries = 1, []
    for a in s["attributes"]:
        v = a.get("value", v)
        entries.append((a["name"], v))
        v += 1
    compare(f"attribute set {s['name']}", s["enum-name"], s["name-prefix"], entries)
ops = spec["operations"]
compare("operations", ops["enum-name"], ops["name-prefix"],
        [("unspec", 0)] + [(o["name"], o["value"]) for o in ops["list"]])
if bad:
    sys.exit("ynl-check: the spec and include/uapi/linux/cachepeer.h differ:\n" + "\n".join(bad))
print(f"ynl-check: {len(ops['list'])} commands and {len(spec['attribute-sets'])} attribute sets "
      "match the header; the spec is valid")
