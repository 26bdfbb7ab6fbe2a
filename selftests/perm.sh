#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Mutating commands need CAP_NET_ADMIN over the target namespace; reading
# status does not.
source "$(dirname "$0")/lib.sh"

# as_nobody CMD...: run CMD as an unprivileged user with no capabilities.
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all "$@"
}

test_unpriv_read() {
	as_nobody "$CTL" status >/dev/null
	as_nobody "$CTL" -j | json_get state >/dev/null
}

test_unpriv_mutate_refused() {
	expect_err 1 "cachepeerctl: start: permission denied" \
		as_nobody "$CTL" start $(start_args p)
	expect_err 1 "cachepeerctl: stop: permission denied" as_nobody "$CTL" stop
	expect_err 1 "cachepeerctl: set: permission denied" as_nobody "$CTL" set --name x
	expect_err 1 "cachepeerctl: set: permission denied" \
		as_nobody "$CTL" set --max-blocks 1
	expect_err 1 "cachepeerctl: scrub start: permission denied" as_nobody "$CTL" scrub start
	expect_err 1 "cachepeerctl: ring add: permission denied" \
		as_nobody "$CTL" ring add x 10.0.0.1:7000
	expect_err 1 "cachepeerctl: ring load: permission denied" as_nobody "$CTL" ring load --force /dev/null
	expect_err 1 "cachepeerctl: ring del: permission denied" as_nobody "$CTL" ring del x
	expect_err 1 "cachepeerctl: ring set: permission denied" as_nobody "$CTL" ring set x --weight 1
	head -c 32 /dev/zero >"$CP_TMP/key"
	chmod 644 "$CP_TMP/key"
	expect_err 1 "cachepeerctl: set: permission denied" \
		as_nobody "$CTL" set --cluster-key "$CP_TMP/key"
	expect_err 1 "cachepeerctl: set: permission denied" \
		as_nobody "$CTL" set --access open
	expect_err 1 "cachepeerctl: key add: permission denied" \
		as_nobody "$CTL" key add k --role write "$CP_TMP/key"
	"$CTL" key add k --role read "$CP_TMP/key"
	expect_err 1 "cachepeerctl: key del: permission denied" as_nobody "$CTL" key del k
	# Even names and fingerprints are the administrator's.
	expect_err 1 "cachepeerctl: key list: permission denied" as_nobody "$CTL" key list
	expect_eq "$("$CTL" key list -j | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')" \
		1 "keys after refused edits"
	"$CTL" key del k
	expect_eq "$("$CTL" ring -j | json_get members)" "[]" "ring after refused edits"
	expect_eq "$("$CTL" -j | json_get state)" stopped "state after refused start"
	expect_eq "$("$CTL" -j | json_get name)" "" "name after refused set"
	expect_eq "$("$CTL" limits -j | json_get max_blocks)" 0 "limit after refused set"
	# Reading limits, statistics and the ring needs no privilege.
	as_nobody "$CTL" limits >/dev/null
	as_nobody "$CTL" stats --prometheus | grep -q '^cachepeer_up{node=""} 0$'
	as_nobody "$CTL" ring >/dev/null
	as_nobody "$CTL" ring lookup somekey >/dev/null
	# Clients' addresses and the cache's path do.
	expect_err 1 "cachepeerctl: conns: permission denied" as_nobody "$CTL" conns
	"$CTL" start $(start_args p)
	"$CTL" -j | json_get dir | grep -qx "$CP_TMP/p"
	expect_eq "$(as_nobody "$CTL" -j | python3 -c 'import json, sys; print("dir" in json.load(sys.stdin))')" \
		False "the path in an unprivileged status"
	as_nobody "$CTL" | grep -qx '  cache directory: (needs CAP_NET_ADMIN)'
	"$CTL" stop
}

test_userns_owner() {
	if [ "$(sysctl -n kernel.unprivileged_userns_clone 2>/dev/null || echo 1)" != 1 ]; then
		skip "unprivileged user namespaces are disabled"
	fi
	# Root of a new user namespace has no rights over the initial network
	# namespace, which the initial user namespace owns...
	expect_err 1 "cachepeerctl: start: permission denied" \
		as_nobody unshare --user --map-root-user "$CTL" start $(start_args u)
	# ...but owns the network namespaces it creates, and runs their nodes,
	# in directories its own user may write.
	chown nobody "$CP_TMP/u"
	head -c 100000 /dev/urandom >"$CP_TMP/ublock"
	chmod 644 "$CP_TMP/ublock"
	# Its blocks are its own: created as it (not as the kernel worker that
	# writes them, which is root), so that it can open them again after a
	# restart, and they count against its quota.
	as_nobody unshare --user --map-root-user --net sh -ec "
		ip link set lo up
		'$CTL' start $(start_args u)
		'$CTL' put blk '$CP_TMP/ublock'
		'$CTL' -j >'$CP_TMP/userns.json'
		'$CTL' stop
		'$CTL' start $(start_args u)
		until '$CTL' -j | grep -q '\"scan_done\":true'; do sleep 0.1; done
		'$CTL' get blk -o '$CP_TMP/ugot'"
	expect_eq "$(json_get state <"$CP_TMP/userns.json")" running "own node's state"
	expect_eq "$("$CTL" -j | json_get state)" stopped "initial node's state"
	expect_eq "$(stat -c %u "$CP_TMP"/u/*.*)" "$(id -u nobody)" "owner of the block file"
	cmp "$CP_TMP/ublock" "$CP_TMP/ugot"
}

ktap_print_header
ktap_set_plan 3
load_module
run_test "unprivileged status works" test_unpriv_read
run_test "unprivileged start/stop/set/limits/scrub/ring/key refused: permission denied" test_unpriv_mutate_refused
run_test "a user namespace's root manages only its own node" test_userns_owner
ktap_finished
