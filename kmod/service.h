/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CP_SERVICE_H
#define _CP_SERVICE_H

#include <linux/mutex.h>
#include <linux/socket.h>
#include <linux/u64_stats_sync.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>

#include <linux/cachepeer.h>

#include "cluster.h"
#include "store.h"

#define CP_FRAME_TIMEOUT_DEFAULT_MS 30000
#define CP_MAX_CONNS 16384

struct cp_config {
	struct sockaddr_storage listen;
	const char *dir;
	u64 max_block;
	u32 frame_timeout_ms;
};

/* Per-CPU: no shared cache line is written on the data path. */
struct cp_stats {
	u64_stats_t ops[CACHEPEER_OP_MAX + 1];
	u64_stats_t status[CACHEPEER_S_MAX + 1];
	u64_stats_t zc_bytes;
	u64_stats_t copied_bytes;
	u64_stats_t softirq_tx;		/* responses sent by tx_direct() */
	u64_stats_t timeouts;
	u64_stats_t hits;		/* GETs answered OK */
	u64_stats_t misses;		/* GETs answered NOT_FOUND */
	u64_stats_t conns_refused;
	struct u64_stats_sync syncp;
};

/* One cache node per network namespace. */
struct cp_service {
	struct net *net;
	/* Serialises control operations; the genl family has parallel_ops. */
	struct mutex lock;
	enum cachepeer_node_state state;
	char name[CACHEPEER_NAME_MAX + 1];	/* written under both locks */
	struct cp_cluster cluster;
	u64 epoch;			/* the ring's, for responses */
	struct cp_stats __percpu *stats;

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

	spinlock_t conns_lock;		/* conns */
	struct list_head conns;
	atomic_t nconns;
};

struct cp_service *cp_service_get(const struct net *net);
bool cp_service_name_valid(const char *name, size_t len);
int cp_service_set_name(struct cp_service *svc, const char *name);
const char *cp_limits_check(const struct cp_limits *lim);
void cp_service_set_limits(struct cp_service *svc, const struct cp_limits *lim);
int cp_service_start(struct cp_service *svc, const struct cp_config *cfg);
int cp_service_stop(struct cp_service *svc);

void cp_service_count_op(struct cp_service *svc, u8 op);
void cp_service_count_status(struct cp_service *svc, u8 op, u16 status);
void cp_service_count_tx(struct cp_service *svc, u64 bytes, bool zerocopy);
void cp_service_count_timeout(struct cp_service *svc);
void cp_service_count_softirq_tx(struct cp_service *svc);
void cp_service_stats_sum(struct cp_service *svc, struct cp_stats *sum);

int cp_service_init(void);
void cp_service_uninit(void);

#endif /* _CP_SERVICE_H */
