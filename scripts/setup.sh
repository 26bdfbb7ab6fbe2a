#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what cachepeer needs to build, lint and test itself, from Debian only.
# Idempotent: a second run installs nothing and only re-checks.
#
#   scripts/setup.sh          build + test dependencies, kselftest/checkpatch cache
#   scripts/setup.sh --debug  also what building the debug kernel needs
#   scripts/setup.sh --bench  also nginx, the baseline of make bench, and valgrind
#
# virtme-ng is not in bookworm; it comes from trixie under an apt pin that lets
# nothing else come from there (a plain "-t trixie" would drag glibc along).
# QEMU comes from bookworm-backports, also pinned to itself: bookworm's 7.2
# has a TCG race between translating a page and invalidating it (fixed in
# 8.1 by "accel/tcg: Always lock pages before translation"), which made the
# guest run stale code after the kernel patched a static key ("Oops: int3"
# in netif_rx_internal), and most likely also caused the double faults with
# impossible EFLAGS seen in the slab fast path. Guests here run under TCG,
# so the emulator is part of the test bench and must be one without that bug.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${CP_CACHE:-$top/.cache}
ksrc=$cache/linux-src

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

want_debug=0
want_bench=0
[ "${1:-}" = --debug ] && want_debug=1
[ "${1:-}" = --bench ] && want_bench=1

# package  why
pkgs=(
	"linux-image-6.12-amd64		the guest kernel the tests boot"
	"linux-headers-6.12-amd64	headers the module is built against"
	"linux-source-6.12		kselftest harness, lib.mk and checkpatch.pl"
	"qemu-system-x86		the guest machine (>= 8.1, from bookworm-backports)"
	"virtme-ng			boots the host filesystem as the guest's root"
	"udev				virtme-init needs systemd-udevd for its script ports"
	"busybox-static			virtme-ng's guest init"
	"kmod				insmod/rmmod/modinfo"
	"iproute2			network namespaces in tests"
	"libnl-3-dev			cachepeerctl netlink"
	"libnl-genl-3-dev		cachepeerctl generic netlink"
	"pkg-config			finds libnl's include path"
	"gcc				module and tool"
	"make				build"
	"sparse				make C=2"
	"perl				checkpatch.pl"
	"xz-utils			unpacks the kernel source tarball"
	"python3			virtme-ng and test helpers"
	"util-linux			setpriv for unprivileged tests"
	"procps				sysctl in tests"
	"e2fsprogs			mkfs.ext4 for the ext4 cache tests"
	"clang				the libFuzzer harness over the frame parser"
	"libclang-rt-14-dev		libFuzzer and sanitizer runtimes"
	"groff-base			renders the man pages (scripts/man-check.sh)"
	"systemd			systemd-analyze verify of the unit (scripts/unit-check.sh)"
	"man-db				systemd-analyze verify looks up the unit's man pages"
	"dpkg-dev			make deb (dpkg-buildpackage)"
	"debhelper			make deb"
	"dh-dkms			make deb (the cachepeer-dkms package)"
	"dkms				make deb builds the packaged module as DKMS would"
	"lintian			make deb checks the packages"
	"python3-yaml			the kernel's YNL tools read the family's spec"
	"python3-jsonschema		YNL validates the spec against its schema"
)
debug_pkgs=(
	"bc				kernel build"
	"flex				kernel build"
	"bison				kernel build"
	"libelf-dev			kernel build (objtool)"
	"libssl-dev			kernel build (signing tools)"
	"dwarves			kernel build (pahole, BTF)"
	"rsync				kernel headers_install"
	"cpio				kernel build"
)
bench_pkgs=(
	"nginx-light			the sendfile baseline of make bench"
	"valgrind			make bench-lib counts instructions with callgrind"
)
[ $want_debug = 1 ] && pkgs+=("${debug_pkgs[@]}")
[ $want_bench = 1 ] && pkgs+=("${bench_pkgs[@]}")

qemu_min=1:8.1
installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}
qemu_ok() {
	installed qemu-system-x86 &&
		dpkg --compare-versions "$(dpkg-query -W -f='${Version}' qemu-system-x86)" ge $qemu_min
}

missing=()
for p in "${pkgs[@]}"; do
	name=${p%%[[:space:]]*}
	if [ "$name" = qemu-system-x86 ]; then
		qemu_ok || missing+=("$p")
	else
		installed "$name" || missing+=("$p")
	fi
done

