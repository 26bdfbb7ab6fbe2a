// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness over the module's ring and view code (kmod/ring.c and
 * kmod/view.c, built unchanged): the parser of what RING_PUSH carries and
 * RING_GET answers, the merge, and the ring built from what it accepts.
 *
 * An accepted encoding builds a ring whose points are sorted and owned by
 * its members; the client library (ctl/ring.c) reads the same bytes to the
 * same members and owners; it encodes back to the same entries; and its
 * merge with a second view derived from it (entries added, dropped and
 * changed, floors on both sides) is commutative and idempotent, loses no
 * entry that wins, drops only what a floor drops, and leaves nothing new
 * in either input.
 */
#include <stdlib.h>
#include <string.h>

#include "ring.h"
#include "view.h"
#include "ctl_ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct cp_ring *r)
{
	u64 points = 0, live = 0;
	u32 i;

	for (i = 0; i < r->nmembers; i++) {
		points += r->members[i].points;
		if (i && strcmp(r->members[i - 1].name, r->members[i].name) >= 0)
			abort();
	}
	if (points != r->npoints)
		abort();
	/*
	 * Points route past down members to the next live one; when no live
	 * member has a point (all down, or the live ones of weight 0), to no one.
	 */
	for (i = 0; i < r->nmembers; i++)
		if (r->members[i].state != CACHEPEER_MEMBER_DOWN)
			live += r->members[i].points;
	for (i = 0; i < r->npoints; i++) {
		if (i && r->hash[i - 1] > r->hash[i])
			abort();
		if (!live ? r->owner[i] != CP_RING_NO_OWNER :
		    r->owner[i] >= r->nmembers ||
		    r->members[r->owner[i]].state == CACHEPEER_MEMBER_DOWN)
			abort();
	}
}

static struct cp_view *view_of(const struct cachepeer_ring_member *e, u32 n, u64 floor)
{
	struct cp_view *v = cp_view_alloc(n);

	if (!v)
		abort();
	memcpy(v->e, e, n * sizeof(*e));
	v->floor = floor;
	return v;
}

#define ADMIN offsetof(struct cachepeer_ring_member, incarnation)

static bool same(const struct cp_view *a, const struct cp_view *b)
{
	return a->n == b->n && a->floor == b->floor &&
	       !memcmp(a->e, b->e, a->n * sizeof(a->e[0]));
}

static struct cp_view *merge(const struct cp_view *a, const struct cp_view *b)
{
	struct cp_view *m;
	bool lacks;

	m = cp_view_merge(a, b->e, b->n, b->floor, 0, &lacks);
	if (IS_ERR(m))
		abort();
	return m;
}

/*
 * A second view: some entries left out, some with their version, weight
 * or removal changed, and a floor of its own; the first view gets one too.
 */
static struct cp_view *derive(struct cp_view *v, const uint8_t *data, size_t size)
{
	struct cp_view *w = view_of(v->e, v->n, 0);
	u32 i, k = 0;

	for (i = 0; i < w->n; i++) {
		uint8_t b = size ? data[(i * 7 + 3) % size] : 0;
		u64 ver = cp_entry_version(&w->e[i]);

		if ((b & 0x18) == 0x18)
			continue;
		w->e[k] = w->e[i];
		if ((b & 1) && ver < CP_VERSION_MAX - 3)
			w->e[k].version = cpu_to_be64(ver + (b >> 6));
		if (b & 2)
			w->e[k].weight = cpu_to_be16(b * 3);
		if (b & 4)
			w->e[k].flags ^= CACHEPEER_MEMBER_F_REMOVED;
		if (b & 0x20)
			w->e[k].incarnation = cpu_to_be32(be32_to_cpu(w->e[k].incarnation) + 1);
		if (b & 0x40)
			w->e[k].state = b % (CACHEPEER_MEMBER_STATE_MAX + 1);
		k++;
	}
	w->n = k;
	/* Floors at some entry's version, or none. */
	if (size > 2 && v->n) {
		v->floor = data[1] & 1 ? cp_entry_version(&v->e[data[1] % v->n]) : 0;
		w->floor = data[2] & 1 ? cp_entry_version(&v->e[data[2] % v->n]) : 0;
	}
	return w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct cachepeer_ring_member *e;
	const struct cachepeer_ring_hdr *h;
	struct cp_view *v, *w, *vw, *wv, *again;
	struct cp_member *m;
	struct ctl_ring cr;
	struct cp_ring *r;
	const char *why;
	uint8_t *buf, *enc;
	bool lacks;
	u32 n, i;
	u64 hash;

