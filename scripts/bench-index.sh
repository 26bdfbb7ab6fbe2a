#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make bench-index": runs inside the guest. Index memory per cold block and
# the start-up index rebuild for BLOCKS (default 200000) block names, against
# "find DIR -type f | wc -l" over the same directory in the same guest. The
# files are empty: the rebuild reads names only, never file contents, which
# is what this measures. Guest speed is emulated: the ratio is what counts.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ctl=$top/ctl/cachepeerctl
n=${BLOCKS:-200000}
work=$(mktemp -d /tmp/cachepeer-index.XXXXXX)

cleanup() {
	"$ctl" stop 2>/dev/null
	rmmod cachepeer 2>/dev/null
	umount -l "$work" 2>/dev/null
}
trap cleanup EXIT

mount -t tmpfs -o size=256m,nr_inodes=0 cachepeer-index "$work"
mkdir "$work/cache"
python3 - "$work/cache" "$n" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    # "<32 hex id>.<hex size>", as the module names blocks; 4 MiB each.
    open(os.path.join(d, os.urandom(16).hex() + ".400000"), "w").close()
PY

now() { date +%s.%N; }

# Warm the dentry cache the same way for both: one untimed listing first.
find "$work/cache" -type f | wc -l >/dev/null
t0=$(now)
count=$(find "$work/cache" -type f | wc -l)
t1=$(now)
find_s=$(python3 -c "print($t1 - $t0)")

insmod "$top/kmod/cachepeer.ko" scrub_rate=0
t0=$(now)
"$ctl" start --listen 127.0.0.1:7000 --dir "$work/cache"
while [ "$("$ctl" stats -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["scan_done"])')" != True ]; do
	sleep 0.02
done
t1=$(now)
scan_s=$(python3 -c "print($t1 - $t0)")
"$ctl" stats -j >"$work/stats.json"

python3 - "$work/stats.json" "$count" "$find_s" "$scan_s" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["stats"]
count, find_s, scan_s = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
blocks, mem = s["blocks"], s["index_mem"]
print(f"files: {count}, indexed: {blocks}, open files: {s['open_files']}")
print(f"index memory: {mem} B, {mem / blocks:.1f} B per cold block (target <= 96)")
rebuild_s = s["scan_ms"] / 1000
print(f"find | wc -l: {find_s:.3f} s")
print(f"rebuild: {rebuild_s:.3f} s as the module timed its scan; "
      f"{scan_s:.3f} s from start until a poll saw it done")
print(f"rebuild / find: {rebuild_s / find_s:.2f}x (target <= 2x)")
PY
