// SPDX-License-Identifier: GPL-2.0
/*
 * A block's file: opening it, checking its trailer against its name, and
 * its bytes in the page cache, with their CRCs. Data are served from the
 * page cache of the file itself, so CRCs are merged from the stored segment
 * CRCs, and only the partial segments at either end of a range are
 * computed from page data; bytes the node reads from disk are verified
 * against the stored CRCs before anyone serves them.
 *
 * A block's file is opened, and its trailer checked, only when the block
 * is first used; a file whose trailer does not match its name is removed,
 * never served.
 */

#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/pagemap.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>

#include "crc.h"
#include "store_priv.h"

static_assert(CACHEPEER_SEG_SIZE == 1U << CP_SEG_SHIFT);
static_assert(CACHEPEER_MAX_BLOCK_LIMIT <= U32_MAX);

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
		crc = i ? cp_crc32c_combine(crc, bf->seg_crc[i], cp_seg_len(b->size, i)) :
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
	bf = cp_blkfile_alloc(b->size, cp_nseg(b->size));
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
			cp_stats_inc(st->stats, CP_STAT_FOREIGN);
			pr_warn_ratelimited("block file %*phN.%x does not match its name, removed\n",
					    CP_ID_LEN, b->id, b->size);
		}
		return ERR_PTR(-ENOENT);
	}
	return cp_block_install_file(st, b, bf);
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
		u64 s_end = s_start + cp_seg_len(bf->size, seg);
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
		u64 s_end = pos + cp_seg_len(bf->size, seg);
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
				cp_stats_inc(st->stats, CP_STAT_CORRUPT);
				pr_warn_ratelimited("block %*phN: segment %u fails its CRC, dropped\n",
						    CP_ID_LEN, b->id, seg);
			}
			return -EBADMSG;
		}
	}
	return 0;
}
