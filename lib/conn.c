// SPDX-License-Identifier: MIT
/*
 * libcachepeer's connections: a non-blocking connect, HELLO, frames written
 * in batches, answers matched by id and their data moved to each request's
 * sink.
 */

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "crc32c.h"
#include "internal.h"

/* Frames one sendmsg() may carry: a header-and-key piece and a payload each. */
#define CP_BATCH	64

static void set_events(struct cachepeer *cp, struct cp_conn *c, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c };

	if (c->want_out == out)
		return;
	c->want_out = out;
	epoll_ctl(cp->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

struct cp_conn *cp_conn_open(struct cachepeer *cp, int m)
{
	struct cp_member *mb = cp->pool[m];
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT };
	struct cp_conn *c = calloc(1, sizeof(*c));
	int one = 1;

	if (!c)
		return NULL;
	c->rbuf = malloc(CP_RBUF);
	c->fd = socket(mb->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (!c->rbuf || c->fd < 0)
		goto fail;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&mb->ss, mb->sslen) && errno != EINPROGRESS)
		goto fail;
	ev.data.ptr = c;
	if (epoll_ctl(cp->epfd, EPOLL_CTL_ADD, c->fd, &ev))
		goto fail;
	c->want_out = true;
	c->member = m;
	c->state = CP_C_CONNECTING;
	c->pipe[0] = -1;
	c->pipe[1] = -1;
	c->deadline = cp->now + cp->cfg.connect_timeout_ms;
	c->last_active = cp->now;
	c->last_rx = cp->now;
	cp->pending_conns++;
	cp_list_init(&c->outq);
	cp_list_init(&c->inflight);
	cp_list_init(&c->dnode);
	cp_list_add_tail(&c->mnode, &mb->conns);
	mb->nconns++;
	cp->st.conns++;
	cp->st.conns_opened++;
	return c;
fail:
	if (c->fd >= 0)
		close(c->fd);
	free(c->rbuf);
	free(c);
	return NULL;
}

void cp_conn_free(struct cp_conn *c)
{
	if (c->pipe[0] >= 0) {
		close(c->pipe[0]);
		close(c->pipe[1]);
	}
	free(c->rbuf);
	free(c);
}

/* Queue req's frame on c; first: ahead of the others (HELLO's). */
void cp_conn_queue(struct cachepeer *cp, struct cp_conn *c, struct cp_req *req, bool first)
{
	const struct cachepeer_request *r = &req->r;
	uint16_t flags = 0;
	uint8_t op = 0;

	switch (req->kind) {
	case CP_K_USER:
		op = r->op == CACHEPEER_GET ? CACHEPEER_OP_GET : r->op == CACHEPEER_PUT ?
		     CACHEPEER_OP_PUT : r->op == CACHEPEER_STAT ? CACHEPEER_OP_STAT :
		     CACHEPEER_OP_DEL;
		break;
	case CP_K_RING:
		op = CACHEPEER_OP_RING_GET;
		break;
	case CP_K_HELLO:
		op = CACHEPEER_OP_HELLO;
		break;
	case CP_K_PROOF:
		op = CACHEPEER_OP_HELLO;
		flags = CACHEPEER_F_PROOF;
		break;
	}
	if (op == CACHEPEER_OP_PUT)
		flags |= CACHEPEER_F_CRC;
	if ((op == CACHEPEER_OP_PUT || op == CACHEPEER_OP_DEL) && (r->flags & CACHEPEER_REQ_LOCAL))
		flags |= CACHEPEER_F_LOCAL;
	if (op == CACHEPEER_OP_GET)
		cp_req_encode(&req->frame.hdr, op, flags, req->id, r->key_len, r->offset,
			      r->length, 0, 0);
	else
		cp_req_encode(&req->frame.hdr, op, flags, req->id, r->key_len, 0, 0,
			      op == CACHEPEER_OP_PUT ? r->data_len : 0, req->crc);
	req->conn = c;
	req->sent = 0;
	req->sent_all = false;
	if (first)
		cp_list_add(&req->qnode, &c->outq);
	else
		cp_list_add_tail(&req->qnode, &c->outq);
	if (req->kind == CP_K_USER)
		c->load++;
	c->last_active = cp->now;
	if (cp_list_empty(&c->dnode))
		cp_list_add_tail(&c->dnode, &cp->dirty);
}

