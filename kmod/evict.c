// SPDX-License-Identifier: GPL-2.0
/*
 * Limits and eviction.
 *
 * A node keeps its blocks under a byte and a block count limit, and keeps
 * free space on the cache filesystem as cachefilesd does: below fs_cull %
 * free it evicts until fs_run % is free again, and below fs_stop % it refuses
 * new PUTs. Eviction only ever unlinks files, from process context: after a
 * PUT is committed, when a limit is changed, and from a periodic maintenance
 * work that also watches free space and closes idle block files.
 *
 * Victims are chosen by policy. lru evicts the least recently used blocks,
 * found by a walk of the index that keeps the oldest few: the hot path only
 * writes a timestamp into the block, there is no shared list to reorder on a
 * hit. 2-random samples two blocks from random hash buckets and evicts the
 * older, as JuiceFS does. none never evicts; PUTs beyond a limit get
 * NO_SPACE.
 *
 * Evicting a block that is being served is safe: responses hold the open
 * file, so the unlinked inode and its pages live until they are sent.
 */

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/random.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/statfs.h>

#include "store_priv.h"
#include "trace.h"

#define CP_MAINT_INTERVAL	HZ
#define CP_IDLE_CLOSE_NS	(30 * NSEC_PER_SEC)
#define CP_IDLE_CLOSE_EVERY	10		/* maintenance runs */
#define CP_LRU_BATCH		64

/* What f_blocks and f_bavail count: f_frsize where the filesystem has fragments. */
static u64 fs_unit(const struct kstatfs *sfs)
{
	return sfs->f_frsize ?: sfs->f_bsize;
}

/* Process context: recompute no_space and culling from the filesystem. */
static void update_fs_state(struct cp_store *st)
{
	const struct cp_limits *lim = &st->limits;
	u8 stop = READ_ONCE(lim->fs_stop), cull = READ_ONCE(lim->fs_cull);
	u8 run = READ_ONCE(lim->fs_run);
	s64 held = atomic64_read(&st->put_bytes);
	struct kstatfs sfs;
	u64 free_pct;

	if (vfs_statfs(&st->dir, &sfs) || !sfs.f_blocks || !fs_unit(&sfs))
		return;
	free_pct = div64_u64(sfs.f_bavail * 100, sfs.f_blocks);
	WRITE_ONCE(st->no_space, free_pct < stop);
	/*
	 * Culling counts what PUTs in progress hold as free: a PUT that fills
	 * the disk and then fails must not cost a stored block. One that
	 * commits is counted by the pass after it (cp_evict_after_put()).
	 */
	if (held > 0)
		free_pct = div64_u64((sfs.f_bavail + div64_u64(held, fs_unit(&sfs))) * 100,
				     sfs.f_blocks);
	if (cull && free_pct < cull)
		WRITE_ONCE(st->culling, true);
	else if (!cull || free_pct >= run)
		WRITE_ONCE(st->culling, false);
}

/* Process context: the cache filesystem's size and what is free for its user. */
int cp_store_fs_space(struct cp_store *st, u64 *size, u64 *avail)
{
	struct kstatfs sfs;
	int err = vfs_statfs(&st->dir, &sfs);

	if (err)
		return err;
	*size = sfs.f_blocks * fs_unit(&sfs);
	*avail = sfs.f_bavail * fs_unit(&sfs);
	return 0;
}

static bool over_limits(struct cp_store *st, u64 extra_blocks, u64 extra_bytes)
{
	u64 max_blocks = READ_ONCE(st->limits.max_blocks);
	u64 max_bytes = READ_ONCE(st->limits.max_bytes);

	return (max_blocks && atomic_long_read(&st->blocks) + extra_blocks > max_blocks) ||
	       (max_bytes && atomic64_read(&st->bytes) + extra_bytes > max_bytes);
}

/*
 * Process context: may a PUT of size bytes go ahead? Asked when it begins,
 * and again (recheck) before it is published, when only the count limits of
 * policy none are looked at: the block's own bytes are on the disk by then.
 */
int cp_evict_admit(struct cp_store *st, u64 size, bool recheck)
{
	u64 max_bytes = READ_ONCE(st->limits.max_bytes);

	if (!recheck) {
		update_fs_state(st);
		/*
		 * A block just deleted from a worker frees its space only at its
		 * deferred last fput: a PUT right after a DEL must see it.
		 */
		if (READ_ONCE(st->no_space)) {
			flush_delayed_fput();
			update_fs_state(st);
		}
	}
	if ((!recheck && READ_ONCE(st->no_space)) || (max_bytes && size > max_bytes))
		return -ENOSPC;
	if (READ_ONCE(st->limits.policy) == CP_EVICT_NONE && over_limits(st, 1, size))
		return -ENOSPC;
	return 0;
}

static bool evict_one(struct cp_store *st, struct cp_block *b)
{
	bool dropped = cp_store_drop(st, b);

	if (dropped) {
		cp_stats_inc(st->stats, CP_STAT_EVICTIONS);
		trace_cachepeer_evict(b->id, b->size);
	}
	cp_block_put(b);
	return dropped;
}

