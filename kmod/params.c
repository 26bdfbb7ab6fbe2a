// SPDX-License-Identifier: GPL-2.0
/*
 * Module parameters: the initial namespace's node, configured at load.
 * Each is range-checked when it is set; cp_params_read() hands the node
 * what they say, and the node applies it. Other namespaces' nodes are
 * configured with cachepeerctl only. (softirq_tx, which applies to every
 * node, is in tx.c beside its one user.)
 */

#include <linux/inet.h>
#include <linux/moduleparam.h>
#include <linux/string.h>

#include "params.h"

static char node_name[CACHEPEER_NAME_MAX + 1];
static char *cache_dir;
static char *listen;
static unsigned long long max_block = CACHEPEER_MAX_BLOCK_DEFAULT;
static unsigned long long max_bytes;
static unsigned long long max_blocks;
static unsigned long long scrub_rate = 1 << 20;
static unsigned int evict = CACHEPEER_EVICT_LRU;
static unsigned int fs_stop = 3, fs_cull = 7, fs_run = 10;

static int node_name_param_set(const char *val, const struct kernel_param *kp)
{
	if (!cp_name_valid(val, strlen(val)))
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

/*
 * Process context, at the initial namespace's creation. Fills p, or fails
 * with -EINVAL when the parameters contradict each other (which fails the
 * load, so that a typo is not a node silently left unstarted).
 */
int cp_params_read(struct net *net, struct cp_params *p)
{
	const char *why;
	int err;

	*p = (struct cp_params) {
		.name = node_name,
		.limits = {
			.max_bytes = max_bytes,
			.max_blocks = max_blocks,
			.fs_stop = min(fs_stop, 100U),
			.fs_cull = min(fs_cull, 100U),
			.fs_run = min(fs_run, 100U),
			.policy = evict,
			.scrub_rate = scrub_rate,
		},
		.cfg = {
			.dir = cache_dir,
			.max_block = max_block,
			.frame_timeout_ms = CP_FRAME_TIMEOUT_DEFAULT_MS,
		},
	};
	why = cp_store_limits_check(&p->limits);
	if (why) {
		pr_err("fs_stop=%u fs_cull=%u fs_run=%u: %s\n", fs_stop, fs_cull, fs_run, why);
		return -EINVAL;
	}
	if (!cache_dir && !listen)
		return 0;
	if (!cache_dir || !listen) {
		pr_err("cache_dir= and listen= must be given together\n");
		return -EINVAL;
	}
	err = parse_listen(net, listen, &p->cfg.listen);
	if (err) {
		pr_err("listen=%s: expected ADDR:PORT or [ADDR6]:PORT\n", listen);
		return err;
	}
	p->start = true;
	p->listen = listen;
	return 0;
}
