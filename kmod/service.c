// SPDX-License-Identifier: GPL-2.0
/*
 * Per-network-namespace node lifecycle.
 *
 * Kernel sockets hold no active reference on their namespace, so a node
 * cannot keep its namespace alive: everything a node owns is torn down from
 * the pernet exit path, which also runs for every namespace at rmmod.
 */

#include <linux/inet.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <net/inet_sock.h>
#include <net/netns/generic.h>
#include <net/sock.h>

#include "conn.h"
#include "service.h"

static unsigned int cp_net_id __read_mostly;

static char node_name[CACHEPEER_NAME_MAX + 1];
static char *cache_dir;
static char *listen;
static unsigned long long max_block = CACHEPEER_MAX_BLOCK_DEFAULT;
static unsigned long long max_bytes;
static unsigned long long max_blocks;
static unsigned long long scrub_rate = 1 << 20;
static unsigned int evict = CACHEPEER_EVICT_LRU;
static unsigned int fs_stop = 3, fs_cull = 7, fs_run = 10;

/* Plain ASCII on purpose: the kernel's isalnum() accepts Latin-1 letters. */
static bool name_char_valid(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool cp_service_name_valid(const char *name, size_t len)
{
	size_t i;

	if (!len || len > CACHEPEER_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (!name_char_valid(name[i]))
			return false;
	}
	return true;
}

static int node_name_param_set(const char *val, const struct kernel_param *kp)
{
	if (!cp_service_name_valid(val, strlen(val)))
		return -EINVAL;
	return param_set_copystring(val, kp);
}

static const struct kernel_param_ops node_name_param_ops = {
	.set = node_name_param_set,
	.get = param_get_string,
};

static struct kparam_string node_name_kps = {
	.maxlen = sizeof(node_name),
	.string = node_name,
};

module_param_cb(node_name, &node_name_param_ops, &node_name_kps, 0444);
MODULE_PARM_DESC(node_name,
		 "Name of the initial namespace's node, 1-63 of [A-Za-z0-9._-]. Default: unset");

module_param(cache_dir, charp, 0444);
MODULE_PARM_DESC(cache_dir,
		 "Cache directory of the initial namespace's node; with listen=, starts it at load. Default: unset");
module_param(listen, charp, 0444);
MODULE_PARM_DESC(listen,
		 "Listen address of the initial namespace's node, ADDR:PORT or [ADDR6]:PORT. Default: unset");

/* Bytes, with an optional K, M, G or T suffix. */
static int size_parse(const char *val, unsigned long long *v)
{
	char *end;

	*v = memparse(val, &end);
	if (end == val || (*end && *end != '\n'))
		return -EINVAL;
	return 0;
}

static int max_block_param_set(const char *val, const struct kernel_param *kp)
{
	unsigned long long v;
	int err = size_parse(val, &v);

	if (err)
		return err;
	if (!v || v > CACHEPEER_MAX_BLOCK_LIMIT)
		return -ERANGE;
	*(unsigned long long *)kp->arg = v;
	return 0;
}

static const struct kernel_param_ops max_block_param_ops = {
	.set = max_block_param_set,
	.get = param_get_ullong,
};

module_param_cb(max_block, &max_block_param_ops, &max_block, 0444);
MODULE_PARM_DESC(max_block,
		 "Largest block the initial namespace's node accepts, 1 byte to 64M (K/M/G suffixes). Default: 4M");

/* Any size at all. */
static int size_param_set(const char *val, const struct kernel_param *kp)
{
	return size_parse(val, kp->arg);
}

static const struct kernel_param_ops size_param_ops = {
	.set = size_param_set,
	.get = param_get_ullong,
};

module_param_cb(max_bytes, &size_param_ops, &max_bytes, 0444);
MODULE_PARM_DESC(max_bytes,
		 "Byte limit of the initial namespace's cache (K/M/G/T suffixes). Default: 0, none");
module_param(max_blocks, ullong, 0444);
MODULE_PARM_DESC(max_blocks, "Block count limit of the initial namespace's cache. Default: 0, none");
module_param_cb(scrub_rate, &size_param_ops, &scrub_rate, 0444);
MODULE_PARM_DESC(scrub_rate,
		 "Bytes per second the initial namespace's scrub patrol reads; 0 turns it off. Default: 1M");

static const char * const evict_names[] = {
	[CACHEPEER_EVICT_LRU] = "lru",
	[CACHEPEER_EVICT_2RANDOM] = "2-random",
	[CACHEPEER_EVICT_NONE] = "none",
};

static int evict_param_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(evict_names, val);

	if (i < 0)
		return i;
	*(unsigned int *)kp->arg = i;
	return 0;
}

static int evict_param_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", evict_names[*(unsigned int *)kp->arg]);
}

static const struct kernel_param_ops evict_param_ops = {
	.set = evict_param_set,
	.get = evict_param_get,
};