trixie_src=/etc/apt/sources.list.d/cachepeer-trixie.sources
trixie_pin=/etc/apt/preferences.d/cachepeer-trixie
bpo_src=/etc/apt/sources.list.d/cachepeer-bookworm-backports.sources
bpo_pin=/etc/apt/preferences.d/cachepeer-bookworm-backports

if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] ||
		die "not root and ${#missing[@]} packages are missing: $(printf '%s ' "${missing[@]%%[[:space:]]*}")(re-run as root)"
	if [ ! -e "$trixie_pin" ]; then
		say "pinning trixie so that only virtme-ng may come from it ($trixie_pin)"
		cat >"$trixie_pin" <<-PIN
		# cachepeer: virtme-ng is the only package taken from trixie.
		Package: *
		Pin: release n=trixie
		Pin-Priority: -1

		Package: virtme-ng
		Pin: release n=trixie
		Pin-Priority: 500
		PIN
	fi
	if [ ! -e "$trixie_src" ]; then
		say "adding the trixie source for virtme-ng ($trixie_src)"
		cat >"$trixie_src" <<-SRC
		Types: deb
		URIs: http://deb.debian.org/debian
		Suites: trixie
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
		SRC
	fi
	# Backports default to priority 100; raise only QEMU and its firmware.
	if [ ! -e "$bpo_pin" ]; then
		say "pinning bookworm-backports so that only QEMU may come from it ($bpo_pin)"
		cat >"$bpo_pin" <<-PIN
		# cachepeer: QEMU >= 8.1 (bookworm's 7.2 has a TCG translation race).
		Package: qemu-system-x86 qemu-system-common qemu-system-data seabios
		Pin: release n=bookworm-backports
		Pin-Priority: 500
		PIN
	fi
	if ! grep -rqsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d; then
		say "adding the bookworm-backports source for QEMU ($bpo_src)"
		cat >"$bpo_src" <<-SRC
		Types: deb
		URIs: http://deb.debian.org/debian
		Suites: bookworm-backports
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
		SRC
	fi
	say "installing:"
	for p in "${missing[@]}"; do
		printf '  %s\n' "$p" | tr -s '\t' ' '
	done
	say "apt-get update"
	apt-get update -qq || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]%%[[:space:]]*}" >/dev/null || die "apt-get install failed"
	# The pin must have held: nothing but virtme-ng may come from trixie.
	# Backports carry "+deb13u1~bpo12+1" versions; they are checked below.
	stray=$(dpkg-query -W -f='${Package} ${Version}\n' | grep -v '^virtme-ng ' |
		grep -v '~bpo12' | grep -E '\+deb13|~deb13' || true)
	[ -z "$stray" ] || die "packages came from trixie despite the pin: $stray"
	qemu_ok || die "qemu-system-x86 is older than $qemu_min after the install"
else
	say "all packages present"
fi

rel=$("$top/scripts/kernelrelease.sh") || die "no 6.12 kernel with headers found"
say "kernel release $rel"

# kselftest, checkpatch and YNL come from the kernel source tarball; extract
# only the files we use, once per source version (and list of files: the
# stamp's second word), into an ignored cache directory.
tarball=$(ls /usr/src/linux-source-6.12.tar.xz 2>/dev/null) || die "linux-source-6.12 tarball missing"
stamp=$ksrc/.stamp
src_ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
if [ "$(cat "$stamp" 2>/dev/null)" != "$src_ver ynl" ]; then
	say "extracting kselftest, checkpatch.pl, YNL from linux-source $src_ver into $ksrc"
	rm -rf "$ksrc"
	mkdir -p "$ksrc"
	tar -xJf "$tarball" -C "$ksrc" --strip-components=1 \
		--wildcards \
		'linux-source-6.12/tools/testing/selftests/kselftest.h' \
		'linux-source-6.12/tools/testing/selftests/kselftest_harness.h' \
		'linux-source-6.12/tools/testing/selftests/lib.mk' \
		'linux-source-6.12/tools/testing/selftests/kselftest/*' \
		'linux-source-6.12/tools/testing/selftests/net/lib.sh' \
		'linux-source-6.12/tools/testing/selftests/net/lib/*' \
		'linux-source-6.12/scripts/checkpatch.pl' \
		'linux-source-6.12/scripts/spelling.txt' \
		'linux-source-6.12/scripts/const_structs.checkpatch' \
		'linux-source-6.12/scripts/get_maintainer.pl' \
		'linux-source-6.12/tools/net/ynl/*' \
		'linux-source-6.12/Documentation/netlink/*'
	echo "$src_ver ynl" >"$stamp"
fi
say "ready"
