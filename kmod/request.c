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
 * hold is routed here too, by the ring: forwarded to the key's owner,
 * redirected there, or taken over from the key's previous owner.
 *
 * Every request holds a reference on its connection and counts as in
 * flight until its response is queued (or thrown away with the
 * connection): cp_request_done().
 */

#include <linux/slab.h>

#include "conn_priv.h"
#include "crc.h"

#define CP_PUT_CHUNK		(64 * 1024)

static struct kmem_cache *req_cache __ro_after_init;

static void request_free(struct cp_request *req)
{
	struct cp_conn *conn = req->conn;

	if (req->bf)
		cp_blkfile_put(req->bf);
	if (req->block)
		cp_block_put(req->block);
	cp_store_put_free(req->put);
	cp_pbuf_free(req->pbuf);
	kvfree(req->push_buf);
	kfree(req->key);
	if (req->hdr)
		page_frag_free(req->hdr);
	kmem_cache_free(req_cache, req);
	cp_conn_put(conn);
}

/* A response is sent (or thrown away): one less request in flight. */
void cp_request_done(struct cp_request *req)
{
	struct cp_conn *conn = req->conn;
	int left;

	cp_conn_get(conn);
	request_free(req);
	left = atomic_dec_return(&conn->inflight);
	if (left < CP_INFLIGHT_RESUME && READ_ONCE(conn->rx_paused))
		cp_conn_kick_rx(conn);
	if (!left && test_bit(CONN_EOF, &conn->flags))
		cp_conn_schedule_close(conn);
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
	default:
		return CACHEPEER_S_IO_ERROR;
	}
}

/* Any context: req's response is ready; count it and queue it for TX. */
static void answer(struct cp_request *req, u16 status)
{
	struct cp_stats __percpu *stats = req->conn->svc->stats;

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
	cp_stats_inc(stats, CP_STAT_STATUS + min_t(u16, status, CACHEPEER_S_MAX));
	if (req->op == CACHEPEER_OP_GET && status == CACHEPEER_S_OK)
		cp_stats_inc(stats, CP_STAT_HITS);
	else if (req->op == CACHEPEER_OP_GET && status == CACHEPEER_S_NOT_FOUND)
		cp_stats_inc(stats, CP_STAT_MISSES);
	cp_tx_queue(req);
}

static void request_queue(struct cp_request *req, work_func_t fn)
{
	INIT_WORK(&req->work, fn);
	queue_work(cp_wq, &req->work);
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

/*
 * Process context: the GET's block was cold, or its bytes were not all in
 * the page cache. Bytes read from disk are verified before they are sent.
 */
static void get_slow_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);
	struct cp_store *st = &req->conn->svc->store;
	int err;

	err = request_open(req);
	if (!err && (!cp_block_cached(req->bf, req->off, req->len) ||
		     cp_block_range_crc(req->bf, req->off, req->len, false, &req->crc)))
		err = cp_block_verify(st, req->block, req->bf, req->off, req->len) ?:
		      cp_block_range_crc(req->bf, req->off, req->len, true, &req->crc);
	answer(req, err_status(err));
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
	answer(req, err_status(err));
}

/* Any context: the request's block, referenced by req, or NULL. */
static struct cp_block *request_lookup(struct cp_request *req)
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
static void get_block(struct cp_request *req, struct cp_block *b)
{
	if (req->off > b->size || req->len > b->size - req->off) {
		answer(req, CACHEPEER_S_BAD_REQUEST);
		return;
	}
	req->len = req->len ?: b->size - req->off;
	if (!req->len) {
		answer(req, CACHEPEER_S_OK);
		return;
	}
	req->bf = cp_block_file(b);
	if (req->bf && cp_block_cached(req->bf, req->off, req->len) &&
	    !cp_block_range_crc(req->bf, req->off, req->len, false, &req->crc)) {
		answer(req, CACHEPEER_S_OK);
		return;
	}
	request_queue(req, get_slow_work);
}

/*
 * Process context: ask the member in req->to for what req asks of this
 * node, as a request that member answers from its store alone. On success
 * *r is its answer.
 */
