/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the netlink family's own files only: netlink.c (the family, its
 * policies and op table), nl_node.c, nl_ring.c, nl_conn.c and nl_key.c
 * (the ops).
 */
#ifndef _CP_NL_PRIV_H
#define _CP_NL_PRIV_H

#include <net/genetlink.h>

#include "service.h"

extern struct genl_family cp_genl_family;
extern const struct nla_policy cp_member_policy[CACHEPEER_A_MEMBER_WEIGHT + 1];
extern const struct nla_policy cp_key_policy[CACHEPEER_A_KEY_SECRET + 1];

static inline struct cp_service *cp_nl_service(const struct genl_info *info)
{
	return cp_service_get(genl_info_net(info));
}

int cp_nl_put_addr(struct sk_buff *msg, int addr_type, int port_type, const void *sa);
int cp_nl_get_addr(const struct nlattr *addr, const struct nlattr *port, union cp_addr *a,
		   const char *what, struct netlink_ext_ack *extack);

/* nl_node.c */
int cp_nl_node_get_doit(struct sk_buff *skb, struct genl_info *info);
int cp_nl_node_set_doit(struct sk_buff *skb, struct genl_info *info);
int cp_nl_node_start_doit(struct sk_buff *skb, struct genl_info *info);
int cp_nl_node_stop_doit(struct sk_buff *skb, struct genl_info *info);
int cp_nl_scrub_start_doit(struct sk_buff *skb, struct genl_info *info);

/* nl_ring.c */
int cp_nl_ring_get_doit(struct sk_buff *skb, struct genl_info *info);
int cp_nl_ring_set_doit(struct sk_buff *skb, struct genl_info *info);
int cp_nl_ring_add_doit(struct sk_buff *skb, struct genl_info *info);
int cp_nl_ring_del_doit(struct sk_buff *skb, struct genl_info *info);
int cp_nl_ring_weight_doit(struct sk_buff *skb, struct genl_info *info);
int cp_nl_ring_lookup_doit(struct sk_buff *skb, struct genl_info *info);

/* nl_conn.c */
int cp_nl_conn_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);

/* nl_key.c */
int cp_nl_key_add_doit(struct sk_buff *skb, struct genl_info *info);
int cp_nl_key_del_doit(struct sk_buff *skb, struct genl_info *info);
int cp_nl_key_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);

#endif /* _CP_NL_PRIV_H */
