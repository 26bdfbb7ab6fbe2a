// SPDX-License-Identifier: GPL-2.0
/* Generic netlink transport for cachepeerctl (libnl-genl-3). */

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "client.h"
#include "ctl.h"
#include "nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define CP_NL_MSG_MAX	(256 * 1024)

struct cp_nl {
	struct nl_sock *sk;
	int family;
	char extack[256];	/* kernel's message for the last failed request */
	char errbuf[320];
};

typedef int (*fill_fn)(struct nl_msg *msg, const void *arg);
typedef int (*parse_fn)(struct nlattr **tb, struct nlmsghdr *nlh, void *arg);

struct request {
	struct cp_nl *nl;
	parse_fn parse;
	void *arg;
	int err;
	bool done;
};

int cp_nl_open(struct cp_nl **nlp)
{
	struct cp_nl *nl;
	int one = 1;
	int ret;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		free(nl);
		return -ENOMEM;
	}
	ret = genl_connect(nl->sk);
	if (ret < 0) {
		ret = -EPROTONOSUPPORT;
		goto err;
	}
	/*
	 * Replies as big as a whole ring: size each read to its message, and
	 * lift the receive buffer from libnl's 32 KiB, which would drop them.
	 */
	nl_socket_enable_msg_peek(nl->sk);
	nl_socket_set_buffer_size(nl->sk, CP_NL_MSG_MAX * 2, 0);
	/* Ask for the kernel's explanation with every error, not the request. */
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));

	nl->family = genl_ctrl_resolve(nl->sk, CACHEPEER_GENL_NAME);
	if (nl->family < 0) {
		ret = nl->family == -NLE_OBJ_NOTFOUND ? -ENOENT : -EIO;
		goto err;
	}
	*nlp = nl;
	return 0;
err:
	nl_socket_free(nl->sk);
	free(nl);
	return ret;
}

void cp_nl_close(struct cp_nl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk);
	free(nl);
}

const char *cp_nl_strerror(struct cp_nl *nl, int err)
{
	const char *base;

	switch (err) {
	case -ENOENT:
		/* Without the kernel's reason, the family was not found. */
		base = nl && nl->extack[0] ? strerror(ENOENT) : "cachepeer module is not loaded";
		break;
	case -EPERM:
		base = "permission denied";
		break;
	default:
		base = strerror(-err);
		break;
	}
	if (!nl || !nl->extack[0])
		return base;
	snprintf(nl->errbuf, sizeof(nl->errbuf), "%s (%s)", nl->extack, base);
	return nl->errbuf;
}

static void copy_extack(struct cp_nl *nl, struct nlmsgerr *e)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = NLMSG_HDRLEN + sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (off >= nlh->nlmsg_len)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)nlh + off),
		      nlh->nlmsg_len - off, NULL) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(nl->extack, sizeof(nl->extack), "%s",
			 (const char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct request *req = arg;

	req->err = e->error;
	req->done = true;
	copy_extack(req->nl, e);
	return NL_STOP;
}

/* The ACK of a request, or the end of a dump. */
static int on_ack(struct nl_msg *msg, void *arg)
{
	struct request *req = arg;

	req->done = true;
	return NL_STOP;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct request *req = arg;
	struct nlattr *tb[CACHEPEER_A_NODE_MAX + 1];
	int ret;

	if (!req->parse)
		return NL_OK;
	ret = genlmsg_parse(nlmsg_hdr(msg), 0, tb, CACHEPEER_A_NODE_MAX, NULL);
	if (ret < 0) {
		req->err = -EBADMSG;
		return NL_STOP;
	}
	ret = req->parse(tb, nlmsg_hdr(msg), req->arg);
	if (ret < 0) {
		req->err = ret;
		return NL_STOP;
	}
	return NL_OK;
}

/* Send one request and wait for its reply (if any) and ACK. */
static int request_flags(struct cp_nl *nl, __u8 cmd, int flags, fill_fn fill,
			 const void *fill_arg, parse_fn parse, void *parse_arg)
{
	struct request req = { .nl = nl, .parse = parse, .arg = parse_arg };
	struct nl_msg *msg;
	struct nl_cb *cb;
	int ret;

	nl->extack[0] = '\0';
	/* Room for a whole ring of CACHEPEER_RING_MEMBERS_MAX members. */
	msg = nlmsg_alloc_size(CP_NL_MSG_MAX);
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!msg || !cb) {
		ret = -ENOMEM;
		goto out;
	}
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags, cmd,
			 CACHEPEER_GENL_VERSION)) {
		ret = -ENOMEM;
		goto out;
	}
	if (fill) {
		ret = fill(msg, fill_arg);
		if (ret < 0)
			goto out;
	}
	ret = nl_send_auto(nl->sk, msg);
	if (ret < 0) {
		ret = -EIO;
		goto out;
	}
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &req);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_ack, &req);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &req);
	ret = 0;
	while (!req.done && !req.err) {
		int r = nl_recvmsgs(nl->sk, cb);

		if (r < 0 && !req.err) {
			ret = -EIO;
			break;
		}
	}
	if (req.err)
		ret = req.err;
