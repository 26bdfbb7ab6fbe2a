// SPDX-License-Identifier: GPL-2.0
/*
 * PUTs forwarded to the key's owner, the payload streamed through.
 *
 * A PUT for a key another member owns, on a connection that proved a write
 * or member key, under the forward miss setting, is sent on to the owner
 * as a LOCAL PUT with the client's CRC, and answered with the owner's
 * status. Three steps:
 *
 *  1. fwd_work on cp_peer_wq takes a connection to the owner (which may
 *     mean a connect) and sends the header and key. Framing on the client's
 *     connection is paused (RX_PAYLOAD) but no put_req is published yet,
 *     so put_work reads nothing until the owner has the header.
 *  2. put_work on cp_wq moves the payload, a CP_PUT_CHUNK at a time, from
 *     the client's socket to the owner's without ever blocking: it stops
 *     when either side has nothing to give or no room, and the client's
 *     data_ready or the owner's write_space queues it again. A slow owner
 *     slows the client down (TCP windows), never a worker; an owner that
 *     stops reading leaves the payload to the client's frame timeout.
 *  3. fwd_work again waits for the owner's answer (it fsyncs first: up to
 *     CP_PEER_COMMIT_MS), while the client's connection parses on.
 *
 * The payload passes through the connection's put_buf: one copy in and
 * one out, as a PUT stored here would cost. If the owner cannot be
 * reached, or fails mid-payload, the rest of the payload is read and
 * dropped and the PUT is answered BUSY: the owner stored nothing, or a
 * partial PUT that it drops, and the client may retry. So is one whose
 * answer does not come in time (the owner may have stored it).
 */

#include "conn_priv.h"

/* An owner's answer to a forwarded PUT comes after its fsync. */
#define CP_PEER_COMMIT_MS	(5 * CP_PEER_TIMEOUT_MS)

/*
 * Softirq (or any context), the owner's socket has room, or changed state:
 * more of the payload may go. Hooked only while the request holds the
 * peer connection, and the request holds its client connection, so conn is
 * alive here; once conn_close() has marked it dead, nothing is queued.
 */
static void fwd_wake(struct sock *sk)
{
	struct cp_conn *conn;

	read_lock_bh(&sk->sk_callback_lock);
	conn = sk->sk_user_data;
	if (conn) {
		spin_lock_bh(&conn->tx_lock);
		if (!conn->dead)
			queue_work(cp_wq, &conn->put_work);
		spin_unlock_bh(&conn->tx_lock);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

static void fwd_write_space(struct sock *sk)
{
	if (sk_stream_is_writeable(sk) && sk->sk_socket) {
		clear_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		fwd_wake(sk);
	}
}

static void fwd_hook(struct cp_request *req)
{
	struct sock *sk = req->peer->sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	req->peer->saved_write_space = sk->sk_write_space;
	req->peer->saved_state_change = sk->sk_state_change;
	sk->sk_user_data = req->conn;
	sk->sk_write_space = fwd_write_space;
	sk->sk_state_change = fwd_wake;
	write_unlock_bh(&sk->sk_callback_lock);
}

/* After this no callback of the owner's socket reaches the client's connection. */
static void fwd_unhook(struct cp_request *req)
{
	struct sock *sk = req->peer->sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_user_data == req->conn) {
		sk->sk_user_data = NULL;
		sk->sk_write_space = req->peer->saved_write_space;
		sk->sk_state_change = req->peer->saved_state_change;
	}
	write_unlock_bh(&sk->sk_callback_lock);
}

/*
 * Process context: give the owner's connection back, closed unless its
 * answer was read whole (reuse). From fwd_work, or from request_free()
 * when the client's connection closed mid-payload (conn_close(), which
 * has cancelled put_work).
 */
void cp_put_fwd_release(struct cp_request *req, bool reuse)
{
	might_sleep();
	fwd_unhook(req);
	cp_peer_done(&req->conn->svc->cluster.peers, req->peer, reuse);
	req->peer = NULL;
}

/* Process context, fwd_work: take a connection to the owner, send the header. */
static void fwd_open(struct cp_request *req)
{
	struct cp_conn *conn = req->conn;
	struct cp_stats __percpu *stats = conn->svc->stats;
	struct cp_req q = {
		.opcode = CACHEPEER_OP_PUT,
		.flags = CACHEPEER_F_LOCAL | (req->flags & CACHEPEER_F_CRC),
		.key_len = req->key_len,
		.crc = req->want_crc,
		.payload_len = req->payload_len,
	};
	bool live;
	int err;

	/*
	 * The header alone: the payload follows as put_work reads it. On a
	 * connection of its own (peer.c), not a link: the client paces it.
	 */
	err = cp_peer_begin(&conn->svc->cluster.peers, &req->to, &q, req->key, NULL, &req->peer);
	if (err) {
		cp_stats_inc(stats, CP_STAT_PEER_ERRORS);
		req->put_err = err;
		req->peer = NULL;
	} else {
		fwd_hook(req);
	}
	/*
	 * Publish the request to put_work, unless the connection closed
	 * meanwhile: conn_close() marks it dead under tx_lock before it
	 * cancels put_work, so put_work queued here is cancelled there.
	 */
	spin_lock_bh(&conn->tx_lock);
	live = !conn->dead;
	if (live) {
		req->fwd = FWD_PAYLOAD;
		/* A put_work already running sees req whole, or not at all. */
		smp_store_release(&conn->put_req, req);
		queue_work(cp_wq, &conn->put_work);
	}
	spin_unlock_bh(&conn->tx_lock);
	if (!live) {
		if (req->peer)
			cp_put_fwd_release(req, false);
		cp_request_done(req);
	}
}

/* Process context, fwd_work: the payload went through; relay the owner's answer. */
static void fwd_answer(struct cp_request *req)
{
	struct cp_service *svc = req->conn->svc;
	struct cp_peer *p = req->peer;
	struct cp_resp r;
	int err = req->put_err;

	if (!p) {
		/* The owner could not be asked: it stored nothing. */
		cp_request_answer(req, CACHEPEER_S_BUSY);
		return;
	}
	fwd_unhook(req);
	req->peer = NULL;
	if (err) {
		/* The owner has part of a payload: it must never read on. */
		cp_peer_done(&svc->cluster.peers, p, false);
		cp_request_answer(req, CACHEPEER_S_BUSY);
		return;
	}
	/* A slow fsync is no reason to stop asking the owner. */
	err = cp_peer_answer(&svc->cluster.peers, p, &r, CP_PEER_COMMIT_MS, false);
	cp_request_write_answer(req, err, p, &r);
}

static void fwd_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);

	if (req->fwd == FWD_OPENING)
		fwd_open(req);
	else
		fwd_answer(req);
}

