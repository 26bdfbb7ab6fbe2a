// SPDX-License-Identifier: GPL-2.0
/*
 * Requests: what each op does, from the frame conn.c hands over to the
 * response tx.c sends.
 *
 * cp_request_dispatch() runs where the frame was parsed, usually softirq,
 * and answers what it can without sleeping: PING, STAT, and GETs whose
 * bytes are uptodate in the page cache, with the CRC merged from stored
 * segment CRCs. Everything that may sleep goes to cp_wq: GETs that need disk
 * reads (verified against the stored CRCs before they are sent), DEL, the
 * ring ops, and PUT payloads (put_work). A GET for a block the node does not
 * hold goes to miss.c.
 *
 * Every request holds a reference on its connection and counts as in
 * flight until its response is sent (or thrown away with the connection):
 * cp_request_done(). What it holds meanwhile is charged to the connection's
 * bounds (bounds.c): its own memory and its answer's from dispatch on, so
 * that the parser stops at a bound before the answers are built, and the
 * page-cache bytes its answer refers to.
 */

#include <linux/slab.h>

#include "conn_priv.h"
#include "crc.h"
#include "trace.h"

static struct kmem_cache *req_cache __ro_after_init;

static void request_free(struct cp_request *req)
{
	struct cp_conn *conn = req->conn;

	if (req->charged)
		cp_conn_uncharge(conn, req->charged);
	if (req->pinned)
		atomic_long_sub(req->pinned, &conn->pinned);
	if (req->relayed) {
		atomic_long_sub(req->relayed, &conn->relayed);
		atomic64_sub(req->relayed, &conn->svc->relay_bytes);
	}
	if (req->bf)
		cp_blkfile_put(req->bf);
	if (req->block)
		cp_block_put(req->block);
	/* A forwarded PUT whose client failed mid-payload: put_work or conn_close(). */
	if (req->peer)
		cp_put_fwd_release(req, false);
	cp_store_put_free(req->put);
	cp_pbuf_free(req->pbuf);
	if (req->body)
		page_frag_free(req->body);
	kvfree(req->push_buf);
	kfree(req->key);
	if (req->hdr)
		page_frag_free(req->hdr);
	kmem_cache_free(req_cache, req);
	cp_conn_put(conn);
}

/*
 * A response is sent (or thrown away): one less request in flight. Sent
 * whole, its last byte is with TCP now: that ends its latency.
 */
void cp_request_done(struct cp_request *req)
{
	struct cp_conn *conn = req->conn;
	int left;

	if (req->hdr && req->sent == CP_RESP_LEN + req->len) {
		u64 ns = ktime_get_ns() - req->born;

		cp_lat_add(conn->svc->lat, req->op, ns);
		trace_cachepeer_request((struct sockaddr *)&conn->peer, req->id, req->op,
					req->status, req->len, ns);
	}
	cp_conn_get(conn);
	request_free(req);
	left = atomic_dec_return(&conn->inflight);
	cp_conn_maybe_resume(conn);
	/* The last answer: rx_work decides whether the connection is done. */
	if (!left && (test_bit(CONN_EOF, &conn->flags) || test_bit(CONN_RX_END, &conn->flags)))
		cp_conn_kick_rx(conn);
	cp_conn_put(conn);
}

/* An error from the store, the disk or a peer, as the client sees it. */
static u16 err_status(int err)
{
	switch (err) {
	case 0:
		return CACHEPEER_S_OK;
	case -ENOENT:
		return CACHEPEER_S_NOT_FOUND;
	case -ENOSPC:
	case -EDQUOT:
		return CACHEPEER_S_NO_SPACE;
	case -EBADMSG:
		return CACHEPEER_S_CORRUPT;
	case -EFBIG:
		return CACHEPEER_S_TOO_LARGE;
	case -ENOMEM:
	case -EBUSY:
	case -EAGAIN:
		return CACHEPEER_S_BUSY;
	case -EINVAL:
		return CACHEPEER_S_BAD_REQUEST;
	case -EEXIST:
		return CACHEPEER_S_CONFLICT;
	case -EACCES:
		return CACHEPEER_S_DENIED;
	default:
		return CACHEPEER_S_IO_ERROR;
	}
}

