#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Config files: up and down, setconf, syncconf and showconf.
#
#   ns a 10.78.0.1      ns b 10.78.0.2      ns c 10.78.0.3
#   config n1           n2: joins via n1    n3: joins via n1
#        |                   |                   |
#   ------------ cpcbr<pid> (bridge, init namespace) ------------
#
# The subtests run in order, each on the nodes the previous one left. A
# connection held open to n1 from the start tells whether a command
# disturbed the node: a restart or a deleted key would close it.
source "$(dirname "$0")/lib.sh"

ETC=$CP_TMP/etc
RAW=$(dirname "$0")/cp_raw
export CACHEPEER_CONFIG_DIR=$ETC

setup() {
	local i=0 n

	load_module
	modprobe bridge
	modprobe veth
	ip link add "cpcbr$$" type bridge
	ip link set "cpcbr$$" up
	for n in a b c; do
		i=$((i + 1))
		ns_add "$n"
		ip link add "cpc$$-$n" type veth peer name eth0 netns "$(ns "$n")"
		ip link set "cpc$$-$n" master "cpcbr$$" up
		on "$n" ip addr add "10.78.0.$i/24" dev eth0
		on "$n" ip link set eth0 up
		mkdir -p "$CP_TMP/$n"
	done
	mkdir -p "$ETC"
	for k in cluster reader writer writer2; do
		"$CTL" genkey >"$ETC/$k.key"
	done
	# Relative paths are the config file's directory's.
	cat >"$ETC/n1.conf" <<-EOF
	# node one
	[Node]
	Namespace = $(ns a)
	Name = n1
	Listen = 10.78.0.1:7000
	Directory = $CP_TMP/a
	MaxBytes = 64M
	IdleTimeout = 1h
	Access = writes
	ClusterKey = cluster.key

	[Key reader]
	Role = read
	File = reader.key

	[Key writer]
	Role = write
	File = $ETC/writer.key

	[Ring]
	Seed = 10.78.0.1:7000
	EOF
	sed -e "s/$(ns a)/$(ns b)/; s/^Name = n1/Name = n2/; s/10.78.0.1:7000/10.78.0.2:7000/" \
	    -e "s|$CP_TMP/a|$CP_TMP/b|; s/^Seed = .*/Seed = 10.78.0.9:7000\nSeed = 10.78.0.1:7000\nWeight = 50/" \
	    "$ETC/n1.conf" >"$ETC/n2.conf"
	sed -e "s/$(ns a)/$(ns c)/; s/^Name = n1/Name = n3/; s/10.78.0.1:7000/10.78.0.3:7000/" \
	    -e "s|$CP_TMP/a|$CP_TMP/c|; s/^Seed = .*/Seed = 10.78.0.1:7000/" \
	    "$ETC/n1.conf" >"$ETC/n3.conf"
}

cleanup_bridge() { ip link del "cpcbr$$" 2>/dev/null || true; }

# fpr FILE: a key file's fingerprint, as the node computes it (the first 8
# bytes of SHA-256 of the secret, less one trailing newline).
fpr() {
	python3 -c 'import hashlib, sys
s = open(sys.argv[1], "rb").read()
s = s[:-1] if s.endswith(b"\n") else s
print(hashlib.sha256(s).hexdigest()[:16])' "$1"
}

# The connection held open to n1, authenticated with the reader key: its
# local port; and whether n1 still has it, under a reader key that was
# never replaced (a new key has no connections).
hold_conn() {
	mkfifo "$CP_TMP/held.in"
	CACHEPEER_KEY=reader:$ETC/reader.key on a "$RAW" -w 10.78.0.1:7000 stat held \
		<"$CP_TMP/held.in" >"$CP_TMP/held" &
	echo $! >"$CP_TMP/held.pid"
	# Its standard input stays open, from a sleep of ours, until the end.
	sleep 3600 >"$CP_TMP/held.in" &
	echo $! >"$CP_TMP/held.sleep"
	wait_for 60 test -s "$CP_TMP/held"
	sed -i 's/^port //' "$CP_TMP/held"
}

