#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make bench-ring": runs inside the guest. Builds a ring of MEMBERS
# (default 1000) members at the default weight in the kernel, and reports
# its build time, its memory, and lookups per second in the kernel and in
# the client library (cachepeerctl ring bench), over the same hashes in the
# same guest. Guest speed is emulated: compare the two, not with hardware.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ctl=$top/ctl/cachepeerctl
n=${MEMBERS:-1000}
conf=$(mktemp /tmp/cachepeer-ring.XXXXXX)

cleanup() {
	rmmod cachepeer 2>/dev/null
	rm -f "$conf"
}
trap cleanup EXIT

for i in $(seq 1 "$n"); do
	echo "member node-$i 10.$((i / 250)).$((i % 250)).1:7000"
done >"$conf"
insmod "$top/kmod/cachepeer.ko"
# The ring is built when set; a node need not run for that.
"$ctl" ring load "$conf"
"$ctl" ring -j | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("ring of %d members, %d points: built in %.2f ms, %d bytes (%.1f B per point)"
      % (len(r["members"]), r["points"], r["build_ns"] / 1e6, r["mem"], r["mem"] / r["points"]))'
"$ctl" ring bench --count 1000000
