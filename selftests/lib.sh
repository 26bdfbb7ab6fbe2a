#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shared by the cachepeer selftests: paths, module and namespace helpers, and
# a small KTAP runner. Each subtest is a function run in a subshell under
# "set -e", so a bare failing assertion fails that subtest and only it.

CP_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KSFT=${KSFT:-$CP_TOP/.cache/linux-src/tools/testing/selftests}
CTL=${CP_CTL:-$CP_TOP/ctl/cachepeerctl}
KO=${CP_KO:-$CP_TOP/kmod/cachepeer.ko}
# A test that wants a client key sets it; the caller's must not leak in.
unset CACHEPEER_KEY

# shellcheck source=/dev/null
. "$KSFT/kselftest/ktap_helpers.sh"

CP_TMP=$(mktemp -d /tmp/cachepeer-test.XXXXXX)
# The guest's /tmp is overlayfs, which cachepeer refuses: give caches a tmpfs.
mount -t tmpfs -o mode=1777 cachepeer-test "$CP_TMP"
NS_PREFIX=cp$$-

module_loaded() { [ -d /sys/module/cachepeer ]; }

unload_module() {
	if module_loaded; then
		rmmod cachepeer
	fi
}

# insmod resolves no dependencies: load what modinfo says the module needs.
load_deps() {
	local dep

	for dep in $(modinfo -F depends "$KO" | tr ',' ' '); do
		modprobe "$dep"
	done
}

load_module() {
	unload_module
	load_deps
	insmod "$KO" "$@"
}

# ns NAME: the full name of this test's namespace NAME.
ns() { echo "$NS_PREFIX$1"; }

ns_add() {
	ip netns add "$(ns "$1")"
	ip -n "$(ns "$1")" link set lo up
}

ns_del() { ip netns del "$(ns "$1")"; }

# on NAME CMD...: run CMD in this test's namespace NAME.
on() {
	local n=$1

	shift
	ip netns exec "$(ns "$n")" "$@"
}

ns_cleanup() {
	local n

	for n in $(ip netns list | awk '{print $1}' | grep "^$NS_PREFIX"); do
		ip netns del "$n"
	done
}

cleanup() {
	ns_cleanup
	unload_module 2>/dev/null
	umount -l "$CP_TMP"
	rmdir "$CP_TMP"
	# vm-run.sh sums these up: where the suite's time goes.
	echo "# duration: $(basename "$0") $SECONDS s"
}
trap cleanup EXIT

# start_args NAME [PORT]: arguments starting a node on 127.0.0.1:PORT (default
# 7000) with a fresh cache directory $CP_TMP/NAME.
start_args() {
	mkdir -p "$CP_TMP/$1"
	echo "--listen 127.0.0.1:${2:-7000} --dir $CP_TMP/$1"
}

# mkfs_ext4 NAME SIZE: an ext4 filesystem on a loop device, mounted at $CP_TMP/NAME.
mkfs_ext4() {
	truncate -s "$2" "$CP_TMP/$1.img"
	mkfs.ext4 -q -F "$CP_TMP/$1.img"
	mkdir -p "$CP_TMP/$1"
	mount -o loop "$CP_TMP/$1.img" "$CP_TMP/$1"
}

