// SPDX-License-Identifier: GPL-2.0
/*
 * The "cachepeer" generic netlink family: the control plane of every node.
 * This file holds the family and the attribute helpers the ops share; the
 * ops are in nl_node.c, nl_ring.c, nl_conn.c and nl_key.c, and their
 * policies and op table in nl_gen.c, generated from the YNL spec.
 *
 * The family is strict (resv_start_op 0): unknown attributes, out-of-range
 * values and a non-zero reserved header field are rejected before any doit
 * runs; binary attributes' lengths, which the generated policies do not
 * bound, are checked by the ops before they touch anything. An attribute an
 * op does not take is an error rather than silently ignored: its policy
 * leaves it out, or, for ops that take none, cp_nl_no_attrs() refuses it.
 * Mutating ops carry GENL_UNS_ADMIN_PERM:
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
 * A binary attribute of min..max bytes, or none. The 6.12 YNL generator
 * renders no length bounds for binary attributes (it stops at "min-len",
 * and that one as an NLA_UNSPEC length which strict validation rejects
 * outright), so the ops check them here; the spec states each bound in the
 * attribute's doc.
 */
int cp_nl_check_len(const struct nlattr *attr, int min, int max, const char *what,
		    struct netlink_ext_ack *extack)
{
	if (!attr || (nla_len(attr) >= min && nla_len(attr) <= max))
		return 0;
	NL_SET_ERR_MSG_ATTR_FMT(extack, attr, "%s must be %d to %d bytes", what, min, max);
	return -EINVAL;
}

/*
 * Split ops without a policy skip attribute parsing altogether, so an op
 * whose request takes no attributes would ignore whatever it is sent. The
 * spec names these hooks as such ops' pre_doit and dump start: anything past
 * the genetlink header is refused, as a policy would have refused it.
 */
static int cp_nl_attrs_refused(const struct nlmsghdr *nlh, struct netlink_ext_ack *extack)
{
	if (nlmsg_len(nlh) <= GENL_HDRLEN + cp_genl_family.hdrsize)
		return 0;
	NL_SET_ERR_MSG(extack, "this command takes no attributes");
	return -EINVAL;
}

int cp_nl_no_attrs(const struct genl_split_ops *ops, struct sk_buff *skb,
		   struct genl_info *info)
{
	return cp_nl_attrs_refused(info->nlhdr, info->extack);
}

int cp_nl_no_attrs_dump(struct netlink_callback *cb)
{
	return cp_nl_attrs_refused(cb->nlh, cb->extack);
}

/*
 * The policies and the op table are nl_gen.c, generated from
 * Documentation/netlink/specs/cachepeer.yaml (scripts/ynl-gen.sh). The
 * generator writes no family struct for genetlink-legacy specs, so it is
 * here.
 */
struct genl_family cp_genl_family __ro_after_init = {
	.name		= CACHEPEER_GENL_NAME,
	.version	= CACHEPEER_GENL_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.split_ops	= cachepeer_nl_ops,
	.n_split_ops	= ARRAY_SIZE(cachepeer_nl_ops),
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
