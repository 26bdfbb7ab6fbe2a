/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NL_H
#define NL_H

#include <linux/types.h>
#include <linux/cachepeer.h>

#include "ring.h"

/*
 * All libnl code lives behind these functions. They return 0 or a negative
 * errno; cp_nl_strerror() turns that, plus the kernel's extended ACK message
 * if there was one, into a one-line reason.
 */

struct cp_nl;

struct cp_node_stats {
	__u64 conns, conns_refused, timeouts, blocks, bytes, corrupt, zc_bytes, copied_bytes;
	__u64 hits, misses, inflight, evictions, foreign, open_files, index_mem;
	__u64 scan_done, scan_found, scan_ms, no_space, culling;
	__u64 scrub_passes, scrub_blocks, scrub_bytes, scrub_corrupt, scrub_pass_blocks;
	__u64 scrub_running;
	__u64 forwards, redirects, handoffs, peer_errors, ring_accepted, ring_refused, ring_sent;
	__u64 softirq_tx;
	__u64 ops[CACHEPEER_OP_MAX + 1];
	__u64 status[CACHEPEER_S_MAX + 1];
};

/* Limits, as NODE_GET reports them and NODE_SET takes them. */
enum {
	CP_LIM_BYTES = 1 << 0,
	CP_LIM_BLOCKS = 1 << 1,
	CP_LIM_FS_STOP = 1 << 2,
	CP_LIM_FS_CULL = 1 << 3,
	CP_LIM_FS_RUN = 1 << 4,
	CP_LIM_EVICT = 1 << 5,
	CP_LIM_SCRUB_RATE = 1 << 6,
};

struct cp_limits {
	unsigned int set;		/* CP_LIM_*: which fields to send */
	__u64 max_bytes, max_blocks, scrub_rate;
	__u8 fs_stop, fs_cull, fs_run, evict;
};

struct cp_conn_entry {
	char peer[64];			/* ADDR:PORT or [ADDR6]:PORT */
	__u64 inflight, rx_bytes, tx_bytes, age_ms;
	int cpu;			/* its sending's, -1 if not reported */
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
	struct cp_limits limits;
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

/* RING_GET: the ring (members, unbuilt) and the node's cluster settings. */
struct cp_ring_info {
	struct cp_ring ring;
	__u8 miss, key_set;
	__u32 handoff_s;
	__u64 mem, build_ns;
};

/* NODE_SET's cluster settings: only those given are sent. */
struct cp_cluster_cfg {
	const char *name;		/* NULL: unchanged */
	const void *key;
	size_t key_len;			/* 0: unchanged */
	int miss;			/* enum cachepeer_miss; -1: unchanged */
	long handoff_s;			/* -1: unchanged */
};

int cp_nl_open(struct cp_nl **nlp);
void cp_nl_close(struct cp_nl *nl);
const char *cp_nl_strerror(struct cp_nl *nl, int err);

int cp_nl_node_get(struct cp_nl *nl, struct cp_node_info *info);
int cp_nl_node_set_name(struct cp_nl *nl, const char *name);
int cp_nl_node_start(struct cp_nl *nl, const struct cp_start_cfg *cfg);
int cp_nl_node_stop(struct cp_nl *nl);
int cp_nl_node_set_limits(struct cp_nl *nl, const struct cp_limits *lim);
int cp_nl_scrub_start(struct cp_nl *nl);
int cp_nl_conn_list(struct cp_nl *nl, void (*fn)(const struct cp_conn_entry *ce, void *arg),
		    void *arg);
int cp_nl_ring_get(struct cp_nl *nl, struct cp_ring_info *ri);
int cp_nl_ring_set(struct cp_nl *nl, const struct cp_ring_member *m, unsigned int n,
		   __u64 base_epoch);
int cp_nl_ring_add(struct cp_nl *nl, const struct cp_ring_member *m);
int cp_nl_ring_weight(struct cp_nl *nl, const struct cp_ring_member *m);
int cp_nl_ring_del(struct cp_nl *nl, const char *name);
int cp_nl_ring_lookup(struct cp_nl *nl, const void *key, size_t len, __u64 *hash,
		      struct cp_ring_member *owner);
int cp_nl_ring_time(struct cp_nl *nl, const void *key, size_t len, __u32 count, __u64 *hash,
		    struct cp_ring_member *owner, __u64 *ns);
int cp_nl_node_set_cluster(struct cp_nl *nl, const struct cp_cluster_cfg *cc);

#endif
