// SPDX-License-Identifier: GPL-2.0
/*
 * The consistent-hash ring, as ketama builds it: each member gets points on
 * a 64-bit circle in proportion to its weight, and a key belongs to the
 * member of the first point at or after the key's hash. The hash is XXH64,
 * which the client library implements identically; the encoding and point
 * rules are in the uapi header and pinned by selftests/ring_vectors.txt.
 *
 * Nothing here knows about nodes or locks: a ring is built whole, never
 * changed, and freed after an RCU grace period once replaced. Member names
 * are node names, so their rule is here too.
 */

#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <linux/xxhash.h>
#include <net/ipv6.h>

#include "ring.h"

/* Plain ASCII on purpose: the kernel's isalnum() accepts Latin-1 letters. */
static bool name_char_valid(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* A node's (and so a member's) name: 1-63 bytes of [A-Za-z0-9._-]. */
bool cp_name_valid(const char *name, size_t len)
{
	size_t i;

	if (!len || len > CACHEPEER_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (!name_char_valid(name[i]))
			return false;
	}
	return true;
}

u64 cp_ring_key_hash(const void *key, size_t len)
{
	return xxh64(key, len, 0);
}

int cp_addr_len(const union cp_addr *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof(a->v6) : sizeof(a->v4);
}

static u16 addr_port(const union cp_addr *a)
{
	return ntohs(a->sa.sa_family == AF_INET6 ? a->v6.sin6_port : a->v4.sin_port);
}

/* NULL if the member is well formed, or why not. */
const char *cp_member_check(const struct cp_member *m)
{
	if (!cp_name_valid(m->name, strnlen(m->name, sizeof(m->name))))
		return "member name must be 1-63 bytes of [A-Za-z0-9._-]";
	if (m->addr.sa.sa_family != AF_INET && m->addr.sa.sa_family != AF_INET6)
		return "member address must be IPv4 or IPv6";
	if (!addr_port(&m->addr))
		return "member port must be 1-65535";
	if (m->weight > CACHEPEER_WEIGHT_MAX)
		return "member weight must be 0-1000";
	return NULL;
}

static bool addr_equal(const union cp_addr *a, const union cp_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET6)
		return ipv6_addr_equal(&a->v6.sin6_addr, &b->v6.sin6_addr) &&
		       a->v6.sin6_port == b->v6.sin6_port;
	return a->v4.sin_addr.s_addr == b->v4.sin_addr.s_addr &&
	       a->v4.sin_port == b->v4.sin_port;
}

static int member_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cp_member *)a)->name, ((const struct cp_member *)b)->name);
}

struct point {
	u64 hash;
	u32 member;
};

#define RADIX_BITS	11
#define RADIX_SIZE	BIT(RADIX_BITS)

/*
 * Sort points by hash with an LSD radix sort: six passes over the array
 * instead of n log n indirect compares, which is most of a big ring's build
 * time. Stable, so points of equal hash stay in member order, as laid out.
 * Returns the sorted array, p or tmp.
 */
static struct point *sort_points(struct point *p, struct point *tmp, u32 n, u32 *count)
{
	u32 i, shift;