hold_end() {
	kill "$(cat "$CP_TMP/held.sleep")" "$(cat "$CP_TMP/held.pid")" 2>/dev/null || true
}

held() {
	on a "$CTL" conns | grep -q "10.78.0.1:$(cat "$CP_TMP/held") " &&
	on a "$CTL" key list | grep -q "^reader  *read  *[0-9a-f]*  *1$"
}

epoch() { on "$1" "$CTL" -j status | json_get epoch; }

test_up() {
	"$CTL" up n1
	expect_eq "$(on a "$CTL" -j | json_get state)" running "state"
	expect_eq "$(on a "$CTL" -j | json_get name)" n1 "name"
	expect_eq "$(on a "$CTL" -j | json_get access_set)" writes "access"
	expect_eq "$(on a "$CTL" -j limits | json_get max_bytes)" $((64 << 20)) "max_bytes"
	expect_eq "$(on a "$CTL" -j limits | json_get idle_timeout_s)" 3600 "idle timeout"
	on a "$CTL" key list | grep -q "^reader  *read  *$(fpr "$ETC/reader.key") "
	on a "$CTL" key list | grep -q "^writer  *write  *$(fpr "$ETC/writer.key") "
	on a "$CTL" key list | grep -q "  *$(fpr "$ETC/cluster.key") .*(cluster key)$"
	on a "$CTL" ring show --config | grep -qx "member n1 10.78.0.1:7000 weight 100"
	# The first seed does not answer; the second does.
	"$CTL" up n2 2>/dev/null
	on b "$CTL" ring show --config | grep -qx "member n2 10.78.0.2:7000 weight 50"
	wait_for 60 eval 'on a "$CTL" ring show --config | grep -qx "member n2 10.78.0.2:7000 weight 50"'
	"$CTL" up n3 >/dev/null
	wait_for 60 eval '[ "$(on a "$CTL" ring show --config | grep -c "^member")" = 3 ]'
	hold_conn
	held
}

# up again: nothing changes, nothing is disturbed.
test_up_again() {
	local e1 e2

	wait_for 60 eval '[ "$(epoch a)" = "$(epoch b)" ] && [ "$(epoch a)" = "$(epoch c)" ]'
	e1=$(epoch a)
	e2=$(epoch b)
	# Members already: no join, no seed asked.
	expect_eq "$("$CTL" up n1 2>&1)" "" "output of up n1"
	expect_eq "$("$CTL" up n2 2>&1)" "" "output of up n2"
	expect_eq "$(epoch a)" "$e1" "n1's ring epoch"
	expect_eq "$(epoch b)" "$e2" "n2's ring epoch"
	held
}