/* Any context: memory held for req's answer, against its connection's bounds. */
void cp_request_charge(struct cp_request *req, long bytes)
{
	req->charged += bytes;
	cp_conn_charge(req->conn, bytes);
}

/* Any context: req's response is ready; count it and queue it for TX. */
void cp_request_answer(struct cp_request *req, u16 status)
{
	struct cp_stats __percpu *stats = req->conn->svc->stats;
	struct cp_conn *conn = req->conn;

	req->status = status;
	if (status != CACHEPEER_S_OK) {
		if (req->bf)
			cp_blkfile_put(req->bf);
		req->bf = NULL;
		if (!req->pbuf)
			req->len = 0;
	}
	/* Only a response with data needs the block any more. */
	if (!req->bf && req->block) {
		cp_block_put(req->block);
		req->block = NULL;
	}
	if (req->bf) {
		req->pinned = req->len;
		atomic_long_add(req->pinned, &conn->pinned);
	}
	cp_stats_inc(stats, CP_STAT_STATUS + min_t(u16, status, CACHEPEER_S_MAX));
	if (req->op == CACHEPEER_OP_GET && status == CACHEPEER_S_OK)
		cp_stats_inc(stats, CP_STAT_HITS);
	else if (req->op == CACHEPEER_OP_GET && status == CACHEPEER_S_NOT_FOUND)
		cp_stats_inc(stats, CP_STAT_MISSES);
	cp_tx_queue(req);
}

void cp_request_queue(struct cp_request *req, work_func_t fn)
{
	INIT_WORK(&req->work, fn);
	queue_work(cp_wq, &req->work);
}

/*
 * Process context: private pages for req's answer, holding data if given,
 * charged to the node's memory cgroup (the caller charges the bounds).
 */
struct cp_pbuf *cp_request_pbuf(struct cp_request *req, const void *data, size_t len)
{
	struct mem_cgroup *memcg = cp_conn_memcg(req->conn);
	struct cp_pbuf *pb = data ? cp_pbuf_from(data, len) : cp_pbuf_alloc(len);

	set_active_memcg(memcg);
	return pb;
}

/* Process context: a cold block's file, opened for this request. */
static int request_open(struct cp_request *req)
{
	struct cp_blkfile *bf;

	if (req->bf)
		return 0;
	bf = cp_block_open(&req->conn->svc->store, req->block);
	if (IS_ERR(bf))
		return PTR_ERR(bf);
	req->bf = bf;
	return 0;
}

/* Verifications a GET may cost before it gives up: one, or two if evicted meanwhile. */
#define CP_GET_VERIFY_TRIES	2

/*
 * Process context: the GET's block was cold, or its bytes were not all in
 * the page cache, or did not match their segment's CRC. Bytes read from
 * disk are verified (a block found corrupt is dropped) before the CRC is
 * taken from what is cached, as in softirq.
 */
static void get_slow_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);
	struct cp_store *st = &req->conn->svc->store;
	int tries, err;

	err = request_open(req);
	for (tries = 0; !err; tries++) {
		if (cp_block_cached(req->bf, req->off, req->len) &&
		    !cp_block_range_crc(req->bf, req->off, req->len, &req->crc))
			break;
		err = tries < CP_GET_VERIFY_TRIES ?
		      cp_block_verify(st, req->block, req->bf, req->off, req->len) : -EAGAIN;
	}
	cp_request_answer(req, err_status(err));
}

/* Process context: STAT of a cold block needs its trailer. */
static void stat_slow_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);
	int err = request_open(req);

	if (!err)
		req->crc = req->bf->crc;
	if (req->bf)
		cp_blkfile_put(req->bf);
	req->bf = NULL;
	cp_request_answer(req, err_status(err));
}

/* Any context: the request's block, referenced by req, or NULL. */
struct cp_block *cp_request_lookup(struct cp_request *req)
{
	struct cp_block *b = cp_store_lookup(&req->conn->svc->store, req->key_id);

	if (!b)
		return NULL;
	cp_block_touch(b);
	req->block = b;
	req->block_size = b->size;
	return b;
}

