/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the C selftests. */
#ifndef CP_TEST_H
#define CP_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How long the program ran, for vm-run.sh's summary of where time goes. */
static struct timespec cp_test_t0;
static pid_t cp_test_pid;

__attribute__((constructor)) static void cp_test_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &cp_test_t0);
	cp_test_pid = getpid();
}

__attribute__((destructor)) static void cp_test_end(void)
{
	extern const char *__progname;
	struct timespec t;

	if (getpid() != cp_test_pid)	/* a test's forked child */
		return;
	clock_gettime(CLOCK_MONOTONIC, &t);
	printf("# duration: %s %ld s\n", __progname, (long)(t.tv_sec - cp_test_t0.tv_sec));
}

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
