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
	bool intr;		/* a dump that spanned a change: NLM_F_DUMP_INTR */
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
		/* Before any request, the family was not found. */
		base = nl ? strerror(ENOENT) : "cachepeer module is not loaded";
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

/* Read the dump to its end, then have it done again (request_flags()). */
static int on_dump_intr(struct nl_msg *msg, void *arg)
{
	struct request *req = arg;

	req->intr = true;
	return NL_OK;
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

/*
 * Send one request and wait for its reply (if any) and ACK. A dump the
 * kernel flagged as spanning a change of what it lists returns -EAGAIN,
 * after the whole dump was read.
 */
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
	nl_cb_set(cb, NL_CB_DUMP_INTR, NL_CB_CUSTOM, on_dump_intr, &req);
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
	else if (!ret && req.intr)
		ret = -EAGAIN;
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

static void parse_family(struct nlattr *nest, __u64 *out, int max, int base)
{
	struct nlattr *a;
	int rem;

	nla_for_each_nested(a, nest, rem) {
		int t = nla_type(a) - base;

		if (t >= 0 && t <= max)
			out[t] = get_uint(a);
	}
}

/* CACHEPEER_A_STATS_LATENCY: a nest per op, of its count, sum and buckets. */
static void parse_latency(struct nlattr *nest, struct cp_lat *lat)
{
	struct nlattr *tb[CACHEPEER_A_LAT_MAX + 1], *a;
	unsigned int first, n;
	int rem;

	nla_for_each_nested(a, nest, rem) {
		struct cp_lat *l;

		if (nla_type(a) > CACHEPEER_OP_MAX ||
		    nla_parse_nested(tb, CACHEPEER_A_LAT_MAX, a, NULL) < 0 ||
		    !tb[CACHEPEER_A_LAT_COUNT] || !tb[CACHEPEER_A_LAT_SUM_NS] ||
		    !tb[CACHEPEER_A_LAT_FIRST] || !tb[CACHEPEER_A_LAT_BUCKETS])
			continue;
		l = &lat[nla_type(a)];
		first = nla_get_u32(tb[CACHEPEER_A_LAT_FIRST]);
		n = nla_len(tb[CACHEPEER_A_LAT_BUCKETS]) / sizeof(__u64);
		if (first > CACHEPEER_LAT_BUCKETS || n > CACHEPEER_LAT_BUCKETS - first)
			continue;
		l->count = get_uint(tb[CACHEPEER_A_LAT_COUNT]);
		l->sum_ns = get_uint(tb[CACHEPEER_A_LAT_SUM_NS]);
		memcpy(l->b + first, nla_data(tb[CACHEPEER_A_LAT_BUCKETS]), n * sizeof(__u64));
	}
}

/* NODE_GET's statistics, as the counter table places them. */
static void parse_stats(struct nlattr *nest, struct cp_node_stats *st)
{
	struct nlattr *tb[CACHEPEER_A_STATS_MAX + 1], *sub[CACHEPEER_A_STATS_MAX + 1];
	unsigned int i;

	if (nla_parse_nested(tb, CACHEPEER_A_STATS_MAX, nest, NULL) < 0)
		return;
	for (i = 0; i < ncounters; i++) {
		const struct counter *c = &counters[i];
		struct nlattr **in = tb;

		if (c->nest) {
			if (!tb[c->nest] ||
			    nla_parse_nested(sub, CACHEPEER_A_STATS_MAX, tb[c->nest], NULL) < 0)
				continue;
			in = sub;
		}
		if (in[c->attr])
			st->v[i] = get_uint(in[c->attr]);
	}
	if (tb[CACHEPEER_A_STATS_OPS])
		parse_family(tb[CACHEPEER_A_STATS_OPS], st->ops, CACHEPEER_OP_MAX, 0);
	if (tb[CACHEPEER_A_STATS_STATUS])
		parse_family(tb[CACHEPEER_A_STATS_STATUS], st->status, CACHEPEER_S_MAX, 1);
	if (tb[CACHEPEER_A_STATS_LATENCY])
		parse_latency(tb[CACHEPEER_A_STATS_LATENCY], st->lat);
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
	if (tb[CACHEPEER_A_NODE_MAX_CONNS])
		lim->max_conns = nla_get_u32(tb[CACHEPEER_A_NODE_MAX_CONNS]);
	if (tb[CACHEPEER_A_NODE_MAX_CONNS_SOURCE])
		lim->max_conns_source = nla_get_u32(tb[CACHEPEER_A_NODE_MAX_CONNS_SOURCE]);
	if (tb[CACHEPEER_A_NODE_CONN_QUEUE])
		lim->conn_queue = get_uint(tb[CACHEPEER_A_NODE_CONN_QUEUE]);
	if (tb[CACHEPEER_A_NODE_NODE_QUEUE])
		lim->node_queue = get_uint(tb[CACHEPEER_A_NODE_NODE_QUEUE]);
	if (tb[CACHEPEER_A_NODE_CONN_PIN])
		lim->conn_pin = get_uint(tb[CACHEPEER_A_NODE_CONN_PIN]);
	if (tb[CACHEPEER_A_NODE_IDLE_TIMEOUT])
		lim->idle_timeout_s = nla_get_u32(tb[CACHEPEER_A_NODE_IDLE_TIMEOUT]);
}

/* An address attribute (4 or 16 bytes) and a u16 port as ADDR:PORT or [ADDR6]:PORT. */
static void fmt_addr(char *buf, size_t size, struct nlattr *addr, struct nlattr *port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *sin6 = (void *)&ss;
	struct sockaddr_in *sin = (void *)&ss;

	if (nla_len(addr) == 16) {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, nla_data(addr), 16);
		sin6->sin6_port = htons(nla_get_u16(port));
	} else if (nla_len(addr) == 4) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, nla_data(addr), 4);
		sin->sin_port = htons(nla_get_u16(port));
	}
	cp_fmt_sockaddr((struct sockaddr *)&ss, buf, size);
}

