// SPDX-License-Identifier: GPL-2.0
/*
 * The "cachepeer" generic netlink family: the control plane of every node.
 *
 * The family is strict (resv_start_op 0): unknown attributes, bad lengths and
 * a non-zero reserved header field are rejected before any doit runs. Every
 * op has a policy, so an attribute an op does not take is an error rather
 * than silently ignored. Mutating ops carry
 * GENL_UNS_ADMIN_PERM: CAP_NET_ADMIN over the target namespace, so a
 * container's root manages its own node and nobody else's.
 */

#include <linux/in.h>
#include <linux/in6.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include <linux/cachepeer.h>

#include "conn.h"
#include "netlink.h"
#include "service.h"

static struct genl_family cp_genl_family;

static struct cp_service *info_service(const struct genl_info *info)
{
	return cp_service_get(genl_info_net(info));
}

static int put_cluster_stats(struct sk_buff *msg, struct cp_cluster *cl)
{
	return nla_put_uint(msg, CACHEPEER_A_STATS_FORWARDS, atomic64_read(&cl->forwards)) ?:
	       nla_put_uint(msg, CACHEPEER_A_STATS_REDIRECTS, atomic64_read(&cl->redirects)) ?:
	       nla_put_uint(msg, CACHEPEER_A_STATS_HANDOFFS, atomic64_read(&cl->handoffs)) ?:
	       nla_put_uint(msg, CACHEPEER_A_STATS_PEER_ERRORS, atomic64_read(&cl->peer_errors)) ?:
	       nla_put_uint(msg, CACHEPEER_A_STATS_RING_ACCEPTED,
			    atomic64_read(&cl->ring_accepted)) ?:
	       nla_put_uint(msg, CACHEPEER_A_STATS_RING_REFUSED,
			    atomic64_read(&cl->ring_refused)) ?:
	       nla_put_uint(msg, CACHEPEER_A_STATS_RING_SENT, atomic64_read(&cl->ring_sent));
}

