// SPDX-License-Identifier: GPL-2.0
/*
 * Sending responses, in whatever order their requests finish.
 *
 * TX is tx_work: one per connection, so it never runs concurrently with
 * itself; it runs where the connection's segments are received, or on a
 * CPU given to the connection when that is the client's own (conn.c), and
 * owns the send state while it holds the socket. A shallow connection's
 * small responses may instead go out from the softirq that parsed their
 * requests (cp_tx_direct()), when a worker would buy no parallelism, and
 * answers relayed from another member from the softirq their answer
 * arrived in (tx_relay()).
 * Headers come from a page_frag (TCP cannot splice slab memory), data are
 * page-cache folios spliced into the skb, which takes its own folio
 * references; small answers from private pages are copied. Small responses
 * are coalesced with MSG_MORE while more are queued.
 */

#include <linux/moduleparam.h>
#include <linux/pagemap.h>
#include <linux/sched/stat.h>
#include <linux/uio.h>
#include <net/tcp.h>

#include "conn_priv.h"

#define CP_TX_DIRECT_INFLIGHT	4		/* cp_tx_direct(): a shallow connection */
#define CP_TX_DIRECT_MAX	(64 * 1024)	/* softirq TX: a small response */
/*
 * Answers from private pages up to this size are copied into the socket,
 * not spliced. A spliced fragment keeps its whole page until the peer is
 * done with it, and TCP accounts only for the fragment: a ring or redirect
 * answer of a hundred bytes would pin a page each, four hundred times what
 * the receiver's buffer is charged (a client that never reads could pin
 * gigabytes with a loopback socket's buffer). Big relays fill their pages.
 */
#define CP_TX_COPY_MAX		(64 * 1024)
/*
 * The same holds for page-cache data: GET ranges shorter than this are
 * copied, so that a reader of one byte per page cannot pin the cache at
 * four thousand times what it is charged. From here on a range pins at
 * most about twice its bytes.
 */
#define CP_TX_SPLICE_MIN	(16 * 1024)

/*
 * The architecture sends from process context only; cp_tx_direct() and
 * tx_relay() are the exceptions, and this turns them off at run time for
 * every node.
 */
static bool softirq_tx = true;
module_param(softirq_tx, bool, 0644);
MODULE_PARM_DESC(softirq_tx,
		 "Send small responses from softirq: a shallow connection's, where they were parsed, and those relayed from another member, where its answer arrived. Default: Y");

static bool tx_relay(struct cp_request *req);

/* Any context: req's response is ready; send it when its turn comes. */
void cp_tx_queue(struct cp_request *req)
{
	struct cp_conn *conn = req->conn;

	if (in_serving_softirq() && tx_relay(req))
		return;
	spin_lock_bh(&conn->tx_lock);
	if (conn->dead) {
		spin_unlock_bh(&conn->tx_lock);
		cp_request_done(req);
		return;
	}
	list_add_tail(&req->list, &conn->tx_queue);
	/*
	 * Under the lock: once it is dropped, conn_close() may set dead,
	 * cancel tx_work and free req, and with it the last reference
	 * this caller had on the connection.
	 */
	if (!conn->tx_held)
		cp_conn_queue(conn, &conn->tx_work);
	spin_unlock_bh(&conn->tx_lock);
}

/*
 * tx_work sends a whole batch of responses under one lock_sock(): taking the
 * socket per response made TX spin on the socket's spinlock against the
 * softirq parsing the next requests. Segments that arrive meanwhile wait in
 * the backlog, which tx_work flushes after every send; frames in them are
 * parsed right there (cp_tx_owns()).
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

/* Batches a response may read back from disk in a row before it gives up. */
#define CP_TX_VERIFY_TRIES	3

/* The uptodate folios from the start of fb, at most; 0 if the first is not. */
static unsigned int uptodate_prefix(struct folio_batch *fb)
{
	unsigned int i;

	for (i = 0; i < folio_batch_count(fb); i++)
		if (!folio_test_uptodate(fb->folios[i]))
			break;
	return i;
}

/*
 * Process context: the page-cache folios holding block bytes [boff, end) of
 * req, from boff on, at most max of them, taken with one walk of the
 * mapping. Returns how many of them (from fb->folios[0]) may be sent, or an
 * error; the caller drops the references in fb.
 *
 * A folio evicted since the request was checked is read back with the rest
 * of this batch's segments and verified, one batch at a time, so that a
 * long response keeps moving while the disk works; the header is out, so a
 * failure can only end the connection, and bad bytes are never sent. The
 * folios sent are then those verify read (or found), taken from the page
 * cache again, never read here. From softirq TX (tx_direct()), which
 * cannot wait for the disk, that is all -EWOULDBLOCK.
 */
