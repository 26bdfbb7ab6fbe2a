// SPDX-License-Identifier: GPL-2.0
/*
 * Scrub: a background patrol that re-reads cold blocks from disk and checks
 * them against their segment CRCs, so that rot is found before a client asks
 * for the block. Corrupt blocks are dropped and counted.
 *
 * One block per work run; the next run is delayed by the time that block's
 * bytes take at the configured rate, so the patrol never holds a worker or
 * the disk for long. Blocks used within the last minute are skipped by the
 * patrol (their bytes are in the page cache and a client is reading them);
 * a pass started on demand checks every block.
 */

#include <linux/fs.h>
#include <linux/rhashtable.h>
#include <linux/shmem_fs.h>

#include "store_priv.h"
#include "trace.h"

#define CP_SCRUB_HOT_NS		(60 * NSEC_PER_SEC)
#define CP_SCRUB_PASS_GAP	(60 * HZ)
#define CP_SCRUB_REQUESTED	0

/* Process context: verify one whole block. Returns the bytes checked. */
static u64 scrub_block(struct cp_store *st, struct cp_block *b, bool hot)
{
	bool was_open = rcu_access_pointer(b->bf);
	struct address_space *mapping;
	struct cp_blkfile *bf;
	bool shmem;
	u64 size;
	int err;

	bf = cp_block_open(st, b);
	if (IS_ERR(bf))
		return 0;	/* gone, or a foreign file, already removed */
	mapping = bf->file->f_mapping;
	size = bf->size;
	shmem = shmem_mapping(mapping);
	/*
	 * Check what is on disk, not what is cached: drop the clean pages
	 * first. Pages still referenced (by skbs in flight) stay.
	 */
	if (!shmem)
		invalidate_mapping_pages(mapping, 0, -1);
	err = cp_block_verify(st, b, bf, 0, size);
	if (!shmem && !hot)
		invalidate_mapping_pages(mapping, 0, -1);
	cp_blkfile_put(bf);
	if (!was_open)
		cp_block_close(st, b);
	if (err == -EBADMSG)
		cp_stats_inc(st->stats, CP_STAT_SCRUB_CORRUPT);
	return size;
}

static void pass_end(struct cp_store *st, bool completed)
{
	rhashtable_walk_exit(&st->scrub_iter);
	st->scrub_iter_live = false;
	if (completed)
		cp_stats_inc(st->stats, CP_STAT_SCRUB_PASSES);
	spin_lock(&st->scrub_lock);
	st->scrub.running = false;
	spin_unlock(&st->scrub_lock);
	trace_cachepeer_scrub_pass(st->scrub.pass_blocks, completed);
}

/* The next block of the pass to check, referenced, or NULL at its end. */
static struct cp_block *next_block(struct cp_store *st, u64 now)
{
	struct cp_block *b;

	rhashtable_walk_start(&st->scrub_iter);
	while ((b = rhashtable_walk_next(&st->scrub_iter))) {
		if (IS_ERR(b)) {
			if (PTR_ERR(b) == -EAGAIN)
				continue;
			b = NULL;
			break;
		}
		if (READ_ONCE(b->dead))
			continue;
		if (!st->scrub_pass_all && now - READ_ONCE(b->atime) < CP_SCRUB_HOT_NS)
			continue;
		if (refcount_inc_not_zero(&b->ref))
			break;
	}
	rhashtable_walk_stop(&st->scrub_iter);
	return b;
}

static void scrub_work(struct work_struct *work)
{
	struct cp_store *st = container_of(to_delayed_work(work), struct cp_store, scrub_work);
	u64 rate = READ_ONCE(st->limits.scrub_rate);
	u64 now = ktime_get_ns();
	struct cp_block *b;
	unsigned long delay;
	bool hot;
	u64 bytes;

	if (READ_ONCE(st->closing))
		return;
	if (test_and_clear_bit(CP_SCRUB_REQUESTED, &st->scrub_flags)) {
		if (st->scrub_iter_live)
			pass_end(st, false);
		st->scrub_pass_all = true;
	}
	if (!rate && !st->scrub_pass_all) {
		/* The patrol is off; an on-demand pass runs unthrottled. */
		if (st->scrub_iter_live)
			pass_end(st, false);
		return;
	}
	if (!st->scrub_iter_live) {
		rhashtable_walk_enter(&st->index, &st->scrub_iter);
		st->scrub_iter_live = true;
		spin_lock(&st->scrub_lock);
		st->scrub.running = true;
		st->scrub.pass_blocks = 0;
		spin_unlock(&st->scrub_lock);
	}

	b = next_block(st, now);
	if (!b) {
		pass_end(st, true);
		st->scrub_pass_all = false;
		if (rate)
			queue_delayed_work(system_unbound_wq, &st->scrub_work, CP_SCRUB_PASS_GAP);
		return;
	}
	hot = now - READ_ONCE(b->atime) < CP_SCRUB_HOT_NS;
	bytes = scrub_block(st, b, hot);
	cp_block_put(b);

	cp_stats_inc(st->stats, CP_STAT_SCRUB_BLOCKS);
	cp_stats_add(st->stats, CP_STAT_SCRUB_BYTES, bytes);
	spin_lock(&st->scrub_lock);
	st->scrub.pass_blocks++;
	spin_unlock(&st->scrub_lock);

	delay = rate ? div64_u64(bytes * HZ, rate) : 0;
	queue_delayed_work(system_unbound_wq, &st->scrub_work, min_t(u64, delay, 3600 * HZ));
}

void cp_scrub_start(struct cp_store *st)
{
	spin_lock_init(&st->scrub_lock);
	memset(&st->scrub, 0, sizeof(st->scrub));
	st->scrub_iter_live = false;
	st->scrub_pass_all = false;
	st->scrub_flags = 0;
	INIT_DELAYED_WORK(&st->scrub_work, scrub_work);
	queue_delayed_work(system_unbound_wq, &st->scrub_work, CP_SCRUB_PASS_GAP);
}

/* Process context: start a full pass now, hot blocks included. */
void cp_store_scrub_pass(struct cp_store *st)
{
	set_bit(CP_SCRUB_REQUESTED, &st->scrub_flags);
	mod_delayed_work(system_unbound_wq, &st->scrub_work, 0);
}

/* The scrub rate changed: take it into account now. */
void cp_scrub_kick(struct cp_store *st)
{
	mod_delayed_work(system_unbound_wq, &st->scrub_work, 0);
}

void cp_store_scrub_state(struct cp_store *st, struct cp_scrub_state *s)
{
	spin_lock(&st->scrub_lock);
	*s = st->scrub;
	spin_unlock(&st->scrub_lock);
}

void cp_scrub_stop(struct cp_store *st)
{
	cancel_delayed_work_sync(&st->scrub_work);
	if (st->scrub_iter_live)
		pass_end(st, false);
}