/* What the store knows: eviction, index, rebuild scan and scrub. */
static int put_store_stats(struct sk_buff *msg, struct cp_service *svc)
{
	struct cp_store *st = &svc->store;
	struct cp_scrub_stats sc;
	struct nlattr *nest;

	if (nla_put_uint(msg, CACHEPEER_A_STATS_INFLIGHT, cp_conn_inflight(svc)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_EVICTIONS, atomic64_read(&st->evictions)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_FOREIGN, atomic64_read(&st->foreign)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_OPEN_FILES, atomic_long_read(&st->open)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_INDEX_MEM, cp_store_index_mem(st)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_SCAN_DONE, READ_ONCE(st->scan_done)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_SCAN_FOUND, READ_ONCE(st->scan_found)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_SCAN_MS,
			 div_u64(READ_ONCE(st->scan_ns), NSEC_PER_MSEC)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_NO_SPACE, READ_ONCE(st->no_space)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_CULLING, READ_ONCE(st->culling)))
		return -EMSGSIZE;
	if (put_cluster_stats(msg, &svc->cluster))
		return -EMSGSIZE;
	cp_store_scrub_stats(st, &sc);
	nest = nla_nest_start(msg, CACHEPEER_A_STATS_SCRUB);
	if (!nest ||
	    nla_put_uint(msg, CACHEPEER_A_SCRUB_PASSES, sc.passes) ||
	    nla_put_uint(msg, CACHEPEER_A_SCRUB_BLOCKS, sc.blocks) ||
	    nla_put_uint(msg, CACHEPEER_A_SCRUB_BYTES, sc.bytes) ||
	    nla_put_uint(msg, CACHEPEER_A_SCRUB_CORRUPT, sc.corrupt) ||
	    nla_put_uint(msg, CACHEPEER_A_SCRUB_PASS_BLOCKS, sc.pass_blocks) ||
	    nla_put_uint(msg, CACHEPEER_A_SCRUB_RUNNING, sc.running))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int put_stats(struct sk_buff *msg, struct cp_service *svc)
{
	struct nlattr *stats, *nest;
	struct cp_stats sum;
	int i;

	cp_service_stats_sum(svc, &sum);
	stats = nla_nest_start(msg, CACHEPEER_A_NODE_STATS);
	if (!stats)
		return -EMSGSIZE;
	if (nla_put_uint(msg, CACHEPEER_A_STATS_CONNS, atomic_read(&svc->nconns)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_CONNS_REFUSED,
			 u64_stats_read(&sum.conns_refused)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_TIMEOUTS, u64_stats_read(&sum.timeouts)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_HITS, u64_stats_read(&sum.hits)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_MISSES, u64_stats_read(&sum.misses)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_BLOCKS, atomic_long_read(&svc->store.blocks)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_BYTES, atomic64_read(&svc->store.bytes)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_CORRUPT, atomic64_read(&svc->store.corrupt)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_ZC_BYTES, u64_stats_read(&sum.zc_bytes)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_COPIED_BYTES, u64_stats_read(&sum.copied_bytes)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_SOFTIRQ_TX, u64_stats_read(&sum.softirq_tx)))
		return -EMSGSIZE;
	nest = nla_nest_start(msg, CACHEPEER_A_STATS_OPS);
	if (!nest)
		return -EMSGSIZE;
	for (i = CACHEPEER_OP_GET; i <= CACHEPEER_OP_MAX; i++)
		if (nla_put_uint(msg, i, u64_stats_read(&sum.ops[i])))
			return -EMSGSIZE;
	nla_nest_end(msg, nest);
	nest = nla_nest_start(msg, CACHEPEER_A_STATS_STATUS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i <= CACHEPEER_S_MAX; i++)
		if (nla_put_uint(msg, i + 1, u64_stats_read(&sum.status[i])))
			return -EMSGSIZE;
	nla_nest_end(msg, nest);
	if (put_store_stats(msg, svc))
		return -EMSGSIZE;
	nla_nest_end(msg, stats);
	return 0;
}

static int put_limits(struct sk_buff *msg, const struct cp_limits *lim)
{
	return nla_put_uint(msg, CACHEPEER_A_NODE_LIMIT_BYTES, READ_ONCE(lim->max_bytes)) ?:
	       nla_put_uint(msg, CACHEPEER_A_NODE_LIMIT_BLOCKS, READ_ONCE(lim->max_blocks)) ?:
	       nla_put_u8(msg, CACHEPEER_A_NODE_FS_STOP, READ_ONCE(lim->fs_stop)) ?:
	       nla_put_u8(msg, CACHEPEER_A_NODE_FS_CULL, READ_ONCE(lim->fs_cull)) ?:
	       nla_put_u8(msg, CACHEPEER_A_NODE_FS_RUN, READ_ONCE(lim->fs_run)) ?:
	       nla_put_u8(msg, CACHEPEER_A_NODE_EVICT, READ_ONCE(lim->policy)) ?:
	       nla_put_uint(msg, CACHEPEER_A_NODE_SCRUB_RATE, READ_ONCE(lim->scrub_rate));
}

static int put_running(struct sk_buff *msg, struct cp_service *svc)
{
	const struct sockaddr_storage *ss = &svc->listen;
	int ret;

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		ret = nla_put_in6_addr(msg, CACHEPEER_A_NODE_LISTEN_ADDR, &sin6->sin6_addr) ?:
		      nla_put_u16(msg, CACHEPEER_A_NODE_LISTEN_PORT, ntohs(sin6->sin6_port));
	} else {
		const struct sockaddr_in *sin = (const void *)ss;

		ret = nla_put_in_addr(msg, CACHEPEER_A_NODE_LISTEN_ADDR, sin->sin_addr.s_addr) ?:
		      nla_put_u16(msg, CACHEPEER_A_NODE_LISTEN_PORT, ntohs(sin->sin_port));
	}
	return ret ?:
	       nla_put_string(msg, CACHEPEER_A_NODE_DIR, svc->dir) ?:
	       nla_put_uint(msg, CACHEPEER_A_NODE_MAX_BLOCK, svc->max_block) ?:
	       nla_put_u32(msg, CACHEPEER_A_NODE_FRAME_TIMEOUT, svc->frame_timeout_ms) ?:
	       nla_put_uint(msg, CACHEPEER_A_NODE_EPOCH, READ_ONCE(svc->epoch)) ?:
	       put_stats(msg, svc);
}

static int cp_nl_node_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_service *svc = info_service(info);
	struct sk_buff *msg;
	void *hdr;
	int ret;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	hdr = genlmsg_iput(msg, info);
	if (!hdr) {
		ret = -EMSGSIZE;
		goto err_free;
	}

	mutex_lock(&svc->lock);
	ret = nla_put_string(msg, CACHEPEER_A_NODE_VERSION, CACHEPEER_VERSION) ?:
	      nla_put_u32(msg, CACHEPEER_A_NODE_STATE, svc->state) ?:
	      nla_put_string(msg, CACHEPEER_A_NODE_NAME, svc->name) ?:
	      put_limits(msg, &svc->store.limits);
	if (!ret && svc->state == CACHEPEER_NODE_RUNNING)
		ret = put_running(msg, svc);
	mutex_unlock(&svc->lock);
	if (ret)
		goto err_free;

	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return ret;
}