test_showconf_roundtrip() {
	local before e

	before=$(on a "$CTL" showconf)
	grep -qx "MaxBytes = 64M" <<<"$before"
	grep -qx "IdleTimeout = 1h" <<<"$before"
	grep -qx "Directory = $CP_TMP/a" <<<"$before"
	grep -qx "ClusterKeyFingerprint = $(fpr "$ETC/cluster.key")" <<<"$before"
	grep -qx "Fingerprint = $(fpr "$ETC/reader.key")" <<<"$before"
	grep -qx "Seed = 10.78.0.2:7000" <<<"$before"
	# No secret in it.
	for k in "$ETC"/*.key; do
		if grep -qF "$(head -c 32 "$k")" <<<"$before"; then
			echo "showconf shows the secret of $k"
			return 1
		fi
	done
	e=$(epoch a)
	on a "$CTL" showconf | on a "$CTL" setconf -
	on a "$CTL" showconf | on a "$CTL" syncconf -
	expect_eq "$(on a "$CTL" showconf)" "$before" "showconf after setconf"
	expect_eq "$(epoch a)" "$e" "ring epoch"
	held
}

# syncconf changes what differs and disturbs nothing else; what needs a
# restart is refused, naming it, and nothing of that file is applied.
test_syncconf() {
	sed -e 's/^MaxBytes = .*/MaxBytes = 32M/; s/^\[Key writer\]/[Key writer2]/' \
	    -e 's|^File = .*/writer.key|File = writer2.key|' "$ETC/n1.conf" >"$ETC/n1-sync.conf"
	on a "$CTL" syncconf "$ETC/n1-sync.conf"
	expect_eq "$(on a "$CTL" -j limits | json_get max_bytes)" $((32 << 20)) "max_bytes"
	on a "$CTL" key list | grep -q "^writer2  *write  *$(fpr "$ETC/writer2.key") "
	fails eval 'on a "$CTL" key list | grep -q "^writer "'
	held
	sed -e 's/^Listen = .*/Listen = 10.78.0.1:7001/; s/^MaxBytes = .*/MaxBytes = 16M/' \
	    "$ETC/n1.conf" >"$ETC/n1-listen.conf"
	expect_err 1 "cachepeerctl: syncconf: Listen 10.78.0.1:7001 differs from the running node's 10.78.0.1:7000: it changes only with a restart (setconf, or down and up)" \
		on a "$CTL" syncconf "$ETC/n1-listen.conf"
	expect_err 1 "cachepeerctl: up: Listen 10.78.0.1:7001 differs from the running node's 10.78.0.1:7000: it changes only with a restart (setconf, or down and up)" \
		"$CTL" up "$ETC/n1-listen.conf"
	expect_eq "$(on a "$CTL" -j limits | json_get max_bytes)" $((32 << 20)) "max_bytes after refusal"
	held
	# A key named by its fingerprint alone must be the node's; a file
	# that fails so changes nothing, settings before it included.
	printf '[Node]\nMaxBytes = 8M\n[Key reader]\nRole = read\nFingerprint = 0123456789abcdef\n' \
		>"$ETC/fpr.conf"
	expect_err 1 "cachepeerctl: syncconf: [Key reader]: the node has no such key with fingerprint 0123456789abcdef; give its File" \
		on a "$CTL" syncconf "$ETC/fpr.conf"
	expect_eq "$(on a "$CTL" -j limits | json_get max_bytes)" $((32 << 20)) "max_bytes after a bad key"
	on a "$CTL" key list | grep -q "^writer2 "
	# Back to n1.conf: writer2 goes, writer returns.
	on a "$CTL" syncconf "$ETC/n1.conf"
	on a "$CTL" key list | grep -q "^writer  *write "
	held
}

# setconf applies what syncconf refuses: the node restarts on the new port.
test_setconf_restart() {
	on a "$CTL" setconf "$ETC/n1-listen.conf"
	expect_eq "$(on a "$CTL" -j | json_get listen)" 10.78.0.1:7001 "listen"
	expect_eq "$(on a "$CTL" -j limits | json_get max_bytes)" $((16 << 20)) "max_bytes"
	wait_for 60 eval '! held'
	# The ring still has n1 at its old address: up says so, not skips it.
	out=$("$CTL" up "$ETC/n1-listen.conf" 2>&1) && return 1
	grep -qx "cachepeerctl: join: n1 is in the ring with address 10.78.0.1:7000; leave first" <<<"$out"
	grep -qx "cachepeerctl: up: the node runs, but joined no ring: no seed took it in" <<<"$out"
	on a "$CTL" setconf "$ETC/n1.conf"
	expect_eq "$(on a "$CTL" -j | json_get listen)" 10.78.0.1:7000 "listen back"
}

# down stops and keeps the ring; up brings the node back as a member
# without asking a seed.
test_down_up() {
	"$CTL" down n1
	"$CTL" down n1
	expect_eq "$(on a "$CTL" -j | json_get state)" stopped "state after down"
	on a "$CTL" ring show --config | grep -qx "member n1 10.78.0.1:7000 weight 100"
	sed 's/^Seed = .*/Seed = 10.78.0.9:7000/' "$ETC/n1.conf" >"$ETC/n1-noseed.conf"
	"$CTL" up "$ETC/n1-noseed.conf"
	expect_eq "$(on a "$CTL" -j | json_get state)" running "state after up"
	CACHEPEER_KEY=writer:$ETC/writer.key on a "$CTL" put conf-block "$ETC/n1.conf" --peer 10.78.0.1:7000
	on a "$CTL" get conf-block --peer 10.78.0.1:7000 | cmp - "$ETC/n1.conf"
}

