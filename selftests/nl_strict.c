// SPDX-License-Identifier: GPL-2.0
/*
 * Malformed control requests are rejected with an error, never a crash, and
 * change nothing. Raw netlink so every header field is under our control.
 * Each test runs in a network namespace of its own, i.e. on a fresh node.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/cachepeer.h>

#include "cp_test.h"
#include "kselftest_harness.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct req {
	struct nlmsghdr nlh;
	struct genlmsghdr genl;
	char attrs[8192];
};

struct reply {
	int error;			/* 0 or negative errno */
	char extack[256];
	int miss_type;			/* NLMSGERR_ATTR_MISS_TYPE or -1 */
	char name[CACHEPEER_NAME_MAX + 2];
	int state;
	long long epoch;
};

static void req_init(struct req *r, int family, int cmd)
{
	memset(r, 0, sizeof(*r));
	r->nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	r->nlh.nlmsg_type = family;
	r->nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	r->nlh.nlmsg_seq = 1;
	r->genl.cmd = cmd;
	r->genl.version = CACHEPEER_GENL_VERSION;
}

static void put_attr(struct req *r, int type, const void *data, int len)
{
	struct nlattr *a = (struct nlattr *)((char *)r + NLMSG_ALIGN(r->nlh.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	r->nlh.nlmsg_len = NLMSG_ALIGN(r->nlh.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void parse_attrs(struct nlattr *a, int len, struct reply *rep, int ext)
{
	for (; len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= len;
	     len -= NLA_ALIGN(a->nla_len),
	     a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len))) {
		void *d = (char *)a + NLA_HDRLEN;
		int dl = a->nla_len - NLA_HDRLEN;

		if (ext && a->nla_type == NLMSGERR_ATTR_MSG)
			snprintf(rep->extack, sizeof(rep->extack), "%.*s", dl, (char *)d);
		else if (ext && a->nla_type == NLMSGERR_ATTR_MISS_TYPE)
			rep->miss_type = *(__u32 *)d;
		else if (!ext && a->nla_type == CACHEPEER_A_NODE_NAME)
			snprintf(rep->name, sizeof(rep->name), "%.*s", dl, (char *)d);
		else if (!ext && a->nla_type == CACHEPEER_A_NODE_STATE)
			rep->state = *(__u32 *)d;
		else if (!ext && a->nla_type == CACHEPEER_A_NODE_EPOCH)
			rep->epoch = dl == 8 ? *(__u64 *)d : *(__u32 *)d;
	}
}

/* Send len bytes of r and collect the answer up to the ACK, error or dump's end. */
static int transact(int fd, const void *r, size_t len, struct reply *rep)
{
	static char buf[65536];
	struct nlmsghdr *h;
	ssize_t n;

	memset(rep, 0, sizeof(*rep));
	rep->miss_type = -1;
	rep->state = -1;
	rep->epoch = -1;
	if (send(fd, r, len, 0) != (ssize_t)len)
		return -errno;
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			return -errno;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);
				size_t off = NLMSG_HDRLEN + sizeof(*e);

				rep->error = e->error;
				if (h->nlmsg_flags & NLM_F_ACK_TLVS)
					parse_attrs((struct nlattr *)((char *)h + off),
						    h->nlmsg_len - off, rep, 1);
				return 0;
			}
			/* A dump's end, with its error: dumps are not ACKed after it. */
			if (h->nlmsg_type == NLMSG_DONE) {
				size_t off = NLMSG_HDRLEN + sizeof(int);

				rep->error = *(int *)NLMSG_DATA(h);
				if (h->nlmsg_flags & NLM_F_ACK_TLVS)
					parse_attrs((struct nlattr *)((char *)h + off),
						    h->nlmsg_len - off, rep, 1);
				return 0;
			}
			parse_attrs((struct nlattr *)((char *)NLMSG_DATA(h) + GENL_HDRLEN),
				    h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN), rep, 0);
		}
	}
}