/* Limits from the request, over the node's current ones. */
static bool limits_from_attrs(struct nlattr **tb, struct cp_limits *lim)
{
	bool any = false;

	if (tb[CACHEPEER_A_NODE_LIMIT_BYTES]) {
		lim->max_bytes = nla_get_uint(tb[CACHEPEER_A_NODE_LIMIT_BYTES]);
		any = true;
	}
	if (tb[CACHEPEER_A_NODE_LIMIT_BLOCKS]) {
		lim->max_blocks = nla_get_uint(tb[CACHEPEER_A_NODE_LIMIT_BLOCKS]);
		any = true;
	}
	if (tb[CACHEPEER_A_NODE_FS_STOP]) {
		lim->fs_stop = nla_get_u8(tb[CACHEPEER_A_NODE_FS_STOP]);
		any = true;
	}
	if (tb[CACHEPEER_A_NODE_FS_CULL]) {
		lim->fs_cull = nla_get_u8(tb[CACHEPEER_A_NODE_FS_CULL]);
		any = true;
	}
	if (tb[CACHEPEER_A_NODE_FS_RUN]) {
		lim->fs_run = nla_get_u8(tb[CACHEPEER_A_NODE_FS_RUN]);
		any = true;
	}
	if (tb[CACHEPEER_A_NODE_EVICT]) {
		lim->policy = nla_get_u8(tb[CACHEPEER_A_NODE_EVICT]);
		any = true;
	}
	if (tb[CACHEPEER_A_NODE_SCRUB_RATE]) {
		lim->scrub_rate = nla_get_uint(tb[CACHEPEER_A_NODE_SCRUB_RATE]);
		any = true;
	}
	return any;
}

static int cp_nl_node_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_service *svc = info_service(info);
	struct nlattr **tb = info->attrs;
	const char *name = NULL, *why;
	struct cp_limits lim;
	bool limits, cluster;
	int ret = 0;

	if (tb[CACHEPEER_A_NODE_NAME]) {
		name = nla_data(tb[CACHEPEER_A_NODE_NAME]);
		if (!cp_service_name_valid(name, strlen(name))) {
			NL_SET_ERR_MSG_ATTR(info->extack, tb[CACHEPEER_A_NODE_NAME],
					    "name must be 1-63 bytes of [A-Za-z0-9._-]");
			return -EINVAL;
		}
	}

	mutex_lock(&svc->lock);
	lim = svc->store.limits;
	limits = limits_from_attrs(tb, &lim);
	cluster = tb[CACHEPEER_A_NODE_CLUSTER_KEY] || tb[CACHEPEER_A_NODE_MISS] ||
		  tb[CACHEPEER_A_NODE_HANDOFF];
	if (!name && !limits && !cluster) {
		GENL_SET_ERR_MSG(info, "nothing to set: give a name, a limit or a cluster setting");
		ret = -EINVAL;
		goto out;
	}
	why = cp_limits_check(&lim);
	if (why) {
		NL_SET_ERR_MSG_FMT(info->extack, "%s", why);
		ret = -EINVAL;
		goto out;
	}
	if (name) {
		ret = cp_service_set_name(svc, name);
		if (ret == -EBUSY)
			GENL_SET_ERR_MSG(info, "leave the ring before renaming the node");
	}
	if (!ret && tb[CACHEPEER_A_NODE_CLUSTER_KEY]) {
		ret = cp_cluster_set_key(svc, nla_data(tb[CACHEPEER_A_NODE_CLUSTER_KEY]),
					 nla_len(tb[CACHEPEER_A_NODE_CLUSTER_KEY]));
		if (ret)
			GENL_SET_ERR_MSG(info, "cannot set up hmac(sha256) with this key");
	}
	if (!ret && tb[CACHEPEER_A_NODE_MISS])
		WRITE_ONCE(svc->cluster.miss, nla_get_u8(tb[CACHEPEER_A_NODE_MISS]));
	if (!ret && tb[CACHEPEER_A_NODE_HANDOFF])
		WRITE_ONCE(svc->cluster.handoff_s, nla_get_u32(tb[CACHEPEER_A_NODE_HANDOFF]));
	if (!ret && limits)
		cp_service_set_limits(svc, &lim);
out:
	mutex_unlock(&svc->lock);
	return ret;
}

static int put_addr(struct sk_buff *msg, int addr_type, int port_type, const void *ss)
{
	const struct sockaddr_in6 *sin6 = ss;
	const struct sockaddr_in *sin = ss;

	if (sin->sin_family == AF_INET6)
		return nla_put_in6_addr(msg, addr_type, &sin6->sin6_addr) ?:
		       nla_put_u16(msg, port_type, ntohs(sin6->sin6_port));
	if (sin->sin_family == AF_INET)
		return nla_put_in_addr(msg, addr_type, sin->sin_addr.s_addr) ?:
		       nla_put_u16(msg, port_type, ntohs(sin->sin_port));
	return 0;
}

