/* SPDX-License-Identifier: GPL-2.0 */
/* The cluster part's interface: a node's ring, who owns a key, ring edits. */
#ifndef _CP_CLUSTER_H
#define _CP_CLUSTER_H

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>

#include "auth.h"
#include "link.h"
#include "peer.h"
#include "ring.h"
#include "stats.h"
#include "view.h"

struct crypto_shash;
struct cp_cluster;
struct cp_watch;

/* Members asked to probe one that did not answer this node's PING. */
#define CP_PROBE_HELPERS	2

/* One of a probe's calls, and the cluster it is for. */
struct cp_probe_call {
	struct cp_call call;
	struct cp_cluster *cl;
};

/*
 * The probe under way, one at a time: a PING of the target, then, if it
 * does not answer, PROBEs through helpers, all at once. Its calls are
 * answered on the links' receive path, and the last to end queues
 * probe_work for the next step: no worker waits for a member.
 */
struct cp_probe {
	struct cp_probe_call call[1 + CP_PROBE_HELPERS];	/* the PING, then the PROBEs */
	struct cp_member target;
	struct cp_member helper[CP_PROBE_HELPERS];
	u32 nh;				/* helpers found */
	u32 inc;			/* the target's incarnation when probed */
	int step;			/* what probe_work does next */
	atomic_t pending;		/* calls of the step under way */
	bool ok;			/* the target answered, itself or through one */
	bool evidence;			/* a helper reached, and said it did not */
};

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
	bool probing;			/* a probe under way; under lock */
	struct cp_probe probe;		/* its state; probe_work's and its calls' */
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
/*
 * How long a member has to answer a PING, connecting included (a link
 * idle for CP_PEER_IDLE_MS is closed). A member silent that long while
 * the PING waits has its link closed before that (link_timer()).
 */
#define CP_PING_MS		(2 * CP_PEER_TIMEOUT_MS)
/*
 * ...and a PROBE: the member asked PINGs in turn, maybe after connecting,
 * and this node may have to connect to it first.
 */
#define CP_PROBE_MS		(2 * CP_PING_MS + CP_PEER_RETRY_MS)

/*
 * Any context, from a PING's done(): did the member answer? A link too
 * busy to take the PING is an answer: the member works.
 */
static inline bool cp_cluster_pinged(const struct cp_call *call, int err)
{
	return err ? err == -EBUSY : call->r.status == CACHEPEER_S_OK;
}

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
bool cp_cluster_member_addr(struct cp_cluster *cl, const char *name, union cp_addr *to);
unsigned long cp_cluster_heard(struct cp_cluster *cl, const char *name);

#endif /* _CP_CLUSTER_H */