/* A socket address as an address attribute (4 or 16 bytes) and a u16 port. */
static int put_sockaddr(struct nl_msg *msg, int addr_type, int port_type,
			const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *sin6 = (const void *)ss;
	const struct sockaddr_in *sin = (const void *)ss;

	if ((ss->ss_family == AF_INET6 ? nla_put(msg, addr_type, 16, &sin6->sin6_addr) :
	     nla_put(msg, addr_type, 4, &sin->sin_addr)) < 0 ||
	    nla_put_u16(msg, port_type,
			ntohs(ss->ss_family == AF_INET6 ? sin6->sin6_port : sin->sin_port)) < 0)
		return -EMSGSIZE;
	return 0;
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
	if (tb[CACHEPEER_A_NODE_ACCESS])
		info->access = nla_get_u8(tb[CACHEPEER_A_NODE_ACCESS]);
	if (tb[CACHEPEER_A_NODE_ACCESS_NOW])
		info->access_now = nla_get_u8(tb[CACHEPEER_A_NODE_ACCESS_NOW]);
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

static int fill_settings(struct nl_msg *msg, const void *arg)
{
	const struct cp_settings *set = arg;
	const bool *g = set->given;

	if ((g[CP_SET_NAME] && nla_put_string(msg, CACHEPEER_A_NODE_NAME, set->name) < 0) ||
	    (g[CP_SET_KEY] &&
	     nla_put(msg, CACHEPEER_A_NODE_CLUSTER_KEY, set->key_len, set->key) < 0) ||
	    (g[CP_SET_NEXT_KEY] &&
	     nla_put(msg, CACHEPEER_A_NODE_NEXT_CLUSTER_KEY, set->next_key_len,
		     set->next_key) < 0) ||
	    (g[CP_SET_ACCESS] && nla_put_u8(msg, CACHEPEER_A_NODE_ACCESS, set->access) < 0) ||
	    (g[CP_SET_MISS] && nla_put_u8(msg, CACHEPEER_A_NODE_MISS, set->miss) < 0) ||
	    (g[CP_SET_HANDOFF] &&
	     nla_put_u32(msg, CACHEPEER_A_NODE_HANDOFF, set->handoff_s) < 0) ||
	    (g[CP_SET_MAX_BYTES] &&
	     nla_put_u64(msg, CACHEPEER_A_NODE_LIMIT_BYTES, set->max_bytes) < 0) ||
	    (g[CP_SET_MAX_BLOCKS] &&
	     nla_put_u64(msg, CACHEPEER_A_NODE_LIMIT_BLOCKS, set->max_blocks) < 0) ||
	    (g[CP_SET_FS_STOP] && nla_put_u8(msg, CACHEPEER_A_NODE_FS_STOP, set->fs_stop) < 0) ||
	    (g[CP_SET_FS_CULL] && nla_put_u8(msg, CACHEPEER_A_NODE_FS_CULL, set->fs_cull) < 0) ||
	    (g[CP_SET_FS_RUN] && nla_put_u8(msg, CACHEPEER_A_NODE_FS_RUN, set->fs_run) < 0) ||
	    (g[CP_SET_EVICT] && nla_put_u8(msg, CACHEPEER_A_NODE_EVICT, set->evict) < 0) ||
	    (g[CP_SET_SCRUB_RATE] &&
	     nla_put_u64(msg, CACHEPEER_A_NODE_SCRUB_RATE, set->scrub_rate) < 0) ||
	    (g[CP_SET_MAX_CONNS] &&
	     nla_put_u32(msg, CACHEPEER_A_NODE_MAX_CONNS, set->max_conns) < 0) ||
	    (g[CP_SET_MAX_CONNS_SOURCE] &&
	     nla_put_u32(msg, CACHEPEER_A_NODE_MAX_CONNS_SOURCE, set->max_conns_source) < 0) ||
	    (g[CP_SET_CONN_QUEUE] &&
	     nla_put_u64(msg, CACHEPEER_A_NODE_CONN_QUEUE, set->conn_queue) < 0) ||
	    (g[CP_SET_NODE_QUEUE] &&
	     nla_put_u64(msg, CACHEPEER_A_NODE_NODE_QUEUE, set->node_queue) < 0) ||
	    (g[CP_SET_CONN_PIN] &&
	     nla_put_u64(msg, CACHEPEER_A_NODE_CONN_PIN, set->conn_pin) < 0) ||
	    (g[CP_SET_IDLE_TIMEOUT] &&
	     nla_put_u32(msg, CACHEPEER_A_NODE_IDLE_TIMEOUT, set->idle_timeout_s) < 0))
		return -EMSGSIZE;
	return 0;
}

int cp_nl_node_set(struct cp_nl *nl, const struct cp_settings *set)
{
	return request(nl, CACHEPEER_CMD_NODE_SET, fill_settings, set, NULL, NULL);
}

static int fill_start(struct nl_msg *msg, const void *arg)
{
	const struct cp_start_cfg *cfg = arg;

	if (put_sockaddr(msg, CACHEPEER_A_NODE_LISTEN_ADDR, CACHEPEER_A_NODE_LISTEN_PORT,
			 &cfg->listen) ||
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

int cp_nl_scrub_start(struct cp_nl *nl)
{
	return request(nl, CACHEPEER_CMD_SCRUB_START, NULL, NULL, NULL, NULL);
}

struct conn_list {
	struct cp_conn_entry *e;
	unsigned int n, cap;
};

static int parse_conn(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	struct conn_list *cl = arg;
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
	if (c[CACHEPEER_A_CONN_QUEUED])
		ce.queued = get_uint(c[CACHEPEER_A_CONN_QUEUED]);
	if (c[CACHEPEER_A_CONN_PINNED])
		ce.pinned = get_uint(c[CACHEPEER_A_CONN_PINNED]);
	if (c[CACHEPEER_A_CONN_MEMBER])
		ce.member = nla_get_u8(c[CACHEPEER_A_CONN_MEMBER]);
	if (cl->n == cl->cap) {
		struct cp_conn_entry *more;

		cl->cap = cl->cap ? 2 * cl->cap : 64;
		more = realloc(cl->e, cl->cap * sizeof(*cl->e));
		if (!more)
			return -ENOMEM;
		cl->e = more;
	}
	cl->e[cl->n++] = ce;
	return 0;
}

struct key_edit {
	const char *name;
	__u8 role;
	const void *secret;
	size_t len;
};

static int fill_key(struct nl_msg *msg, const void *arg)
{
	const struct key_edit *k = arg;
	struct nlattr *nest = nla_nest_start(msg, CACHEPEER_A_NODE_KEY);

	if (!nest || nla_put_string(msg, CACHEPEER_A_KEY_NAME, k->name) < 0 ||
	    (k->role && nla_put_u8(msg, CACHEPEER_A_KEY_ROLE, k->role) < 0) ||
	    (k->secret && nla_put(msg, CACHEPEER_A_KEY_SECRET, k->len, k->secret) < 0))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

int cp_nl_key_add(struct cp_nl *nl, const char *name, __u8 role, const void *secret, size_t len)
{
	struct key_edit k = { .name = name, .role = role, .secret = secret, .len = len };

	return request(nl, CACHEPEER_CMD_KEY_ADD, fill_key, &k, NULL, NULL);
}

int cp_nl_key_del(struct cp_nl *nl, const char *name)
{
	struct key_edit k = { .name = name };

	return request(nl, CACHEPEER_CMD_KEY_DEL, fill_key, &k, NULL, NULL);
}

struct key_list {
	struct cp_key_entry *e;
	unsigned int n, max;
};

static int parse_key(struct nlattr **tb, struct nlmsghdr *nlh, void *arg)
{
	struct key_list *kl = arg;
	struct nlattr *k[CACHEPEER_A_KEY_MAX + 1];
	struct cp_key_entry *e;

	if (!tb[CACHEPEER_A_NODE_KEY] ||
	    nla_parse_nested(k, CACHEPEER_A_KEY_MAX, tb[CACHEPEER_A_NODE_KEY], NULL) < 0 ||
	    !k[CACHEPEER_A_KEY_NAME] || !k[CACHEPEER_A_KEY_ROLE] ||
	    !k[CACHEPEER_A_KEY_FINGERPRINT] ||
	    nla_len(k[CACHEPEER_A_KEY_FINGERPRINT]) != sizeof(e->fpr))
		return -EBADMSG;
	if (kl->n == kl->max)
		return -EMSGSIZE;
	e = &kl->e[kl->n++];
	memset(e, 0, sizeof(*e));
	copy_str(e->name, sizeof(e->name), k[CACHEPEER_A_KEY_NAME]);
	e->role = nla_get_u8(k[CACHEPEER_A_KEY_ROLE]);
	memcpy(e->fpr, nla_data(k[CACHEPEER_A_KEY_FINGERPRINT]), sizeof(e->fpr));
	if (k[CACHEPEER_A_KEY_CONNS])
		e->conns = nla_get_u32(k[CACHEPEER_A_KEY_CONNS]);
	e->next = k[CACHEPEER_A_KEY_NEXT] ? nla_get_u8(k[CACHEPEER_A_KEY_NEXT]) : -1;
	return 0;
}

/* The node's keys, at most max of them into e; *n of them. */
int cp_nl_key_list(struct cp_nl *nl, struct cp_key_entry *e, unsigned int max, unsigned int *n)
{
	struct key_list kl = { .e = e, .max = max };
	int ret = request_flags(nl, CACHEPEER_CMD_KEY_GET, NLM_F_DUMP, NULL, NULL, parse_key, &kl);

	*n = kl.n;
	return ret;
}

/* How often a dump that spans changes of the list is started again. */
#define CP_NL_DUMP_TRIES	10

/*
 * The node's connections, as one consistent listing: a dump during which
 * connections came or went is read again. *list is malloc'd.
 */
int cp_nl_conn_list(struct cp_nl *nl, struct cp_conn_entry **list, unsigned int *n)
{
	struct conn_list cl = { 0 };
	int tries, ret = -EAGAIN;

	for (tries = 0; ret == -EAGAIN && tries < CP_NL_DUMP_TRIES; tries++) {
		cl.n = 0;
		ret = request_flags(nl, CACHEPEER_CMD_CONN_GET, NLM_F_DUMP, NULL, NULL,
				    parse_conn, &cl);
	}
	if (ret) {
		free(cl.e);
		return ret == -EAGAIN ? -EBUSY : ret;
	}
	*list = cl.e;
	*n = cl.n;
	return 0;
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
	if (tb[CACHEPEER_A_MEMBER_STATE])
		m->state = nla_get_u8(tb[CACHEPEER_A_MEMBER_STATE]);
	if (tb[CACHEPEER_A_MEMBER_INCARNATION])
		m->incarnation = nla_get_u32(tb[CACHEPEER_A_MEMBER_INCARNATION]);
	m->heard_ms = tb[CACHEPEER_A_MEMBER_HEARD_MS] ?
		      (long long)get_uint(tb[CACHEPEER_A_MEMBER_HEARD_MS]) : -1;
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
		if (cp_parse_peer(m->addr, &ss, &len))
			return -EINVAL;
		if (put_sockaddr(msg, CACHEPEER_A_MEMBER_ADDR, CACHEPEER_A_MEMBER_PORT, &ss))
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