/* Take a request that was never written in full off its connection's queue. */
void cp_conn_unqueue(struct cachepeer *cp, struct cp_req *req)
{
	struct cp_conn *c = req->conn;

	cp_list_del(&req->qnode);
	if (req->kind == CP_K_USER)
		c->load--;
	req->conn = NULL;
}

static size_t frame_len(const struct cp_req *req)
{
	return sizeof(req->frame.hdr) + req->r.key_len +
	       (req->r.op == CACHEPEER_PUT && req->kind == CP_K_USER ? req->r.data_len : 0);
}

/* Write what c has queued, as much as the socket takes, in few sendmsg() calls. */
void cp_conn_flush(struct cachepeer *cp, struct cp_conn *c)
{
	struct iovec iov[2 * CP_BATCH];
	struct cp_req *batch[CP_BATCH];

	if (c->state == CP_C_CONNECTING || c->state == CP_C_CLOSED)
		return;
	while (!cp_list_empty(&c->outq)) {
		unsigned int n = 0, frames = 0, i;
		struct cp_list *l;
		ssize_t w;

		for (l = c->outq.next; l != &c->outq && frames < CP_BATCH; l = l->next) {
			struct cp_req *req = cp_entry(l, struct cp_req, qnode);
			size_t head = sizeof(req->frame.hdr) + req->r.key_len, off = req->sent;

			/* While HELLO is under way, nothing goes before it is done. */
			if (c->state == CP_C_HELLO && req->kind != CP_K_HELLO &&
			    req->kind != CP_K_PROOF)
				break;
			if (off < head) {
				iov[n].iov_base = (uint8_t *)&req->frame + off;
				iov[n++].iov_len = head - off;
				off = head;
			}
			if (frame_len(req) > off) {
				iov[n].iov_base = (uint8_t *)req->r.data + (off - head);
				iov[n++].iov_len = frame_len(req) - off;
			}
			batch[frames++] = req;
		}
		if (!n)
			break;
		w = sendmsg(c->fd, &(struct msghdr) { .msg_iov = iov, .msg_iovlen = n },
			    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			set_events(cp, c, true);
			return;
		}
		if (w < 0) {
			cp_conn_fail(cp, c, -errno);
			return;
		}
		cp->st.writes++;
		for (i = 0; i < frames; i++) {
			struct cp_req *req = batch[i];
			size_t left = frame_len(req) - req->sent;

			if ((size_t)w < left) {
				req->sent += w;
				break;
			}
			w -= left;
			req->sent = frame_len(req);
			cp_list_del(&req->qnode);
			cp_list_add_tail(&req->qnode, &c->inflight);
			req->sent_all = true;
			cp->st.frames++;
		}
	}
	set_events(cp, c, false);
}

static void conn_ready(struct cachepeer *cp, struct cp_conn *c)
{
	c->state = CP_C_READY;
	c->deadline = 0;
	cp->pending_conns--;
}

/*
 * Fail c: close it, and send its requests again (elsewhere if its member is
 * now unreachable) or complete them with err.
 */
