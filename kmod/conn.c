// SPDX-License-Identifier: GPL-2.0
/*
 * One client connection: frames in from softirq, responses out from a work
 * item, out of order.
 *
 * RX runs from sk_data_ready with the socket lock held (bh_lock_sock in
 * softirq; lock_sock in tx_work's backlog processing, or in rx_work when some
 * other task owned the socket), through tcp_read_sock(). It validates each
 * frame and answers what it can without sleeping: PING, STAT, and GETs whose
 * bytes are uptodate in the page cache, with the CRC merged from stored
 * segment CRCs. Everything that may sleep goes to cp_wq: GETs that need disk
 * reads (verified against the stored CRCs before they are sent), DEL, and the
 * PUT payload, which put_work reads in process context while the parser waits
 * for the frame to end. A GET that misses is routed (cluster.c) in softirq;
 * forwarding to the key's owner, hand-off from its previous owner and
 * redirects run in workers, as do the ring ops.
 *
 * At most CP_INFLIGHT_MAX requests are in flight per connection; beyond that
 * the parser stops reading, bytes stay in the socket and TCP flow control
 * pushes back on the client.
 *
 * TX is tx_work: one per connection, so it never runs concurrently with
 * itself; it runs where the connection's segments are received, or on a
 * CPU given to the connection when that is the client's own (conn_cpu()),
 * and owns the send state while it holds the socket. A shallow connection's
 * small responses may instead go out from the softirq that parsed their
 * requests (tx_direct()), when a worker would buy no parallelism. Headers
 * come from a page_frag (TCP cannot splice slab memory), data are
 * page-cache folios spliced into the skb, which takes its own folio
 * references. Small responses are coalesced with MSG_MORE while more are
 * queued.
 */

#include <linux/bvec.h>
#include <linux/moduleparam.h>
#include <linux/net.h>
#include <linux/pagemap.h>
#include <linux/pagevec.h>
#include <linux/sched/stat.h>
#include <linux/slab.h>
#include <linux/timer.h>
#include <linux/uio.h>
#include <linux/workqueue.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "cluster.h"
#include "conn.h"
#include "crc.h"
#include "proto.h"
#include "service.h"
#include "store.h"

#define CP_INFLIGHT_MAX		512
#define CP_INFLIGHT_RESUME	384
#define CP_PUT_CHUNK		(64 * 1024)
#define CP_TX_BVECS		(PAGEVEC_SIZE + 1)	/* a header and a folio batch */
#define CP_TX_DIRECT_INFLIGHT	4		/* tx_direct(): a shallow connection */
#define CP_TX_DIRECT_MAX	(64 * 1024)	/* tx_direct(): a small response */
#define CP_REQ_LEN		sizeof(struct cachepeer_req)
#define CP_RESP_LEN		sizeof(struct cachepeer_resp)

/*
 * The architecture sends from process context only; tx_direct() is the one
 * exception, and this turns it off at run time for every node.
 */
static bool softirq_tx = true;
module_param(softirq_tx, bool, 0644);
MODULE_PARM_DESC(softirq_tx,
		 "Send a shallow connection's small responses from the softirq that parsed them. Default: Y");

enum {
	RX_FRAME,	/* parsing headers from softirq */
	RX_PAYLOAD,	/* put_work owns the socket's bytes */
	RX_STOPPED,	/* after a fatal frame: read nothing more */
};

enum {
	CONN_CLOSED,	/* conn_close() has begun */
	CONN_EOF,	/* peer sent FIN: close once in-flight requests are done */
};

struct cp_conn {
	struct cp_service *svc;
	struct socket *sock;
	struct list_head link;		/* in svc->conns, under svc->conns_lock */
	refcount_t ref;
	unsigned long flags;
	atomic_t inflight;
	int cpu;			/* rx_work, tx_work: see conn_cpu() */
	int home_cpu;			/* conn_pick_cpu()'s */
	struct sockaddr_storage peer;
	u64 born;			/* ktime_get_ns() */
	u64 rx_bytes;			/* under the socket lock or put_work */
	u64 tx_bytes;			/* tx_work */

	/* RX state, under the socket lock */
	int rx_state;
	bool rx_paused;			/* in-flight bound reached */
	bool rx_retry;			/* a whole frame waits for memory */
	u32 rx_len;
	struct cp_req rx_req;
	u8 rx_buf[CP_REQ_LEN + CACHEPEER_KEY_MAX];
	struct timer_list frame_timer;
	struct work_struct rx_work;

	/* PUT payload, owned by put_work while rx_state == RX_PAYLOAD */
	struct cp_request *put_req;
	void *put_buf;
	struct work_struct put_work;

	spinlock_t tx_lock;		/* tx_queue, dead, tx_held */
	struct list_head tx_queue;
	bool dead;			/* conn_close(): queue no response, kick no rx_work */
	bool tx_held;			/* softirq RX: kick tx_work when it ends */
	struct work_struct tx_work;
	struct task_struct *tx_owner;	/* tx_work's task, while it owns the socket */
	/*
	 * The send state belongs to whoever holds the socket lock: tx_work
	 * (lock_sock()) or tx_direct() (bh_lock_sock(), socket not owned).
	 */
	struct cp_request *tx_cur;	/* partly sent, or deferred by tx_direct() */
	struct page_frag_cache pfc;
	/* send_response()'s, here rather than on the stack */
	struct bio_vec tx_bv[CP_TX_BVECS];
	struct folio_batch tx_fb;

