// SPDX-License-Identifier: GPL-2.0
/*
 * The node's netlink ops: its state, settings and statistics (NODE_GET,
 * NODE_SET), starting and stopping it, and an on-demand scrub.
 */

#include "conn.h"
#include "link.h"
#include "nl_priv.h"

/* Event counters, as CACHEPEER_A_STATS_* attributes. */
static const struct {
	u16 attr;
	u8 stat;
} stats_attrs[] = {
	{ CACHEPEER_A_STATS_CONNS_REFUSED, CP_STAT_CONNS_REFUSED },
	{ CACHEPEER_A_STATS_CONNS_REFUSED_SOURCE, CP_STAT_CONNS_REFUSED_SOURCE },
	{ CACHEPEER_A_STATS_CONNS_REFUSED_MEMORY, CP_STAT_CONNS_REFUSED_MEMORY },
	{ CACHEPEER_A_STATS_IDLE_CLOSES, CP_STAT_IDLE_CLOSES },
	{ CACHEPEER_A_STATS_QUEUE_PAUSES, CP_STAT_QUEUE_PAUSES },
	{ CACHEPEER_A_STATS_HELLOS, CP_STAT_HELLOS },
	{ CACHEPEER_A_STATS_HELLO_FAILURES, CP_STAT_HELLO_FAILURES },
	{ CACHEPEER_A_STATS_DENIED_UNAUTH, CP_STAT_DENIED_UNAUTH },
	{ CACHEPEER_A_STATS_DENIED_ROLE, CP_STAT_DENIED_ROLE },
	{ CACHEPEER_A_STATS_TIMEOUTS, CP_STAT_TIMEOUTS },
	{ CACHEPEER_A_STATS_TX_STALLS, CP_STAT_TX_STALLS },
	{ CACHEPEER_A_STATS_HITS, CP_STAT_HITS },
	{ CACHEPEER_A_STATS_MISSES, CP_STAT_MISSES },
	{ CACHEPEER_A_STATS_CORRUPT, CP_STAT_CORRUPT },
	{ CACHEPEER_A_STATS_ZC_BYTES, CP_STAT_ZC_BYTES },
	{ CACHEPEER_A_STATS_COPIED_BYTES, CP_STAT_COPIED_BYTES },
	{ CACHEPEER_A_STATS_SOFTIRQ_TX, CP_STAT_SOFTIRQ_TX },
	{ CACHEPEER_A_STATS_EVICTIONS, CP_STAT_EVICTIONS },
	{ CACHEPEER_A_STATS_FOREIGN, CP_STAT_FOREIGN },
	{ CACHEPEER_A_STATS_FORWARDS, CP_STAT_FORWARDS },
	{ CACHEPEER_A_STATS_REDIRECTS, CP_STAT_REDIRECTS },
	{ CACHEPEER_A_STATS_HANDOFFS, CP_STAT_HANDOFFS },
	{ CACHEPEER_A_STATS_PEER_ERRORS, CP_STAT_PEER_ERRORS },
	{ CACHEPEER_A_STATS_PEER_CONNECTS, CP_STAT_PEER_CONNECTS },
	{ CACHEPEER_A_STATS_HANDOFF_JOINED, CP_STAT_HANDOFF_JOINED },
	{ CACHEPEER_A_STATS_RING_ACCEPTED, CP_STAT_RING_ACCEPTED },
	{ CACHEPEER_A_STATS_RING_REFUSED, CP_STAT_RING_REFUSED },
	{ CACHEPEER_A_STATS_RING_SENT, CP_STAT_RING_SENT },
	{ CACHEPEER_A_STATS_RING_STALE, CP_STAT_RING_STALE },
	{ CACHEPEER_A_STATS_RING_DIGESTS, CP_STAT_RING_DIGESTS },
	{ CACHEPEER_A_STATS_PROBES, CP_STAT_PROBES },
	{ CACHEPEER_A_STATS_MEMBER_SUSPECT, CP_STAT_MEMBER_SUSPECT },
	{ CACHEPEER_A_STATS_MEMBER_DOWN, CP_STAT_MEMBER_DOWN },
	{ CACHEPEER_A_STATS_MEMBER_REFUTED, CP_STAT_MEMBER_REFUTED },
	{ CACHEPEER_A_STATS_FORWARD_JOINED, CP_STAT_FORWARD_JOINED },
}, scrub_attrs[] = {
	{ CACHEPEER_A_SCRUB_PASSES, CP_STAT_SCRUB_PASSES },
	{ CACHEPEER_A_SCRUB_BLOCKS, CP_STAT_SCRUB_BLOCKS },
	{ CACHEPEER_A_SCRUB_BYTES, CP_STAT_SCRUB_BYTES },
	{ CACHEPEER_A_SCRUB_CORRUPT, CP_STAT_SCRUB_CORRUPT },
};

