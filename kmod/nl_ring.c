// SPDX-License-Identifier: GPL-2.0
/*
 * The ring's netlink ops: reading it, editing it (each edit a new epoch,
 * pushed to every member by the cluster), and looking keys up in it.
 */

#include "nl_priv.h"

/* The cluster's lock held, for the view and what the node heard. */
static int put_member(struct sk_buff *msg, struct cp_cluster *cl, const struct cp_member *m)
{
	struct nlattr *nest = nla_nest_start(msg, CACHEPEER_A_NODE_MEMBER);
	int idx = cp_view_find(cl->view, m->name);
	unsigned long heard = cp_cluster_heard(cl, m->name);

	if (!nest ||
	    nla_put_string(msg, CACHEPEER_A_MEMBER_NAME, m->name) ||
	    cp_nl_put_addr(msg, CACHEPEER_A_MEMBER_ADDR, CACHEPEER_A_MEMBER_PORT, &m->addr) ||
	    nla_put_u32(msg, CACHEPEER_A_MEMBER_WEIGHT, m->weight) ||
	    nla_put_uint(msg, CACHEPEER_A_MEMBER_POINTS, m->points) ||
	    nla_put_u8(msg, CACHEPEER_A_MEMBER_STATE, m->state) ||
	    nla_put_u32(msg, CACHEPEER_A_MEMBER_INCARNATION,
			idx >= 0 ? be32_to_cpu(cl->view->e[idx].incarnation) : 0) ||
	    (heard && nla_put_uint(msg, CACHEPEER_A_MEMBER_HEARD_MS,
				   jiffies_to_msecs(jiffies - heard))))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

/* What put_member() adds, at most. */
static size_t member_size(const struct cp_member *m)
{
	return nla_total_size(0) + nla_total_size(strlen(m->name) + 1) +
	       nla_total_size(m->addr.sa.sa_family == AF_INET6 ? 16 : 4) +
	       nla_total_size(sizeof(u16)) + nla_total_size(sizeof(u32)) +
	       nla_total_size_64bit(sizeof(u64)) + nla_total_size(sizeof(u8)) +
	       nla_total_size(sizeof(u32)) + nla_total_size_64bit(sizeof(u64));
}

int cachepeer_nl_ring_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_cluster *cl = &cp_nl_service(info)->cluster;
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
	 * Sized exactly, if never under: a reply bigger than the reader's
	 * receive buffer is dropped, and a whole ring of long names with
	 * IPv6 addresses and liveness takes about 152 KiB (cachepeerctl reads
	 * up to 256 KiB).
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
	    nla_put_u8(msg, CACHEPEER_A_NODE_KEY_SET, cp_cluster_has_key(cl)) ||
	    nla_put_uint(msg, CACHEPEER_A_NODE_RING_MEM, r ? r->mem : 0) ||
	    nla_put_uint(msg, CACHEPEER_A_NODE_RING_BUILD_NS, r ? r->build_ns : 0))
		goto err_unlock;
	for (i = 0; i < n; i++)
		if (put_member(msg, cl, &r->members[i]))
			goto err_unlock;
	mutex_unlock(&cl->lock);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_unlock:
	mutex_unlock(&cl->lock);
	nlmsg_free(msg);
	return ret;
}

/* One member from its nest. With only_weight, _NAME and _WEIGHT alone. */
static int member_from_attr(const struct nlattr *nest, struct cp_member *m, bool only_weight,
			    struct netlink_ext_ack *extack)
{
	struct nlattr *tb[CACHEPEER_A_MEMBER_WEIGHT + 1];
	const char *why;
	int ret;

	ret = nla_parse_nested(tb, CACHEPEER_A_MEMBER_WEIGHT, nest, cachepeer_member_nl_policy,
			       extack);
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
	ret = cp_nl_get_addr(tb[CACHEPEER_A_MEMBER_ADDR], tb[CACHEPEER_A_MEMBER_PORT], &m->addr,
			     "member", extack);
	if (ret)
		return ret;
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
	struct cp_service *svc = cp_nl_service(info);
	const char *why;
	int ret;

	/* The node's lock keeps its name, which the new ring is built for, still. */
	mutex_lock(&svc->lock);
	ret = cp_cluster_edit(&svc->cluster, op, m, n, base_epoch, &why);
	mutex_unlock(&svc->lock);
	if (why)
		NL_SET_ERR_MSG_FMT(info->extack, "%s", why);
	return ret;
}

int cachepeer_nl_ring_set_doit(struct sk_buff *skb, struct genl_info *info)
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

int cachepeer_nl_ring_add_doit(struct sk_buff *skb, struct genl_info *info)
{
	return ring_edit_one(info, CP_RING_ADD);
}

int cachepeer_nl_ring_weight_doit(struct sk_buff *skb, struct genl_info *info)
{
	return ring_edit_one(info, CP_RING_WEIGHT);
}

int cachepeer_nl_ring_del_doit(struct sk_buff *skb, struct genl_info *info)
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

int cachepeer_nl_ring_lookup_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_cluster *cl = &cp_nl_service(info)->cluster;
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
	ret = cp_nl_check_len(key, 1, CACHEPEER_KEY_MAX, "a block key", info->extack);
	if (ret)
		return ret;
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
	    (o < 0 || !put_member(msg, cl, &r->members[o])))
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