	struct work_struct close_work;
	struct work_struct free_work;
};

struct cp_request {
	struct list_head list;
	struct cp_conn *conn;		/* holds a reference */
	struct cp_block *block;		/* GET, STAT: holds a reference */
	struct cp_blkfile *bf;		/* GET with data: holds a reference */
	struct cp_put *put;
	int put_err;
	struct cp_pbuf *pbuf;		/* data not from the page cache */
	void *push_buf;			/* RING_PUSH payload */
	u8 *key;			/* GET routed to another member */
	u16 key_len;
	union cp_addr to;		/* that member */
	struct work_struct work;
	u8 key_id[CP_ID_LEN];
	u64 id;
	u64 off;
	u64 len;			/* data bytes in the response */
	u64 block_size;
	u32 crc;
	u32 want_crc;
	u16 status;
	u8 op;
	u8 flags;
	bool close_after;
	struct cachepeer_resp *hdr;	/* page_frag, from tx_work */
	u64 sent;
};

static struct kmem_cache *req_cache __ro_after_init;
static struct workqueue_struct *cp_wq __ro_after_init;
static struct workqueue_struct *cp_tx_wq __ro_after_init;

static void conn_get(struct cp_conn *conn)
{
	refcount_inc(&conn->ref);
}

/* rx_work or tx_work, on the connection's CPU (conn_cpu()). */
static void conn_queue(struct cp_conn *conn, struct work_struct *work)
{
	queue_work_on(READ_ONCE(conn->cpu), cp_tx_wq, work);
}

/*
 * rx_work from outside the socket's callbacks (a request finished in a
 * worker, a failed dispatch), unless conn_close() has begun: it sets dead
 * and then cancels rx_work once, so a later kick would run it on a freed
 * connection.
 */
static void conn_kick_rx(struct cp_conn *conn)
{
	spin_lock_bh(&conn->tx_lock);
	if (!conn->dead)
		conn_queue(conn, &conn->rx_work);
	spin_unlock_bh(&conn->tx_lock);
}

/* The last put may come from softirq; the release sleeps, so defer it. */
static void conn_put(struct cp_conn *conn)
{
	if (refcount_dec_and_test(&conn->ref))
		queue_work(cp_wq, &conn->free_work);
}

static void conn_free_work(struct work_struct *work)
{
	struct cp_conn *conn = container_of(work, struct cp_conn, free_work);
	struct cp_service *svc = conn->svc;

	sock_release(conn->sock);
	page_frag_cache_drain(&conn->pfc);
	kvfree(conn->put_buf);
	kfree(conn);
	if (atomic_dec_and_test(&svc->nconns))
		wake_up_var(&svc->nconns);
}

/*
 * Any context, holding a reference. close_work may be queued again while it
 * runs (CONN_CLOSED is set only once conn_close() has begun), so a queued
 * close_work holds a reference of its own: the run that frees the
 * connection is never followed by one that touches it.
 */
static void conn_schedule_close(struct cp_conn *conn)
{
	if (test_bit(CONN_CLOSED, &conn->flags))
		return;
	conn_get(conn);
	if (!queue_work(cp_wq, &conn->close_work))
		conn_put(conn);
}

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
	conn_put(conn);
}

/* A response is queued (or thrown away): one less request in flight. */
static void request_done(struct cp_request *req)
{
	struct cp_conn *conn = req->conn;
	int left;

	conn_get(conn);
	request_free(req);
	left = atomic_dec_return(&conn->inflight);
	if (left < CP_INFLIGHT_RESUME && READ_ONCE(conn->rx_paused))
		conn_kick_rx(conn);
	if (!left && test_bit(CONN_EOF, &conn->flags))
		conn_schedule_close(conn);
	conn_put(conn);
}

static void queue_tx(struct cp_request *req)
{
	struct cp_conn *conn = req->conn;
	bool kick;

	cp_service_count_status(conn->svc, req->op, req->status);
	spin_lock_bh(&conn->tx_lock);
	if (conn->dead) {
		spin_unlock_bh(&conn->tx_lock);
		request_done(req);
		return;
	}
	list_add_tail(&req->list, &conn->tx_queue);
	kick = !conn->tx_held;
	spin_unlock_bh(&conn->tx_lock);
	if (kick)
		conn_queue(conn, &conn->tx_work);
}

static void answer(struct cp_request *req, u16 status)
{
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
	queue_tx(req);
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
	answer(req, cp_store_status(err));
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
	answer(req, cp_store_status(err));
}

/* Any context: the request's block, referenced by req, or NULL. */
static struct cp_block *request_lookup(struct cp_conn *conn, struct cp_request *req)
{
	struct cp_block *b = cp_store_lookup(&conn->svc->store, req->key_id);

	if (!b)
		return NULL;
	cp_block_touch(b);
	req->block = b;
	req->block_size = b->size;
	return b;
}