static int peer_call(struct cp_request *req, struct cp_peer *p, u64 off, u64 len,
		     struct cp_resp *r)
{
	struct cp_req q = {
		.id = CP_PEER_REQ_ID,
		.opcode = CACHEPEER_OP_GET,
		.flags = CACHEPEER_F_NOFWD,
		.key_len = req->key_len,
		.offset = off,
		.length = len,
	};

	return cp_peer_open(req->conn->svc->net, &req->to, p) ?:
	       cp_peer_send(p, &q, req->key, NULL) ?:
	       cp_peer_recv_resp(p, &q, r);
}

/*
 * Process context: GET the range from the key's owner and relay its answer,
 * data included, from private pages charged to the node's relay budget.
 */
static int forward(struct cp_request *req, struct cp_resp *r)
{
	struct cp_service *svc = req->conn->svc;
	struct cp_peer p = { };
	int err;

	err = peer_call(req, &p, req->off, req->len, r);
	if (!err && r->data_len) {
		if (r->status != CACHEPEER_S_OK || r->data_len > svc->max_block) {
			err = -EBADMSG;
		} else if (atomic64_add_return(r->data_len, &svc->relay_bytes) >
			   CP_RELAY_BYTES_MAX) {
			atomic64_sub(r->data_len, &svc->relay_bytes);
			err = -EBUSY;
		} else {
			req->pbuf = cp_pbuf_alloc(r->data_len);
			if (req->pbuf)
				req->pbuf->charge = &svc->relay_bytes;
			else
				atomic64_sub(r->data_len, &svc->relay_bytes);
			err = req->pbuf ? cp_peer_recv_pbuf(&p, req->pbuf) : -ENOMEM;
		}
	}
	cp_peer_close(&p);
	if (err) {
		cp_pbuf_free(req->pbuf);
		req->pbuf = NULL;
	}
	return err;
}

static void forward_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);
	struct cp_stats __percpu *stats = req->conn->svc->stats;
	struct cp_resp r;
	int err = forward(req, &r);

	if (err) {
		cp_stats_inc(stats, CP_STAT_PEER_ERRORS);
		/* An owner out of reach is a miss: the client has a backing store. */
		answer(req, err == -EBUSY ? CACHEPEER_S_BUSY : CACHEPEER_S_NOT_FOUND);
		return;
	}
	cp_stats_inc(stats, CP_STAT_FORWARDS);
	req->len = r.data_len;
	req->block_size = r.block_size;
	req->crc = r.crc;
	answer(req, r.status);
}

/* Process context: the owner's address as "ADDR:PORT". */
static void redirect_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);
	char text[sizeof("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535")];
	int len;

	len = snprintf(text, sizeof(text), "%pISpc", &req->to.sa);
	req->pbuf = cp_pbuf_from(text, len);
	if (!req->pbuf) {
		answer(req, CACHEPEER_S_BUSY);
		return;
	}
	req->len = len;
	req->crc = cp_crc32c(0, text, len);
	cp_stats_inc(req->conn->svc->stats, CP_STAT_REDIRECTS);
	answer(req, CACHEPEER_S_REDIRECT);
}

/*
 * Process context. Fetch the whole block from the member that owned its key
 * under the previous ring, and store it; its CRC is checked on commit.
 * -ENOENT if that member lacks it too.
 */
static int handoff(struct cp_request *req)
{
	struct cp_service *svc = req->conn->svc;
	struct cp_peer p = { };
	struct cp_put *put = NULL;
	struct cp_resp r;
	void *buf = NULL;
	u64 got = 0;
	int err;

	err = peer_call(req, &p, 0, 0, &r);
	if (err)
		goto out;
	if (r.status != CACHEPEER_S_OK) {
		cp_peer_close(&p);
		return -ENOENT;
	}
	if (!r.data_len || r.data_len != r.block_size || r.data_len > svc->max_block) {
		err = -EBADMSG;
		goto out;
	}
	buf = kvmalloc(CP_PUT_CHUNK, GFP_KERNEL);
	put = cp_store_put_begin(&svc->store, req->key_id, req->key, req->key_len, r.data_len);
	if (!buf || IS_ERR(put)) {
		err = buf ? PTR_ERR(put) : -ENOMEM;
		put = NULL;
		goto out;
	}
	while (!err && got < r.data_len) {
		size_t n = min_t(u64, CP_PUT_CHUNK, r.data_len - got);

		err = cp_peer_recv(&p, buf, n) ?: cp_store_put_write(put, buf, n);
		got += n;
	}
	if (!err)
		err = cp_store_put_commit(put, true, r.crc);
out:
	cp_store_put_free(put);
	kvfree(buf);
	cp_peer_close(&p);
	cp_stats_inc(svc->stats, err ? CP_STAT_PEER_ERRORS : CP_STAT_HANDOFFS);
	return err;
}

