/* SPDX-License-Identifier: MIT */
#ifndef RING_H
#define RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <linux/cachepeer.h>

/*
 * The client's copy of the consistent-hash ring: the same hash, points and
 * lookup as the kernel's (kmod/ring.c), pinned by selftests/ring_vectors.txt.
 */

struct cp_ring_member {
	char name[CACHEPEER_NAME_MAX + 1];
	char addr[64];			/* ADDR:PORT or [ADDR6]:PORT */
	unsigned int weight;
	unsigned int points;
	unsigned int state;		/* enum cachepeer_member_state: down ones are skipped */
	unsigned int incarnation;
	long long heard_ms;		/* since it answered the node's probe; -1: never */
};

struct cp_ring_point {
	uint64_t hash;
	uint32_t member;
};

struct cp_ring {
	uint64_t epoch;
	unsigned int n;
	struct cp_ring_member *m;	/* sorted by name once built */
	unsigned int npoints;
	struct cp_ring_point *points;
};

uint64_t cp_xxh64(const void *data, size_t len, uint64_t seed);
int cp_ring_build(struct cp_ring *r);
void cp_ring_free(struct cp_ring *r);
int cp_ring_owner(const struct cp_ring *r, uint64_t hash);
int cp_ring_next(const struct cp_ring *r, uint64_t hash, const bool *skip);
void cp_ring_shares(const struct cp_ring *r, double *share);
int cp_ring_decode(struct cp_ring *r, const void *buf, size_t len);
int cp_ring_find(const struct cp_ring *r, const char *name);

#endif
