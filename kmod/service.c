// SPDX-License-Identifier: GPL-2.0
/*
 * The node: one per network namespace, its lifecycle (stopped, running),
 * its listener, and the order in which it starts and stops its parts.
 *
 * Kernel sockets hold no active reference on their namespace, so a node
 * cannot keep its namespace alive: everything a node owns is torn down from
 * the pernet exit path, which also runs for every namespace at rmmod.
 */

#include <linux/memcontrol.h>
#include <linux/string.h>
#include <net/inet_sock.h>
#include <net/netns/generic.h>
#include <net/sock.h>

#include "conn.h"
#include "params.h"
#include "ringfile.h"
#include "service.h"

static unsigned int cp_net_id __read_mostly;

/* Apply new limits; a running node evicts down to them before returning. */
void cp_service_set_limits(struct cp_service *svc, const struct cp_limits *lim)
{
	struct cp_limits *cur = &svc->store.limits;

	lockdep_assert_held(&svc->lock);

	WRITE_ONCE(cur->max_bytes, lim->max_bytes);
	WRITE_ONCE(cur->max_blocks, lim->max_blocks);
	WRITE_ONCE(cur->fs_stop, lim->fs_stop);
	WRITE_ONCE(cur->fs_cull, lim->fs_cull);
	WRITE_ONCE(cur->fs_run, lim->fs_run);
	WRITE_ONCE(cur->policy, lim->policy);
	WRITE_ONCE(cur->scrub_rate, lim->scrub_rate);
	if (svc->state == CACHEPEER_NODE_RUNNING)
		cp_store_limits_changed(&svc->store);
}

/* Apply new bounds; every connection is held to them from its next check. */
void cp_service_set_conn_limits(struct cp_service *svc, const struct cp_conn_limits *cl)
{
	struct cp_conn_limits *cur = &svc->climits;

	lockdep_assert_held(&svc->lock);

	WRITE_ONCE(cur->max_conns, cl->max_conns);
	WRITE_ONCE(cur->max_per_source, cl->max_per_source);
	WRITE_ONCE(cur->conn_queue, cl->conn_queue);
	WRITE_ONCE(cur->node_queue, cl->node_queue);
	WRITE_ONCE(cur->conn_pin, cl->conn_pin);
	WRITE_ONCE(cur->idle_timeout_s, cl->idle_timeout_s);
	if (svc->state == CACHEPEER_NODE_RUNNING)
		cp_conn_limits_changed(svc);
}

/*
 * Process context: key was removed from the node's keys (cp_keys_del(),
 * or replaced). After a grace period no HELLO can complete with it; then
 * the connections that use it, or are proving it, are closed.
 */
void cp_service_drop_key(struct cp_service *svc, struct cp_key *key)
{
	synchronize_rcu();
	cp_conn_close_key(svc, key);
	cp_key_put(key);
}

struct cp_service *cp_service_get(const struct net *net)
{
	return net_generic(net, cp_net_id);
}

int cp_service_set_name(struct cp_service *svc, const char *name)
{
	lockdep_assert_held(&svc->lock);

	if (!cp_name_valid(name, strlen(name)))
		return -EINVAL;
	return cp_cluster_rename(&svc->cluster, name);
}

/*
 * A connection the node cannot take is accepted and reset at once, so that
 * the client learns it at its first read rather than after a timeout.
 */
static void refuse(struct cp_service *svc, struct socket *sock, int err)
{
	enum cp_stat why = err == -EUSERS ? CP_STAT_CONNS_REFUSED_SOURCE :
			   err == -ENOMEM ? CP_STAT_CONNS_REFUSED_MEMORY : CP_STAT_CONNS_REFUSED;

	cp_stats_inc(svc->stats, why);
	sock_no_linger(sock->sk);
	sock_release(sock);
}

/* Connections accepted per run: a flood of them must not keep stop waiting. */
#define CP_ACCEPT_BATCH	64