static int resolve_family(int fd)
{
	struct req r;
	char buf[8192];
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct nlattr *a;
	ssize_t n;
	int len;

	req_init(&r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY);
	r.genl.version = 1;
	r.nlh.nlmsg_flags = NLM_F_REQUEST;
	put_attr(&r, CTRL_ATTR_FAMILY_NAME, CACHEPEER_GENL_NAME, sizeof(CACHEPEER_GENL_NAME));
	if (send(fd, &r, r.nlh.nlmsg_len, 0) < 0)
		return -1;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0 || !NLMSG_OK(h, n) || h->nlmsg_type != GENL_ID_CTRL)
		return -1;
	a = (struct nlattr *)((char *)NLMSG_DATA(h) + GENL_HDRLEN);
	len = h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	for (; len >= NLA_HDRLEN; len -= NLA_ALIGN(a->nla_len),
	     a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len))) {
		if (a->nla_type == CTRL_ATTR_FAMILY_ID)
			return *(__u16 *)((char *)a + NLA_HDRLEN);
	}
	return -1;
}

FIXTURE(node) {
	int fd;
	int family;
	struct req r;
	struct reply rep;
	struct reply node;
};

FIXTURE_SETUP(node)
{
	int one = 1;

	ASSERT_EQ(0, cp_test_load_module());
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	self->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, setsockopt(self->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)));
	ASSERT_EQ(0, setsockopt(self->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one)));
	self->family = resolve_family(self->fd);
	ASSERT_LT(0, self->family);
}

FIXTURE_TEARDOWN(node)
{
	close(self->fd);
}

#define do_req() transact(self->fd, &self->r, self->r.nlh.nlmsg_len, &self->rep)

/* GET the node into *node; also proves the node still answers. */
static const char *get_node(int fd, int family, struct reply *node)
{
	struct req r;

	req_init(&r, family, CACHEPEER_CMD_NODE_GET);
	if (transact(fd, &r, r.nlh.nlmsg_len, node) || node->error)
		snprintf(node->name, sizeof(node->name), "(GET failed)");
	return node->name;
}

#define get_name() get_node(self->fd, self->family, &self->node)

/* Set the name through a valid request and read it back. */
static void set_name(struct __test_metadata *_metadata, int fd, int family, const char *name)
{
	struct reply rep;
	struct req r;

	req_init(&r, family, CACHEPEER_CMD_NODE_SET);
	put_attr(&r, CACHEPEER_A_NODE_NAME, name, strlen(name) + 1);
	ASSERT_EQ(0, transact(fd, &r, r.nlh.nlmsg_len, &rep));
	ASSERT_EQ(0, rep.error);
	ASSERT_STREQ(name, get_node(fd, family, &rep));
}

#define set_name_ok(name) set_name(_metadata, self->fd, self->family, name)

TEST_F(node, valid_set_and_get)
{
	set_name_ok("node-1.a_b");
}

TEST_F(node, unknown_command)
{
	req_init(&self->r, self->family, 99);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-EOPNOTSUPP, self->rep.error);
	req_init(&self->r, self->family, CACHEPEER_CMD_UNSPEC);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-EOPNOTSUPP, self->rep.error);
}

TEST_F(node, set_nothing)
{
	req_init(&self->r, self->family, CACHEPEER_CMD_NODE_SET);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-EINVAL, self->rep.error);
	EXPECT_STREQ("nothing to set: give a name, a limit or a cluster setting", self->rep.extack);
}

/* Out-of-range limits are refused whole: nothing of the request applies. */
TEST_F(node, set_bad_limits)
{
	__u8 pct = 100, evict = CACHEPEER_EVICT_MAX + 1, cull = 50, run = 40;
	__u32 wide = 5;
	__u64 blocks = 7;

	set_name_ok("keep");
	req_init(&self->r, self->family, CACHEPEER_CMD_NODE_SET);
	put_attr(&self->r, CACHEPEER_A_NODE_FS_STOP, &pct, 1);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-ERANGE, self->rep.error);

	req_init(&self->r, self->family, CACHEPEER_CMD_NODE_SET);
	put_attr(&self->r, CACHEPEER_A_NODE_EVICT, &evict, 1);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-ERANGE, self->rep.error);

	req_init(&self->r, self->family, CACHEPEER_CMD_NODE_SET);
	put_attr(&self->r, CACHEPEER_A_NODE_FS_CULL, &wide, sizeof(wide));
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-EINVAL, self->rep.error);

	req_init(&self->r, self->family, CACHEPEER_CMD_NODE_SET);
	put_attr(&self->r, CACHEPEER_A_NODE_NAME, "other", 6);
	put_attr(&self->r, CACHEPEER_A_NODE_LIMIT_BLOCKS, &blocks, sizeof(blocks));
	put_attr(&self->r, CACHEPEER_A_NODE_FS_CULL, &cull, 1);
	put_attr(&self->r, CACHEPEER_A_NODE_FS_RUN, &run, 1);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-EINVAL, self->rep.error);
	EXPECT_STREQ("free-space thresholds must satisfy stop < cull < run", self->rep.extack);
	EXPECT_STREQ("keep", get_name());
}