out:
	nl_cb_put(cb);
	nlmsg_free(msg);
	return ret;
}

static int request(struct cp_nl *nl, __u8 cmd, fill_fn fill, const void *fill_arg,
		   parse_fn parse, void *parse_arg)
{
	return request_flags(nl, cmd, 0, fill, fill_arg, parse, parse_arg);
}

static void copy_str(char *dst, size_t size, const struct nlattr *a)
{
	snprintf(dst, size, "%.*s", nla_len(a), (const char *)nla_data(a));
}

static __u64 get_uint(const struct nlattr *a)
{
	return nla_len(a) == 8 ? nla_get_u64((struct nlattr *)a) : nla_get_u32((struct nlattr *)a);
}

static void parse_counters(struct nlattr *nest, __u64 *out, int max, int base)
{
	struct nlattr *a;
	int rem;

	nla_for_each_nested(a, nest, rem) {
		int t = nla_type(a) - base;

		if (t >= 0 && t <= max)
			out[t] = get_uint(a);
	}
}

static void parse_stats(struct nlattr *nest, struct cp_node_stats *st)
{
	struct nlattr *tb[CACHEPEER_A_STATS_MAX + 1];
	static const struct {
		int attr;
		size_t off;
	} map[] = {
		{ CACHEPEER_A_STATS_CONNS, offsetof(struct cp_node_stats, conns) },
		{ CACHEPEER_A_STATS_CONNS_REFUSED, offsetof(struct cp_node_stats, conns_refused) },
		{ CACHEPEER_A_STATS_TIMEOUTS, offsetof(struct cp_node_stats, timeouts) },
		{ CACHEPEER_A_STATS_BLOCKS, offsetof(struct cp_node_stats, blocks) },
		{ CACHEPEER_A_STATS_BYTES, offsetof(struct cp_node_stats, bytes) },
		{ CACHEPEER_A_STATS_CORRUPT, offsetof(struct cp_node_stats, corrupt) },
		{ CACHEPEER_A_STATS_ZC_BYTES, offsetof(struct cp_node_stats, zc_bytes) },
		{ CACHEPEER_A_STATS_COPIED_BYTES, offsetof(struct cp_node_stats, copied_bytes) },
		{ CACHEPEER_A_STATS_SOFTIRQ_TX, offsetof(struct cp_node_stats, softirq_tx) },
		{ CACHEPEER_A_STATS_HITS, offsetof(struct cp_node_stats, hits) },
		{ CACHEPEER_A_STATS_MISSES, offsetof(struct cp_node_stats, misses) },
		{ CACHEPEER_A_STATS_INFLIGHT, offsetof(struct cp_node_stats, inflight) },
		{ CACHEPEER_A_STATS_EVICTIONS, offsetof(struct cp_node_stats, evictions) },
		{ CACHEPEER_A_STATS_FOREIGN, offsetof(struct cp_node_stats, foreign) },
		{ CACHEPEER_A_STATS_OPEN_FILES, offsetof(struct cp_node_stats, open_files) },
		{ CACHEPEER_A_STATS_INDEX_MEM, offsetof(struct cp_node_stats, index_mem) },
		{ CACHEPEER_A_STATS_SCAN_DONE, offsetof(struct cp_node_stats, scan_done) },
		{ CACHEPEER_A_STATS_SCAN_FOUND, offsetof(struct cp_node_stats, scan_found) },
		{ CACHEPEER_A_STATS_SCAN_MS, offsetof(struct cp_node_stats, scan_ms) },
		{ CACHEPEER_A_STATS_NO_SPACE, offsetof(struct cp_node_stats, no_space) },
		{ CACHEPEER_A_STATS_CULLING, offsetof(struct cp_node_stats, culling) },
	};
	static const struct {
		int attr;
		size_t off;
	} scrub_map[] = {
		{ CACHEPEER_A_SCRUB_PASSES, offsetof(struct cp_node_stats, scrub_passes) },
		{ CACHEPEER_A_SCRUB_BLOCKS, offsetof(struct cp_node_stats, scrub_blocks) },
		{ CACHEPEER_A_SCRUB_BYTES, offsetof(struct cp_node_stats, scrub_bytes) },
		{ CACHEPEER_A_SCRUB_CORRUPT, offsetof(struct cp_node_stats, scrub_corrupt) },
		{ CACHEPEER_A_SCRUB_PASS_BLOCKS,
		  offsetof(struct cp_node_stats, scrub_pass_blocks) },
		{ CACHEPEER_A_SCRUB_RUNNING, offsetof(struct cp_node_stats, scrub_running) },
	};
	struct nlattr *sc[CACHEPEER_A_SCRUB_MAX + 1];
	size_t i;

	if (nla_parse_nested(tb, CACHEPEER_A_STATS_MAX, nest, NULL) < 0)
		return;
	for (i = 0; i < ARRAY_SIZE(map); i++)
		if (tb[map[i].attr])
			*(__u64 *)((char *)st + map[i].off) = get_uint(tb[map[i].attr]);
	if (tb[CACHEPEER_A_STATS_OPS])
		parse_counters(tb[CACHEPEER_A_STATS_OPS], st->ops, CACHEPEER_OP_MAX, 0);
	if (tb[CACHEPEER_A_STATS_STATUS])
		parse_counters(tb[CACHEPEER_A_STATS_STATUS], st->status, CACHEPEER_S_MAX, 1);
	if (!tb[CACHEPEER_A_STATS_SCRUB] ||
	    nla_parse_nested(sc, CACHEPEER_A_SCRUB_MAX, tb[CACHEPEER_A_STATS_SCRUB], NULL) < 0)
		return;
	for (i = 0; i < ARRAY_SIZE(scrub_map); i++)
		if (sc[scrub_map[i].attr])
			*(__u64 *)((char *)st + scrub_map[i].off) = get_uint(sc[scrub_map[i].attr]);
}

