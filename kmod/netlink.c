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

#include <net/genetlink.h>

#include <linux/cachepeer.h>

#include "netlink.h"
#include "service.h"

static struct genl_family cp_genl_family;

static struct cp_service *info_service(const struct genl_info *info)
{
	return cp_service_get(genl_info_net(info));
}

static int cp_nl_node_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_service *svc = info_service(info);
	struct sk_buff *msg;
	void *hdr;
	int ret;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
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
	      nla_put_string(msg, CACHEPEER_A_NODE_NAME, svc->name);
	mutex_unlock(&svc->lock);
	if (ret)
		goto err_free;

	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return ret;
}

static int cp_nl_node_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_service *svc = info_service(info);
	const char *name;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, CACHEPEER_A_NODE_NAME))
		return -EINVAL;

	name = nla_data(info->attrs[CACHEPEER_A_NODE_NAME]);
	if (!cp_service_name_valid(name, strlen(name))) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[CACHEPEER_A_NODE_NAME],
				    "name must be 1-63 bytes of [A-Za-z0-9._-]");
		return -EINVAL;
	}

	mutex_lock(&svc->lock);
	ret = cp_service_set_name(svc, name);
	mutex_unlock(&svc->lock);
	return ret;
}

static int cp_nl_node_start_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_service *svc = info_service(info);
	int ret;

	mutex_lock(&svc->lock);
	ret = cp_service_start(svc);
	mutex_unlock(&svc->lock);
	if (ret == -EALREADY)
		GENL_SET_ERR_MSG(info, "node is already running");
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

static const struct nla_policy cp_node_set_policy[CACHEPEER_A_NODE_NAME + 1] = {
	[CACHEPEER_A_NODE_NAME] = { .type = NLA_NUL_STRING, .len = CACHEPEER_NAME_MAX },
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
		.maxattr = CACHEPEER_A_NODE_NAME,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= CACHEPEER_CMD_NODE_START,
		.doit	= cp_nl_node_start_doit,
		.policy	= cp_no_attrs_policy,
		.maxattr = CACHEPEER_A_NODE_MAX,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= CACHEPEER_CMD_NODE_STOP,
		.doit	= cp_nl_node_stop_doit,
		.policy	= cp_no_attrs_policy,
		.maxattr = CACHEPEER_A_NODE_MAX,
		.flags	= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
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