TEST_F(node, set_oversized_name)
{
	char name[4096];

	set_name_ok("keep");
	memset(name, 'x', sizeof(name));
	name[CACHEPEER_NAME_MAX + 1] = '\0';		/* 64 bytes: one too many */
	req_init(&self->r, self->family, CACHEPEER_CMD_NODE_SET);
	put_attr(&self->r, CACHEPEER_A_NODE_NAME, name, CACHEPEER_NAME_MAX + 2);
	ASSERT_EQ(0, do_req());
	EXPECT_GT(0, self->rep.error);
	EXPECT_NE('\0', self->rep.extack[0]);

	name[sizeof(name) - 1] = '\0';			/* far too long */
	req_init(&self->r, self->family, CACHEPEER_CMD_NODE_SET);
	put_attr(&self->r, CACHEPEER_A_NODE_NAME, name, sizeof(name));
	ASSERT_EQ(0, do_req());
	EXPECT_GT(0, self->rep.error);
	EXPECT_STREQ("keep", get_name());
}

TEST_F(node, set_unterminated_name)
{
	set_name_ok("keep");
	req_init(&self->r, self->family, CACHEPEER_CMD_NODE_SET);
	put_attr(&self->r, CACHEPEER_A_NODE_NAME, "abc", 3);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-EINVAL, self->rep.error);
	EXPECT_STREQ("keep", get_name());
}

TEST_F(node, set_bad_characters)
{
	static const char * const bad[] = { "", "a b", "a/b", "..\xff", "x\n" };
	size_t i;

	set_name_ok("keep");
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		req_init(&self->r, self->family, CACHEPEER_CMD_NODE_SET);
		put_attr(&self->r, CACHEPEER_A_NODE_NAME, bad[i], strlen(bad[i]) + 1);
		ASSERT_EQ(0, do_req());
		EXPECT_EQ(-EINVAL, self->rep.error);
		EXPECT_STREQ("name must be 1-63 bytes of [A-Za-z0-9._-]", self->rep.extack);
	}
	EXPECT_STREQ("keep", get_name());
}

TEST_F(node, unknown_attribute)
{
	__u32 v = 1;

	req_init(&self->r, self->family, CACHEPEER_CMD_NODE_GET);
	put_attr(&self->r, 50, &v, sizeof(v));
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-EINVAL, self->rep.error);

	/* An attribute known to the family but not taken by this op. */
	req_init(&self->r, self->family, CACHEPEER_CMD_NODE_START);
	put_attr(&self->r, CACHEPEER_A_NODE_NAME, "x", 2);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-EINVAL, self->rep.error);
	ASSERT_STRNE("(GET failed)", get_name());
	EXPECT_EQ(CACHEPEER_NODE_STOPPED, self->node.state);
}

/*
 * Ops whose request takes nothing have no policy in the generated op table;
 * their pre_doit or dump start hook refuses attributes all the same.
 */
TEST_F(node, no_attrs_ops)
{
	static const struct {
		int cmd;
		bool dump;
	} ops[] = {
		{ .cmd = CACHEPEER_CMD_NODE_GET }, { .cmd = CACHEPEER_CMD_NODE_STOP },
		{ .cmd = CACHEPEER_CMD_SCRUB_START }, { .cmd = CACHEPEER_CMD_RING_GET },
		{ .cmd = CACHEPEER_CMD_CONN_GET, .dump = true },
		{ .cmd = CACHEPEER_CMD_KEY_GET, .dump = true },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		req_init(&self->r, self->family, ops[i].cmd);
		if (ops[i].dump)
			self->r.nlh.nlmsg_flags |= NLM_F_DUMP;
		put_attr(&self->r, CACHEPEER_A_NODE_NAME, "x", 2);
		ASSERT_EQ(0, do_req());
		EXPECT_EQ(-EINVAL, self->rep.error) TH_LOG("command %d", ops[i].cmd);
		EXPECT_STREQ("this command takes no attributes", self->rep.extack);
	}
	/* Without one, the same ops answer. */
	req_init(&self->r, self->family, CACHEPEER_CMD_RING_GET);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(0, self->rep.error);
	req_init(&self->r, self->family, CACHEPEER_CMD_KEY_GET);
	self->r.nlh.nlmsg_flags |= NLM_F_DUMP;
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(0, self->rep.error);
}