void cp_conn_fail(struct cachepeer *cp, struct cp_conn *c, int err)
{
	struct cp_member *mb = cp->pool[c->member];
	bool never = c->state != CP_C_READY;
	struct cp_list moved;

	if (c->state == CP_C_CLOSED)
		return;
	c->state = CP_C_CLOSED;
	if (c->deadline)
		cp->pending_conns--;
	c->deadline = 0;
	/* A forked child may hold the socket: its registration must go now. */
	epoll_ctl(cp->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	cp_list_del(&c->mnode);
	cp_list_del(&c->dnode);
	cp_list_add_tail(&c->mnode, &cp->closed);
	mb->nconns--;
	cp->st.conns--;
	/* A member we could not reach (or HELLO with) is routed past for a while. */
	if (never && err != -EACCES) {
		cp->st.connect_failures++;
		cp_member_failed(cp, c->member);
	}
	cp_list_init(&moved);
	while (!cp_list_empty(&c->inflight)) {
		struct cp_list *l = c->inflight.next;

		cp_list_del(l);
		cp_list_add_tail(l, &moved);
	}
	while (!cp_list_empty(&c->outq)) {
		struct cp_list *l = c->outq.next;

		cp_list_del(l);
		cp_list_add_tail(l, &moved);
	}
	c->creq = NULL;
	while (!cp_list_empty(&moved)) {
		struct cp_req *req = cp_entry(moved.next, struct cp_req, qnode);

		cp_list_del(&req->qnode);
		req->conn = NULL;
		req->sent_all = false;
		if (req->dead || req->kind == CP_K_HELLO || req->kind == CP_K_PROOF) {
			cp_req_free(cp, req);
		} else if (err == -EACCES || err == -EPROTO) {
			cp_complete(cp, req, err);
		} else if (req->wrote) {
			/* Part of the block went where it cannot be taken back. */
			cp_complete(cp, req, -ECONNRESET);
		} else if (++req->tries > 2) {
			cp_complete(cp, req, -EHOSTUNREACH);
		} else {
			cp->st.retries++;
			cp_dispatch(cp, req);
		}
	}
}

int cp_hello_start(struct cachepeer *cp, struct cp_conn *c)
{
	struct cp_req *req = cp_req_alloc(cp);
	size_t nl = strlen(cp->key.name);

	if (!req)
		return -ENOMEM;
	if (getrandom(c->nonce, sizeof(c->nonce), 0) != sizeof(c->nonce)) {
		cp_req_free(cp, req);
		return -EIO;
	}
	req->kind = CP_K_HELLO;
	/* Apart from the handle's ids, which count up from 1. */
	req->id = 1ULL << 63;
	req->to = -1;
	memcpy(req->frame.key, c->nonce, sizeof(c->nonce));
	memcpy(req->frame.key + sizeof(c->nonce), cp->key.name, nl);
	req->r.key = req->frame.key;
	req->r.key_len = sizeof(c->nonce) + nl;
	cp_list_init(&req->tnode);
	c->state = CP_C_HELLO;
	cp_conn_queue(cp, c, req, true);
	return 0;
}

/* HELLO (1) answered: check the node's proof, send ours. */
static int hello_answered(struct cachepeer *cp, struct cp_conn *c, struct cp_req *req)
{
	uint8_t proof[CACHEPEER_HMAC_LEN];
	const uint8_t *got = req->own;
	struct cp_req *p;
	uint8_t role;

	if (c->cur.status != CACHEPEER_S_OK)
		return -EACCES;
	if (c->cur.data_len != CACHEPEER_NONCE_LEN + CACHEPEER_HMAC_LEN + 1)
		return -EPROTO;
	role = got[CACHEPEER_NONCE_LEN + CACHEPEER_HMAC_LEN];
	cp_hello_proof(&cp->key, true, c->nonce, got, role, proof);
	if (!cp_same(proof, got + CACHEPEER_NONCE_LEN, sizeof(proof)))
		return -EACCES;
	p = cp_req_alloc(cp);
	if (!p)
		return -ENOMEM;
	p->kind = CP_K_PROOF;
	p->id = (1ULL << 63) + 1;
	p->to = -1;
	cp_hello_proof(&cp->key, false, c->nonce, got, role, p->frame.key);
	p->r.key = p->frame.key;
	p->r.key_len = CACHEPEER_HMAC_LEN;
	cp_list_init(&p->tnode);
	cp_conn_queue(cp, c, p, true);
	return 0;
}

static void connected(struct cachepeer *cp, struct cp_conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
		cp_conn_fail(cp, c, -(err ?: errno));
		return;
	}
	cp->pool[c->member]->fails = 0;
	if (cp->has_key) {
		err = cp_hello_start(cp, c);
		if (err) {
			cp_conn_fail(cp, c, err);
			return;
		}
	} else {
		conn_ready(cp, c);
	}
	if (cp_list_empty(&c->dnode))
		cp_list_add_tail(&c->dnode, &cp->dirty);
	set_events(cp, c, false);
}

