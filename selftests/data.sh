#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The data plane through cachepeerctl, on real filesystems:
#
#   ns d: node on 127.0.0.1:7000 and [::1]:7001, cache on ext4 (loop) or tmpfs
#
source "$(dirname "$0")/lib.sh"

stat_of() { on d "$CTL" -j | python3 -c "import json,sys; print(json.load(sys.stdin)['stats']['$1'])"; }
scan_done() { [ "$(stat_of scan_done)" = True ]; }

# Each subtest starts with this namespace's node stopped, whatever the last did.
fresh() {
	on d "$CTL" stop 2>/dev/null || true
	"$@"
}

setup() {
	modprobe loop
	load_module
	ns_add d
	head -c $((4 << 20)) /dev/urandom >"$CP_TMP/block"
}

zero_copy_on() {
	local dir=$1 zc0 copied0

	on d "$CTL" start --listen 127.0.0.1:7000 --dir "$dir"
	on d "$CTL" put blk "$CP_TMP/block"
	# Counters run from module load: compare what these two GETs add.
	zc0=$(stat_of zc_bytes)
	copied0=$(stat_of copied_bytes)
	on d "$CTL" get blk -o "$CP_TMP/got"
	cmp "$CP_TMP/block" "$CP_TMP/got"
	on d "$CTL" get blk --offset 5000 --length 100000 -o "$CP_TMP/got"
	cmp <(tail -c +5001 "$CP_TMP/block" | head -c 100000) "$CP_TMP/got"
	# Every data byte went out spliced from the page cache, none copied.
	expect_eq $(($(stat_of zc_bytes) - zc0)) $(((4 << 20) + 100000)) "zero-copy bytes"
	expect_eq $(($(stat_of copied_bytes) - copied0)) 0 "copied bytes"
	on d "$CTL" stop
}

test_zero_copy_tmpfs() {
	mkdir -p "$CP_TMP/t"
	zero_copy_on "$CP_TMP/t"
}

test_zero_copy_ext4() {
	mkfs_ext4 e 64M
	zero_copy_on "$CP_TMP/e"
	umount "$CP_TMP/e"
}

# drop_cache FILE: push FILE to disk and evict its pages, so that the node
# reads it back. drop_caches skips folios still held by per-CPU LRU
# batches; DONTNEED drains those and evicts the file's clean pages for certain.
drop_cache() {
	sync
	python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$1"
	echo 3 >/proc/sys/vm/drop_caches
}

# A block stored, then cold (node restarted, pages dropped) with a byte
# changed on disk at OFFSET: the store in $CP_TMP/$1, block 'blk' of $2 bytes.
cold_corrupt_block() {
	local f

	mkfs_ext4 "$1" 64M
	head -c "$2" "$CP_TMP/block" >"$CP_TMP/$1.src"
	on d "$CTL" start --listen 127.0.0.1:7000 --dir "$CP_TMP/$1"
	on d "$CTL" put blk "$CP_TMP/$1.src"
	on d "$CTL" stop
	f=$CP_TMP/$1/$(ls "$CP_TMP/$1" | grep -v lost+found)
	flip "$f" "$3"
	drop_cache "$f"
	# The patrol would find the bad segment too, and on a slow kernel
	# first: the node's own reads are what is tested here.
	on d "$CTL" set --scrub-rate 0
	on d "$CTL" start --listen 127.0.0.1:7000 --dir "$CP_TMP/$1"
	wait_for 60 scan_done
}

# The trailer shares a page with the block's last bytes, and reading it at
# open brings them into the page cache: they are verified then, before any
# GET of them can be answered from the page cache, with a CRC from them.
test_trailer_page_verified() {
	local c0

	cold_corrupt_block tp 5000 4500
	c0=$(stat_of corrupt)
	expect_err 5 "cachepeerctl: stat 'blk': corrupt" on d "$CTL" stat blk
	expect_err 3 "cachepeerctl: get 'blk': not found" \
		on d "$CTL" get blk --offset 4096 --length 904 -o /dev/null
	expect_eq "$(stat_of corrupt)" $((c0 + 1)) "blocks dropped"
	on d "$CTL" stop
	umount "$CP_TMP/tp"
}