/* Binary attributes' lengths, which the ops check (the spec's policies cannot). */
TEST_F(node, binary_lengths)
{
	static const struct {
		int cmd, type, len;
		const char *msg;
	} bad[] = {
		{ CACHEPEER_CMD_NODE_SET, CACHEPEER_A_NODE_CLUSTER_KEY,
		  CACHEPEER_CLUSTER_KEY_MIN - 1, "a cluster key must be 16 to 64 bytes" },
		{ CACHEPEER_CMD_NODE_SET, CACHEPEER_A_NODE_CLUSTER_KEY,
		  CACHEPEER_CLUSTER_KEY_MAX + 1, "a cluster key must be 16 to 64 bytes" },
		{ CACHEPEER_CMD_NODE_SET, CACHEPEER_A_NODE_NEXT_CLUSTER_KEY, 1,
		  "a cluster key must be 16 to 64 bytes" },
		{ CACHEPEER_CMD_RING_LOOKUP, CACHEPEER_A_NODE_KEY_HASH_OF, 0,
		  "a block key must be 1 to 250 bytes" },
		{ CACHEPEER_CMD_RING_LOOKUP, CACHEPEER_A_NODE_KEY_HASH_OF, CACHEPEER_KEY_MAX + 1,
		  "a block key must be 1 to 250 bytes" },
	};
	static const char zeros[CACHEPEER_KEY_MAX + 1];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		req_init(&self->r, self->family, bad[i].cmd);
		put_attr(&self->r, bad[i].type, zeros, bad[i].len);
		ASSERT_EQ(0, do_req());
		EXPECT_EQ(-EINVAL, self->rep.error) TH_LOG("attribute %d, %d bytes",
							   bad[i].type, bad[i].len);
		EXPECT_STREQ(bad[i].msg, self->rep.extack);
	}
	req_init(&self->r, self->family, CACHEPEER_CMD_RING_LOOKUP);
	put_attr(&self->r, CACHEPEER_A_NODE_KEY_HASH_OF, zeros, CACHEPEER_KEY_MAX);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(0, self->rep.error);
	/* The bounds themselves are accepted. */
	req_init(&self->r, self->family, CACHEPEER_CMD_NODE_SET);
	put_attr(&self->r, CACHEPEER_A_NODE_CLUSTER_KEY, zeros, CACHEPEER_CLUSTER_KEY_MIN);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(0, self->rep.error);
	req_init(&self->r, self->family, CACHEPEER_CMD_NODE_SET);
	put_attr(&self->r, CACHEPEER_A_NODE_NEXT_CLUSTER_KEY, zeros, CACHEPEER_CLUSTER_KEY_MAX);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(0, self->rep.error);
}

/* A KEY_ADD of a write key NAME whose secret is len bytes. */
static void put_key(struct req *r, const char *name, int len)
{
	struct nlattr *nest = (struct nlattr *)((char *)r + NLMSG_ALIGN(r->nlh.nlmsg_len));
	static const char secret[CACHEPEER_SECRET_MAX + 1];
	__u8 role = CACHEPEER_ROLE_WRITE;

	nest->nla_type = CACHEPEER_A_NODE_KEY | NLA_F_NESTED;
	r->nlh.nlmsg_len = NLMSG_ALIGN(r->nlh.nlmsg_len) + NLA_HDRLEN;
	put_attr(r, CACHEPEER_A_KEY_NAME, name, strlen(name) + 1);
	put_attr(r, CACHEPEER_A_KEY_ROLE, &role, sizeof(role));
	put_attr(r, CACHEPEER_A_KEY_SECRET, secret, len);
	nest->nla_len = (char *)r + r->nlh.nlmsg_len - (char *)nest;
}