module_param_cb(evict, &evict_param_ops, &evict, 0444);
MODULE_PARM_DESC(evict, "Eviction policy of the initial namespace's node: lru, 2-random or none. Default: lru");
module_param(fs_stop, uint, 0444);
MODULE_PARM_DESC(fs_stop, "% free on the cache filesystem below which PUTs are refused. Default: 3");
module_param(fs_cull, uint, 0444);
MODULE_PARM_DESC(fs_cull, "% free below which eviction starts; 0: never. Default: 7");
module_param(fs_run, uint, 0444);
MODULE_PARM_DESC(fs_run, "% free at which eviction stops. Default: 10");

/* Free-space thresholds as cachefilesd has them: stop < cull < run. */
const char *cp_limits_check(const struct cp_limits *lim)
{
	if (lim->fs_stop > 99 || lim->fs_cull > 99 || lim->fs_run > 99)
		return "free-space thresholds are percentages, 0-99";
	if (lim->fs_cull && (lim->fs_stop >= lim->fs_cull || lim->fs_cull >= lim->fs_run))
		return "free-space thresholds must satisfy stop < cull < run";
	if (lim->policy > CACHEPEER_EVICT_MAX)
		return "unknown eviction policy";
	return NULL;
}

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

/* The initial namespace's limits come from the module parameters. */
static int limits_from_params(struct cp_service *svc)
{
	struct cp_limits lim = {
		.max_bytes = max_bytes,
		.max_blocks = max_blocks,
		.fs_stop = min(fs_stop, 100U),
		.fs_cull = min(fs_cull, 100U),
		.fs_run = min(fs_run, 100U),
		.policy = evict,
		.scrub_rate = scrub_rate,
	};
	const char *why = cp_limits_check(&lim);

	if (why) {
		pr_err("fs_stop=%u fs_cull=%u fs_run=%u: %s\n", fs_stop, fs_cull, fs_run, why);
		return -EINVAL;
	}
	svc->store.limits = lim;
	return 0;
}

/* "ADDR:PORT" or "[ADDR6]:PORT" to a socket address. */
static int parse_listen(struct net *net, const char *s, struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':');
	size_t hlen;

	if (!colon || colon == s)
		return -EINVAL;
	hlen = colon - s;
	if (s[0] == '[') {
		if (hlen < 3 || s[hlen - 1] != ']')
			return -EINVAL;
		s++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	return inet_pton_with_scope(net, AF_UNSPEC, host, colon + 1, ss);
}

struct cp_service *cp_service_get(const struct net *net)
{
	return net_generic(net, cp_net_id);
}

int cp_service_set_name(struct cp_service *svc, const char *name)
{
	lockdep_assert_held(&svc->lock);

	if (!cp_service_name_valid(name, strlen(name)))
		return -EINVAL;
	return cp_cluster_rename(svc, name);
}

/* Any context; off is the offset of a u64_stats_t in struct cp_stats. */
static void stats_add(struct cp_service *svc, size_t off, u64 v)
{
	struct cp_stats *s = get_cpu_ptr(svc->stats);
	unsigned long flags;

	flags = u64_stats_update_begin_irqsave(&s->syncp);
	u64_stats_add((u64_stats_t *)((u8 *)s + off), v);
	u64_stats_update_end_irqrestore(&s->syncp, flags);
	put_cpu_ptr(svc->stats);
}

void cp_service_count_op(struct cp_service *svc, u8 op)
{
	stats_add(svc, offsetof(struct cp_stats, ops[min_t(u8, op, CACHEPEER_OP_MAX)]), 1);
}

void cp_service_count_status(struct cp_service *svc, u8 op, u16 status)
{
	stats_add(svc, offsetof(struct cp_stats, status[min_t(u16, status, CACHEPEER_S_MAX)]), 1);
	if (op == CACHEPEER_OP_GET && status == CACHEPEER_S_OK)
		stats_add(svc, offsetof(struct cp_stats, hits), 1);
	else if (op == CACHEPEER_OP_GET && status == CACHEPEER_S_NOT_FOUND)
		stats_add(svc, offsetof(struct cp_stats, misses), 1);
}

/* Data bytes queued to TCP: spliced from the page cache, or copied by TCP. */
void cp_service_count_tx(struct cp_service *svc, u64 bytes, bool zerocopy)
{
	if (bytes)
		stats_add(svc, zerocopy ? offsetof(struct cp_stats, zc_bytes) :
				offsetof(struct cp_stats, copied_bytes), bytes);
}

void cp_service_count_softirq_tx(struct cp_service *svc)
{
	stats_add(svc, offsetof(struct cp_stats, softirq_tx), 1);
}

void cp_service_count_timeout(struct cp_service *svc)
{
	stats_add(svc, offsetof(struct cp_stats, timeouts), 1);
}