# Verifying a range reads ahead exactly the segments it checks: the last
# page of segment 0, then a page of segment 1 changed on disk. Readahead
# past segment 0 would leave that page cached unverified, for the second
# GET to be answered from, with a CRC computed from it.
test_readahead_verified() {
	local c0

	cold_corrupt_block ra $((4 << 20)) $((9 * 4096 + 100))
	c0=$(stat_of corrupt)
	on d "$CTL" get blk --offset $((7 * 4096)) --length 4096 -o "$CP_TMP/ra.got"
	cmp "$CP_TMP/ra.got" <(tail -c +$((7 * 4096 + 1)) "$CP_TMP/ra.src" | head -c 4096)
	expect_err 5 "cachepeerctl: get 'blk': corrupt" \
		on d "$CTL" get blk --offset $((9 * 4096)) --length 4096 -o /dev/null
	expect_eq "$(stat_of corrupt)" $((c0 + 1)) "blocks dropped"
	on d "$CTL" stop
	umount "$CP_TMP/ra"
}

test_corruption() {
	local f corrupt0

	mkfs_ext4 c 64M
	on d "$CTL" start --listen 127.0.0.1:7000 --dir "$CP_TMP/c"
	on d "$CTL" put blk "$CP_TMP/block"
	corrupt0=$(stat_of corrupt)
	f=$(ls "$CP_TMP/c" | grep -v lost+found)
	# Flip one byte of the stored file and push it to disk, then drop the
	# page cache: the node has to read the block back and must notice.
	flip "$CP_TMP/c/$f" 1000000
	sync
	# drop_caches skips folios still held by per-CPU LRU batches; DONTNEED
	# drains those and evicts the file's clean pages for certain.
	python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$CP_TMP/c/$f"
	echo 3 >/proc/sys/vm/drop_caches
	expect_err 5 "cachepeerctl: get 'blk': corrupt" on d "$CTL" get blk -o "$CP_TMP/got"
	expect_eq $(($(stat_of corrupt) - corrupt0)) 1 "corrupt counter"
	# The block is gone, from the index and the directory.
	expect_err 3 "cachepeerctl: get 'blk': not found" on d "$CTL" get blk -o "$CP_TMP/got"
	expect_eq "$(ls "$CP_TMP/c" | grep -vc lost+found)" 0 "files left"
	on d "$CTL" stop
	umount "$CP_TMP/c"
}

test_full_filesystem() {
	mkdir -p "$CP_TMP/f"
	mount -t tmpfs -o size=6M cp-full "$CP_TMP/f"
	on d "$CTL" start --listen 127.0.0.1:7000 --dir "$CP_TMP/f"
	on d "$CTL" put one "$CP_TMP/block"
	expect_err 1 "cachepeerctl: put 'two': no space" on d "$CTL" put two "$CP_TMP/block"
	# Only the block that fitted has a name; the failed one left nothing.
	expect_eq "$(ls "$CP_TMP/f" | wc -l)" 1 "files after NO_SPACE"
	on d "$CTL" get one -o "$CP_TMP/got"
	cmp "$CP_TMP/block" "$CP_TMP/got"
	# A PUT that fills the disk and stalls there, then fails, must not cost
	# the stored block: the maintenance pass, every second, counts the
	# space the PUT holds as free when it decides whether to cull.
	on d python3 - <<'PY'
import socket, struct, time
key = b"three"
hdr = struct.pack(">IBBHQHHIQQQ", 0x43505251, 1, 2, 0, 7, len(key), 0, 0, 0, 0, 4 << 20)
s = socket.create_connection(("127.0.0.1", 7000))
s.sendall(hdr + key + bytes(3 << 20))
time.sleep(3)
s.close()
PY
	expect_eq "$(stat_of evictions)" 0 "evictions while a PUT filled the disk"
	on d "$CTL" get one -o "$CP_TMP/got"
	cmp "$CP_TMP/block" "$CP_TMP/got"
	on d "$CTL" stop
	umount "$CP_TMP/f"
}

