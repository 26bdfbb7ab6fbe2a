/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CP_CLUSTER_H
#define _CP_CLUSTER_H

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>

#include "peer.h"
#include "ring.h"

struct cp_service;
struct crypto_shash;

/* A node's view of its cluster: the ring, and how it talks to the others. */
struct cp_cluster {
	struct mutex lock;		/* ring changes, hmac, running */
	struct cp_ring __rcu *ring;
	struct cp_ring __rcu *prev;	/* the ring before, for hand-off */
	unsigned long changed;		/* jiffies when prev was replaced */
	struct crypto_shash *hmac;	/* keyed hmac(sha256); NULL: no key */
	bool running;			/* pushes and gossip may run */
	u32 handoff_s;
	u8 miss;			/* enum cachepeer_miss */
	struct delayed_work gossip_work;
	atomic_t pushes;		/* push works in flight */
	atomic64_t fwd_bytes;		/* relayed bytes held in memory */

	atomic64_t forwards;
	atomic64_t redirects;
	atomic64_t handoffs;
	atomic64_t peer_errors;
	atomic64_t ring_accepted;
	atomic64_t ring_refused;
	atomic64_t ring_sent;
};

/* What a GET miss should do. */
enum cp_route {
	CP_ROUTE_MISS,		/* answer NOT_FOUND */
	CP_ROUTE_FORWARD,	/* relay from the owner */
	CP_ROUTE_REDIRECT,	/* name the owner */
	CP_ROUTE_HANDOFF,	/* fetch from the previous owner, store, serve */
};

/* Relayed data held at once by one node, beyond which forwards get BUSY. */
#define CP_FWD_BYTES_MAX	(256ULL << 20)

void cp_cluster_init(struct cp_service *svc);
void cp_cluster_start(struct cp_service *svc);
void cp_cluster_stop(struct cp_service *svc);
void cp_cluster_exit(struct cp_service *svc);

int cp_cluster_mod_init(void);
void cp_cluster_mod_exit(void);

int cp_cluster_rename(struct cp_service *svc, const char *name);
int cp_cluster_set_key(struct cp_service *svc, const void *key, size_t len);

enum cp_ring_edit { CP_RING_SET, CP_RING_ADD, CP_RING_DEL, CP_RING_WEIGHT };
int cp_cluster_edit(struct cp_service *svc, enum cp_ring_edit op, const struct cp_member *m,
		    u32 n, u64 base_epoch, const char **why);

enum cp_route cp_cluster_route(struct cp_service *svc, u64 hash, u16 flags, union cp_addr *to);
void *cp_cluster_encode(struct cp_service *svc, size_t *len);
u16 cp_cluster_push_in(struct cp_service *svc, const void *msg, size_t len,
		       struct cp_pbuf **reply);
int cp_cluster_forward(struct cp_service *svc, const union cp_addr *to, const u8 *key,
		       u16 key_len, u64 off, u64 len, struct cp_peer_resp *r,
		       struct cp_pbuf **data);
int cp_cluster_handoff(struct cp_service *svc, const union cp_addr *from, const u8 *key,
		       u16 key_len, const u8 *key_id);

#endif /* _CP_CLUSTER_H */