static void accept_work(struct work_struct *work)
{
	struct cp_service *svc = container_of(work, struct cp_service, accept_work);
	struct socket *sock;
	int n, err;

	for (n = 0; n < CP_ACCEPT_BATCH; n++) {
		if (kernel_accept(svc->listener, &sock, SOCK_NONBLOCK))
			break;
		err = cp_conn_create(svc, sock);
		if (err)
			refuse(svc, sock, err);
	}
	if (n == CP_ACCEPT_BATCH)
		queue_work(system_unbound_wq, &svc->accept_work);
}

static void listen_data_ready(struct sock *sk)
{
	struct cp_service *svc;

	/*
	 * Accepted children inherit this callback until cp_conn_create()
	 * replaces it; they must not take sk_callback_lock here, which a
	 * closing listener may hold.
	 */
	if (sk->sk_state != TCP_LISTEN)
		return;
	read_lock_bh(&sk->sk_callback_lock);
	svc = sk->sk_user_data;
	if (svc)
		queue_work(system_unbound_wq, &svc->accept_work);
	read_unlock_bh(&sk->sk_callback_lock);
}

static int listener_open(struct cp_service *svc)
{
	struct sockaddr_storage *ss = &svc->listen;
	int len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					      sizeof(struct sockaddr_in);
	struct socket *sock;
	struct sock *sk;
	int err;

	err = sock_create_kern(svc->net, ss->ss_family, SOCK_STREAM, IPPROTO_TCP, &sock);
	if (err)
		return err;
	sk = sock->sk;
	sock_set_reuseaddr(sk);
	err = kernel_bind(sock, (struct sockaddr *)ss, len);
	if (!err)
		err = kernel_listen(sock, 1024);
	if (err) {
		sock_release(sock);
		return err;
	}
	write_lock_bh(&sk->sk_callback_lock);
	svc->sk_data_ready = sk->sk_data_ready;
	svc->sk_write_space = sk->sk_write_space;
	svc->sk_state_change = sk->sk_state_change;
	sk->sk_user_data = svc;
	sk->sk_data_ready = listen_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);
	svc->listener = sock;
	return 0;
}

static void listener_close(struct cp_service *svc)
{
	struct sock *sk = svc->listener->sk;

	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_user_data = NULL;
	sk->sk_data_ready = svc->sk_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);
	cancel_work_sync(&svc->accept_work);
	/* Connections still in the accept queue are reset with it. */
	sock_release(svc->listener);
	svc->listener = NULL;
}

/*
 * Process context, in the task of whoever starts the node: the cache
 * directory is resolved in its mount namespace and used with its
 * credentials, and its memory cgroup is charged for the connections.
 */
int cp_service_start(struct cp_service *svc, const struct cp_config *cfg)
{
	int err;

	lockdep_assert_held(&svc->lock);

	if (svc->state == CACHEPEER_NODE_RUNNING)
		return -EALREADY;
	if (strscpy(svc->dir, cfg->dir) < 0)
		return -ENAMETOOLONG;
	if (!svc->lat)
		svc->lat = cp_lat_alloc();
	if (!svc->lat)
		return -ENOMEM;
	svc->listen = cfg->listen;
	svc->max_block = cfg->max_block;
	svc->frame_timeout_ms = cfg->frame_timeout_ms;
	err = cp_store_open(&svc->store, svc->dir, svc->stats);
	if (err)
		return err;
	err = cp_ringfile_start(svc);
	if (err) {
		cp_store_close(&svc->store);
		return err;
	}
	svc->memcg = get_mem_cgroup_from_mm(current->mm);
	err = listener_open(svc);
	if (err) {
		mem_cgroup_put(svc->memcg);
		svc->memcg = NULL;
		cp_ringfile_stop(svc);
		cp_store_close(&svc->store);
		return err;
	}
	svc->state = CACHEPEER_NODE_RUNNING;
	cp_cluster_start(&svc->cluster);
	return 0;
}

