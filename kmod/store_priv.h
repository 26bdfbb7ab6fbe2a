/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the store's own files only. Within the store, calls go one way:
 * store (lifecycle) -> scan, scrub, evict; put -> evict, index; scan ->
 * evict, index; scrub -> blkfile, index; blkfile -> index; evict -> index.
 */
#ifndef _CP_STORE_PRIV_H
#define _CP_STORE_PRIV_H

#include "store.h"

#define CP_NAME_LEN (2 * CP_ID_LEN + 1 + 16 + 1)
#define CP_SEG_SHIFT 15
#define CP_FOOTER_MAGIC 0x314b434f4c425043ULL	/* "CPBLOCK1" little-endian */
/*
 * The trailer's format. Files written before it had a version read as 0,
 * the same layout. A block of a newer format is neither served nor
 * removed: a newer module wrote it, and may yet read it.
 */
#define CP_FOOTER_VERSION 1

/*
 * The trailer of every block file: its CRC table (one __le32 per segment),
 * then this footer.
 */
struct cp_footer {
	__le64 magic;
	__le64 size;
	__le32 nseg;
	__le32 crc;
	__le16 key_len;
	__le16 version;		/* CP_FOOTER_VERSION; 0 before it was kept */
	__le32 reserved2;
	u8 key[256];
	__le32 reserved3;
	__le32 trailer_crc;	/* of the CRC table and the footer before this */
};

static inline u32 cp_nseg(u64 size)
{
	return DIV_ROUND_UP_ULL(size, CACHEPEER_SEG_SIZE);
}

static inline u64 cp_seg_len(u64 size, u32 seg)
{
	return min_t(u64, CACHEPEER_SEG_SIZE, size - (u64)seg * CACHEPEER_SEG_SIZE);
}

/* index.c */
extern const struct rhashtable_params cp_index_params;
void cp_block_name(char *name, const u8 *id, u64 size);
struct cp_block *cp_block_alloc(const u8 *id, u64 size);
void cp_block_free(struct cp_block *b);
int cp_index_insert(struct cp_store *st, struct cp_block *b);
void cp_index_walk(struct cp_store *st, void (*fn)(struct cp_block *b, void *arg), void *arg);
void cp_index_destroy(struct cp_store *st);
bool cp_store_drop(struct cp_store *st, struct cp_block *b);
int cp_block_unlink(struct cp_store *st, const u8 *id, u64 size);
void cp_block_close(struct cp_store *st, struct cp_block *b);
struct cp_blkfile *cp_blkfile_alloc(u64 size, u32 nseg);
struct cp_blkfile *cp_block_install_file(struct cp_store *st, struct cp_block *b,
					 struct cp_blkfile *bf);
int cp_store_with_dentry(struct cp_store *st, const char *name,
			 int (*op)(struct cp_store *st, struct dentry *de, void *arg), void *arg);

/* dirfile.c */
struct file *cp_block_open_file(struct cp_store *st, const u8 *id, u64 size);
int cp_store_link_op(struct cp_store *st, struct dentry *de, void *arg);
struct file *cp_store_tmpfile(struct cp_store *st);

/* scan.c */
void cp_scan_start(struct cp_store *st);
void cp_scan_stop(struct cp_store *st);

/* evict.c */
void cp_evict_start(struct cp_store *st);
void cp_evict_stop(struct cp_store *st);
int cp_evict_admit(struct cp_store *st, u64 size, bool recheck);
void cp_evict_after_put(struct cp_store *st);

/* scrub.c */
void cp_scrub_start(struct cp_store *st);
void cp_scrub_stop(struct cp_store *st);
void cp_scrub_kick(struct cp_store *st);

#endif /* _CP_STORE_PRIV_H */