test_bad_files() {
	printf '[Node]\nMaxBytes = 1X\n' >"$ETC/bad.conf"
	expect_usage "cachepeerctl setconf: invalid size '1X' for MaxBytes at $ETC/bad.conf:2 (bytes, or with K, M, G, T)" \
		on a "$CTL" setconf "$ETC/bad.conf"
	printf '[Node]\n# c\nMaxConns = 0\n' >"$ETC/bad.conf"
	expect_usage "cachepeerctl setconf: MaxConns at $ETC/bad.conf:3 must be 1 to 1048576, not '0'" \
		on a "$CTL" setconf "$ETC/bad.conf"
	printf '[Node]\nmaxbytes = 1M\nMaxBytes = 2M\n' >"$ETC/bad.conf"
	expect_err 2 "cachepeerctl: $ETC/bad.conf:3: MaxBytes given twice" \
		on a "$CTL" setconf "$ETC/bad.conf"
	printf '[Node]\nListen = 10.78.0.1:7000\n' >"$ETC/bad.conf"
	expect_err 2 "cachepeerctl: $ETC/bad.conf:2: [Node] needs Listen and Directory both, or neither" \
		on a "$CTL" setconf "$ETC/bad.conf"
	printf '[Nodes]\n' >"$ETC/bad.conf"
	expect_err 2 "cachepeerctl: $ETC/bad.conf:1: unknown section [Nodes]" \
		on a "$CTL" setconf "$ETC/bad.conf"
	printf '[Key x]\nRole = read\nRole = admin\n' >"$ETC/bad.conf"
	expect_err 2 "cachepeerctl: $ETC/bad.conf:3: Role given twice" \
		on a "$CTL" setconf "$ETC/bad.conf"
	printf '[Key x]\nRole = admin\n' >"$ETC/bad.conf"
	expect_err 2 "cachepeerctl: $ETC/bad.conf:2: Role is read or write, not 'admin'" \
		on a "$CTL" setconf "$ETC/bad.conf"
	printf '[Key my key]\n' >"$ETC/bad.conf"
	expect_err 2 "cachepeerctl: $ETC/bad.conf:1: a key name is 1-63 of [A-Za-z0-9._-], not member.*: 'my key'" \
		on a "$CTL" setconf "$ETC/bad.conf"
	printf '[Ring]\nKey = nocolon\n' >"$ETC/bad.conf"
	expect_err 2 "cachepeerctl: $ETC/bad.conf:2: Key is NAME:FILE, not 'nocolon'" \
		on a "$CTL" setconf "$ETC/bad.conf"
	expect_err 1 "cachepeerctl: config '$ETC/none.conf': No such file or directory" \
		"$CTL" up none
	# None of it reached the node.
	expect_eq "$(on a "$CTL" -j limits | json_get max_bytes)" $((64 << 20)) "max_bytes"
}

# Runbook: a failed cache disk. The node comes back on an empty directory
# (no saved ring): up joins through its seeds under its name and address,
# and the ring is as it was.
test_failed_disk() {
	local ring

	ring=$(on a "$CTL" ring show --config)
	"$CTL" down n3
	rm -rf "${CP_TMP:?}/c"
	mkdir "$CP_TMP/c"
	"$CTL" up n3 >/dev/null
	[ -e "$CP_TMP/c/cachepeer.ring.0" ] || [ -e "$CP_TMP/c/cachepeer.ring.1" ]
	wait_for 60 eval '[ "$(on c "$CTL" ring show --config)" = "$ring" ]'
}

