/* SPDX-License-Identifier: GPL-2.0 */
/* A node's view of the membership: versioned entries, tombstones, the merge. */
#ifndef _CP_VIEW_H
#define _CP_VIEW_H

#include <linux/types.h>

#include <linux/cachepeer.h>

#include "ring.h"

#define CP_VIEW_TOMBSTONE_MS	(CACHEPEER_RING_TOMBSTONE_S * 1000ULL)
/*
 * The largest version (and epoch) a view may hold. An epoch of 2^64 - 1
 * would be one past which no edit can go and every view is refused.
 */
#define CP_VERSION_MAX		(U64_MAX - 1)

/*
 * Entries are kept as they go on the wire, sorted by name: the merge's
 * tie-break compares encodings, and a push is encoded without conversion.
 * A view is never changed once another can see it; a change makes a new one.
 */
struct cp_view {
	u64 epoch;		/* the largest version ever held; never goes back */
	u64 floor;		/* the largest version of a tombstone dropped */
	u32 n;
	struct cachepeer_ring_member e[];
};

static inline u64 cp_entry_version(const struct cachepeer_ring_member *e)
{
	return be64_to_cpu(e->version);
}

static inline bool cp_entry_removed(const struct cachepeer_ring_member *e)
{
	return e->flags & CACHEPEER_MEMBER_F_REMOVED;
}

struct cp_view *cp_view_alloc(u32 n);
void cp_view_free(struct cp_view *v);
const char *cp_view_check(const struct cachepeer_ring_member *e, u32 n, u64 epoch);
/* How entries merge: only some of a view's (a push's), an edit made here. */
#define CP_MERGE_PARTIAL	1U
#define CP_MERGE_EDIT		(2U | CP_MERGE_PARTIAL)

bool cp_view_news(const struct cp_view *v, const struct cachepeer_ring_member *in, u32 n,
		  u64 in_floor, unsigned int how, bool *lacks);
struct cp_view *cp_view_merge(const struct cp_view *v, const struct cachepeer_ring_member *in,
			      u32 n, u64 in_floor, unsigned int how, bool *lacks);
bool cp_view_expire(struct cp_view *v, u64 now_ms);
int cp_view_next(const struct cp_view *v, u64 now_ms, u64 *version);
int cp_view_find(const struct cp_view *v, const char *name);
void cp_entry_set(struct cachepeer_ring_member *e, const struct cp_member *m, u64 version,
		  u8 flags);
void cp_entry_member(const struct cachepeer_ring_member *e, struct cp_member *m);
struct cp_member *cp_view_members(const struct cp_view *v, u32 *n);
u64 cp_view_digest(const struct cp_view *v);
size_t cp_view_enc_len(const struct cp_view *v, bool digest);
void cp_view_encode(const struct cp_view *v, void *buf, bool digest);
void cp_view_encode_part(const struct cp_view *v, void *buf,
			 const struct cachepeer_ring_member *e, u32 n);
const struct cachepeer_ring_member *cp_view_parse(const void *buf, size_t len,
						  const struct cachepeer_ring_hdr **h,
						  const char **why);
int cp_relay_children(u32 n, u32 root, u32 self, u32 *child);

#endif /* _CP_VIEW_H */