/* Any context. req->off and req->len are the range asked for. */
void cp_request_get_block(struct cp_request *req, struct cp_block *b)
{
	if (req->off > b->size || req->len > b->size - req->off) {
		cp_request_answer(req, CACHEPEER_S_BAD_REQUEST);
		return;
	}
	req->len = req->len ?: b->size - req->off;
	if (!req->len) {
		cp_request_answer(req, CACHEPEER_S_OK);
		return;
	}
	req->bf = cp_block_file(b);
	if (req->bf && cp_block_cached(req->bf, req->off, req->len) &&
	    !cp_block_range_crc(req->bf, req->off, req->len, &req->crc)) {
		cp_request_answer(req, CACHEPEER_S_OK);
		return;
	}
	cp_request_queue(req, get_slow_work);
}

static void do_get(struct cp_request *req, const u8 *key, gfp_t gfp)
{
	struct cp_block *b = cp_request_lookup(req);

	if (b)
		cp_request_get_block(req, b);
	else
		cp_request_miss(req, key, gfp);
}

static void do_stat(struct cp_request *req)
{
	struct cp_block *b = cp_request_lookup(req);
	struct cp_blkfile *bf;

	if (!b) {
		cp_request_answer(req, CACHEPEER_S_NOT_FOUND);
		return;
	}
	bf = cp_block_file(b);
	if (!bf) {
		cp_request_queue(req, stat_slow_work);
		return;
	}
	req->crc = bf->crc;
	cp_blkfile_put(bf);
	cp_request_answer(req, CACHEPEER_S_OK);
}

static void del_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);

	cp_request_answer(req, err_status(cp_store_del(&req->conn->svc->store, req->key_id)));
}

static void ring_get_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);
	size_t len;
	void *buf;

	buf = cp_cluster_encode(&req->conn->svc->cluster, &len, NULL);
	req->pbuf = buf ? cp_request_pbuf(req, buf, len) : NULL;
	if (!req->pbuf) {
		kvfree(buf);
		cp_request_answer(req, CACHEPEER_S_BUSY);
		return;
	}
	req->len = len;
	req->crc = cp_crc32c(0, buf, len);
	kvfree(buf);
	cp_request_answer(req, CACHEPEER_S_OK);
}

static void ring_push_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);
	u64 len = req->sent;	/* the payload's; from here on, the response's */
	struct mem_cgroup *memcg;
	u16 status;

	req->sent = 0;
	memcg = cp_conn_memcg(req->conn);	/* for the answer's pages */
	status = cp_cluster_push_in(&req->conn->svc->cluster, req->push_buf, len, &req->pbuf);
	set_active_memcg(memcg);
	kvfree(req->push_buf);
	req->push_buf = NULL;
	if (req->pbuf) {
		req->len = req->pbuf->len;
		cp_request_charge(req, cp_pbuf_mem(req->len));
	}
	cp_request_answer(req, status);
}

static void commit_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);
	int err = req->put_err;

	/* Another member's key: its payload was dropped. */
	if (req->elsewhere && !err) {
		cp_request_redirect(req);
		return;
	}
	/* The same block was stored already: its payload was dropped. */
	if (err == -EALREADY)
		err = 0;
	else if (!err)
		err = cp_store_put_commit(req->put, req->flags & CACHEPEER_F_CRC, req->want_crc);
	cp_store_put_free(req->put);
	req->put = NULL;
	cp_request_answer(req, err_status(err));
}

/*
 * Process context: receive a PUT's (or RING_PUSH's) payload, into the
 * block's anonymous file or a buffer. The frame's key stays in conn->rx until
 * the payload is complete; then framing resumes.
 */
/* put_work's buffers, charged to the node's memory cgroup. */
static int put_bufs(struct cp_conn *conn, struct cp_request *req, u64 len)
{
	struct mem_cgroup *memcg = cp_conn_memcg(conn);

	/* The connection's, for every PUT it receives. */
	if (!conn->put_buf)
		conn->put_buf = kvmalloc(CP_PUT_CHUNK, CP_GFP);
	/* Bounded by the parser: CACHEPEER_RING_ENC_MAX and an HMAC. */
	if (conn->put_buf && req->op == CACHEPEER_OP_RING_PUSH && !req->push_buf && !req->put_err) {
		req->push_buf = kvmalloc(len, CP_GFP);
		if (req->push_buf)
			cp_request_charge(req, len);
	}
	set_active_memcg(memcg);
	if (!conn->put_buf ||
	    (req->op == CACHEPEER_OP_RING_PUSH && !req->push_buf && !req->put_err))
		return -ENOMEM;
	return 0;
}

