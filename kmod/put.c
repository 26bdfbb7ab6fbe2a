// SPDX-License-Identifier: GPL-2.0
/*
 * Storing a block. A PUT is written to an anonymous O_TMPFILE, followed by
 * its CRC table and a footer (key, size, CRCs), made durable with fsync and
 * only then linked under its name and indexed. A failed or abandoned PUT
 * just drops the anonymous file, so nothing partial is ever visible.
 */

#include <linux/cred.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/slab.h>

#include "crc.h"
#include "store_priv.h"

struct cp_put {
	struct cp_store *st;
	struct file *tmp;
	u8 id[CP_ID_LEN];
	u16 key_len;
	u8 key[CACHEPEER_KEY_MAX];
	u64 size;
	u64 done;
	u64 held;		/* bytes counted in st->put_bytes: write_all() */
	u32 seg_acc;		/* CRC of the current, unfinished segment */
	u32 nseg;
	u32 seg_crc[];
};

/*
 * A block already under id: -EALREADY if it is size bytes (the same block:
 * nothing to store), -EEXIST if not (a conflict). 0 if there is none.
 */
static int stored_already(struct cp_store *st, const u8 *id, u64 size)
{
	struct cp_block *b = cp_store_lookup(st, id);
	int err;

	if (!b)
		return 0;
	err = b->size == size ? -EALREADY : -EEXIST;
	cp_block_put(b);
	return err;
}

/*
 * Begin storing a block of size bytes under id. Besides the store's errors,
 * -EALREADY: the same block is stored, and -EEXIST: another size is; the
 * caller then drops the payload.
 */
struct cp_put *cp_store_put_begin(struct cp_store *st, const u8 *id, const u8 *key, u16 key_len,
				  u64 size)
{
	u32 nseg = cp_nseg(size);
	struct cp_put *put;
	struct file *tmp;
	int err;

	err = stored_already(st, id, size) ?: cp_evict_admit(st, size, false);
	if (err)
		return ERR_PTR(err);
	put = kvzalloc(struct_size(put, seg_crc, nseg), GFP_KERNEL);
	if (!put)
		return ERR_PTR(-ENOMEM);
	/*
	 * The new inode takes its owner from the task's credentials, not from
	 * the file's (cred only becomes f_cred): as cachefiles does, create
	 * it as whoever started the node, so that they can read it back and
	 * it counts against their quota, not the worker's root.
	 */
	tmp = cp_store_tmpfile(st);
	if (IS_ERR(tmp)) {
		kvfree(put);
		return ERR_CAST(tmp);
	}
	put->st = st;
	put->tmp = tmp;
	memcpy(put->id, id, CP_ID_LEN);
	memcpy(put->key, key, key_len);
	put->key_len = key_len;
	put->size = size;
	put->nseg = nseg;
	return put;
}

/*
 * Write len bytes at *pos. Their space counts as held (free, to culling)
 * from before the write begins until the PUT commits or is freed: counted
 * only after, a maintenance pass in between would find the disk fuller and
 * nothing held, and cull a stored block for a PUT that may yet fail.
 */
static int write_all(struct cp_put *put, const void *buf, size_t len, loff_t *pos)
{
	const struct cred *old = override_creds(put->st->cred);
	ssize_t n;
	int err = 0;

	put->held += len;
	atomic64_add(len, &put->st->put_bytes);
	while (len) {
		n = kernel_write(put->tmp, buf, len, pos);
		if (n <= 0) {
			err = n ? n : -EIO;
			break;
		}
		buf += n;
		len -= n;
	}
	revert_creds(old);
	/* What was not written takes no space. */
	put->held -= len;
	atomic64_sub(len, &put->st->put_bytes);
	return err;
}

/* Append payload bytes, folding them into the segment CRCs as they pass. */
int cp_store_put_write(struct cp_put *put, const void *buf, size_t len)
{
	loff_t pos = put->done;
	const u8 *p = buf;
	size_t left = len;
	int err;

	if (len > put->size - put->done)
		return -EINVAL;
	err = write_all(put, buf, len, &pos);
	if (err)
		return err;
	while (left) {
		u64 seg_off = put->done & (CACHEPEER_SEG_SIZE - 1);
		size_t n = min_t(u64, left, CACHEPEER_SEG_SIZE - seg_off);

		put->seg_acc = cp_crc32c(put->seg_acc, p, n);
		put->done += n;
		p += n;
		left -= n;
		if (!(put->done & (CACHEPEER_SEG_SIZE - 1)) || put->done == put->size) {
			put->seg_crc[(put->done - 1) >> CP_SEG_SHIFT] = put->seg_acc;
			put->seg_acc = 0;
		}
	}
	return 0;
}