static struct cp_req *find_inflight(struct cp_conn *c, uint64_t id)
{
	struct cp_list *l;

	/*
	 * A node refusing a frame (a PUT over its limit) answers before it
	 * has it all, and closes: the answer is the half-written frame's.
	 */
	if (!cp_list_empty(&c->outq)) {
		struct cp_req *req = cp_entry(c->outq.next, struct cp_req, qnode);

		if (req->id == id && req->sent) {
			c->cut = true;
			return req;
		}
	}

	/* Answers come mostly in the order asked: the first few match. */
	for (l = c->inflight.next; l != &c->inflight; l = l->next) {
		struct cp_req *req = cp_entry(l, struct cp_req, qnode);

		if (req->id == id)
			return req;
	}
	return NULL;
}

/* Largest data an answer of each kind may carry besides a GET's. */
static uint64_t own_max(const struct cp_req *req)
{
	if (req->kind == CP_K_RING)
		return CACHEPEER_RING_ENC_MAX;
	if (req->kind == CP_K_HELLO)
		return CACHEPEER_NONCE_LEN + CACHEPEER_HMAC_LEN + 1;
	if (req->kind == CP_K_PROOF)
		return 0;
	return CP_ADDR_MAX - 1;	/* a REDIRECT's address */
}

/* A regular file open for reading too: spliced into, then checked from its pages. */
static bool is_rdwr_file(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	struct stat st;

	return fl >= 0 && (fl & O_ACCMODE) == O_RDWR && !fstat(fd, &st) && S_ISREG(st.st_mode);
}

/* A header was read: pick where its data goes. 0, or -EPROTO. */
static int start_answer(struct cachepeer *cp, struct cp_conn *c)
{
	struct cp_req *req = find_inflight(c, c->cur.id);
	uint64_t len = c->cur.data_len;

	if (!req)
		return -EPROTO;
	c->creq = req;
	c->cdone = 0;
	c->ccrc = 0;
	c->sink_err = 0;
	c->sink = CP_SINK_DISCARD;
	/* Data only where the protocol has it: else framing is lost for good. */
	if (req->kind == CP_K_USER && req->r.op == CACHEPEER_GET &&
	    c->cur.status == CACHEPEER_S_OK) {
		uint64_t want = c->cur.block_size - req->r.offset;

		if (req->r.length && req->r.length < want)
			want = req->r.length;
		if (c->cur.block_size < req->r.offset || len != want ||
		    len > CACHEPEER_MAX_BLOCK_LIMIT)
			return -EPROTO;
	} else if (len && (len > own_max(req) || (req->kind == CP_K_USER &&
						  c->cur.status != CACHEPEER_S_REDIRECT))) {
		return -EPROTO;
	}
	if (!len || req->dead)
		return 0;
	if (req->kind == CP_K_USER && req->r.op == CACHEPEER_GET &&
	    c->cur.status == CACHEPEER_S_OK) {
		if (req->r.flags & CACHEPEER_REQ_FD) {
			int fl = fcntl(req->r.fd, F_GETFL);

			req->splice = is_rdwr_file(req->r.fd) && !(fl & O_APPEND);
			/* O_APPEND writes where it likes: as unable to rewrite as a pipe. */
			req->seekable = lseek(req->r.fd, 0, SEEK_CUR) >= 0 && fl >= 0 &&
					!(fl & O_APPEND);
			c->sink = req->splice ? CP_SINK_SPLICE : CP_SINK_COPY;
		} else if (len <= req->r.buf_len) {
			c->sink = CP_SINK_BUF;
		} else {
			c->sink_err = -EMSGSIZE;
		}
		return 0;
	}
	free(req->own);
	req->own = malloc(len);
	if (!req->own)
		return -ENOMEM;
	c->sink = CP_SINK_OWN;
	return 0;
}

static int write_fd(struct cp_req *req, uint64_t at, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = req->seekable ? pwrite(req->r.fd, p, n, req->r.fd_offset + at) :
			    write(req->r.fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= w;
		at += w;
	}
	return 0;
}

