// SPDX-License-Identifier: GPL-2.0
/*
 * One client connection: its lifetime, its socket callbacks, the framing of
 * requests as they arrive, and where its work runs. What a request does is
 * request.c's; how responses go out is tx.c's.
 *
 * RX runs from sk_data_ready with the socket lock held (bh_lock_sock in
 * softirq; lock_sock in tx_work's backlog processing, or in rx_work when some
 * other task owned the socket), through tcp_read_sock(). Each whole frame
 * (header and key) is validated and handed to cp_request_dispatch(), which
 * answers what it can without sleeping and gives the rest to workers. A PUT
 * payload is read by put_work in process context while the parser waits
 * for the frame to end.
 *
 * At most CP_INFLIGHT_MAX requests are in flight per connection; beyond that
 * the parser stops reading, bytes stay in the socket and TCP flow control
 * pushes back on the client.
 *
 * Lifetime: the connection holds a reference of its own from creation until
 * conn_close(), every request and every queued close_work one more; the last
 * put frees it from a worker. Death is a state: conn_close() detaches the
 * callbacks, sets dead (after which nothing queues a response or an
 * rx_work), then cancels every work item and drops what was queued.
 */

#include <linux/net.h>
#include <linux/slab.h>
#include <net/tcp.h>

#include "conn_priv.h"

/* RX resumption and TX, per connection on the CPU conn_cpu() gives it. */
static struct workqueue_struct *cp_tx_wq __ro_after_init;
struct workqueue_struct *cp_wq __ro_after_init;

void cp_conn_get(struct cp_conn *conn)
{
	refcount_inc(&conn->ref);
}

/* rx_work or tx_work, on the connection's CPU (conn_cpu()). */
void cp_conn_queue(struct cp_conn *conn, struct work_struct *work)
{
	queue_work_on(READ_ONCE(conn->cpu), cp_tx_wq, work);
}

/*
 * rx_work from outside the socket's callbacks (a request finished in a
 * worker, a failed dispatch), unless conn_close() has begun: it sets dead
 * and then cancels rx_work once, so a later kick would run it on a freed
 * connection.
 */
void cp_conn_kick_rx(struct cp_conn *conn)
{
	spin_lock_bh(&conn->tx_lock);
	if (!conn->dead)
		cp_conn_queue(conn, &conn->rx_work);
	spin_unlock_bh(&conn->tx_lock);
}

