// SPDX-License-Identifier: GPL-2.0
/*
 * One client connection: its lifetime, its socket callbacks, and where its
 * work runs. How requests are read is rx.c's, what a request does
 * request.c's, how responses go out tx.c's, and what a connection may hold
 * of its node, and for how long, bounds.c's.
 *
 * Lifetime: the connection holds a reference of its own from creation until
 * conn_close(), every request and every queued close_work or fin_work one
 * more; the last put frees it from a worker. Death is a state: conn_close()
 * detaches the callbacks, sets dead (after which nothing queues a response or
 * an rx_work), then cancels every work item and drops what was queued.
 *
 * A connection ends gracefully when it has answered all it will answer
 * (the client half-closed, or a frame broke framing): a FIN follows the
 * bytes still in the socket, and it is released once that FIN is
 * acknowledged, or reset if the peer stops acknowledging (the stall timer).
 * It is reset at once on errors, at node stop and at namespace exit: a
 * kernel socket holds no reference on its namespace, so none is ever left
 * to TCP as an orphan.
 */

#include <linux/net.h>
#include <linux/slab.h>
#include <net/tcp.h>

#include "conn_priv.h"
#include "trace.h"

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
	cp_conn_source_put(conn);
	if (conn->key) {
		if (conn->role)
			atomic_dec(&conn->key->conns);
		cp_key_put(conn->key);
	}
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

static void fin_work(struct work_struct *work)
{
	struct cp_conn *conn = container_of(work, struct cp_conn, fin_work);

	if (!test_bit(CONN_CLOSED, &conn->flags)) {
		kernel_sock_shutdown(conn->sock, SHUT_WR);
		/* The FIN is outstanding now: its ACK must come in time. */
		lock_sock(conn->sock->sk);
		cp_conn_stall_arm(conn);
		release_sock(conn->sock->sk);
	}
	cp_conn_put(conn);		/* cp_conn_finish()'s */
}

/*
 * Any context, holding a reference: the connection answers nothing more.
 * What it has queued in the socket goes out, then a FIN; conn_state_change()
 * closes it when the FIN is acknowledged.
 */
void cp_conn_finish(struct cp_conn *conn)
{
	if (test_bit(CONN_CLOSED, &conn->flags) || test_and_set_bit(CONN_FIN, &conn->flags))
		return;
	cp_conn_get(conn);
	if (!queue_work(cp_wq, &conn->fin_work))
		cp_conn_put(conn);
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
	WRITE_ONCE(conn->tx_held, true);
	spin_unlock(&conn->tx_lock);
	cp_conn_read_frames(conn);
	cp_tx_direct(conn);
	spin_lock(&conn->tx_lock);
	WRITE_ONCE(conn->tx_held, false);
	kick = conn->tx_cur || !list_empty(&conn->tx_queue);
	spin_unlock(&conn->tx_lock);
	if (kick)
		cp_conn_queue(conn, &conn->tx_work);
}