/* Nested counters, the attribute type being base + the index. */
static int put_array(struct sk_buff *msg, int type, const u64 *v, int first, int last, int base)
{
	struct nlattr *nest = nla_nest_start(msg, type);
	int i;

	if (!nest)
		return -EMSGSIZE;
	for (i = first; i <= last; i++)
		if (nla_put_uint(msg, base + i, v[i]))
			return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

/* The scrub: what it has done, and where it is. */
static int put_scrub(struct sk_buff *msg, struct cp_store *st, const u64 *sum)
{
	struct nlattr *nest = nla_nest_start(msg, CACHEPEER_A_STATS_SCRUB);
	struct cp_scrub_state sc;
	size_t i;

	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < ARRAY_SIZE(scrub_attrs); i++)
		if (nla_put_uint(msg, scrub_attrs[i].attr, sum[scrub_attrs[i].stat]))
			return -EMSGSIZE;
	cp_store_scrub_state(st, &sc);
	if (nla_put_uint(msg, CACHEPEER_A_SCRUB_PASS_BLOCKS, sc.pass_blocks) ||
	    nla_put_uint(msg, CACHEPEER_A_SCRUB_RUNNING, sc.running))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

/*
 * Per op answered: count, sum and the buckets from the first to the last
 * not empty. b and scratch hold CACHEPEER_LAT_BUCKETS values each.
 */
static int put_latency(struct sk_buff *msg, struct cp_lat __percpu *lat, u64 *b, u64 *scratch)
{
	struct nlattr *nest = nla_nest_start(msg, CACHEPEER_A_STATS_LATENCY), *op_nest;
	int first, last, i;
	u64 count, sum;
	u8 op;

	if (!nest)
		return -EMSGSIZE;
	for (op = CACHEPEER_OP_GET; op <= CACHEPEER_OP_MAX; op++) {
		sum = cp_lat_sum(lat, op, b, scratch);
		count = 0;
		first = -1;
		for (i = 0; i < CACHEPEER_LAT_BUCKETS; i++) {
			if (!b[i])
				continue;
			if (first < 0)
				first = i;
			last = i;
			count += b[i];
		}
		if (first < 0)
			continue;
		op_nest = nla_nest_start(msg, op);
		if (!op_nest ||
		    nla_put_uint(msg, CACHEPEER_A_LAT_COUNT, count) ||
		    nla_put_uint(msg, CACHEPEER_A_LAT_SUM_NS, sum) ||
		    nla_put_u32(msg, CACHEPEER_A_LAT_FIRST, first) ||
		    nla_put(msg, CACHEPEER_A_LAT_BUCKETS, (last - first + 1) * sizeof(u64),
			    b + first))
			return -EMSGSIZE;
		nla_nest_end(msg, op_nest);
	}
	nla_nest_end(msg, nest);
	return 0;
}

/* Counters and gauges; the node is running, so its store is open. */
static int put_stats(struct sk_buff *msg, struct cp_service *svc)
{
	struct cp_store *st = &svc->store;
	struct nlattr *nest;
	u64 sum[CP_STAT_MAX], calls, *lat, fs_size = 0, fs_avail = 0;
	u32 calls_max;
	size_t i;
	int ret;

	cp_stats_sum(svc->stats, sum);
	calls = cp_links_calls(&svc->cluster.peers, &calls_max);
	/* A filesystem that cannot say (it went away under us) reports 0 and 0. */
	cp_store_fs_space(st, &fs_size, &fs_avail);
	nest = nla_nest_start(msg, CACHEPEER_A_NODE_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < ARRAY_SIZE(stats_attrs); i++)
		if (nla_put_uint(msg, stats_attrs[i].attr, sum[stats_attrs[i].stat]))
			return -EMSGSIZE;
	if (nla_put_uint(msg, CACHEPEER_A_STATS_CONNS, atomic_read(&svc->nconns)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_INFLIGHT, cp_conn_inflight(svc)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_PEER_CALLS, calls) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_PEER_CALLS_MAX, calls_max) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_QUEUED_BYTES,
			 max(atomic_long_read(&svc->queued), 0L)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_BLOCKS, atomic_long_read(&st->blocks)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_BYTES, atomic64_read(&st->bytes)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_OPEN_FILES, atomic_long_read(&st->open)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_INDEX_MEM, cp_store_index_mem(st)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_SCAN_DONE, READ_ONCE(st->scan_done)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_SCAN_FOUND, READ_ONCE(st->scan_found)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_SCAN_MS,
			 div_u64(READ_ONCE(st->scan_ns), NSEC_PER_MSEC)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_NO_SPACE, READ_ONCE(st->no_space)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_CULLING, READ_ONCE(st->culling)) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_FS_SIZE, fs_size) ||
	    nla_put_uint(msg, CACHEPEER_A_STATS_FS_AVAIL, fs_avail))
		return -EMSGSIZE;
	/* Ops from 1 as themselves; statuses from 0, so shifted by one. */
	if (put_array(msg, CACHEPEER_A_STATS_OPS, sum + CP_STAT_OP, CACHEPEER_OP_GET,
		      CACHEPEER_OP_MAX, 0) ||
	    put_array(msg, CACHEPEER_A_STATS_STATUS, sum + CP_STAT_STATUS, 0, CACHEPEER_S_MAX, 1) ||
	    put_scrub(msg, st, sum))
		return -EMSGSIZE;
	lat = kmalloc_array(2 * CACHEPEER_LAT_BUCKETS, sizeof(*lat), GFP_KERNEL);
	if (!lat)
		return -ENOMEM;
	ret = put_latency(msg, svc->lat, lat, lat + CACHEPEER_LAT_BUCKETS);
	kfree(lat);
	if (ret)
		return ret;
	nla_nest_end(msg, nest);
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

