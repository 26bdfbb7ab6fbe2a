/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Blocking calls to other members over pooled connections, and private
 * pages for relayed data.
 */
#ifndef _CP_PEER_H
#define _CP_PEER_H

#include <linux/bvec.h>
#include <linux/list.h>
#include <linux/net.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "auth.h"
#include "proto.h"
#include "ring.h"
#include "stats.h"

/* How long a call to another member may wait to connect, send or receive. */
#define CP_PEER_TIMEOUT_MS	2000
/* HELLO's request id; calls on a connection count up from it. */
#define CP_PEER_REQ_ID		1

/*
 * Data held in pages, which TCP can splice (slab memory it cannot): pages
 * of its own, or (relayed by a link) references to the pages of the skbs
 * the data arrived in. Never written once filled, so it may be shared.
 */
struct cp_pbuf {
	size_t len;
	u32 nbv;			/* pieces filled */
	u32 cap;			/* pieces allocated */
	struct bio_vec bv[];
};

/* A reader's place in a cp_pbuf: piece i, which starts at byte start. */
struct cp_pbuf_cur {
	u32 i;
	u64 start;
};

/* The memory a cp_pbuf of len bytes takes. */
static inline size_t cp_pbuf_mem(size_t len)
{
	return struct_size_t(struct cp_pbuf, bv, DIV_ROUND_UP(len, PAGE_SIZE)) +
	       PAGE_ALIGN(len);
}

/* Any context: an iterator over pb's data, to copy it out. */
static inline void cp_pbuf_iter(const struct cp_pbuf *pb, struct iov_iter *it)
{
	iov_iter_bvec(it, ITER_SOURCE, pb->bv, pb->nbv, pb->len);
}

struct cp_pbuf *cp_pbuf_alloc(size_t len);
struct cp_pbuf *cp_pbuf_from(const void *data, size_t len);
struct cp_pbuf *cp_pbuf_share(const struct cp_pbuf *pb, gfp_t gfp);
void cp_pbuf_free(struct cp_pbuf *pb);
struct bio_vec cp_pbuf_next(const struct cp_pbuf *pb, u64 off, u64 max, struct cp_pbuf_cur *cur);

/*
 * Connections a node keeps to one member, busy and idle together: streams
 * paced by a client (forwarded PUTs) at once; more are refused (-EBUSY),
 * so that slow writers hold a bounded share of the member.
 */
#define CP_PEER_MEMBER_CONNS	4
/* An idle connection is closed after this long. */
#define CP_PEER_IDLE_MS		30000
/* A member that could not be reached is not tried again for this long. */
#define CP_PEER_RETRY_MS	1000

/*
 * What may wait on a member (a forwarded PUT's connect and answer, the
 * links' connects and closes) runs in workers on this workqueue only, as
 * do the steps that follow a link call's answer (pushes, probes): a
 * member that is slow or gone must not hold up the workers that store
 * PUTs, read cold blocks or close connections (cp_wq).
 */
extern struct workqueue_struct *cp_peer_wq;
/*
 * Sends on links (link.c), which never block: per CPU and high priority,
 * as a connection's TX is, so that a forward queued from softirq goes out
 * on the CPU that queued it, soon.
 */
extern struct workqueue_struct *cp_peer_tx_wq;

struct cp_peer_member;

/* A blocking connection to another member, owned by one caller at a time. */
struct cp_peer {
	struct socket *sock;
	struct cp_peer_member *m;	/* its pool's entry for the member */
	struct list_head list;		/* in m->idle or m->busy, under the pool's lock */
	unsigned long since;		/* jiffies: pooled since */
	u64 seq;			/* the last call's request id */
	bool reused;			/* taken from the pool, not new */
	/* The socket's callbacks, while a caller has hooked its own (put_fwd.c). */
	void (*saved_write_space)(struct sock *sk);
	void (*saved_state_change)(struct sock *sk);
};

/*
 * A node's connections to other members for streams, reused call after
 * call: at most CP_PEER_MEMBER_CONNS per member at once, so a burst of
 * forwarded PUTs costs a few connections and no TIME_WAIT pile-up. A connection goes back to
 * the pool only after a call that ended cleanly (its answer read whole),
 * so the next call never reads an earlier call's bytes.
 */
struct cp_peers {
	struct net *net;
	struct cp_keys *keys;
	struct cp_stats __percpu *stats;
	struct mutex lock;		/* members and their fields; shutting busy sockets */
	struct list_head members;	/* struct cp_peer_member */
	bool open;			/* the node runs: calls may be made */

	/* Links (link.c): a few multiplexed connections per member. */
	struct mutex links_mutex;	/* stopping and expiring links */
	spinlock_t links_lock;		/* adding and removing links; links_open */
	struct hlist_head links[64];	/* struct cp_link, by address */
	bool links_open;
	u32 calls_max;			/* the most calls on one link at once */
};

void cp_peers_init(struct cp_peers *ps, struct net *net, struct cp_keys *keys,
		   struct cp_stats __percpu *stats);
void cp_peers_start(struct cp_peers *ps);
void cp_peers_stop(struct cp_peers *ps);
void cp_peers_expire(struct cp_peers *ps);
void cp_peers_exit(struct cp_peers *ps);

int cp_peer_begin(struct cp_peers *ps, const union cp_addr *addr, const struct cp_req *req,
		  const void *key, const void *payload, struct cp_peer **pp);
int cp_peer_answer(struct cp_peers *ps, struct cp_peer *p, struct cp_resp *r, unsigned int ms,
		   bool blame);
void cp_peer_done(struct cp_peers *ps, struct cp_peer *p, bool reuse);

int cp_peer_connect(struct cp_peer *p, const union cp_addr *addr, struct cp_keys *keys);
int cp_peer_mod_init(void);
void cp_peer_mod_exit(void);

int cp_peer_send(struct cp_peer *p, const struct cp_req *req, const void *key,
		 const void *payload);
int cp_peer_recv_resp(struct cp_peer *p, u64 id, struct cp_resp *r);
int cp_peer_recv(struct cp_peer *p, void *buf, size_t len);

#endif /* _CP_PEER_H */