static int put_member(struct sk_buff *msg, const struct cp_member *m)
{
	struct nlattr *nest = nla_nest_start(msg, CACHEPEER_A_NODE_MEMBER);

	if (!nest ||
	    nla_put_string(msg, CACHEPEER_A_MEMBER_NAME, m->name) ||
	    put_addr(msg, CACHEPEER_A_MEMBER_ADDR, CACHEPEER_A_MEMBER_PORT, &m->addr) ||
	    nla_put_u32(msg, CACHEPEER_A_MEMBER_WEIGHT, m->weight) ||
	    nla_put_uint(msg, CACHEPEER_A_MEMBER_POINTS, m->points))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

/* What put_member() adds. */
static size_t member_size(const struct cp_member *m)
{
	return nla_total_size(0) + nla_total_size(strlen(m->name) + 1) +
	       nla_total_size(m->addr.sa.sa_family == AF_INET6 ? 16 : 4) +
	       nla_total_size(sizeof(u16)) + nla_total_size(sizeof(u32)) +
	       nla_total_size_64bit(sizeof(u64));
}

static int cp_nl_ring_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_service *svc = info_service(info);
	struct cp_cluster *cl = &svc->cluster;
	const struct cp_ring *r;
	struct sk_buff *msg;
	int ret = -EMSGSIZE;
	size_t size;
	u32 i, n;
	void *hdr;

	mutex_lock(&cl->lock);
	r = rcu_dereference_protected(cl->ring, lockdep_is_held(&cl->lock));
	n = r ? r->nmembers : 0;
	/*
	 * Sized exactly: a reply bigger than the reader's receive buffer is
	 * dropped, and a whole ring of long names fits in 128 KiB only so.
	 */
	size = nla_total_size_64bit(8) * 3 + nla_total_size(1) * 2 + nla_total_size(4);
	for (i = 0; i < n; i++)
		size += member_size(&r->members[i]);
	msg = genlmsg_new(size, GFP_KERNEL);
	if (!msg) {
		mutex_unlock(&cl->lock);
		return -ENOMEM;
	}
	hdr = genlmsg_iput(msg, info);
	if (!hdr ||
	    nla_put_uint(msg, CACHEPEER_A_NODE_EPOCH, r ? r->epoch : 0) ||
	    nla_put_u8(msg, CACHEPEER_A_NODE_MISS, READ_ONCE(cl->miss)) ||
	    nla_put_u32(msg, CACHEPEER_A_NODE_HANDOFF, READ_ONCE(cl->handoff_s)) ||
	    nla_put_u8(msg, CACHEPEER_A_NODE_KEY_SET, !!cl->hmac) ||
	    nla_put_uint(msg, CACHEPEER_A_NODE_RING_MEM, r ? r->mem : 0) ||
	    nla_put_uint(msg, CACHEPEER_A_NODE_RING_BUILD_NS, r ? r->build_ns : 0))
		goto err_unlock;
	for (i = 0; i < n; i++)
		if (put_member(msg, &r->members[i]))
			goto err_unlock;
	mutex_unlock(&cl->lock);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_unlock:
	mutex_unlock(&cl->lock);
	nlmsg_free(msg);
	return ret;
}

static const struct nla_policy cp_member_policy[CACHEPEER_A_MEMBER_WEIGHT + 1] = {
	[CACHEPEER_A_MEMBER_NAME] = { .type = NLA_NUL_STRING, .len = CACHEPEER_NAME_MAX },
	[CACHEPEER_A_MEMBER_ADDR] = NLA_POLICY_RANGE(NLA_BINARY, sizeof(struct in_addr),
						     sizeof(struct in6_addr)),
	[CACHEPEER_A_MEMBER_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[CACHEPEER_A_MEMBER_WEIGHT] = NLA_POLICY_MAX(NLA_U32, CACHEPEER_WEIGHT_MAX),
};

/* One member from its nest. With only_weight, _NAME and _WEIGHT alone. */
static int member_from_attr(const struct nlattr *nest, struct cp_member *m, bool only_weight,
			    struct netlink_ext_ack *extack)
{
	struct nlattr *tb[CACHEPEER_A_MEMBER_WEIGHT + 1];
	const struct nlattr *a;
	const char *why;
	int ret;

	ret = nla_parse_nested(tb, CACHEPEER_A_MEMBER_WEIGHT, nest, cp_member_policy, extack);
	if (ret)
		return ret;
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, CACHEPEER_A_MEMBER_NAME))
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	nla_strscpy(m->name, tb[CACHEPEER_A_MEMBER_NAME], sizeof(m->name));
	m->weight = CACHEPEER_WEIGHT_DEFAULT;
	if (tb[CACHEPEER_A_MEMBER_WEIGHT])
		m->weight = nla_get_u32(tb[CACHEPEER_A_MEMBER_WEIGHT]);
	if (only_weight) {
		if (NL_REQ_ATTR_CHECK(extack, nest, tb, CACHEPEER_A_MEMBER_WEIGHT))
			return -EINVAL;
		if (tb[CACHEPEER_A_MEMBER_ADDR] || tb[CACHEPEER_A_MEMBER_PORT]) {
			NL_SET_ERR_MSG_ATTR(extack, nest,
					    "a weight change takes a name and a weight only");
			return -EINVAL;
		}
		return 0;
	}
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, CACHEPEER_A_MEMBER_ADDR) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, CACHEPEER_A_MEMBER_PORT))
		return -EINVAL;
	a = tb[CACHEPEER_A_MEMBER_ADDR];
	if (nla_len(a) == sizeof(struct in_addr)) {
		m->addr.v4.sin_family = AF_INET;
		m->addr.v4.sin_addr.s_addr = nla_get_in_addr(a);
		m->addr.v4.sin_port = htons(nla_get_u16(tb[CACHEPEER_A_MEMBER_PORT]));
	} else if (nla_len(a) == sizeof(struct in6_addr)) {
		m->addr.v6.sin6_family = AF_INET6;
		m->addr.v6.sin6_addr = nla_get_in6_addr(a);
		m->addr.v6.sin6_port = htons(nla_get_u16(tb[CACHEPEER_A_MEMBER_PORT]));
	} else {
		NL_SET_ERR_MSG_ATTR(extack, a,
				    "member address must be 4 (IPv4) or 16 (IPv6) bytes");
		return -EINVAL;
	}
	why = cp_member_check(m);
	if (why) {
		NL_SET_ERR_MSG_ATTR_FMT(extack, nest, "%s", why);
		return -EINVAL;
	}
	return 0;
}

