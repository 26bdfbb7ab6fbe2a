/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ROUTE_H
#define ROUTE_H

#include "client.h"
#include "ring.h"

/*
 * Client routing: the ring is read from a seed node; each key goes to its
 * owner over one connection per member. A member that cannot be reached is
 * marked dead and its keys go to the next member clockwise. A response with
 * a newer epoch than the ring's, or a REDIRECT, makes the router read the
 * ring again before the next request. Not thread-safe: one per thread.
 */
/* A member answering nothing for this long is marked dead. */
#define CP_ROUTE_TIMEOUT_MS	10000

struct cp_router {
	char seed[64];
	struct cp_ring ring;
	struct cp_client *conn;		/* per member; fd < 0: not connected */
	bool *dead;
	bool stale;			/* re-read the ring before the next call */
	unsigned long refreshes, failovers, redirects;
};

int cp_router_init(struct cp_router *rt, const char *seed);
void cp_router_free(struct cp_router *rt);
int cp_router_call(struct cp_router *rt, const struct cp_msg *m, struct cp_resp *r,
		   struct cp_client **c);

#endif