static void parse_cluster_stats(struct nlattr *nest, struct cp_node_stats *st)
{
	struct nlattr *tb[CACHEPEER_A_STATS_MAX + 1];
	static const struct {
		int attr;
		size_t off;
	} map[] = {
		{ CACHEPEER_A_STATS_FORWARDS, offsetof(struct cp_node_stats, forwards) },
		{ CACHEPEER_A_STATS_REDIRECTS, offsetof(struct cp_node_stats, redirects) },
		{ CACHEPEER_A_STATS_HANDOFFS, offsetof(struct cp_node_stats, handoffs) },
		{ CACHEPEER_A_STATS_PEER_ERRORS, offsetof(struct cp_node_stats, peer_errors) },
		{ CACHEPEER_A_STATS_RING_ACCEPTED, offsetof(struct cp_node_stats, ring_accepted) },
		{ CACHEPEER_A_STATS_RING_REFUSED, offsetof(struct cp_node_stats, ring_refused) },
		{ CACHEPEER_A_STATS_RING_SENT, offsetof(struct cp_node_stats, ring_sent) },
	};
	size_t i;

	if (nla_parse_nested(tb, CACHEPEER_A_STATS_MAX, nest, NULL) < 0)
		return;
	for (i = 0; i < ARRAY_SIZE(map); i++)
		if (tb[map[i].attr])
			*(__u64 *)((char *)st + map[i].off) = get_uint(tb[map[i].attr]);
}