test_ipv6() {
	mkdir -p "$CP_TMP/v6"
	on d "$CTL" start --listen '[::1]:7001' --dir "$CP_TMP/v6"
	on d "$CTL" -j | json_get listen | grep -qx '\[::1\]:7001'
	on d "$CTL" put blk "$CP_TMP/block"
	on d "$CTL" get --peer '[::1]:7001' blk -o "$CP_TMP/got"
	cmp "$CP_TMP/block" "$CP_TMP/got"
	expect_err 4 "cachepeerctl: get: cannot connect to 127.0.0.1:7001: Connection refused" \
		on d "$CTL" get --peer 127.0.0.1:7001 blk
	on d "$CTL" stop
}

all_clients_served() {
	[ -e "$CP_TMP/tb.1.ok" ] && [ -e "$CP_TMP/tb.2.ok" ] && [ -e "$CP_TMP/tb.3.ok" ] &&
		[ -e "$CP_TMP/tb.4.ok" ]
}

# Teardown with clients mid-transfer: stop, netns deletion and rmmod. Every
# client has completed GETs when the node goes away; every GET that
# completed, before or during the teardown, delivered the block intact; no
# connection is left; and after each teardown a node started on the same
# directory serves the block again.
test_teardown_busy() {
	local i j

	mkdir -p "$CP_TMP/b"
	for i in 1 2 3; do
		on d "$CTL" start --listen 127.0.0.1:7000 --dir "$CP_TMP/b"
		[ $i != 1 ] || on d "$CTL" put blk "$CP_TMP/block"
		wait_for 60 scan_done
		rm -f "$CP_TMP"/tb.*
		for j in 1 2 3 4; do
			(
				while on d "$CTL" get blk -o "$CP_TMP/tb.$j.out" 2>/dev/null; do
					cmp -s "$CP_TMP/block" "$CP_TMP/tb.$j.out" || : >"$CP_TMP/tb.bad"
					: >"$CP_TMP/tb.$j.ok"
				done
			) &
		done
		wait_for 120 all_clients_served
		case $i in
		1) on d "$CTL" stop ;;
		2) ns_del d; ns_add d ;;
		3) rmmod cachepeer
		   if module_loaded; then echo "rmmod left the module loaded"; return 1; fi
		   load_module ;;
		esac
		wait
		[ ! -e "$CP_TMP/tb.bad" ] || { echo "teardown $i: a GET delivered wrong bytes"; return 1; }
		expect_eq "$(on d "$CTL" -j | json_get state)" stopped "state after teardown $i"
		expect_eq "$(on d "$CTL" conns)" "no connections" "connections after teardown $i"
		on d "$CTL" start --listen 127.0.0.1:7000 --dir "$CP_TMP/b"
		wait_for 60 scan_done
		on d "$CTL" get blk -o "$CP_TMP/tb.after"
		cmp "$CP_TMP/block" "$CP_TMP/tb.after"
		on d "$CTL" stop
	done
}

