/* SPDX-License-Identifier: GPL-2.0 */
/* The node: one per network namespace, and what it owns. */
#ifndef _CP_SERVICE_H
#define _CP_SERVICE_H

#include <linux/mutex.h>
#include <linux/socket.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>

#include <linux/cachepeer.h>

#include "cluster.h"
#include "stats.h"
#include "store.h"

#define CP_FRAME_TIMEOUT_DEFAULT_MS 30000
#define CP_MAX_CONNS 16384
/* Relayed data held at once by one node, beyond which forwards get BUSY. */
#define CP_RELAY_BYTES_MAX	(256ULL << 20)

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
	struct cp_stats __percpu *stats;
	atomic64_t relay_bytes;		/* forwarded data held in memory */

	/* Set while RUNNING; constant until the node stops. */
	struct socket *listener;
	struct sockaddr_storage listen;
	char dir[PATH_MAX];
	u64 max_block;
	u32 frame_timeout_ms;
	struct cp_store store;
	struct work_struct accept_work;
	/* The listener's own callbacks, restored on every closing socket. */
	void (*sk_data_ready)(struct sock *sk);
	void (*sk_write_space)(struct sock *sk);
	void (*sk_state_change)(struct sock *sk);

	spinlock_t conns_lock;		/* conns, conns_gen */
	struct list_head conns;
	u32 conns_gen;			/* changes whenever conns does */
	atomic_t nconns;
};

struct cp_service *cp_service_get(const struct net *net);
int cp_service_set_name(struct cp_service *svc, const char *name);
void cp_service_set_limits(struct cp_service *svc, const struct cp_limits *lim);
int cp_service_start(struct cp_service *svc, const struct cp_config *cfg);
int cp_service_stop(struct cp_service *svc);

int cp_service_init(void);
void cp_service_uninit(void);

#endif /* _CP_SERVICE_H */
