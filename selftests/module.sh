#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Module lifecycle: load, unload, parameters, and autoload through the
# generic netlink family name.
source "$(dirname "$0")/lib.sh"

test_modinfo() {
	local info

	info=$(modinfo "$KO")
	grep -qx 'license: *GPL' <<<"$info"
	grep -qx "version: *$(cat "$CP_TOP/VERSION")" <<<"$info"
	grep -qx 'alias: *net-pf-16-proto-16-family-cachepeer' <<<"$info"
	grep -q '^parm: *node_name:.*Default: ' <<<"$info"
}

test_load_unload() {
	local i

	unload_module
	load_deps
	for i in 1 2 3; do
		insmod "$KO"
		[ -d /sys/module/cachepeer ]
		"$CTL" status >/dev/null
		rmmod cachepeer
		[ ! -d /sys/module/cachepeer ]
	done
}

test_not_loaded_message() {
	unload_module
	expect_err 6 "cachepeerctl: cachepeer module is not loaded" "$CTL" status
	expect_err 6 "cachepeerctl: cachepeer module is not loaded" "$CTL" start $(start_args x)
	expect_err 6 "cachepeerctl: cachepeer module is not loaded" "$CTL" ring set x --weight 1
}

test_param_node_name() {
	load_module node_name=alpha.1
	expect_eq "$("$CTL" -j | json_get name)" alpha.1 "initial node name"
	expect_eq "$(cat /sys/module/cachepeer/parameters/node_name)" alpha.1 "parameter"
	# Only the initial namespace takes the parameter.
	ns_add a
	expect_eq "$(on a "$CTL" -j | json_get name)" "" "other namespace's name"
	ns_del a
	unload_module
}

test_param_rejected() {
	unload_module
	# (A space would only split the argument: the parser takes "node_name=bad".)
	fails_logged "\`bad/name' invalid for parameter \`node_name'" insmod "$KO" node_name=bad/name
	fails_logged "invalid for parameter \`node_name'" insmod "$KO" node_name=caf$'\xe9'
	fails_logged "\`x{64}' invalid for parameter \`node_name'" \
		insmod "$KO" node_name="$(printf 'x%.0s' {1..64})"
	[ ! -d /sys/module/cachepeer ]
}

test_autoload() {
	local dir=/lib/modules/$(uname -r) ov=$CP_TMP/modules-ov

	unload_module
	# Install the module into an overlay of the modules directory, which may
	# be read-only in the guest; unmounting it uninstalls the module.
	mkdir -p "$ov"
	mount -t tmpfs none "$ov"
	mkdir "$ov/upper" "$ov/work"
	mount -t overlay overlay -o "lowerdir=$dir,upperdir=$ov/upper,workdir=$ov/work" "$dir"
	mkdir -p "$dir/extra"
	cp "$KO" "$dir/extra/"
	depmod -a
	"$CTL" status >/dev/null && rc=0 || rc=$?
	loaded=no
	module_loaded && loaded=yes
	# Lazily: udevd's libkmod may still map the overlay's index files.
	umount -l "$dir"
	umount -l "$ov"
	unload_module
	expect_eq "$rc" 0 "status exit"
	expect_eq "$loaded" yes "module autoloaded"
}

ktap_print_header
ktap_set_plan 6
run_test "modinfo: license, version, family alias, documented parameters" test_modinfo
run_test "insmod/rmmod three times" test_load_unload
run_test "tool says the module is not loaded" test_not_loaded_message
run_test "node_name parameter names the initial namespace's node" test_param_node_name
run_test "invalid node_name parameter fails insmod" test_param_rejected
run_test "resolving the family autoloads the module" test_autoload
ktap_finished