static int put_conn_limits(struct sk_buff *msg, const struct cp_conn_limits *cl)
{
	return nla_put_u32(msg, CACHEPEER_A_NODE_MAX_CONNS, READ_ONCE(cl->max_conns)) ?:
	       nla_put_u32(msg, CACHEPEER_A_NODE_MAX_CONNS_SOURCE,
			   READ_ONCE(cl->max_per_source)) ?:
	       nla_put_uint(msg, CACHEPEER_A_NODE_CONN_QUEUE, READ_ONCE(cl->conn_queue)) ?:
	       nla_put_uint(msg, CACHEPEER_A_NODE_NODE_QUEUE, READ_ONCE(cl->node_queue)) ?:
	       nla_put_uint(msg, CACHEPEER_A_NODE_CONN_PIN, READ_ONCE(cl->conn_pin)) ?:
	       nla_put_u32(msg, CACHEPEER_A_NODE_IDLE_TIMEOUT, READ_ONCE(cl->idle_timeout_s));
}

/* The cache directory's path is only for those who may manage the node. */
static int put_running(struct sk_buff *msg, struct cp_service *svc, bool admin)
{
	return cp_nl_put_addr(msg, CACHEPEER_A_NODE_LISTEN_ADDR, CACHEPEER_A_NODE_LISTEN_PORT,
			      &svc->listen) ?:
	       (admin ? nla_put_string(msg, CACHEPEER_A_NODE_DIR, svc->dir) : 0) ?:
	       nla_put_uint(msg, CACHEPEER_A_NODE_MAX_BLOCK, svc->max_block) ?:
	       nla_put_u32(msg, CACHEPEER_A_NODE_FRAME_TIMEOUT, svc->frame_timeout_ms) ?:
	       nla_put_uint(msg, CACHEPEER_A_NODE_EPOCH, READ_ONCE(svc->cluster.epoch)) ?:
	       put_stats(msg, svc);
}

int cachepeer_nl_node_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_service *svc = cp_nl_service(info);
	bool admin = netlink_ns_capable(skb, genl_info_net(info)->user_ns, CAP_NET_ADMIN);
	struct sk_buff *msg;
	void *hdr;
	int ret;

	/* Room for every op's histogram whole, however spread. */
	msg = genlmsg_new(NLMSG_GOODSIZE + CP_LAT_OPS * nla_total_size(sizeof(u64) *
				   (CACHEPEER_LAT_BUCKETS + 4)), GFP_KERNEL);
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
	      nla_put_string(msg, CACHEPEER_A_NODE_NAME, svc->cluster.name) ?:
	      put_limits(msg, &svc->store.limits) ?:
	      put_conn_limits(msg, &svc->climits) ?:
	      nla_put_u8(msg, CACHEPEER_A_NODE_ACCESS, READ_ONCE(svc->access)) ?:
	      nla_put_u8(msg, CACHEPEER_A_NODE_ACCESS_NOW, cp_access_now(svc));
	if (!ret && svc->state == CACHEPEER_NODE_RUNNING)
		ret = put_running(msg, svc, admin);
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

