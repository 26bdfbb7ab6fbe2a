/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the C selftests. */
#ifndef CP_TEST_H
#define CP_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/*
 * Load cachepeer.ko ($CP_KO, default ../kmod/cachepeer.ko) unless it is
 * loaded; insmod resolves no dependencies, so load those first.
 */
static inline int cp_test_load_module(void)
{
	const char *ko = getenv("CP_KO") ?: "../kmod/cachepeer.ko";
	struct stat st;
	char cmd[512];

	if (!stat("/sys/module/cachepeer", &st))
		return 0;
	snprintf(cmd, sizeof(cmd),
		 "for d in $(modinfo -F depends %s | tr , ' '); do modprobe $d; done; insmod %s",
		 ko, ko);
	return system(cmd);
}

#endif