# json_get FIELD: print FIELD of the JSON object on stdin (and validate it).
json_get() {
	python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
	if [ "$1" != "$2" ]; then
		echo "$3: got '$1', expected '$2'"
		return 1
	fi
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds; fail
# after SECONDS (a bound for a hung kernel, not a timing assumption).
wait_for() {
	local end=$(($(date +%s) + $1))

	shift
	until "$@"; do
		if [ "$(date +%s)" -ge "$end" ]; then
			echo "timed out waiting for: $*"
			return 1
		fi
		sleep 0.1
	done
}

# flip FILE OFFSET: invert the byte of FILE at OFFSET. Inverted, not set to
# a constant: one byte in 256 of random data already holds any constant, and
# the "corrupt" block would then be intact.
flip() {
	local b

	b=$(od -An -tu1 -j "$2" -N1 "$1") || return
	# shellcheck disable=SC2059 # the format is the byte, built here
	printf "\\$(printf %o $((~b & 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# fails CMD...: CMD must exit non-zero.
fails() {
	if "$@"; then
		echo "unexpectedly succeeded: $*"
		return 1
	fi
	return 0
}

# expect_err STATUS MESSAGE CMD...: CMD exits STATUS and prints exactly MESSAGE on stderr.
expect_err() {
	local want_rc=$1 want_msg=$2 rc msg

	shift 2
	# An assignment from a failing command would end a "set -e" subtest.
	msg=$("$@" 2>&1 >/dev/null) && rc=0 || rc=$?
	expect_eq "$rc" "$want_rc" "exit status of '$*'" &&
	expect_eq "$msg" "$want_msg" "error of '$*'"
}

# expect_usage MESSAGE CMD...: CMD exits 2 (bad command line), MESSAGE on the
# first line of stderr and the command's usage after it.
expect_usage() {
	local want_msg=$1 rc msg

	shift
	msg=$("$@" 2>&1 >/dev/null) && rc=0 || rc=$?
	expect_eq "$rc" 2 "exit status of '$*'" &&
	expect_eq "$(head -1 <<<"$msg")" "$want_msg" "error of '$*'" &&
	expect_eq "$(sed -n '2s/ .*//p' <<<"$msg")" "usage:" "usage after the error of '$*'"
}

# fails_logged PATTERN CMD...: CMD fails, and the kernel says why: a line
# matching PATTERN (grep -E) appears in the kernel log while it runs.
fails_logged() {
	local pattern=$1 mark

	shift
	mark="cachepeer-test: $$ $(date +%s%N)"
	echo "$mark" >/dev/kmsg
	if "$@"; then
		echo "unexpectedly succeeded: $*"
		return 1
	fi
	if ! dmesg | sed -n "/$mark/,\$p" | grep -qE "$pattern"; then
		echo "'$*' failed, but the kernel log does not say '$pattern':"
		dmesg | sed -n "/$mark/,\$p"
		return 1
	fi
}

# skip REASON: end this subtest as skipped. Only this skips: the exit
# status KSFT_SKIP alone is also the tool's "cannot reach a node" (4),
# which must fail a subtest, not skip it.
skip() {
	echo "$1"
	: >"$CP_TMP/.skipped"
	exit "$KSFT_SKIP"
}

# run_test DESC FUNC: run one subtest and report it. With CP_ONLY set (an
# extended regex), a subtest whose function name does not match is skipped:
# for a debug-kernel run of a few subtests and those they build on.
run_test() {
	local desc=$1 rc

	shift
	local t0=$SECONDS

	if [ -n "${CP_ONLY:-}" ] && ! [[ $1 =~ $CP_ONLY ]]; then
		echo "# $desc: not in CP_ONLY"
		ktap_test_skip "$desc"
		return
	fi

	# A failing command is named, for those that fail without a word (grep -q):
	# on stderr, and only at the subtest's own level, since errtrace makes
	# command substitutions (whose commands may fail on purpose) inherit it.
	(set -eE
	 level=$BASH_SUBSHELL
	 trap '[ "$BASH_SUBSHELL" != "$level" ] ||
	       echo "failed: $BASH_COMMAND (${BASH_SOURCE[0]##*/}:$LINENO)" >&2' ERR
	 "$@") >"$CP_TMP/.subtest-log" 2>&1
	rc=$?
	[ $rc != "$KSFT_SKIP" ] || [ -e "$CP_TMP/.skipped" ] || rc=1
	rm -f "$CP_TMP/.skipped"
	echo "# $desc: $((SECONDS - t0)) s"
	if [ $rc = 0 ]; then
		ktap_test_pass "$desc"
	elif [ $rc = "$KSFT_SKIP" ]; then
		sed 's/^/# /' "$CP_TMP/.subtest-log"
		ktap_test_skip "$desc"
	else
		sed 's/^/# /' "$CP_TMP/.subtest-log"
		ktap_test_fail "$desc"
	fi
}
