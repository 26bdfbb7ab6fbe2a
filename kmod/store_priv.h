/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the store's own files only: index, eviction, scrub. */
#ifndef _CP_STORE_PRIV_H
#define _CP_STORE_PRIV_H

#include "store.h"

#define CP_NAME_LEN (2 * CP_ID_LEN + 1 + 16 + 1)
#define CP_SEG_SHIFT 15

extern const struct rhashtable_params cp_index_params;

void cp_block_name(char *name, const u8 *id, u64 size);
bool cp_store_drop(struct cp_store *st, struct cp_block *b);
void cp_block_close(struct cp_store *st, struct cp_block *b);
void cp_store_scan_work(struct work_struct *work);

void cp_evict_start(struct cp_store *st);
void cp_evict_stop(struct cp_store *st);
int cp_evict_admit(struct cp_store *st, u64 size, bool recheck);
void cp_evict_after_put(struct cp_store *st);

void cp_scrub_init(struct cp_store *st);
void cp_scrub_stop(struct cp_store *st);

#endif /* _CP_STORE_PRIV_H */