TEST_F(node, secret_and_address_lengths)
{
	static const char a17[17];
	__u16 port = 7000;
	int len;

	req_init(&self->r, self->family, CACHEPEER_CMD_KEY_ADD);
	put_key(&self->r, "short", CACHEPEER_SECRET_MIN - 1);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-EINVAL, self->rep.error);
	EXPECT_STREQ("a secret must be 16 to 64 bytes", self->rep.extack);
	req_init(&self->r, self->family, CACHEPEER_CMD_KEY_ADD);
	put_key(&self->r, "long", CACHEPEER_SECRET_MAX + 1);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-EINVAL, self->rep.error);
	EXPECT_STREQ("a secret must be 16 to 64 bytes", self->rep.extack);
	req_init(&self->r, self->family, CACHEPEER_CMD_KEY_ADD);
	put_key(&self->r, "min", CACHEPEER_SECRET_MIN);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(0, self->rep.error);
	req_init(&self->r, self->family, CACHEPEER_CMD_KEY_ADD);
	put_key(&self->r, "max", CACHEPEER_SECRET_MAX);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(0, self->rep.error);

	/* Neither 4 nor 16 bytes: 17 and 0. */
	for (len = 17; len >= 0; len -= 17) {
		req_init(&self->r, self->family, CACHEPEER_CMD_NODE_START);
		put_attr(&self->r, CACHEPEER_A_NODE_LISTEN_ADDR, a17, len);
		put_attr(&self->r, CACHEPEER_A_NODE_LISTEN_PORT, &port, sizeof(port));
		put_attr(&self->r, CACHEPEER_A_NODE_DIR, "/tmp", 5);
		ASSERT_EQ(0, do_req());
		EXPECT_EQ(-EINVAL, self->rep.error);
		EXPECT_STREQ("listen address must be 4 (IPv4) or 16 (IPv6) bytes",
			     self->rep.extack);
	}
	ASSERT_STRNE("(GET failed)", get_name());
	EXPECT_EQ(CACHEPEER_NODE_STOPPED, self->node.state);
}

TEST_F(node, attribute_overruns_message)
{
	struct nlattr *a;

	req_init(&self->r, self->family, CACHEPEER_CMD_NODE_SET);
	put_attr(&self->r, CACHEPEER_A_NODE_NAME, "abc", 4);
	a = (struct nlattr *)self->r.attrs;
	a->nla_len = 200;
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-EINVAL, self->rep.error);
}

TEST_F(node, reserved_header_field)
{
	req_init(&self->r, self->family, CACHEPEER_CMD_NODE_GET);
	self->r.genl.reserved = 1;
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-EINVAL, self->rep.error);
	EXPECT_STREQ("genlmsghdr.reserved field is not 0", self->rep.extack);
}

TEST_F(node, create_flag_rejected)
{
	req_init(&self->r, self->family, CACHEPEER_CMD_NODE_START);
	self->r.nlh.nlmsg_flags |= NLM_F_CREATE;
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-EINVAL, self->rep.error);
}

TEST_F(node, truncated_genl_header)
{
	req_init(&self->r, self->family, CACHEPEER_CMD_NODE_GET);
	self->r.nlh.nlmsg_len = NLMSG_HDRLEN + 2;
	ASSERT_EQ(0, transact(self->fd, &self->r, self->r.nlh.nlmsg_len, &self->rep));
	EXPECT_EQ(-EINVAL, self->rep.error);
}

TEST_F(node, dump_not_supported)
{
	req_init(&self->r, self->family, CACHEPEER_CMD_NODE_GET);
	self->r.nlh.nlmsg_flags |= NLM_F_DUMP;
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-EOPNOTSUPP, self->rep.error);
}

/* Random commands, flags and attributes: every one answered, none fatal. */
/* A CACHEPEER_A_NODE_MEMBER nest; alen 0 or port 0 leave those out, weight < 0 too. */
static void put_member(struct req *r, const char *name, const void *addr, int alen, __u16 port,
		       long weight)
{
	struct nlattr *nest = (struct nlattr *)((char *)r + NLMSG_ALIGN(r->nlh.nlmsg_len));
	__u32 w = weight;

	nest->nla_type = CACHEPEER_A_NODE_MEMBER | NLA_F_NESTED;
	r->nlh.nlmsg_len = NLMSG_ALIGN(r->nlh.nlmsg_len) + NLA_HDRLEN;
	put_attr(r, CACHEPEER_A_MEMBER_NAME, name, strlen(name) + 1);
	if (alen)
		put_attr(r, CACHEPEER_A_MEMBER_ADDR, addr, alen);
	if (port)
		put_attr(r, CACHEPEER_A_MEMBER_PORT, &port, sizeof(port));
	if (weight >= 0)
		put_attr(r, CACHEPEER_A_MEMBER_WEIGHT, &w, sizeof(w));
	nest->nla_len = (char *)r + r->nlh.nlmsg_len - (char *)nest;
}

