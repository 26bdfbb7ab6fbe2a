/* SPDX-License-Identifier: GPL-2.0 */
/* The connections part's interface: creating, listing and closing a node's connections. */
#ifndef _CP_CONN_H
#define _CP_CONN_H

#include <linux/socket.h>
#include <linux/types.h>

struct cp_conn_limits;
struct cp_key;
struct cp_service;
struct socket;

/* A snapshot of one connection, for listings. */
struct cp_conn_info {
	struct sockaddr_storage peer;
	u32 inflight;
	u64 rx_bytes;
	u64 tx_bytes;
	u64 age_ms;
	u32 cpu;
	u64 queued;
	u64 pinned;
	bool member;
};

int cp_conn_create(struct cp_service *svc, struct socket *sock);
void cp_conn_close_all(struct cp_service *svc);
void cp_conn_close_key(struct cp_service *svc, const struct cp_key *key);
void cp_conn_limits_default(struct cp_conn_limits *cl);
const char *cp_conn_limits_check(const struct cp_conn_limits *cl);
void cp_conn_limits_changed(struct cp_service *svc);
unsigned long cp_conn_for_each(struct cp_service *svc, unsigned long skip, u32 *gen,
			       int (*fn)(const struct cp_conn_info *ci, void *arg), void *arg);
u64 cp_conn_inflight(struct cp_service *svc);

int cp_conn_init(void);
void cp_conn_uninit(void);

#endif /* _CP_CONN_H */