# A connection the node is finishing (its client half-closed and reads
# slowly, so the answer waits in the node's socket) when the node's
# namespace goes away: the connection is reset, not left to TCP without a
# namespace, and nothing is left behind (the debug kernel's KASAN and
# kmemleak see to that). The client is in the initial namespace, on a veth
# pair, so that the namespace can go while it still holds its end.
test_netns_gone_while_finishing() {
	ip link add "cpd$$" type veth peer name eth0 netns "$(ns d)"
	ip addr add 10.78.0.2/24 dev "cpd$$"
	ip link set "cpd$$" up
	on d ip addr add 10.78.0.1/24 dev eth0
	on d ip link set eth0 up
	mkdir -p "$CP_TMP/g"
	on d "$CTL" start --listen 10.78.0.1:7000 --dir "$CP_TMP/g"
	on d "$CTL" put blk "$CP_TMP/block"
	python3 - "$CP_TMP/reading" "$CP_TMP/gone" <<'PY' &
import os, socket, struct, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
s.connect(("10.78.0.1", 7000))
key = b"blk"
s.sendall(struct.pack(">IBBHQHHIQQQ", 0x43505251, 1, 1, 0, 1, len(key), 0, 0, 0, 0, 0) + key)
s.shutdown(socket.SHUT_WR)
got = 0
while got < 65536:
    got += len(s.recv(65536))
open(sys.argv[1], "w").close()
while not os.path.exists(sys.argv[2]):
    time.sleep(0.1)
s.close()
PY
	wait_for 120 test -e "$CP_TMP/reading"
	expect_eq "$(on d "$CTL" conns -j | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')" \
		1 "connections of the node"
	ns_del d
	# rmmod waits for the namespace's teardown, and then for the module's
	# every reference: a connection left behind would show here or in the log.
	rmmod cachepeer
	touch "$CP_TMP/gone"
	wait
	ip link del "cpd$$" 2>/dev/null || true
	load_module
	ns_add d
}

test_module_params() {
	unload_module
	mkdir -p "$CP_TMP/p"
	load_deps
	# (cache_dir= as given, trailing slash and all: start compares directories.)
	insmod "$KO" cache_dir="$CP_TMP/p/" listen=127.0.0.1:7002 max_block=1M node_name=param
	expect_eq "$("$CTL" -j | json_get state)" running "state"
	expect_eq "$("$CTL" -j | json_get max_block)" 1048576 "max block"
	expect_eq "$("$CTL" -j | json_get dir)" "$CP_TMP/p/" "directory, as given"
	"$CTL" start --listen 127.0.0.1:7002 --dir "$CP_TMP/p" --max-block 1M
	head -c 1048576 "$CP_TMP/block" >"$CP_TMP/1m"
	"$CTL" put small "$CP_TMP/1m"
	expect_err 1 "cachepeerctl: put 'big': too large" "$CTL" put big "$CP_TMP/block"
	rmmod cachepeer
	fails_logged "cache_dir= and listen= must be given together" insmod "$KO" cache_dir="$CP_TMP/p"
	fails_logged "cannot start the node on 127.0.0.1:7002 in $CP_TMP/missing: -2" \
		insmod "$KO" cache_dir="$CP_TMP/missing" listen=127.0.0.1:7002
	fails_logged "listen=bogus: expected ADDR:PORT or \[ADDR6\]:PORT" \
		insmod "$KO" cache_dir="$CP_TMP/p" listen=bogus
	fails_logged "\`65M' invalid for parameter \`max_block'" \
		insmod "$KO" cache_dir="$CP_TMP/p" listen=127.0.0.1:7002 max_block=65M
	load_module
}

ktap_print_header
ktap_set_plan 10
setup
run_test "GET data is 100% zero-copy on tmpfs" fresh test_zero_copy_tmpfs
run_test "GET data is 100% zero-copy on ext4" fresh test_zero_copy_ext4
run_test "a byte flipped on disk is CORRUPT, never served" fresh test_corruption
run_test "the block's last bytes, read with its trailer, are verified" fresh test_trailer_page_verified
run_test "no page read ahead past the verified segments is served" fresh test_readahead_verified
run_test "a full filesystem answers NO_SPACE and keeps nothing partial" fresh test_full_filesystem
run_test "IPv6 listener" fresh test_ipv6
run_test "stop, netns deletion and rmmod with clients mid-transfer" fresh test_teardown_busy
run_test "the namespace goes while a half-closed client still reads" fresh test_netns_gone_while_finishing
run_test "cache_dir=, listen=, max_block= start the initial node" fresh test_module_params
ktap_finished