/* Any context. req->off and req->len are the range asked for. */
static void get_block(struct cp_conn *conn, struct cp_request *req, struct cp_block *b)
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
	INIT_WORK(&req->work, get_slow_work);
	queue_work(cp_wq, &req->work);
}

/* Process context: relay the owner's answer. */
static void forward_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);
	struct cp_peer_resp r;
	int err;

	err = cp_cluster_forward(req->conn->svc, &req->to, req->key, req->key_len, req->off,
				 req->len, &r, &req->pbuf);
	if (err) {
		/* An owner out of reach is a miss: the client has a backing store. */
		answer(req, err == -EBUSY ? CACHEPEER_S_BUSY : CACHEPEER_S_NOT_FOUND);
		return;
	}
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
	atomic64_inc(&req->conn->svc->cluster.redirects);
	answer(req, CACHEPEER_S_REDIRECT);
}

/* Process context: take the block over from its previous owner, then serve. */
static void handoff_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);
	struct cp_conn *conn = req->conn;
	struct cp_block *b = NULL;

	if (!cp_cluster_handoff(conn->svc, &req->to, req->key, req->key_len, req->key_id))
		b = request_lookup(conn, req);
	if (b)
		get_block(conn, req, b);
	else
		answer(req, CACHEPEER_S_NOT_FOUND);
}

/* Any context: a GET for a block this node does not hold. */
static void get_miss(struct cp_conn *conn, struct cp_request *req, const u8 *key)
{
	work_func_t fn;

	switch (cp_cluster_route(conn->svc, cp_ring_key_hash(key, req->key_len), req->flags,
				 &req->to)) {
	case CP_ROUTE_FORWARD:
		fn = forward_work;
		break;
	case CP_ROUTE_REDIRECT:
		fn = redirect_work;
		break;
	case CP_ROUTE_HANDOFF:
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
	INIT_WORK(&req->work, fn);
	queue_work(cp_wq, &req->work);
}

static void do_get(struct cp_conn *conn, struct cp_request *req, const u8 *key)
{
	struct cp_block *b = request_lookup(conn, req);

	if (b)
		get_block(conn, req, b);
	else
		get_miss(conn, req, key);
}

static void do_stat(struct cp_conn *conn, struct cp_request *req)
{
	struct cp_block *b = request_lookup(conn, req);
	struct cp_blkfile *bf;

	if (!b) {
		answer(req, CACHEPEER_S_NOT_FOUND);
		return;
	}
	bf = cp_block_file(b);
	if (!bf) {
		INIT_WORK(&req->work, stat_slow_work);
		queue_work(cp_wq, &req->work);
		return;
	}
	req->crc = bf->crc;
	cp_blkfile_put(bf);
	answer(req, CACHEPEER_S_OK);
}

static void del_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);

	answer(req, cp_store_status(cp_store_del(&req->conn->svc->store, req->key_id)));
}

static void ring_get_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);
	size_t len;
	void *buf;

	buf = cp_cluster_encode(req->conn->svc, &len);
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
	status = cp_cluster_push_in(req->conn->svc, req->push_buf, len, &req->pbuf);
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
	answer(req, cp_store_status(err));
}

/*
 * A whole frame (header and key) is in rx_buf: hand it to its op. Socket lock
 * held, any context. Fails only for lack of memory.
 */
