// SPDX-License-Identifier: GPL-2.0
/*
 * The index and the lifetime of blocks: which blocks exist, found by the
 * hash of their key under RCU from any context, how they are referenced,
 * and how they leave (unlinked from the cache directory, dropped from the
 * index). A block's open file is referenced here too, since the block holds
 * it; reading the file is blkfile.c's.
 *
 * A block's file is named "<128-bit id hex>.<size hex>", from a hash of its
 * key, never from the key itself. Blocks are never rewritten; removal is
 * unlink, and open files keep an unlinked block's bytes valid for the
 * responses still sending them.
 *
 * Directory changes run in process context under the credentials of whoever
 * started the node, so a node can do no more in its directory than they can.
 */

#include <crypto/sha2.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/rhashtable.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "store_priv.h"

#define CP_WALK_CHUNK	1024

static struct kmem_cache *block_cache __ro_after_init;

const struct rhashtable_params cp_index_params = {
	.key_len = CP_ID_LEN,
	.key_offset = offsetof(struct cp_block, id),
	.head_offset = offsetof(struct cp_block, node),
	.automatic_shrinking = true,
};

/* SHA-256 so that no client can aim a key at another key's file. */
void cp_store_key_id(const u8 *key, u16 len, u8 *id)
{
	u8 digest[SHA256_DIGEST_SIZE];

	sha256(key, len, digest);
	memcpy(id, digest, CP_ID_LEN);
}

void cp_block_name(char *name, const u8 *id, u64 size)
{
	snprintf(name, CP_NAME_LEN, "%*phN.%llx", CP_ID_LEN, id, size);
}

struct cp_block *cp_block_alloc(const u8 *id, u64 size)
{
	struct cp_block *b = kmem_cache_alloc(block_cache, GFP_KERNEL);

	if (b) {
		memcpy(b->id, id, CP_ID_LEN);
		b->size = size;
		refcount_set(&b->ref, 1);
		b->atime = ktime_get_ns();
		RCU_INIT_POINTER(b->bf, NULL);
		b->dead = false;
	}
	return b;
}

/* A block that was never indexed nor seen by anyone else. */
void cp_block_free(struct cp_block *b)
{
	kmem_cache_free(block_cache, b);
}

struct cp_blkfile *cp_blkfile_alloc(u64 size, u32 nseg)
{
	struct cp_blkfile *bf = kmalloc(struct_size(bf, seg_crc, nseg), GFP_KERNEL);

	if (bf) {
		refcount_set(&bf->ref, 1);
		bf->size = size;
		bf->nseg = nseg;
	}
	return bf;
}

static void blkfile_free_rcu(struct rcu_head *rcu)
{
	kfree(container_of(rcu, struct cp_blkfile, rcu));
}

/* Any context: fput() defers the final close out of softirq itself. */
void cp_blkfile_put(struct cp_blkfile *bf)
{
	if (!refcount_dec_and_test(&bf->ref))
		return;
	fput(bf->file);
	call_rcu(&bf->rcu, blkfile_free_rcu);
}

static void block_free_rcu(struct rcu_head *rcu)
{
	kmem_cache_free(block_cache, container_of(rcu, struct cp_block, rcu));
}

void cp_block_put(struct cp_block *b)
{
	struct cp_blkfile *bf;

	if (!refcount_dec_and_test(&b->ref))
		return;
	/*
	 * The last reference: no lookup can find the block any more, so no
	 * one else reads or swaps b->bf. Normally whoever killed the block
	 * closed it; a block that was never indexed still holds its file.
	 */
	bf = rcu_dereference_protected(b->bf, !refcount_read(&b->ref));
	if (bf)
		cp_blkfile_put(bf);
	call_rcu(&b->rcu, block_free_rcu);
}

/* Process context. The block's file is no longer kept open. */
void cp_block_close(struct cp_store *st, struct cp_block *b)
{
	struct cp_blkfile *bf = unrcu_pointer(xchg(&b->bf, RCU_INITIALIZER(NULL)));

	if (bf) {
		atomic_long_dec(&st->open);
		cp_blkfile_put(bf);
	}
}

/* Any context: the block's open file, referenced, or NULL while it is cold. */
struct cp_blkfile *cp_block_file(struct cp_block *b)
{
	struct cp_blkfile *bf;

	rcu_read_lock();
	bf = rcu_dereference(b->bf);
	if (bf && !refcount_inc_not_zero(&bf->ref))
		bf = NULL;
	rcu_read_unlock();
	return bf;
}

/*
 * Publish bf as b's open file, unless someone was first or b died
 * meanwhile. Returns b's open file, referenced for the caller.
 */
struct cp_blkfile *cp_block_install_file(struct cp_store *st, struct cp_block *b,
					 struct cp_blkfile *bf)
{
	struct cp_blkfile *old;

	refcount_inc(&bf->ref);		/* the block's */
	old = unrcu_pointer(cmpxchg(&b->bf, RCU_INITIALIZER(NULL), RCU_INITIALIZER(bf)));
	if (old) {
		refcount_dec(&bf->ref);
		cp_blkfile_put(bf);
		bf = cp_block_file(b);
		return bf ?: ERR_PTR(-EAGAIN);
	}
	atomic_long_inc(&st->open);
	/* Pairs with the xchg()es in cp_store_drop(): one side sees the other. */
	if (READ_ONCE(b->dead))
		cp_block_close(st, b);
	return bf;
}