static void parse_limits(struct nlattr **tb, struct cp_limits *lim)
{
	if (tb[CACHEPEER_A_NODE_LIMIT_BYTES])
		lim->max_bytes = get_uint(tb[CACHEPEER_A_NODE_LIMIT_BYTES]);
	if (tb[CACHEPEER_A_NODE_LIMIT_BLOCKS])
		lim->max_blocks = get_uint(tb[CACHEPEER_A_NODE_LIMIT_BLOCKS]);
	if (tb[CACHEPEER_A_NODE_SCRUB_RATE])
		lim->scrub_rate = get_uint(tb[CACHEPEER_A_NODE_SCRUB_RATE]);
	if (tb[CACHEPEER_A_NODE_FS_STOP])
		lim->fs_stop = nla_get_u8(tb[CACHEPEER_A_NODE_FS_STOP]);
	if (tb[CACHEPEER_A_NODE_FS_CULL])
		lim->fs_cull = nla_get_u8(tb[CACHEPEER_A_NODE_FS_CULL]);
	if (tb[CACHEPEER_A_NODE_FS_RUN])
		lim->fs_run = nla_get_u8(tb[CACHEPEER_A_NODE_FS_RUN]);
	if (tb[CACHEPEER_A_NODE_EVICT])
		lim->evict = nla_get_u8(tb[CACHEPEER_A_NODE_EVICT]);
}

/* An address attribute (4 or 16 bytes) and a u16 port as ADDR:PORT or [ADDR6]:PORT. */
static void fmt_addr(char *buf, size_t size, struct nlattr *addr, struct nlattr *port)
{
	char host[INET6_ADDRSTRLEN];
	int v6 = nla_len(addr) == 16;

	if (!inet_ntop(v6 ? AF_INET6 : AF_INET, nla_data(addr), host, sizeof(host)))
		snprintf(host, sizeof(host), "?");
	snprintf(buf, size, v6 ? "[%s]:%u" : "%s:%u", host, nla_get_u16(port));
}

static int parse_node(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	struct cp_node_info *info = arg;

	if (!tb[CACHEPEER_A_NODE_VERSION] || !tb[CACHEPEER_A_NODE_STATE])
		return -EBADMSG;
	copy_str(info->version, sizeof(info->version), tb[CACHEPEER_A_NODE_VERSION]);
	info->state = nla_get_u32(tb[CACHEPEER_A_NODE_STATE]);
	if (tb[CACHEPEER_A_NODE_NAME])
		copy_str(info->name, sizeof(info->name), tb[CACHEPEER_A_NODE_NAME]);
	if (tb[CACHEPEER_A_NODE_LISTEN_ADDR] && tb[CACHEPEER_A_NODE_LISTEN_PORT])
		fmt_addr(info->listen, sizeof(info->listen), tb[CACHEPEER_A_NODE_LISTEN_ADDR],
			 tb[CACHEPEER_A_NODE_LISTEN_PORT]);
	if (tb[CACHEPEER_A_NODE_DIR])
		copy_str(info->dir, sizeof(info->dir), tb[CACHEPEER_A_NODE_DIR]);
	if (tb[CACHEPEER_A_NODE_MAX_BLOCK])
		info->max_block = get_uint(tb[CACHEPEER_A_NODE_MAX_BLOCK]);
	if (tb[CACHEPEER_A_NODE_FRAME_TIMEOUT])
		info->frame_timeout_ms = nla_get_u32(tb[CACHEPEER_A_NODE_FRAME_TIMEOUT]);
	if (tb[CACHEPEER_A_NODE_EPOCH])
		info->epoch = get_uint(tb[CACHEPEER_A_NODE_EPOCH]);
	parse_limits(tb, &info->limits);
	if (tb[CACHEPEER_A_NODE_STATS])
		parse_cluster_stats(tb[CACHEPEER_A_NODE_STATS], &info->stats);
	if (tb[CACHEPEER_A_NODE_STATS])
		parse_stats(tb[CACHEPEER_A_NODE_STATS], &info->stats);
	return 0;
}

