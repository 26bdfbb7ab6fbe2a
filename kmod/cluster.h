/* SPDX-License-Identifier: GPL-2.0 */
/* The cluster part's interface: a node's ring, who owns a key, ring edits. */
#ifndef _CP_CLUSTER_H
#define _CP_CLUSTER_H

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>

#include "auth.h"
#include "peer.h"
#include "ring.h"
#include "stats.h"
#include "view.h"

struct crypto_shash;
struct cp_watch;

/* A node's view of its cluster: the ring, and how it reaches the others. */
struct cp_cluster {
	struct net *net;
	struct cp_stats __percpu *stats;	/* the node's */
	struct mutex lock;		/* ring changes, name, running */
	/* The node's name, which makes it a member; written under both locks. */
	char name[CACHEPEER_NAME_MAX + 1];
	struct cp_view *view;		/* the membership; under lock */
	size_t enc_len;			/* of the view's encoding */
	struct cp_ring __rcu *ring;	/* the view's live members */
	struct cp_ring __rcu *prev;	/* the ring before, for hand-off */
	u64 epoch;			/* the view's, for every response */
	unsigned long changed;		/* jiffies when prev was replaced */
	struct cp_keys *keys;		/* the node's; its member keys sign rings */
	bool running;			/* pushes and gossip may run */
	u32 handoff_s;
	u8 miss;			/* enum cachepeer_miss */
	struct delayed_work gossip_work;
	struct work_struct probe_work;	/* one probe at a time, from gossip_work */
	bool probing;			/* probe_work queued or running */
	u32 probe_next;			/* round robin over the ring's members */
	struct cp_watch *watch;		/* liveness seen here, per member; lock */
	u32 nwatch;
	atomic_t pushes;		/* push works in flight */
	atomic_t probes_in;		/* PROBEs asked of this node, under way */
	struct cp_peers peers;		/* connections to the other members */
	/*
	 * Queued (on cp_peer_wq) whenever the view or the name changes, so
	 * that the node keeps them in its cache directory; set at init.
	 */
	struct delayed_work *save;
};

/* PROBEs a node runs for others at once; more are answered BUSY. */
#define CP_PROBES_IN_MAX	8

/* Who owns a key, as far as a node that misses it is concerned. */
enum cp_owner {
	CP_OWNER_NONE,		/* no ring, or this node with no one to ask */
	CP_OWNER_OTHER,		/* another member: *to */
	CP_OWNER_PREVIOUS,	/* this node, since the last ring change; before, *to */
};

void cp_cluster_init(struct cp_cluster *cl, struct net *net, struct cp_stats __percpu *stats,
		     struct cp_keys *keys);
void cp_cluster_start(struct cp_cluster *cl);
void cp_cluster_stop(struct cp_cluster *cl);
void cp_cluster_exit(struct cp_cluster *cl);

int cp_cluster_mod_init(void);
void cp_cluster_mod_exit(void);

int cp_cluster_rename(struct cp_cluster *cl, const char *name);

enum cp_ring_edit { CP_RING_SET, CP_RING_ADD, CP_RING_DEL, CP_RING_WEIGHT };
int cp_cluster_edit(struct cp_cluster *cl, enum cp_ring_edit op, const struct cp_member *m,
		    u32 n, u64 base_epoch, const char **why);

enum cp_owner cp_cluster_owner(struct cp_cluster *cl, u64 hash, union cp_addr *to);
bool cp_cluster_is_member(struct cp_cluster *cl, const struct sockaddr *addr);
bool cp_cluster_has_key(struct cp_cluster *cl);
size_t cp_cluster_enc_len(struct cp_cluster *cl);
void *cp_cluster_encode(struct cp_cluster *cl, size_t *len, char *name);
int cp_cluster_restore(struct cp_cluster *cl, const void *enc, size_t len, const char *name,
		       const struct sockaddr_storage *listen);
u16 cp_cluster_push_in(struct cp_cluster *cl, const void *msg, size_t len,
		       struct cp_pbuf **reply);
int cp_cluster_ping(struct cp_cluster *cl, const union cp_addr *to);
bool cp_cluster_member_addr(struct cp_cluster *cl, const char *name, union cp_addr *to);
unsigned long cp_cluster_heard(struct cp_cluster *cl, const char *name);

#endif /* _CP_CLUSTER_H */
