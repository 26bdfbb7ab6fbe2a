#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module's unit tests run inside the kernel: cachepeer_test.ko
# (kmod/selftest.c) runs them at load and reports in KTAP to the kernel log.
# This prints that report as its own, and fails if the module failed to load
# or any of its tests failed.
source "$(dirname "$0")/lib.sh"

TKO=${CP_TEST_KO:-$CP_TOP/kmod/cachepeer_test.ko}
mark="cachepeer-unit: $$ $(date +%s%N)"

[ -e "$TKO" ] || { echo "# $TKO missing (make module builds it)"; ktap_exit_fail_msg "no test module"; }
rmmod cachepeer_test 2>/dev/null
for dep in $(modinfo -F depends "$TKO" | tr ',' ' '); do
	modprobe "$dep"
done
echo "$mark" >/dev/kmsg
insmod "$TKO" && rc=0 || rc=$?
# The module's lines, from the marker on, without the printk prefix (and the
# time stamp, unless printk.time=0).
dmesg | sed -n "/$mark/,\$p" | sed -n 's/^\(\[[ 0-9.]*\] \)\{0,1\}cachepeer_test: //p' >"$CP_TMP/unit.ktap"
rmmod cachepeer_test 2>/dev/null
cat "$CP_TMP/unit.ktap"
grep -q '^1\.\.[0-9]' "$CP_TMP/unit.ktap" || ktap_exit_fail_msg "the test module printed no plan"
if [ "$rc" != 0 ] || grep -q '^not ok' "$CP_TMP/unit.ktap"; then
	exit "$KSFT_FAIL"
fi
exit "$KSFT_PASS"
