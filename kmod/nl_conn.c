// SPDX-License-Identifier: GPL-2.0
/*
 * CONN_GET: a dump of the node's connections, resumable across messages.
 * The connection list has a generation: a dump that spans a change of the
 * list is flagged NLM_F_DUMP_INTR (genl_dump_check_consistent()), and the
 * reader starts it again.
 */

#include <net/sock.h>

#include "conn.h"
#include "nl_priv.h"

struct conn_dump {
	struct sk_buff *skb;
	struct netlink_callback *cb;
	u32 gen;		/* set by cp_conn_for_each() before any put_conn() */
};

static int put_conn(const struct cp_conn_info *ci, void *arg)
{
	struct conn_dump *cd = arg;
	struct sk_buff *skb = cd->skb;
	struct nlattr *nest;
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cd->cb->skb).portid, cd->cb->nlh->nlmsg_seq,
			  &cp_genl_family, NLM_F_MULTI, CACHEPEER_CMD_CONN_GET);
	if (!hdr)
		return -EMSGSIZE;
	cd->cb->seq = cd->gen;
	genl_dump_check_consistent(cd->cb, hdr);
	nest = nla_nest_start(skb, CACHEPEER_A_NODE_CONN);
	if (!nest ||
	    cp_nl_put_addr(skb, CACHEPEER_A_CONN_ADDR, CACHEPEER_A_CONN_PORT, &ci->peer) ||
	    nla_put_uint(skb, CACHEPEER_A_CONN_INFLIGHT, ci->inflight) ||
	    nla_put_uint(skb, CACHEPEER_A_CONN_RX_BYTES, ci->rx_bytes) ||
	    nla_put_uint(skb, CACHEPEER_A_CONN_TX_BYTES, ci->tx_bytes) ||
	    nla_put_uint(skb, CACHEPEER_A_CONN_AGE_MS, ci->age_ms) ||
	    nla_put_u32(skb, CACHEPEER_A_CONN_CPU, ci->cpu) ||
	    nla_put_uint(skb, CACHEPEER_A_CONN_QUEUED, ci->queued) ||
	    nla_put_uint(skb, CACHEPEER_A_CONN_PINNED, ci->pinned) ||
	    nla_put_u8(skb, CACHEPEER_A_CONN_MEMBER, ci->member)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	return 0;
}

/* cb->args[0]: connections already reported; cb->seq: the list's generation. */
int cachepeer_nl_conn_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct cp_service *svc = cp_service_get(sock_net(skb->sk));
	struct conn_dump cd = { .skb = skb, .cb = cb };

	cb->args[0] += cp_conn_for_each(svc, cb->args[0], &cd.gen, put_conn, &cd);
	/* Also for a part with no message: the end of the dump is checked too. */
	cb->seq = cd.gen;
	return skb->len;
}