	for (shift = 0; shift < 64; shift += RADIX_BITS) {
		u32 sum = 0;

		memset(count, 0, RADIX_SIZE * sizeof(*count));
		for (i = 0; i < n; i++)
			count[(p[i].hash >> shift) & (RADIX_SIZE - 1)]++;
		for (i = 0; i < RADIX_SIZE; i++) {
			u32 c = count[i];

			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			tmp[count[(p[i].hash >> shift) & (RADIX_SIZE - 1)]++] = p[i];
		swap(p, tmp);
	}
	return p;
}

/* Lay out, sort and store the points of r's members. */
static int build_points(struct cp_ring *r)
{
	struct point *p, *tmp, *sorted;
	u32 i, j, k, *count;

	p = kvmalloc_array(r->npoints ?: 1, sizeof(*p), GFP_KERNEL);
	tmp = kvmalloc_array(r->npoints ?: 1, sizeof(*p), GFP_KERNEL);
	count = kmalloc_array(RADIX_SIZE, sizeof(*count), GFP_KERNEL);
	r->hash = kvmalloc_array(r->npoints ?: 1, sizeof(*r->hash) + sizeof(*r->owner),
				 GFP_KERNEL);
	if (!p || !tmp || !count || !r->hash) {
		kvfree(p);
		kvfree(tmp);
		kfree(count);
		return -ENOMEM;
	}
	r->owner = (u16 *)(r->hash + r->npoints);
	for (i = 0, k = 0; i < r->nmembers; i++) {
		const char *name = r->members[i].name;
		size_t len = strlen(name);

		for (j = 0; j < r->members[i].points; j++, k++) {
			p[k].hash = xxh64(name, len, j);
			p[k].member = i;
		}
	}
	sorted = sort_points(p, tmp, r->npoints, count);
	for (i = 0; i < r->npoints; i++) {
		r->hash[i] = sorted[i].hash;
		r->owner[i] = sorted[i].member;
	}
	kvfree(p);
	kvfree(tmp);
	kfree(count);
	return 0;
}

static bool member_is_down(const struct cp_ring *r, u16 o)
{
	return r->members[o].state == CACHEPEER_MEMBER_DOWN;
}

/*
 * Each point's owner becomes the first member at or after it, clockwise,
 * that is not down (CP_RING_NO_OWNER if all are), so that a lookup stays
 * one binary search however many members are down. Two laps backwards:
 * the first finds what follows the last point, the second writes.
 */
static void skip_down(struct cp_ring *r)
{
	u16 next = CP_RING_NO_OWNER;
	u32 i, k;

	for (i = 0; i < r->nmembers && r->members[i].state != CACHEPEER_MEMBER_DOWN; i++)
		;
	if (i == r->nmembers)
		return;
	for (k = 2 * r->npoints; k-- > 0; ) {
		i = k % r->npoints;
		if (r->owner[i] != CP_RING_NO_OWNER && !member_is_down(r, r->owner[i]))
			next = r->owner[i];
		if (k < r->npoints)
			r->owner[i] = next;
	}
}

/*
 * Process context. Build a ring from n members (copied and sorted; the
 * caller keeps m). self names this node's member. On a bad member list,
 * returns ERR_PTR(-EINVAL) and sets *why.
 */
struct cp_ring *cp_ring_build(const struct cp_member *m, u32 n, u64 epoch, const char *self,
			      const char **why)
{
	u64 start = ktime_get_ns();
	struct cp_ring *r;
	u32 i, j;
	u64 npoints = 0;

	*why = NULL;
	if (n > CACHEPEER_RING_MEMBERS_MAX) {
		*why = "too many ring members";
		return ERR_PTR(-E2BIG);
	}
	r = kvzalloc(struct_size(r, members, n), GFP_KERNEL);
	if (!r)
		return ERR_PTR(-ENOMEM);
	memcpy(r->members, m, n * sizeof(*m));
	r->nmembers = n;
	r->epoch = epoch;
	sort(r->members, n, sizeof(*m), member_cmp, NULL);
	for (i = 0; i < n; i++) {
		struct cp_member *mi = &r->members[i];

		*why = cp_member_check(mi);
		if (!*why && i && !strcmp(mi->name, r->members[i - 1].name))
			*why = "duplicate member name";
		for (j = 0; !*why && j < i; j++)
			if (addr_equal(&mi->addr, &r->members[j].addr))
				*why = "duplicate member address";
		if (*why) {
			kvfree(r);
			return ERR_PTR(-EINVAL);
		}
		mi->points = mi->weight * CACHEPEER_RING_POINTS / CACHEPEER_WEIGHT_DEFAULT;
		npoints += mi->points;
	}

	r->npoints = npoints;
	if (build_points(r)) {
		cp_ring_free(r);
		return ERR_PTR(-ENOMEM);
	}
	skip_down(r);
	r->self = self[0] ? cp_ring_find(r, self) : -1;
	r->mem = struct_size(r, members, n) + npoints * (sizeof(*r->hash) + sizeof(*r->owner));
	r->build_ns = ktime_get_ns() - start;
	return r;
}

void cp_ring_free(struct cp_ring *r)
{
	if (!r)
		return;
	kvfree(r->hash);
	kvfree(r);
}

static void ring_free_rcu(struct rcu_head *head)
{
	cp_ring_free(container_of(head, struct cp_ring, rcu));
}

/* After a grace period: readers may still walk r. vfree() defers itself from softirq. */
void cp_ring_free_rcu(struct cp_ring *r)
{
	if (r)
		call_rcu(&r->rcu, ring_free_rcu);
}

/*
 * Any context. The owning member's index: the member of the first point at
 * or after hash, or past a member that is down, the next one clockwise
 * that is not (skip_down() laid that out); -1 if no member has points, or
 * all are down.
 */
int cp_ring_owner(const struct cp_ring *r, u64 hash)
{
	u32 lo = 0, hi = r->npoints;
	u16 o;

	if (!r->npoints)
		return -1;
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (r->hash[mid] < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	o = r->owner[lo == r->npoints ? 0 : lo];
	return o == CP_RING_NO_OWNER ? -1 : o;
}

/*
 * The index of name among n elements of size bytes, sorted by name, each
 * starting with its NUL-terminated name; -1 if absent.
 */
int cp_name_find(const void *base, u32 n, size_t size, const char *name)
{
	u32 lo = 0, hi = n;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		int c = strcmp((const char *)base + mid * size, name);

		if (!c)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static_assert(offsetof(struct cp_member, name) == 0);

int cp_ring_find(const struct cp_ring *r, const char *name)
{
	return cp_name_find(r->members, r->nmembers, sizeof(r->members[0]), name);
}