	/* Aligned, as the kernel's kvmalloc'd payloads are. */
	buf = malloc(size ?: 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	e = cp_view_parse(buf, size, &h, &why);
	if (!e) {
		if (!why)
			abort();
		free(buf);
		return 0;
	}
	v = view_of(e, ntohs(h->nmembers), be64_to_cpu(h->floor));
	m = cp_view_members(v, &n);
	if (!m)
		abort();
	/* This node is the first live member, wherever sorting puts it. */
	r = cp_ring_build(m, n, 1, n ? m[0].name : "", &why);
	kvfree(m);
	/* Names are unique and addresses made so: a parsed view always builds. */
	if (IS_ERR(r))
		abort();
	check(r);
	/* The client library reads the same members and owners. */
	if (ctl_cp_ring_decode(&cr, buf, size) || cr.n != r->nmembers)
		abort();
	for (i = 0; i < cr.n; i++)
		if (strcmp(cr.m[i].name, r->members[i].name) ||
		    cr.m[i].weight != r->members[i].weight)
			abort();
	for (i = 0, hash = size; i < 64; i++, hash = hash * 6364136223846793005ULL + 1) {
		int o = cp_ring_owner(r, hash), co = ctl_cp_ring_owner(&cr, hash);

		if (o != co)
			abort();
	}
	ctl_cp_ring_free(&cr);
	/* Encoded again: the same entries. */
	enc = malloc(cp_view_enc_len(v, false));
	if (!enc)
		abort();
	cp_view_encode(v, enc, false);
	if (cp_view_enc_len(v, false) != size || memcmp(enc + sizeof(*h), e, size - sizeof(*h)))
		abort();
	free(enc);
	/* The merge: commutative, idempotent, and nothing left new. */
	w = derive(v, data, size);
	vw = merge(v, w);
	wv = merge(w, v);
	if (!same(vw, wv))
		abort();
	again = merge(vw, w);
	if (!same(again, vw) || cp_view_news(vw, v->e, v->n, v->floor, 0, &lacks) ||
	    cp_view_news(vw, w->e, w->n, w->floor, 0, &lacks))
		abort();
	/*
	 * Every entry of the merge is one of the inputs', at least as new as
	 * the other's (of one version and administered part, of an incarnation
	 * at least as high); and an entry is missing only if neither side has
	 * it above the other's floor.
	 */
	for (i = 0; i < vw->n; i++) {
		int a = cp_view_find(v, vw->e[i].name), b = cp_view_find(w, vw->e[i].name);
		const struct cachepeer_ring_member *x = &vw->e[i];

		if ((a < 0 || memcmp(x, &v->e[a], sizeof(*x))) &&
		    (b < 0 || memcmp(x, &w->e[b], sizeof(*x))))
			abort();
		if ((a >= 0 && cp_entry_version(x) < cp_entry_version(&v->e[a])) ||
		    (b >= 0 && cp_entry_version(x) < cp_entry_version(&w->e[b])))
			abort();
		if (a >= 0 && b >= 0 && !memcmp(&v->e[a], &w->e[b], ADMIN) &&
		    be32_to_cpu(x->incarnation) < max(be32_to_cpu(v->e[a].incarnation),
						      be32_to_cpu(w->e[b].incarnation)))
			abort();
	}
	for (i = 0; i < v->n; i++)
		if (cp_view_find(vw, v->e[i].name) < 0 &&
		    (cp_view_find(w, v->e[i].name) >= 0 || cp_entry_version(&v->e[i]) > w->floor))
			abort();
	/* w as a partial push: nothing of v's is dropped, whatever w's floor. */
	cp_view_free(again);
	again = cp_view_merge(v, w->e, w->n, w->floor, CP_MERGE_PARTIAL, &lacks);
	if (IS_ERR(again))
		abort();
	for (i = 0; i < v->n; i++)
		if (cp_view_find(again, v->e[i].name) < 0)
			abort();
	cp_ring_free(r);
	cp_view_free(v);
	cp_view_free(w);
	cp_view_free(vw);
	cp_view_free(wv);
	cp_view_free(again);
	free(buf);
	return 0;
}
