// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/cachepeer.yaml */
/* YNL-GEN kernel source */

#include <net/netlink.h>
#include <net/genetlink.h>

#include "nl_gen.h"

#include <uapi/linux/cachepeer.h>

/* Integer value ranges */
static const struct netlink_range_validation cachepeer_a_node_max_block_range = {
	.min	= 1ULL,
	.max	= CACHEPEER_MAX_BLOCK_LIMIT,
};

static const struct netlink_range_validation cachepeer_a_node_frame_timeout_range = {
	.min	= 100ULL,
	.max	= 3600000ULL,
};

static const struct netlink_range_validation cachepeer_a_node_handoff_range = {
	.max	= 604800ULL,
};

static const struct netlink_range_validation cachepeer_a_node_lookup_count_range = {
	.min	= 1ULL,
	.max	= 1000000ULL,
};

static const struct netlink_range_validation cachepeer_a_node_max_conns_range = {
	.min	= 1ULL,
	.max	= CACHEPEER_MAX_CONNS_LIMIT,
};

static const struct netlink_range_validation cachepeer_a_node_max_conns_source_range = {
	.max	= CACHEPEER_MAX_CONNS_LIMIT,
};

static const struct netlink_range_validation cachepeer_a_node_conn_queue_range = {
	.min	= CACHEPEER_QUEUE_MIN,
	.max	= CACHEPEER_QUEUE_LIMIT,
};

static const struct netlink_range_validation cachepeer_a_node_node_queue_range = {
	.min	= CACHEPEER_QUEUE_MIN,
	.max	= CACHEPEER_QUEUE_LIMIT,
};

static const struct netlink_range_validation cachepeer_a_node_conn_pin_range = {
	.min	= CACHEPEER_QUEUE_MIN,
	.max	= CACHEPEER_QUEUE_LIMIT,
};

static const struct netlink_range_validation cachepeer_a_node_idle_timeout_range = {
	.max	= 604800ULL,
};

/* Common nested types */
const struct nla_policy cachepeer_key_nl_policy[CACHEPEER_A_KEY_NEXT + 1] = {
	[CACHEPEER_A_KEY_NAME] = { .type = NLA_NUL_STRING, .len = CACHEPEER_NAME_MAX, },
	[CACHEPEER_A_KEY_ROLE] = NLA_POLICY_RANGE(NLA_U8, 1, 2),
	[CACHEPEER_A_KEY_SECRET] = { .type = NLA_BINARY, },
	[CACHEPEER_A_KEY_FINGERPRINT] = { .type = NLA_BINARY, },
	[CACHEPEER_A_KEY_CONNS] = { .type = NLA_U32, },
	[CACHEPEER_A_KEY_NEXT] = { .type = NLA_U8, },
};

