#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every network namespace is an independent node.
#
#   init netns        ns a              ns b
#   [node: stopped]   [node "n-a"]      [node "n-b"]
#
source "$(dirname "$0")/lib.sh"

setup() {
	load_module
	ns_add a
	ns_add b
}

test_family_resolves() {
	"$CTL" status >/dev/null
	on a "$CTL" status >/dev/null
	on b "$CTL" status >/dev/null
}

test_status_fields() {
	local j

	j=$(on a "$CTL" -j status)
	expect_eq "$(json_get state <<<"$j")" stopped "state"
	expect_eq "$(json_get name <<<"$j")" "" "name"
	expect_eq "$(json_get version <<<"$j")" "$(cat "$CP_TOP/VERSION")" "version"
	on a "$CTL" | grep -qx '  state: stopped'
	on a "$CTL" | grep -qx 'node: (unnamed)'
}

test_independent() {
	on a "$CTL" set --name n-a
	on a "$CTL" start $(start_args a)
	on b "$CTL" set --name n-b
	expect_eq "$(on a "$CTL" -j | json_get state)" running "a state"
	expect_eq "$(on b "$CTL" -j | json_get state)" stopped "b state"
	expect_eq "$("$CTL" -j | json_get state)" stopped "init state"
	expect_eq "$(on a "$CTL" -j | json_get name)" n-a "a name"
	expect_eq "$(on b "$CTL" -j | json_get name)" n-b "b name"
	expect_eq "$("$CTL" -j | json_get name)" "" "init name"
	on b "$CTL" start $(start_args b)
	on a "$CTL" stop
	expect_eq "$(on a "$CTL" -j | json_get state)" stopped "a state after stop"
	expect_eq "$(on b "$CTL" -j | json_get state)" running "b state after a stopped"
}

# start and stop repeat as boot scripts need: the same settings again
# succeed and leave the node alone (the kernel refuses a second start);
# others fail, naming the setting.
test_state_errors() {
	on a "$CTL" start $(start_args a) 2>/dev/null || true
	on a "$CTL" start $(start_args a)
	on a "$CTL" start $(start_args a) --max-block 4M --frame-timeout 30s
	expect_err 1 "cachepeerctl: start: the node is running with --listen 127.0.0.1:7000, not 127.0.0.1:7009 (stop it first)" \
		on a "$CTL" start $(start_args a 7009)
	mkdir -p "$CP_TMP/a2"
	expect_err 1 "cachepeerctl: start: the node is running with --dir $(realpath "$CP_TMP/a"), not $(realpath "$CP_TMP/a2") (stop it first)" \
		on a "$CTL" start --listen 127.0.0.1:7000 --dir "$CP_TMP/a2"
	expect_err 1 "cachepeerctl: start: the node is running with --max-block 4194304, not 1048576 (stop it first)" \
		on a "$CTL" start $(start_args a) --max-block 1M
	expect_err 1 "cachepeerctl: start: the node is running with --frame-timeout 30000ms, not 5000ms (stop it first)" \
		on a "$CTL" start $(start_args a) --frame-timeout 5s
	expect_eq "$(on a "$CTL" -j | json_get state)" running "state after repeated start"
	on a "$CTL" stop
	on a "$CTL" stop
	expect_eq "$(on a "$CTL" -j | json_get state)" stopped "state after repeated stop"
	expect_err 1 "cachepeerctl: set: name must be 1-63 bytes of [A-Za-z0-9._-] (Invalid argument)" \
		on a "$CTL" set --name bad/name
	expect_eq "$(on a "$CTL" -j | json_get name)" n-a "name after rejected set"
}

# Anyone who can reach an open node may write: start says so, once, when
# the node listens beyond loopback with access open (no key, or set so).
test_open_warning() {
	local warn="cachepeerctl: warning: access is open: anyone reaching 0.0.0.0:7001 may PUT and DEL"

	on b "$CTL" stop
	expect_eq "$(on b "$CTL" start --listen 0.0.0.0:7001 --dir "$CP_TMP/b" 2>&1)" "$warn" "open"
	on b "$CTL" | grep -qx '  access: open (auto: writes once there is a key)'
	on b "$CTL" stop
	expect_eq "$(on b "$CTL" start $(start_args b) 2>&1)" "" "open on loopback"
	on b "$CTL" stop
	on b "$CTL" set --access writes
	expect_eq "$(on b "$CTL" start --listen 0.0.0.0:7001 --dir "$CP_TMP/b" 2>&1)" "" "writes"
	expect_eq "$(on b "$CTL" -j | json_get access)" writes "policy"
	on b "$CTL" set --access auto
}

test_netns_delete() {
	ns_add c
	on c "$CTL" start $(start_args c)
	ns_del c
	# The node died with its namespace; the others are untouched.
	expect_eq "$(on b "$CTL" -j | json_get state)" running "b state"
}

test_rmmod_with_namespaces() {
	on a "$CTL" start $(start_args a)
	on b "$CTL" start $(start_args b) 2>/dev/null || true
	rmmod cachepeer
	[ ! -d /sys/module/cachepeer ]
	expect_err 6 "cachepeerctl: cachepeer module is not loaded" on a "$CTL"
	# Namespaces outlive the module and get fresh nodes when it returns.
	insmod "$KO"
	expect_eq "$(on a "$CTL" -j | json_get state)" stopped "a state after reload"
	rmmod cachepeer
}

ktap_print_header
ktap_set_plan 7
setup
run_test "family resolves in every namespace" test_family_resolves
run_test "status reports version, state and name" test_status_fields
run_test "state and name are per namespace" test_independent
run_test "start/stop repeat; start with other settings and set errors are one line with the reason" test_state_errors
run_test "start warns when an open node listens beyond loopback" test_open_warning
run_test "deleting a namespace with a running node" test_netns_delete
run_test "rmmod while namespaces with running nodes exist" test_rmmod_with_namespaces
ktap_finished
