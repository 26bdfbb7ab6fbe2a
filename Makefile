# SPDX-License-Identifier: GPL-2.0
#
# cachepeer: in-kernel cache peer. See README.md.
#
#   make                 module (kmod/cachepeer.ko, and its unit tests kmod/cachepeer_test.ko),
#                        tool (ctl/cachepeerctl), tests
#   make C=2             ... with sparse over every module source
#   make style           checkpatch --strict over the tree
#   make lib-check       libcachepeer exports exactly lib/libcachepeer.symbols, and the
#                        example builds from the installed header and cachepeer.pc
#   make man-check       the man pages render cleanly and cover every command, option and
#                        module parameter;
#                        bash completion completes what the tool's help lists;
#                        systemd-analyze verify passes on the installed unit;
#                        the YNL spec is valid and matches the uapi header, and
#                        kmod/nl_gen.[ch] are what ynl-gen-c.py makes of it
#   make ynl-gen         regenerate kmod/nl_gen.[ch] from the YNL spec
#   make deb             Debian packages cachepeer-dkms, cachepeer, libcachepeer0 and
#                        libcachepeer-dev into .cache/deb,
#                        lintian-clean, the module built from them by DKMS
#   make layers          calls between the module's parts go one way (scripts/layers.py)
#   make fuzz            libFuzzer over the wire codec, RX framing and ring views,
#                        FUZZ_SECONDS (20) each, at once
#   make sim             membership traffic of SIM_MEMBERS (1000) simulated nodes, from
#                        the module's own view code
#   make install         install-module (modules_install + depmod), install-lib
#                        (libcachepeer.so.0, <cachepeer/client.h>, cachepeer.pc into
#                        $(PREFIX)/lib and $(PREFIX)/include) and install-tool (the
#                        tool into $(PREFIX)/sbin; man pages, bash completion and an
#                        example config into $(PREFIX)/share; cachepeer@.service into
#                        $(PREFIX)/lib/systemd/system)
#   make check           set up, build, lint, run every selftest in a guest
#   make check-debug     the same on a KASAN/lockdep/kmemleak kernel
#   make check-deb       deb.sh with DKMS compiling the module in the guest (~13 min)
#   make run             boot a guest with a small ring of nodes
#   make bench           cachepeer vs nginx sendfile vs raw TCP, as ratios
#   make bench-index     index memory per block, index rebuild vs find | wc -l
#   make bench-ring      1000-member ring: build time, memory, lookups/s (kernel, client)
#   make bench-forward   GETs through a non-owner vs the same GETs to the owner
#   make bench-lib       libcachepeer: 64 threads on one handle, adaptive connections vs
#                        one; instructions per 4 KiB GET vs the tool's client
#
# KERNELRELEASE and KDIR may be overridden; V=1 shows commands.

KERNELRELEASE ?= $(shell scripts/kernelrelease.sh)
KDIR ?= /lib/modules/$(KERNELRELEASE)/build
PREFIX ?= /usr/local
UNITDIR ?= $(PREFIX)/lib/systemd/system
DESTDIR ?=
CACHE := $(CURDIR)/.cache
KSFT := $(CACHE)/linux-src/tools/testing/selftests

ifeq ($(V),1)
Q :=
else
Q := @
MAKEFLAGS += --no-print-directory
endif

export KSFT

.PHONY: all module lib ctl examples tests install install-module install-lib install-tool lib-check deb check-deb clean check check-debug style man-check ynl-gen sparse layers fuzz sim run bench \
	bench-index bench-ring bench-forward bench-lib setup

all: module lib ctl tests

module:
	$(Q)test -e "$(KDIR)/Makefile" || { echo "no kernel build tree at '$(KDIR)' (run scripts/setup.sh)"; exit 1; }
	$(Q)$(MAKE) -C "$(KDIR)" M="$(CURDIR)" CACHEPEER_SELFTEST=m modules

lib:
	$(Q)$(MAKE) -C lib

ctl: lib
	$(Q)$(MAKE) -C ctl

examples: lib
	$(Q)$(MAKE) -C examples

tests: ctl examples
	$(Q)test -e "$(KSFT)/lib.mk" || { echo "kselftest files missing (run scripts/setup.sh)"; exit 1; }
	$(Q)$(MAKE) -C selftests

setup:
	$(Q)scripts/setup.sh

install: install-module install-lib install-tool

install-lib: lib
	$(Q)$(MAKE) -C lib install PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)"

# The unit-test module is left out: the build is redone without it.
install-module:
	$(Q)test -e "$(KDIR)/Makefile" || { echo "no kernel build tree at '$(KDIR)' (run scripts/setup.sh)"; exit 1; }
	$(Q)$(MAKE) -C "$(KDIR)" M="$(CURDIR)" modules
	$(Q)$(MAKE) -C "$(KDIR)" M="$(CURDIR)" INSTALL_MOD_DIR=extra \
		$(if $(DESTDIR),INSTALL_MOD_PATH="$(DESTDIR)") modules_install
	$(Q)depmod -a $(if $(DESTDIR),-b "$(DESTDIR)") "$(KERNELRELEASE)"

