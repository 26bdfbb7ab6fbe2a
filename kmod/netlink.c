// SPDX-License-Identifier: GPL-2.0
/*
 * The "cachepeer" generic netlink family: the control plane of every node.
 * This file holds the family, its policies and its op table, and the
 * attribute helpers the ops share; the ops are in nl_node.c, nl_ring.c and
 * nl_conn.c.
 *
 * The family is strict (resv_start_op 0): unknown attributes, bad lengths and
 * a non-zero reserved header field are rejected before any doit runs. Every
 * op has a policy, so an attribute an op does not take is an error rather
 * than silently ignored. Mutating ops carry GENL_UNS_ADMIN_PERM:
 * CAP_NET_ADMIN over the target namespace, so a container's root manages its
 * own node and nobody else's.
 */

#include <linux/in.h>
#include <linux/in6.h>
#include <net/sock.h>

#include <linux/cachepeer.h>

#include "netlink.h"
#include "nl_priv.h"

/* An IPv4 or IPv6 address and its port, as two attributes; nothing for others. */
int cp_nl_put_addr(struct sk_buff *msg, int addr_type, int port_type, const void *sa)
{
	const struct sockaddr_in6 *sin6 = sa;
	const struct sockaddr_in *sin = sa;

	if (sin->sin_family == AF_INET6)
		return nla_put_in6_addr(msg, addr_type, &sin6->sin6_addr) ?:
		       nla_put_u16(msg, port_type, ntohs(sin6->sin6_port));
	if (sin->sin_family == AF_INET)
		return nla_put_in_addr(msg, addr_type, sin->sin_addr.s_addr) ?:
		       nla_put_u16(msg, port_type, ntohs(sin->sin_port));
	return 0;
}

/*
 * An address attribute of 4 (IPv4) or 16 (IPv6) bytes and a port attribute,
 * both validated by their policies for type and range, into *a. what names
 * the address in the error message.
 */
int cp_nl_get_addr(const struct nlattr *addr, const struct nlattr *port, union cp_addr *a,
		   const char *what, struct netlink_ext_ack *extack)
{
	__be16 p = htons(nla_get_u16(port));

	memset(a, 0, sizeof(*a));
	if (nla_len(addr) == sizeof(struct in_addr)) {
		a->v4.sin_family = AF_INET;
		a->v4.sin_addr.s_addr = nla_get_in_addr(addr);
		a->v4.sin_port = p;
	} else if (nla_len(addr) == sizeof(struct in6_addr)) {
		a->v6.sin6_family = AF_INET6;
		a->v6.sin6_addr = nla_get_in6_addr(addr);
		a->v6.sin6_port = p;
	} else {
		NL_SET_ERR_MSG_ATTR_FMT(extack, addr,
					"%s address must be 4 (IPv4) or 16 (IPv6) bytes", what);
		return -EINVAL;
	}
	return 0;
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

static const struct netlink_range_validation max_conns_range = {
	.min = 1,
	.max = CACHEPEER_MAX_CONNS_LIMIT,
};

static const struct netlink_range_validation max_conns_source_range = {
	.max = CACHEPEER_MAX_CONNS_LIMIT,
};

/* Below one answer's worth, a connection would stop after every request. */
static const struct netlink_range_validation queue_range = {
	.min = CACHEPEER_QUEUE_MIN,
	.max = CACHEPEER_QUEUE_LIMIT,
};

static const struct nla_policy cp_node_set_policy[CACHEPEER_A_NODE_NEXT_CLUSTER_KEY + 1] = {
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
	[CACHEPEER_A_NODE_MAX_CONNS] = NLA_POLICY_FULL_RANGE(NLA_U32, &max_conns_range),
	[CACHEPEER_A_NODE_MAX_CONNS_SOURCE] = NLA_POLICY_FULL_RANGE(NLA_U32,
								    &max_conns_source_range),
	[CACHEPEER_A_NODE_CONN_QUEUE] = NLA_POLICY_FULL_RANGE(NLA_UINT, &queue_range),
	[CACHEPEER_A_NODE_NODE_QUEUE] = NLA_POLICY_FULL_RANGE(NLA_UINT, &queue_range),
	[CACHEPEER_A_NODE_CONN_PIN] = NLA_POLICY_FULL_RANGE(NLA_UINT, &queue_range),
	[CACHEPEER_A_NODE_IDLE_TIMEOUT] = NLA_POLICY_FULL_RANGE(NLA_U32, &handoff_range),
	[CACHEPEER_A_NODE_ACCESS] = NLA_POLICY_MAX(NLA_U8, CACHEPEER_ACCESS_MAX),
	[CACHEPEER_A_NODE_NEXT_CLUSTER_KEY] = NLA_POLICY_RANGE(NLA_BINARY,
							       CACHEPEER_CLUSTER_KEY_MIN,
							       CACHEPEER_CLUSTER_KEY_MAX),
};

const struct nla_policy cp_key_policy[CACHEPEER_A_KEY_SECRET + 1] = {
	[CACHEPEER_A_KEY_NAME] = { .type = NLA_NUL_STRING, .len = CACHEPEER_NAME_MAX },
	[CACHEPEER_A_KEY_ROLE] = NLA_POLICY_RANGE(NLA_U8, CACHEPEER_ROLE_READ,
						  CACHEPEER_ROLE_WRITE),
	[CACHEPEER_A_KEY_SECRET] = NLA_POLICY_RANGE(NLA_BINARY, CACHEPEER_SECRET_MIN,
						    CACHEPEER_SECRET_MAX),
};

static const struct nla_policy cp_key_edit_policy[CACHEPEER_A_NODE_KEY + 1] = {
	[CACHEPEER_A_NODE_KEY] = NLA_POLICY_NESTED(cp_key_policy),
};

const struct nla_policy cp_member_policy[CACHEPEER_A_MEMBER_WEIGHT + 1] = {
	[CACHEPEER_A_MEMBER_NAME] = { .type = NLA_NUL_STRING, .len = CACHEPEER_NAME_MAX },
	[CACHEPEER_A_MEMBER_ADDR] = NLA_POLICY_RANGE(NLA_BINARY, sizeof(struct in_addr),
						     sizeof(struct in6_addr)),
	[CACHEPEER_A_MEMBER_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[CACHEPEER_A_MEMBER_WEIGHT] = NLA_POLICY_MAX(NLA_U32, CACHEPEER_WEIGHT_MAX),
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
		.maxattr = CACHEPEER_A_NODE_NEXT_CLUSTER_KEY,
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
		/* Clients' addresses are not everyone's to read. */
		.cmd	= CACHEPEER_CMD_CONN_GET,
		.dumpit	= cp_nl_conn_get_dumpit,
		.policy	= cp_no_attrs_policy,
		.maxattr = CACHEPEER_A_NODE_MAX,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DUMP,
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
	{
		.cmd	= CACHEPEER_CMD_KEY_ADD,
		.doit	= cp_nl_key_add_doit,
		.policy	= cp_key_edit_policy,
		.maxattr = CACHEPEER_A_NODE_KEY,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= CACHEPEER_CMD_KEY_DEL,
		.doit	= cp_nl_key_del_doit,
		.policy	= cp_key_edit_policy,
		.maxattr = CACHEPEER_A_NODE_KEY,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		/* Who holds which key is the node's manager's business. */
		.cmd	= CACHEPEER_CMD_KEY_GET,
		.dumpit	= cp_nl_key_get_dumpit,
		.policy	= cp_no_attrs_policy,
		.maxattr = CACHEPEER_A_NODE_MAX,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DUMP,
	},
};

struct genl_family cp_genl_family __ro_after_init = {
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
