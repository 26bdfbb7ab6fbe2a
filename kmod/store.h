/* SPDX-License-Identifier: GPL-2.0 */
/* The store's interface: blocks, their files, storing, limits and scrub. */
#ifndef _CP_STORE_H
#define _CP_STORE_H

#include <linux/mutex.h>
#include <linux/path.h>
#include <linux/rhashtable-types.h>
#include <linux/refcount.h>
#include <linux/workqueue.h>

#include <linux/cachepeer.h>

#include "stats.h"

#define CP_ID_LEN 16

/*
 * An open block: its file and its CRC table, read from the file's trailer.
 * Blocks are immutable, so page-cache folios handed to TCP cannot change
 * under the skb. A block holds one reference while it is open; requests take
 * theirs, under RCU from softirq.
 */
struct cp_blkfile {
	refcount_t ref;
	struct file *file;
	struct rcu_head rcu;
	u64 size;
	u32 crc;			/* of the whole block */
	u32 nseg;
	u32 seg_crc[];			/* per CACHEPEER_SEG_SIZE segment */
};

/*
 * An index entry. Kept small because there is one per block on disk, cold
 * ones included (72 bytes from its own slab cache): the file is opened and
 * the CRC table read only when the block is used, and closed again once it
 * has been idle for a while. The index holds one reference; lookups take
 * theirs under RCU.
 */
struct cp_block {
	struct rhash_head node;
	u8 id[CP_ID_LEN];		/* first 128 bits of SHA-256(key) */
	u32 size;			/* <= CACHEPEER_MAX_BLOCK_LIMIT */
	refcount_t ref;
	u64 atime;			/* ktime_get_ns() of the last use */
	struct cp_blkfile __rcu *bf;	/* NULL while cold */
	bool dead;			/* unlinked or found corrupt */
	struct rcu_head rcu;
};

enum cp_evict_policy {
	CP_EVICT_LRU = CACHEPEER_EVICT_LRU,
	CP_EVICT_2RANDOM = CACHEPEER_EVICT_2RANDOM,
	CP_EVICT_NONE = CACHEPEER_EVICT_NONE,
};

/* Written under the service lock, read locklessly. 0 means "no limit". */
struct cp_limits {
	u64 max_bytes;
	u64 max_blocks;
	u8 fs_cull;			/* % free: below, start evicting */
	u8 fs_stop;			/* % free: below, refuse PUTs */
	u8 fs_run;			/* % free: above, stop evicting */
	u8 policy;			/* enum cp_evict_policy */
	u64 scrub_rate;			/* bytes per second; 0: no patrol */
};

/* Where the scrub is; what it has done is counted in the node's stats. */
struct cp_scrub_state {
	u64 pass_blocks;		/* verified in the current pass */
	bool running;			/* a pass is in progress */
};

struct cp_store {
	struct path dir;
	const struct cred *cred;	/* of whoever started the node */
	struct cp_stats __percpu *stats;	/* the node's */
	struct rhashtable index;
	struct cp_limits limits;	/* set before open, survives close */
	atomic_long_t blocks;
	atomic64_t bytes;
	atomic_long_t open;		/* blocks with an open file */
	atomic64_t put_bytes;		/* in files of PUTs not yet committed */

	bool no_space;			/* free space below fs_stop */
	bool culling;			/* free space went below fs_cull */
	struct mutex evict_lock;	/* one evictor at a time */
	struct delayed_work maint_work;	/* free space, idle files */
	unsigned int maint_runs;

	struct work_struct scan_work;	/* index rebuild at start */
	bool scan_done;
	u64 scan_found;
	u64 scan_ns;			/* how long it took */

	struct delayed_work scrub_work;
	struct rhashtable_iter scrub_iter;
	bool scrub_iter_live;		/* scrub_iter entered */
	bool scrub_pass_all;		/* this pass checks hot blocks too */
	unsigned long scrub_flags;	/* CP_SCRUB_REQUESTED */
	spinlock_t scrub_lock;		/* scrub */
	struct cp_scrub_state scrub;

	bool closing;
};

struct cp_put;

int cp_store_init(void);
void cp_store_uninit(void);

/* store.c: the store's lifecycle */
void cp_store_limits_default(struct cp_limits *lim);
const char *cp_store_limits_check(const struct cp_limits *lim);
int cp_store_open(struct cp_store *st, const char *dir, struct cp_stats __percpu *stats);
void cp_store_close(struct cp_store *st);
void cp_store_limits_changed(struct cp_store *st);
void cp_store_scrub_pass(struct cp_store *st);
void cp_store_scrub_state(struct cp_store *st, struct cp_scrub_state *s);

/* index.c: the index and the blocks' lifetime */
void cp_store_key_id(const u8 *key, u16 len, u8 *id);
struct cp_block *cp_store_lookup(struct cp_store *st, const u8 *id);
void cp_block_put(struct cp_block *b);
void cp_block_touch(struct cp_block *b);
struct cp_blkfile *cp_block_file(struct cp_block *b);
void cp_blkfile_put(struct cp_blkfile *bf);
int cp_store_del(struct cp_store *st, const u8 *id);
u64 cp_store_index_mem(struct cp_store *st);
int cp_store_fs_space(struct cp_store *st, u64 *size, u64 *avail);

/* blkfile.c: a block's file, its page cache and its CRCs */
struct cp_blkfile *cp_block_open(struct cp_store *st, struct cp_block *b);

/* The node's own files in the cache directory (dirfile.c). */
void *cp_store_read_file(struct cp_store *st, const char *name, size_t max, size_t *len);
int cp_store_write_file(struct cp_store *st, const char *name, const void *buf, size_t len);
int cp_block_range_crc(struct cp_blkfile *bf, u64 off, u64 len, u32 *crc);
bool cp_block_cached(struct cp_blkfile *bf, u64 off, u64 len);
int cp_block_verify(struct cp_store *st, struct cp_block *b, struct cp_blkfile *bf,
		    u64 off, u64 len);

/* put.c: storing a block */
struct cp_put *cp_store_put_begin(struct cp_store *st, const u8 *id, const u8 *key, u16 key_len,
				  u64 size);
int cp_store_put_write(struct cp_put *put, const void *buf, size_t len);
int cp_store_put_commit(struct cp_put *put, bool check_crc, u32 want_crc);
void cp_store_put_free(struct cp_put *put);

#endif /* _CP_STORE_H */