static int put_trailer(struct cp_put *put, u32 crc)
{
	size_t table_len = put->nseg * sizeof(__le32);
	struct cp_footer *f;
	loff_t pos = put->size;
	__le32 *table;
	u32 i, tcrc;
	int err;

	table = kvmalloc(table_len + sizeof(*f), GFP_KERNEL);
	if (!table)
		return -ENOMEM;
	for (i = 0; i < put->nseg; i++)
		table[i] = cpu_to_le32(put->seg_crc[i]);
	f = (struct cp_footer *)((u8 *)table + table_len);
	memset(f, 0, sizeof(*f));
	f->magic = cpu_to_le64(CP_FOOTER_MAGIC);
	f->size = cpu_to_le64(put->size);
	f->nseg = cpu_to_le32(put->nseg);
	f->crc = cpu_to_le32(crc);
	f->key_len = cpu_to_le16(put->key_len);
	f->version = cpu_to_le16(CP_FOOTER_VERSION);
	memcpy(f->key, put->key, put->key_len);
	tcrc = cp_crc32c(0, table, table_len + offsetof(struct cp_footer, trailer_crc));
	f->trailer_crc = cpu_to_le32(tcrc);
	err = write_all(put, table, table_len + sizeof(*f), &pos);
	kvfree(table);
	return err;
}

/* Only the name this PUT itself linked, and only if it is still that file. */
static int unlink_op(struct cp_store *st, struct dentry *de, void *arg)
{
	struct file *file = arg;

	if (d_inode(de) != file_inode(file))
		return -ENOENT;
	return vfs_unlink(mnt_idmap(st->dir.mnt), d_inode(st->dir.dentry), de, NULL);
}

/* The PUT's bytes are a block's now, or about to be freed. */
static void put_release(struct cp_put *put)
{
	atomic64_sub(put->held, &put->st->put_bytes);
	put->held = 0;
}

/*
 * Verify, make durable, publish and index a fully received block. A block
 * already stored under the same key wins: blocks are immutable, so two PUTs
 * of one key carry the same bytes, and a PUT of another size is a conflict
 * (-EEXIST). Either way this PUT leaves nothing on disk.
 */
int cp_store_put_commit(struct cp_put *put, bool check_crc, u32 want_crc)
{
	struct cp_store *st = put->st;
	char name[CP_NAME_LEN];
	struct cp_blkfile *bf;
	struct cp_block *b;
	bool linked;
	u32 crc, i;
	int err;

	if (put->done != put->size)
		return -EINVAL;
	crc = put->seg_crc[0];
	for (i = 1; i < put->nseg; i++)
		crc = cp_crc32c_combine(crc, put->seg_crc[i], cp_seg_len(put->size, i));
	if (check_crc && crc != want_crc)
		return -EBADMSG;
	/* Stored while the payload was arriving? */
	err = stored_already(st, put->id, put->size);
	if (err)
		return err == -EALREADY ? 0 : err;

	/* Limits may have been reached while the payload was arriving. */
	err = cp_evict_admit(st, put->size, true) ?: put_trailer(put, crc);
	if (err)
		return err;
	err = vfs_fsync(put->tmp, 0);
	if (err)
		return err;

	bf = cp_blkfile_alloc(put->size, put->nseg);
	b = cp_block_alloc(put->id, put->size);
	if (!bf || !b) {
		kfree(bf);
		if (b)
			cp_block_free(b);
		return -ENOMEM;
	}
	bf->crc = crc;
	memcpy(bf->seg_crc, put->seg_crc, put->nseg * sizeof(u32));

	cp_block_name(name, put->id, put->size);
	err = cp_store_with_dentry(st, name, cp_store_link_op, put->tmp);
	if (err && err != -EEXIST) {
		kfree(bf);
		cp_block_free(b);
		return err;
	}
	linked = !err;
	bf->file = put->tmp;
	put->tmp = NULL;
	put_release(put);
	rcu_assign_pointer(b->bf, bf);
	atomic_long_inc(&st->open);
	/* The index's reference; b keeps bf, and with it the file, until the end. */
	refcount_inc(&b->ref);
	err = cp_index_insert(st, b);
	if (err) {
		atomic_long_dec(&st->open);
		/*
		 * A PUT of the same key was indexed first. A name this PUT
		 * linked is nobody's: of the same size it is the other's
		 * (cp_store_link_op() found it), of another size it must go.
		 */
		if (err == -EEXIST) {
			err = stored_already(st, put->id, put->size);
			if (linked && err != -EALREADY)
				cp_store_with_dentry(st, name, unlink_op, bf->file);
			/* ...and if it went again meanwhile, the client may retry. */
			err = err == -EALREADY ? 0 : err ?: -EAGAIN;
		}
		cp_block_put(b);
		return err;
	}
	cp_block_put(b);
	cp_evict_after_put(st);
	return 0;
}

/*
 * Process context (a PUT is freed by the work that received or committed
 * it, or by its connection's close work). Drops an uncommitted anonymous
 * file, so nothing is left behind. Its space is given back before its
 * bytes stop counting as free: from a worker the last fput is deferred,
 * and flush_delayed_fput() in the maintenance pass does not wait for a
 * deferred fput already running elsewhere, so until that is done the
 * bytes would be neither free nor held, and the pass could cull a stored
 * block for them (the debug kernel, slower, hit that window). Punching the
 * file's blocks out frees them here and now; where holes cannot be
 * punched, the fput is all there is.
 */
void cp_store_put_free(struct cp_put *put)
{
	const struct cred *old;
	loff_t size;

	if (!put)
		return;
	might_sleep();
	if (put->tmp) {
		size = i_size_read(file_inode(put->tmp));
		if (size) {
			old = override_creds(put->st->cred);
			vfs_fallocate(put->tmp, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
				      size);
			revert_creds(old);
		}
		fput(put->tmp);
	}
	put_release(put);
	kvfree(put);
}
