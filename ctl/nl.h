/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NL_H
#define NL_H

#include <linux/types.h>
#include <linux/cachepeer.h>

/*
 * All libnl code lives behind these functions. They return 0 or a negative
 * errno; cp_nl_strerror() turns that, plus the kernel's extended ACK message
 * if there was one, into a one-line reason.
 */

struct cp_nl;

struct cp_node_stats {
	__u64 conns, conns_refused, timeouts, blocks, bytes, corrupt, zc_bytes, copied_bytes;
	__u64 ops[CACHEPEER_OP_MAX + 1];
	__u64 status[CACHEPEER_S_MAX + 1];
};

struct cp_node_info {
	char version[32];
	__u32 state;
	char name[CACHEPEER_NAME_MAX + 1];
	/* while running */
	char listen[64];		/* ADDR:PORT or [ADDR6]:PORT */
	char dir[4096];
	__u64 max_block;
	__u32 frame_timeout_ms;
	__u64 epoch;
	struct cp_node_stats stats;
};

struct cp_start_cfg {
	int family;			/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	__u16 port;
	const char *dir;
	__u64 max_block;		/* 0: the node's default */
	__u32 frame_timeout_ms;		/* 0: the node's default */
};

int cp_nl_open(struct cp_nl **nlp);
void cp_nl_close(struct cp_nl *nl);
const char *cp_nl_strerror(struct cp_nl *nl, int err);

int cp_nl_node_get(struct cp_nl *nl, struct cp_node_info *info);
int cp_nl_node_set_name(struct cp_nl *nl, const char *name);
int cp_nl_node_start(struct cp_nl *nl, const struct cp_start_cfg *cfg);
int cp_nl_node_stop(struct cp_nl *nl);

#endif