int cp_service_stop(struct cp_service *svc)
{
	lockdep_assert_held(&svc->lock);

	if (svc->state == CACHEPEER_NODE_STOPPED)
		return -EALREADY;
	cp_cluster_stop(&svc->cluster);
	listener_close(svc);
	/* After the connections: a push still being taken may change the view. */
	cp_conn_close_all(svc);
	cp_ringfile_stop(svc);
	cp_store_close(&svc->store);
	mem_cgroup_put(svc->memcg);
	svc->memcg = NULL;
	svc->state = CACHEPEER_NODE_STOPPED;
	return 0;
}

/*
 * The initial namespace's node takes its name and limits from the module
 * parameters, and starts at load when cache_dir= and listen= say so.
 */
static int apply_params(struct cp_service *svc)
{
	struct cp_params p;
	int err;

	err = cp_params_read(svc->net, &p);
	if (err)
		return err;
	mutex_lock(&svc->lock);
	strscpy(svc->cluster.name, p.name);
	svc->store.limits = p.limits;
	if (p.start)
		err = cp_service_start(svc, &p.cfg);
	mutex_unlock(&svc->lock);
	if (err)
		pr_err("cannot start the node on %s in %s: %d\n", p.listen, p.cfg.dir, err);
	return err;
}

static int __net_init cp_net_init(struct net *net)
{
	struct cp_service *svc = cp_service_get(net);
	int err, i;

	svc->net = net;
	mutex_init(&svc->lock);
	svc->state = CACHEPEER_NODE_STOPPED;
	spin_lock_init(&svc->conns_lock);
	INIT_LIST_HEAD(&svc->conns);
	svc->conns_gen = 1;
	for (i = 0; i < ARRAY_SIZE(svc->sources); i++)
		INIT_HLIST_HEAD(&svc->sources[i]);
	spin_lock_init(&svc->fetches_lock);
	for (i = 0; i < ARRAY_SIZE(svc->fetches); i++)
		INIT_HLIST_HEAD(&svc->fetches[i]);
	INIT_WORK(&svc->accept_work, accept_work);
	cp_store_limits_default(&svc->store.limits);
	cp_conn_limits_default(&svc->climits);
	svc->stats = cp_stats_alloc();
	if (!svc->stats)
		return -ENOMEM;
	cp_keys_init(&svc->keys);
	cp_cluster_init(&svc->cluster, net, svc->stats, &svc->keys);
	cp_ringfile_init(svc);
	if (net_eq(net, &init_net)) {
		err = apply_params(svc);
		if (err) {
			cp_ringfile_exit(svc);
			cp_cluster_exit(&svc->cluster);
			cp_lat_free(svc->lat);
			cp_stats_free(svc->stats);
			return err;
		}
	}
	return 0;
}

/*
 * No netlink request can race with this: a request's socket pins its
 * namespace, so by now no socket of this namespace is left to send one.
 */
static void __net_exit cp_net_exit(struct net *net)
{
	struct cp_service *svc = cp_service_get(net);

	mutex_lock(&svc->lock);
	if (svc->state == CACHEPEER_NODE_RUNNING)
		cp_service_stop(svc);
	mutex_unlock(&svc->lock);
	cp_ringfile_exit(svc);
	cp_cluster_exit(&svc->cluster);
	cp_keys_exit(&svc->keys);
	mutex_destroy(&svc->lock);
	cp_lat_free(svc->lat);
	cp_stats_free(svc->stats);
}

static struct pernet_operations cp_net_ops = {
	.init = cp_net_init,
	.exit = cp_net_exit,
	.id = &cp_net_id,
	.size = sizeof(struct cp_service),
};

int __init cp_service_init(void)
{
	return register_pernet_subsys(&cp_net_ops);
}

void cp_service_uninit(void)
{
	unregister_pernet_subsys(&cp_net_ops);
}
