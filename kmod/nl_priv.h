/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the netlink family's own files only: netlink.c (the family and
 * the helpers the ops share), nl_node.c, nl_ring.c, nl_conn.c and nl_key.c
 * (the ops, declared by nl_gen.h, which is generated from the YNL spec with
 * the policies and the op table).
 */
#ifndef _CP_NL_PRIV_H
#define _CP_NL_PRIV_H

#include <net/genetlink.h>

#include "nl_gen.h"
#include "service.h"

extern struct genl_family cp_genl_family;

static inline struct cp_service *cp_nl_service(const struct genl_info *info)
{
	return cp_service_get(genl_info_net(info));
}

int cp_nl_put_addr(struct sk_buff *msg, int addr_type, int port_type, const void *sa);
int cp_nl_get_addr(const struct nlattr *addr, const struct nlattr *port, union cp_addr *a,
		   const char *what, struct netlink_ext_ack *extack);
int cp_nl_check_len(const struct nlattr *attr, int min, int max, const char *what,
		    struct netlink_ext_ack *extack);

#endif /* _CP_NL_PRIV_H */
