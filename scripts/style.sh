#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# checkpatch.pl --strict over every C source and header in the tree.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cp=$top/.cache/linux-src/scripts/checkpatch.pl
[ -e "$cp" ] || { echo "style: checkpatch.pl missing (run scripts/setup.sh)" >&2; exit 1; }

cd "$top" || exit 1
files=$(git ls-files --cached --others --exclude-standard -- '*.c' '*.h' 2>/dev/null ||
	find kmod ctl include selftests -name '*.[ch]')
kfiles=$(grep -E '^(kmod|include)/' <<<"$files" | grep -vxE 'kmod/(trace|nl_gen)\.h|kmod/nl_gen\.c')
ufiles=$(grep -vE '^(kmod|include|selftests/fuzz)/' <<<"$files")
ffiles=$(grep -E '^selftests/fuzz/' <<<"$files")
# Userspace (ctl/, selftests/) is C11 with <stdint.h> types, and has no
# compiler_attributes.h, so ctl.h defines __printf itself and checkpatch
# flags the attribute on that line. Only those two kernel-only rules are waived.
out=$(perl "$cp" --no-tree --strict --terse --show-types --quiet -f $kfiles 2>&1
      # Tracepoints are laid out as include/trace/events/ lays them out:
      # TP_STRUCT__entry( and the rest open-ended, their arguments indented.
      perl "$cp" --no-tree --strict --terse --show-types --quiet \
	--ignore OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT -f kmod/trace.h 2>&1
      # nl_gen.[ch] are ynl-gen-c.py's output (scripts/ynl-gen.sh), not to be
      # edited: its policy lines run past 100 columns, as in-tree ones do.
      perl "$cp" --no-tree --strict --terse --show-types --quiet \
	--ignore LONG_LINE -f kmod/nl_gen.c kmod/nl_gen.h 2>&1
      perl "$cp" --no-tree --strict --terse --show-types --quiet \
	--ignore PREFER_DEFINED_ATTRIBUTE_MACRO,PREFER_KERNEL_TYPES -f $ufiles 2>&1
      # libFuzzer names the entry point LLVMFuzzerTestOneInput; the shim
      # (fuzz/shim/) restates kernel macros as the kernel writes them.
      perl "$cp" --no-tree --strict --terse --show-types --quiet \
	--ignore PREFER_KERNEL_TYPES,CAMELCASE,PREFER_DEFINED_ATTRIBUTE_MACRO \
	--ignore MACRO_ARG_PRECEDENCE,MACRO_ARG_REUSE -f $ffiles 2>&1)
# --terse still prints a "total:" line per file; only findings count.
out=$(grep -E ': (ERROR|WARNING|CHECK):|^(Use of|perl|Can)' <<<"$out")
if [ -n "$out" ]; then
	echo "$out" >&2
	echo "style: checkpatch --strict found problems" >&2
	exit 1
fi
echo "style: checkpatch --strict clean ($(wc -w <<<"$files") files)"