int cp_nl_node_get(struct cp_nl *nl, struct cp_node_info *info)
{
	memset(info, 0, sizeof(*info));
	return request(nl, CACHEPEER_CMD_NODE_GET, NULL, NULL, parse_node, info);
}

static int fill_name(struct nl_msg *msg, const void *arg)
{
	return nla_put_string(msg, CACHEPEER_A_NODE_NAME, arg) < 0 ? -EMSGSIZE : 0;
}

int cp_nl_node_set_name(struct cp_nl *nl, const char *name)
{
	return request(nl, CACHEPEER_CMD_NODE_SET, fill_name, name, NULL, NULL);
}

static int fill_start(struct nl_msg *msg, const void *arg)
{
	const struct cp_start_cfg *cfg = arg;
	int alen = cfg->family == AF_INET6 ? 16 : 4;

	if (nla_put(msg, CACHEPEER_A_NODE_LISTEN_ADDR, alen, cfg->addr) < 0 ||
	    nla_put_u16(msg, CACHEPEER_A_NODE_LISTEN_PORT, cfg->port) < 0 ||
	    nla_put_string(msg, CACHEPEER_A_NODE_DIR, cfg->dir) < 0 ||
	    (cfg->max_block && nla_put_u64(msg, CACHEPEER_A_NODE_MAX_BLOCK, cfg->max_block) < 0) ||
	    (cfg->frame_timeout_ms &&
	     nla_put_u32(msg, CACHEPEER_A_NODE_FRAME_TIMEOUT, cfg->frame_timeout_ms) < 0))
		return -EMSGSIZE;
	return 0;
}

int cp_nl_node_start(struct cp_nl *nl, const struct cp_start_cfg *cfg)
{
	return request(nl, CACHEPEER_CMD_NODE_START, fill_start, cfg, NULL, NULL);
}

int cp_nl_node_stop(struct cp_nl *nl)
{
	return request(nl, CACHEPEER_CMD_NODE_STOP, NULL, NULL, NULL, NULL);
}

static int fill_limits(struct nl_msg *msg, const void *arg)
{
	const struct cp_limits *lim = arg;

	if (((lim->set & CP_LIM_BYTES) &&
	     nla_put_u64(msg, CACHEPEER_A_NODE_LIMIT_BYTES, lim->max_bytes) < 0) ||
	    ((lim->set & CP_LIM_BLOCKS) &&
	     nla_put_u64(msg, CACHEPEER_A_NODE_LIMIT_BLOCKS, lim->max_blocks) < 0) ||
	    ((lim->set & CP_LIM_SCRUB_RATE) &&
	     nla_put_u64(msg, CACHEPEER_A_NODE_SCRUB_RATE, lim->scrub_rate) < 0) ||
	    ((lim->set & CP_LIM_FS_STOP) &&
	     nla_put_u8(msg, CACHEPEER_A_NODE_FS_STOP, lim->fs_stop) < 0) ||
	    ((lim->set & CP_LIM_FS_CULL) &&
	     nla_put_u8(msg, CACHEPEER_A_NODE_FS_CULL, lim->fs_cull) < 0) ||
	    ((lim->set & CP_LIM_FS_RUN) &&
	     nla_put_u8(msg, CACHEPEER_A_NODE_FS_RUN, lim->fs_run) < 0) ||
	    ((lim->set & CP_LIM_EVICT) &&
	     nla_put_u8(msg, CACHEPEER_A_NODE_EVICT, lim->evict) < 0))
		return -EMSGSIZE;
	return 0;
}

