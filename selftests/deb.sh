#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages make deb built (.cache/deb), installed as an operator
# would: dpkg -i of cachepeer-dkms and cachepeer, DKMS installing the module
# for the running kernel, modprobe, a node; then removed and purged,
# leaving nothing but the cache data.
#
# The guest's root is the host's and read-only: /etc, /usr (and with it
# /lib) and /var get writable overlays on tmpfs for what dpkg and DKMS
# write, dropped at the end. DKMS would compile the module for 10 minutes
# under emulation: make deb has it built on the host from the same packaged
# source, and this test hands that build to the package's postinst (see
# seed_dkms), unless CP_DEB_COMPILE=1 (make check-deb).
source "$(dirname "$0")/lib.sh"

DEB=${CP_DEB_DIR:-$CP_TOP/.cache/deb}
VERSION=$(cat "$CP_TOP/VERSION")
OVERLAYS=(/etc /usr /var)

setup() {
	local d

	unload_module
	for d in "${OVERLAYS[@]}"; do
		mkdir -p "$CP_TMP/ov$d/up" "$CP_TMP/ov$d/work"
		mount -t overlay overlay \
			-o "lowerdir=$d,upperdir=$CP_TMP/ov$d/up,workdir=$CP_TMP/ov$d/work" "$d"
	done
	# man-db's trigger would index every man page, under emulation.
	rm -f /var/lib/man-db/auto-update
	# DKMS runs depmod on install and on removal, which reads every module
	# of the kernel: 108 s each under emulation. Left to read are crypto/,
	# lib/, arch/ and updates/, a few seconds' worth: cachepeer depends on
	# no module, and the CRC-32C it asks the crypto API for is in crypto/
	# and arch/.
	mkdir -p /etc/depmod.d
	printf 'exclude drivers\nexclude sound\nexclude net\nexclude fs\n' \
		>/etc/depmod.d/zz-cachepeer-test.conf
}

