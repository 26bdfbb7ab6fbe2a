// SPDX-License-Identifier: MIT
/*
 * libcachepeer's handle: members, routing by the ring, requests from submit
 * to completion, and the I/O round that drives them.
 */

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"
#include "internal.h"

/* A completed request's result, on its way to a callback or a waiter. */
struct cp_fin {
	struct cp_list node;
	cachepeer_done_fn *fn;
	void *arg;
	struct cachepeer_result res;
};

uint64_t cp_now_ms(void)
{
	struct timespec ts;

	/* Milliseconds are all it needs: the coarse clock is cheaper. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static int pool_find(struct cachepeer *cp, const char *addr)
{
	unsigned int i;

	for (i = 0; i < cp->npool; i++)
		if (!strcmp(cp->pool[i]->addr, addr))
			return i;
	return -ENOENT;
}

static int pool_get(struct cachepeer *cp, const char *addr)
{
	struct cp_member *mb, **grown;
	int i = pool_find(cp, addr);

	if (i >= 0)
		return i;
	if (cp->npool >= CP_POOL_MAX || strlen(addr) >= CP_ADDR_MAX)
		return -ENOSPC;
	mb = calloc(1, sizeof(*mb));
	if (!mb)
		return -ENOMEM;
	if (cp_parse_peer(addr, &mb->ss, &mb->sslen)) {
		free(mb);
		return -EINVAL;
	}
	grown = realloc(cp->pool, (cp->npool + 1) * sizeof(*grown));
	if (!grown) {
		free(mb);
		return -ENOMEM;
	}
	cp->pool = grown;
	snprintf(mb->addr, sizeof(mb->addr), "%s", addr);
	cp_list_init(&mb->conns);
	cp->pool[cp->npool] = mb;
	return cp->npool++;
}

static bool member_dead(const struct cachepeer *cp, int m, uint64_t now)
{
	return m < 0 || cp->pool[m]->dead_until > now;
}

/* A member we could not reach: routed past, for longer each time in a row. */
void cp_member_failed(struct cachepeer *cp, int m)
{
	struct cp_member *mb = cp->pool[m];
	unsigned int shift = mb->fails < 4 ? mb->fails : 4;

	mb->fails++;
	mb->dead_until = cp_now_ms() + (500ULL << shift);
	cp->stale = true;
}

static void kick(struct cachepeer *cp)
{
	uint64_t one = 1;

	/*
	 * Someone must write what was queued: the leader, asleep in
	 * epoll_wait(), or with no leader whoever polls cachepeer_fd().
	 */
	if ((cp->sleeping || !cp->leader) && !cp->kicked && !cp->self_lead) {
		cp->kicked = true;
		if (write(cp->evfd, &one, sizeof(one)) < 0)
			cp->kicked = false;
	}
}

/* The member req goes to, or a negative errno. */
static int route(struct cachepeer *cp, struct cp_req *req)
{
	uint64_t now = cp->now;
	unsigned int i;
	int m, owner;

	if (req->to >= 0 && !member_dead(cp, req->to, now)) {
		m = req->to;
		req->to = -1;
		return m;
	}
	req->to = -1;
	if (cp->pinned || req->kind == CP_K_RING) {
		for (i = 0; i < cp->nseeds; i++)
			if (!member_dead(cp, cp->seeds[i], now))
				return cp->seeds[i];
		for (i = 0; i < cp->ring.n && req->kind == CP_K_RING; i++)
			if (!member_dead(cp, cp->ring_pool[i], now))
				return cp->ring_pool[i];
		return -EHOSTUNREACH;
	}
	for (i = 0; i < cp->ring.n; i++)
		cp->skip[i] = member_dead(cp, cp->ring_pool[i], now);
	m = cp_ring_next(&cp->ring, req->hash, cp->skip);
	if (m < 0)
		return -EHOSTUNREACH;
	/* Failing over from an owner we cannot reach: or the member sends it back. */
	owner = cp_ring_next(&cp->ring, req->hash, NULL);
	if (m != owner && (req->r.op == CACHEPEER_PUT || req->r.op == CACHEPEER_DEL))
		req->r.flags |= CACHEPEER_REQ_LOCAL;
	return cp->ring_pool[m];
}

/* The least loaded connection to m, or a new one if they are all full. */
static struct cp_conn *pick(struct cachepeer *cp, int m)
{
	struct cp_member *mb = cp->pool[m];
	struct cp_conn *best = NULL, *c;
	struct cp_list *l;

	for (l = mb->conns.next; l != &mb->conns; l = l->next) {
		c = cp_entry(l, struct cp_conn, mnode);
		if (!best || c->load < best->load)
			best = c;
	}
	if (best && (best->load < cp->cfg.depth || mb->nconns >= cp->cfg.max_conns))
		return best;
	c = cp_conn_open(cp, m);
	if (c && mb->nconns > cp->cfg.min_conns)
		cp->extra = true;
	return c ?: best;
}

void cp_dispatch(struct cachepeer *cp, struct cp_req *req)
{
	unsigned int tries;

	for (tries = 0; tries < 4; tries++) {
		int m = route(cp, req);
		struct cp_conn *c;

		if (m < 0) {
			cp_complete(cp, req, m);
			return;
		}
		c = pick(cp, m);
		if (!c) {
			cp_member_failed(cp, m);
			continue;
		}
		cp_conn_queue(cp, c, req, false);
		kick(cp);
		return;
	}
	cp_complete(cp, req, -EHOSTUNREACH);
}

/* Zeroed up to its frame, which is written whole before it is sent. */
struct cp_req *cp_req_alloc(struct cachepeer *cp)
{
	struct cp_req *req;

	if (cp_list_empty(&cp->spare))
		return calloc(1, sizeof(*req));
	req = cp_entry(cp->spare.next, struct cp_req, qnode);
	cp_list_del(&req->qnode);
	cp->nspare--;
	memset(req, 0, offsetof(struct cp_req, frame));
	return req;
}

void cp_req_free(struct cachepeer *cp, struct cp_req *req)
{
	free(req->own);
	if (cp->nspare >= CP_SPARE_MAX) {
		free(req);
		return;
	}
	req->own = NULL;
	cp_list_add(&req->qnode, &cp->spare);
	cp->nspare++;
}

/*
 * req is done: its result goes to its callback or waiter. A request whose
 * answer may still come stays on its connection, dead, and the answer is
 * dropped; its data no longer goes to the caller's buffer or file.
 */
void cp_complete(struct cachepeer *cp, struct cp_req *req, int err)
{
	struct cp_conn *c = req->conn;
	struct cp_fin *fin = (struct cp_fin *)req->r.arg;

	cp_list_del(&req->tnode);
	if (req->kind == CP_K_RING) {
		cp->ring_busy = false;
		cp->ring_err = err;
		if (err)
			cp->stale = true;
		fin = NULL;
	}
	if (err == -ETIMEDOUT && req->kind == CP_K_USER)
		cp->st.timeouts++;
	if (req->kind == CP_K_USER)
		cp->completions++;
	if (req->sync) {
		req->sync->res = req->res;
		req->sync->res.id = req->id;
		if (err)
			req->sync->res.error = err;
		req->sync->done = true;
		if (req->sync->cond)
			pthread_cond_signal(req->sync->cond);
		req->sync = NULL;
	} else if (fin) {
		fin->res = req->res;
		fin->res.id = req->id;
		if (err)
			fin->res.error = err;
		if (fin->fn) {
			cp_list_add_tail(&fin->node, &cp->callbacks);
		} else {
			cp_list_add_tail(&fin->node, &cp->done);
			cp_wake_id(cp, req->id);
		}
	}
	if (c && !req->sent_all) {
		bool part = req->sent;

		cp_conn_unqueue(cp, req);
		cp_req_free(cp, req);
		/* Half a frame went out: the stream cannot go on without the rest. */
		if (part)
			cp_conn_fail(cp, c, -ECONNRESET);
		return;
	}
	if (c) {
		req->dead = true;
		if (req->kind == CP_K_USER)
			c->load--;
		if (c->creq == req)
			c->sink_err = -ECANCELED;
		return;
	}
	cp_req_free(cp, req);
}

static int status_errno(int status)
{
	switch (status) {
	case CACHEPEER_S_OK:
		return 0;
	case CACHEPEER_S_NOT_FOUND:
		return -ENOENT;
	case CACHEPEER_S_TOO_LARGE:
		return -EFBIG;
	case CACHEPEER_S_NO_SPACE:
		return -ENOSPC;
	case CACHEPEER_S_BUSY:
		return -EBUSY;
	case CACHEPEER_S_IO_ERROR:
		return -EIO;
	case CACHEPEER_S_CORRUPT:
		return -EBADMSG;
	case CACHEPEER_S_DENIED:
		return -EACCES;
	case CACHEPEER_S_CONFLICT:
		return -EEXIST;
	default:
		return -EINVAL;
	}
}

/*
 * No node makes a weight past CACHEPEER_WEIGHT_MAX; one that sends it
 * would have the ring cost points, memory and time, without end. The
 * decoder takes what the kernel's does (the fuzzer holds them to that):
 * this bound is the library's own.
 */
static bool weights_bounded(const void *buf, size_t len)
{
	const struct cachepeer_ring_member *e;
	size_t n;

	if (len < sizeof(struct cachepeer_ring_hdr))
		return true;	/* the decoder refuses it */
	e = (const void *)((const uint8_t *)buf + sizeof(struct cachepeer_ring_hdr));
	n = (len - sizeof(struct cachepeer_ring_hdr)) / sizeof(*e);
	while (n--)
		if (be16toh(e[n].weight) > CACHEPEER_WEIGHT_MAX)
			return false;
	return true;
}

static int install_ring(struct cachepeer *cp, const void *buf, size_t len)
{
	struct cp_ring fresh = { 0 };
	int *map = NULL, ret;
	bool *skip = NULL;
	unsigned int i;

	ret = weights_bounded(buf, len) ? cp_ring_decode(&fresh, buf, len) : -EBADMSG;
	if (ret)
		goto fail;
	map = calloc(fresh.n ?: 1, sizeof(*map));
	skip = calloc(fresh.n ?: 1, sizeof(*skip));
	ret = -ENOMEM;
	if (!map || !skip)
		goto fail;
	for (i = 0; i < fresh.n; i++)
		map[i] = pool_get(cp, fresh.m[i].addr);
	cp_ring_free(&cp->ring);
	free(cp->ring_pool);
	free(cp->skip);
	cp->ring = fresh;
	cp->ring_pool = map;
	cp->skip = skip;
	/* A node in no ring serves alone: requests go to the seeds. */
	cp->pinned = (cp->cfg.flags & CACHEPEER_CFG_PIN) || !fresh.n;
	cp->st.ring_reads++;
	cp->st.ring_epoch = fresh.epoch;
	cp->st.members = fresh.n;
	return 0;
fail:
	cp_ring_free(&fresh);
	free(map);
	free(skip);
	cp->stale = true;
	return ret;
}

/* An answer came for req (off its connection now). */
void cp_answered(struct cachepeer *cp, struct cp_conn *c, struct cp_req *req)
{
	const struct cp_resp *h = &c->cur;
	char to[CP_ADDR_MAX];
	int m;

	if (!cp->pinned && h->epoch > cp->ring.epoch)
		cp->stale = true;
	if (req->kind == CP_K_RING) {
		int err = status_errno(h->status);

		if (!err)
			err = crc32c(0, req->own, h->data_len) == h->crc ?
			      install_ring(cp, req->own, h->data_len) : -EBADMSG;
		cp_complete(cp, req, err);
		return;
	}
	if (h->status == CACHEPEER_S_REDIRECT) {
		cp->st.redirects++;
		cp->stale = true;
		if (h->data_len >= CP_ADDR_MAX || ++req->hops > 3) {
			cp_complete(cp, req, -EHOSTUNREACH);
			return;
		}
		memcpy(to, req->own, h->data_len);
		to[h->data_len] = '\0';
		/*
		 * Only to a member the handle knows (a seed, a ring's): a node
		 * does not get to send our requests, and their data, anywhere.
		 * Otherwise the ring, read again, routes it.
		 */
		m = pool_find(cp, to);
		req->to = m;
		cp_dispatch(cp, req);
		return;
	}
	cp_complete(cp, req, req->res.error ?: status_errno(h->status));
}

static struct cp_req *new_req(struct cachepeer *cp, enum cp_kind kind, unsigned int timeout_ms)
{
	struct cp_req *req = cp_req_alloc(cp);
	struct cp_list *l;

	if (!req)
		return NULL;
	req->kind = kind;
	req->id = ++cp->next_id;
	req->to = -1;
	req->res.status = -1;
	req->deadline = cp->now + (timeout_ms ?: cp->cfg.timeout_ms);
	/* By deadline: a new one is nearly always the latest. */
	for (l = cp->reqs.prev; l != &cp->reqs; l = l->prev)
		if (cp_entry(l, struct cp_req, tnode)->deadline <= req->deadline)
			break;
	cp_list_add(&req->tnode, l);
	return req;
}

static int ring_read(struct cachepeer *cp, int to)
{
	struct cp_req *req = new_req(cp, CP_K_RING, 0);

	if (!req)
		return -ENOMEM;
	req->to = to;
	cp->ring_busy = true;
	cp->stale = false;
	cp->ring_at = cp->now;
	cp_dispatch(cp, req);
	return 0;
}

static void close_idle(struct cachepeer *cp, uint64_t now)
{
	unsigned int i;

	cp->extra = false;
	for (i = 0; i < cp->npool; i++) {
		struct cp_member *mb = cp->pool[i];
		struct cp_list *l, *next;

		for (l = mb->conns.next; l != &mb->conns && mb->nconns > cp->cfg.min_conns;
		     l = next) {
			struct cp_conn *c = cp_entry(l, struct cp_conn, mnode);

			next = l->next;
			if (c->state == CP_C_READY && cp_list_empty(&c->outq) &&
			    cp_list_empty(&c->inflight) &&
			    c->last_active + cp->cfg.idle_ms <= now) {
				cp->st.conns_closed_idle++;
				cp_conn_fail(cp, c, 0);
			}
		}
		cp->extra |= mb->nconns > cp->cfg.min_conns;
	}
}

/* Connections still connecting or in HELLO past their deadline. */
static uint64_t expire_conns(struct cachepeer *cp, uint64_t now)
{
	uint64_t next = 0;
	unsigned int i;

	for (i = 0; i < cp->npool && cp->pending_conns; i++) {
		struct cp_member *mb = cp->pool[i];
		struct cp_list *l, *n;

		for (l = mb->conns.next; l != &mb->conns; l = n) {
			struct cp_conn *c = cp_entry(l, struct cp_conn, mnode);

			n = l->next;
			if (!c->deadline)
				continue;
			if (c->deadline <= now)
				cp_conn_fail(cp, c, -ETIMEDOUT);
			else if (!next || c->deadline < next)
				next = c->deadline;
		}
	}
	return next;
}

static void flush_dirty(struct cachepeer *cp)
{
	while (!cp_list_empty(&cp->dirty)) {
		struct cp_conn *c = cp_entry(cp->dirty.next, struct cp_conn, dnode);

		cp_list_del(&c->dnode);
		cp_conn_flush(cp, c);
	}
}

/* The timerfd fires by the earliest deadline, so that a poller of cachepeer_fd() comes. */
static void arm(struct cachepeer *cp, uint64_t when)
{
	struct itimerspec its = { 0 };

	if (!when || (cp->armed && cp->armed <= when))
		return;
	cp->armed = when;
	when += cp->tick_ms;
	its.it_value.tv_sec = when / 1000;
	its.it_value.tv_nsec = when % 1000 * 1000000;
	if (timerfd_settime(cp->tfd, TFD_TIMER_ABSTIME, &its, NULL))
		cp->armed = 0;
}

/*
 * One round of I/O, as the leader, with the lock held (dropped while it
 * waits): write what is queued, wait at most timeout_ms (-1: no bound) for
 * the sockets, read, expire, close idle connections, read the ring again
 * if it changed.
 */
int cp_round(struct cachepeer *cp, int timeout_ms)
{
	struct epoll_event ev[64];
	/* A submit just now read the clock (a blocking call, which leads next). */
	uint64_t now = cp->now_fresh ? cp->now : cp_now_ms(), next, soonest;
	int n, i, wait = timeout_ms, ret;

	cp->now = now;
	cp->now_fresh = false;
	flush_dirty(cp);
	next = cp->pending_conns ? expire_conns(cp, now) : 0;
	soonest = next;
	if (!cp_list_empty(&cp->reqs)) {
		uint64_t d = cp_entry(cp->reqs.next, struct cp_req, tnode)->deadline;

		if (!soonest || d < soonest)
			soonest = d;
	}
	/* Connections over min_conns are looked at every second (at most) to close idle ones. */
	if (cp->extra && cp->idle_at && (!soonest || cp->idle_at < soonest))
		soonest = cp->idle_at;
	/*
	 * The coarse clock lags by up to a tick: a wait ends a tick after the
	 * deadline, or the round would find it not yet due and spin.
	 */
	if (soonest) {
		int64_t d = (soonest > now ? (int64_t)(soonest - now) : 0) + cp->tick_ms;

		if (wait < 0 || d < wait)
			wait = d;
	}
	arm(cp, soonest);
	if (!cp_list_empty(&cp->callbacks))
		wait = 0;
	cp->sleeping = true;
	pthread_mutex_unlock(&cp->lock);
	n = epoll_wait(cp->epfd, ev, 64, wait);
	pthread_mutex_lock(&cp->lock);
	cp->sleeping = false;
	/* Deadlines still pass, and requests still end, when epoll fails. */
	ret = n < 0 && errno != EINTR ? -errno : 0;
	for (i = 0; i < n; i++) {
		uint64_t v;

		if (ev[i].data.ptr == &cp->evfd) {
			if (read(cp->evfd, &v, sizeof(v)) < 0)
				v = 0;
			cp->kicked = false;
		} else if (ev[i].data.ptr == &cp->tfd) {
			if (read(cp->tfd, &v, sizeof(v)) < 0)
				v = 0;
			cp->armed = 0;
		} else {
			cp_conn_event(cp, ev[i].data.ptr, ev[i].events);
		}
	}
	now = cp_now_ms();
	cp->now = now;
	while (!cp_list_empty(&cp->reqs)) {
		struct cp_req *req = cp_entry(cp->reqs.next, struct cp_req, tnode);

		struct cp_conn *c = req->sent_all ? req->conn : NULL;
		uint64_t wait_ms = req->r.timeout_ms ?: cp->cfg.timeout_ms;

		if (req->deadline > now)
			break;
		cp_complete(cp, req, -ETIMEDOUT);
		/*
		 * Its connection has been silent as long as the request waited:
		 * the node is hung. Close it (the requests on it go elsewhere)
		 * rather than let dead requests pile up on it.
		 */
		if (c && c->state != CP_C_CLOSED && now - c->last_rx >= wait_ms) {
			cp_member_failed(cp, c->member);
			cp_conn_fail(cp, c, -ETIMEDOUT);
		}
	}
	if (cp->pending_conns)
		expire_conns(cp, now);
	if (cp->st.conns_opened && (!cp->idle_at || cp->idle_at <= now)) {
		close_idle(cp, now);
		cp->idle_at = now + (cp->cfg.idle_ms < 1000 ? cp->cfg.idle_ms : 1000);
	}
	if (cp->stale && !cp->ring_busy && !(cp->cfg.flags & CACHEPEER_CFG_PIN) &&
	    now >= cp->ring_at + 100)
		ring_read(cp, -1);
	flush_dirty(cp);
	while (!cp_list_empty(&cp->closed)) {
		struct cp_conn *c = cp_entry(cp->closed.next, struct cp_conn, mnode);

		cp_list_del(&c->mnode);
		cp_conn_free(c);
	}
	return ret;
}

/* Call the callbacks of what is done, the lock dropped. */
int cp_call_callbacks(struct cachepeer *cp)
{
	int n = 0;

	while (!cp_list_empty(&cp->callbacks)) {
		struct cp_fin *fin = cp_entry(cp->callbacks.next, struct cp_fin, node);

		cp_list_del(&fin->node);
		pthread_mutex_unlock(&cp->lock);
		fin->fn(fin->arg, &fin->res);
		free(fin);
		pthread_mutex_lock(&cp->lock);
		n++;
	}
	return n;
}

/* A result waited for, taken off the done list; false if it is not there. */
bool cp_take_done(struct cachepeer *cp, uint64_t id, struct cachepeer_result *res)
{
	struct cp_list *l;

	for (l = cp->done.next; l != &cp->done; l = l->next) {
		struct cp_fin *fin = cp_entry(l, struct cp_fin, node);

		if (fin->res.id == id) {
			*res = fin->res;
			cp_list_del(l);
			free(fin);
			return true;
		}
	}
	return false;
}

/* Whether id is a request not done yet. */
bool cp_pending(struct cachepeer *cp, uint64_t id)
{
	struct cp_list *l;

	for (l = cp->reqs.next; l != &cp->reqs; l = l->next)
		if (cp_entry(l, struct cp_req, tnode)->id == id)
			return true;
	return false;
}

/*
 * sync: a blocking helper's, which is about to lead the I/O itself if no
 * one does; then 0 returns with the lock held, for it to wait under.
 */
int cp_submit(struct cachepeer *cp, const struct cachepeer_request *r, uint64_t *id,
	      struct cp_sync *sync)
{
	struct cp_fin *fin;
	struct cp_req *req;
	uint32_t crc = 0;

	unsigned int known = CACHEPEER_REQ_FD | CACHEPEER_REQ_LOCAL;

	if (r->op < CACHEPEER_GET || r->op > CACHEPEER_DEL || !r->key || !r->key_len ||
	    r->key_len > CACHEPEER_KEY_MAX || (r->flags & ~known))
		return -EINVAL;
	if (r->op == CACHEPEER_GET && ((r->flags & CACHEPEER_REQ_FD) ? r->fd < 0 :
				       !r->buf && r->buf_len))
		return -EINVAL;
	if (r->op == CACHEPEER_PUT && (!r->data || !r->data_len))
		return -EINVAL;
	/* Outside the lock: a 4 MiB block takes a while. */
	if (r->op == CACHEPEER_PUT)
		crc = crc32c(0, r->data, r->data_len);
	fin = sync ? NULL : calloc(1, sizeof(*fin));
	if (!sync && !fin)
		return -ENOMEM;
	if (fin) {
		fin->fn = r->done;
		fin->arg = r->arg;
	}
	pthread_mutex_lock(&cp->lock);
	if (cp->closing) {
		pthread_mutex_unlock(&cp->lock);
		free(fin);
		return -ESHUTDOWN;
	}
	cp->now = cp_now_ms();
	req = new_req(cp, CP_K_USER, r->timeout_ms);
	if (!req) {
		pthread_mutex_unlock(&cp->lock);
		free(fin);
		return -ENOMEM;
	}
	req->r = *r;
	memcpy(req->frame.key, r->key, r->key_len);
	req->r.key = req->frame.key;
	req->r.arg = fin;
	req->sync = sync;
	req->crc = crc;
	/* Pinned, no ring to look the key up in. */
	if (!cp->pinned)
		req->hash = cp_xxh64(r->key, r->key_len, 0);
	cp->st.requests++;
	if (id)
		*id = req->id;
	cp->self_lead = sync && !cp->leader;
	cp->now_fresh = cp->self_lead;
	cp_dispatch(cp, req);
	cp->self_lead = false;
	arm(cp, req->deadline);
	if (!sync)
		pthread_mutex_unlock(&cp->lock);
	return 0;
}

int cachepeer_submit(struct cachepeer *cp, const struct cachepeer_request *r, uint64_t *id)
{
	return cp_submit(cp, r, id, NULL);
}

int cachepeer_cancel(struct cachepeer *cp, uint64_t id)
{
	struct cp_list *l;
	int ret = -ENOENT;

	pthread_mutex_lock(&cp->lock);
	for (l = cp->reqs.next; l != &cp->reqs; l = l->next) {
		struct cp_req *req = cp_entry(l, struct cp_req, tnode);

		if (req->id == id && req->kind == CP_K_USER) {
			cp_complete(cp, req, -ECANCELED);
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&cp->lock);
	return ret;
}

int cachepeer_fd(const struct cachepeer *cp)
{
	return cp->epfd;
}

void cachepeer_get_stats(struct cachepeer *cp, struct cachepeer_stats *st, size_t size)
{
	pthread_mutex_lock(&cp->lock);
	memcpy(st, &cp->st, size < sizeof(cp->st) ? size : sizeof(cp->st));
	pthread_mutex_unlock(&cp->lock);
}

const char *cachepeer_status_str(int status)
{
	return status < 0 ? "no answer" : cp_status_name(status);
}

const char *cachepeer_version(void)
{
	return "0.1";
}

static int add_fd(struct cachepeer *cp, int *fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = fd };

	return epoll_ctl(cp->epfd, EPOLL_CTL_ADD, *fd, &ev) ? -errno : 0;
}

static int add_seeds(struct cachepeer *cp, const char *seeds)
{
	char addr[CP_ADDR_MAX];

	while (*seeds) {
		size_t n = strcspn(seeds, ",");
		int m;

		if (!n || n >= sizeof(addr))
			return -EINVAL;
		memcpy(addr, seeds, n);
		addr[n] = '\0';
		m = pool_get(cp, addr);
		if (m < 0)
			return m;
		cp->seeds = realloc(cp->seeds, (cp->nseeds + 1) * sizeof(*cp->seeds));
		if (!cp->seeds)
			return -ENOMEM;
		cp->seeds[cp->nseeds++] = m;
		seeds += n;
		if (*seeds == ',')
			seeds++;
	}
	return cp->nseeds ? 0 : -EINVAL;
}

/* The first ring: from the seeds in turn, before open returns. */
static int first_ring(struct cachepeer *cp)
{
	unsigned int i;
	int ret = -EHOSTUNREACH;

	for (i = 0; i < cp->nseeds && !cp->st.ring_reads; i++) {
		ret = ring_read(cp, cp->seeds[i]);
		while (!ret && cp->ring_busy)
			ret = cp_round(cp, -1);
		/* Refused, or a ring we cannot use: no other seed will differ. */
		if (cp->ring_err == -EACCES || cp->ring_err == -EPROTONOSUPPORT)
			return cp->ring_err;
	}
	return cp->st.ring_reads ? 0 : ret ?: cp->ring_err ?: -EHOSTUNREACH;
}

int cachepeer_open(struct cachepeer **cpp, const struct cachepeer_config *cfg)
{
	struct cachepeer *cp;
	int ret;

	if (!cfg || cfg->size < offsetof(struct cachepeer_config, flags) || !cfg->seeds)
		return -EINVAL;
	cp = calloc(1, sizeof(*cp));
	if (!cp)
		return -ENOMEM;
	memcpy(&cp->cfg, cfg, cfg->size < sizeof(cp->cfg) ? cfg->size : sizeof(cp->cfg));
	cp->cfg.size = sizeof(cp->cfg);
	cp->cfg.seeds = NULL;
	cp->cfg.key = NULL;
	cp->cfg.min_conns = cp->cfg.min_conns ?: 1;
	cp->cfg.max_conns = cp->cfg.max_conns ?: 4;
	if (cp->cfg.max_conns < cp->cfg.min_conns)
		cp->cfg.max_conns = cp->cfg.min_conns;
	cp->cfg.depth = cp->cfg.depth ?: 8;
	cp->cfg.timeout_ms = cp->cfg.timeout_ms ?: 10000;
	cp->cfg.connect_timeout_ms = cp->cfg.connect_timeout_ms ?: 2000;
	cp->cfg.idle_ms = cp->cfg.idle_ms ?: 5000;
	pthread_mutex_init(&cp->lock, NULL);
	cp_list_init(&cp->reqs);
	cp_list_init(&cp->done);
	cp_list_init(&cp->callbacks);
	cp_list_init(&cp->dirty);
	cp_list_init(&cp->closed);
	cp_list_init(&cp->waiters);
	cp_list_init(&cp->spare);
	cp->pinned = cp->cfg.flags & CACHEPEER_CFG_PIN;
	{
		struct timespec res = { .tv_nsec = 4000000 };

		clock_getres(CLOCK_MONOTONIC_COARSE, &res);
		cp->tick_ms = res.tv_sec * 1000 + (res.tv_nsec + 999999) / 1000000;
	}
	cp->evfd = -1;
	cp->tfd = -1;
	cp->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (cp->epfd < 0) {
		ret = -errno;
		goto fail;
	}
	cp->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	cp->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (cp->evfd < 0 || cp->tfd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = add_fd(cp, &cp->evfd) ?: add_fd(cp, &cp->tfd);
	if (ret)
		goto fail;
	if (cfg->key || (cp->cfg.flags & CACHEPEER_CFG_ENV_KEY)) {
		ret = cp_key_load(cfg->key, &cp->key);
		if (ret < 0)
			goto fail;
		cp->has_key = !ret;
	}
	ret = add_seeds(cp, cfg->seeds);
	if (ret)
		goto fail;
	if (!cp->pinned) {
		pthread_mutex_lock(&cp->lock);
		cp->now = cp_now_ms();
		cp->leader = true;
		ret = first_ring(cp);
		cp->leader = false;
		pthread_mutex_unlock(&cp->lock);
		if (ret)
			goto fail;
	}
	*cpp = cp;
	return 0;
fail:
	cachepeer_close(cp);
	return ret;
}

void cachepeer_close(struct cachepeer *cp)
{
	unsigned int i;

	if (!cp)
		return;
	pthread_mutex_lock(&cp->lock);
	/* Callbacks may submit: refused from now on, and what is in drains. */
	cp->closing = true;
	while (!cp_list_empty(&cp->reqs) || !cp_list_empty(&cp->callbacks)) {
		while (!cp_list_empty(&cp->reqs))
			cp_complete(cp, cp_entry(cp->reqs.next, struct cp_req, tnode),
				    -ECANCELED);
		cp_call_callbacks(cp);
	}
	for (i = 0; i < cp->npool; i++) {
		struct cp_member *mb = cp->pool[i];

		while (!cp_list_empty(&mb->conns))
			cp_conn_fail(cp, cp_entry(mb->conns.next, struct cp_conn, mnode), 0);
		free(mb);
	}
	while (!cp_list_empty(&cp->closed)) {
		struct cp_conn *c = cp_entry(cp->closed.next, struct cp_conn, mnode);

		cp_list_del(&c->mnode);
		cp_conn_free(c);
	}
	while (!cp_list_empty(&cp->done)) {
		struct cp_fin *fin = cp_entry(cp->done.next, struct cp_fin, node);

		cp_list_del(&fin->node);
		free(fin);
	}
	while (!cp_list_empty(&cp->spare)) {
		struct cp_list *l = cp->spare.next;

		cp_list_del(l);
		free(cp_entry(l, struct cp_req, qnode));
	}
	pthread_mutex_unlock(&cp->lock);
	free(cp->pool);
	free(cp->seeds);
	free(cp->ring_pool);
	free(cp->skip);
	cp_ring_free(&cp->ring);
	if (cp->epfd >= 0)
		close(cp->epfd);
	if (cp->evfd >= 0)
		close(cp->evfd);
	if (cp->tfd >= 0)
		close(cp->tfd);
	explicit_bzero(&cp->key, sizeof(cp->key));
	pthread_mutex_destroy(&cp->lock);
	free(cp);
}