int cp_nl_node_set_limits(struct cp_nl *nl, const struct cp_limits *lim)
{
	return request(nl, CACHEPEER_CMD_NODE_SET, fill_limits, lim, NULL, NULL);
}

int cp_nl_scrub_start(struct cp_nl *nl)
{
	return request(nl, CACHEPEER_CMD_SCRUB_START, NULL, NULL, NULL, NULL);
}

struct conn_list {
	void (*fn)(const struct cp_conn_entry *ce, void *arg);
	void *arg;
};

static int parse_conn(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	const struct conn_list *cl = arg;
	struct nlattr *c[CACHEPEER_A_CONN_MAX + 1];
	struct cp_conn_entry ce = { .peer = "-", .cpu = -1 };

	if (!tb[CACHEPEER_A_NODE_CONN] ||
	    nla_parse_nested(c, CACHEPEER_A_CONN_MAX, tb[CACHEPEER_A_NODE_CONN], NULL) < 0)
		return -EBADMSG;
	if (c[CACHEPEER_A_CONN_ADDR] && c[CACHEPEER_A_CONN_PORT])
		fmt_addr(ce.peer, sizeof(ce.peer), c[CACHEPEER_A_CONN_ADDR],
			 c[CACHEPEER_A_CONN_PORT]);
	if (c[CACHEPEER_A_CONN_INFLIGHT])
		ce.inflight = get_uint(c[CACHEPEER_A_CONN_INFLIGHT]);
	if (c[CACHEPEER_A_CONN_RX_BYTES])
		ce.rx_bytes = get_uint(c[CACHEPEER_A_CONN_RX_BYTES]);
	if (c[CACHEPEER_A_CONN_TX_BYTES])
		ce.tx_bytes = get_uint(c[CACHEPEER_A_CONN_TX_BYTES]);
	if (c[CACHEPEER_A_CONN_AGE_MS])
		ce.age_ms = get_uint(c[CACHEPEER_A_CONN_AGE_MS]);
	if (c[CACHEPEER_A_CONN_CPU])
		ce.cpu = (int)nla_get_u32(c[CACHEPEER_A_CONN_CPU]);
	cl->fn(&ce, cl->arg);
	return 0;
}

int cp_nl_conn_list(struct cp_nl *nl, void (*fn)(const struct cp_conn_entry *ce, void *arg),
		    void *arg)
{
	struct conn_list cl = { .fn = fn, .arg = arg };

	return request_flags(nl, CACHEPEER_CMD_CONN_GET, NLM_F_DUMP, NULL, NULL, parse_conn, &cl);
}

static int parse_member(struct nlattr *nest, struct cp_ring_member *m)
{
	struct nlattr *tb[CACHEPEER_A_MEMBER_MAX + 1];

	if (nla_parse_nested(tb, CACHEPEER_A_MEMBER_MAX, nest, NULL) < 0 ||
	    !tb[CACHEPEER_A_MEMBER_NAME] || !tb[CACHEPEER_A_MEMBER_ADDR] ||
	    !tb[CACHEPEER_A_MEMBER_PORT])
		return -EBADMSG;
	memset(m, 0, sizeof(*m));
	copy_str(m->name, sizeof(m->name), tb[CACHEPEER_A_MEMBER_NAME]);
	fmt_addr(m->addr, sizeof(m->addr), tb[CACHEPEER_A_MEMBER_ADDR],
		 tb[CACHEPEER_A_MEMBER_PORT]);
	if (tb[CACHEPEER_A_MEMBER_WEIGHT])
		m->weight = nla_get_u32(tb[CACHEPEER_A_MEMBER_WEIGHT]);
	if (tb[CACHEPEER_A_MEMBER_POINTS])
		m->points = get_uint(tb[CACHEPEER_A_MEMBER_POINTS]);
	return 0;
}