static long long ring_epoch(int fd, int family)
{
	struct reply rep;
	struct req r;

	req_init(&r, family, CACHEPEER_CMD_RING_GET);
	if (transact(fd, &r, r.nlh.nlmsg_len, &rep) || rep.error)
		return -1;
	return rep.epoch;
}

TEST_F(node, ring_bad_members)
{
	static const unsigned char a4[4] = { 10, 0, 0, 1 }, a5[5] = { 10, 0, 0, 1, 0 };
	char longname[CACHEPEER_NAME_MAX + 2];
	long long epoch;

	req_init(&self->r, self->family, CACHEPEER_CMD_RING_ADD);
	put_member(&self->r, "m1", a4, 4, 7000, 100);
	ASSERT_EQ(0, do_req());
	ASSERT_EQ(0, self->rep.error);
	epoch = ring_epoch(self->fd, self->family);
	ASSERT_LT(0, epoch);

	req_init(&self->r, self->family, CACHEPEER_CMD_RING_ADD);
	put_member(&self->r, "m2", a5, 5, 7000, 100);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-EINVAL, self->rep.error);
	EXPECT_STREQ("member address must be 4 (IPv4) or 16 (IPv6) bytes", self->rep.extack);

	req_init(&self->r, self->family, CACHEPEER_CMD_RING_ADD);
	put_member(&self->r, "m2", a4, 4, 7001, CACHEPEER_WEIGHT_MAX + 1);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-ERANGE, self->rep.error);
	EXPECT_NE('\0', self->rep.extack[0]);

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	req_init(&self->r, self->family, CACHEPEER_CMD_RING_ADD);
	put_member(&self->r, longname, a4, 4, 7001, 100);
	ASSERT_EQ(0, do_req());
	EXPECT_GT(0, self->rep.error);
	EXPECT_NE('\0', self->rep.extack[0]);

	req_init(&self->r, self->family, CACHEPEER_CMD_RING_ADD);
	put_member(&self->r, "m2", a4, 4, 0, 100);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-EINVAL, self->rep.error);
	EXPECT_EQ(CACHEPEER_A_MEMBER_PORT, self->rep.miss_type);

	req_init(&self->r, self->family, CACHEPEER_CMD_RING_ADD);
	put_member(&self->r, "m1", a4, 4, 7001, 100);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-EEXIST, self->rep.error);
	EXPECT_STREQ("a member of that name is already in the ring", self->rep.extack);

	req_init(&self->r, self->family, CACHEPEER_CMD_RING_DEL);
	put_attr(&self->r, CACHEPEER_A_NODE_NAME, "m9", 3);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-ENOENT, self->rep.error);
	EXPECT_STREQ("no member of that name in the ring", self->rep.extack);

	/* A whole ring with one bad member is refused whole. */
	req_init(&self->r, self->family, CACHEPEER_CMD_RING_SET);
	put_member(&self->r, "m1", a4, 4, 7000, 100);
	put_member(&self->r, "m2", a4, 4, 7000, 100);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-EINVAL, self->rep.error);
	EXPECT_STREQ("duplicate member address", self->rep.extack);

	req_init(&self->r, self->family, CACHEPEER_CMD_RING_WEIGHT);
	put_member(&self->r, "m1", a4, 4, 7000, 5);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-EINVAL, self->rep.error);
	EXPECT_STREQ("a weight change takes a name and a weight only", self->rep.extack);

	EXPECT_EQ(epoch, ring_epoch(self->fd, self->family));
}