static void put_work(struct cp_conn *conn, struct cp_request *req)
{
	struct sock *sk = conn->sock->sk;
	const struct cp_req *r = &conn->rx.req;
	struct kvec kv;
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	int n;

	if (put_bufs(conn, req, r->payload_len))
		goto fail;
	if (req->fwd) {
		n = cp_put_fwd_pump(conn, req);
		if (n == -EAGAIN)
			return;
		if (n)
			goto fail;
		conn->put_req = NULL;
		cp_put_fwd_end(req);
		goto next;
	}
	if (req->op == CACHEPEER_OP_PUT && !req->put && !req->put_err && !req->elsewhere) {
		req->put = cp_store_put_begin(&conn->svc->store, req->key_id,
					      cp_frame_key(&conn->rx), r->key_len,
					      r->payload_len);
		if (IS_ERR(req->put)) {
			/* Still drain the payload, to answer and keep the stream. */
			req->put_err = PTR_ERR(req->put);
			req->put = NULL;
		}
	}
	while (req->sent < r->payload_len) {
		kv.iov_base = req->push_buf ? req->push_buf + req->sent : conn->put_buf;
		kv.iov_len = min_t(u64, CP_PUT_CHUNK, r->payload_len - req->sent);
		n = kernel_recvmsg(conn->sock, &msg, &kv, 1, kv.iov_len, MSG_DONTWAIT);
		if (n == -EAGAIN)
			return;		/* sk_data_ready requeues us */
		if (n <= 0)
			goto fail;	/* peer gone mid-payload: nothing is kept */
		if (req->put && !req->put_err)
			req->put_err = cp_store_put_write(req->put, conn->put_buf, n);
		req->sent += n;
		WRITE_ONCE(conn->rx_bytes, conn->rx_bytes + n);
		WRITE_ONCE(conn->active, jiffies);
	}

	conn->put_req = NULL;
	if (req->push_buf) {
		cp_request_queue(req, ring_push_work);
	} else {
		req->sent = 0;
		cp_request_queue(req, commit_work);
	}

next:
	lock_sock(sk);
	conn->rx_state = RX_FRAME;
	cp_frame_reset(&conn->rx);
	timer_delete(&conn->frame_timer);
	cp_conn_rx_locked(conn);
	release_sock(sk);
	/* A FIN behind the payload: rx_work may have looked while it was ours. */
	if (test_bit(CONN_EOF, &conn->flags))
		cp_conn_kick_rx(conn);
	return;

fail:
	conn->put_req = NULL;
	cp_request_done(req);
	cp_conn_schedule_close(conn);
}

void cp_request_put_work(struct work_struct *work)
{
	struct cp_conn *conn = container_of(work, struct cp_conn, put_work);
	/* Published by read_payload() under the socket lock, or by put_fwd.c. */
	struct cp_request *req = smp_load_acquire(&conn->put_req);

	if (req)
		put_work(conn, req);
}

/*
 * A RING_PUSH to a node that cannot take it (it has no cluster key to
 * check it with) is refused from its header: its payload is never read,
 * so the connection ends after the answer.
 */
static bool push_refused(struct cp_conn *conn, struct cp_request *req)
{
	if (cp_cluster_has_key(&conn->svc->cluster))
		return false;
	cp_stats_inc(conn->svc->stats, CP_STAT_RING_REFUSED);
	cp_conn_rx_end(conn);
	cp_request_answer(req, CACHEPEER_S_DENIED);
	return true;
}

/* Socket locked: a payload to read (and store or drop) before framing goes on. */
static void read_payload(struct cp_conn *conn, struct cp_request *req)
{
	if (req->fwd) {
		cp_put_fwd_start(conn, req);
		return;
	}
	conn->put_req = req;
	conn->rx_state = RX_PAYLOAD;
	queue_work(cp_wq, &conn->put_work);
}

/*
 * A request the connection may not make: DENIED, counted by why, the
 * connection going on (a PUT's or push's payload is read and dropped).
 */