/* Index a block; -EEXIST if its id is already there. Consumes b on error. */
int cp_index_insert(struct cp_store *st, struct cp_block *b)
{
	int err = rhashtable_lookup_insert_fast(&st->index, &b->node, cp_index_params);

	if (err) {
		cp_block_put(b);
		return err;
	}
	atomic_long_inc(&st->blocks);
	atomic64_add(b->size, &st->bytes);
	return 0;
}

/* Any context, softirq included. Returns a referenced live block or NULL. */
struct cp_block *cp_store_lookup(struct cp_store *st, const u8 *id)
{
	struct cp_block *b;

	rcu_read_lock();
	b = rhashtable_lookup(&st->index, id, cp_index_params);
	if (b && (READ_ONCE(b->dead) || !refcount_inc_not_zero(&b->ref)))
		b = NULL;
	rcu_read_unlock();
	return b;
}

/*
 * Any context: record a use for LRU eviction and the idle-file closer. The
 * clock is only written when it moved, so hot blocks do not keep bouncing
 * their cache line between CPUs.
 */
void cp_block_touch(struct cp_block *b)
{
	u64 now = ktime_get_ns();

	if (now - READ_ONCE(b->atime) > NSEC_PER_MSEC)
		WRITE_ONCE(b->atime, now);
}

/* Calls fn on every indexed block, under RCU but in chunks between sleeps. */
void cp_index_walk(struct cp_store *st, void (*fn)(struct cp_block *b, void *arg), void *arg)
{
	struct rhashtable_iter iter;
	struct cp_block *b;
	u32 n = 0;

	rhashtable_walk_enter(&st->index, &iter);
	rhashtable_walk_start(&iter);
	while ((b = rhashtable_walk_next(&iter))) {
		if (IS_ERR(b)) {
			if (PTR_ERR(b) == -EAGAIN)
				continue;	/* resized: some may be seen twice */
			break;
		}
		fn(b, arg);
		if (++n % CP_WALK_CHUNK == 0) {
			rhashtable_walk_stop(&iter);
			cond_resched();
			rhashtable_walk_start(&iter);
		}
	}
	rhashtable_walk_stop(&iter);
	rhashtable_walk_exit(&iter);
}

/*
 * Run op on the dentry of name in the cache directory, with the directory
 * locked and writable, as the node's owner.
 */
int cp_store_with_dentry(struct cp_store *st, const char *name,
			 int (*op)(struct cp_store *st, struct dentry *de, void *arg), void *arg)
{
	struct inode *dir = d_inode(st->dir.dentry);
	const struct cred *old;
	struct dentry *de;
	int err;

	old = override_creds(st->cred);
	err = mnt_want_write(st->dir.mnt);
	if (err)
		goto out;
	inode_lock_nested(dir, I_MUTEX_PARENT);
	de = lookup_one_len(name, st->dir.dentry, strlen(name));
	if (IS_ERR(de)) {
		err = PTR_ERR(de);
	} else {
		err = op(st, de, arg);
		dput(de);
	}
	inode_unlock(dir);
	mnt_drop_write(st->dir.mnt);
out:
	revert_creds(old);
	return err;
}

static int unlink_op(struct cp_store *st, struct dentry *de, void *arg)
{
	if (d_is_negative(de))
		return -ENOENT;
	return vfs_unlink(mnt_idmap(st->dir.mnt), d_inode(st->dir.dentry), de, NULL);
}

/* Process context: unlink the name of the block id of size bytes. */
int cp_block_unlink(struct cp_store *st, const u8 *id, u64 size)
{
	char name[CP_NAME_LEN];

	cp_block_name(name, id, size);
	return cp_store_with_dentry(st, name, unlink_op, NULL);
}

/*
 * Process context. Remove a block from the index and the directory. Returns
 * false if someone else already did. Responses holding the block's open file
 * still send correct bytes: the inode lives until they are done.
 */
bool cp_store_drop(struct cp_store *st, struct cp_block *b)
{
	if (xchg(&b->dead, true))
		return false;
	if (rhashtable_remove_fast(&st->index, &b->node, cp_index_params))
		return false;
	atomic_long_dec(&st->blocks);
	atomic64_sub(b->size, &st->bytes);
	cp_block_unlink(st, b->id, b->size);
	cp_block_close(st, b);
	cp_block_put(b);	/* the index's reference */
	return true;
}

int cp_store_del(struct cp_store *st, const u8 *id)
{
	struct cp_block *b = cp_store_lookup(st, id);

	if (!b)
		return -ENOENT;
	cp_store_drop(st, b);
	cp_block_put(b);
	return 0;
}

static void index_free(void *ptr, void *arg)
{
	struct cp_block *b = ptr;

	WRITE_ONCE(b->dead, true);
	cp_block_close(arg, b);
	cp_block_put(b);
}

/* Every user of the store is gone, so no lookup can race with this. */
void cp_index_destroy(struct cp_store *st)
{
	rhashtable_free_and_destroy(&st->index, index_free, st);
}

u64 cp_store_index_mem(struct cp_store *st)
{
	const struct bucket_table *tbl;
	u64 buckets;

	rcu_read_lock();
	tbl = rcu_dereference(st->index.tbl);
	buckets = (u64)tbl->size * sizeof(tbl->buckets[0]) + sizeof(*tbl);
	rcu_read_unlock();
	return buckets + (u64)atomic_long_read(&st->blocks) * kmem_cache_size(block_cache);
}

int __init cp_store_init(void)
{
	block_cache = KMEM_CACHE(cp_block, 0);
	return block_cache ? 0 : -ENOMEM;
}

void cp_store_uninit(void)
{
	rcu_barrier();		/* blocks are freed by call_rcu() into the cache */
	kmem_cache_destroy(block_cache);
}