static int ring_edit(struct genl_info *info, enum cp_ring_edit op, const struct cp_member *m,
		     u32 n, u64 base_epoch)
{
	struct cp_service *svc = info_service(info);
	const char *why;
	int ret;

	mutex_lock(&svc->lock);
	ret = cp_cluster_edit(svc, op, m, n, base_epoch, &why);
	mutex_unlock(&svc->lock);
	if (why)
		NL_SET_ERR_MSG_FMT(info->extack, "%s", why);
	return ret;
}

static int cp_nl_ring_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **tb = info->attrs;
	const struct nlattr *a;
	struct cp_member *m;
	u64 base = 0;
	u32 n = 0;
	int rem, ret;

	m = kvcalloc(CACHEPEER_RING_MEMBERS_MAX, sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	nla_for_each_attr_type(a, CACHEPEER_A_NODE_MEMBER, genlmsg_data(info->genlhdr),
			       genlmsg_len(info->genlhdr), rem) {
		if (n == CACHEPEER_RING_MEMBERS_MAX) {
			NL_SET_ERR_MSG_ATTR(info->extack, a, "too many ring members");
			ret = -E2BIG;
			goto out;
		}
		ret = member_from_attr(a, &m[n++], false, info->extack);
		if (ret)
			goto out;
	}
	if (tb[CACHEPEER_A_NODE_BASE_EPOCH])
		base = nla_get_uint(tb[CACHEPEER_A_NODE_BASE_EPOCH]);
	ret = ring_edit(info, CP_RING_SET, m, n, base);
out:
	kvfree(m);
	return ret;
}

static int ring_edit_one(struct genl_info *info, enum cp_ring_edit op)
{
	struct cp_member m;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, CACHEPEER_A_NODE_MEMBER))
		return -EINVAL;
	ret = member_from_attr(info->attrs[CACHEPEER_A_NODE_MEMBER], &m, op == CP_RING_WEIGHT,
			       info->extack);
	return ret ?: ring_edit(info, op, &m, 1, 0);
}

static int cp_nl_ring_add_doit(struct sk_buff *skb, struct genl_info *info)
{
	return ring_edit_one(info, CP_RING_ADD);
}

static int cp_nl_ring_weight_doit(struct sk_buff *skb, struct genl_info *info)
{
	return ring_edit_one(info, CP_RING_WEIGHT);
}

static int cp_nl_ring_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_member m = { };

	if (GENL_REQ_ATTR_CHECK(info, CACHEPEER_A_NODE_NAME))
		return -EINVAL;
	nla_strscpy(m.name, info->attrs[CACHEPEER_A_NODE_NAME], sizeof(m.name));
	return ring_edit(info, CP_RING_DEL, &m, 1, 0);
}

/* ns for count lookups of hashes spread over the circle from hash. */
static u64 time_lookups(const struct cp_ring *r, u64 hash, u32 count)
{
	u64 start = ktime_get_ns();
	u32 i;

	for (i = 0; i < count; i++) {
		/* Out of line in ring.c, so not optimised away. */
		cp_ring_owner(r, hash);
		hash += 0x9e3779b97f4a7c15ULL;	/* 2^64 / golden ratio */
		if (!(i & 0xffff))
			cond_resched();
	}
	return ktime_get_ns() - start;
}

static int cp_nl_ring_lookup_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_service *svc = info_service(info);
	struct cp_cluster *cl = &svc->cluster;
	const struct nlattr *key, *count;
	const struct cp_ring *r;
	struct sk_buff *msg;
	void *hdr;
	u64 hash;
	int o, ret;

	if (GENL_REQ_ATTR_CHECK(info, CACHEPEER_A_NODE_KEY_HASH_OF))
		return -EINVAL;
	key = info->attrs[CACHEPEER_A_NODE_KEY_HASH_OF];
	count = info->attrs[CACHEPEER_A_NODE_LOOKUP_COUNT];
	/* Timing a million lookups holds the ring's lock: not for everyone. */
	if (count && !netlink_ns_capable(skb, genl_info_net(info)->user_ns, CAP_NET_ADMIN)) {
		GENL_SET_ERR_MSG(info, "a lookup benchmark needs CAP_NET_ADMIN");
		return -EPERM;
	}
	hash = cp_ring_key_hash(nla_data(key), nla_len(key));
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_iput(msg, info);
	mutex_lock(&cl->lock);
	r = rcu_dereference_protected(cl->ring, lockdep_is_held(&cl->lock));
	o = r ? cp_ring_owner(r, hash) : -1;
	ret = -EMSGSIZE;
	if (hdr &&
	    !nla_put_u64_64bit(msg, CACHEPEER_A_NODE_KEY_HASH, hash, CACHEPEER_A_NODE_UNSPEC) &&
	    (o < 0 || !put_member(msg, &r->members[o])))
		ret = 0;
	if (!ret && r && count)
		ret = nla_put_uint(msg, CACHEPEER_A_NODE_LOOKUP_NS,
				   time_lookups(r, hash, nla_get_u32(count)));
	mutex_unlock(&cl->lock);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int cp_nl_scrub_start_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_service *svc = info_service(info);
	int ret = 0;

	mutex_lock(&svc->lock);
	if (svc->state == CACHEPEER_NODE_RUNNING)
		cp_store_scrub_start(&svc->store);
	else
		ret = -ENOTCONN;
	mutex_unlock(&svc->lock);
	if (ret)
		GENL_SET_ERR_MSG(info, "node is not running");
	return ret;
}

