#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make deb: cachepeer-dkms and cachepeer, built with Debian's own tooling
# (dpkg-buildpackage, debhelper, dh-dkms) from the tracked files of this
# tree, into .cache/deb/; then lintian, which must find nothing; then DKMS
# builds the packaged module source, as it would on install, in a DKMS tree
# of its own under .cache/deb (KERNELRELEASE: the supported kernel whose
# headers are here), and skips a kernel outside the supported range.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
version=$(cat "$top/VERSION")
out=$top/.cache/deb
src=$out/cachepeer-$version

changelog=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
[ "$changelog" = "$version" ] || {
	echo "deb: debian/changelog is at $changelog, VERSION at $version" >&2
	exit 1
}
rm -rf "$out"
mkdir -p "$src"
# The files git tracks or would (not ignored), as they are in the work tree:
# no build products.
git -C "$top" ls-files -z --cached --others --exclude-standard | (cd "$top" && xargs -0 cp --parents -t "$src")
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 || {
	tail -40 "$out/build.log" >&2
	exit 1
}
debs=("$out"/cachepeer_"$version"_*.deb "$out"/cachepeer-dkms_"$version"_all.deb)
lintian --fail-on error,warning,info --tag-display-limit 0 "$out"/*.changes >&2

kr=${KERNELRELEASE:-$("$top/scripts/kernelrelease.sh")}
dkms_build() {
	dkms build -m cachepeer -v "$version" -k "$1" --sourcetree "$out/dkms-src" \
		--dkmstree "$out/dkms-tree" >>"$out/dkms.log" 2>&1
}
dpkg-deb -x "$out/cachepeer-dkms_${version}_all.deb" "$out/dkms-deb"
mkdir -p "$out/dkms-src" "$out/dkms-tree"
cp -a "$out/dkms-deb/usr/src/cachepeer-$version" "$out/dkms-src/"
dkms_build "$kr" || {
	tail -40 "$out/dkms.log" >&2
	exit 1
}
# Compressed as the kernel's own modules are (cachepeer.ko.xz on Debian).
ko=$(echo "$out/dkms-tree/cachepeer/$version/$kr"/x86_64/module/cachepeer.ko*)
got=$(modinfo -F version "$ko")
[ "$got" = "$version" ] || {
	echo "deb: DKMS built $ko at version '$got', not $version" >&2
	exit 1
}
# What DKMS built, as a binaries tarball for selftests/deb.sh: the package's
# postinst loads one it finds in /usr/share/cachepeer-dkms instead of
# compiling in the emulated guest.
mkdir -p "$out/prebuilt"
dkms mktarball -m cachepeer -v "$version" -k "$kr" --binaries-only \
	--sourcetree "$out/dkms-src" --dkmstree "$out/dkms-tree" \
	--archive "$out/prebuilt/cachepeer-$version.dkms.tar.gz" >>"$out/dkms.log" 2>&1
# Outside the range: skipped (77), not failed.
rc=0
dkms_build 6.1.0-99-amd64 || rc=$?
[ $rc = 77 ] || {
	echo "deb: DKMS on 6.1.0-99-amd64 exited $rc, not 77 (skipped)" >&2
	exit 1
}
echo "deb: ${debs[*]##*/} in .cache/deb, lintian clean; DKMS builds the module for $kr, skips 6.1"