static int dispatch(struct cp_conn *conn, gfp_t gfp)
{
	const struct cp_req *r = &conn->rx_req;
	struct cp_request *req;

	req = kmem_cache_zalloc(req_cache, gfp);
	if (!req)
		return -ENOMEM;
	conn_get(conn);
	req->conn = conn;
	req->id = r->id;
	req->op = r->opcode;
	req->flags = r->flags;
	req->want_crc = r->crc;
	req->key_len = r->key_len;
	req->off = r->offset;
	req->len = r->length;
	if (r->key_len)
		cp_store_key_id(conn->rx_buf + CP_REQ_LEN, r->key_len, req->key_id);
	cp_service_count_op(conn->svc, r->opcode);
	if (atomic_inc_return(&conn->inflight) >= CP_INFLIGHT_MAX)
		WRITE_ONCE(conn->rx_paused, true);

	switch (r->opcode) {
	case CACHEPEER_OP_GET:
		do_get(conn, req, conn->rx_buf + CP_REQ_LEN);
		break;
	case CACHEPEER_OP_STAT:
		do_stat(conn, req);
		break;
	case CACHEPEER_OP_PING:
		answer(req, CACHEPEER_S_OK);
		break;
	case CACHEPEER_OP_DEL:
		INIT_WORK(&req->work, del_work);
		queue_work(cp_wq, &req->work);
		break;
	case CACHEPEER_OP_RING_GET:
		INIT_WORK(&req->work, ring_get_work);
		queue_work(cp_wq, &req->work);
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

/* A frame that breaks framing: answer it, then close after the answer. */
static void reject_frame(struct cp_conn *conn, u16 status)
{
	const struct cachepeer_req *w = (const void *)conn->rx_buf;
	struct cp_request *req;

	conn->rx_state = RX_STOPPED;
	req = kmem_cache_zalloc(req_cache, GFP_ATOMIC);
	if (!req) {
		conn_schedule_close(conn);
		return;
	}
	conn_get(conn);
	req->conn = conn;
	req->id = be64_to_cpu(w->id);
	req->close_after = true;
	atomic_inc(&conn->inflight);
	answer(req, status);
}

static int recv_actor(read_descriptor_t *desc, struct sk_buff *skb, unsigned int offset,
		      size_t len)
{
	struct cp_conn *conn = desc->arg.data;
	struct cp_req *r = &conn->rx_req;
	size_t used = 0;

	while (used < len) {
		u32 want = CP_REQ_LEN;
		u32 n;
		u16 status;

		if (conn->rx_state != RX_FRAME || conn->rx_paused || conn->rx_retry) {
			desc->count = 0;
			break;
		}
		if (conn->rx_len >= CP_REQ_LEN)
			want += r->key_len;
		n = min_t(size_t, want - conn->rx_len, len - used);
		if (skb_copy_bits(skb, offset + used, conn->rx_buf + conn->rx_len, n))
			break;
		conn->rx_len += n;
		used += n;
		if (conn->rx_len < want)
			break;
		if (want == CP_REQ_LEN) {
			if (cp_proto_parse_req((void *)conn->rx_buf, conn->svc->max_block, r,
					       &status)) {
				reject_frame(conn, status);
				continue;
			}
			if (r->key_len)
				continue;
		}
		if (dispatch(conn, GFP_ATOMIC)) {
			conn->rx_retry = true;	/* rx_work retries with GFP_KERNEL */
			conn_kick_rx(conn);
			continue;
		}
		conn->rx_len = 0;
	}
	WRITE_ONCE(conn->rx_bytes, conn->rx_bytes + used);
	return used;
}

/* A partial frame must complete within the node's frame timeout. */
static void frame_timer_update(struct cp_conn *conn)
{
	if (conn->rx_len || conn->rx_state == RX_PAYLOAD) {
		if (!timer_pending(&conn->frame_timer))
			mod_timer(&conn->frame_timer,
				  jiffies + msecs_to_jiffies(conn->svc->frame_timeout_ms));
	} else {
		timer_delete(&conn->frame_timer);
	}
}

/* Socket lock held. */
static void read_frames(struct cp_conn *conn)
{
	read_descriptor_t desc = { .arg.data = conn, .count = 1 };

	if (conn->rx_state == RX_FRAME && !conn->rx_paused && !conn->rx_retry)
		tcp_read_sock(conn->sock->sk, &desc, recv_actor);
	frame_timer_update(conn);
}

static void frame_timeout(struct timer_list *t)
{
	struct cp_conn *conn = from_timer(conn, t, frame_timer);

	cp_service_count_timeout(conn->svc);
	conn_schedule_close(conn);
}

static void rx_work(struct work_struct *work)
{
	struct cp_conn *conn = container_of(work, struct cp_conn, rx_work);
	struct sock *sk = conn->sock->sk;

	lock_sock(sk);
	if (conn->rx_retry) {
		if (dispatch(conn, GFP_KERNEL)) {
			release_sock(sk);
			conn_schedule_close(conn);
			return;
		}
		conn->rx_retry = false;
		conn->rx_len = 0;
	}
	if (conn->rx_paused && atomic_read(&conn->inflight) < CP_INFLIGHT_RESUME)
		WRITE_ONCE(conn->rx_paused, false);
	read_frames(conn);
	release_sock(sk);
	if (test_bit(CONN_EOF, &conn->flags) && !atomic_read(&conn->inflight))
		conn_schedule_close(conn);
}

/*
 * Process context: receive a PUT's payload into the block's anonymous file.
 * The frame's key stays in rx_buf until the payload is complete.
 */
static void put_work(struct work_struct *work)
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
		INIT_WORK(&req->work, ring_push_work);
	} else {
		req->sent = 0;
		INIT_WORK(&req->work, commit_work);
	}
	queue_work(cp_wq, &req->work);

	lock_sock(sk);
	conn->rx_state = RX_FRAME;
	conn->rx_len = 0;
	timer_delete(&conn->frame_timer);
	read_frames(conn);
	release_sock(sk);
	return;

fail:
	conn->put_req = NULL;
	request_done(req);
	conn_schedule_close(conn);
}

static void rx_softirq(struct cp_conn *conn);

/*
 * True in tx_work's own backlog processing: the socket is locked by the task
 * that asks, so frames can be parsed here and now, as rx_work would after
 * lock_sock().
 */
static bool tx_owns(struct cp_conn *conn)
{
	return in_task() && READ_ONCE(conn->tx_owner) == current;
}