# The whole cluster goes down and the module is reloaded: started with
# nothing but start, each node is back under its name in the same ring,
# and blocks are read through routing.
# The rolling-upgrade runbook, but for the module swap (one kernel holds
# every node here): n2 drained by its config (Weight = 0, up as reload
# does), blocks written meanwhile, n2 down and up, its weight restored;
# every block then read from every node, routed to owners that include n2
# again (which hands off what it missed from the members that held it).
weight_of() { on a "$CTL" ring show --config | awk -v n="$1" '$2 == n { print $5 }'; }

test_rolling_upgrade() {
	local keys k n

	# Four keys n2 owns (as it will again, its weight back) and four it
	# does not, found before it is drained.
	on a "$CTL" ring lookup $(seq -f 'roll-%g' 0 59) >"$CP_TMP/roll.owners"
	keys="$(awk '$3 == "n2" { print $1 }' "$CP_TMP/roll.owners" | head -4)
	      $(awk '$3 != "n2" { print $1 }' "$CP_TMP/roll.owners" | head -4)"
	expect_eq "$(wc -w <<<"$keys")" 8 "keys found"
	sed 's/^Weight = .*/Weight = 0/' "$ETC/n2.conf" >"$ETC/n2-drain.conf"
	"$CTL" up "$ETC/n2-drain.conf" >/dev/null
	wait_for 60 eval '[ "$(weight_of n2)" = 0 ]'
	for k in $keys; do
		head -c 20000 /dev/urandom >"$CP_TMP/$k"
		CACHEPEER_KEY=writer:$ETC/writer.key on a "$CTL" put "$k" "$CP_TMP/$k"
	done
	"$CTL" down n2
	"$CTL" up "$ETC/n2-drain.conf" >/dev/null
	expect_eq "$(weight_of n2)" 0 "weight while drained"
	"$CTL" up n2 >/dev/null
	wait_for 60 eval '[ "$(weight_of n2)" = 50 ]'
	wait_for 60 eval '[ "$(on b "$CTL" ring show --config | awk '"'"'$2 == "n2" { print $5 }'"'"')" = 50 ]'
	for n in a b c; do
		for k in $keys; do
			on "$n" "$CTL" get "$k" | cmp - "$CP_TMP/$k"
		done
	done
}

test_restart_all() {
	local ring epoch n key=conf-restart-block

	head -c 300000 /dev/urandom >"$CP_TMP/restart.data"
	CACHEPEER_KEY=writer:$ETC/writer.key on c "$CTL" put "$key" "$CP_TMP/restart.data"
	wait_for 60 eval '[ "$(epoch a)" = "$(epoch b)" ] && [ "$(epoch a)" = "$(epoch c)" ]'
	ring=$(on a "$CTL" ring show --config)
	epoch=$(epoch a)
	hold_end
	"$CTL" down n1
	"$CTL" down n2
	"$CTL" down n3
	rmmod cachepeer
	insmod "$KO"
	# Started at another address, c takes nor overwrites the saved ring.
	on c "$CTL" start --listen 10.78.0.3:7001 --dir "$CP_TMP/c"
	expect_eq "$(on c "$CTL" ring show --config | grep -c '^member')" 0 "members at 7001"
	dmesg | grep -q "the saved ring has this node at another address"
	on c "$CTL" stop
	on a "$CTL" start --listen 10.78.0.1:7000 --dir "$CP_TMP/a"
	on b "$CTL" start --listen 10.78.0.2:7000 --dir "$CP_TMP/b"
	on c "$CTL" start --listen 10.78.0.3:7000 --dir "$CP_TMP/c"
	for n in a b c; do
		expect_eq "$(on "$n" "$CTL" ring show --config)" "$ring" "ring of $n"
		expect_eq "$(epoch "$n")" "$epoch" "epoch of $n"
	done
	expect_eq "$(on a "$CTL" -j | json_get name)" n1 "name of a"
	expect_eq "$(on c "$CTL" -j | json_get name)" n3 "name of c"
	# From every node, routed by its ring to the owner.
	for n in a b c; do
		on "$n" "$CTL" get "$key" | cmp - "$CP_TMP/restart.data"
	done
}