/* The last put may come from softirq; the release sleeps, so defer it. */
void cp_conn_put(struct cp_conn *conn)
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
void cp_conn_schedule_close(struct cp_conn *conn)
{
	if (test_bit(CONN_CLOSED, &conn->flags))
		return;
	cp_conn_get(conn);
	if (!queue_work(cp_wq, &conn->close_work))
		cp_conn_put(conn);
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
				conn->rx_state = RX_STOPPED;
				cp_request_reject(conn, status);
				continue;
			}
			if (r->key_len)
				continue;
		}
		if (cp_request_dispatch(conn, GFP_ATOMIC)) {
			conn->rx_retry = true;	/* rx_work retries with GFP_KERNEL */
			cp_conn_kick_rx(conn);
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

static void frame_timeout(struct timer_list *t)
{
	struct cp_conn *conn = from_timer(conn, t, frame_timer);

	cp_stats_inc(conn->svc->stats, CP_STAT_TIMEOUTS);
	cp_conn_schedule_close(conn);
}

static void rx_work(struct work_struct *work)
{
	struct cp_conn *conn = container_of(work, struct cp_conn, rx_work);
	struct sock *sk = conn->sock->sk;

	lock_sock(sk);
	if (conn->rx_retry) {
		if (cp_request_dispatch(conn, GFP_KERNEL)) {
			release_sock(sk);
			cp_conn_schedule_close(conn);
			return;
		}
		conn->rx_retry = false;
		conn->rx_len = 0;
	}
	if (conn->rx_paused && atomic_read(&conn->inflight) < CP_INFLIGHT_RESUME)
		WRITE_ONCE(conn->rx_paused, false);
	cp_conn_read_frames(conn);
	release_sock(sk);
	if (test_bit(CONN_EOF, &conn->flags) && !atomic_read(&conn->inflight))
		cp_conn_schedule_close(conn);
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
 * it here (cp_tx_direct()) or wake tx_work once for all of it, not once per
 * response. Responses queued meanwhile by workers wait for the same kick.
 */
static void rx_softirq(struct cp_conn *conn)
{
	bool kick;

	conn_cpu(conn);
	spin_lock(&conn->tx_lock);
	conn->tx_held = true;
	spin_unlock(&conn->tx_lock);
	cp_conn_read_frames(conn);
	cp_tx_direct(conn);
	spin_lock(&conn->tx_lock);
	conn->tx_held = false;
	kick = conn->tx_cur || !list_empty(&conn->tx_queue);
	spin_unlock(&conn->tx_lock);
	if (kick)
		cp_conn_queue(conn, &conn->tx_work);
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
			cp_conn_queue(conn, &conn->rx_work);
		else if (!sock_owned_by_user_nocheck(sk) && !in_task())
			rx_softirq(conn);
		else if (!sock_owned_by_user_nocheck(sk) || cp_tx_owns(conn))
			cp_conn_read_frames(conn);
		else
			cp_conn_queue(conn, &conn->rx_work);
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
		cp_conn_queue(conn, &conn->tx_work);
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
			cp_conn_queue(conn, &conn->rx_work);
		} else if (sk->sk_state != TCP_ESTABLISHED) {
			cp_conn_schedule_close(conn);
		}
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

/* After conn_close() has cancelled every work item: nobody else holds these. */
static void drop_queued(struct cp_conn *conn)
{
	struct cp_request *req, *tmp;

	list_for_each_entry_safe(req, tmp, &conn->tx_queue, list) {
		list_del(&req->list);
		cp_request_done(req);
	}
	if (conn->tx_cur) {
		cp_request_done(conn->tx_cur);
		conn->tx_cur = NULL;
	}
	if (conn->put_req) {
		cp_request_done(conn->put_req);
		conn->put_req = NULL;
	}
}

/*
 * The connection list changed: a new generation, never 0, which
 * nl_dump_check_consistent() would take for "not checked".
 */
static void conns_changed(struct cp_service *svc)
{
	lockdep_assert_held(&svc->conns_lock);
	svc->conns_gen = svc->conns_gen + 1 ?: 1;
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
	conns_changed(svc);
	spin_unlock_bh(&svc->conns_lock);
	cp_conn_put(conn);		/* the connection's own reference */
}

static void close_work(struct work_struct *work)
{
	struct cp_conn *conn = container_of(work, struct cp_conn, close_work);

	conn_close(conn);
	cp_conn_put(conn);		/* cp_conn_schedule_close()'s */
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
	INIT_WORK(&conn->put_work, cp_request_put_work);
	INIT_WORK(&conn->tx_work, cp_tx_work);
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
	conns_changed(svc);
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
	cp_conn_read_frames(conn);
	if (sk->sk_state != TCP_ESTABLISHED)
		cp_conn_schedule_close(conn);
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
		cp_conn_schedule_close(conn);
	spin_unlock_bh(&svc->conns_lock);
	wait_var_event(&svc->nconns, !atomic_read(&svc->nconns));
}

/*
 * Report the node's connections, from the skip'th on, to fn until it returns
 * non-zero. fn runs under a spinlock and must not sleep. Returns the number
 * of connections fn accepted; *gen is the list's generation they come from,
 * so that a listing made in parts can tell whether the list changed between
 * them.
 */
unsigned long cp_conn_for_each(struct cp_service *svc, unsigned long skip, u32 *gen,
			       int (*fn)(const struct cp_conn_info *ci, void *arg), void *arg)
{
	u64 now = ktime_get_ns();
	unsigned long done = 0;
	struct cp_conn *conn;

	spin_lock_bh(&svc->conns_lock);
	*gen = svc->conns_gen;
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
	int err = cp_request_init();

	if (err)
		return err;
	cp_wq = alloc_workqueue("cachepeer", WQ_UNBOUND, 0);
	if (!cp_wq)
		goto err_req;
	cp_tx_wq = alloc_workqueue("cachepeer_tx", WQ_HIGHPRI, 0);
	if (!cp_tx_wq)
		goto err_wq;
	return 0;

err_wq:
	destroy_workqueue(cp_wq);
err_req:
	cp_request_uninit();
	return -ENOMEM;
}

void cp_conn_uninit(void)
{
	destroy_workqueue(cp_tx_wq);
	destroy_workqueue(cp_wq);
	/* Blocks are freed by call_rcu() into this module. */
	rcu_barrier();
	cp_request_uninit();
}
