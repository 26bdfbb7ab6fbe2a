// SPDX-License-Identifier: GPL-2.0
/*
 * The membership view: every member's entry with its own version, removed
 * members kept as tombstones, and the merge of two views, member by member
 * (the rule is in the uapi header, "Membership merge"). The ring is built
 * from a view's live entries.
 *
 * Like ring.c this knows nothing of nodes or locks, and builds unchanged in
 * the fuzzers, which check that the merge is commutative and
 * idempotent and that no edit is lost.
 */

#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/xxhash.h>

#include "view.h"

struct cp_view *cp_view_alloc(u32 n)
{
	struct cp_view *v = kvzalloc(struct_size(v, e, n), GFP_KERNEL);

	if (v)
		v->n = n;
	return v;
}

void cp_view_free(struct cp_view *v)
{
	kvfree(v);
}

/*
 * >0 if a's administered part (all but liveness) wins over b's: the larger
 * version, then the larger encoding.
 */
static int admin_cmp(const struct cachepeer_ring_member *a, const struct cachepeer_ring_member *b)
{
	u64 va = cp_entry_version(a), vb = cp_entry_version(b);

	if (va != vb)
		return va > vb ? 1 : -1;
	return memcmp(a, b, offsetof(struct cachepeer_ring_member, incarnation));
}

/* >0 if a's liveness wins over b's: the larger incarnation, then the worse state. */
static int live_cmp(const struct cachepeer_ring_member *a, const struct cachepeer_ring_member *b)
{
	u32 ia = be32_to_cpu(a->incarnation), ib = be32_to_cpu(b->incarnation);

	if (ia != ib)
		return ia > ib ? 1 : -1;
	return (int)a->state - (int)b->state;
}

/*
 * a and b (of one member) merged into out: the entry whose administered
 * part wins, and of two with one administered part, the one whose
 * liveness wins. So an edit (a new version) resets liveness to what its
 * node held, and no liveness, however high its incarnation, outlasts
 * one: the member itself refutes past a maximal incarnation with an edit
 * of its own. Whether a and b each lack something of the other's, in
 * *a_lacks and *b_lacks.
 */
static void entry_merge(const struct cachepeer_ring_member *a,
			const struct cachepeer_ring_member *b,
			struct cachepeer_ring_member *out, bool *a_lacks, bool *b_lacks)
{
	int c = admin_cmp(a, b) ?: live_cmp(a, b);

	*a_lacks = c < 0;
	*b_lacks = c > 0;
	if (out)
		*out = c >= 0 ? *a : *b;
}

static int name_cmp(const struct cachepeer_ring_member *a, const struct cachepeer_ring_member *b)
{
	return strcmp(a->name, b->name);
}

/*
 * NULL if n entries are well formed, sorted by name and of versions at
 * most epoch, which leaves room for an edit, or why not.
 */
const char *cp_view_check(const struct cachepeer_ring_member *e, u32 n, u64 epoch)
{
	u32 i;

	if (n > CACHEPEER_RING_MEMBERS_MAX)
		return "too many ring members";
	if (epoch > CP_VERSION_MAX)
		return "ring epoch 2^64 - 1";
	for (i = 0; i < n; i++, e++) {
		size_t len = strnlen(e->name, sizeof(e->name));

		if (len == sizeof(e->name) || !cp_name_valid(e->name, len) ||
		    memchr_inv(e->name + len, 0, sizeof(e->name) - len))
			return "bad member name";
		if (!(e->family == 4 && !memchr_inv(e->addr + 4, 0, 12)) && e->family != 6)
			return "bad member address";
		if (!e->port || be16_to_cpu(e->weight) > CACHEPEER_WEIGHT_MAX)
			return "bad member port or weight";
		if ((e->flags & ~CACHEPEER_MEMBER_F_REMOVED) ||
		    memchr_inv(e->reserved, 0, sizeof(e->reserved)) ||
		    memchr_inv(e->reserved2, 0, sizeof(e->reserved2)))
			return "reserved member bits set";
		if (e->state > CACHEPEER_MEMBER_STATE_MAX)
			return "bad member state";
		if (cp_entry_version(e) > epoch)
			return "member version above the ring's epoch";
		if (i && name_cmp(e - 1, e) >= 0)
			return "members not sorted by name";
	}
	return NULL;
}