/* Bounds on clients from the request, over the node's current ones. */
static bool conn_limits_from_attrs(struct nlattr **tb, struct cp_conn_limits *cl)
{
	bool any = false;

	if (tb[CACHEPEER_A_NODE_MAX_CONNS]) {
		cl->max_conns = nla_get_u32(tb[CACHEPEER_A_NODE_MAX_CONNS]);
		any = true;
	}
	if (tb[CACHEPEER_A_NODE_MAX_CONNS_SOURCE]) {
		cl->max_per_source = nla_get_u32(tb[CACHEPEER_A_NODE_MAX_CONNS_SOURCE]);
		any = true;
	}
	if (tb[CACHEPEER_A_NODE_CONN_QUEUE]) {
		cl->conn_queue = nla_get_uint(tb[CACHEPEER_A_NODE_CONN_QUEUE]);
		any = true;
	}
	if (tb[CACHEPEER_A_NODE_NODE_QUEUE]) {
		cl->node_queue = nla_get_uint(tb[CACHEPEER_A_NODE_NODE_QUEUE]);
		any = true;
	}
	if (tb[CACHEPEER_A_NODE_CONN_PIN]) {
		cl->conn_pin = nla_get_uint(tb[CACHEPEER_A_NODE_CONN_PIN]);
		any = true;
	}
	if (tb[CACHEPEER_A_NODE_IDLE_TIMEOUT]) {
		cl->idle_timeout_s = nla_get_u32(tb[CACHEPEER_A_NODE_IDLE_TIMEOUT]);
		any = true;
	}
	return any;
}

/* The node's lock held: the current (or next) member key, the cluster key. */
static int set_member_key(struct cp_service *svc, const struct nlattr *a, bool next,
			  struct genl_info *info)
{
	struct cp_key *gone;
	int ret;

	ret = cp_keys_set_member(&svc->keys, nla_data(a), nla_len(a), next, &gone);
	if (ret == -EEXIST)
		NL_SET_ERR_MSG_ATTR(info->extack, a, "this key is the current cluster key");
	else if (ret == -ENOKEY)
		NL_SET_ERR_MSG_ATTR(info->extack, a, "set a cluster key before a next one");
	else if (ret)
		NL_SET_ERR_MSG_ATTR(info->extack, a, "cannot set up hmac(sha256) with this key");
	if (gone)
		cp_service_drop_key(svc, gone);
	return ret;
}

