// SPDX-License-Identifier: GPL-2.0
/*
 * The cache directory: immutable block files and the in-memory index.
 *
 * A block is written to an anonymous O_TMPFILE, followed by its CRC table
 * and a footer, made durable with fsync and only then linked under a name
 * derived from a hash of its key ("<128-bit id hex>.<size hex>"), never from
 * the key itself. A failed or abandoned PUT just drops the anonymous file,
 * so nothing partial is ever visible. Blocks are never rewritten; removal is
 * unlink, and open files keep an unlinked block's bytes valid for the
 * responses still sending them.
 *
 * The name carries everything the index needs, so a restarted node rebuilds
 * its index from a directory scan without opening a file. A block's file is
 * opened, and its trailer checked, only when the block is first used; a file
 * whose trailer does not match its name is removed, never served.
 *
 * All VFS work runs in process context under the credentials of whoever
 * started the node, so a node can do no more in its directory than they can.
 */

#include <crypto/sha2.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/pagemap.h>
#include <linux/rhashtable.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>

#include "crc.h"
#include "store.h"
#include "store_priv.h"

#define CP_FOOTER_MAGIC 0x314b434f4c425043ULL	/* "CPBLOCK1" little-endian */
static_assert(CACHEPEER_SEG_SIZE == 1U << CP_SEG_SHIFT);
static_assert(CACHEPEER_MAX_BLOCK_LIMIT <= U32_MAX);

/* Written after the CRC table at the end of every block file. */
struct cp_footer {
	__le64 magic;
	__le64 size;
	__le32 nseg;
	__le32 crc;
	__le16 key_len;
	__le16 reserved;
	__le32 reserved2;
	u8 key[256];
	__le32 reserved3;
	__le32 trailer_crc;	/* of the CRC table and the footer before this */
};

struct cp_put {
	struct cp_store *st;
	struct file *tmp;
	u8 id[CP_ID_LEN];
	u16 key_len;
	u8 key[CACHEPEER_KEY_MAX];
	u64 size;
	u64 done;
	u64 held;		/* bytes counted in st->put_bytes */
	u32 seg_acc;		/* CRC of the current, unfinished segment */
	u32 nseg;
	u32 seg_crc[];
};

static struct kmem_cache *block_cache __ro_after_init;

const struct rhashtable_params cp_index_params = {
	.key_len = CP_ID_LEN,
	.key_offset = offsetof(struct cp_block, id),
	.head_offset = offsetof(struct cp_block, node),
	.automatic_shrinking = true,
};

static u32 nseg_of(u64 size)
{
	return DIV_ROUND_UP_ULL(size, CACHEPEER_SEG_SIZE);
}

static u64 seg_len(u64 size, u32 seg)
{
	return min_t(u64, CACHEPEER_SEG_SIZE, size - (u64)seg * CACHEPEER_SEG_SIZE);
}

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