static int tx_folios(struct cp_conn *conn, struct cp_request *req, u64 boff, u64 end,
		     unsigned int max, struct folio_batch *fb, bool direct)
{
	struct address_space *mapping = req->bf->file->f_mapping;
	pgoff_t first = boff >> PAGE_SHIFT;
	pgoff_t last = min_t(pgoff_t, (end - 1) >> PAGE_SHIFT, first + max - 1);
	unsigned int tries;
	pgoff_t index;
	int err;

	for (tries = 0; ; tries++) {
		/* The batch is contiguous and starts with the folio holding boff. */
		index = first;
		filemap_get_folios_contig(mapping, &index, last, fb);
		err = uptodate_prefix(fb);
		if (err)
			return err;
		tx_folios_put(fb);
		if (direct)
			return -EWOULDBLOCK;
		if (tries == CP_TX_VERIFY_TRIES)
			return -EIO;	/* evicted as fast as it is read */

		/* Disk reads: let the socket work on without us meanwhile. */
		tx_unlock(conn);
		err = cp_block_verify(&conn->svc->store, req->block, req->bf, boff,
				      min_t(u64, end, (u64)(last + 1) << PAGE_SHIFT) - boff);
		tx_lock(conn);
		if (err)
			return err;
	}
}

/*
 * Under tx_lock(), or from softirq TX (tx_direct()): send what is left of
 * one response. Returns 0 when it is all queued in the socket, -EAGAIN when
 * the socket is full (sk_write_space resumes tx_work), -EWOULDBLOCK when
 * softirq TX must leave the rest to tx_work, or an error that ends the
 * connection.
 */
