// SPDX-License-Identifier: MIT
/* Client side of the consistent-hash ring: XXH64, points, lookup, decoding. */

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"
#include "wire.h"

/* XXH64, as specified by xxHash (and lib/xxhash.c in the kernel). */
static const uint64_t P1 = 11400714785074694791ULL;
static const uint64_t P2 = 14029467366897019727ULL;
static const uint64_t P3 = 1609587929392839161ULL;
static const uint64_t P4 = 9650029242287828579ULL;
static const uint64_t P5 = 2870177450012600261ULL;

static uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t round64(uint64_t acc, uint64_t in)
{
	return rotl(acc + in * P2, 31) * P1;
}

static uint64_t merge64(uint64_t acc, uint64_t v)
{
	return (acc ^ round64(0, v)) * P1 + P4;
}

uint64_t cp_xxh64(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data, *end = p + len;
	uint64_t h;

	if (len >= 32) {
		uint64_t v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;

		do {
			v1 = round64(v1, rd64(p));
			v2 = round64(v2, rd64(p + 8));
			v3 = round64(v3, rd64(p + 16));
			v4 = round64(v4, rd64(p + 24));
			p += 32;
		} while (p + 32 <= end);
		h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
		h = merge64(h, v1);
		h = merge64(h, v2);
		h = merge64(h, v3);
		h = merge64(h, v4);
	} else {
		h = seed + P5;
	}
	h += len;
	for (; p + 8 <= end; p += 8)
		h = rotl(h ^ round64(0, rd64(p)), 27) * P1 + P4;
	if (p + 4 <= end) {
		h = rotl(h ^ (uint64_t)rd32(p) * P1, 23) * P2 + P3;
		p += 4;
	}
	for (; p < end; p++)
		h = rotl(h ^ *p * P5, 11) * P1;
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	h *= P3;
	h ^= h >> 32;
	return h;
}

static int member_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cp_ring_member *)a)->name,
		      ((const struct cp_ring_member *)b)->name);
}

#define RADIX_BITS	11
#define RADIX_SIZE	2048	/* 1 << RADIX_BITS */

/*
 * By hash, points of equal hash in member order (as laid out): a stable
 * LSD radix sort, as the kernel's. Returns p or tmp, whichever is sorted.
 */
static struct cp_ring_point *sort_points(struct cp_ring_point *p, struct cp_ring_point *tmp,
					 unsigned int n)
{
	unsigned int count[RADIX_SIZE];	/* 8 KiB; callers may be threads */
	struct cp_ring_point *t;
	unsigned int i, shift;

	for (shift = 0; shift < 64; shift += RADIX_BITS) {
		unsigned int sum = 0;

		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[(p[i].hash >> shift) & (RADIX_SIZE - 1)]++;
		for (i = 0; i < RADIX_SIZE; i++) {
			unsigned int c = count[i];

			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			tmp[count[(p[i].hash >> shift) & (RADIX_SIZE - 1)]++] = p[i];
		t = p;
		p = tmp;
		tmp = t;
	}
	return p;
}

/* Sort r->m by name and lay out the points. */
int cp_ring_build(struct cp_ring *r)
{
	struct cp_ring_point *tmp, *sorted;
	unsigned int i, j, k = 0;

	qsort(r->m, r->n, sizeof(*r->m), member_cmp);
	r->npoints = 0;
	for (i = 0; i < r->n; i++) {
		r->m[i].points = r->m[i].weight * CACHEPEER_RING_POINTS /
				 CACHEPEER_WEIGHT_DEFAULT;
		r->npoints += r->m[i].points;
	}
	free(r->points);
	r->points = calloc(r->npoints ? r->npoints : 1, sizeof(*r->points));
	tmp = calloc(r->npoints ? r->npoints : 1, sizeof(*tmp));
	if (!r->points || !tmp) {
		free(tmp);
		return -ENOMEM;
	}
	for (i = 0; i < r->n; i++) {
		size_t len = strlen(r->m[i].name);

		for (j = 0; j < r->m[i].points; j++, k++) {
			r->points[k].hash = cp_xxh64(r->m[i].name, len, j);
			r->points[k].member = i;
		}
	}
	sorted = sort_points(r->points, tmp, r->npoints);
	if (sorted == tmp) {
		tmp = r->points;
		r->points = sorted;
	}
	free(tmp);
	return 0;
}

void cp_ring_free(struct cp_ring *r)
{
	free(r->m);
	free(r->points);
	memset(r, 0, sizeof(*r));
}

/* Index of the first point at or after hash, wrapping. */
static unsigned int first_point(const struct cp_ring *r, uint64_t hash)
{
	unsigned int lo = 0, hi = r->npoints;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (r->points[mid].hash < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == r->npoints ? 0 : lo;
}

/*
 * The key's owner, or the next member clockwise that is not down and that
 * skip[] does not rule out; as the kernel routes (kmod/ring.c).
 */
int cp_ring_next(const struct cp_ring *r, uint64_t hash, const bool *skip)
{
	unsigned int i, p;

	if (!r->npoints)
		return -1;
	p = first_point(r, hash);
	for (i = 0; i < r->npoints; i++) {
		unsigned int m = r->points[(p + i) % r->npoints].member;

		if ((!skip || !skip[m]) && r->m[m].state != CACHEPEER_MEMBER_DOWN)
			return m;
	}
	return -1;
}

int cp_ring_owner(const struct cp_ring *r, uint64_t hash)
{
	return cp_ring_next(r, hash, NULL);
}

/* Each member's fraction of the 64-bit keyspace. */
void cp_ring_shares(const struct cp_ring *r, double *share)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		share[i] = 0;
	for (i = 0; i < r->npoints; i++) {
		/* The arc up to a point belongs to that point's member. */
		uint64_t prev = r->points[i ? i - 1 : r->npoints - 1].hash;
		uint64_t arc = r->points[i].hash - prev;

		if (r->npoints == 1)
			arc = UINT64_MAX;
		share[r->points[i].member] += (double)arc / 18446744073709551616.0;
	}
}

int cp_ring_find(const struct cp_ring *r, const char *name)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->m[i].name, name))
			return i;
	return -1;
}

