#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot Debian's 6.12 kernel under virtme-ng, run a command as root with the
# host's filesystem as root (copy-on-write; writes are discarded), and return
# its exit status. The guest's kernel log is kept in $CP_VM_OUT/dmesg.txt;
# any WARN, BUG, Oops, KASAN, lockdep, RCU or refcount report, or a kmemleak
# leak, after the command started fails the run.
#
#   scripts/vm-run.sh [--tap] [--kernel IMAGE] -- CMD [ARGS...]
#
#   --tap          CMD prints kselftest TAP: print "N passed, N failed, N skipped"
#                  over its subtests, counting a clean kernel log as one more test
#   --kernel IMAGE boot IMAGE instead of /boot/vmlinuz-<detected release>
#
# Environment: CP_KVM=1 uses KVM (default TCG: nested KVM is broken here),
# CP_VM_MEM (default 2G), CP_VM_CPUS (2), CP_VM_TIMEOUT seconds (2400),
# CP_VM_OUT directory for logs (default .cache/vm), CP_VM_VERBOSE=0 keeps the
# guest's kernel console out of $CP_VM_OUT/vng.stderr (by default it is there,
# so that a guest that dies before it can save dmesg still leaves its last
# words; the end of it is printed then).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${CP_VM_OUT:-$top/.cache/vm}
tap=0
kernel=

while [ $# -gt 0 ]; do
	case "$1" in
	--tap) tap=1 ;;
	--kernel) kernel=$2; shift ;;
	--) shift; break ;;
	*) echo "vm-run: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done