/* A referenced live block from a random bucket, other than not, or NULL. */
static struct cp_block *sample(struct cp_store *st, struct cp_block *not)
{
	const struct bucket_table *tbl;
	struct rhash_head *pos;
	struct cp_block *b;
	u32 i, h;

	rcu_read_lock();
	tbl = rht_dereference_rcu(st->index.tbl, &st->index);
	h = get_random_u32_below(tbl->size);
	for (i = 0; i < tbl->size; i++, h = (h + 1) & (tbl->size - 1)) {
		rht_for_each_entry_rcu(b, pos, tbl, h, node) {
			if (b != not && !READ_ONCE(b->dead) && refcount_inc_not_zero(&b->ref)) {
				rcu_read_unlock();
				return b;
			}
		}
	}
	rcu_read_unlock();
	return NULL;
}

static bool evict_2random(struct cp_store *st)
{
	struct cp_block *a, *b;

	a = sample(st, NULL);
	if (!a)
		return false;
	b = sample(st, a);
	if (b && READ_ONCE(b->atime) < READ_ONCE(a->atime))
		swap(a, b);
	if (b)
		cp_block_put(b);
	return evict_one(st, a);
}

struct lru_batch {
	u32 n;
	struct cp_block *b[CP_LRU_BATCH];	/* oldest first, referenced */
};

/* Keep b if it is among the CP_LRU_BATCH oldest seen so far. Under RCU. */
static void lru_offer(struct lru_batch *lb, struct cp_block *b)
{
	u64 t = READ_ONCE(b->atime);
	u32 i;

	if (lb->n == CP_LRU_BATCH && t >= READ_ONCE(lb->b[lb->n - 1]->atime))
		return;
	if (READ_ONCE(b->dead) || !refcount_inc_not_zero(&b->ref))
		return;
	if (lb->n == CP_LRU_BATCH)
		cp_block_put(lb->b[--lb->n]);
	for (i = lb->n; i && READ_ONCE(lb->b[i - 1]->atime) > t; i--)
		lb->b[i] = lb->b[i - 1];
	lb->b[i] = b;
	lb->n++;
}

static void lru_offer_fn(struct cp_block *b, void *arg)
{
	lru_offer(arg, b);
}

/* Evict the oldest blocks while need() says so. Returns false if stuck. */
static bool evict_lru(struct cp_store *st, bool (*need)(struct cp_store *st))
{
	struct lru_batch *lb;
	bool progress = false;
	u32 i;

	lb = kzalloc(sizeof(*lb), GFP_KERNEL);
	if (!lb)
		return false;
	cp_index_walk(st, lru_offer_fn, lb);
	for (i = 0; i < lb->n; i++) {
		if (need(st))
			progress |= evict_one(st, lb->b[i]);
		else
			cp_block_put(lb->b[i]);
	}
	kfree(lb);
	return progress;
}

static bool need_evict(struct cp_store *st)
{
	if (READ_ONCE(st->culling)) {
		/* Unlinked files free their space once their last user closes. */
		flush_delayed_fput();
		update_fs_state(st);
	}
	return !READ_ONCE(st->closing) && (READ_ONCE(st->culling) || over_limits(st, 0, 0));
}

/* Process context: evict until every limit holds. */
static void evict_run(struct cp_store *st)
{
	mutex_lock(&st->evict_lock);
	while (need_evict(st)) {
		bool progress;

		switch (READ_ONCE(st->limits.policy)) {
		case CP_EVICT_LRU:
			progress = evict_lru(st, need_evict);
			break;
		case CP_EVICT_2RANDOM:
			progress = evict_2random(st);
			break;
		default:
			progress = false;
			break;
		}
		if (!progress)
			break;
		cond_resched();
	}
	mutex_unlock(&st->evict_lock);
}

void cp_evict_after_put(struct cp_store *st)
{
	update_fs_state(st);
	evict_run(st);
}

struct idle_ctx {
	struct cp_store *st;
	u64 now;
};

static void close_idle_fn(struct cp_block *b, void *arg)
{
	struct idle_ctx *ic = arg;

	if (rcu_access_pointer(b->bf) && ic->now - READ_ONCE(b->atime) > CP_IDLE_CLOSE_NS)
		cp_block_close(ic->st, b);
}

static void maint_work(struct work_struct *work)
{
	struct cp_store *st = container_of(to_delayed_work(work), struct cp_store, maint_work);
	struct idle_ctx ic = { .st = st, .now = ktime_get_ns() };

	cp_evict_after_put(st);
	if (++st->maint_runs % CP_IDLE_CLOSE_EVERY == 0)
		cp_index_walk(st, close_idle_fn, &ic);
	if (!READ_ONCE(st->closing))
		queue_delayed_work(system_unbound_wq, &st->maint_work, CP_MAINT_INTERVAL);
}

void cp_evict_start(struct cp_store *st)
{
	st->no_space = false;
	st->culling = false;
	st->maint_runs = 0;
	INIT_DELAYED_WORK(&st->maint_work, maint_work);
	queue_delayed_work(system_unbound_wq, &st->maint_work, 0);
}

void cp_evict_stop(struct cp_store *st)
{
	cancel_delayed_work_sync(&st->maint_work);
}