/*
 * Would merging in (n entries of a view of floor in_floor, merged as how
 * says) change v, and does v hold an entry the other lacks (*lacks)?
 * Without allocating: most pushes a node gets bring nothing, and are
 * dropped on this alone.
 */
bool cp_view_news(const struct cp_view *v, const struct cachepeer_ring_member *in, u32 n,
		  u64 in_floor, unsigned int how, bool *lacks)
{
	u32 i = 0, j = 0, vn = v ? v->n : 0;
	u64 floor = v ? v->floor : 0;
	bool news = false;

	*lacks = false;
	while (i < vn || j < n) {
		int c = i == vn ? 1 : j == n ? -1 : name_cmp(&v->e[i], &in[j]);

		if (c < 0) {
			/* The other lacks it, or dropped it and would have us drop it. */
			if (how & CP_MERGE_PARTIAL)
				;
			else if (cp_entry_version(&v->e[i]) > in_floor)
				*lacks = true;
			else
				news = true;
			i++;
		} else if (c > 0) {
			news |= cp_entry_version(&in[j]) > floor;
			j++;
		} else {
			bool mine, theirs;

			entry_merge(&v->e[i], &in[j], NULL, &mine, &theirs);
			news |= mine;
			*lacks |= theirs;
			i++;
			j++;
		}
	}
	/* A floor raised elsewhere spreads even when no entry changes. */
	return news || in_floor > floor;
}

/*
 * v (NULL: empty) merged with n entries from a view of floor in_floor, in
 * a new view; *lacks says whether the merged view holds an entry the
 * other does not (so that it should be sent back). An entry only one side
 * holds, at or below the other's floor, is dropped, whichever side holds
 * it: that makes the merge commutative. Not so when in is only some of a
 * view's entries (CP_MERGE_PARTIAL: what it lacks says nothing), nor for
 * an edit made on this node (CP_MERGE_EDIT: its entries are taken as they
 * are, a join's members at version 0 included).
 * ERR_PTR(-E2BIG) past CACHEPEER_RING_MEMBERS_MAX entries.
 */
struct cp_view *cp_view_merge(const struct cp_view *v, const struct cachepeer_ring_member *in,
			      u32 n, u64 in_floor, unsigned int how, bool *lacks)
{
	bool edit = (how & CP_MERGE_EDIT) == CP_MERGE_EDIT;
	u32 vn = v ? v->n : 0, i = 0, j = 0, k = 0;
	u64 floor = v ? v->floor : 0;
	struct cp_view *out;

	*lacks = false;
	out = cp_view_alloc(vn + n);
	if (!out)
		return ERR_PTR(-ENOMEM);
	while (i < vn || j < n) {
		int c = i == vn ? 1 : j == n ? -1 : name_cmp(&v->e[i], &in[j]);

		if (c < 0) {
			/*
			 * Only here: the other lacks it, or dropped it as at or
			 * below its floor (a tombstone's lifetime has passed
			 * since), and so does this merge, as the other's would.
			 */
			if ((how & CP_MERGE_PARTIAL) || cp_entry_version(&v->e[i]) > in_floor) {
				*lacks |= !(how & CP_MERGE_PARTIAL) &&
					  cp_entry_version(&v->e[i]) > in_floor;
				out->e[k++] = v->e[i];
			}
			i++;
		} else if (c > 0) {
			if (edit || cp_entry_version(&in[j]) > floor)
				out->e[k++] = in[j];
			j++;
		} else {
			bool mine, theirs;

			entry_merge(&v->e[i], &in[j], &out->e[k++], &mine, &theirs);
			*lacks |= theirs;
			i++;
			j++;
		}
	}
	if (k > CACHEPEER_RING_MEMBERS_MAX) {
		cp_view_free(out);
		return ERR_PTR(-E2BIG);
	}
	out->n = k;
	out->floor = max(floor, in_floor);
	out->epoch = max(v ? v->epoch : 0, out->floor);
	for (i = 0; i < k; i++)
		out->epoch = max(out->epoch, cp_entry_version(&out->e[i]));
	return out;
}

/*
 * Drop, in place, tombstones older than their lifetime at now_ms (a
 * version is the editing node's clock, in ms, or just above the epoch),
 * raising the floor to them. Returns whether any went.
 */
