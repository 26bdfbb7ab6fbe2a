/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NL_H
#define NL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <linux/types.h>
#include <linux/cachepeer.h>

#include "counters.h"
#include "ring.h"

/*
 * All libnl code lives behind these functions. They return 0 or a negative
 * errno; cp_nl_strerror() turns that, plus the kernel's extended ACK message
 * if there was one, into a one-line reason. cp_nl_open() fails with -ENOENT
 * when the family does not exist: the module is not loaded.
 */

struct cp_nl;

/* Limits, as NODE_GET reports them. */
struct cp_limits {
	__u64 max_bytes, max_blocks, scrub_rate;
	__u8 fs_stop, fs_cull, fs_run, evict;
	/* what clients may hold */
	__u32 max_conns, max_conns_source, idle_timeout_s;
	__u64 conn_queue, node_queue, conn_pin;
};

/* NODE_SET: every setting of a node; only those marked given are sent. */
enum {
	CP_SET_NAME, CP_SET_KEY, CP_SET_MISS, CP_SET_HANDOFF, CP_SET_MAX_BYTES,
	CP_SET_MAX_BLOCKS, CP_SET_FS_STOP, CP_SET_FS_CULL, CP_SET_FS_RUN, CP_SET_EVICT,
	CP_SET_SCRUB_RATE, CP_SET_MAX_CONNS, CP_SET_MAX_CONNS_SOURCE, CP_SET_CONN_QUEUE,
	CP_SET_NODE_QUEUE, CP_SET_CONN_PIN, CP_SET_IDLE_TIMEOUT, CP_SET_NEXT_KEY, CP_SET_ACCESS,
	CP_SET_COUNT
};

struct cp_settings {
	bool given[CP_SET_COUNT];
	const char *name;
	const void *key, *next_key;
	size_t key_len, next_key_len;
	int access;			/* enum cachepeer_access */
	int miss;			/* enum cachepeer_miss */
	int evict;			/* enum cachepeer_evict_policy */
	unsigned long long handoff_s, max_bytes, max_blocks, fs_stop, fs_cull, fs_run;
	unsigned long long scrub_rate;
	unsigned long long max_conns, max_conns_source, conn_queue, node_queue, conn_pin;
	unsigned long long idle_timeout_s;
};

struct cp_conn_entry {
	char peer[64];			/* ADDR:PORT or [ADDR6]:PORT */
	__u64 inflight, rx_bytes, tx_bytes, age_ms;
	int cpu;			/* its sending's, -1 if not reported */
	__u64 queued, pinned;		/* bytes held for its answers */
	bool member;			/* from a ring member's address */
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
	__u8 access, access_now;	/* enum cachepeer_access: as set, in force */
	struct cp_node_stats stats;
};

/* KEY_GET: one key, its secret never. */
struct cp_key_entry {
	char name[CACHEPEER_NAME_MAX + 1];
	__u8 role;			/* enum cachepeer_role */
	__u8 fpr[8];
	__u32 conns;
	int next;			/* member keys: 1 the next, 0 the current; else -1 */
};

struct cp_start_cfg {
	struct sockaddr_storage listen;
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

int cp_nl_open(struct cp_nl **nlp);
void cp_nl_close(struct cp_nl *nl);
const char *cp_nl_strerror(struct cp_nl *nl, int err);

int cp_nl_node_get(struct cp_nl *nl, struct cp_node_info *info);
int cp_nl_node_set(struct cp_nl *nl, const struct cp_settings *set);
int cp_nl_node_start(struct cp_nl *nl, const struct cp_start_cfg *cfg);
int cp_nl_node_stop(struct cp_nl *nl);
int cp_nl_scrub_start(struct cp_nl *nl);
int cp_nl_conn_list(struct cp_nl *nl, struct cp_conn_entry **list, unsigned int *n);
int cp_nl_key_add(struct cp_nl *nl, const char *name, __u8 role, const void *secret,
		  size_t len);
int cp_nl_key_del(struct cp_nl *nl, const char *name);
int cp_nl_key_list(struct cp_nl *nl, struct cp_key_entry *e, unsigned int max, unsigned int *n);
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

#endif
