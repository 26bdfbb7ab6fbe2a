#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
Check that calls between the module's parts go one way, from nm of the
objects: a reference from one object to a symbol another defines is a call
(or a use of its data). Within a part files may call each other, except
where a part is declared acyclic; between parts, only downward.

    scripts/layers.py [KMOD_DIR]      (default: kmod/, after "make module")

Every object of cachepeer.ko must be in PARTS below; a new file is placed
here when it is added.
"""
import os
import subprocess
import sys

# Part, its rank (calls go from a lower rank to a higher one), its files,
# and whether the calls among its own files must form no cycle. Cluster and
# store share a rank: neither may call the other; so do auth and codec.
PARTS = [
    ("control", 0, ["main", "netlink", "nl_gen", "nl_node", "nl_ring", "nl_conn", "nl_key"], False),
    ("node", 1, ["service", "params", "ringfile"], True),
    ("connections", 2, ["conn", "rx", "bounds", "hello", "request", "miss", "put_fwd", "tx"], False),
    ("cluster", 3, ["cluster", "peer", "link", "ring", "view"], True),
    ("store", 3, ["store", "index", "blkfile", "dirfile", "put", "scan", "evict", "scrub"], True),
    ("auth", 4, ["auth"], True),
    ("codec", 4, ["proto", "crc"], True),
    ("stats", 5, ["stats", "trace"], True),
]
MODULE_OBJS = "cachepeer.mod"  # the list of objects kbuild linked


def nm(path, *args):
    out = subprocess.run(["nm", *args, path], check=True, capture_output=True, text=True)
    return out.stdout.splitlines()


def main():
    kdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "kmod")
    part_of = {}
    for name, rank, files, acyclic in PARTS:
        for f in files:
            part_of[f] = (name, rank)

    with open(os.path.join(kdir, MODULE_OBJS)) as f:
        objs = [os.path.basename(o)[:-2] for o in f.read().split()]
    errors = [f"{o}.o is in no part: place it in scripts/layers.py" for o in objs if o not in part_of]
    errors += [f"{f}.o is in a part but not in the module" for f in part_of if f not in objs]

    defined = {}
    for o in objs:
        for line in nm(os.path.join(kdir, o + ".o"), "--defined-only", "--extern-only"):
            defined[line.split()[-1]] = o

    calls = {}  # (caller, callee) -> a symbol, for the message
    for o in objs:
        for line in nm(os.path.join(kdir, o + ".o"), "--undefined-only"):
            sym = line.split()[-1]
            callee = defined.get(sym)
            if callee and callee != o:
                calls.setdefault((o, callee), sym)

    for (caller, callee), sym in sorted(calls.items()):
        (cpart, crank), (epart, erank) = part_of.get(caller, ("?", 0)), part_of.get(callee, ("?", 0))
        if cpart == epart:
            continue
        if crank >= erank:
            errors.append(f"{caller}.o ({cpart}) calls {callee}.o ({epart}): {sym}")

    # No cycle among the files of an acyclic part.
    for name, rank, files, acyclic in PARTS:
        if not acyclic:
            continue
        edges = {f: sorted(e for (c, e) in calls if c == f and e in files) for f in files}
        state = {}

        def visit(f, path):
            if state.get(f) == "done":
                return
            if state.get(f) == "open":
                cycle = path[path.index(f):] + [f]
                errors.append(f"{name}: files call each other in a circle: "
                              + " -> ".join(c + ".o" for c in cycle))
                return
            state[f] = "open"
            for e in edges[f]:
                visit(e, path + [f])
            state[f] = "done"

        for f in files:
            visit(f, [])

    if errors:
        for e in errors:
            print("layers: " + e, file=sys.stderr)
        print("layers: calls between parts must go down:", file=sys.stderr)
        print("layers:   " + " -> ".join(p[0] for p in PARTS), "(cluster and store side by side)",
              file=sys.stderr)
        return 1
    print(f"layers: {len(objs)} objects, {len(calls)} calls between files, all downward")
    return 0


if __name__ == "__main__":
    sys.exit(main())