bool cp_view_expire(struct cp_view *v, u64 now_ms)
{
	u32 i, k = 0;

	if (!v)
		return false;
	for (i = 0; i < v->n; i++) {
		u64 ver = cp_entry_version(&v->e[i]);

		if (cp_entry_removed(&v->e[i]) && now_ms > CP_VIEW_TOMBSTONE_MS &&
		    ver < now_ms - CP_VIEW_TOMBSTONE_MS) {
			v->floor = max(v->floor, ver);
			continue;
		}
		v->e[k++] = v->e[i];
	}
	if (k == v->n)
		return false;
	v->n = k;
	return true;
}

/* The version an edit of v at now_ms gives: above everything v has held. */
int cp_view_next(const struct cp_view *v, u64 now_ms, u64 *version)
{
	u64 epoch = v ? v->epoch : 0;

	if (epoch >= CP_VERSION_MAX)
		return -ERANGE;
	*version = max(now_ms, epoch + 1);
	return 0;
}

static_assert(offsetof(struct cachepeer_ring_member, name) == 0);

int cp_view_find(const struct cp_view *v, const char *name)
{
	return v ? cp_name_find(v->e, v->n, sizeof(v->e[0]), name) : -1;
}

void cp_entry_set(struct cachepeer_ring_member *e, const struct cp_member *m, u64 version,
		  u8 flags)
{
	memset(e, 0, sizeof(*e));
	strscpy_pad(e->name, m->name);
	if (m->addr.sa.sa_family == AF_INET6) {
		e->family = 6;
		memcpy(e->addr, &m->addr.v6.sin6_addr, 16);
		e->port = m->addr.v6.sin6_port;
	} else {
		e->family = 4;
		memcpy(e->addr, &m->addr.v4.sin_addr, 4);
		e->port = m->addr.v4.sin_port;
	}
	e->weight = cpu_to_be16(m->weight);
	e->flags = flags;
	e->version = cpu_to_be64(version);
}

/* A checked entry as a ring member. */
void cp_entry_member(const struct cachepeer_ring_member *e, struct cp_member *m)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->name, e->name, sizeof(m->name));
	if (e->family == 6) {
		m->addr.v6.sin6_family = AF_INET6;
		memcpy(&m->addr.v6.sin6_addr, e->addr, 16);
		m->addr.v6.sin6_port = e->port;
	} else {
		m->addr.v4.sin_family = AF_INET;
		memcpy(&m->addr.v4.sin_addr, e->addr, 4);
		m->addr.v4.sin_port = e->port;
	}
	m->weight = be16_to_cpu(e->weight);
	m->state = e->state;
}

static int addr_cmp(const void *a, const void *b)
{
	const struct cachepeer_ring_member *x = *(const struct cachepeer_ring_member * const *)a;
	const struct cachepeer_ring_member *y = *(const struct cachepeer_ring_member * const *)b;
	int c = (int)x->family - (int)y->family;

	c = c ?: memcmp(x->addr, y->addr, sizeof(x->addr));
	return c ?: memcmp(&x->port, &y->port, sizeof(x->port));
}

/*
 * The ring's members: v's live entries, in name order, in a kvmalloc'd
 * array (NULL: no memory). Two live entries with one address (added at
 * once on two nodes) cannot both be members: the winning one is, on every
 * node alike.
 */
struct cp_member *cp_view_members(const struct cp_view *v, u32 *n)
{
	const struct cachepeer_ring_member **live;
	u32 i, s, k = 0, nl = 0, vn = v ? v->n : 0;
	struct cp_member *m;
	bool *drop;

	live = kvmalloc_array(vn ?: 1, sizeof(*live), GFP_KERNEL);
	drop = kvcalloc(vn ?: 1, sizeof(*drop), GFP_KERNEL);
	m = kvmalloc_array(vn ?: 1, sizeof(*m), GFP_KERNEL);
	if (!live || !drop || !m) {
		kvfree(m);
		m = NULL;
		goto out;
	}
	for (i = 0; i < vn; i++)
		if (!cp_entry_removed(&v->e[i]))
			live[nl++] = &v->e[i];
	sort(live, nl, sizeof(*live), addr_cmp, NULL);
	/* In each run of one address, all but the winning entry are dropped. */
	for (s = 0; s < nl; s = i) {
		u32 w = s;

		for (i = s + 1; i < nl && !addr_cmp(&live[s], &live[i]); i++)
			if (admin_cmp(live[i], live[w]) > 0)
				w = i;
		for (k = s; k < i; k++)
			drop[live[k] - v->e] = k != w;
	}
	k = 0;
	for (i = 0; i < vn; i++)
		if (!cp_entry_removed(&v->e[i]) && !drop[i])
			cp_entry_member(&v->e[i], &m[k++]);
	*n = k;
out:
	kvfree(live);
	kvfree(drop);
	return m;
}

