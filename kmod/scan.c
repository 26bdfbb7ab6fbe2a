// SPDX-License-Identifier: GPL-2.0
/*
 * Index rebuild. A block's file name carries everything the index needs, so
 * a node started on an existing directory rebuilds its index from a
 * directory scan, in the background, without opening a file. Names are
 * parsed, never trusted: a name must read back exactly as cp_block_name()
 * would write it, and its size must be one this module accepts. Anything
 * else in the directory (foreign files, dot files, directories) is ignored.
 * Whether the file behind a name really is that block is checked when it is
 * first opened.
 */

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/slab.h>

#include "store_priv.h"

#define CP_SCAN_BATCH 256

struct scan_ctx {
	struct dir_context ctx;
	u32 n;
	struct {
		u8 id[CP_ID_LEN];
		u32 size;
	} ent[CP_SCAN_BATCH];
};

static int lower_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Exactly what cp_block_name() writes: lower-case hex, no leading zeros. */
static bool parse_block_name(const char *name, int len, u8 *id, u32 *size)
{
	const char *p = name + 2 * CP_ID_LEN + 1;
	int i, hi, lo, ndig = len - (2 * CP_ID_LEN + 1);
	u64 v = 0;

	if (ndig < 1 || ndig > 8 || name[2 * CP_ID_LEN] != '.' || *p == '0')
		return false;
	for (i = 0; i < CP_ID_LEN; i++) {
		hi = lower_hex(name[2 * i]);
		lo = lower_hex(name[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		id[i] = hi << 4 | lo;
	}
	for (i = 0; i < ndig; i++) {
		hi = lower_hex(p[i]);
		if (hi < 0)
			return false;
		v = v << 4 | hi;
	}
	if (v > CACHEPEER_MAX_BLOCK_LIMIT)
		return false;
	*size = v;
	return true;
}

static bool scan_actor(struct dir_context *dctx, const char *name, int len, loff_t off,
		       u64 ino, unsigned int type)
{
	struct scan_ctx *sc = container_of(dctx, struct scan_ctx, ctx);

	if (type != DT_REG && type != DT_UNKNOWN)
		return true;
	if (sc->n == CP_SCAN_BATCH)
		return false;	/* the next iterate_dir() resumes at this entry */
	if (parse_block_name(name, len, sc->ent[sc->n].id, &sc->ent[sc->n].size))
		sc->n++;
	return true;
}

/*
 * Index one name. The id may be there already: PUT while we scanned (the
 * same block), or a second file of another size left by an older version,
 * which no lookup could ever reach, so it goes.
 */
static void scan_one(struct cp_store *st, const u8 *id, u32 size)
{
	struct cp_block *b = cp_block_alloc(id, size);
	int err;

	if (!b)
		return;
	err = cp_index_insert(st, b);
	if (!err) {
		st->scan_found++;
		return;
	}
	if (err != -EEXIST)
		return;
	b = cp_store_lookup(st, id);
	if (b && b->size != size && !cp_block_unlink(st, id, size)) {
		cp_stats_inc(st->stats, CP_STAT_FOREIGN);
		pr_warn_ratelimited("block file %*phN.%x duplicates a block of another size, removed\n",
				    CP_ID_LEN, id, size);
	}
	if (b)
		cp_block_put(b);
}

/* Process context: index every block named in the directory, in batches. */
static void scan_work(struct work_struct *work)
{
	struct cp_store *st = container_of(work, struct cp_store, scan_work);
	u64 start = ktime_get_ns();
	struct scan_ctx *sc;
	struct file *dir;
	u32 i;
	int err;

	sc = kvzalloc(sizeof(*sc), GFP_KERNEL);
	if (!sc)
		goto out;
	sc->ctx.actor = scan_actor;
	dir = dentry_open(&st->dir, O_RDONLY | O_DIRECTORY | O_LARGEFILE, st->cred);
	if (IS_ERR(dir)) {
		pr_warn("cannot read the cache directory to rebuild the index: %ld\n",
			PTR_ERR(dir));
		goto out_free;
	}
	while (!READ_ONCE(st->closing)) {
		sc->n = 0;
		err = iterate_dir(dir, &sc->ctx);
		if (err) {
			pr_warn("cache directory scan failed: %d\n", err);
			break;
		}
		for (i = 0; i < sc->n; i++)
			scan_one(st, sc->ent[i].id, sc->ent[i].size);
		if (sc->n < CP_SCAN_BATCH)
			break;
		cond_resched();
	}
	fput(dir);
	/* A restarted node may come back over its limits. */
	cp_evict_after_put(st);
out_free:
	kvfree(sc);
out:
	WRITE_ONCE(st->scan_ns, ktime_get_ns() - start);
	WRITE_ONCE(st->scan_done, true);
}

void cp_scan_start(struct cp_store *st)
{
	st->scan_done = false;
	st->scan_found = 0;
	st->scan_ns = 0;
	INIT_WORK(&st->scan_work, scan_work);
	queue_work(system_unbound_wq, &st->scan_work);
}

void cp_scan_stop(struct cp_store *st)
{
	cancel_work_sync(&st->scan_work);
}