void cp_service_stats_sum(struct cp_service *svc, struct cp_stats *sum)
{
	int cpu, i;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		const struct cp_stats *s = per_cpu_ptr(svc->stats, cpu);
		struct cp_stats snap;
		unsigned int seq;

		do {
			seq = u64_stats_fetch_begin(&s->syncp);
			memcpy(&snap, s, sizeof(snap));
		} while (u64_stats_fetch_retry(&s->syncp, seq));
		for (i = 0; i <= CACHEPEER_OP_MAX; i++)
			u64_stats_add(&sum->ops[i], u64_stats_read(&snap.ops[i]));
		for (i = 0; i <= CACHEPEER_S_MAX; i++)
			u64_stats_add(&sum->status[i], u64_stats_read(&snap.status[i]));
		u64_stats_add(&sum->zc_bytes, u64_stats_read(&snap.zc_bytes));
		u64_stats_add(&sum->copied_bytes, u64_stats_read(&snap.copied_bytes));
		u64_stats_add(&sum->softirq_tx, u64_stats_read(&snap.softirq_tx));
		u64_stats_add(&sum->timeouts, u64_stats_read(&snap.timeouts));
		u64_stats_add(&sum->hits, u64_stats_read(&snap.hits));
		u64_stats_add(&sum->misses, u64_stats_read(&snap.misses));
		u64_stats_add(&sum->conns_refused, u64_stats_read(&snap.conns_refused));
	}
}

static void accept_work(struct work_struct *work)
{
	struct cp_service *svc = container_of(work, struct cp_service, accept_work);
	struct socket *sock;

	while (!kernel_accept(svc->listener, &sock, SOCK_NONBLOCK)) {
		if (atomic_read(&svc->nconns) >= CP_MAX_CONNS || cp_conn_create(svc, sock)) {
			stats_add(svc, offsetof(struct cp_stats, conns_refused), 1);
			sock_release(sock);
		}
	}
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
 * directory is resolved in its mount namespace and used with its credentials.
 */
int cp_service_start(struct cp_service *svc, const struct cp_config *cfg)
{
	int err;

	lockdep_assert_held(&svc->lock);

	if (svc->state == CACHEPEER_NODE_RUNNING)
		return -EALREADY;
	if (strscpy(svc->dir, cfg->dir) < 0)
		return -ENAMETOOLONG;
	svc->listen = cfg->listen;
	svc->max_block = cfg->max_block;
	svc->frame_timeout_ms = cfg->frame_timeout_ms;
	err = cp_store_open(&svc->store, svc->dir);
	if (err)
		return err;
	err = listener_open(svc);
	if (err) {
		cp_store_close(&svc->store);
		return err;
	}
	svc->state = CACHEPEER_NODE_RUNNING;
	cp_cluster_start(svc);
	return 0;
}

int cp_service_stop(struct cp_service *svc)
{
	lockdep_assert_held(&svc->lock);

	if (svc->state == CACHEPEER_NODE_STOPPED)
		return -EALREADY;
	cp_cluster_stop(svc);
	listener_close(svc);
	cp_conn_close_all(svc);
	cp_store_close(&svc->store);
	svc->state = CACHEPEER_NODE_STOPPED;
	return 0;
}

/* The initial namespace's node starts at load when cache_dir= and listen= say so. */
static int start_from_params(struct cp_service *svc)
{
	struct cp_config cfg = {
		.dir = cache_dir,
		.max_block = max_block,
		.frame_timeout_ms = CP_FRAME_TIMEOUT_DEFAULT_MS,
	};
	int err;

	if (!cache_dir && !listen)
		return 0;
	if (!cache_dir || !listen) {
		pr_err("cache_dir= and listen= must be given together\n");
		return -EINVAL;
	}
	err = parse_listen(svc->net, listen, &cfg.listen);
	if (err) {
		pr_err("listen=%s: expected ADDR:PORT or [ADDR6]:PORT\n", listen);
		return err;
	}
	mutex_lock(&svc->lock);
	err = cp_service_start(svc, &cfg);
	mutex_unlock(&svc->lock);
	if (err)
		pr_err("cannot start the node on %s in %s: %d\n", listen, cache_dir, err);
	return err;
}

static int __net_init cp_net_init(struct net *net)
{
	struct cp_service *svc = cp_service_get(net);

	svc->net = net;
	mutex_init(&svc->lock);
	svc->state = CACHEPEER_NODE_STOPPED;
	spin_lock_init(&svc->conns_lock);
	INIT_LIST_HEAD(&svc->conns);
	INIT_WORK(&svc->accept_work, accept_work);
	cp_cluster_init(svc);
	cp_store_limits_default(&svc->store.limits);
	svc->stats = alloc_percpu(struct cp_stats);
	if (!svc->stats)
		return -ENOMEM;
	if (net_eq(net, &init_net)) {
		int err;

		strscpy(svc->name, node_name);
		err = limits_from_params(svc) ?: start_from_params(svc);
		if (err) {
			free_percpu(svc->stats);
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
	cp_cluster_exit(svc);
	mutex_destroy(&svc->lock);
	free_percpu(svc->stats);
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
