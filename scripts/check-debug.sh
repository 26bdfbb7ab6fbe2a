#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole selftest suite on a KASAN + lockdep + kmemleak + atomic-sleep
# kernel built from Debian's 6.12 source (cached in .cache/linux-debug; the
# first build takes about 15-25 minutes). vm-run.sh ends with a kmemleak
# scan and fails on any report. Not part of CI: run it before calling a
# data-path change done. The debug kernel under TCG runs the suite about ten
# times slower: CP_TIME_SCALE (10) stretches the node timeouts that only
# bound how long a test watches something, and each test program gets
# CP_DEBUG_TEST_TIMEOUT seconds (7200) instead of 1200. The whole suite
# takes hours there: CP_DEBUG_TESTS="data.sh cluster.sh ..." runs only the
# named test programs (as selftests/Makefile names them), for a change that
# touches one area or a run split in parts, and CP_ONLY (a regex of subtest
# function names, lib.sh) only those subtests of them.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tree=$(scripts/debug-kernel.sh)
scripts/setup.sh

# The module must match the kernel it loads into; "make check" rebuilds it
# for the stock kernel afterwards (kbuild notices the changed flags).
make KDIR="$tree" module
make ctl tests
subset=()
if [ -n "${CP_DEBUG_TESTS:-}" ]; then
	gen=() sh=()
	for t in $CP_DEBUG_TESTS; do
		case $t in
		*.sh) sh+=("$t") ;;
		*) gen+=("$t") ;;
		esac
	done
	subset=("TEST_GEN_PROGS=${gen[*]}" "TEST_PROGS=${sh[*]}")
fi
CP_VM_MEM=${CP_VM_MEM:-4G} CP_VM_TIMEOUT=${CP_VM_TIMEOUT:-14400} \
	scripts/vm-run.sh --tap --kernel "$tree/arch/x86/boot/bzImage" -- \
	env CP_TIME_SCALE="${CP_TIME_SCALE:-10}" CP_ONLY="${CP_ONLY:-}" \
	make -C selftests run_tests kselftest_override_timeout="${CP_DEBUG_TEST_TIMEOUT:-7200}" \
	"${subset[@]}"
