/* SPDX-License-Identifier: GPL-2.0 */
/* The consistent-hash ring: members, points, lookups. */
#ifndef _CP_RING_H
#define _CP_RING_H

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/rcupdate.h>
#include <linux/types.h>

#include <linux/cachepeer.h>

union cp_addr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

#define CP_RING_NO_OWNER	0xffff

struct cp_member {
	char name[CACHEPEER_NAME_MAX + 1];
	union cp_addr addr;
	u16 weight;
	u8 state;		/* enum cachepeer_member_state */
	u32 points;
};

/*
 * A consistent-hash ring. Immutable once built: a change builds a new ring
 * and readers find it under RCU.
 */
struct cp_ring {
	struct rcu_head rcu;
	u64 epoch;
	u64 build_ns;
	size_t mem;		/* bytes allocated for this ring */
	int self;		/* this node's member, or -1; follows renames */
	u32 nmembers;
	u32 npoints;
	/* Point i: hash[i], owned by members[owner[i]]; by hash, then member. */
	u64 *hash;
	u16 *owner;		/* past members that are down; CP_RING_NO_OWNER */
	struct cp_member members[];	/* sorted by name */
};

bool cp_name_valid(const char *name, size_t len);
u64 cp_ring_key_hash(const void *key, size_t len);
const char *cp_member_check(const struct cp_member *m);
struct cp_ring *cp_ring_build(const struct cp_member *m, u32 n, u64 epoch, const char *self,
			      const char **why);
void cp_ring_free(struct cp_ring *r);
void cp_ring_free_rcu(struct cp_ring *r);
int cp_ring_owner(const struct cp_ring *r, u64 hash);
int cp_ring_find(const struct cp_ring *r, const char *name);
int cp_name_find(const void *base, u32 n, size_t size, const char *name);
int cp_addr_len(const union cp_addr *a);

#endif /* _CP_RING_H */