/* Process context: take the block over from its previous owner, then serve. */
static void handoff_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);
	struct cp_block *b = NULL;

	if (!handoff(req))
		b = request_lookup(req);
	if (b)
		get_block(req, b);
	else
		answer(req, CACHEPEER_S_NOT_FOUND);
}

/*
 * Any context: a GET for a block this node does not hold. A request from
 * another node is answered from the store alone (so a GET is forwarded at
 * most once). Otherwise the ring decides: a key another member owns is
 * forwarded to it or redirected there, as the node's miss setting says; a
 * key this node took over at the last ring change is fetched from its
 * previous owner, for a while. Anything else is a miss.
 */
static void get_miss(struct cp_request *req, const u8 *key)
{
	struct cp_cluster *cl = &req->conn->svc->cluster;
	work_func_t fn;

	if (req->flags & CACHEPEER_F_NOFWD) {
		answer(req, CACHEPEER_S_NOT_FOUND);
		return;
	}
	switch (cp_cluster_owner(cl, cp_ring_key_hash(key, req->key_len), &req->to)) {
	case CP_OWNER_OTHER:
		fn = READ_ONCE(cl->miss) == CACHEPEER_MISS_REDIRECT ? redirect_work : forward_work;
		break;
	case CP_OWNER_PREVIOUS:
		fn = handoff_work;
		break;
	default:
		answer(req, CACHEPEER_S_NOT_FOUND);
		return;
	}
	req->key = kmemdup(key, req->key_len, GFP_ATOMIC);
	if (!req->key) {
		answer(req, CACHEPEER_S_BUSY);
		return;
	}
	request_queue(req, fn);
}

static void do_get(struct cp_request *req, const u8 *key)
{
	struct cp_block *b = request_lookup(req);

	if (b)
		get_block(req, b);
	else
		get_miss(req, key);
}

static void do_stat(struct cp_request *req)
{
	struct cp_block *b = request_lookup(req);
	struct cp_blkfile *bf;

	if (!b) {
		answer(req, CACHEPEER_S_NOT_FOUND);
		return;
	}
	bf = cp_block_file(b);
	if (!bf) {
		request_queue(req, stat_slow_work);
		return;
	}
	req->crc = bf->crc;
	cp_blkfile_put(bf);
	answer(req, CACHEPEER_S_OK);
}

static void del_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);

	answer(req, err_status(cp_store_del(&req->conn->svc->store, req->key_id)));
}

static void ring_get_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);
	size_t len;
	void *buf;

	buf = cp_cluster_encode(&req->conn->svc->cluster, &len);
	req->pbuf = buf ? cp_pbuf_from(buf, len) : NULL;
	if (!req->pbuf) {
		kvfree(buf);
		answer(req, CACHEPEER_S_BUSY);
		return;
	}
	req->len = len;
	req->crc = cp_crc32c(0, buf, len);
	kvfree(buf);
	answer(req, CACHEPEER_S_OK);
}

static void ring_push_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);
	u64 len = req->sent;	/* the payload's; from here on, the response's */
	u16 status;

	req->sent = 0;
	status = cp_cluster_push_in(&req->conn->svc->cluster, req->push_buf, len, &req->pbuf);
	if (req->pbuf)
		req->len = req->pbuf->len;
	answer(req, status);
}

static void commit_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);
	int err = req->put_err;

	if (!err)
		err = cp_store_put_commit(req->put, req->flags & CACHEPEER_F_CRC, req->want_crc);
	cp_store_put_free(req->put);
	req->put = NULL;
	answer(req, err_status(err));
}

/*
 * Process context: receive a PUT's (or RING_PUSH's) payload, into the
 * block's anonymous file or a buffer. The frame's key stays in rx_buf until
 * the payload is complete; then framing resumes.
 */