/* An epoch that would wrap to 0 is refused: such a ring would lose to every other. */
TEST_F(node, epoch_would_wrap)
{
	static const unsigned char a4[4] = { 10, 0, 0, 1 };
	__u64 base = ~0ULL;

	req_init(&self->r, self->family, CACHEPEER_CMD_RING_SET);
	put_member(&self->r, "m1", a4, 4, 7000, 100);
	put_attr(&self->r, CACHEPEER_A_NODE_BASE_EPOCH, &base, sizeof(base));
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-ERANGE, self->rep.error);
	EXPECT_STREQ("the ring's epoch would pass 2^64 - 1", self->rep.extack);
	EXPECT_EQ(0, ring_epoch(self->fd, self->family));
	base = ~0ULL - 1;
	req_init(&self->r, self->family, CACHEPEER_CMD_RING_SET);
	put_member(&self->r, "m1", a4, 4, 7000, 100);
	put_attr(&self->r, CACHEPEER_A_NODE_BASE_EPOCH, &base, sizeof(base));
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-ERANGE, self->rep.error);

	/*
	 * 2^64 - 1 is a version no push may carry, so 2^64 - 2 is the last
	 * epoch there is: set, and then no edit can follow.
	 */
	base = ~0ULL - 2;
	req_init(&self->r, self->family, CACHEPEER_CMD_RING_SET);
	put_member(&self->r, "m1", a4, 4, 7000, 100);
	put_attr(&self->r, CACHEPEER_A_NODE_BASE_EPOCH, &base, sizeof(base));
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(0, self->rep.error);
	req_init(&self->r, self->family, CACHEPEER_CMD_RING_WEIGHT);
	put_member(&self->r, "m1", NULL, 0, 0, 5);
	ASSERT_EQ(0, do_req());
	EXPECT_EQ(-ERANGE, self->rep.error);
	req_init(&self->r, self->family, CACHEPEER_CMD_RING_GET);
	ASSERT_EQ(0, do_req());
	ASSERT_EQ(0, self->rep.error);
	EXPECT_EQ(~0ULL - 1, (unsigned long long)self->rep.epoch);
}

/*
 * Random commands 0-7 with up to three random attributes of types 0-5, on a
 * stopped node. The outcome of each is known without looking at the bytes:
 * an op that takes no attributes refuses any, a node that is stopped can
 * be neither stopped nor scrubbed, a dump-only op refuses a do, and no
 * attribute this generator can make lets a node start. Only NODE_SET can
 * succeed with attributes (a valid name), and then the name must be valid.
 */