# dmesg_count TEXT: kernel log lines with TEXT so far.
dmesg_count() { dmesg | grep -c -- "$1" || true; }

# members_in N: the members of namespace N's ring.
members_in() { on "$1" "$CTL" ring show --config | grep -c '^member' || true; }

# Ring files a node must not take: ones others may write (planted by
# someone who may write in the directory), ones whose CRC does not check
# out. A node with a ring in memory does not read them, so a new node (in
# namespace e, at c's address) starts on c's directory: it starts with no
# ring, as a new one, and leaves them alone; given the files back as they
# were, it takes the ring. Then a ring file of a newer format: the node
# refuses the directory, and leaves the file as it was.
test_newer_format() {
	local f=$CP_TMP/c/cachepeer.ring.0 sum n0 files g

	on c "$CTL" stop
	[ -e "$f" ] || f=$CP_TMP/c/cachepeer.ring.1
	files=("$CP_TMP"/c/cachepeer.ring.*)
	sum=$(cat "${files[@]}" | md5sum)
	ns_add e
	on e ip link add cpd0 type dummy
	on e ip addr add 10.78.0.3/24 dev cpd0
	on e ip link set cpd0 up
	n0=$(dmesg_count "is not the node's ring file: ignored")
	chmod 0666 "${files[@]}"
	on e "$CTL" start --listen 10.78.0.3:7000 --dir "$CP_TMP/c"
	expect_eq "$(members_in e)" 0 "members from files others may write"
	on e "$CTL" stop
	[ "$(dmesg_count "is not the node's ring file: ignored")" -gt "$n0" ]
	chmod 0600 "${files[@]}"
	n0=$(dmesg_count "does not check out: ignored")
	for g in "${files[@]}"; do
		cp -p "$g" "$g.saved"
		# A byte of the encoding (past the file's header) flipped.
		python3 -c 'import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(100); b = f.read(1); f.seek(100); f.write(bytes([b[0] ^ 0xff]))' "$g"
	done
	on e "$CTL" start --listen 10.78.0.3:7000 --dir "$CP_TMP/c"
	expect_eq "$(members_in e)" 0 "members from files that do not check out"
	on e "$CTL" stop
	[ "$(dmesg_count "does not check out: ignored")" -gt "$n0" ]
	for g in "${files[@]}"; do
		mv "$g.saved" "$g"
	done
	expect_eq "$(cat "${files[@]}" | md5sum)" "$sum" "the files left alone"
	on e "$CTL" start --listen 10.78.0.3:7000 --dir "$CP_TMP/c"
	expect_eq "$(members_in e)" 3 "members from the files as they were"
	on e "$CTL" stop
	ns_del e
	# The format version: the two bytes after the magic.
	printf '\x09\x00' | dd of="$f" bs=1 seek=4 conv=notrunc status=none
	sum=$(md5sum <"$f")
	expect_err 1 "cachepeerctl: start: cache directory written by a newer cachepeer (its ring file's format; see the kernel log) (Protocol not supported)" \
		on c "$CTL" start --listen 10.78.0.3:7000 --dir "$CP_TMP/c"
	expect_eq "$(on c "$CTL" -j | json_get state)" stopped "state"
	expect_eq "$(md5sum <"$f")" "$sum" "the newer file"
	dmesg | grep -q "cachepeer.ring.[01] is of format 9, newer than this module's 1: not starting on it"
	# A block of a newer format: neither served nor removed.
	head -c 1000 /dev/urandom >"$CP_TMP/newer.data"
	on b "$CTL" put newer-block "$CP_TMP/newer.data" --peer 10.78.0.2:7000
	f=$(echo "$CP_TMP"/b/*.3e8)
	[ -f "$f" ]
	# The footer's version: after the data, one CRC and 26 bytes of footer;
	# patched while the node is stopped, so that its file is opened anew.
	on b "$CTL" stop
	printf '\x09\x00' | dd of="$f" bs=1 seek=$((1000 + 4 + 26)) conv=notrunc status=none
	sum=$(md5sum <"$f")
	on b "$CTL" start --listen 10.78.0.2:7000 --dir "$CP_TMP/b"
	wait_for 60 eval '[ "$(on b "$CTL" -j | python3 -c "import json,sys; print(json.load(sys.stdin)[\"stats\"][\"scan_done\"])")" = True ]'
	fails on b "$CTL" get newer-block --peer 10.78.0.2:7000 -o /dev/null 2>/dev/null
	expect_eq "$(md5sum <"$f")" "$sum" "the newer block's file"
	expect_eq "$(on b "$CTL" -j stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["foreign"])')" 0 "foreign"
	dmesg | grep -q "block file [0-9a-f]*.3e8 is of format 9, newer than this module's 1: not served, kept"
}

# Runbook: a node replaced under its name by a new host at a new address
# (namespace d): deleted from the ring on any member, then brought up from
# its config. Last: the old n3 (c) stays down.
test_replace_node() {
	# The module was reloaded (test_restart_all): the files put the keys back.
	"$CTL" up n1 >/dev/null
	"$CTL" up n2 >/dev/null
	ns_add d
	ip link add "cpc$$-d" type veth peer name eth0 netns "$(ns d)"
	ip link set "cpc$$-d" master "cpcbr$$" up
	on d ip addr add 10.78.0.4/24 dev eth0
	on d ip link set eth0 up
	mkdir -p "$CP_TMP/d"
	on a "$CTL" ring del n3
	wait_for 60 eval '! on b "$CTL" ring show --config | grep -q "^member n3 "'
	sed -e "s/$(ns c)/$(ns d)/; s/10.78.0.3:7000/10.78.0.4:7000/; s|$CP_TMP/c|$CP_TMP/d|" \
	    "$ETC/n3.conf" >"$ETC/n3-new.conf"
	"$CTL" up "$ETC/n3-new.conf" >/dev/null
	on d "$CTL" ring show --config | grep -qx "member n3 10.78.0.4:7000 weight 100"
	wait_for 60 eval 'on b "$CTL" ring show --config | grep -qx "member n3 10.78.0.4:7000 weight 100"'
	expect_eq "$(on a "$CTL" ring show --config | grep -c '^member')" 3 "members"
}

# A node removed from the ring while it was down learns so when it comes
# back, and up joins it again through its seeds.
test_removed_while_down() {
	"$CTL" down n2
	on a "$CTL" ring del n2
	wait_for 60 eval '! on d "$CTL" ring show --config | grep -q "^member n2 "'
	"$CTL" up n2 >/dev/null
	on b "$CTL" ring show --config | grep -qx "member n2 10.78.0.2:7000 weight 50"
	wait_for 60 eval 'on d "$CTL" ring show --config | grep -qx "member n2 10.78.0.2:7000 weight 50"'
	expect_eq "$(on a "$CTL" ring show --config | grep -c '^member')" 3 "members"
}

ktap_print_header
ktap_set_plan 13
setup
run_test "up brings nodes up from their files, joined through the first seed that answers" test_up
run_test "up again changes and disturbs nothing" test_up_again
run_test "showconf | setconf - changes nothing; no secret shown" test_showconf_roundtrip
run_test "syncconf applies what differs, refuses what needs a restart" test_syncconf
run_test "setconf restarts the node for a new listen address" test_setconf_restart
run_test "down stops, up brings a member back with no seed" test_down_up
run_test "bad files are refused with file and line, changing nothing" test_bad_files
run_test "runbook: a failed cache disk, the node back on an empty one" test_failed_disk
run_test "runbook: rolling upgrade, the node drained, restarted, its weight back" test_rolling_upgrade
run_test "a cluster restarted whole after a module reload keeps its ring and names" test_restart_all
run_test "ring files others may write or that do not check out are ignored; newer formats: a ring file stops start, a block is kept unserved" test_newer_format
run_test "runbook: a node replaced under its name at a new address" test_replace_node
run_test "a node removed while down learns so, and up joins it again" test_removed_while_down
hold_end
cleanup_bridge
ktap_finished
