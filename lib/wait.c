// SPDX-License-Identifier: MIT
/*
 * libcachepeer's threads: one leads (does the I/O), the others wait for
 * their requests; and the blocking helpers built on that.
 *
 * A thread that wants a result takes the lead if no one has it, and runs
 * rounds until its result is in; otherwise it sleeps on its own condition
 * variable, woken by the leader when its result is done or when the leader
 * steps down (then the first waiter leads). Requests from waiting threads
 * queue behind the leader's epoll_wait(), which the first of them wakes:
 * what they queued meanwhile goes out in one write per connection.
 */

#include <errno.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* The leader stepped down, or a waiter left: the first waiter may lead. */
void cp_handoff(struct cachepeer *cp)
{
	if (!cp->leader && !cp_list_empty(&cp->waiters))
		pthread_cond_signal(&cp_entry(cp->waiters.next, struct cp_waiter, node)->cond);
}

void cp_wake_id(struct cachepeer *cp, uint64_t id)
{
	struct cp_list *l;

	for (l = cp->waiters.next; l != &cp->waiters; l = l->next) {
		struct cp_waiter *w = cp_entry(l, struct cp_waiter, node);

		if (w->id == id)
			pthread_cond_signal(&w->cond);
	}
}

/* Sleep until woken (or until the absolute CLOCK_MONOTONIC deadline, if set). */
static void follow(struct cachepeer *cp, uint64_t id, const struct timespec *until)
{
	struct cp_waiter w = { .id = id };
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&w.cond, &a);
	pthread_condattr_destroy(&a);
	cp_list_add_tail(&w.node, &cp->waiters);
	if (until)
		pthread_cond_timedwait(&w.cond, &cp->lock, until);
	else
		pthread_cond_wait(&w.cond, &cp->lock);
	cp_list_del(&w.node);
	pthread_cond_destroy(&w.cond);
}

int cachepeer_wait(struct cachepeer *cp, uint64_t id, struct cachepeer_result *res)
{
	int ret = 0;

	pthread_mutex_lock(&cp->lock);
	while (!cp_take_done(cp, id, res)) {
		/* Done with a callback, waited for by another thread, or never made. */
		if (!cp_pending(cp, id)) {
			ret = -ENOENT;
			break;
		}
		if (cp->leader) {
			follow(cp, id, NULL);
			continue;
		}
		cp->leader = true;
		ret = cp_round(cp, -1);
		cp->leader = false;
		cp_handoff(cp);
		cp_call_callbacks(cp);
		if (ret)
			break;
	}
	cp_handoff(cp);
	pthread_mutex_unlock(&cp->lock);
	return ret;
}

int cachepeer_run(struct cachepeer *cp, int timeout_ms)
{
	uint64_t end = timeout_ms > 0 ? cp_now_ms() + timeout_ms : 0, done;
	int n = 0, ret = 0;

	pthread_mutex_lock(&cp->lock);
	done = cp->completions;
	for (;;) {
		uint64_t now = cp_now_ms();
		int wait = timeout_ms < 0 ? -1 : end > now ? (int)(end - now) : 0;

		if (cp->completions != done)
			break;
		if (cp->leader) {
			struct timespec ts = {
				.tv_sec = end / 1000, .tv_nsec = end % 1000 * 1000000,
			};

			if (!wait)
				break;
			follow(cp, 0, end ? &ts : NULL);
			continue;
		}
		cp->leader = true;
		ret = cp_round(cp, wait);
		cp->leader = false;
		cp_handoff(cp);
		n += cp_call_callbacks(cp);
		/* Done when a request is, whoever ran its callback. */
		if (ret || n || cp->completions != done || !wait || (end && cp_now_ms() >= end))
			break;
	}
	cp_handoff(cp);
	pthread_mutex_unlock(&cp->lock);
	return ret ?: n;
}

/* Sleep until the request behind s is done, or the lead is handed over. */
static void follow_sync(struct cachepeer *cp, struct cp_sync *s)
{
	struct cp_waiter w = { .id = 0 };

	pthread_cond_init(&w.cond, NULL);
	cp_list_add_tail(&w.node, &cp->waiters);
	s->cond = &w.cond;
	pthread_cond_wait(&w.cond, &cp->lock);
	s->cond = NULL;
	cp_list_del(&w.node);
	pthread_cond_destroy(&w.cond);
}

/* Submit r and wait: its result lands in *res, on this stack, no list searched. */
static int call(struct cachepeer *cp, struct cachepeer_request *r, struct cachepeer_result *res)
{
	struct cp_sync s = { 0 };
	int ret;

	r->done = NULL;
	ret = cp_submit(cp, r, NULL, &s);
	if (ret)
		return ret;
	/* cp_submit() left the lock held. */
	while (!s.done) {
		if (cp->leader) {
			follow_sync(cp, &s);
			continue;
		}
		/*
		 * Not even a failed round (epoll) may end this wait: s is on
		 * this stack. The request's deadline ends it at the latest.
		 */
		cp->leader = true;
		cp_round(cp, -1);
		cp->leader = false;
		cp_handoff(cp);
		if (!cp_list_empty(&cp->callbacks))
			cp_call_callbacks(cp);
	}
	cp_handoff(cp);
	pthread_mutex_unlock(&cp->lock);
	*res = s.res;
	return res->error;
}

ssize_t cachepeer_get(struct cachepeer *cp, const void *key, size_t key_len, uint64_t offset,
		      uint64_t length, void *buf, size_t buf_len)
{
	struct cachepeer_request r = {
		.op = CACHEPEER_GET, .key = key, .key_len = key_len, .offset = offset,
		.length = length, .buf = buf, .buf_len = buf_len,
	};
	struct cachepeer_result res;
	int ret = call(cp, &r, &res);

	return ret ?: (ssize_t)res.len;
}

ssize_t cachepeer_get_fd(struct cachepeer *cp, const void *key, size_t key_len, uint64_t offset,
			 uint64_t length, int fd, off_t fd_offset)
{
	struct cachepeer_request r = {
		.op = CACHEPEER_GET, .key = key, .key_len = key_len, .offset = offset,
		.length = length, .fd = fd, .fd_offset = fd_offset, .flags = CACHEPEER_REQ_FD,
	};
	struct cachepeer_result res;
	int ret = call(cp, &r, &res);

	return ret ?: (ssize_t)res.len;
}

int cachepeer_put(struct cachepeer *cp, const void *key, size_t key_len, const void *data,
		  size_t len)
{
	struct cachepeer_request r = {
		.op = CACHEPEER_PUT, .key = key, .key_len = key_len, .data = data, .data_len = len,
	};
	struct cachepeer_result res;

	return call(cp, &r, &res);
}

int cachepeer_stat(struct cachepeer *cp, const void *key, size_t key_len, uint64_t *size,
		   uint32_t *crc)
{
	struct cachepeer_request r = { .op = CACHEPEER_STAT, .key = key, .key_len = key_len };
	struct cachepeer_result res;
	int ret = call(cp, &r, &res);

	if (!ret && size)
		*size = res.block_size;
	if (!ret && crc)
		*crc = res.crc;
	return ret;
}

int cachepeer_del(struct cachepeer *cp, const void *key, size_t key_len)
{
	struct cachepeer_request r = { .op = CACHEPEER_DEL, .key = key, .key_len = key_len };
	struct cachepeer_result res;

	return call(cp, &r, &res);
}