/* Take n bytes of the current answer's data from p (from rbuf). */
static void take(struct cp_conn *c, const uint8_t *p, size_t n)
{
	struct cp_req *req = c->creq;

	if (c->sink_err)
		c->sink = CP_SINK_DISCARD;
	switch (c->sink) {
	case CP_SINK_DISCARD:
		break;
	case CP_SINK_BUF:
		memcpy((uint8_t *)req->r.buf + c->cdone, p, n);
		break;
	case CP_SINK_OWN:
		memcpy(req->own + c->cdone, p, n);
		break;
	case CP_SINK_COPY:
		c->ccrc = crc32c(c->ccrc, p, n);
		fallthrough;
	case CP_SINK_SPLICE:
		c->sink_err = write_fd(req, c->cdone, p, n);
		req->wrote |= !req->seekable;
		break;
	}
	c->cdone += n;
}

/* Socket to the file through the pipe: no copy in this process. */
static ssize_t splice_in(struct cp_conn *c, size_t want)
{
	struct cp_req *req = c->creq;
	ssize_t got, n;

	if (c->pipe[0] < 0) {
		if (pipe2(c->pipe, O_CLOEXEC))
			return -errno;
		fcntl(c->pipe[1], F_SETPIPE_SZ, 1 << 20);
	}
	got = splice(c->fd, NULL, c->pipe[1], NULL, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (got <= 0)
		return got < 0 ? -errno : 0;
	for (n = got; n > 0;) {
		loff_t off = req->r.fd_offset + c->cdone;
		ssize_t w = c->sink_err ? -1 :
			    splice(c->pipe[0], NULL, req->r.fd, &off, n, SPLICE_F_MOVE);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			/* Drain the pipe: the answer's bytes must still be taken. */
			char sinkbuf[4096];
			ssize_t r = read(c->pipe[0], sinkbuf, n < 4096 ? n : 4096);

			if (!c->sink_err)
				c->sink_err = w < 0 ? -errno : -EIO;
			if (r <= 0)
				return -EIO;
			w = r;
		}
		n -= w;
		c->cdone += w;
	}
	return got;
}

/* The file's bytes, read back through the page cache, against the answer's CRC. */
static int check_file(struct cp_req *req, uint64_t len, uint32_t want)
{
	static const size_t chunk = 256 * 1024;
	uint8_t *buf = malloc(chunk);
	uint32_t crc = 0;
	uint64_t at = 0;

	if (!buf)
		return -ENOMEM;
	while (at < len) {
		size_t n = len - at < chunk ? len - at : chunk;
		ssize_t r = pread(req->r.fd, buf, n, req->r.fd_offset + at);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			return r < 0 ? -errno : -EIO;
		}
		crc = crc32c(crc, buf, r);
		at += r;
	}
	free(buf);
	return crc == want ? 0 : -EBADMSG;
}

/* The current answer is whole: hand it over. */
static int finish_answer(struct cachepeer *cp, struct cp_conn *c)
{
	struct cp_req *req = c->creq;
	const struct cp_resp *h = &c->cur;
	int err = 0;

	c->creq = NULL;
	cp_list_del(&req->qnode);
	req->conn = NULL;
	if (req->kind == CP_K_USER && !req->dead) {
		c->load--;
		c->last_active = cp->now;
	}
	if (req->dead) {
		cp_req_free(cp, req);
		return 0;
	}
	req->res.status = h->status;
	req->res.epoch = h->epoch;
	req->res.block_size = h->block_size;
	req->res.crc = h->crc;
	switch (req->kind) {
	case CP_K_HELLO:
		err = hello_answered(cp, c, req);
		cp_req_free(cp, req);
		return err;
	case CP_K_PROOF:
		cp_req_free(cp, req);
		if (h->status != CACHEPEER_S_OK)
			return -EACCES;
		conn_ready(cp, c);
		if (cp_list_empty(&c->dnode))
			cp_list_add_tail(&c->dnode, &cp->dirty);
		return 0;
	case CP_K_RING:
	case CP_K_USER:
		break;
	}
	req->res.len = h->data_len;
	if (req->kind == CP_K_USER && req->r.op == CACHEPEER_GET && h->status == CACHEPEER_S_OK) {
		if (c->sink == CP_SINK_BUF && crc32c(0, req->r.buf, h->data_len) != h->crc)
			c->sink_err = -EBADMSG;
		else if (c->sink == CP_SINK_COPY && c->ccrc != h->crc)
			c->sink_err = -EBADMSG;
		else if (c->sink == CP_SINK_SPLICE && !c->sink_err)
			c->sink_err = check_file(req, h->data_len, h->crc);
		if (c->sink_err == -EBADMSG)
			cp->st.crc_errors++;
		req->res.error = c->sink_err;
	}
	cp_answered(cp, c, req);
	return 0;
}