[ $# -gt 0 ] || { echo "usage: vm-run.sh [--tap] [--kernel IMAGE] -- CMD..." >&2; exit 2; }

if [ -z "$kernel" ]; then
	rel=$("$top/scripts/kernelrelease.sh") || { echo "vm-run: no 6.12 kernel (run scripts/setup.sh)" >&2; exit 1; }
	kernel=/boot/vmlinuz-$rel
fi
command -v vng >/dev/null || { echo "vm-run: virtme-ng missing (run scripts/setup.sh)" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)

verbose=(--verbose)
[ "${CP_VM_VERBOSE:-1}" = 0 ] && verbose=()
accel=(--disable-kvm)
[ "${CP_KVM:-0}" = 1 ] && accel=()

# The guest writes results into $out, the one directory it may write through.
# virtme-init coldplugs every device through udev, waits at most 120 s for
# it to settle, and then runs the command on /dev/virtio-ports/<name>. The
# debug kernel under TCG on a 2-CPU host did not settle in time, even with
# a single rule, found no script ports and died, every boot. Those links are
# all the guest needs of udev (devtmpfs makes the nodes), so it gets a
# "systemd-udevd" that makes them and nothing else (scripts/guest-systemd):
# the guest runs no systemd, and boots faster without udev.
gout=/tmp/cp-vm-out
cmd=$(printf '%q ' "$top/scripts/guest-run.sh" "$gout" "$@")
boot() {
	echo "vm-run: booting $(basename "$kernel") (${accel[*]:-kvm}, ${CP_VM_CPUS:-2} vCPUs, ${CP_VM_MEM:-2G})"
	timeout -k 30 "${CP_VM_TIMEOUT:-2400}" \
		vng -r "$kernel" "${accel[@]}" "${verbose[@]}" --cpus "${CP_VM_CPUS:-2}" --memory "${CP_VM_MEM:-2G}" \
		--rodir "/usr/lib/systemd=$top/scripts/guest-systemd" \
		--rwdir "$gout=$out" --cwd "$PWD" --exec "$cmd" </dev/null 2>"$out/vng.stderr" |
		tee "$out/console.log"
	vng_rc=${PIPESTATUS[0]}
}

boot
# Under QEMU 7.2's TCG the stock kernel occasionally oopsed while patching
# its own text (static keys), early in boot or when the CRNG became ready,
# which guest-run.sh waits for before the command. setup.sh now installs a
# QEMU without that race. A slow guest (the debug kernel under TCG on a busy
# host) can also miss its own udev deadline and then find no script ports.
# Only a guest that died before the command began (guest-run.sh creates
# "started" just before it) is booted again, twice at most, so no failure
# of CMD is hidden; each such console is kept.
for retry in 1 2; do
	[ ! -e "$out/started" ] && [ ! -e "$out/rc" ] || break
	mv "$out/vng.stderr" "$out/vng.stderr.$retry"
	echo "vm-run: the guest died before running the command (its console: $out/vng.stderr.$retry); booting again" >&2
	tail -n 5 "$out/vng.stderr.$retry" >&2
	boot
done

rc=$(cat "$out/rc" 2>/dev/null)
if [ -z "$rc" ]; then
	echo "vm-run: the guest did not finish the command (vng exit $vng_rc; timeout ${CP_VM_TIMEOUT:-2400} s)" >&2
	tail -n 20 "$out/vng.stderr" >&2
	rc=125
fi

# Kernel log problems since the command started.
bad='WARNING:|BUG:|Oops|KASAN|UBSAN|kernel BUG|general protection|Call Trace|'
bad+='possible circular locking|possible recursive locking|inconsistent lock state|'
bad+='suspicious RCU usage|lockdep|refcount_t:|list_add corruption|list_del corruption|'
bad+='ODEBUG|blocked for more than|scheduling while atomic|sleeping function called'
log_ok=1
if [ -e "$out/dmesg.txt" ]; then
	sed -n '/cachepeer-vm: start/,$p' "$out/dmesg.txt" | grep -v 'cachepeer-vm: ' | grep -E "$bad" >"$out/problems.txt"
	if [ -s "$out/problems.txt" ]; then
		log_ok=0
		echo "vm-run: the guest kernel reported problems (full log: $out/dmesg.txt):" >&2
		head -n 40 "$out/problems.txt" >&2
	fi
else
	log_ok=0
	echo "vm-run: no guest kernel log was saved" >&2
fi
if [ -s "$out/kmemleak.txt" ]; then
	log_ok=0
	echo "vm-run: kmemleak found leaks ($out/kmemleak.txt):" >&2
	head -n 40 "$out/kmemleak.txt" >&2
fi

if [ $tap = 1 ]; then
	# Subtests are the nested "# ok"/"# not ok" lines; a program that failed
	# without reporting a failing subtest (crash, timeout) counts once more.
	log=$out/console.log
	pass=$(grep -aE '^# ok [0-9]+ ' "$log" | grep -avc '# SKIP' || true)
	skip=$(grep -aE '^# ok [0-9]+ ' "$log" | grep -ac '# SKIP' || true)
	fail=$(grep -acE '^# not ok [0-9]+ ' "$log" || true)
	prog_ok=$(grep -acE '^ok [0-9]+ ' "$log" || true)
	prog_fail=$(grep -acE '^not ok [0-9]+ ' "$log" || true)
	if [ "$prog_fail" -gt 0 ] && [ "$fail" -eq 0 ]; then
		fail=$prog_fail
	fi
	if [ $((prog_ok + prog_fail)) -eq 0 ]; then
		echo "vm-run: no test ran" >&2
		fail=$((fail + 1))
	fi
	if [ $log_ok = 1 ]; then
		echo "ok - guest kernel log clean"
		pass=$((pass + 1))
	else
		echo "not ok - guest kernel log clean"
		fail=$((fail + 1))
	fi
	[ "$rc" = 0 ] || [ "$fail" -gt 0 ] || fail=1
	# Each test program reports its own duration: where the time went.
	grep -aoE '# duration: [^ ]+ [0-9]+ s' "$log" |
		awk '{t += $4; printf "%s %s s, ", $3, $4} END {if (NR) printf "in all %d s\n", t}' |
		sed 's/^/durations: /'
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" = 0 ] || exit 1
	exit 0
fi

[ $log_ok = 1 ] || { [ "$rc" != 0 ] || rc=1; }
exit "$rc"