# The tool, its man pages, bash completion, the systemd unit and an example config.
install-tool: ctl
	$(Q)install -D -m 0755 ctl/cachepeerctl "$(DESTDIR)$(PREFIX)/sbin/cachepeerctl"
	$(Q)install -D -m 0644 ctl/cachepeerctl.8 "$(DESTDIR)$(PREFIX)/share/man/man8/cachepeerctl.8"
	$(Q)install -D -m 0644 ctl/cachepeer.conf.5 \
		"$(DESTDIR)$(PREFIX)/share/man/man5/cachepeer.conf.5"
	$(Q)install -D -m 0644 ctl/cachepeer.7 "$(DESTDIR)$(PREFIX)/share/man/man7/cachepeer.7"
	$(Q)install -D -m 0644 ctl/cachepeerctl.bash-completion \
		"$(DESTDIR)$(PREFIX)/share/bash-completion/completions/cachepeerctl"
	$(Q)install -d "$(DESTDIR)$(UNITDIR)"
	$(Q)sed 's|@SBINDIR@|$(PREFIX)/sbin|g' "ctl/cachepeer@.service" \
		>"$(DESTDIR)$(UNITDIR)/cachepeer@.service"
	$(Q)install -D -m 0644 ctl/example.conf \
		"$(DESTDIR)$(PREFIX)/share/doc/cachepeer/examples/cachepeer.conf"

sparse:
	$(Q)scripts/sparse.sh "$(KDIR)"

# libFuzzer over the module's codec, framing and ring decoder: FUZZ_SECONDS (default 20).
fuzz:
	$(Q)$(MAKE) -C selftests/fuzz run

sim:
	$(Q)$(MAKE) -C selftests/sim run

style:
	$(Q)scripts/style.sh

man-check: ctl module
	$(Q)scripts/man-check.sh
	$(Q)scripts/completion-check.sh
	$(Q)scripts/unit-check.sh
	$(Q)scripts/ynl-check.py
	$(Q)scripts/ynl-gen.sh --check

ynl-gen:
	$(Q)scripts/ynl-gen.sh

deb:
	$(Q)scripts/deb.sh

lib-check: lib examples
	$(Q)scripts/lib-check.sh

layers: module
	$(Q)scripts/layers.py

check: setup
	$(Q)$(MAKE) all
	$(Q)$(MAKE) sparse
	$(Q)$(MAKE) style
	$(Q)$(MAKE) man-check
	$(Q)$(MAKE) lib-check
	$(Q)$(MAKE) deb
	$(Q)$(MAKE) layers
	$(Q)$(MAKE) fuzz
	$(Q)$(MAKE) -C selftests/sim check
	$(Q)scripts/vm-run.sh --tap -- make -C selftests run_tests

check-debug:
	$(Q)scripts/check-debug.sh

# The packages, installed in a guest with DKMS compiling the module there,
# under emulation (about 13 minutes); make check's deb.sh installs the
# module make deb built.
check-deb: setup
	$(Q)$(MAKE) deb
	$(Q)CP_VM_TIMEOUT=$${CP_VM_TIMEOUT:-3600} scripts/vm-run.sh --tap -- \
		env CP_DEB_COMPILE=1 make -C selftests run_tests TEST_GEN_PROGS= \
		TEST_PROGS=deb.sh kselftest_override_timeout=3000

run: setup
	$(Q)$(MAKE) all
	$(Q)scripts/vm-run.sh -- scripts/demo.sh

# cachepeer vs nginx sendfile vs a raw TCP stream, in one guest (BENCH_SECS=10
# per measurement, BENCH_ROUNDS=3 medians; BENCH_SPLIT=1 keeps the client off
# the CPU doing the receive processing).
bench:
	$(Q)scripts/setup.sh --bench
	$(Q)$(MAKE) all
	$(Q)scripts/vm-run.sh -- env BENCH_SECS=$(BENCH_SECS) BENCH_ROUNDS=$(BENCH_ROUNDS) \
		BENCH_SPLIT=$(BENCH_SPLIT) scripts/bench.sh

# Index memory per cold block and index rebuild time (BLOCKS=200000).
bench-index:
	$(Q)scripts/setup.sh
	$(Q)$(MAKE) all
	$(Q)CP_VM_OUT=$(CURDIR)/.cache/vm-index scripts/vm-run.sh -- scripts/bench-index.sh

bench-ring:
	$(Q)scripts/setup.sh
	$(Q)$(MAKE) all
	$(Q)CP_VM_OUT=$(CURDIR)/.cache/vm-ring scripts/vm-run.sh -- scripts/bench-ring.sh

# 4 MiB and 4 KiB GETs forwarded by a non-owner, as ratios to the same GETs
# sent to the owner (BENCH_SECS=10 per measurement, BENCH_ROUNDS=3 medians).
# BENCH_PROFILE=1 also profiles the forwarded 4 KiB GETs, into
# .cache/vm-forward/profile.txt.
bench-forward:
	$(Q)scripts/setup.sh
	$(Q)$(MAKE) all
	$(Q)CP_VM_OUT=$(CURDIR)/.cache/vm-forward scripts/vm-run.sh -- env BENCH_SECS=$(BENCH_SECS) \
		BENCH_ROUNDS=$(BENCH_ROUNDS) \
		BENCH_PROFILE=$(if $(BENCH_PROFILE),/tmp/cp-vm-out/profile.txt) \
		scripts/bench-forward.sh

# libcachepeer's targets (BENCH_SECS=10 per measurement, BENCH_ROUNDS=3 medians).
bench-lib:
	$(Q)scripts/setup.sh --bench
	$(Q)$(MAKE) all
	$(Q)CP_VM_OUT=$(CURDIR)/.cache/vm-lib scripts/vm-run.sh -- env BENCH_SECS=$(BENCH_SECS) \
		BENCH_ROUNDS=$(BENCH_ROUNDS) scripts/bench-lib.sh

clean:
	$(Q)$(MAKE) -C "$(KDIR)" M="$(CURDIR)" clean 2>/dev/null || true
	$(Q)$(MAKE) -C ctl clean
	$(Q)test ! -e "$(KSFT)/lib.mk" || $(MAKE) -C selftests clean
	$(Q)$(MAKE) -C selftests/fuzz clean
	$(Q)$(MAKE) -C selftests/sim clean