struct conn_dump {
	struct sk_buff *skb;
	struct netlink_callback *cb;
};

static int put_conn(const struct cp_conn_info *ci, void *arg)
{
	struct conn_dump *cd = arg;
	struct sk_buff *skb = cd->skb;
	struct nlattr *nest;
	void *hdr;
	int ret;

	hdr = genlmsg_put(skb, NETLINK_CB(cd->cb->skb).portid, cd->cb->nlh->nlmsg_seq,
			  &cp_genl_family, NLM_F_MULTI, CACHEPEER_CMD_CONN_GET);
	if (!hdr)
		return -EMSGSIZE;
	nest = nla_nest_start(skb, CACHEPEER_A_NODE_CONN);
	if (!nest)
		goto cancel;
	if (ci->peer.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)&ci->peer;

		ret = nla_put_in6_addr(skb, CACHEPEER_A_CONN_ADDR, &sin6->sin6_addr) ?:
		      nla_put_u16(skb, CACHEPEER_A_CONN_PORT, ntohs(sin6->sin6_port));
	} else if (ci->peer.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&ci->peer;

		ret = nla_put_in_addr(skb, CACHEPEER_A_CONN_ADDR, sin->sin_addr.s_addr) ?:
		      nla_put_u16(skb, CACHEPEER_A_CONN_PORT, ntohs(sin->sin_port));
	} else {
		ret = 0;
	}
	if (ret ||
	    nla_put_uint(skb, CACHEPEER_A_CONN_INFLIGHT, ci->inflight) ||
	    nla_put_uint(skb, CACHEPEER_A_CONN_RX_BYTES, ci->rx_bytes) ||
	    nla_put_uint(skb, CACHEPEER_A_CONN_TX_BYTES, ci->tx_bytes) ||
	    nla_put_uint(skb, CACHEPEER_A_CONN_AGE_MS, ci->age_ms) ||
	    nla_put_u32(skb, CACHEPEER_A_CONN_CPU, ci->cpu))
		goto cancel;
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	return 0;

cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/* cb->args[0]: connections already reported. The list may change between
 * parts of a dump; a connection can then be missed or shown twice.
 */
static int cp_nl_conn_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct cp_service *svc = cp_service_get(sock_net(skb->sk));
	struct conn_dump cd = { .skb = skb, .cb = cb };

	cb->args[0] += cp_conn_for_each(svc, cb->args[0], put_conn, &cd);
	return skb->len;
}