int cachepeer_nl_node_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_service *svc = cp_nl_service(info);
	struct cp_cluster *cl = &svc->cluster;
	struct nlattr **tb = info->attrs;
	const char *name = NULL, *why;
	struct cp_conn_limits climits;
	bool limits, conns, cluster;
	struct cp_limits lim;
	int ret = 0;

	if (tb[CACHEPEER_A_NODE_NAME]) {
		name = nla_data(tb[CACHEPEER_A_NODE_NAME]);
		if (!cp_name_valid(name, strlen(name))) {
			NL_SET_ERR_MSG_ATTR(info->extack, tb[CACHEPEER_A_NODE_NAME],
					    "name must be 1-63 bytes of [A-Za-z0-9._-]");
			return -EINVAL;
		}
	}
	ret = cp_nl_check_len(tb[CACHEPEER_A_NODE_CLUSTER_KEY], CACHEPEER_CLUSTER_KEY_MIN,
			      CACHEPEER_CLUSTER_KEY_MAX, "a cluster key", info->extack) ?:
	      cp_nl_check_len(tb[CACHEPEER_A_NODE_NEXT_CLUSTER_KEY], CACHEPEER_CLUSTER_KEY_MIN,
			      CACHEPEER_CLUSTER_KEY_MAX, "a cluster key", info->extack);
	if (ret)
		return ret;

	mutex_lock(&svc->lock);
	lim = svc->store.limits;
	limits = limits_from_attrs(tb, &lim);
	climits = svc->climits;
	conns = conn_limits_from_attrs(tb, &climits);
	cluster = tb[CACHEPEER_A_NODE_CLUSTER_KEY] || tb[CACHEPEER_A_NODE_MISS] ||
		  tb[CACHEPEER_A_NODE_HANDOFF] || tb[CACHEPEER_A_NODE_NEXT_CLUSTER_KEY] ||
		  tb[CACHEPEER_A_NODE_ACCESS];
	if (!name && !limits && !conns && !cluster) {
		GENL_SET_ERR_MSG(info, "nothing to set: give a name, a limit or a cluster setting");
		ret = -EINVAL;
		goto out;
	}
	why = cp_store_limits_check(&lim) ?: cp_conn_limits_check(&climits);
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
	if (!ret && tb[CACHEPEER_A_NODE_CLUSTER_KEY])
		ret = set_member_key(svc, tb[CACHEPEER_A_NODE_CLUSTER_KEY], false, info);
	if (!ret && tb[CACHEPEER_A_NODE_NEXT_CLUSTER_KEY])
		ret = set_member_key(svc, tb[CACHEPEER_A_NODE_NEXT_CLUSTER_KEY], true, info);
	if (!ret && tb[CACHEPEER_A_NODE_ACCESS])
		WRITE_ONCE(svc->access, nla_get_u8(tb[CACHEPEER_A_NODE_ACCESS]));
	if (!ret && tb[CACHEPEER_A_NODE_MISS])
		WRITE_ONCE(cl->miss, nla_get_u8(tb[CACHEPEER_A_NODE_MISS]));
	if (!ret && tb[CACHEPEER_A_NODE_HANDOFF])
		WRITE_ONCE(cl->handoff_s, nla_get_u32(tb[CACHEPEER_A_NODE_HANDOFF]));
	if (!ret && limits)
		cp_service_set_limits(svc, &lim);
	if (!ret && conns)
		cp_service_set_conn_limits(svc, &climits);
out:
	mutex_unlock(&svc->lock);
	return ret;
}

int cachepeer_nl_node_start_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_service *svc = cp_nl_service(info);
	struct cp_config cfg = {
		.max_block = CACHEPEER_MAX_BLOCK_DEFAULT,
		.frame_timeout_ms = CP_FRAME_TIMEOUT_DEFAULT_MS,
	};
	struct nlattr **tb = info->attrs;
	union cp_addr listen = { };
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, CACHEPEER_A_NODE_LISTEN_ADDR) ||
	    GENL_REQ_ATTR_CHECK(info, CACHEPEER_A_NODE_LISTEN_PORT) ||
	    GENL_REQ_ATTR_CHECK(info, CACHEPEER_A_NODE_DIR))
		return -EINVAL;
	ret = cp_nl_get_addr(tb[CACHEPEER_A_NODE_LISTEN_ADDR], tb[CACHEPEER_A_NODE_LISTEN_PORT],
			     &listen, "listen", info->extack);
	if (ret)
		return ret;
	memcpy(&cfg.listen, &listen, sizeof(listen));
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
	case -EPROTONOSUPPORT:
		NL_SET_ERR_MSG_ATTR(info->extack, tb[CACHEPEER_A_NODE_DIR],
				    "cache directory written by a newer cachepeer (its ring file's format; see the kernel log)");
		break;
	case -EADDRINUSE:
	case -EADDRNOTAVAIL:
		NL_SET_ERR_MSG_ATTR(info->extack, tb[CACHEPEER_A_NODE_LISTEN_ADDR],
				    "cannot listen on this address");
		break;
	}
	return ret;
}

int cachepeer_nl_node_stop_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_service *svc = cp_nl_service(info);
	int ret;

	mutex_lock(&svc->lock);
	ret = cp_service_stop(svc);
	mutex_unlock(&svc->lock);
	if (ret == -EALREADY)
		GENL_SET_ERR_MSG(info, "node is not running");
	return ret;
}

int cachepeer_nl_scrub_start_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_service *svc = cp_nl_service(info);
	int ret = 0;

	mutex_lock(&svc->lock);
	if (svc->state == CACHEPEER_NODE_RUNNING)
		cp_store_scrub_pass(&svc->store);
	else
		ret = -ENOTCONN;
	mutex_unlock(&svc->lock);
	if (ret)
		GENL_SET_ERR_MSG(info, "node is not running");
	return ret;
}