static int parse_ring(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	struct cp_ring_info *ri = arg;
	struct nlattr *a;
	int rem;

	if (tb[CACHEPEER_A_NODE_EPOCH])
		ri->ring.epoch = get_uint(tb[CACHEPEER_A_NODE_EPOCH]);
	if (tb[CACHEPEER_A_NODE_MISS])
		ri->miss = nla_get_u8(tb[CACHEPEER_A_NODE_MISS]);
	if (tb[CACHEPEER_A_NODE_HANDOFF])
		ri->handoff_s = nla_get_u32(tb[CACHEPEER_A_NODE_HANDOFF]);
	if (tb[CACHEPEER_A_NODE_KEY_SET])
		ri->key_set = nla_get_u8(tb[CACHEPEER_A_NODE_KEY_SET]);
	if (tb[CACHEPEER_A_NODE_RING_MEM])
		ri->mem = get_uint(tb[CACHEPEER_A_NODE_RING_MEM]);
	if (tb[CACHEPEER_A_NODE_RING_BUILD_NS])
		ri->build_ns = get_uint(tb[CACHEPEER_A_NODE_RING_BUILD_NS]);
	free(ri->ring.m);
	ri->ring.m = calloc(CACHEPEER_RING_MEMBERS_MAX, sizeof(*ri->ring.m));
	if (!ri->ring.m)
		return -ENOMEM;
	ri->ring.n = 0;
	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		if (nla_type(a) != CACHEPEER_A_NODE_MEMBER)
			continue;
		if (ri->ring.n == CACHEPEER_RING_MEMBERS_MAX ||
		    parse_member(a, &ri->ring.m[ri->ring.n]))
			return -EBADMSG;
		ri->ring.n++;
	}
	return 0;
}

int cp_nl_ring_get(struct cp_nl *nl, struct cp_ring_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	return request(nl, CACHEPEER_CMD_RING_GET, NULL, NULL, parse_ring, ri);
}

/* A member nest; with only_weight, its name and weight alone. */
static int put_member(struct nl_msg *msg, const struct cp_ring_member *m, bool only_weight)
{
	struct nlattr *nest = nla_nest_start(msg, CACHEPEER_A_NODE_MEMBER);
	struct sockaddr_storage ss;
	socklen_t len;

	if (!nest || nla_put_string(msg, CACHEPEER_A_MEMBER_NAME, m->name) < 0 ||
	    nla_put_u32(msg, CACHEPEER_A_MEMBER_WEIGHT, m->weight) < 0)
		return -EMSGSIZE;
	if (!only_weight) {
		const struct sockaddr_in6 *sin6 = (const void *)&ss;
		const struct sockaddr_in *sin = (const void *)&ss;

		if (cp_parse_peer(m->addr, &ss, &len))
			return -EINVAL;
		if ((ss.ss_family == AF_INET6 ?
		     nla_put(msg, CACHEPEER_A_MEMBER_ADDR, 16, &sin6->sin6_addr) :
		     nla_put(msg, CACHEPEER_A_MEMBER_ADDR, 4, &sin->sin_addr)) < 0 ||
		    nla_put_u16(msg, CACHEPEER_A_MEMBER_PORT,
				ntohs(ss.ss_family == AF_INET6 ? sin6->sin6_port :
				      sin->sin_port)) < 0)
			return -EMSGSIZE;
	}
	nla_nest_end(msg, nest);
	return 0;
}

struct ring_set {
	const struct cp_ring_member *m;
	unsigned int n;
	__u64 base_epoch;
};

static int fill_ring_set(struct nl_msg *msg, const void *arg)
{
	const struct ring_set *rs = arg;
	unsigned int i;
	int ret;

	for (i = 0; i < rs->n; i++) {
		ret = put_member(msg, &rs->m[i], false);
		if (ret)
			return ret;
	}
	if (rs->base_epoch && nla_put_u64(msg, CACHEPEER_A_NODE_BASE_EPOCH, rs->base_epoch) < 0)
		return -EMSGSIZE;
	return 0;
}

int cp_nl_ring_set(struct cp_nl *nl, const struct cp_ring_member *m, unsigned int n,
		   __u64 base_epoch)
{
	struct ring_set rs = { .m = m, .n = n, .base_epoch = base_epoch };

	return request(nl, CACHEPEER_CMD_RING_SET, fill_ring_set, &rs, NULL, NULL);
}

