/* SPDX-License-Identifier: GPL-2.0 */
/* Blocking calls to other members, and private pages for relayed data. */
#ifndef _CP_PEER_H
#define _CP_PEER_H

#include <linux/net.h>
#include <linux/types.h>

#include "auth.h"
#include "proto.h"
#include "ring.h"

/* How long a call to another member may wait to connect, send or receive. */
#define CP_PEER_TIMEOUT_MS	2000
/* A call's request id: one request per connection. */
#define CP_PEER_REQ_ID		1

/* Data held in private pages, which TCP can splice (slab memory it cannot). */
struct cp_pbuf {
	size_t len;
	u32 npages;
	struct page *pages[];
};

/* The memory a cp_pbuf of len bytes takes. */
static inline size_t cp_pbuf_mem(size_t len)
{
	return struct_size_t(struct cp_pbuf, pages, DIV_ROUND_UP(len, PAGE_SIZE)) +
	       PAGE_ALIGN(len);
}

struct cp_pbuf *cp_pbuf_alloc(size_t len);
struct cp_pbuf *cp_pbuf_from(const void *data, size_t len);
void cp_pbuf_free(struct cp_pbuf *pb);

/* A blocking connection to another member, for workers. */
struct cp_peer {
	struct socket *sock;
};

int cp_peer_open(struct net *net, const union cp_addr *addr, struct cp_keys *keys,
		 struct cp_peer *p);
void cp_peer_close(struct cp_peer *p);
int cp_peer_send(struct cp_peer *p, const struct cp_req *req, const void *key,
		 const void *payload);
int cp_peer_recv_resp(struct cp_peer *p, const struct cp_req *req, struct cp_resp *r);
int cp_peer_recv(struct cp_peer *p, void *buf, size_t len);
int cp_peer_recv_pbuf(struct cp_peer *p, struct cp_pbuf *pb);

#endif /* _CP_PEER_H */