static void conn_data_ready(struct sock *sk)
{
	struct mem_cgroup *memcg;
	struct cp_conn *conn;

	read_lock_bh(&sk->sk_callback_lock);
	conn = sk->sk_user_data;
	if (likely(conn)) {
		memcg = cp_conn_memcg(conn);
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
		set_active_memcg(memcg);
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

/* What the socket's TCP state means for the connection. */
static void conn_state(struct cp_conn *conn, int state)
{
	switch (state) {
	case TCP_ESTABLISHED:
	case TCP_SYN_RECV:	/* a Fast Open child, accepted early */
		break;
	case TCP_CLOSE_WAIT:
		/* Half-closed: answer what was asked, then finish. */
		set_bit(CONN_EOF, &conn->flags);
		cp_conn_kick_rx(conn);
		break;
	case TCP_FIN_WAIT1:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		break;		/* our FIN is out: its ACK will tell */
	default:
		/* Our FIN acknowledged (FIN_WAIT2, TIME_WAIT, CLOSE), or reset. */
		cp_conn_schedule_close(conn);
		break;
	}
}

static void conn_state_change(struct sock *sk)
{
	struct cp_conn *conn;

	read_lock_bh(&sk->sk_callback_lock);
	conn = sk->sk_user_data;
	if (likely(conn))
		conn_state(conn, sk->sk_state);
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
	cp_conn_bounds_stop(conn);
	if (cancel_work_sync(&conn->fin_work))
		cp_conn_put(conn);	/* cp_conn_finish()'s, which fin_work did not drop */
	cancel_work_sync(&conn->rx_work);
	cancel_work_sync(&conn->put_work);
	cancel_work_sync(&conn->tx_work);

	kernel_sock_shutdown(conn->sock, SHUT_RDWR);
	drop_queued(conn);
	trace_cachepeer_conn_close((struct sockaddr *)&conn->peer, conn->rx_bytes, conn->tx_bytes,
				   div_u64(ktime_get_ns() - conn->born, NSEC_PER_MSEC));

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

/*
 * Process context, from the accept worker. Takes over sock on success.
 * -EMFILE: the node has all the connections it may; -EUSERS: so has the
 * client's address; -ENOMEM.
 */
int cp_conn_create(struct cp_service *svc, struct socket *sock)
{
	struct mem_cgroup *memcg = set_active_memcg(svc->memcg);
	struct sock *sk = sock->sk;
	struct cp_source *spare;
	struct cp_conn *conn;
	int err;

	/* The node's memory cgroup pays for the connection; TCP's for the socket. */
	conn = kzalloc(sizeof(*conn), CP_GFP);
	spare = cp_conn_source_alloc();
	set_active_memcg(memcg);
	if (!conn || !spare) {
		kfree(conn);
		kfree(spare);
		return -ENOMEM;
	}
	if (kernel_getpeername(sock, (struct sockaddr *)&conn->peer) < 0)
		conn->peer.ss_family = AF_UNSPEC;
	conn->member = conn->peer.ss_family != AF_UNSPEC &&
		       cp_cluster_is_member(&svc->cluster, (struct sockaddr *)&conn->peer);
	conn->svc = svc;
	conn->sock = sock;
	refcount_set(&conn->ref, 1);
	spin_lock_init(&conn->tx_lock);
	INIT_LIST_HEAD(&conn->tx_queue);
	INIT_WORK(&conn->rx_work, cp_rx_work);
	INIT_WORK(&conn->put_work, cp_request_put_work);
	INIT_WORK(&conn->tx_work, cp_tx_work);
	INIT_WORK(&conn->fin_work, fin_work);
	INIT_WORK(&conn->close_work, close_work);
	INIT_WORK(&conn->free_work, conn_free_work);
	timer_setup(&conn->frame_timer, cp_rx_frame_timeout, 0);
	conn->home_cpu = conn_pick_cpu();
	conn->cpu = conn->home_cpu;
	conn->born = ktime_get_ns();
	cp_conn_bounds_init(conn);

	spin_lock_bh(&svc->conns_lock);
	err = cp_conn_admit(svc, conn, &spare);
	if (!err) {
		atomic_inc(&svc->nconns);
		list_add_tail(&conn->link, &svc->conns);
		conns_changed(svc);
	}
	spin_unlock_bh(&svc->conns_lock);
	kfree(spare);
	if (err) {
		cp_conn_bounds_stop(conn);
		kfree(conn);
		return err;
	}

	trace_cachepeer_conn_open((struct sockaddr *)&conn->peer, 0, 0, 0);
	tcp_sock_set_nodelay(sk);
	sock_no_linger(sk);
	/*
	 * Small answers are copied into the socket, from softirq too: through
	 * the socket's own page_frag, never the interrupted task's.
	 */
	sk->sk_use_task_frag = false;

	/* The child inherited the listener's callbacks; replace them. */
	lock_sock(sk);
	cp_conn_sndbuf(conn);
	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_user_data = conn;
	sk->sk_data_ready = conn_data_ready;
	sk->sk_write_space = conn_write_space;
	sk->sk_state_change = conn_state_change;
	write_unlock_bh(&sk->sk_callback_lock);
	/*
	 * Bytes may have arrived before the callbacks were in place, and the
	 * client may have half-closed already (or gone).
	 */
	cp_conn_rx_locked(conn);
	conn_state(conn, sk->sk_state);
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

/* Process context: close the connections that use key (or are proving it). */
void cp_conn_close_key(struct cp_service *svc, const struct cp_key *key)
{
	struct cp_conn *conn;

	spin_lock_bh(&svc->conns_lock);
	list_for_each_entry(conn, &svc->conns, link)
		if (READ_ONCE(conn->key) == key)
			cp_conn_schedule_close(conn);
	spin_unlock_bh(&svc->conns_lock);
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
		ci.queued = atomic_long_read(&conn->queued);
		ci.pinned = atomic_long_read(&conn->pinned);
		ci.member = conn->member;
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