/*
 * Socket locked, any context, as dispatch: the PUT in req is forwarded.
 * Framing pauses for its payload, which put_work reads once fwd_open() has
 * published the request.
 */
void cp_put_fwd_start(struct cp_conn *conn, struct cp_request *req)
{
	conn->rx_state = RX_PAYLOAD;
	INIT_WORK(&req->work, fwd_work);
	queue_work(cp_peer_wq, &req->work);
}

/*
 * Process context, put_work: move payload bytes from the client to the
 * owner, or drop them after a failure (req->put_err). 0 once all of the
 * payload is read and sent on; -EAGAIN to wait for either socket; any
 * other error: the client's connection failed.
 */
int cp_put_fwd_pump(struct cp_conn *conn, struct cp_request *req)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };
	struct kvec kv;
	int n;

	for (;;) {
		if (req->fwd_len) {
			kv.iov_base = conn->put_buf + req->fwd_off;
			kv.iov_len = req->fwd_len;
			n = kernel_sendmsg(req->peer->sock, &msg, &kv, 1, kv.iov_len);
			if (n == -EAGAIN)
				return n;	/* fwd_write_space requeues us */
			if (n < 0) {
				cp_stats_inc(conn->svc->stats, CP_STAT_PEER_ERRORS);
				req->put_err = n;
				n = req->fwd_len;	/* drop the rest */
			}
			req->fwd_off += n;
			req->fwd_len -= n;
			continue;
		}
		if (req->sent == req->payload_len)
			return 0;
		kv.iov_base = conn->put_buf;
		kv.iov_len = min_t(u64, CP_PUT_CHUNK, req->payload_len - req->sent);
		n = kernel_recvmsg(conn->sock, &msg, &kv, 1, kv.iov_len, MSG_DONTWAIT);
		if (n == -EAGAIN)
			return n;		/* sk_data_ready requeues us */
		if (n <= 0)
			return n ?: -ECONNRESET;
		req->sent += n;
		WRITE_ONCE(conn->rx_bytes, conn->rx_bytes + n);
		WRITE_ONCE(conn->active, jiffies);
		if (req->peer && !req->put_err) {
			req->fwd_off = 0;
			req->fwd_len = n;
		}
	}
}

/* Process context, put_work: the payload is through; wait for the answer elsewhere. */
void cp_put_fwd_end(struct cp_request *req)
{
	/* From here on, as for every answer, the bytes of it sent. */
	req->sent = 0;
	req->fwd = FWD_ANSWER;
	queue_work(cp_peer_wq, &req->work);
}
