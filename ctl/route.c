// SPDX-License-Identifier: GPL-2.0
/* Client routing over the ring: owner first, then the next live member. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "route.h"

static void close_all(struct cp_router *rt)
{
	unsigned int i;

	for (i = 0; i < rt->ring.n; i++)
		if (rt->conn[i].fd >= 0)
			cp_client_close(&rt->conn[i]);
	free(rt->conn);
	free(rt->dead);
	rt->conn = NULL;
	rt->dead = NULL;
}

/* Read the ring from the seed, or failing that from any member we know. */
static int refresh(struct cp_router *rt)
{
	struct cp_ring fresh;
	unsigned int i;
	int ret;

	ret = cp_ring_fetch(rt->seed, &fresh);
	for (i = 0; ret && i < rt->ring.n; i++)
		if (!rt->dead[i])
			ret = cp_ring_fetch(rt->ring.m[i].addr, &fresh);
	if (ret)
		return ret;
	if (!fresh.n) {
		cp_ring_free(&fresh);
		return -ENOENT;
	}
	close_all(rt);
	cp_ring_free(&rt->ring);
	rt->ring = fresh;
	rt->conn = calloc(fresh.n, sizeof(*rt->conn));
	rt->dead = calloc(fresh.n, sizeof(*rt->dead));
	if (!rt->conn || !rt->dead)
		return -ENOMEM;
	for (i = 0; i < fresh.n; i++)
		rt->conn[i].fd = -1;
	rt->stale = false;
	rt->refreshes++;
	return 0;
}

int cp_router_init(struct cp_router *rt, const char *seed)
{
	memset(rt, 0, sizeof(*rt));
	if (strlen(seed) >= sizeof(rt->seed))
		return -EINVAL;
	snprintf(rt->seed, sizeof(rt->seed), "%s", seed);
	return refresh(rt);
}

void cp_router_free(struct cp_router *rt)
{
	close_all(rt);
	cp_ring_free(&rt->ring);
}

static void mark_dead(struct cp_router *rt, unsigned int i)
{
	if (rt->conn[i].fd >= 0)
		cp_client_close(&rt->conn[i]);
	rt->conn[i].fd = -1;
	rt->dead[i] = true;
	rt->failovers++;
}

/*
 * Send m to member i. A PUT or DEL failing over from a key's owner this
 * router found dead is sent LOCAL, or the member would redirect it back.
 */
static int send_to(struct cp_router *rt, int i, uint64_t hash, const struct cp_msg *m)
{
	int owner = cp_ring_next(&rt->ring, hash, NULL);
	struct cp_msg local = *m;

	if ((m->op == CACHEPEER_OP_PUT || m->op == CACHEPEER_OP_DEL) && owner >= 0 &&
	    i != owner && rt->dead[owner])
		local.flags |= CACHEPEER_F_LOCAL;
	return cp_client_send(&rt->conn[i], &local);
}

/*
 * Send m to the owner of its key and read the response header into r. *c
 * is the connection to read any data from, before the next call. Returns
 * -EHOSTUNREACH when no member could be reached.
 */
int cp_router_call(struct cp_router *rt, const struct cp_msg *m, struct cp_resp *r,
		   struct cp_client **c)
{
	uint64_t hash = cp_xxh64(m->key, m->key_len, 0);
	unsigned int tries;
	int i = -1;

	for (tries = 0; tries <= rt->ring.n + 2; tries++) {
		char *to;

		/* A failed refresh keeps the ring we have. */
		if (i < 0 && rt->stale && refresh(rt))
			rt->stale = false;
		if (i < 0)
			i = cp_ring_next(&rt->ring, hash, rt->dead);
		if (i < 0)
			return -EHOSTUNREACH;
		if (rt->conn[i].fd < 0) {
			if (cp_client_connect(&rt->conn[i], rt->ring.m[i].addr)) {
				mark_dead(rt, i);
				i = -1;
				continue;
			}
			/* A member that stops answering counts as dead. */
			cp_client_set_timeout(&rt->conn[i], CP_ROUTE_TIMEOUT_MS, true);
		}
		if (send_to(rt, i, hash, m) || cp_client_recv_hdr(&rt->conn[i], r)) {
			mark_dead(rt, i);
			i = -1;
			continue;
		}
		if (r->epoch > rt->ring.epoch)
			rt->stale = true;
		*c = &rt->conn[i];
		if (r->status != CACHEPEER_S_REDIRECT || r->data_len >= 64)
			return 0;
		/* The node names the owner: go there, and re-read the ring. */
		rt->redirects++;
		rt->stale = true;
		to = calloc(1, r->data_len + 1);
		if (!to || cp_client_recv_data(&rt->conn[i], r, to)) {
			free(to);
			mark_dead(rt, i);
			i = -1;
			continue;
		}
		for (i = rt->ring.n - 1; i >= 0; i--)
			if (!strcmp(rt->ring.m[i].addr, to))
				break;
		free(to);
	}
	return -EHOSTUNREACH;
}

/* Read the ring from any node (RING_GET over the block protocol). */
int cp_ring_fetch(const char *peer, struct cp_ring *r)
{
	struct cp_msg m = { .op = CACHEPEER_OP_RING_GET, .id = 1 };
	struct cp_client c;
	struct cp_resp resp;
	void *buf = NULL;
	int ret;

	ret = cp_client_connect(&c, peer);
	if (ret)
		return ret;
	ret = cp_client_send(&c, &m) ?: cp_client_recv_hdr(&c, &resp);
	if (!ret && resp.status == CACHEPEER_S_DENIED)
		ret = -EACCES;
	else if (!ret && (resp.status != CACHEPEER_S_OK || resp.data_len > CACHEPEER_RING_ENC_MAX))
		ret = -EPROTO;
	if (!ret) {
		buf = malloc(resp.data_len ? resp.data_len : 1);
		ret = buf ? cp_client_recv_data(&c, &resp, buf) : -ENOMEM;
	}
	if (!ret)
		ret = cp_ring_decode(r, buf, resp.data_len);
	free(buf);
	cp_client_close(&c);
	return ret;
}