static int fill_member(struct nl_msg *msg, const void *arg)
{
	return put_member(msg, arg, false);
}

static int fill_weight(struct nl_msg *msg, const void *arg)
{
	return put_member(msg, arg, true);
}

int cp_nl_ring_add(struct cp_nl *nl, const struct cp_ring_member *m)
{
	return request(nl, CACHEPEER_CMD_RING_ADD, fill_member, m, NULL, NULL);
}

int cp_nl_ring_weight(struct cp_nl *nl, const struct cp_ring_member *m)
{
	return request(nl, CACHEPEER_CMD_RING_WEIGHT, fill_weight, m, NULL, NULL);
}

int cp_nl_ring_del(struct cp_nl *nl, const char *name)
{
	return request(nl, CACHEPEER_CMD_RING_DEL, fill_name, name, NULL, NULL);
}

struct lookup {
	const void *key;
	size_t len;
	__u32 count;
	__u64 hash, ns;
	struct cp_ring_member *owner;
	bool found;
};

static int fill_lookup(struct nl_msg *msg, const void *arg)
{
	const struct lookup *lk = arg;

	if (nla_put(msg, CACHEPEER_A_NODE_KEY_HASH_OF, lk->len, lk->key) < 0 ||
	    (lk->count && nla_put_u32(msg, CACHEPEER_A_NODE_LOOKUP_COUNT, lk->count) < 0))
		return -EMSGSIZE;
	return 0;
}

static int parse_lookup(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	struct lookup *lk = arg;

	if (!tb[CACHEPEER_A_NODE_KEY_HASH])
		return -EBADMSG;
	lk->hash = nla_get_u64(tb[CACHEPEER_A_NODE_KEY_HASH]);
	if (tb[CACHEPEER_A_NODE_LOOKUP_NS])
		lk->ns = get_uint(tb[CACHEPEER_A_NODE_LOOKUP_NS]);
	if (tb[CACHEPEER_A_NODE_MEMBER]) {
		if (parse_member(tb[CACHEPEER_A_NODE_MEMBER], lk->owner))
			return -EBADMSG;
		lk->found = true;
	}
	return 0;
}

int cp_nl_ring_lookup(struct cp_nl *nl, const void *key, size_t len, __u64 *hash,
		      struct cp_ring_member *owner)
{
	return cp_nl_ring_time(nl, key, len, 0, hash, owner, NULL);
}

int cp_nl_ring_time(struct cp_nl *nl, const void *key, size_t len, __u32 count, __u64 *hash,
		    struct cp_ring_member *owner, __u64 *ns)
{
	struct lookup lk = { .key = key, .len = len, .count = count, .owner = owner };
	int ret;

	ret = request(nl, CACHEPEER_CMD_RING_LOOKUP, fill_lookup, &lk, parse_lookup, &lk);
	*hash = lk.hash;
	if (ns)
		*ns = lk.ns;
	return ret ?: lk.found ? 0 : -ENOENT;
}

static int fill_cluster(struct nl_msg *msg, const void *arg)
{
	const struct cp_cluster_cfg *cc = arg;

	if ((cc->key_len && nla_put(msg, CACHEPEER_A_NODE_CLUSTER_KEY, cc->key_len, cc->key) < 0) ||
	    (cc->miss >= 0 && nla_put_u8(msg, CACHEPEER_A_NODE_MISS, cc->miss) < 0) ||
	    (cc->handoff_s >= 0 && nla_put_u32(msg, CACHEPEER_A_NODE_HANDOFF, cc->handoff_s) < 0) ||
	    (cc->name && nla_put_string(msg, CACHEPEER_A_NODE_NAME, cc->name) < 0))
		return -EMSGSIZE;
	return 0;
}

int cp_nl_node_set_cluster(struct cp_nl *nl, const struct cp_cluster_cfg *cc)
{
	return request(nl, CACHEPEER_CMD_NODE_SET, fill_cluster, cc, NULL, NULL);
}
