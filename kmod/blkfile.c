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
#include "trace.h"

static_assert(CACHEPEER_SEG_SIZE == 1U << CP_SEG_SHIFT);
static_assert(CACHEPEER_MAX_BLOCK_LIMIT <= U32_MAX);

/* A footer of a newer format than this module's, said so in the log. */
static bool footer_newer(struct cp_block *b, const struct cp_footer *f)
{
	if (le64_to_cpu(f->magic) != CP_FOOTER_MAGIC ||
	    le16_to_cpu(f->version) <= CP_FOOTER_VERSION)
		return false;
	pr_warn_ratelimited("block file %*phN.%x is of format %u, newer than this module's %u: not served, kept\n",
			    CP_ID_LEN, b->id, b->size, le16_to_cpu(f->version), CP_FOOTER_VERSION);
	return true;
}

/*
 * A trailer of another length than this module's: of a newer format
 * (-EPROTONOSUPPORT) if its footer, at the file's end, says so; else not a
 * block file (-EBADMSG). A newer format keeps the footer's magic and
 * version where they are, at the end.
 */
static int other_trailer(struct cp_block *b, struct file *file)
{
	loff_t pos = i_size_read(file_inode(file)) - sizeof(struct cp_footer);
	struct cp_footer *f;
	int err = -EBADMSG;

	if (pos < 0)
		return err;
	f = kmalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	if (kernel_read(file, f, sizeof(*f), &pos) == sizeof(*f) && footer_newer(b, f))
		err = -EPROTONOSUPPORT;
	kfree(f);
	return err;
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

	if (!S_ISREG(file_inode(file)->i_mode))
		return -EBADMSG;
	if (i_size_read(file_inode(file)) != pos + len)
		return other_trailer(b, file);
	table = kvmalloc(len, GFP_KERNEL);
	if (!table)
		return -ENOMEM;
	if (kernel_read(file, table, len, &pos) != len) {
		err = -EIO;
		goto out;
	}
	f = (struct cp_footer *)((u8 *)table + table_len);
	key_len = le16_to_cpu(f->key_len);
	/*
	 * Before anything else of it: a newer format may check out otherwise.
	 * (A bit flipped in a version makes a damaged block look newer: kept,
	 * unserved, until evicted or deleted.)
	 */
	if (footer_newer(b, f)) {
		err = -EPROTONOSUPPORT;
		goto out;
	}
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

/*
 * Reading the trailer brought the folio it starts in into the page cache,
 * and with it the block's last bytes unless the trailer starts a folio:
 * verify the segments in that folio before the file is published.
 */
static int verify_trailer_folio(struct cp_store *st, struct cp_block *b, struct cp_blkfile *bf)
{
	struct folio *folio = filemap_get_folio(bf->file->f_mapping, bf->size >> PAGE_SHIFT);
	u64 start;

	if (IS_ERR(folio))
		return 0;	/* gone already: nothing of it can be served */
	start = folio_pos(folio);
	folio_put(folio);
	return start < bf->size ? cp_block_verify(st, b, bf, start, bf->size - start) : 0;
}

/* A file under a block's name that is not that block: removed, counted, never served. */
static void drop_foreign(struct cp_store *st, struct cp_block *b)
{
	if (cp_store_drop(st, b)) {
		cp_stats_inc(st->stats, CP_STAT_FOREIGN);
		pr_warn_ratelimited("block file %*phN.%x does not match its name, removed\n",
				    CP_ID_LEN, b->id, b->size);
	}
}

/*
 * Process context: the block's open file, opening it if it is cold. A file
 * that vanished, one that is not a regular file, or one whose trailer does
 * not match its name (a foreign or damaged file) is dropped from the index
 * and gives -ENOENT. One of a newer format stays, and gives -EPROTONOSUPPORT.
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
	file = cp_block_open_file(st, b->id, b->size);
	if (IS_ERR(file)) {
		kfree(bf);
		err = PTR_ERR(file);
		if (err == -ENOENT)
			cp_store_drop(st, b);
		else if (err == -EBADMSG)
			drop_foreign(st, b);
		return ERR_PTR(err == -EBADMSG ? -ENOENT : err);
	}
	bf->file = file;
	err = read_trailer(b, file, bf);
	if (err) {
		cp_blkfile_put(bf);
		if (err != -EBADMSG)
			return ERR_PTR(err);
		drop_foreign(st, b);
		return ERR_PTR(-ENOENT);
	}
	err = verify_trailer_folio(st, b, bf);
	if (err) {
		cp_blkfile_put(bf);
		return ERR_PTR(err);
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
static struct folio *block_folio(struct cp_blkfile *bf, pgoff_t index)
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
 * Any context: CRC of bytes [off, off + len) from page data, using only
 * folios uptodate in the page cache, else -EAGAIN.
 */
static int data_crc(struct cp_blkfile *bf, u64 off, u64 len, u32 *crcp)
{
	struct address_space *mapping = bf->file->f_mapping;
	u32 crc = 0;

	while (len) {
		struct folio *folio = filemap_get_folio(mapping, off >> PAGE_SHIFT);
		size_t foff, n;

		if (IS_ERR(folio))
			return -EAGAIN;
		if (!folio_test_uptodate(folio)) {
			folio_put(folio);
			return -EAGAIN;
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
 * CRC of the part [off, off + n) of segment seg, from page data: computed
 * over the whole segment in the same pass and checked against the stored
 * CRC, so that a CRC the node sends is never derived from bytes it did not
 * verify, whatever brought them into the page cache. -EBADMSG on a
 * mismatch.
 */
static int part_crc(struct cp_blkfile *bf, u32 seg, u64 off, u64 n, u32 *crcp)
{
	u64 s_start = (u64)seg * CACHEPEER_SEG_SIZE;
	u64 s_end = s_start + cp_seg_len(bf->size, seg);
	u32 head = 0, part, tail = 0;
	int err;

	err = data_crc(bf, s_start, off - s_start, &head) ?:
	      data_crc(bf, off, n, &part) ?:
	      data_crc(bf, off + n, s_end - off - n, &tail);
	if (err)
		return err;
	if (cp_crc32c_combine(cp_crc32c_combine(head, part, n), tail, s_end - off - n) !=
	    bf->seg_crc[seg])
		return -EBADMSG;
	*crcp = part;
	return 0;
}

/*
 * Any context, softirq included. CRC of [off, off + len) of the block:
 * stored CRCs for whole segments, page data only for the partial segments at
 * either end (part_crc()), from folios uptodate in the page cache, else
 * -EAGAIN; -EBADMSG if page data do not match their segment's CRC.
 */
int cp_block_range_crc(struct cp_blkfile *bf, u64 off, u64 len, u32 *crcp)
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
			err = part_crc(bf, seg, off, n, &part);
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
 * Process context. Bring the segments of [off, off + len) into the page
 * cache and verify each against its stored CRC; callers come here when some
 * of it was not cached, i.e. is being read from disk. Verifying all of them,
 * not just what this call read, also catches bytes someone changed in the
 * page cache. A mismatch drops the block and returns -EBADMSG: bad bytes are
 * never served.
 *
 * Nothing read here is left uptodate unverified: readahead covers exactly
 * the segments checked (no speculative window past them), and a folio that
 * reaches past them (a large folio, a huge tmpfs page) has every segment it
 * holds checked too. The node's other reads, the trailer's at open, get the
 * same (cp_block_open()), so that bytes the node read itself are only ever
 * served verified. Bytes another reader of the file brings in are another
 * matter: the softirq path may serve them in whole segments, but only with
 * the stored CRC, which the client checks, and any CRC computed from page
 * data verifies its whole segment first (part_crc()).
 */
int cp_block_verify(struct cp_store *st, struct cp_block *b, struct cp_blkfile *bf,
		    u64 off, u64 len)
{
	struct file *file = bf->file;
	u64 pos = round_down(off, CACHEPEER_SEG_SIZE);
	u64 end = min_t(u64, round_up(off + len, CACHEPEER_SEG_SIZE), bf->size);

	if (!shmem_mapping(file->f_mapping)) {
		DEFINE_READAHEAD(ractl, file, &file->f_ra, file->f_mapping, pos >> PAGE_SHIFT);

		page_cache_ra_unbounded(&ractl, DIV_ROUND_UP(end, PAGE_SIZE) - (pos >> PAGE_SHIFT),
					0);
	}
	while (pos < end) {
		u32 seg = pos >> CP_SEG_SHIFT;
		u64 s_end = pos + cp_seg_len(bf->size, seg);
		u32 crc = 0;

		while (pos < s_end) {
			struct folio *folio = block_folio(bf, pos >> PAGE_SHIFT);
			size_t foff, n;
			u64 fend;

			if (IS_ERR(folio))
				return PTR_ERR(folio);
			foff = pos - folio_pos(folio);
			n = min_t(u64, s_end - pos, folio_size(folio) - foff);
			crc = folio_crc(crc, folio, foff, n);
			/* Its other segments are in the page cache now too. */
			fend = round_up(folio_pos(folio) + folio_size(folio), CACHEPEER_SEG_SIZE);
			end = max_t(u64, end, min_t(u64, fend, bf->size));
			folio_put(folio);
			pos += n;
		}
		if (crc != bf->seg_crc[seg]) {
			if (cp_store_drop(st, b)) {
				cp_stats_inc(st->stats, CP_STAT_CORRUPT);
				trace_cachepeer_corrupt(b->id, b->size);
				pr_warn_ratelimited("block %*phN: segment %u fails its CRC, dropped\n",
						    CP_ID_LEN, b->id, seg);
			}
			return -EBADMSG;
		}
	}
	return 0;
}