/*
 * >0 if entry a's administered part wins over b's, as the kernel's merge
 * decides (kmod/view.c): the larger version, then the larger encoding.
 */
static int entry_cmp(const struct cachepeer_ring_member *a, const struct cachepeer_ring_member *b)
{
	uint64_t va = be64toh(a->version), vb = be64toh(b->version);

	if (va != vb)
		return va > vb ? 1 : -1;
	return memcmp(a, b, offsetof(struct cachepeer_ring_member, incarnation));
}

/*
 * Of two live entries with one address, only the winning one is a member,
 * as in the kernel's ring.
 */
static bool entry_shadowed(const struct cachepeer_ring_member *e, unsigned int n, unsigned int i)
{
	unsigned int j;

	for (j = 0; j < n; j++)
		if (j != i && !(e[j].flags & CACHEPEER_MEMBER_F_REMOVED) &&
		    e[j].family == e[i].family && e[j].port == e[i].port &&
		    !memcmp(e[j].addr, e[i].addr, sizeof(e[i].addr)) && entry_cmp(&e[j], &e[i]) > 0)
			return true;
	return false;
}

/*
 * A RING_GET answer (struct cachepeer_ring_hdr and entries): the ring of
 * its live members; removed ones (tombstones) are left out.
 */
int cp_ring_decode(struct cp_ring *r, const void *buf, size_t len)
{
	const struct cachepeer_ring_hdr *h = buf;
	const struct cachepeer_ring_member *e = (const void *)(h + 1);
	unsigned int i, n;

	memset(r, 0, sizeof(*r));
	if (len < sizeof(*h) || ntohl(h->magic) != CACHEPEER_RING_MAGIC)
		return -EBADMSG;
	/* Another format is another version of cachepeer. */
	if (h->format != CACHEPEER_RING_FORMAT)
		return -EPROTONOSUPPORT;
	n = ntohs(h->nmembers);
	if (n > CACHEPEER_RING_MEMBERS_MAX || len != sizeof(*h) + n * sizeof(*e))
		return -EBADMSG;
	r->epoch = be64toh(h->epoch);
	r->m = calloc(n ? n : 1, sizeof(*r->m));
	if (!r->m)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct sockaddr_storage ss = { 0 };
		struct sockaddr_in6 *sin6 = (void *)&ss;
		struct sockaddr_in *sin = (void *)&ss;
		struct cp_ring_member *m = &r->m[r->n];

		if (e[i].name[CACHEPEER_NAME_MAX] || (e[i].family != 4 && e[i].family != 6)) {
			cp_ring_free(r);
			return -EBADMSG;
		}
		if ((e[i].flags & CACHEPEER_MEMBER_F_REMOVED) || entry_shadowed(e, n, i))
			continue;
		if (e[i].family == 6) {
			sin6->sin6_family = AF_INET6;
			memcpy(&sin6->sin6_addr, e[i].addr, 16);
			sin6->sin6_port = e[i].port;
		} else {
			sin->sin_family = AF_INET;
			memcpy(&sin->sin_addr, e[i].addr, 4);
			sin->sin_port = e[i].port;
		}
		memcpy(m->name, e[i].name, sizeof(m->name));
		cp_fmt_sockaddr((struct sockaddr *)&ss, m->addr, sizeof(m->addr));
		m->weight = ntohs(e[i].weight);
		m->state = e[i].state;
		m->incarnation = ntohl(e[i].incarnation);
		m->heard_ms = -1;
		r->n++;
	}
	return cp_ring_build(r);
}