int cp_store_status(int err)
{
	switch (err) {
	case 0:
		return CACHEPEER_S_OK;
	case -ENOENT:
		return CACHEPEER_S_NOT_FOUND;
	case -ENOSPC:
	case -EDQUOT:
		return CACHEPEER_S_NO_SPACE;
	case -EBADMSG:
		return CACHEPEER_S_CORRUPT;
	case -EFBIG:
		return CACHEPEER_S_TOO_LARGE;
	case -ENOMEM:
	case -EBUSY:
	case -EAGAIN:
		return CACHEPEER_S_BUSY;
	case -EINVAL:
		return CACHEPEER_S_BAD_REQUEST;
	default:
		return CACHEPEER_S_IO_ERROR;
	}
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

int cp_store_open(struct cp_store *st, const char *dir)
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
	probe = kernel_tmpfile_open(mnt_idmap(st->dir.mnt), &st->dir, S_IFREG | 0600,
				    O_RDWR, current_cred());
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
	atomic_long_set(&st->blocks, 0);
	atomic64_set(&st->bytes, 0);
	atomic_long_set(&st->open, 0);
	atomic64_set(&st->corrupt, 0);
	atomic64_set(&st->evictions, 0);
	atomic64_set(&st->foreign, 0);
	atomic64_set(&st->put_bytes, 0);
	st->closing = false;
	st->scan_done = false;
	st->scan_found = 0;
	st->scan_ns = 0;
	mutex_init(&st->evict_lock);
	INIT_WORK(&st->scan_work, cp_store_scan_work);
	cp_evict_start(st);
	cp_scrub_init(st);
	queue_work(system_unbound_wq, &st->scan_work);
	return 0;

err_path:
	path_put(&st->dir);
	return err;
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
	/* Closed by whoever killed the block, unless it was never indexed. */
	bf = rcu_dereference_protected(b->bf, true);
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

static void index_free(void *ptr, void *arg)
{
	struct cp_block *b = ptr;

	WRITE_ONCE(b->dead, true);
	cp_block_close(arg, b);
	cp_block_put(b);
}

/* Every connection of the node is gone, so no lookup can race with this. */
void cp_store_close(struct cp_store *st)
{
	WRITE_ONCE(st->closing, true);
	cancel_work_sync(&st->scan_work);
	cp_scrub_stop(st);
	cp_evict_stop(st);
	rhashtable_free_and_destroy(&st->index, index_free, st);
	mutex_destroy(&st->evict_lock);
	path_put(&st->dir);
	put_cred(st->cred);
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
 * Run op on the dentry of name in the cache directory, with the directory
 * locked and writable, as the node's owner.
 */
static int with_dentry(struct cp_store *st, const char *name,
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

/*
 * Process context. Remove a block from the index and the directory. Returns
 * false if someone else already did. Responses holding the block's open file
 * still send correct bytes: the inode lives until they are done.
 */
bool cp_store_drop(struct cp_store *st, struct cp_block *b)
{
	char name[CP_NAME_LEN];

	if (xchg(&b->dead, true))
		return false;
	if (rhashtable_remove_fast(&st->index, &b->node, cp_index_params))
		return false;
	atomic_long_dec(&st->blocks);
	atomic64_sub(b->size, &st->bytes);
	cp_block_name(name, b->id, b->size);
	with_dentry(st, name, unlink_op, NULL);
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

/* Publish bf as b's open file, unless someone was first or b died meanwhile. */
static struct cp_blkfile *install_file(struct cp_store *st, struct cp_block *b,
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

static struct cp_blkfile *blkfile_alloc(u64 size, u32 nseg)
{
	struct cp_blkfile *bf = kmalloc(struct_size(bf, seg_crc, nseg), GFP_KERNEL);

	if (bf) {
		refcount_set(&bf->ref, 1);
		bf->size = size;
		bf->nseg = nseg;
	}
	return bf;
}

/* Check a block file's trailer against its name; fill in bf's CRCs. */
static int read_trailer(struct cp_block *b, struct file *file, struct cp_blkfile *bf)
{
	size_t table_len = bf->nseg * sizeof(__le32);
	size_t len = table_len + sizeof(struct cp_footer);
	u8 id[CP_ID_LEN];
	struct cp_footer *f;
	loff_t pos = b->size;
	__le32 *table;
	u32 crc, i;
	u16 key_len;
	int err = -EBADMSG;

	if (!S_ISREG(file_inode(file)->i_mode) || i_size_read(file_inode(file)) != pos + len)
		return -EBADMSG;
	table = kvmalloc(len, GFP_KERNEL);
	if (!table)
		return -ENOMEM;
	if (kernel_read(file, table, len, &pos) != len) {
		err = -EIO;
		goto out;
	}
	f = (struct cp_footer *)((u8 *)table + table_len);
	key_len = le16_to_cpu(f->key_len);
	if (le64_to_cpu(f->magic) != CP_FOOTER_MAGIC || le64_to_cpu(f->size) != b->size ||
	    le32_to_cpu(f->nseg) != bf->nseg || !key_len || key_len > CACHEPEER_KEY_MAX ||
	    cp_crc32c(0, table, len - sizeof(f->trailer_crc)) != le32_to_cpu(f->trailer_crc))
		goto out;
	cp_store_key_id(f->key, key_len, id);
	if (memcmp(id, b->id, CP_ID_LEN))
		goto out;
	crc = 0;
	for (i = 0; i < bf->nseg; i++) {
		bf->seg_crc[i] = le32_to_cpu(table[i]);
		crc = i ? cp_crc32c_combine(crc, bf->seg_crc[i], seg_len(b->size, i)) :
			  bf->seg_crc[0];
	}
	bf->crc = le32_to_cpu(f->crc);
	err = crc == bf->crc ? 0 : -EBADMSG;
out:
	kvfree(table);
	return err;
}

static struct file *open_by_name(struct cp_store *st, const u8 *id, u64 size)
{
	const struct cred *old;
	char name[CP_NAME_LEN];
	struct path path;
	struct file *file;
	int err;

	cp_block_name(name, id, size);
	old = override_creds(st->cred);
	err = vfs_path_lookup(st->dir.dentry, st->dir.mnt, name, 0, &path);
	if (!err) {
		/* dentry_open() checks no permission of its own. */
		err = inode_permission(mnt_idmap(path.mnt), d_inode(path.dentry), MAY_READ);
		if (err)
			path_put(&path);
	}
	revert_creds(old);
	if (err)
		return ERR_PTR(err);
	file = dentry_open(&path, O_RDONLY | O_LARGEFILE, st->cred);
	path_put(&path);
	return file;
}

/*
 * Process context: the block's open file, opening it if it is cold. A file
 * that vanished, or whose trailer does not match its name (a foreign or
 * damaged file), is dropped from the index and gives -ENOENT.
 */
struct cp_blkfile *cp_block_open(struct cp_store *st, struct cp_block *b)
{
	struct cp_blkfile *bf = cp_block_file(b);
	struct file *file;
	int err;

	if (bf)
		return bf;
	bf = blkfile_alloc(b->size, nseg_of(b->size));
	if (!bf)
		return ERR_PTR(-ENOMEM);
	file = open_by_name(st, b->id, b->size);
	if (IS_ERR(file)) {
		kfree(bf);
		err = PTR_ERR(file);
		if (err == -ENOENT)
			cp_store_drop(st, b);
		return ERR_PTR(err);
	}
	bf->file = file;
	err = read_trailer(b, file, bf);
	if (err) {
		cp_blkfile_put(bf);
		if (err != -EBADMSG)
			return ERR_PTR(err);
		if (cp_store_drop(st, b)) {
			atomic64_inc(&st->foreign);
			pr_warn_ratelimited("block file %*phN.%x does not match its name, removed\n",
					    CP_ID_LEN, b->id, b->size);
		}
		return ERR_PTR(-ENOENT);
	}
	return install_file(st, b, bf);
}

/* CRC of bytes [off, off + len) of one folio, which must be uptodate. */
static u32 folio_crc(u32 crc, struct folio *folio, size_t off, size_t len)
{
	while (len) {
		size_t n = min_t(size_t, len, PAGE_SIZE - offset_in_page(off));
		void *p = kmap_local_folio(folio, off);

		crc = cp_crc32c(crc, p, n);
		kunmap_local(p);
		off += n;
		len -= n;
	}
	return crc;
}

static struct folio *read_folio(struct cp_blkfile *bf, pgoff_t index)
{
	struct address_space *mapping = bf->file->f_mapping;

	/* tmpfs has no ->read_folio; its "disk" is swap. */
	if (shmem_mapping(mapping))
		return shmem_read_folio(mapping, index);
	return read_mapping_folio(mapping, index, bf->file);
}

/* Process context: an uptodate folio at index, read from disk if need be. */
struct folio *cp_block_folio(struct cp_blkfile *bf, pgoff_t index)
{
	struct folio *folio;

	folio = filemap_get_folio(bf->file->f_mapping, index);
	if (!IS_ERR(folio)) {
		if (folio_test_uptodate(folio))
			return folio;
		folio_put(folio);
	}
	return read_folio(bf, index);
}

/*
 * CRC of bytes [off, off + len) from page data. In softirq (!may_sleep) only
 * folios already uptodate in the page cache are used, else -EAGAIN.
 */
static int data_crc(struct cp_blkfile *bf, u64 off, u64 len, bool may_sleep, u32 *crcp)
{
	struct address_space *mapping = bf->file->f_mapping;
	u32 crc = 0;

	while (len) {
		struct folio *folio;
		size_t foff, n;

		if (may_sleep) {
			folio = cp_block_folio(bf, off >> PAGE_SHIFT);
			if (IS_ERR(folio))
				return PTR_ERR(folio);
		} else {
			folio = filemap_get_folio(mapping, off >> PAGE_SHIFT);
			if (IS_ERR(folio))
				return -EAGAIN;
			if (!folio_test_uptodate(folio)) {
				folio_put(folio);
				return -EAGAIN;
			}
		}
		foff = off - folio_pos(folio);
		n = min_t(u64, len, folio_size(folio) - foff);
		crc = folio_crc(crc, folio, foff, n);
		folio_put(folio);
		off += n;
		len -= n;
	}
	*crcp = crc;
	return 0;
}

/*
 * CRC of [off, off + len) of the block: stored CRCs for whole segments, page
 * data only for the partial segments at either end.
 */
int cp_block_range_crc(struct cp_blkfile *bf, u64 off, u64 len, bool may_sleep, u32 *crcp)
{
	u64 end = off + len;
	u32 crc = 0;

	while (off < end) {
		u32 seg = off >> CP_SEG_SHIFT;
		u64 s_start = (u64)seg * CACHEPEER_SEG_SIZE;
		u64 s_end = s_start + seg_len(bf->size, seg);
		u64 n = min(end, s_end) - off;
		u32 part;
		int err;

		if (off == s_start && n == s_end - s_start) {
			part = bf->seg_crc[seg];
		} else {
			err = data_crc(bf, off, n, may_sleep, &part);
			if (err)
				return err;
		}
		if (off == end - len)
			crc = part;	/* the first piece: nothing to combine with */
		else if (n == CACHEPEER_SEG_SIZE)
			crc = cp_crc32c_combine_seg(crc, part);
		else
			crc = cp_crc32c_combine(crc, part, n);
		off += n;
	}
	*crcp = crc;
	return 0;
}

/*
 * Any context: are all folios of [off, off + len) uptodate in the page cache?
 *
 * One RCU walk of the mapping, taking no folio references: a 4 MiB GET asks
 * this of 1,024 folios from softirq, and a lookup and a reference per folio
 * cost more than the rest of the request. The answer is a hint, since the
 * folios may be evicted (or the walk may read a folio being freed) right
 * after; TX takes its own references and reads and verifies again whatever
 * is gone by then.
 */
bool cp_block_cached(struct cp_blkfile *bf, u64 off, u64 len)
{
	pgoff_t last = (off + len - 1) >> PAGE_SHIFT;
	XA_STATE(xas, &bf->file->f_mapping->i_pages, off >> PAGE_SHIFT);
	struct folio *folio;
	pgoff_t next;
	bool ok = false;

	rcu_read_lock();
	for (folio = xas_load(&xas); folio; folio = xas_next(&xas)) {
		if (xas_retry(&xas, folio))
			continue;
		/* A swapped-out tmpfs page, or a stale size that left us mid-folio */
		if (xa_is_value(folio) || xa_is_sibling(folio) || !folio_test_uptodate(folio))
			break;
		next = folio_next_index(folio);
		/* A folio freed under us may claim any index: never walk back. */
		if (next <= xas.xa_index)
			break;
		if (next > last) {
			ok = true;
			break;
		}
		xas_advance(&xas, next - 1);
	}
	rcu_read_unlock();
	return ok;
}

/*
 * Process context. Bring [off, off + len) into the page cache and verify
 * every segment it touches against its stored CRC; callers come here only
 * when some of it was not cached, i.e. is being read from disk. Verifying
 * all of it, not just what this call read, also catches bytes someone changed
 * in the page cache. A mismatch drops the block and returns -EBADMSG: bad
 * bytes are never served.
 */
int cp_block_verify(struct cp_store *st, struct cp_block *b, struct cp_blkfile *bf,
		    u64 off, u64 len)
{
	struct file *file = bf->file;
	u32 seg = off >> CP_SEG_SHIFT;
	u32 last = (off + len - 1) >> CP_SEG_SHIFT;
	pgoff_t first_index = off >> PAGE_SHIFT;

	if (!shmem_mapping(file->f_mapping))
		page_cache_sync_readahead(file->f_mapping, &file->f_ra, file, first_index,
					  ((off + len - 1) >> PAGE_SHIFT) - first_index + 1);
	for (; seg <= last; seg++) {
		u64 pos = (u64)seg * CACHEPEER_SEG_SIZE;
		u64 s_end = pos + seg_len(bf->size, seg);
		u32 crc = 0;

		while (pos < s_end) {
			struct folio *folio = cp_block_folio(bf, pos >> PAGE_SHIFT);
			size_t foff, n;

			if (IS_ERR(folio))
				return PTR_ERR(folio);
			foff = pos - folio_pos(folio);
			n = min_t(u64, s_end - pos, folio_size(folio) - foff);
			crc = folio_crc(crc, folio, foff, n);
			folio_put(folio);
			pos += n;
		}
		if (crc != bf->seg_crc[seg]) {
			if (cp_store_drop(st, b)) {
				atomic64_inc(&st->corrupt);
				pr_warn_ratelimited("block %*phN: segment %u fails its CRC, dropped\n",
						    CP_ID_LEN, b->id, seg);
			}
			return -EBADMSG;
		}
	}
	return 0;
}

struct cp_put *cp_store_put_begin(struct cp_store *st, const u8 *id, const u8 *key, u16 key_len,
				  u64 size)
{
	u32 nseg = nseg_of(size);
	struct cp_put *put;
	struct file *tmp;
	int err;

	err = cp_evict_admit(st, size, false);
	if (err)
		return ERR_PTR(err);
	put = kvzalloc(struct_size(put, seg_crc, nseg), GFP_KERNEL);
	if (!put)
		return ERR_PTR(-ENOMEM);
	tmp = kernel_tmpfile_open(mnt_idmap(st->dir.mnt), &st->dir, S_IFREG | 0600,
				  O_RDWR | O_LARGEFILE, st->cred);
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

static int write_all(struct cp_put *put, const void *buf, size_t len, loff_t *pos)
{
	const struct cred *old = override_creds(put->st->cred);
	ssize_t n;
	int err = 0;

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
	/* Written, even in part: the space is taken until commit or free. */
	put->held += pos - put->done;
	atomic64_add(pos - put->done, &put->st->put_bytes);
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
	memcpy(f->key, put->key, put->key_len);
	tcrc = cp_crc32c(0, table, table_len + offsetof(struct cp_footer, trailer_crc));
	f->trailer_crc = cpu_to_le32(tcrc);
	err = write_all(put, table, table_len + sizeof(*f), &pos);
	kvfree(table);
	return err;
}

static int link_op(struct cp_store *st, struct dentry *de, void *arg)
{
	struct file *tmp = arg;

	if (d_is_positive(de))
		return -EEXIST;
	return vfs_link(tmp->f_path.dentry, mnt_idmap(st->dir.mnt), d_inode(st->dir.dentry),
			de, NULL);
}

static struct cp_block *block_alloc(const u8 *id, u64 size, gfp_t gfp)
{
	struct cp_block *b = kmem_cache_alloc(block_cache, gfp);

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

/* The PUT's bytes are a block's now, or about to be freed. */
static void put_release(struct cp_put *put)
{
	atomic64_sub(put->held, &put->st->put_bytes);
	put->held = 0;
}

/* Index a block; -EEXIST if its id is already there. Consumes b on error. */
static int index_insert(struct cp_store *st, struct cp_block *b)
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

/*
 * Verify, make durable, publish and index a fully received block. A block
 * already stored under the same key wins: blocks are immutable, so two PUTs
 * of one key carry the same bytes.
 */
int cp_store_put_commit(struct cp_put *put, bool check_crc, u32 want_crc)
{
	struct cp_store *st = put->st;
	char name[CP_NAME_LEN];
	struct cp_blkfile *bf;
	struct cp_block *b;
	u32 crc, i;
	int err;

	if (put->done != put->size)
		return -EINVAL;
	crc = put->seg_crc[0];
	for (i = 1; i < put->nseg; i++)
		crc = cp_crc32c_combine(crc, put->seg_crc[i], seg_len(put->size, i));
	if (check_crc && crc != want_crc)
		return -EBADMSG;

	/* Limits may have been reached while the payload was arriving. */
	err = cp_evict_admit(st, put->size, true) ?: put_trailer(put, crc);
	if (err)
		return err;
	err = vfs_fsync(put->tmp, 0);
	if (err)
		return err;

	bf = blkfile_alloc(put->size, put->nseg);
	b = block_alloc(put->id, put->size, GFP_KERNEL);
	if (!bf || !b) {
		kfree(bf);
		if (b)
			kmem_cache_free(block_cache, b);
		return -ENOMEM;
	}
	bf->crc = crc;
	memcpy(bf->seg_crc, put->seg_crc, put->nseg * sizeof(u32));

	cp_block_name(name, put->id, put->size);
	err = with_dentry(st, name, link_op, put->tmp);
	if (err && err != -EEXIST) {
		kfree(bf);
		kmem_cache_free(block_cache, b);
		return err;
	}
	bf->file = put->tmp;
	put->tmp = NULL;
	put_release(put);
	rcu_assign_pointer(b->bf, bf);
	atomic_long_inc(&st->open);
	err = index_insert(st, b);
	if (err) {
		atomic_long_dec(&st->open);
		return err == -EEXIST ? 0 : err;
	}
	cp_evict_after_put(st);
	return 0;
}

/* Drops an uncommitted anonymous file, so nothing is left behind. */
void cp_store_put_free(struct cp_put *put)
{
	if (!put)
		return;
	put_release(put);
	if (put->tmp)
		fput(put->tmp);
	kvfree(put);
}

/*
 * Index rebuild. Names are parsed, never trusted: a name must read back
 * exactly as cp_block_name() would write it, and its size must be one this
 * module accepts. Anything else in the directory (foreign files, dot files,
 * directories) is ignored. Whether the file behind a name really is that
 * block is checked when it is first opened.
 */
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

/* Process context: index every block named in the directory, in batches. */
void cp_store_scan_work(struct work_struct *work)
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
		for (i = 0; i < sc->n; i++) {
			struct cp_block *b = block_alloc(sc->ent[i].id, sc->ent[i].size,
							 GFP_KERNEL);

			/* Already there: PUT while we scanned. */
			if (b && !index_insert(st, b))
				st->scan_found++;
		}
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