static void conn_data_ready(struct sock *sk)
{
	struct cp_conn *conn;

	read_lock_bh(&sk->sk_callback_lock);
	conn = sk->sk_user_data;
	if (likely(conn)) {
		if (conn->rx_state == RX_PAYLOAD)
			queue_work(cp_wq, &conn->put_work);
		else if (conn->rx_retry)
			conn_queue(conn, &conn->rx_work);
		else if (!sock_owned_by_user_nocheck(sk) && !in_task())
			rx_softirq(conn);
		else if (!sock_owned_by_user_nocheck(sk) || tx_owns(conn))
			read_frames(conn);
		else
			conn_queue(conn, &conn->rx_work);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

static void conn_write_space(struct sock *sk)
{
	struct cp_conn *conn;

	read_lock_bh(&sk->sk_callback_lock);
	conn = sk->sk_user_data;
	if (likely(conn) && sk_stream_is_writeable(sk)) {
		clear_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		conn_queue(conn, &conn->tx_work);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

static void conn_state_change(struct sock *sk)
{
	struct cp_conn *conn;

	read_lock_bh(&sk->sk_callback_lock);
	conn = sk->sk_user_data;
	if (likely(conn)) {
		if (sk->sk_state == TCP_CLOSE_WAIT) {
			/* Half-closed: answer what was asked, then close. */
			set_bit(CONN_EOF, &conn->flags);
			conn_queue(conn, &conn->rx_work);
		} else if (sk->sk_state != TCP_ESTABLISHED) {
			conn_schedule_close(conn);
		}
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

/*
 * tx_work sends a whole batch of responses under one lock_sock(): taking the
 * socket per response made TX spin on the socket's spinlock against the
 * softirq parsing the next requests. Segments that arrive meanwhile wait in
 * the backlog, which tx_work flushes after every send; frames in them are
 * parsed right there (tx_owns()).
 */
static void tx_lock(struct cp_conn *conn)
{
	lock_sock(conn->sock->sk);
	WRITE_ONCE(conn->tx_owner, current);
}

static void tx_unlock(struct cp_conn *conn)
{
	/* Still the owner while release_sock() runs the backlog. */
	release_sock(conn->sock->sk);
	WRITE_ONCE(conn->tx_owner, NULL);
}

/* Process context: drop the references tx_folios() took. */
static void tx_folios_put(struct folio_batch *fb)
{
	unsigned int i;

	for (i = 0; i < folio_batch_count(fb); i++)
		folio_put(fb->folios[i]);
	folio_batch_reinit(fb);
}

/*
 * Process context: the page-cache folios holding block bytes [boff, end) of
 * req, from boff on, at most max of them, taken with one walk of the
 * mapping. Returns how many of them (from fb->folios[0]) may be sent, or an
 * error; the caller drops the references in fb. A folio evicted since the
 * request was checked is read and verified again: the header is out, so a
 * failure can only end the connection; bad bytes are never sent. From
 * tx_direct(), which cannot wait for the disk, that is -EWOULDBLOCK.
 */
static int tx_folios(struct cp_conn *conn, struct cp_request *req, u64 boff, u64 end,
		     unsigned int max, struct folio_batch *fb, bool direct)
{
	pgoff_t index = boff >> PAGE_SHIFT;
	pgoff_t last = min_t(pgoff_t, (end - 1) >> PAGE_SHIFT, index + max - 1);
	struct folio *folio;
	unsigned int i;
	int err;

	/* The batch is contiguous and starts with the folio holding boff. */
	filemap_get_folios_contig(req->bf->file->f_mapping, &index, last, fb);
	for (i = 0; i < folio_batch_count(fb); i++)
		if (!folio_test_uptodate(fb->folios[i]))
			break;
	if (i)
		return i;
	if (direct) {
		tx_folios_put(fb);
		return -EWOULDBLOCK;
	}

	/* Disk reads: let the socket work on without us meanwhile. */
	tx_folios_put(fb);
	tx_unlock(conn);
	err = cp_block_verify(&conn->svc->store, req->block, req->bf, boff, end - boff);
	folio = err ? NULL : cp_block_folio(req->bf, boff >> PAGE_SHIFT);
	tx_lock(conn);
	if (err)
		return err;
	if (IS_ERR(folio))
		return PTR_ERR(folio);
	folio_batch_add(fb, folio);
	return 1;
}

/*
 * Under tx_lock(), or from tx_direct(): send what is left of one response.
 * Returns 0 when it is all queued in the socket, -EAGAIN when the socket is
 * full (sk_write_space resumes tx_work), -EWOULDBLOCK when tx_direct() must
 * leave the rest to tx_work, or an error that ends the connection.
 */
static int send_response(struct cp_conn *conn, struct cp_request *req, bool more, bool direct)
{
	struct socket *sock = conn->sock;
	u64 total = CP_RESP_LEN + req->len;
	bool sg = sock->sk->sk_route_caps & NETIF_F_SG;
	struct folio_batch *fb = &conn->tx_fb;
	struct bio_vec *bv = conn->tx_bv;

	sock_owned_by_me(sock->sk);
	if (!req->hdr) {
		req->hdr = page_frag_alloc(&conn->pfc, CP_RESP_LEN,
					   direct ? GFP_ATOMIC : GFP_KERNEL);
		if (!req->hdr)
			return direct ? -EWOULDBLOCK : -ENOMEM;
		cp_proto_fill_resp(req->hdr, req->id, req->status, req->len, req->block_size,
				   req->crc, READ_ONCE(conn->svc->epoch));
	}
	folio_batch_init(fb);
	while (req->sent < total) {
		struct msghdr msg = { .msg_flags = MSG_SPLICE_PAGES | MSG_DONTWAIT | MSG_NOSIGNAL };
		u64 pos = req->sent, bytes = 0, data;
		int n = 0, ret = 0, i;

		if (pos < CP_RESP_LEN) {
			bvec_set_virt(&bv[n++], (u8 *)req->hdr + pos, CP_RESP_LEN - pos);
			bytes = CP_RESP_LEN - pos;
			pos = CP_RESP_LEN;
		}
		if (req->pbuf) {
			while (n < CP_TX_BVECS && pos < total) {
				u64 boff = pos - CP_RESP_LEN;
				size_t foff = offset_in_page(boff);
				size_t len = min_t(u64, PAGE_SIZE - foff, total - pos);

				bvec_set_page(&bv[n++], req->pbuf->pages[boff >> PAGE_SHIFT], len,
					      foff);
				bytes += len;
				pos += len;
			}
		} else if (pos < total) {
			u64 boff = req->off + pos - CP_RESP_LEN;

			ret = tx_folios(conn, req, boff, req->off + req->len, CP_TX_BVECS - n, fb,
					direct);
			for (i = 0; i < ret; i++) {
				struct folio *folio = fb->folios[i];
				size_t foff = boff - folio_pos(folio);
				size_t len = min_t(u64, folio_size(folio) - foff, total - pos);

				bvec_set_folio(&bv[n++], folio, len, foff);
				boff += len;
				bytes += len;
				pos += len;
			}
		}
		if (ret >= 0) {
			if (pos < total || more)
				msg.msg_flags |= MSG_MORE;
			iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, bv, n, bytes);
			ret = tcp_sendmsg_locked(sock->sk, &msg, bytes);
			/*
			 * Between the pieces of a big response, let ACKs be
			 * processed where they arrive; between small ones,
			 * take in what waits in the backlog ourselves. Not
			 * owned by a task, the socket has no backlog.
			 */
			if (!direct && pos < total) {
				tx_unlock(conn);
				tx_lock(conn);
			} else if (!direct) {
				sk_flush_backlog(sock->sk);
			}
		}
		/* The skb holds its own folio references. */
		tx_folios_put(fb);
		if (ret < 0)
			return ret;
		data = req->sent + ret > CP_RESP_LEN ?
		       req->sent + ret - max_t(u64, req->sent, CP_RESP_LEN) : 0;
		if (!req->pbuf)		/* GET data from the page cache */
			cp_service_count_tx(conn->svc, data, sg);
		WRITE_ONCE(conn->tx_bytes, conn->tx_bytes + ret);
		req->sent += ret;
		if (ret < bytes)
			return -EAGAIN;
	}
	return 0;
}

static void tx_work(struct work_struct *work)
{
	struct cp_conn *conn = container_of(work, struct cp_conn, tx_work);
	struct cp_request *req;
	bool more, close = false;
	int ret;

	tx_lock(conn);
	for (;;) {
		req = conn->tx_cur;
		spin_lock_bh(&conn->tx_lock);
		if (!req) {
			req = list_first_entry_or_null(&conn->tx_queue, struct cp_request, list);
			if (req)
				list_del(&req->list);
		}
		more = !list_empty(&conn->tx_queue);
		spin_unlock_bh(&conn->tx_lock);
		if (!req)
			break;
		conn->tx_cur = req;
		ret = send_response(conn, req, more, false);
		if (ret == -EAGAIN)
			break;
		conn->tx_cur = NULL;
		close = ret || req->close_after;
		request_done(req);
		if (close)
			break;
	}
	/* Responses to frames parsed from the backlog here requeue us. */
	tx_unlock(conn);
	if (close)
		conn_schedule_close(conn);
}

/*
 * Softirq, after read_frames(), with the socket bh-locked and not owned by
 * a task: send a shallow connection's queued responses right here, when
 * this CPU runs other tasks than the one the softirq interrupted, or none.
 * A worker would then buy no parallelism, only a wakeup and a switch to it
 * and back per request, for a client that waits for each answer. A deep
 * pipeline, or a CPU running just one task (on loopback, the client that
 * sent the request), keeps tx_work on the connection's CPU: there TX runs
 * beside the parsing, as conn_pick_cpu() intends.
 *
 * Only what goes without sleeping: small responses whose folios are
 * uptodate, atomic allocations, a socket with room and scatter-gather (TCP
 * would otherwise copy through a page_frag). espintcp sends from softirq
 * the same way. What is left stays queued, or in tx_cur, for tx_work.
 */
static void tx_direct(struct cp_conn *conn)
{
	struct sock *sk = conn->sock->sk;
	gfp_t gfp = sk->sk_allocation;
	struct cp_request *req;
	bool more, close;
	int ret;

	if (!READ_ONCE(softirq_tx) || conn->tx_cur || !(sk->sk_route_caps & NETIF_F_SG) ||
	    !sk_stream_memory_free(sk) || atomic_read(&conn->inflight) > CP_TX_DIRECT_INFLIGHT ||
	    single_task_running())
		return;
	/* For tcp_sendmsg_locked()'s skbs; tx_work's stay GFP_KERNEL. */
	sk->sk_allocation = GFP_ATOMIC;
	for (;;) {
		spin_lock(&conn->tx_lock);
		req = list_first_entry_or_null(&conn->tx_queue, struct cp_request, list);
		if (req && CP_RESP_LEN + req->len <= CP_TX_DIRECT_MAX)
			list_del(&req->list);
		else
			req = NULL;
		more = !list_empty(&conn->tx_queue);
		spin_unlock(&conn->tx_lock);
		if (!req)
			break;
		ret = send_response(conn, req, more, true);
		if (ret == -EAGAIN || ret == -EWOULDBLOCK) {
			conn->tx_cur = req;
			break;
		}
		cp_service_count_softirq_tx(conn->svc);
		close = ret || req->close_after;
		request_done(req);
		if (close) {
			conn_schedule_close(conn);
			break;
		}
	}
	sk->sk_allocation = gfp;
}

/*
 * Softirq, socket bh-locked: where the connection's work runs from now on.
 * A softirq that interrupted a kernel thread or the idle task is receive
 * processing that belongs to this CPU: a NIC queue's interrupt, RPS or
 * ksoftirqd. TX then follows it, as nvmet-tcp's io_work follows
 * sk_incoming_cpu: requests, ACKs and responses meet on one CPU and TX never
 * spins on the socket against the softirq, and a client elsewhere keeps its
 * CPU to itself. A softirq run in a user task's context is, on loopback,
 * the client's own send(): queued on that CPU, TX would wait for the client
 * and one pipelined connection would get one CPU in all, so the work stays
 * on the CPU conn_pick_cpu() gave the connection.
 */
static void conn_cpu(struct cp_conn *conn)
{
	int cpu = current->flags & PF_KTHREAD ? smp_processor_id() : conn->home_cpu;

	if (cpu != conn->cpu)
		WRITE_ONCE(conn->cpu, cpu);
}

/*
 * Softirq, socket bh-locked and not owned: parse what arrived, then answer
 * it here (tx_direct()) or wake tx_work once for all of it, not once per
 * response. Responses queued meanwhile by workers wait for the same kick.
 */
static void rx_softirq(struct cp_conn *conn)
{
	bool kick;

	conn_cpu(conn);
	spin_lock(&conn->tx_lock);
	conn->tx_held = true;
	spin_unlock(&conn->tx_lock);
	read_frames(conn);
	tx_direct(conn);
	spin_lock(&conn->tx_lock);
	conn->tx_held = false;
	kick = conn->tx_cur || !list_empty(&conn->tx_queue);
	spin_unlock(&conn->tx_lock);
	if (kick)
		conn_queue(conn, &conn->tx_work);
}

static void drop_queued(struct cp_conn *conn)
{
	struct cp_request *req, *tmp;

	list_for_each_entry_safe(req, tmp, &conn->tx_queue, list) {
		list_del(&req->list);
		request_done(req);
	}
	if (conn->tx_cur) {
		request_done(conn->tx_cur);
		conn->tx_cur = NULL;
	}
	if (conn->put_req) {
		request_done(conn->put_req);
		conn->put_req = NULL;
	}
}

static void conn_close(struct cp_conn *conn)
{
	struct cp_service *svc = conn->svc;
	struct sock *sk = conn->sock->sk;

	if (test_and_set_bit(CONN_CLOSED, &conn->flags))
		return;

	/* After this no callback can reach the connection... */
	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_user_data = NULL;
	sk->sk_data_ready = svc->sk_data_ready;
	sk->sk_write_space = svc->sk_write_space;
	sk->sk_state_change = svc->sk_state_change;
	write_unlock_bh(&sk->sk_callback_lock);

	/* ...and after this no worker runs or queues a response. */
	spin_lock_bh(&conn->tx_lock);
	conn->dead = true;
	spin_unlock_bh(&conn->tx_lock);
	timer_shutdown_sync(&conn->frame_timer);
	cancel_work_sync(&conn->rx_work);
	cancel_work_sync(&conn->put_work);
	cancel_work_sync(&conn->tx_work);

	kernel_sock_shutdown(conn->sock, SHUT_RDWR);
	drop_queued(conn);

	spin_lock_bh(&svc->conns_lock);
	list_del(&conn->link);
	spin_unlock_bh(&svc->conns_lock);
	conn_put(conn);		/* the connection's own reference */
}

static void close_work(struct work_struct *work)
{
	struct cp_conn *conn = container_of(work, struct cp_conn, close_work);

	conn_close(conn);
	conn_put(conn);		/* conn_schedule_close()'s */
}

/*
 * Connections take the online CPUs in turn for their rx_work and tx_work
 * while their segments are received in the client's own context (see
 * conn_cpu()), as nvme-tcp's I/O queues do. One CPU per connection keeps
 * its state in one cache; spreading connections lets TX run beside the
 * softirq that parses the requests behind it. Should the CPU go offline,
 * the workqueue runs the work elsewhere.
 */
static int conn_pick_cpu(void)
{
	static atomic_t next = ATOMIC_INIT(0);
	unsigned int n = (unsigned int)atomic_inc_return(&next) % num_online_cpus();
	unsigned int cpu = cpumask_nth(n, cpu_online_mask);

	/* CPUs went offline since num_online_cpus() */
	return cpu < nr_cpu_ids ? cpu : raw_smp_processor_id();
}

/* Process context, from the accept worker. Takes over sock. */
int cp_conn_create(struct cp_service *svc, struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct cp_conn *conn;

	conn = kzalloc(sizeof(*conn), GFP_KERNEL);
	if (!conn)
		return -ENOMEM;
	conn->svc = svc;
	conn->sock = sock;
	refcount_set(&conn->ref, 1);
	spin_lock_init(&conn->tx_lock);
	INIT_LIST_HEAD(&conn->tx_queue);
	INIT_WORK(&conn->rx_work, rx_work);
	INIT_WORK(&conn->put_work, put_work);
	INIT_WORK(&conn->tx_work, tx_work);
	INIT_WORK(&conn->close_work, close_work);
	INIT_WORK(&conn->free_work, conn_free_work);
	timer_setup(&conn->frame_timer, frame_timeout, 0);
	conn->home_cpu = conn_pick_cpu();
	conn->cpu = conn->home_cpu;
	conn->born = ktime_get_ns();
	if (kernel_getpeername(sock, (struct sockaddr *)&conn->peer) < 0)
		conn->peer.ss_family = AF_UNSPEC;

	tcp_sock_set_nodelay(sk);
	sock_no_linger(sk);

	atomic_inc(&svc->nconns);
	spin_lock_bh(&svc->conns_lock);
	list_add_tail(&conn->link, &svc->conns);
	spin_unlock_bh(&svc->conns_lock);

	/* The child inherited the listener's callbacks; replace them. */
	lock_sock(sk);
	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_user_data = conn;
	sk->sk_data_ready = conn_data_ready;
	sk->sk_write_space = conn_write_space;
	sk->sk_state_change = conn_state_change;
	write_unlock_bh(&sk->sk_callback_lock);
	/* Bytes may have arrived before the callbacks were in place. */
	read_frames(conn);
	if (sk->sk_state != TCP_ESTABLISHED)
		conn_schedule_close(conn);
	release_sock(sk);
	return 0;
}

/* Process context: close every connection of a stopping node and wait. */
void cp_conn_close_all(struct cp_service *svc)
{
	struct cp_conn *conn;

	/* A listed connection holds its own reference until conn_close(). */
	spin_lock_bh(&svc->conns_lock);
	list_for_each_entry(conn, &svc->conns, link)
		conn_schedule_close(conn);
	spin_unlock_bh(&svc->conns_lock);
	wait_var_event(&svc->nconns, !atomic_read(&svc->nconns));
}

/*
 * Report the node's connections, from the skip'th on, to fn until it returns
 * non-zero. fn runs under a spinlock and must not sleep. Returns the number
 * of connections fn accepted.
 */
unsigned long cp_conn_for_each(struct cp_service *svc, unsigned long skip,
			       int (*fn)(const struct cp_conn_info *ci, void *arg), void *arg)
{
	u64 now = ktime_get_ns();
	unsigned long done = 0;
	struct cp_conn *conn;

	spin_lock_bh(&svc->conns_lock);
	list_for_each_entry(conn, &svc->conns, link) {
		struct cp_conn_info ci;

		if (skip) {
			skip--;
			continue;
		}
		ci.peer = conn->peer;
		ci.inflight = atomic_read(&conn->inflight);
		ci.rx_bytes = READ_ONCE(conn->rx_bytes);
		ci.tx_bytes = READ_ONCE(conn->tx_bytes);
		ci.age_ms = div_u64(now - conn->born, NSEC_PER_MSEC);
		ci.cpu = READ_ONCE(conn->cpu);
		if (fn(&ci, arg))
			break;
		done++;
	}
	spin_unlock_bh(&svc->conns_lock);
	return done;
}

/* Requests in flight over all of the node's connections. */
u64 cp_conn_inflight(struct cp_service *svc)
{
	struct cp_conn *conn;
	u64 n = 0;

	spin_lock_bh(&svc->conns_lock);
	list_for_each_entry(conn, &svc->conns, link)
		n += atomic_read(&conn->inflight);
	spin_unlock_bh(&svc->conns_lock);
	return n;
}

int __init cp_conn_init(void)
{
	req_cache = KMEM_CACHE(cp_request, 0);
	if (!req_cache)
		return -ENOMEM;
	/* Disk reads, PUT payloads, fsync and teardown may block for long. */
	cp_wq = alloc_workqueue("cachepeer", WQ_UNBOUND, 0);
	if (!cp_wq)
		goto err_cache;
	/* RX resumption and TX, per connection on the CPU conn_pick_cpu() gave it */
	cp_tx_wq = alloc_workqueue("cachepeer_tx", WQ_HIGHPRI, 0);
	if (!cp_tx_wq)
		goto err_wq;
	return 0;

err_wq:
	destroy_workqueue(cp_wq);
err_cache:
	kmem_cache_destroy(req_cache);
	return -ENOMEM;
}

void cp_conn_uninit(void)
{
	destroy_workqueue(cp_tx_wq);
	destroy_workqueue(cp_wq);
	/* Blocks are freed by call_rcu() into this module. */
	rcu_barrier();
	kmem_cache_destroy(req_cache);
}