static int cp_nl_node_start_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_service *svc = info_service(info);
	struct cp_config cfg = {
		.max_block = CACHEPEER_MAX_BLOCK_DEFAULT,
		.frame_timeout_ms = CP_FRAME_TIMEOUT_DEFAULT_MS,
	};
	struct nlattr **tb = info->attrs;
	__be16 port;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, CACHEPEER_A_NODE_LISTEN_ADDR) ||
	    GENL_REQ_ATTR_CHECK(info, CACHEPEER_A_NODE_LISTEN_PORT) ||
	    GENL_REQ_ATTR_CHECK(info, CACHEPEER_A_NODE_DIR))
		return -EINVAL;

	port = htons(nla_get_u16(tb[CACHEPEER_A_NODE_LISTEN_PORT]));
	if (nla_len(tb[CACHEPEER_A_NODE_LISTEN_ADDR]) == sizeof(struct in_addr)) {
		struct sockaddr_in *sin = (void *)&cfg.listen;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = nla_get_in_addr(tb[CACHEPEER_A_NODE_LISTEN_ADDR]);
		sin->sin_port = port;
	} else if (nla_len(tb[CACHEPEER_A_NODE_LISTEN_ADDR]) == sizeof(struct in6_addr)) {
		struct sockaddr_in6 *sin6 = (void *)&cfg.listen;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = nla_get_in6_addr(tb[CACHEPEER_A_NODE_LISTEN_ADDR]);
		sin6->sin6_port = port;
	} else {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[CACHEPEER_A_NODE_LISTEN_ADDR],
				    "listen address must be 4 (IPv4) or 16 (IPv6) bytes");
		return -EINVAL;
	}
	cfg.dir = nla_data(tb[CACHEPEER_A_NODE_DIR]);
	if (tb[CACHEPEER_A_NODE_MAX_BLOCK])
		cfg.max_block = nla_get_uint(tb[CACHEPEER_A_NODE_MAX_BLOCK]);
	if (tb[CACHEPEER_A_NODE_FRAME_TIMEOUT])
		cfg.frame_timeout_ms = nla_get_u32(tb[CACHEPEER_A_NODE_FRAME_TIMEOUT]);

	mutex_lock(&svc->lock);
	ret = cp_service_start(svc, &cfg);
	mutex_unlock(&svc->lock);
	switch (ret) {
	case -EALREADY:
		GENL_SET_ERR_MSG(info, "node is already running");
		break;
	case -ENOENT:
	case -ENOTDIR:
		NL_SET_ERR_MSG_ATTR(info->extack, tb[CACHEPEER_A_NODE_DIR],
				    "cache directory not found");
		break;
	case -EACCES:
		NL_SET_ERR_MSG_ATTR(info->extack, tb[CACHEPEER_A_NODE_DIR],
				    "cache directory not writable");
		break;
	case -EOPNOTSUPP:
		NL_SET_ERR_MSG_ATTR(info->extack, tb[CACHEPEER_A_NODE_DIR],
				    "cache directory's filesystem keeps no page cache of its own (overlayfs?)");
		break;
	case -EADDRINUSE:
	case -EADDRNOTAVAIL:
		NL_SET_ERR_MSG_ATTR(info->extack, tb[CACHEPEER_A_NODE_LISTEN_ADDR],
				    "cannot listen on this address");
		break;
	}
	return ret;
}

static int cp_nl_node_stop_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_service *svc = info_service(info);
	int ret;

	mutex_lock(&svc->lock);
	ret = cp_service_stop(svc);
	mutex_unlock(&svc->lock);
	if (ret == -EALREADY)
		GENL_SET_ERR_MSG(info, "node is not running");
	return ret;
}

/*
 * Split ops without a policy skip attribute parsing altogether, so an op that
 * takes no attributes still gets this one: under strict validation its
 * NLA_UNSPEC entries reject every attribute the family knows, and maxattr
 * rejects the rest.
 */
static const struct nla_policy cp_no_attrs_policy[CACHEPEER_A_NODE_MAX + 1] = { };

static const struct netlink_range_validation max_block_range = {
	.min = 1,
	.max = CACHEPEER_MAX_BLOCK_LIMIT,
};

static const struct netlink_range_validation frame_timeout_range = {
	.min = 100,
	.max = 3600000,
};