/* Read what c has: headers and data, until the socket is empty. */
static int receive(struct cachepeer *cp, struct cp_conn *c)
{
	/*
	 * A read that came back short emptied the socket: the next would be
	 * EAGAIN, one system call for nothing. epoll is level-triggered, so
	 * bytes that arrive meanwhile bring us back.
	 */
	bool drained = false;

	for (;;) {
		size_t avail = c->rlen - c->rpos;
		ssize_t r;
		int err;

		if (c->creq) {
			uint64_t left = c->cur.data_len - c->cdone;

			if (!left) {
				err = finish_answer(cp, c);
				if (err)
					return err;
				if (c->state == CP_C_CLOSED)
					return 0;
				/* Its frame was cut short: the stream cannot go on. */
				if (c->cut)
					return -ECONNRESET;
				continue;
			}
			if (avail) {
				size_t n = avail < left ? avail : left;

				take(c, c->rbuf + c->rpos, n);
				c->rpos += n;
				continue;
			}
			c->rpos = 0;
			c->rlen = 0;
			if (drained)
				return 0;
			if (c->sink == CP_SINK_SPLICE && !c->sink_err) {
				r = splice_in(c, left);
			} else if (c->sink == CP_SINK_BUF && !c->sink_err) {
				/* Straight into the caller's buffer, and the next header behind. */
				struct iovec iov[2] = {
					{ (uint8_t *)c->creq->r.buf + c->cdone, left },
					{ c->rbuf, CP_RBUF },
				};

				r = readv(c->fd, iov, 2);
				drained = r > 0 && (uint64_t)r < left + CP_RBUF;
				if (r > 0 && (uint64_t)r > left) {
					c->rlen = r - left;
					r = left;
				}
				if (r > 0)
					c->cdone += r;
			} else {
				r = read(c->fd, c->rbuf, CP_RBUF);
				drained = r > 0 && r < CP_RBUF;
				if (r > 0)
					c->rlen = r;
			}
		} else {
			if (avail >= sizeof(struct cachepeer_resp)) {
				struct cachepeer_resp h;

				memcpy(&h, c->rbuf + c->rpos, sizeof(h));
				c->rpos += sizeof(h);
				if (cp_resp_decode(&h, &c->cur))
					return -EPROTO;
				err = start_answer(cp, c);
				if (err)
					return err;
				continue;
			}
			if (c->rpos) {
				if (avail)
					memmove(c->rbuf, c->rbuf + c->rpos, avail);
				c->rpos = 0;
				c->rlen = avail;
			}
			if (drained)
				return 0;
			r = read(c->fd, c->rbuf + avail, CP_RBUF - avail);
			drained = r > 0 && (size_t)r < CP_RBUF - avail;
			if (r > 0)
				c->rlen += r;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return 0;
		if (r < 0)
			return -errno;
		if (!r)
			return -ECONNRESET;
		c->last_rx = cp->now;
	}
}

void cp_conn_event(struct cachepeer *cp, struct cp_conn *c, uint32_t events)
{
	int err;

	if (c->state == CP_C_CLOSED)
		return;
	if (c->state == CP_C_CONNECTING) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		connected(cp, c);
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
		err = receive(cp, c);
		if (err) {
			cp_conn_fail(cp, c, err);
			return;
		}
	}
	if ((events & EPOLLOUT) && c->state != CP_C_CLOSED)
		cp_conn_flush(cp, c);
}