teardown() {
	local i

	rmmod cachepeer 2>/dev/null || true
	for ((i = ${#OVERLAYS[@]} - 1; i >= 0; i--)); do
		umount -l "${OVERLAYS[i]}" 2>/dev/null || true
	done
}

# The module make deb had DKMS build from the packaged source for this
# kernel, as a DKMS binaries tarball where the package's postinst looks for
# one: DKMS adds the packaged source, loads the module as built and installs
# it. CP_DEB_COMPILE=1 has DKMS compile it here instead, under emulation
# (10 more minutes).
seed_dkms() {
	local tarball=$DEB/prebuilt/cachepeer-$VERSION.dkms.tar.gz

	[ "${CP_DEB_COMPILE:-0}" = 1 ] && return
	[ -e "$tarball" ] || {
		echo "no $tarball: make deb first"
		return 1
	}
	# Another kernel (make check-debug's): nothing built for it.
	[ -d "$DEB/dkms-tree/cachepeer/$VERSION/$(uname -r)" ] ||
		skip "make deb built no module for this kernel, $(uname -r)"
	mkdir -p /usr/share/cachepeer-dkms
	cp "$tarball" /usr/share/cachepeer-dkms/
}

block_files() {
	find "$CP_TMP/node" -regextype posix-extended -regex '.*/[0-9a-f]{32}\.[0-9a-f]+' -type f |
		wc -l
}

test_install() {
	local krel ko

	krel=$(uname -r)
	[ -e "$DEB/cachepeer-dkms_${VERSION}_all.deb" ] || {
		echo "no packages in $DEB: make deb first"
		return 1
	}
	if dpkg -s cachepeer >/dev/null 2>&1; then
		echo "cachepeer is installed already"
		return 1
	fi
	seed_dkms
	DEBIAN_FRONTEND=noninteractive dpkg -i "$DEB/cachepeer-dkms_${VERSION}_all.deb" \
		"$DEB/cachepeer_${VERSION}_amd64.deb" "$DEB/libcachepeer0_${VERSION}_amd64.deb" \
		"$DEB/libcachepeer-dev_${VERSION}_amd64.deb" >"$CP_TMP/dpkg-install.log" 2>&1 || {
		tail -30 "$CP_TMP/dpkg-install.log"
		return 1
	}
	dkms status cachepeer | grep -qx "cachepeer/$VERSION, $krel, x86_64: installed"
	modprobe cachepeer
	module_loaded
	ko=$(modinfo -n cachepeer)
	[[ $ko == /lib/modules/$krel/updates/dkms/cachepeer.ko* ]]
	expect_eq "$(modinfo -F version cachepeer)" "$VERSION" "module version"
	[ -x /usr/sbin/cachepeerctl ]
	[ -e /lib/systemd/system/cachepeer@.service ]
	[ -e /usr/share/man/man5/cachepeer.conf.5.gz ]
	# A node, run with the packaged tool.
	mkdir -p "$CP_TMP/node" /etc/cachepeer
	printf '[Node]\nListen = 127.0.0.1:7300\nDirectory = %s\n' "$CP_TMP/node" \
		>/etc/cachepeer/deb.conf
	/usr/sbin/cachepeerctl up deb
	head -c 100000 /dev/urandom >"$CP_TMP/deb.data"
	/usr/sbin/cachepeerctl put deb-block "$CP_TMP/deb.data"
	/usr/sbin/cachepeerctl get deb-block | cmp - "$CP_TMP/deb.data"
	# The example, built against the packaged library alone, reads it too.
	# shellcheck disable=SC2046
	cc -o "$CP_TMP/cpfetch" "$CP_TOP/examples/cpfetch.c" $(pkg-config --cflags --libs cachepeer)
	ldd "$CP_TMP/cpfetch" | grep -Eq 'libcachepeer.so.0 => (/usr)?/lib/x86_64-linux-gnu/libcachepeer.so.0'
	mkdir -p "$CP_TMP/fetched"
	echo deb-block | "$CP_TMP/cpfetch" 127.0.0.1:7300 "$CP_TMP/fetched"
	cmp "$CP_TMP/fetched/deb-block" "$CP_TMP/deb.data"
	/usr/sbin/cachepeerctl down deb
}

test_remove() {
	local blocks

	dpkg -s cachepeer-dkms >/dev/null 2>&1 || skip "not installed"
	blocks=$(block_files)
	[ "$blocks" = 1 ]
	rmmod cachepeer
	dpkg -r libcachepeer-dev libcachepeer0 cachepeer cachepeer-dkms \
		>"$CP_TMP/dpkg-remove.log" 2>&1 || {
		tail -30 "$CP_TMP/dpkg-remove.log"
		return 1
	}
	[ -z "$(dkms status cachepeer)" ]
	[ ! -e /usr/sbin/cachepeerctl ]
	[ -z "$(find /lib/modules/"$(uname -r)"/updates -name 'cachepeer.ko*' 2>/dev/null)" ]
	[ ! -e "/usr/src/cachepeer-$VERSION" ]
	[ ! -e /usr/lib/x86_64-linux-gnu/libcachepeer.so.0 ]
	[ ! -e /usr/include/cachepeer/client.h ]
	# remove keeps the configuration, purge takes it; the cache data stays.
	[ -e /etc/cachepeer/deb.conf ]
	dpkg --purge libcachepeer-dev libcachepeer0 cachepeer cachepeer-dkms >/dev/null 2>&1
	[ ! -e /etc/cachepeer ]
	expect_eq "$(block_files)" "$blocks" "block files"
	if dpkg -s cachepeer >/dev/null 2>&1; then
		echo "cachepeer is still installed"
		return 1
	fi
}

ktap_print_header
ktap_set_plan 2
setup
run_test "dpkg -i: DKMS installs the module, modprobe loads it, a node runs" test_install
run_test "dpkg -r keeps the cache data and the config; --purge the config only" test_remove
teardown
ktap_finished
