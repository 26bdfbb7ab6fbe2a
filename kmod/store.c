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

#define CP_FOOTER_MAGIC 0x314b434f4c425043ULL	/* "CPBLOCK1" little-endian */
#define CP_NAME_LEN (2 * CP_ID_LEN + 1 + 16 + 1)
#define CP_SEG_SHIFT 15
static_assert(CACHEPEER_SEG_SIZE == 1U << CP_SEG_SHIFT);

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
	u32 seg_acc;		/* CRC of the current, unfinished segment */
	u32 nseg;
	u32 seg_crc[];
};

static const struct rhashtable_params index_params = {
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

static void block_name(char *name, const u8 *id, u64 size)
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
			       MAY_WRITE | MAY_EXEC);
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
	err = rhashtable_init(&st->index, &index_params);
	if (err)
		goto err_path;
	st->cred = get_current_cred();
	atomic_long_set(&st->blocks, 0);
	atomic64_set(&st->bytes, 0);
	atomic64_set(&st->corrupt, 0);
	return 0;

err_path:
	path_put(&st->dir);
	return err;
}

static void block_free_rcu(struct rcu_head *rcu)
{
	kfree(container_of(rcu, struct cp_block, rcu));
}

/* Any context: fput() defers the final close out of softirq itself. */
void cp_block_put(struct cp_block *b)
{
	if (!refcount_dec_and_test(&b->ref))
		return;
	if (b->file)
		fput(b->file);
	call_rcu(&b->rcu, block_free_rcu);
}

static void index_free(void *ptr, void *arg)
{
	struct cp_block *b = ptr;

	WRITE_ONCE(b->dead, true);
	cp_block_put(b);
}

/* Every connection of the node is gone, so no lookup can race with this. */
void cp_store_close(struct cp_store *st)
{
	rhashtable_free_and_destroy(&st->index, index_free, NULL);
	path_put(&st->dir);
	put_cred(st->cred);
}

/* Any context, softirq included. Returns a referenced live block or NULL. */
struct cp_block *cp_store_lookup(struct cp_store *st, const u8 *id)
{
	struct cp_block *b;

