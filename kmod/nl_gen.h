/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/cachepeer.yaml */
/* YNL-GEN kernel header */

#ifndef _LINUX_CACHEPEER_GEN_H
#define _LINUX_CACHEPEER_GEN_H

#include <net/netlink.h>
#include <net/genetlink.h>

#include <uapi/linux/cachepeer.h>

/* Common nested types */
extern const struct nla_policy cachepeer_key_nl_policy[CACHEPEER_A_KEY_NEXT + 1];
extern const struct nla_policy cachepeer_member_nl_policy[CACHEPEER_A_MEMBER_HEARD_MS + 1];

/* Ops table for cachepeer */
extern const struct genl_split_ops cachepeer_nl_ops[15];

int cp_nl_no_attrs(const struct genl_split_ops *ops, struct sk_buff *skb,
		   struct genl_info *info);
int cp_nl_no_attrs_dump(struct netlink_callback *cb);

int cachepeer_nl_node_get_doit(struct sk_buff *skb, struct genl_info *info);
int cachepeer_nl_node_set_doit(struct sk_buff *skb, struct genl_info *info);
int cachepeer_nl_node_start_doit(struct sk_buff *skb, struct genl_info *info);
int cachepeer_nl_node_stop_doit(struct sk_buff *skb, struct genl_info *info);
int cachepeer_nl_scrub_start_doit(struct sk_buff *skb, struct genl_info *info);
int cachepeer_nl_conn_get_dumpit(struct sk_buff *skb,
				 struct netlink_callback *cb);
int cachepeer_nl_ring_get_doit(struct sk_buff *skb, struct genl_info *info);
int cachepeer_nl_ring_set_doit(struct sk_buff *skb, struct genl_info *info);
int cachepeer_nl_ring_add_doit(struct sk_buff *skb, struct genl_info *info);
int cachepeer_nl_ring_del_doit(struct sk_buff *skb, struct genl_info *info);
int cachepeer_nl_ring_weight_doit(struct sk_buff *skb, struct genl_info *info);
int cachepeer_nl_ring_lookup_doit(struct sk_buff *skb, struct genl_info *info);
int cachepeer_nl_key_add_doit(struct sk_buff *skb, struct genl_info *info);
int cachepeer_nl_key_del_doit(struct sk_buff *skb, struct genl_info *info);
int cachepeer_nl_key_get_dumpit(struct sk_buff *skb,
				struct netlink_callback *cb);

#endif /* _LINUX_CACHEPEER_GEN_H */