void cp_request_put_work(struct work_struct *work)
{
	struct cp_conn *conn = container_of(work, struct cp_conn, put_work);
	struct cp_request *req = conn->put_req;
	struct sock *sk = conn->sock->sk;
	const struct cp_req *r = &conn->rx_req;
	struct kvec kv;
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	int n;

	if (!req)
		return;
	if (!conn->put_buf) {
		conn->put_buf = kvmalloc(CP_PUT_CHUNK, GFP_KERNEL);
		if (!conn->put_buf)
			goto fail;
	}
	if (req->op == CACHEPEER_OP_RING_PUSH) {
		/* Bounded by the parser: CACHEPEER_RING_ENC_MAX and an HMAC. */
		if (!req->push_buf)
			req->push_buf = kvmalloc(r->payload_len, GFP_KERNEL);
		if (!req->push_buf)
			goto fail;
	} else if (!req->put && !req->put_err) {
		req->put = cp_store_put_begin(&conn->svc->store, req->key_id,
					      conn->rx_buf + CP_REQ_LEN, r->key_len,
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
		if (!req->push_buf && !req->put_err)
			req->put_err = cp_store_put_write(req->put, conn->put_buf, n);
		req->sent += n;
		WRITE_ONCE(conn->rx_bytes, conn->rx_bytes + n);
	}

	conn->put_req = NULL;
	if (req->push_buf) {
		request_queue(req, ring_push_work);
	} else {
		req->sent = 0;
		request_queue(req, commit_work);
	}

	lock_sock(sk);
	conn->rx_state = RX_FRAME;
	conn->rx_len = 0;
	timer_delete(&conn->frame_timer);
	cp_conn_read_frames(conn);
	release_sock(sk);
	return;

fail:
	conn->put_req = NULL;
	cp_request_done(req);
	cp_conn_schedule_close(conn);
}

/*
 * A whole frame (header and key) is in conn->rx_buf: hand it to its op.
 * Socket lock held, any context. Fails only for lack of memory.
 */
int cp_request_dispatch(struct cp_conn *conn, gfp_t gfp)
{
	const struct cp_req *r = &conn->rx_req;
	const u8 *key = conn->rx_buf + CP_REQ_LEN;
	struct cp_request *req;

	lockdep_assert(lockdep_sock_is_held(conn->sock->sk));
	req = kmem_cache_zalloc(req_cache, gfp);
	if (!req)
		return -ENOMEM;
	cp_conn_get(conn);
	req->conn = conn;
	req->id = r->id;
	req->op = r->opcode;
	req->flags = r->flags;
	req->want_crc = r->crc;
	req->key_len = r->key_len;
	req->off = r->offset;
	req->len = r->length;
	if (r->key_len)
		cp_store_key_id(key, r->key_len, req->key_id);
	cp_stats_inc(conn->svc->stats, CP_STAT_OP + r->opcode);
	if (atomic_inc_return(&conn->inflight) >= CP_INFLIGHT_MAX)
		WRITE_ONCE(conn->rx_paused, true);

	switch (r->opcode) {
	case CACHEPEER_OP_GET:
		do_get(req, key);
		break;
	case CACHEPEER_OP_STAT:
		do_stat(req);
		break;
	case CACHEPEER_OP_PING:
		answer(req, CACHEPEER_S_OK);
		break;
	case CACHEPEER_OP_DEL:
		request_queue(req, del_work);
		break;
	case CACHEPEER_OP_RING_GET:
		request_queue(req, ring_get_work);
		break;
	case CACHEPEER_OP_PUT:
	case CACHEPEER_OP_RING_PUSH:
		conn->put_req = req;
		conn->rx_state = RX_PAYLOAD;
		queue_work(cp_wq, &conn->put_work);
		break;
	}
	return 0;
}

/*
 * A frame that breaks framing, in conn->rx_buf: answer it, then close after
 * the answer. Socket lock held, any context.
 */
void cp_request_reject(struct cp_conn *conn, u16 status)
{
	const struct cachepeer_req *w = (const void *)conn->rx_buf;
	struct cp_request *req;

	req = kmem_cache_zalloc(req_cache, GFP_ATOMIC);
	if (!req) {
		cp_conn_schedule_close(conn);
		return;
	}
	cp_conn_get(conn);
	req->conn = conn;
	req->id = be64_to_cpu(w->id);
	req->close_after = true;
	atomic_inc(&conn->inflight);
	answer(req, status);
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