u64 cp_view_digest(const struct cp_view *v)
{
	return xxh64(v ? v->e : NULL, v ? v->n * sizeof(v->e[0]) : 0, 0);
}

/* A digest is the header alone. */
size_t cp_view_enc_len(const struct cp_view *v, bool digest)
{
	return sizeof(struct cachepeer_ring_hdr) + (v && !digest ? v->n : 0) * sizeof(v->e[0]);
}

/*
 * A push of n of v's entries (CACHEPEER_RING_F_PARTIAL), in buf of
 * cp_view_enc_len(NULL, false) + n entries' bytes.
 */
void cp_view_encode_part(const struct cp_view *v, void *buf,
			 const struct cachepeer_ring_member *e, u32 n)
{
	struct cachepeer_ring_hdr *h = buf;

	cp_view_encode(v, buf, true);
	h->flags = CACHEPEER_RING_F_PARTIAL;
	h->nmembers = htons(n);
	memcpy(h + 1, e, n * sizeof(*e));
}

/* buf holds cp_view_enc_len(v, digest) bytes. No view encodes as an empty one. */
void cp_view_encode(const struct cp_view *v, void *buf, bool digest)
{
	struct cachepeer_ring_hdr *h = buf;

	*h = (struct cachepeer_ring_hdr) {
		.magic = htonl(CACHEPEER_RING_MAGIC),
		.nmembers = htons(v && !digest ? v->n : 0),
		.format = CACHEPEER_RING_FORMAT,
		.flags = digest ? CACHEPEER_RING_F_DIGEST : 0,
		.epoch = cpu_to_be64(v ? v->epoch : 0),
		.floor = cpu_to_be64(v ? v->floor : 0),
		.digest = cpu_to_be64(cp_view_digest(v)),
		.relay_root = htons(CACHEPEER_RING_NO_RELAY),
	};
	if (v && !digest)
		memcpy(h + 1, v->e, v->n * sizeof(v->e[0]));
}

/*
 * A received encoding, checked in place: its entries (which follow *h in
 * buf), or NULL with *why set.
 */
const struct cachepeer_ring_member *cp_view_parse(const void *buf, size_t len,
						  const struct cachepeer_ring_hdr **h,
						  const char **why)
{
	const struct cachepeer_ring_hdr *hdr = buf;
	u32 n;

	*why = "malformed ring encoding";
	if (len < sizeof(*hdr) || ntohl(hdr->magic) != CACHEPEER_RING_MAGIC ||
	    hdr->format != CACHEPEER_RING_FORMAT ||
	    (hdr->flags & ~(CACHEPEER_RING_F_DIGEST | CACHEPEER_RING_F_PARTIAL)) ||
	    hdr->flags == (CACHEPEER_RING_F_DIGEST | CACHEPEER_RING_F_PARTIAL) ||
	    memchr_inv(hdr->reserved, 0, sizeof(hdr->reserved)))
		return NULL;
	n = ntohs(hdr->nmembers);
	if (len != sizeof(*hdr) + (size_t)n * sizeof(struct cachepeer_ring_member) ||
	    ((hdr->flags & CACHEPEER_RING_F_DIGEST) && n))
		return NULL;
	*why = cp_view_check((const void *)(hdr + 1), n, be64_to_cpu(hdr->epoch));
	if (*why)
		return NULL;
	*why = "ring floor above its epoch";
	if (be64_to_cpu(hdr->floor) > be64_to_cpu(hdr->epoch))
		return NULL;
	*h = hdr;
	return (const void *)(hdr + 1);
}

/*
 * The relay tree over n members in name order, rotated to start at root:
 * the positions self relays a push to, in child (at most
 * CACHEPEER_RING_RELAY_FANOUT). Returns how many.
 */
int cp_relay_children(u32 n, u32 root, u32 self, u32 *child)
{
	u32 p, c, k = 0;

	if (root >= n || self >= n)
		return 0;
	p = (self + n - root) % n;
	for (c = p * CACHEPEER_RING_RELAY_FANOUT + 1;
	     c < n && k < CACHEPEER_RING_RELAY_FANOUT; c++)
		child[k++] = (root + c) % n;
	return k;
}
