// SPDX-License-Identifier: GPL-2.0
/*
 * RX: a connection's requests, framed as they arrive.
 *
 * RX runs from sk_data_ready with the socket lock held (bh_lock_sock in
 * softirq; lock_sock in tx_work's backlog processing, or in rx_work when some
 * other task owned the socket), through tcp_read_sock(). Each whole frame
 * (header and key, cp_frame_got()) is handed to cp_request_dispatch(),
 * which answers what it can without sleeping and gives the rest to workers.
 * A PUT payload is read by put_work in process context while the parser
 * waits for the frame to end.
 *
 * At most CP_INFLIGHT_MAX requests are in flight per connection, and what
 * they hold is bounded (bounds.c); at a bound the parser stops reading,
 * bytes stay in the socket and TCP flow control pushes back on the client.
 * rx_work reads on when there is room, and decides when a connection has
 * answered all it will answer.
 */

#include <net/tcp.h>

#include "conn_priv.h"

static int recv_actor(read_descriptor_t *desc, struct sk_buff *skb, unsigned int offset,
		      size_t len)
{
	struct cp_conn *conn = desc->arg.data;
	struct cp_frame *f = &conn->rx;
	size_t used = 0;

	while (used < len) {
		u16 status;
		u32 n;

		if (conn->rx_state != RX_FRAME || conn->rx_paused || conn->rx_retry) {
			desc->count = 0;
			break;
		}
		n = min_t(size_t, cp_frame_want(f), len - used);
		if (skb_copy_bits(skb, offset + used, f->buf + f->len, n))
			break;
		used += n;
		switch (cp_frame_got(f, n, conn->svc->max_block, &status)) {
		case CP_FRAME_MORE:
			continue;
		case CP_FRAME_BAD:
			cp_conn_rx_end(conn);
			cp_request_reject(conn, status);
			continue;
		case CP_FRAME_WHOLE:
			break;
		}
		if (cp_request_dispatch(conn, CP_GFP_ATOMIC)) {
			conn->rx_retry = true;	/* rx_work retries, as a worker may */
			cp_conn_kick_rx(conn);
			continue;
		}
		cp_frame_reset(f);
		/* A PUT's frame goes on with its payload. */
		if (conn->rx_state == RX_FRAME)
			conn->rx_frame_done = true;
		cp_conn_check_bounds(conn);
	}
	WRITE_ONCE(conn->rx_bytes, conn->rx_bytes + used);
	if (used)
		WRITE_ONCE(conn->active, jiffies);
	return used;
}

/*
 * Every frame, header to the end of its payload, must arrive within the
 * node's frame timeout: the deadline is set when a frame's first bytes come
 * in and set again when a frame ends, so a pipeline that keeps moving is
 * never cut, and bytes trickling into one frame do not keep it open.
 */
static void frame_timer_update(struct cp_conn *conn)
{
	bool done = conn->rx_frame_done;

	conn->rx_frame_done = false;
	if (conn->rx.len || conn->rx_state == RX_PAYLOAD) {
		if (done || !timer_pending(&conn->frame_timer))
			mod_timer(&conn->frame_timer,
				  jiffies + msecs_to_jiffies(conn->svc->frame_timeout_ms));
	} else {
		timer_delete(&conn->frame_timer);
	}
}

/* Parse what the socket holds, as far as the RX state allows. */
void cp_conn_read_frames(struct cp_conn *conn)
{
	read_descriptor_t desc = { .arg.data = conn, .count = 1 };

	/* The RX state belongs to whoever holds the socket. */
	lockdep_assert(lockdep_sock_is_held(conn->sock->sk));
	if (conn->rx_state == RX_FRAME && !conn->rx_paused && !conn->rx_retry)
		tcp_read_sock(conn->sock->sk, &desc, recv_actor);
	frame_timer_update(conn);
}

void cp_rx_frame_timeout(struct timer_list *t)
{
	struct cp_conn *conn = from_timer(conn, t, frame_timer);

	cp_stats_inc(conn->svc->stats, CP_STAT_TIMEOUTS);
	cp_conn_schedule_close(conn);
}

/*
 * rx_work, socket locked: a whole frame waits because softirq found no
 * memory for it. Try again, as a worker may; if the memory is not there
 * (the node's memory cgroup is at its limit) wait for an answer in flight
 * to give some back, or, with none in flight, give up on the connection.
 * Returns non-zero while the frame still waits.
 */
static int rx_retry(struct cp_conn *conn)
{
	if (cp_request_dispatch(conn, CP_GFP)) {
		if (atomic_read(&conn->inflight)) {
			WRITE_ONCE(conn->rx_paused, true);
			return -ENOMEM;
		}
		cp_stats_inc(conn->svc->stats, CP_STAT_CONNS_REFUSED_MEMORY);
		cp_conn_schedule_close(conn);
		return -ENOMEM;
	}
	conn->rx_retry = false;
	cp_frame_reset(&conn->rx);
	conn->rx_frame_done = true;
	cp_conn_check_bounds(conn);
	return 0;
}

/* Socket locked: the connection will read nothing more. */
void cp_conn_rx_end(struct cp_conn *conn)
{
	conn->rx_state = RX_STOPPED;
	set_bit(CONN_RX_END, &conn->flags);
}

/*
 * rx_work, socket locked: has the connection answered everything it will
 * ever answer? After a frame that broke framing, once its answers are out;
 * after the client's FIN, once every frame before it has been read and
 * answered.
 */
static bool rx_done(struct cp_conn *conn)
{
	if (atomic_read(&conn->inflight))
		return false;
	if (conn->rx_state == RX_STOPPED)
		return true;
	return test_bit(CONN_EOF, &conn->flags) && conn->rx_state == RX_FRAME &&
	       !conn->rx_paused && !conn->rx_retry && !conn->rx.len &&
	       skb_queue_empty(&conn->sock->sk->sk_receive_queue);
}

/*
 * Process context, socket locked: read frames, charging the node's memory
 * cgroup for what they hold. The window closes before release_sock(): the
 * backlog it processes is TCP's, and TCP's allocations are not the node's.
 */
void cp_conn_rx_locked(struct cp_conn *conn)
{
	struct mem_cgroup *memcg = cp_conn_memcg(conn);

	cp_conn_read_frames(conn);
	set_active_memcg(memcg);
}

void cp_rx_work(struct work_struct *work)
{
	struct cp_conn *conn = container_of(work, struct cp_conn, rx_work);
	struct sock *sk = conn->sock->sk;
	struct mem_cgroup *memcg;
	bool done = false;
	int err;

	lock_sock(sk);
	if (conn->rx_retry) {
		memcg = cp_conn_memcg(conn);
		err = rx_retry(conn);
		set_active_memcg(memcg);
		if (err)
			goto out;
	}
	if (conn->rx_paused && cp_conn_may_resume(conn))
		WRITE_ONCE(conn->rx_paused, false);
	cp_conn_rx_locked(conn);
	done = rx_done(conn);
out:
	release_sock(sk);
	if (done)
		cp_conn_finish(conn);
}