	rcu_read_lock();
	b = rhashtable_lookup(&st->index, id, index_params);
	if (b && (READ_ONCE(b->dead) || !refcount_inc_not_zero(&b->ref)))
		b = NULL;
	rcu_read_unlock();
	return b;
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

/* Process context. Remove a block from the index and the directory. */
static void store_drop(struct cp_store *st, struct cp_block *b)
{
	char name[CP_NAME_LEN];

	if (xchg(&b->dead, true))
		return;
	if (rhashtable_remove_fast(&st->index, &b->node, index_params))
		return;
	atomic_long_dec(&st->blocks);
	atomic64_sub(b->size, &st->bytes);
	block_name(name, b->id, b->size);
	with_dentry(st, name, unlink_op, NULL);
	cp_block_put(b);	/* the index's reference */
}

int cp_store_del(struct cp_store *st, const u8 *id)
{
	struct cp_block *b = cp_store_lookup(st, id);

	if (!b)
		return -ENOENT;
	store_drop(st, b);
	cp_block_put(b);
	return 0;
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

static struct folio *read_folio(struct cp_block *b, pgoff_t index)
{
	struct address_space *mapping = b->file->f_mapping;

	/* tmpfs has no ->read_folio; its "disk" is swap. */
	if (shmem_mapping(mapping))
		return shmem_read_folio(mapping, index);
	return read_mapping_folio(mapping, index, b->file);
}

/* Process context: an uptodate folio at index, read from disk if need be. */
struct folio *cp_block_folio(struct cp_block *b, pgoff_t index)
{
	struct folio *folio;

	folio = filemap_get_folio(b->file->f_mapping, index);
	if (!IS_ERR(folio)) {
		if (folio_test_uptodate(folio))
			return folio;
		folio_put(folio);
	}
	return read_folio(b, index);
}

/*
 * CRC of bytes [off, off + len) from page data. In softirq (!may_sleep) only
 * folios already uptodate in the page cache are used, else -EAGAIN.
 */
static int data_crc(struct cp_block *b, u64 off, u64 len, bool may_sleep, u32 *crcp)
{
	struct address_space *mapping = b->file->f_mapping;
	u32 crc = 0;

	while (len) {
		struct folio *folio;
		size_t foff, n;

		if (may_sleep) {
			folio = cp_block_folio(b, off >> PAGE_SHIFT);
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
int cp_block_range_crc(struct cp_block *b, u64 off, u64 len, bool may_sleep, u32 *crcp)
{
	u64 end = off + len;
	u32 crc = 0;

	while (off < end) {
		u32 seg = off >> CP_SEG_SHIFT;
		u64 s_start = (u64)seg * CACHEPEER_SEG_SIZE;
		u64 s_end = s_start + seg_len(b->size, seg);
		u64 n = min(end, s_end) - off;
		u32 part;
		int err;

		if (off == s_start && n == s_end - s_start) {
			part = b->seg_crc[seg];
		} else {
			err = data_crc(b, off, n, may_sleep, &part);
			if (err)
				return err;
		}
		if (n == CACHEPEER_SEG_SIZE)
			crc = cp_crc32c_combine_seg(crc, part);
		else
			crc = cp_crc32c_combine(crc, part, n);
		off += n;
	}
	*crcp = crc;
	return 0;
}

/* Any context: are all folios of [off, off + len) uptodate in the page cache? */
bool cp_block_cached(struct cp_block *b, u64 off, u64 len)
{
	struct address_space *mapping = b->file->f_mapping;
	pgoff_t index = off >> PAGE_SHIFT, last = (off + len - 1) >> PAGE_SHIFT;

	while (index <= last) {
		struct folio *folio = filemap_get_folio(mapping, index);
		bool ok;

		if (IS_ERR(folio))
			return false;
		ok = folio_test_uptodate(folio);
		index = folio_next_index(folio);
		folio_put(folio);
		if (!ok)
			return false;
	}
	return true;
}

/*
 * Process context. Bring [off, off + len) into the page cache and verify
 * every segment it touches against its stored CRC; callers come here only
 * when some of it was not cached, i.e. is being read from disk. Verifying
 * all of it, not just what this call read, also catches bytes someone changed
 * in the page cache. A mismatch drops the block and returns -EBADMSG: bad
 * bytes are never served.
 */
int cp_block_verify(struct cp_store *st, struct cp_block *b, u64 off, u64 len)
{
	struct file *file = b->file;
	u32 seg = off >> CP_SEG_SHIFT;
	u32 last = (off + len - 1) >> CP_SEG_SHIFT;
	pgoff_t first_index = off >> PAGE_SHIFT;

	if (!shmem_mapping(file->f_mapping))
		page_cache_sync_readahead(file->f_mapping, &file->f_ra, file, first_index,
					  ((off + len - 1) >> PAGE_SHIFT) - first_index + 1);
	for (; seg <= last; seg++) {
		u64 pos = (u64)seg * CACHEPEER_SEG_SIZE;
		u64 s_end = pos + seg_len(b->size, seg);
		u32 crc = 0;

		while (pos < s_end) {
			struct folio *folio = cp_block_folio(b, pos >> PAGE_SHIFT);
			size_t foff, n;

			if (IS_ERR(folio))
				return PTR_ERR(folio);
			foff = pos - folio_pos(folio);
			n = min_t(u64, s_end - pos, folio_size(folio) - foff);
			crc = folio_crc(crc, folio, foff, n);
			folio_put(folio);
			pos += n;
		}
		if (crc != b->seg_crc[seg]) {
			atomic64_inc(&st->corrupt);
			pr_warn_ratelimited("block %*phN: segment %u fails its CRC, dropped\n",
					    CP_ID_LEN, b->id, seg);
			store_drop(st, b);
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

/*
 * Verify, make durable, publish and index a fully received block. A block
 * already stored under the same key wins: blocks are immutable, so two PUTs
 * of one key carry the same bytes.
 */
int cp_store_put_commit(struct cp_put *put, bool check_crc, u32 want_crc)
{
	struct cp_store *st = put->st;
	char name[CP_NAME_LEN];
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

	err = put_trailer(put, crc);
	if (err)
		return err;
	err = vfs_fsync(put->tmp, 0);
	if (err)
		return err;

	b = kmalloc(struct_size(b, seg_crc, put->nseg), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	memcpy(b->id, put->id, CP_ID_LEN);
	refcount_set(&b->ref, 1);
	b->dead = false;
	b->size = put->size;
	b->crc = crc;
	b->nseg = put->nseg;
	memcpy(b->seg_crc, put->seg_crc, put->nseg * sizeof(u32));

	block_name(name, put->id, put->size);
	err = with_dentry(st, name, link_op, put->tmp);
	if (err && err != -EEXIST) {
		kfree(b);
		return err;
	}
	b->file = put->tmp;
	put->tmp = NULL;
	err = rhashtable_lookup_insert_fast(&st->index, &b->node, index_params);
	if (err) {
		cp_block_put(b);
		return err == -EEXIST ? 0 : err;
	}
	atomic_long_inc(&st->blocks);
	atomic64_add(b->size, &st->bytes);
	return 0;
}

/* Drops an uncommitted anonymous file, so nothing is left behind. */
void cp_store_put_free(struct cp_put *put)
{
	if (!put)
		return;
	if (put->tmp)
		fput(put->tmp);
	kvfree(put);
}