static const struct nla_policy cp_node_start_policy[CACHEPEER_A_NODE_FRAME_TIMEOUT + 1] = {
	[CACHEPEER_A_NODE_LISTEN_ADDR] = NLA_POLICY_RANGE(NLA_BINARY, sizeof(struct in_addr),
							  sizeof(struct in6_addr)),
	[CACHEPEER_A_NODE_LISTEN_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[CACHEPEER_A_NODE_DIR] = { .type = NLA_NUL_STRING, .len = PATH_MAX - 1 },
	[CACHEPEER_A_NODE_MAX_BLOCK] = NLA_POLICY_FULL_RANGE(NLA_UINT, &max_block_range),
	[CACHEPEER_A_NODE_FRAME_TIMEOUT] = NLA_POLICY_FULL_RANGE(NLA_U32, &frame_timeout_range),
};

static const struct netlink_range_validation handoff_range = {
	.max = 7 * 24 * 3600,
};

static const struct nla_policy cp_node_set_policy[CACHEPEER_A_NODE_HANDOFF + 1] = {
	[CACHEPEER_A_NODE_NAME] = { .type = NLA_NUL_STRING, .len = CACHEPEER_NAME_MAX },
	[CACHEPEER_A_NODE_LIMIT_BYTES] = { .type = NLA_UINT },
	[CACHEPEER_A_NODE_LIMIT_BLOCKS] = { .type = NLA_UINT },
	[CACHEPEER_A_NODE_FS_STOP] = NLA_POLICY_MAX(NLA_U8, 99),
	[CACHEPEER_A_NODE_FS_CULL] = NLA_POLICY_MAX(NLA_U8, 99),
	[CACHEPEER_A_NODE_FS_RUN] = NLA_POLICY_MAX(NLA_U8, 99),
	[CACHEPEER_A_NODE_EVICT] = NLA_POLICY_MAX(NLA_U8, CACHEPEER_EVICT_MAX),
	[CACHEPEER_A_NODE_SCRUB_RATE] = { .type = NLA_UINT },
	[CACHEPEER_A_NODE_CLUSTER_KEY] = NLA_POLICY_RANGE(NLA_BINARY, CACHEPEER_CLUSTER_KEY_MIN,
							  CACHEPEER_CLUSTER_KEY_MAX),
	[CACHEPEER_A_NODE_MISS] = NLA_POLICY_MAX(NLA_U8, CACHEPEER_MISS_MAX),
	[CACHEPEER_A_NODE_HANDOFF] = NLA_POLICY_FULL_RANGE(NLA_U32, &handoff_range),
};

static const struct nla_policy cp_ring_set_policy[CACHEPEER_A_NODE_BASE_EPOCH + 1] = {
	[CACHEPEER_A_NODE_MEMBER] = NLA_POLICY_NESTED(cp_member_policy),
	[CACHEPEER_A_NODE_BASE_EPOCH] = { .type = NLA_UINT },
};

static const struct nla_policy cp_ring_del_policy[CACHEPEER_A_NODE_NAME + 1] = {
	[CACHEPEER_A_NODE_NAME] = { .type = NLA_NUL_STRING, .len = CACHEPEER_NAME_MAX },
};

static const struct netlink_range_validation lookup_count_range = {
	.min = 1,
	.max = 1000000,
};

static const struct nla_policy cp_ring_lookup_policy[CACHEPEER_A_NODE_LOOKUP_COUNT + 1] = {
	[CACHEPEER_A_NODE_KEY_HASH_OF] = NLA_POLICY_RANGE(NLA_BINARY, 1, CACHEPEER_KEY_MAX),
	[CACHEPEER_A_NODE_LOOKUP_COUNT] = NLA_POLICY_FULL_RANGE(NLA_U32, &lookup_count_range),
};

static const struct genl_split_ops cp_genl_ops[] = {
	{
		.cmd	= CACHEPEER_CMD_NODE_GET,
		.doit	= cp_nl_node_get_doit,
		.policy	= cp_no_attrs_policy,
		.maxattr = CACHEPEER_A_NODE_MAX,
		.flags	= GENL_CMD_CAP_DO,
	},
	{
		.cmd	= CACHEPEER_CMD_NODE_SET,
		.doit	= cp_nl_node_set_doit,
		.policy	= cp_node_set_policy,
		.maxattr = CACHEPEER_A_NODE_HANDOFF,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= CACHEPEER_CMD_NODE_START,
		.doit	= cp_nl_node_start_doit,
		.policy	= cp_node_start_policy,
		.maxattr = CACHEPEER_A_NODE_FRAME_TIMEOUT,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= CACHEPEER_CMD_NODE_STOP,
		.doit	= cp_nl_node_stop_doit,
		.policy	= cp_no_attrs_policy,
		.maxattr = CACHEPEER_A_NODE_MAX,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= CACHEPEER_CMD_SCRUB_START,
		.doit	= cp_nl_scrub_start_doit,
		.policy	= cp_no_attrs_policy,
		.maxattr = CACHEPEER_A_NODE_MAX,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= CACHEPEER_CMD_CONN_GET,
		.dumpit	= cp_nl_conn_get_dumpit,
		.policy	= cp_no_attrs_policy,
		.maxattr = CACHEPEER_A_NODE_MAX,
		.flags	= GENL_CMD_CAP_DUMP,
	},
	{
		.cmd	= CACHEPEER_CMD_RING_GET,
		.doit	= cp_nl_ring_get_doit,
		.policy	= cp_no_attrs_policy,
		.maxattr = CACHEPEER_A_NODE_MAX,
		.flags	= GENL_CMD_CAP_DO,
	},
	{
		.cmd	= CACHEPEER_CMD_RING_SET,
		.doit	= cp_nl_ring_set_doit,
		.policy	= cp_ring_set_policy,
		.maxattr = CACHEPEER_A_NODE_BASE_EPOCH,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= CACHEPEER_CMD_RING_ADD,
		.doit	= cp_nl_ring_add_doit,
		.policy	= cp_ring_set_policy,
		.maxattr = CACHEPEER_A_NODE_MEMBER,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= CACHEPEER_CMD_RING_DEL,
		.doit	= cp_nl_ring_del_doit,
		.policy	= cp_ring_del_policy,
		.maxattr = CACHEPEER_A_NODE_NAME,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= CACHEPEER_CMD_RING_WEIGHT,
		.doit	= cp_nl_ring_weight_doit,
		.policy	= cp_ring_set_policy,
		.maxattr = CACHEPEER_A_NODE_MEMBER,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= CACHEPEER_CMD_RING_LOOKUP,
		.doit	= cp_nl_ring_lookup_doit,
		.policy	= cp_ring_lookup_policy,
		.maxattr = CACHEPEER_A_NODE_LOOKUP_COUNT,
		.flags	= GENL_CMD_CAP_DO,
	},
};

static struct genl_family cp_genl_family __ro_after_init = {
	.name		= CACHEPEER_GENL_NAME,
	.version	= CACHEPEER_GENL_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.split_ops	= cp_genl_ops,
	.n_split_ops	= ARRAY_SIZE(cp_genl_ops),
	.resv_start_op	= 0,
};

int __init cp_genl_init(void)
{
	return genl_register_family(&cp_genl_family);
}

void cp_genl_uninit(void)
{
	genl_unregister_family(&cp_genl_family);
}
