/* SPDX-License-Identifier: GPL-2.0 */
/* The node: one per network namespace, and what it owns. */
#ifndef _CP_SERVICE_H
#define _CP_SERVICE_H

#include <linux/mutex.h>
#include <linux/socket.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>

#include <linux/cachepeer.h>

#include "auth.h"
#include "cluster.h"
#include "stats.h"
#include "store.h"

#define CP_FRAME_TIMEOUT_DEFAULT_MS 30000
/* Relayed data held at once by one node, beyond which forwards get BUSY. */
#define CP_RELAY_BYTES_MAX	(256ULL << 20)
/* A connection from a ring member gets this many times the queue bounds. */
#define CP_MEMBER_BOUNDS	4

/*
 * What clients may hold of a node; see the uapi header (NODE_SET). Written
 * under the node's lock, read locklessly; they apply to every connection
 * from the next check on.
 */
struct cp_conn_limits {
	u32 max_conns;
	u32 max_per_source;		/* per IPv4 address or IPv6 /64; 0: none */
	u64 conn_queue;			/* bytes of queued answers, per connection */
	u64 node_queue;			/* the same, over the node */
	u64 conn_pin;			/* page-cache bytes of queued answers */
	u32 idle_timeout_s;		/* 0: never */
};

#define CP_SOURCE_BITS	8

struct cp_config {
	struct sockaddr_storage listen;
	const char *dir;
	u64 max_block;
	u32 frame_timeout_ms;
};

/*
 * One cache node per network namespace. The node starts and stops its
 * parts (store, cluster, connections); they never call back into it.
 */
struct cp_service {
	struct net *net;
	/* Serialises control operations; the genl family has parallel_ops. */
	struct mutex lock;
	enum cachepeer_node_state state;
	struct cp_cluster cluster;	/* also the node's name and ring epoch */
	struct cp_keys keys;		/* who may HELLO; the member keys */
	u8 access;			/* enum cachepeer_access, as set */
	struct cp_stats __percpu *stats;
	/* Made at the first start (under lock), kept until the namespace goes. */
	struct cp_lat __percpu *lat;
	struct cp_conn_limits climits;
	atomic64_t relay_bytes;		/* forwarded data held in memory */
	spinlock_t fetches_lock;
	struct hlist_head fetches[256];	/* hand-offs and forwards under way (miss.c) */
	u32 nfetches;
	atomic_long_t queued;		/* bytes its connections hold for answers */
	bool queue_full;		/* queued reached node_queue: some paused */

	/* Set while RUNNING; constant until the node stops. */
	struct socket *listener;
	struct sockaddr_storage listen;
	char dir[PATH_MAX];
	u64 max_block;
	u32 frame_timeout_ms;
	struct cp_store store;
	/* The ring kept in the cache directory (ringfile.c). */
	struct mutex ring_lock;		/* ring_saving, ring_seq, the files */
	bool ring_saving;		/* the store is open to save into */
	u64 ring_seq;
	struct delayed_work ring_save;	/* queued by the cluster on changes */
	/*
	 * Charged for what the node allocates for its connections: the
	 * memory cgroup of whoever started it (see conn_priv.h).
	 */
	struct mem_cgroup *memcg;
	struct work_struct accept_work;
	/* The listener's own callbacks, restored on every closing socket. */
	void (*sk_data_ready)(struct sock *sk);
	void (*sk_write_space)(struct sock *sk);
	void (*sk_state_change)(struct sock *sk);

	spinlock_t conns_lock;		/* conns, conns_gen, sources */
	struct list_head conns;
	u32 conns_gen;			/* changes whenever conns does */
	atomic_t nconns;
	/* Connections per source (struct cp_source), for max_per_source. */
	struct hlist_head sources[1 << CP_SOURCE_BITS];
};

/* Any context: the access policy in force (never AUTO). */
static inline u8 cp_access_now(struct cp_service *svc)
{
	u8 access = READ_ONCE(svc->access);

	if (access != CACHEPEER_ACCESS_AUTO)
		return access;
	return cp_keys_any(&svc->keys) ? CACHEPEER_ACCESS_WRITES : CACHEPEER_ACCESS_OPEN;
}

struct cp_service *cp_service_get(const struct net *net);
void cp_service_drop_key(struct cp_service *svc, struct cp_key *key);
int cp_service_set_name(struct cp_service *svc, const char *name);
void cp_service_set_limits(struct cp_service *svc, const struct cp_limits *lim);
void cp_service_set_conn_limits(struct cp_service *svc, const struct cp_conn_limits *cl);
int cp_service_start(struct cp_service *svc, const struct cp_config *cfg);
int cp_service_stop(struct cp_service *svc);

int cp_service_init(void);
void cp_service_uninit(void);

#endif /* _CP_SERVICE_H */
