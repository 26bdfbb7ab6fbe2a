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

# Plain insmod, with no module loaded first: CRC-32C comes from the crypto
# API (which loads its driver itself), not from libcrc32c's symbol.
test_load_unload() {
	local i

	unload_module
	expect_eq "$(modinfo -F depends "$KO")" "" "modules cachepeer.ko needs"
	modprobe -r libcrc32c 2>/dev/null || true
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

# The kernel resolves an unknown family by asking modprobe (its usermode
# helper, kernel.modprobe) for the family's alias. modprobe here reads a
# module tree that holds cachepeer.ko alone, indexed by depmod: a depmod of
# Debian's few thousand modules took minutes under TCG, this one none.
test_autoload() {
	local rel root=$CP_TMP/modroot saved rc loaded

	rel=$(uname -r)
	unload_module
	load_deps
	mkdir -p "$root/lib/modules/$rel/extra"
	cp "$KO" "$root/lib/modules/$rel/extra/"
	cp /lib/modules/"$rel"/modules.builtin* "$root/lib/modules/$rel/"
	echo extra/cachepeer.ko >"$root/lib/modules/$rel/modules.order"
	depmod -b "$root" "$rel"
	grep -q ' net-pf-16-proto-16-family-cachepeer cachepeer$' "$root/lib/modules/$rel/modules.alias"
	cat >"$CP_TMP/modprobe" <<EOF
#!/bin/sh
echo "\$*" >>"$CP_TMP/requested"
exec $(command -v modprobe) -d "$root" "\$@"
EOF
	chmod +x "$CP_TMP/modprobe"
	saved=$(cat /proc/sys/kernel/modprobe)
	echo "$CP_TMP/modprobe" >/proc/sys/kernel/modprobe
	"$CTL" status >/dev/null && rc=0 || rc=$?
	echo "$saved" >/proc/sys/kernel/modprobe
	loaded=no
	module_loaded && loaded=yes
	unload_module
	expect_eq "$rc" 0 "status exit"
	expect_eq "$loaded" yes "module autoloaded"
	grep -q 'net-pf-16-proto-16-family-cachepeer' "$CP_TMP/requested"
}

ktap_print_header
ktap_set_plan 6
run_test "modinfo: license, version, family alias, documented parameters" test_modinfo
run_test "plain insmod/rmmod three times" test_load_unload
run_test "tool says the module is not loaded" test_not_loaded_message
run_test "node_name parameter names the initial namespace's node" test_param_node_name
run_test "invalid node_name parameter fails insmod" test_param_rejected
run_test "resolving the family autoloads the module" test_autoload
ktap_finished
