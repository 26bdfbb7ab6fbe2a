// SPDX-License-Identifier: GPL-2.0
/*
 * The store's lifecycle: a node's cache directory, opened when the node
 * starts, and the workers that keep it (index rebuild, eviction and
 * maintenance, scrub), started and stopped with it. What the store holds
 * and how is in the files named in store_priv.h.
 *
 * The directory is resolved, and every file in it created, read and
 * unlinked, with the credentials of whoever started the node.
 */

#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/rhashtable.h>
#include <linux/shmem_fs.h>

#include "store_priv.h"

void cp_store_limits_default(struct cp_limits *lim)
{
	*lim = (struct cp_limits) {
		.fs_stop = 3,
		.fs_cull = 7,
		.fs_run = 10,
		.policy = CP_EVICT_LRU,
		.scrub_rate = 1 << 20,
	};
}

/* NULL if lim holds, or why not. Free-space thresholds as cachefilesd has them. */
const char *cp_store_limits_check(const struct cp_limits *lim)
{
	if (lim->fs_stop > 99 || lim->fs_cull > 99 || lim->fs_run > 99)
		return "free-space thresholds are percentages, 0-99";
	if (lim->fs_cull && (lim->fs_stop >= lim->fs_cull || lim->fs_cull >= lim->fs_run))
		return "free-space thresholds must satisfy stop < cull < run";
	if (lim->policy > CACHEPEER_EVICT_MAX)
		return "unknown eviction policy";
	return NULL;
}

/*
 * Blocks are served from their file's own page cache, so the filesystem must
 * keep one: a regular ->read_folio, or tmpfs. Stacking filesystems such as
 * overlayfs keep the data in another inode's cache and are refused.
 */
static bool mapping_supported(struct address_space *mapping)
{
	return shmem_mapping(mapping) || (mapping->a_ops && mapping->a_ops->read_folio);
}

/* Process context, in the task of whoever starts the node. */
int cp_store_open(struct cp_store *st, const char *dir, struct cp_stats __percpu *stats)
{
	struct file *probe;
	bool supported;
	int err;

	err = kern_path(dir, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &st->dir);
	if (err)
		return err;
	err = inode_permission(mnt_idmap(st->dir.mnt), d_inode(st->dir.dentry),
			       MAY_WRITE | MAY_EXEC | MAY_READ);
	if (err)
		goto err_path;
	err = mnt_want_write(st->dir.mnt);
	if (err)
		goto err_path;
	probe = kernel_tmpfile_open(mnt_idmap(st->dir.mnt), &st->dir, S_IFREG | 0600,
				    O_RDWR, current_cred());
	mnt_drop_write(st->dir.mnt);
	if (IS_ERR(probe)) {
		err = PTR_ERR(probe);
		goto err_path;
	}
	supported = mapping_supported(probe->f_mapping);
	fput(probe);
	if (!supported) {
		err = -EOPNOTSUPP;
		goto err_path;
	}
	err = rhashtable_init(&st->index, &cp_index_params);
	if (err)
		goto err_path;
	st->cred = get_current_cred();
	st->stats = stats;
	atomic_long_set(&st->blocks, 0);
	atomic64_set(&st->bytes, 0);
	atomic_long_set(&st->open, 0);
	atomic64_set(&st->put_bytes, 0);
	st->closing = false;
	mutex_init(&st->evict_lock);
	cp_evict_start(st);
	cp_scrub_start(st);
	cp_scan_start(st);
	return 0;

err_path:
	path_put(&st->dir);
	return err;
}

/* Every connection of the node is gone, so no lookup can race with this. */
void cp_store_close(struct cp_store *st)
{
	WRITE_ONCE(st->closing, true);
	cp_scan_stop(st);
	cp_scrub_stop(st);
	cp_evict_stop(st);
	cp_index_destroy(st);
	mutex_destroy(&st->evict_lock);
	path_put(&st->dir);
	put_cred(st->cred);
}

/* Process context, under the node's lock: a limit changed, apply it now. */
void cp_store_limits_changed(struct cp_store *st)
{
	cp_evict_after_put(st);
	cp_scrub_kick(st);
}
