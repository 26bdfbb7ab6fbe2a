#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Print the newest 6.12 kernel release that has both an image and a build tree.
# The Debian release string changes with every point release: never hard-code it.
for img in $(ls -1 /boot/vmlinuz-6.12* 2>/dev/null | sort -rV); do
	rel=${img#/boot/vmlinuz-}
	if [ -e "/lib/modules/$rel/build/Makefile" ]; then
		echo "$rel"
		exit 0
	fi
done
exit 1