static void denied(struct cp_conn *conn, struct cp_request *req)
{
	cp_stats_inc(conn->svc->stats, conn->role == CACHEPEER_ROLE_NONE ?
				       CP_STAT_DENIED_UNAUTH : CP_STAT_DENIED_ROLE);
	if (req->op == CACHEPEER_OP_PUT || req->op == CACHEPEER_OP_RING_PUSH) {
		req->put_err = -EACCES;
		read_payload(conn, req);
		return;
	}
	cp_request_answer(req, CACHEPEER_S_DENIED);
}

/* A new request on conn, in flight and charged for; NULL without memory. */
static struct cp_request *request_new(struct cp_conn *conn, gfp_t gfp)
{
	struct cp_request *req = kmem_cache_zalloc(req_cache, gfp);

	if (!req)
		return NULL;
	cp_conn_get(conn);
	req->conn = conn;
	req->born = ktime_get_ns();
	atomic_inc(&conn->inflight);
	cp_request_charge(req, sizeof(*req) + CP_RESP_LEN);
	return req;
}

/*
 * A whole frame (header and key) is in conn->rx: hand it to its op.
 * Socket lock held, any context; charging the node's memory cgroup
 * (cp_conn_memcg()). Fails only for lack of memory.
 */
int cp_request_dispatch(struct cp_conn *conn, gfp_t gfp)
{
	const struct cp_req *r = &conn->rx.req;
	const u8 *key = cp_frame_key(&conn->rx);
	struct cp_request *req;

	lockdep_assert(lockdep_sock_is_held(conn->sock->sk));
	req = request_new(conn, gfp);
	if (!req)
		return -ENOMEM;
	req->id = r->id;
	req->op = r->opcode;
	req->flags = r->flags;
	req->want_crc = r->crc;
	req->key_len = r->key_len;
	req->off = r->offset;
	req->len = r->length;
	req->payload_len = r->payload_len;
	if (r->key_len && r->opcode != CACHEPEER_OP_HELLO && r->opcode != CACHEPEER_OP_PROBE)
		cp_store_key_id(key, r->key_len, req->key_id);
	cp_stats_inc(conn->svc->stats, CP_STAT_OP + r->opcode);
	if (!cp_hello_allows(conn, r->opcode)) {
		denied(conn, req);
		return 0;
	}

	switch (r->opcode) {
	case CACHEPEER_OP_HELLO:
		cp_hello(conn, req);
		break;
	case CACHEPEER_OP_GET:
		do_get(req, key, gfp);
		break;
	case CACHEPEER_OP_STAT:
		do_stat(req);
		break;
	case CACHEPEER_OP_PING:
		cp_request_answer(req, CACHEPEER_S_OK);
		break;
	case CACHEPEER_OP_PROBE:
		cp_request_probe(req, key, gfp);
		break;
	case CACHEPEER_OP_DEL:
		if (!cp_request_route_write(req, key, gfp))
			cp_request_queue(req, del_work);
		break;
	case CACHEPEER_OP_RING_GET:
		/* The answer is built later: hold its room now. */
		cp_request_charge(req, cp_pbuf_mem(cp_cluster_enc_len(&conn->svc->cluster)));
		cp_request_queue(req, ring_get_work);
		break;
	case CACHEPEER_OP_RING_PUSH:
		if (!push_refused(conn, req))
			read_payload(conn, req);
		break;
	case CACHEPEER_OP_PUT:
		/* For another member: forwarded, or read and dropped, then redirected. */
		req->elsewhere = cp_request_route_write(req, key, gfp);
		read_payload(conn, req);
		break;
	}
	return 0;
}

/*
 * A frame that breaks framing, in conn->rx: answer it, then close after
 * the answer. Socket lock held, any context.
 */
void cp_request_reject(struct cp_conn *conn, u16 status)
{
	const struct cachepeer_req *w = (const void *)conn->rx.buf;
	struct cp_request *req;

	req = request_new(conn, CP_GFP_ATOMIC);
	if (!req) {
		cp_conn_schedule_close(conn);
		return;
	}
	req->id = be64_to_cpu(w->id);
	cp_request_answer(req, status);
}

int __init cp_request_init(void)
{
	req_cache = KMEM_CACHE(cp_request, 0);
	return req_cache ? 0 : -ENOMEM;
}

void cp_request_uninit(void)
{
	kmem_cache_destroy(req_cache);
}