static int send_response(struct cp_conn *conn, struct cp_request *req, bool more, bool direct)
{
	struct socket *sock = conn->sock;
	u64 total = CP_RESP_LEN + req->len;
	bool sg = sock->sk->sk_route_caps & NETIF_F_SG;
	struct folio_batch *fb = &conn->tx_fb;
	struct bio_vec *bv = conn->tx_bv;
	bool splice = req->pbuf ? req->len > CP_TX_COPY_MAX :
		      !req->body && req->len >= CP_TX_SPLICE_MIN;
	int flags = MSG_DONTWAIT | MSG_NOSIGNAL | (splice ? MSG_SPLICE_PAGES : 0);

	sock_owned_by_me(sock->sk);
	if (!req->hdr) {
		struct cp_resp r = {
			.id = req->id,
			.status = req->status,
			.data_len = req->len,
			.block_size = req->block_size,
			.crc = req->crc,
			.epoch = READ_ONCE(conn->svc->cluster.epoch),
		};

		struct mem_cgroup *memcg = cp_conn_memcg(conn);

		req->hdr = page_frag_alloc(&conn->pfc, CP_RESP_LEN,
					   direct ? CP_GFP_ATOMIC : CP_GFP);
		set_active_memcg(memcg);
		if (!req->hdr)
			return direct ? -EWOULDBLOCK : -ENOMEM;
		cp_proto_fill_resp(req->hdr, &r);
	}
	folio_batch_init(fb);
	while (req->sent < total) {
		struct msghdr msg = { .msg_flags = flags };
		u64 pos = req->sent, bytes = 0, data;
		int n = 0, ret = 0, i;

		if (pos < CP_RESP_LEN) {
			bvec_set_virt(&bv[n++], (u8 *)req->hdr + pos, CP_RESP_LEN - pos);
			bytes = CP_RESP_LEN - pos;
			pos = CP_RESP_LEN;
		}
		if (req->body && pos < total) {
			bvec_set_virt(&bv[n++], (u8 *)req->body + pos - CP_RESP_LEN, total - pos);
			bytes += total - pos;
			pos = total;
		} else if (req->pbuf) {
			while (n < CP_TX_BVECS && pos < total) {
				bv[n] = cp_pbuf_next(req->pbuf, pos - CP_RESP_LEN, total - pos,
						     &req->pbuf_cur);
				bytes += bv[n].bv_len;
				pos += bv[n++].bv_len;
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
		cp_conn_stall_arm(conn);
		data = req->sent + ret > CP_RESP_LEN ?
		       req->sent + ret - max_t(u64, req->sent, CP_RESP_LEN) : 0;
		if (!req->pbuf && !req->body && data)	/* GET data from the page cache */
			cp_stats_add(conn->svc->stats,
				     sg && splice ? CP_STAT_ZC_BYTES : CP_STAT_COPIED_BYTES, data);
		WRITE_ONCE(conn->tx_bytes, conn->tx_bytes + ret);
		WRITE_ONCE(conn->active, jiffies);
		req->sent += ret;
		if (ret < bytes)
			return -EAGAIN;
	}
	return 0;
}

/*
 * After a send error the connection is reset. (One with nothing more to
 * answer ends gracefully: cp_request_done() and rx_work see to that.)
 */
static void tx_error(struct cp_conn *conn, int err)
{
	if (err == -ENOMEM)
		cp_stats_inc(conn->svc->stats, CP_STAT_CONNS_REFUSED_MEMORY);
	cp_conn_schedule_close(conn);
}

void cp_tx_work(struct work_struct *work)
{
	struct cp_conn *conn = container_of(work, struct cp_conn, tx_work);
	struct cp_request *req;
	int ret = 0;
	bool more;

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
		if (ret == -EAGAIN) {
			ret = 0;
			break;
		}
		conn->tx_cur = NULL;
		cp_request_done(req);
		if (ret)
			break;
	}
	/* Responses to frames parsed from the backlog here requeue us. */
	tx_unlock(conn);
	if (ret)
		tx_error(conn, ret);
}

/*
 * Softirq, the socket bh-locked and not owned by a task: send the queued
 * small responses whose bytes are at hand, without sleeping: folios
 * uptodate, no allocation that may wait or dip into the reserves, until
 * budget bytes have gone (the last response may take it past). What is
 * left stays queued, or in tx_cur, for tx_work.
 */
static void tx_direct(struct cp_conn *conn, u32 budget)
{
	struct sock *sk = conn->sock->sk;
	gfp_t gfp = sk->sk_allocation;
	struct cp_request *req;
	u64 sent = 0;
	bool more;
	int ret;

	lockdep_assert(lockdep_sock_is_held(sk));
	/* Without scatter-gather MSG_SPLICE_PAGES would copy the folios. */
	if (conn->tx_cur || !(sk->sk_route_caps & NETIF_F_SG) || !sk_stream_memory_free(sk))
		return;
	/* For tcp_sendmsg_locked()'s skbs; tx_work's stay GFP_KERNEL. */
	sk->sk_allocation = GFP_NOWAIT | __GFP_NOWARN;
	while (sent < budget) {
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
		sent += CP_RESP_LEN + req->len;
		ret = send_response(conn, req, more, true);
		if (ret == -EAGAIN || ret == -EWOULDBLOCK) {
			conn->tx_cur = req;
			break;
		}
		cp_stats_inc(conn->svc->stats, CP_STAT_SOFTIRQ_TX);
		cp_request_done(req);
		if (ret) {
			tx_error(conn, ret);
			break;
		}
	}
	sk->sk_allocation = gfp;
}

/*
 * Softirq, after the frames were read, with the socket bh-locked and not
 * owned by a task: send a shallow connection's queued responses right here,
 * when this CPU runs other tasks than the one the softirq interrupted, or
 * none. A worker would then buy no parallelism, only a wakeup and a switch
 * to it and back per request, for a client that waits for each answer. A
 * deep pipeline, or a CPU running just one task (on loopback, the client
 * that sent the request), keeps tx_work on the connection's CPU: there TX
 * runs beside the parsing, as conn.c's CPU placement intends. espintcp
 * sends from softirq the same way.
 */
void cp_tx_direct(struct cp_conn *conn)
{
	if (READ_ONCE(softirq_tx) && atomic_read(&conn->inflight) <= CP_TX_DIRECT_INFLIGHT &&
	    !single_task_running())
		tx_direct(conn, U32_MAX);
}

/*
 * Softirq, on a path that does not hold the connection's socket: a link's
 * receive path (link.c), whose answer completed req, or its timer. Queue
 * req and send what is queued from here, up to CP_TX_DIRECT_MAX bytes, if
 * the socket is free, rather than wake tx_work for each relayed answer: a
 * wakeup and two task switches on a path that is all softirq otherwise.
 * Deep pipelines too, as no parsing of the client's requests runs here for
 * TX to keep pace with. The socket is only tried, as the caller holds the
 * link's and the two have no fixed order (link_kick() tries the other way
 * round); tx_held set is the connection's own receive softirq, maybe this
 * one, whose lock is not tried at all. False: req is not queued, the
 * caller queues it for tx_work.
 *
 * Lifetime: req's reference keeps the connection until req is sent; from
 * then on the connection's own does, as conn_close() sets dead before it
 * takes the socket (kernel_sock_shutdown()), which waits for this.
 */
static bool tx_relay(struct cp_request *req)
{
	struct cp_conn *conn = req->conn;
	struct sock *sk = conn->sock->sk;
	bool held;

	if (!READ_ONCE(softirq_tx) || READ_ONCE(conn->tx_held) ||
	    !spin_trylock(&sk->sk_lock.slock))
		return false;
	spin_lock(&conn->tx_lock);
	held = sock_owned_by_user(sk) || conn->dead || conn->tx_held;
	if (!held) {
		list_add_tail(&req->list, &conn->tx_queue);
		WRITE_ONCE(conn->tx_held, true);
	}
	spin_unlock(&conn->tx_lock);
	if (held) {
		spin_unlock(&sk->sk_lock.slock);
		return false;
	}
	tx_direct(conn, CP_TX_DIRECT_MAX);
	spin_lock(&conn->tx_lock);
	WRITE_ONCE(conn->tx_held, false);
	if (!conn->dead && (conn->tx_cur || !list_empty(&conn->tx_queue)))
		cp_conn_queue(conn, &conn->tx_work);
	spin_unlock(&conn->tx_lock);
	spin_unlock(&sk->sk_lock.slock);
	return true;
}