const struct nla_policy cachepeer_member_nl_policy[CACHEPEER_A_MEMBER_HEARD_MS + 1] = {
	[CACHEPEER_A_MEMBER_NAME] = { .type = NLA_NUL_STRING, .len = CACHEPEER_NAME_MAX, },
	[CACHEPEER_A_MEMBER_ADDR] = { .type = NLA_BINARY, },
	[CACHEPEER_A_MEMBER_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[CACHEPEER_A_MEMBER_WEIGHT] = NLA_POLICY_MAX(NLA_U32, CACHEPEER_WEIGHT_MAX),
	[CACHEPEER_A_MEMBER_POINTS] = { .type = NLA_UINT, },
	[CACHEPEER_A_MEMBER_STATE] = NLA_POLICY_MAX(NLA_U8, 2),
	[CACHEPEER_A_MEMBER_INCARNATION] = { .type = NLA_U32, },
	[CACHEPEER_A_MEMBER_HEARD_MS] = { .type = NLA_UINT, },
};

/* CACHEPEER_CMD_NODE_SET - do */
static const struct nla_policy cachepeer_node_set_nl_policy[CACHEPEER_A_NODE_NEXT_CLUSTER_KEY + 1] = {
	[CACHEPEER_A_NODE_NAME] = { .type = NLA_NUL_STRING, .len = CACHEPEER_NAME_MAX, },
	[CACHEPEER_A_NODE_LIMIT_BYTES] = { .type = NLA_UINT, },
	[CACHEPEER_A_NODE_LIMIT_BLOCKS] = { .type = NLA_UINT, },
	[CACHEPEER_A_NODE_FS_STOP] = NLA_POLICY_MAX(NLA_U8, 99),
	[CACHEPEER_A_NODE_FS_CULL] = NLA_POLICY_MAX(NLA_U8, 99),
	[CACHEPEER_A_NODE_FS_RUN] = NLA_POLICY_MAX(NLA_U8, 99),
	[CACHEPEER_A_NODE_EVICT] = NLA_POLICY_MAX(NLA_U8, 2),
	[CACHEPEER_A_NODE_SCRUB_RATE] = { .type = NLA_UINT, },
	[CACHEPEER_A_NODE_CLUSTER_KEY] = { .type = NLA_BINARY, },
	[CACHEPEER_A_NODE_MISS] = NLA_POLICY_MAX(NLA_U8, 1),
	[CACHEPEER_A_NODE_HANDOFF] = NLA_POLICY_FULL_RANGE(NLA_U32, &cachepeer_a_node_handoff_range),
	[CACHEPEER_A_NODE_MAX_CONNS] = NLA_POLICY_FULL_RANGE(NLA_U32, &cachepeer_a_node_max_conns_range),
	[CACHEPEER_A_NODE_MAX_CONNS_SOURCE] = NLA_POLICY_FULL_RANGE(NLA_U32, &cachepeer_a_node_max_conns_source_range),
	[CACHEPEER_A_NODE_CONN_QUEUE] = NLA_POLICY_FULL_RANGE(NLA_UINT, &cachepeer_a_node_conn_queue_range),
	[CACHEPEER_A_NODE_NODE_QUEUE] = NLA_POLICY_FULL_RANGE(NLA_UINT, &cachepeer_a_node_node_queue_range),
	[CACHEPEER_A_NODE_CONN_PIN] = NLA_POLICY_FULL_RANGE(NLA_UINT, &cachepeer_a_node_conn_pin_range),
	[CACHEPEER_A_NODE_IDLE_TIMEOUT] = NLA_POLICY_FULL_RANGE(NLA_U32, &cachepeer_a_node_idle_timeout_range),
	[CACHEPEER_A_NODE_ACCESS] = NLA_POLICY_MAX(NLA_U8, 3),
	[CACHEPEER_A_NODE_NEXT_CLUSTER_KEY] = { .type = NLA_BINARY, },
};

/* CACHEPEER_CMD_NODE_START - do */
static const struct nla_policy cachepeer_node_start_nl_policy[CACHEPEER_A_NODE_FRAME_TIMEOUT + 1] = {
	[CACHEPEER_A_NODE_LISTEN_ADDR] = { .type = NLA_BINARY, },
	[CACHEPEER_A_NODE_LISTEN_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[CACHEPEER_A_NODE_DIR] = { .type = NLA_NUL_STRING, .len = 4095, },
	[CACHEPEER_A_NODE_MAX_BLOCK] = NLA_POLICY_FULL_RANGE(NLA_UINT, &cachepeer_a_node_max_block_range),
	[CACHEPEER_A_NODE_FRAME_TIMEOUT] = NLA_POLICY_FULL_RANGE(NLA_U32, &cachepeer_a_node_frame_timeout_range),
};

/* CACHEPEER_CMD_RING_SET - do */
static const struct nla_policy cachepeer_ring_set_nl_policy[CACHEPEER_A_NODE_BASE_EPOCH + 1] = {
	[CACHEPEER_A_NODE_MEMBER] = NLA_POLICY_NESTED(cachepeer_member_nl_policy),
	[CACHEPEER_A_NODE_BASE_EPOCH] = { .type = NLA_UINT, },
};

/* CACHEPEER_CMD_RING_ADD - do */
static const struct nla_policy cachepeer_ring_add_nl_policy[CACHEPEER_A_NODE_MEMBER + 1] = {
	[CACHEPEER_A_NODE_MEMBER] = NLA_POLICY_NESTED(cachepeer_member_nl_policy),
};

/* CACHEPEER_CMD_RING_DEL - do */
static const struct nla_policy cachepeer_ring_del_nl_policy[CACHEPEER_A_NODE_NAME + 1] = {
	[CACHEPEER_A_NODE_NAME] = { .type = NLA_NUL_STRING, .len = CACHEPEER_NAME_MAX, },
};

/* CACHEPEER_CMD_RING_WEIGHT - do */
static const struct nla_policy cachepeer_ring_weight_nl_policy[CACHEPEER_A_NODE_MEMBER + 1] = {
	[CACHEPEER_A_NODE_MEMBER] = NLA_POLICY_NESTED(cachepeer_member_nl_policy),
};

/* CACHEPEER_CMD_RING_LOOKUP - do */
static const struct nla_policy cachepeer_ring_lookup_nl_policy[CACHEPEER_A_NODE_LOOKUP_COUNT + 1] = {
	[CACHEPEER_A_NODE_KEY_HASH_OF] = { .type = NLA_BINARY, },
	[CACHEPEER_A_NODE_LOOKUP_COUNT] = NLA_POLICY_FULL_RANGE(NLA_U32, &cachepeer_a_node_lookup_count_range),
};

/* CACHEPEER_CMD_KEY_ADD - do */
static const struct nla_policy cachepeer_key_add_nl_policy[CACHEPEER_A_NODE_KEY + 1] = {
	[CACHEPEER_A_NODE_KEY] = NLA_POLICY_NESTED(cachepeer_key_nl_policy),
};

/* CACHEPEER_CMD_KEY_DEL - do */
static const struct nla_policy cachepeer_key_del_nl_policy[CACHEPEER_A_NODE_KEY + 1] = {
	[CACHEPEER_A_NODE_KEY] = NLA_POLICY_NESTED(cachepeer_key_nl_policy),
};

/* Ops table for cachepeer */
const struct genl_split_ops cachepeer_nl_ops[15] = {
	{
		.cmd		= CACHEPEER_CMD_NODE_GET,
		.pre_doit	= cp_nl_no_attrs,
		.doit		= cachepeer_nl_node_get_doit,
		.flags		= GENL_CMD_CAP_DO,
	},
	{
		.cmd		= CACHEPEER_CMD_NODE_SET,
		.doit		= cachepeer_nl_node_set_doit,
		.policy		= cachepeer_node_set_nl_policy,
		.maxattr	= CACHEPEER_A_NODE_NEXT_CLUSTER_KEY,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= CACHEPEER_CMD_NODE_START,
		.doit		= cachepeer_nl_node_start_doit,
		.policy		= cachepeer_node_start_nl_policy,
		.maxattr	= CACHEPEER_A_NODE_FRAME_TIMEOUT,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= CACHEPEER_CMD_NODE_STOP,
		.pre_doit	= cp_nl_no_attrs,
		.doit		= cachepeer_nl_node_stop_doit,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= CACHEPEER_CMD_SCRUB_START,
		.pre_doit	= cp_nl_no_attrs,
		.doit		= cachepeer_nl_scrub_start_doit,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= CACHEPEER_CMD_CONN_GET,
		.start	= cp_nl_no_attrs_dump,
		.dumpit	= cachepeer_nl_conn_get_dumpit,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= CACHEPEER_CMD_RING_GET,
		.pre_doit	= cp_nl_no_attrs,
		.doit		= cachepeer_nl_ring_get_doit,
		.flags		= GENL_CMD_CAP_DO,
	},
	{
		.cmd		= CACHEPEER_CMD_RING_SET,
		.doit		= cachepeer_nl_ring_set_doit,
		.policy		= cachepeer_ring_set_nl_policy,
		.maxattr	= CACHEPEER_A_NODE_BASE_EPOCH,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= CACHEPEER_CMD_RING_ADD,
		.doit		= cachepeer_nl_ring_add_doit,
		.policy		= cachepeer_ring_add_nl_policy,
		.maxattr	= CACHEPEER_A_NODE_MEMBER,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= CACHEPEER_CMD_RING_DEL,
		.doit		= cachepeer_nl_ring_del_doit,
		.policy		= cachepeer_ring_del_nl_policy,
		.maxattr	= CACHEPEER_A_NODE_NAME,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= CACHEPEER_CMD_RING_WEIGHT,
		.doit		= cachepeer_nl_ring_weight_doit,
		.policy		= cachepeer_ring_weight_nl_policy,
		.maxattr	= CACHEPEER_A_NODE_MEMBER,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= CACHEPEER_CMD_RING_LOOKUP,
		.doit		= cachepeer_nl_ring_lookup_doit,
		.policy		= cachepeer_ring_lookup_nl_policy,
		.maxattr	= CACHEPEER_A_NODE_LOOKUP_COUNT,
		.flags		= GENL_CMD_CAP_DO,
	},
	{
		.cmd		= CACHEPEER_CMD_KEY_ADD,
		.doit		= cachepeer_nl_key_add_doit,
		.policy		= cachepeer_key_add_nl_policy,
		.maxattr	= CACHEPEER_A_NODE_KEY,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= CACHEPEER_CMD_KEY_DEL,
		.doit		= cachepeer_nl_key_del_doit,
		.policy		= cachepeer_key_del_nl_policy,
		.maxattr	= CACHEPEER_A_NODE_KEY,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= CACHEPEER_CMD_KEY_GET,
		.start	= cp_nl_no_attrs_dump,
		.dumpit	= cachepeer_nl_key_get_dumpit,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DUMP,
	},
};