static const char name_chars[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";

static bool name_ok(const char *name)
{
	size_t n = strspn(name, name_chars);

	return n == strlen(name) && n >= 1 && n <= CACHEPEER_NAME_MAX;
}

TEST_F_TIMEOUT(node, random_requests, 600)
{
	unsigned int seed = 1234, ok = 0, refused = 0;
	int i, j;

	for (i = 0; i < 5000; i++) {
		int nattr = rand_r(&seed) % 4, cmd = rand_r(&seed) % 8, want;

		req_init(&self->r, self->family, cmd);
		self->r.genl.version = rand_r(&seed) % 3;
		for (j = 0; j < nattr; j++) {
			char data[300];
			int len = rand_r(&seed) % sizeof(data), k;

			for (k = 0; k < len; k++)
				data[k] = rand_r(&seed) % 4 ? 'a' + rand_r(&seed) % 26
							    : rand_r(&seed);
			put_attr(&self->r, rand_r(&seed) % 6, data, len);
		}
		ASSERT_EQ(0, do_req());
		switch (cmd) {
		case CACHEPEER_CMD_UNSPEC:
		case CACHEPEER_CMD_CONN_GET:	/* a dump, asked as a do */
			want = -EOPNOTSUPP;
			break;
		case CACHEPEER_CMD_NODE_GET:
			want = nattr ? -EINVAL : 0;
			break;
		case CACHEPEER_CMD_RING_GET:
			want = nattr ? -EINVAL : 0;
			break;
		case CACHEPEER_CMD_NODE_STOP:
			want = nattr ? -EINVAL : -EALREADY;
			break;
		case CACHEPEER_CMD_SCRUB_START:
			want = nattr ? -EINVAL : -ENOTCONN;
			break;
		case CACHEPEER_CMD_NODE_START:
			/* Never a directory attribute; a port of 0 is out of range. */
			want = nattr && self->rep.error == -ERANGE ? -ERANGE : -EINVAL;
			break;
		default:			/* NODE_SET */
			want = -EINVAL;
			if (nattr && (self->rep.error == -ERANGE || !self->rep.error))
				want = self->rep.error;
			if (!self->rep.error)
				ASSERT_TRUE(name_ok(get_name())) TH_LOG("set a bad name");
			break;
		}
		ASSERT_EQ(want, self->rep.error) TH_LOG("request %d: command %d, %d attributes",
							i, cmd, nattr);
		if (self->rep.error)
			refused++;
		else
			ok++;
	}
	/* Both kinds happened, and the node is as it was: stopped, and answering. */
	EXPECT_LT(100, ok);
	EXPECT_LT(1000, refused);
	EXPECT_STRNE("(GET failed)", get_name());
	EXPECT_EQ(CACHEPEER_NODE_STOPPED, self->node.state);
}

/*
 * CONN_GET is a dump in parts; one that spans a change of the connection
 * list is flagged NLM_F_DUMP_INTR, so that the reader can start it again,
 * and one that spans no change is not.
 */
#define DUMP_CONNS	400
#define DUMP_READ	8192	/* the kernel sizes a dump's parts by its reader's reads */

/* A PING on a new connection to the node: once answered, it is listed. */
static int ping_conn(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(7000),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct cachepeer_req q = { .magic = htonl(CACHEPEER_REQ_MAGIC),
				   .version = CACHEPEER_PROTO_VERSION,
				   .opcode = CACHEPEER_OP_PING };
	char resp[sizeof(struct cachepeer_resp)];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    send(fd, &q, sizeof(q), 0) != sizeof(q) ||
	    recv(fd, resp, sizeof(resp), MSG_WAITALL) != sizeof(resp)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * Read one part of a dump: its message count into *msgs, whether any was
 * flagged into *intr. Returns 1 at the end of the dump, 0 before, -1 on
 * an error.
 */
static int dump_part(int fd, int *msgs, bool *intr)
{
	static char buf[DUMP_READ];
	struct nlmsghdr *h;
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	if (n < 0)
		return -1;
	for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
		*intr |= !!(h->nlmsg_flags & NLM_F_DUMP_INTR);
		if (h->nlmsg_type == NLMSG_DONE)
			return 1;
		if (h->nlmsg_type == NLMSG_ERROR)
			return -1;
		(*msgs)++;
	}
	return 0;
}

TEST_F_TIMEOUT(node, conn_dump_interrupted, 600)
{
	char dir[] = "/tmp/cp-nl.XXXXXX", cmd[256];
	int fds[DUMP_CONNS + 1], i, msgs, parts, ret, nl;
	bool intr;

	ASSERT_EQ(0, system("ip link set lo up"));
	ASSERT_NE(NULL, mkdtemp(dir));
	ASSERT_EQ(0, mount("cp-nl", dir, "tmpfs", 0, NULL));
	/* More connections from one address than a node takes by default. */
	snprintf(cmd, sizeof(cmd),
		 "%1$s start --listen 127.0.0.1:7000 --dir %2$s && %1$s set --max-conns-per-source 0",
		 getenv("CP_CTL") ?: "../ctl/cachepeerctl", dir);
	ASSERT_EQ(0, system(cmd));
	for (i = 0; i < DUMP_CONNS; i++) {
		fds[i] = ping_conn();
		ASSERT_LE(0, fds[i]);
	}

	/* A socket of its own, whose reads have never been larger. */
	nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	ASSERT_LE(0, nl);

	/* Undisturbed: every connection once, no flag, in several parts. */
	req_init(&self->r, self->family, CACHEPEER_CMD_CONN_GET);
	self->r.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ASSERT_EQ(self->r.nlh.nlmsg_len, send(nl, &self->r, self->r.nlh.nlmsg_len, 0));
	msgs = 0;
	parts = 0;
	intr = false;
	while (!(ret = dump_part(nl, &msgs, &intr)))
		parts++;
	ASSERT_EQ(1, ret);
	EXPECT_EQ(DUMP_CONNS, msgs);
	EXPECT_FALSE(intr);
	ASSERT_LT(2, parts) TH_LOG("the dump must come in parts for this test to mean anything");

	/*
	 * Disturbed: reading a part makes the kernel fill the next one, so a
	 * connection made after the first read shows in the third part.
	 */
	ASSERT_EQ(self->r.nlh.nlmsg_len, send(nl, &self->r, self->r.nlh.nlmsg_len, 0));
	msgs = 0;
	intr = false;
	ASSERT_EQ(0, dump_part(nl, &msgs, &intr));
	fds[DUMP_CONNS] = ping_conn();
	ASSERT_LE(0, fds[DUMP_CONNS]);
	while (!(ret = dump_part(nl, &msgs, &intr)))
		;
	ASSERT_EQ(1, ret);
	EXPECT_TRUE(intr);
	close(nl);

	for (i = 0; i <= DUMP_CONNS; i++)
		close(fds[i]);
	snprintf(cmd, sizeof(cmd), "%s stop", getenv("CP_CTL") ?: "../ctl/cachepeerctl");
	EXPECT_EQ(0, system(cmd));
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}

TEST_HARNESS_MAIN
