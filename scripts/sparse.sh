#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make C=2 over every module source; any sparse report fails. Usage: sparse.sh KDIR
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kdir=$1
command -v sparse >/dev/null || { echo "sparse: not installed (run scripts/setup.sh)" >&2; exit 1; }

log=$(make -C "$kdir" M="$top" C=2 CACHEPEER_SELFTEST=m modules 2>&1)
rc=$?
reports=$(grep -E '(warning|error):' <<<"$log")
if [ $rc != 0 ] || [ -n "$reports" ]; then
	echo "$log" | grep -vE '^  (CC|LD|MODPOST|CHECK)' >&2
	echo "sparse: FAILED" >&2
	exit 1
fi
echo "sparse: clean ($(grep -c '  CHECK' <<<"$log") files)"
