#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the guest (see vm-run.sh): OUT CMD [ARGS...]
out=$1
shift

# Wait for the CRNG before anything runs. Its readiness flips a static key,
# and under QEMU 7.2's TCG (setup.sh says why we need 8.1 or newer) a CPU
# that ran urandom_read_iter() while the key's sites were patched could take
# an "Oops: int3" and kill the guest; left to itself the flip comes under
# load, typically a second into the command. A blocking read makes the
# kernel generate the entropy now; the key is patched from a work item
# (system_unbound_wq), hence the pause. A guest that dies here is booted
# again. This and the RPS setting below cost a second in all and keep the
# command's run free of text patching, whatever the emulator.
head -c 1 /dev/random >/dev/null
sleep 1
# The same holds for the rps_needed key, which the first RPS map on any
# queue turns on and the last turns off: the bench and a selftest write lo's
# rps_cpus, and a loopback send() crossed the patching of netif_rx_internal()
# once ("Oops: int3" in make check). A global RFS flow table holds the key
# on for the guest's life, patched here, before anything runs; without a
# per-queue flow table RFS steers nothing.
echo 4096 >/proc/sys/net/core/rps_sock_flow_entries
: >"$out/started"

mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
# Drop the boot-time kmemleak reports so only the command's count.
[ -w /sys/kernel/debug/kmemleak ] && echo clear >/sys/kernel/debug/kmemleak
echo "cachepeer-vm: start $*" >/dev/kmsg

"$@"
rc=$?

echo "cachepeer-vm: end rc=$rc" >/dev/kmsg
if [ -w /sys/kernel/debug/kmemleak ]; then
	# Objects younger than 5 s are never reported; scan twice so that what
	# the command freed late is not mistaken for a leak.
	sleep 6
	echo scan >/sys/kernel/debug/kmemleak
	sleep 6
	echo scan >/sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak >"$out/kmemleak.txt"
fi
dmesg >"$out/dmesg.txt"
echo "$rc" >"$out/rc"
exit "$rc"
