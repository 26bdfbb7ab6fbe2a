/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the C selftests that talk to a node over the block protocol:
 * a node of their own in a fresh network namespace, and a client's helpers.
 */
#ifndef CP_NODE_H
#define CP_NODE_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "client.h"
#include "cp_ref.h"
#include "cp_test.h"

#define PEER "127.0.0.1:7000"
#define MiB (1024 * 1024)

/*
 * How much slower than a stock kernel this one is (CP_TIME_SCALE, set by
 * make check-debug): a node timeout that only bounds how long a test has
 * to watch something (not one whose length is what is tested) is scaled.
 */
static inline int cp_time_scale(void)
{
	const char *s = getenv("CP_TIME_SCALE");
	int n = s ? atoi(s) : 1;

	return n < 1 ? 1 : n > 100 ? 100 : n;
}

static inline const char *ctl(void)
{
	return getenv("CP_CTL") ?: "../ctl/cachepeerctl";
}

/*
 * A network namespace of our own with lo up, and a fresh tmpfs at dir
 * (64 bytes). Writes to a connection the node closed must fail, not kill
 * the test.
 */
static inline int node_env(char *dir)
{
	if (cp_test_load_module() || signal(SIGPIPE, SIG_IGN) == SIG_ERR ||
	    unshare(CLONE_NEWNET) || system("ip link set lo up"))
		return -1;
	snprintf(dir, 64, "/tmp/cp-data.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return mount("cp-data", dir, "tmpfs", 0, "size=256m");
}

/* Stop the node, unmount inner (if any) and the tmpfs at dir, remove dir. */
static inline int node_env_end(const char *dir, const char *inner)
{
	char cmd[256];
	int ret;

	snprintf(cmd, sizeof(cmd), "%s stop", ctl());
	ret = system(cmd);
	if (inner)
		umount2(inner, 0);
	umount2(dir, MNT_DETACH);
	rmdir(dir);
	return ret;
}

static inline int do_connect(struct cp_client *c)
{
	/* A bound for a hung node: a 64 MiB PUT's fsync takes a debug kernel over 20 s. */
	struct timeval tv = { .tv_sec = 20 * cp_time_scale() };
	int ret = cp_client_connect(c, PEER);

	if (!ret)
		setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return ret;
}

/* One request, one answer, on connection c. Returns the status. */
static inline int exchange(struct cp_client *c, struct cp_msg *m, struct cp_resp *r, void *data)
{
	if (cp_client_send(c, m) || cp_client_recv_hdr(c, r))
		return -1;
	if (r->data_len && (!data || cp_client_recv_data(c, r, data)))
		return -2;
	return r->status;
}

/* PUT to the node under test, stored there whatever a ring it has says (LOCAL). */
static inline int put_key(const char *key, const void *data, size_t len)
{
	struct cp_msg m = { .op = CACHEPEER_OP_PUT, .key = key, .key_len = strlen(key),
			    .payload = data, .payload_len = len, .with_crc = 1,
			    .flags = CACHEPEER_F_LOCAL };
	struct cp_client c;
	struct cp_resp r;
	int ret;

	if (do_connect(&c))
		return -1;
	ret = exchange(&c, &m, &r, NULL);
	cp_client_close(&c);
	return ret;
}

/* A counter from `cachepeerctl stats -j`, or -1. */
static inline long long node_stat(const char *name)
{
	char cmd[256], buf[8192], want[64], *p;
	long long v = -1;
	size_t n;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s stats -j", ctl());
	snprintf(want, sizeof(want), "\"%s\":", name);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	p = strstr(buf, want);
	if (pclose(f) == 0 && p)
		v = strtoll(p + strlen(want), NULL, 10);
	return v;
}

#endif
