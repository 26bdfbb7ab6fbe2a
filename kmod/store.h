/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CP_STORE_H
#define _CP_STORE_H

#include <linux/path.h>
#include <linux/rhashtable-types.h>
#include <linux/refcount.h>

#include <linux/cachepeer.h>

#define CP_ID_LEN 16

/*
 * A stored block. Immutable once published: its file is never written again,
 * so page-cache folios handed to TCP cannot change under the skb. The index
 * holds one reference; lookups take theirs under RCU.
 */
struct cp_block {
	struct rhash_head node;
	u8 id[CP_ID_LEN];		/* first 128 bits of SHA-256(key) */
	refcount_t ref;
	bool dead;			/* unlinked or found corrupt */
	struct rcu_head rcu;
	struct file *file;
	u64 size;
	u32 crc;			/* of the whole block */
	u32 nseg;
	u32 seg_crc[];			/* per CACHEPEER_SEG_SIZE segment */
};

struct cp_store {
	struct path dir;
	const struct cred *cred;	/* of whoever started the node */
	struct rhashtable index;
	atomic_long_t blocks;
	atomic64_t bytes;
	atomic64_t corrupt;		/* blocks dropped for bad CRCs */
};

struct cp_put;

void cp_store_key_id(const u8 *key, u16 len, u8 *id);

int cp_store_open(struct cp_store *st, const char *dir);
void cp_store_close(struct cp_store *st);

struct cp_block *cp_store_lookup(struct cp_store *st, const u8 *id);
void cp_block_put(struct cp_block *b);

int cp_block_range_crc(struct cp_block *b, u64 off, u64 len, bool may_sleep, u32 *crc);
bool cp_block_cached(struct cp_block *b, u64 off, u64 len);
int cp_block_verify(struct cp_store *st, struct cp_block *b, u64 off, u64 len);
struct folio *cp_block_folio(struct cp_block *b, pgoff_t index);

struct cp_put *cp_store_put_begin(struct cp_store *st, const u8 *id, const u8 *key, u16 key_len,
				  u64 size);
int cp_store_put_write(struct cp_put *put, const void *buf, size_t len);
int cp_store_put_commit(struct cp_put *put, bool check_crc, u32 want_crc);
void cp_store_put_free(struct cp_put *put);
int cp_store_del(struct cp_store *st, const u8 *id);

int cp_store_status(int err);

#endif /* _CP_STORE_H */
