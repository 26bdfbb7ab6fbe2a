// SPDX-License-Identifier: GPL-2.0
/*
 * What one client may hold of its node (svc->climits): connections, per
 * node and per source address; memory for answers not yet sent and the
 * page-cache data they come to, per connection and per node; and time, for
 * a connection that is idle or acknowledges nothing it is sent.
 *
 * At a queue bound the parser stops, as at the in-flight bound: bytes stay
 * in the socket and TCP pushes back on the client. It reads on once the
 * connection (and the node) are back under three quarters of their bounds,
 * so that it does not stop at every frame. Connections from ring members
 * carry the cluster's forwards, hand-offs and pushes: they get
 * CP_MEMBER_BOUNDS times the queue bounds, and no source limit or idle
 * timeout.
 */

#include <linux/hash.h>
#include <linux/slab.h>
#include <net/ipv6.h>
#include <net/tcp.h>

#include "conn_priv.h"

/* Connections from one IPv4 address or IPv6 /64, under svc->conns_lock. */
struct cp_source {
	struct hlist_node node;
	u64 prefix;			/* the address, or its first 64 bits */
	u16 family;
	u32 conns;
};

void cp_conn_limits_default(struct cp_conn_limits *cl)
{
	*cl = (struct cp_conn_limits) {
		.max_conns = 16384,
		.max_per_source = 256,
		.conn_queue = 4 << 20,
		.node_queue = 256 << 20,
		.conn_pin = 64 << 20,
		.idle_timeout_s = 600,
	};
}

/* NULL if cl can be applied, else why not. */
const char *cp_conn_limits_check(const struct cp_conn_limits *cl)
{
	if (cl->conn_queue > cl->node_queue)
		return "the connection queue bound is larger than the node's";
	return NULL;
}

static void source_key(const struct sockaddr_storage *ss, u16 *family, u64 *prefix)
{
	const struct sockaddr_in6 *sin6 = (const void *)ss;
	const struct sockaddr_in *sin = (const void *)ss;

	if (ss->ss_family == AF_INET6 && !ipv6_addr_v4mapped(&sin6->sin6_addr)) {
		*family = AF_INET6;
		*prefix = get_unaligned_be64(&sin6->sin6_addr);
	} else {
		*family = AF_INET;
		*prefix = ss->ss_family == AF_INET6 ? ntohl(sin6->sin6_addr.s6_addr32[3]) :
						      ntohl(sin->sin_addr.s_addr);
	}
}

/*
 * svc->conns_lock held: count conn against its source, which spare (freshly
 * allocated, taken if used) becomes if it has no entry yet; -EUSERS at the
 * per-source limit.
 */
static int source_get(struct cp_service *svc, struct cp_conn *conn, struct cp_source **spare)
{
	u32 max = READ_ONCE(svc->climits.max_per_source);
	struct hlist_head *head;
	struct cp_source *src;
	u64 prefix;
	u16 family;

	lockdep_assert_held(&svc->conns_lock);
	source_key(&conn->peer, &family, &prefix);
	head = &svc->sources[hash_64(prefix ^ family, CP_SOURCE_BITS)];
	hlist_for_each_entry(src, head, node)
		if (src->prefix == prefix && src->family == family)
			break;
	if (!src) {
		src = *spare;
		*spare = NULL;
		src->prefix = prefix;
		src->family = family;
		src->conns = 0;
		hlist_add_head(&src->node, head);
	} else if (max && src->conns >= max) {
		return -EUSERS;
	}
	src->conns++;
	conn->source = src;
	return 0;
}

/*
 * Process context, svc->conns_lock held: may conn join the node? -EMFILE at
 * the node's limit, -EUSERS at its source's. spare is a cp_source from
 * cp_conn_source_alloc(), or NULL for a member; it is set to NULL if taken.
 */
int cp_conn_admit(struct cp_service *svc, struct cp_conn *conn, struct cp_source **spare)
{
	lockdep_assert_held(&svc->conns_lock);
	if (atomic_read(&svc->nconns) >= READ_ONCE(svc->climits.max_conns))
		return -EMFILE;
	return conn->member ? 0 : source_get(svc, conn, spare);
}

struct cp_source *cp_conn_source_alloc(void)
{
	return kmalloc(sizeof(struct cp_source), CP_GFP);
}

/* Process context: conn leaves its source's count. */
void cp_conn_source_put(struct cp_conn *conn)
{
	struct cp_service *svc = conn->svc;
	struct cp_source *src = conn->source;

	if (!src)
		return;
	spin_lock_bh(&svc->conns_lock);
	if (!--src->conns) {
		hlist_del(&src->node);
		kfree(src);
	}
	spin_unlock_bh(&svc->conns_lock);
	conn->source = NULL;
}

static u64 queue_max(struct cp_conn *conn)
{
	return READ_ONCE(conn->svc->climits.conn_queue) * (conn->member ? CP_MEMBER_BOUNDS : 1);
}

static u64 pin_max(struct cp_conn *conn)
{
	return READ_ONCE(conn->svc->climits.conn_pin) * (conn->member ? CP_MEMBER_BOUNDS : 1);
}

/*
 * Socket locked, or its bounds changed: answers handed to TCP stay in
 * memory until they are acknowledged, so the socket's send buffer is
 * bounded as the connection's queue is, and not autotuned past it.
 */
static void set_sndbuf(struct cp_conn *conn)
{
	WRITE_ONCE(conn->sock->sk->sk_sndbuf,
		   clamp_t(u64, queue_max(conn), SOCK_MIN_SNDBUF, INT_MAX));
}

void cp_conn_sndbuf(struct cp_conn *conn)
{
	conn->sock->sk->sk_userlocks |= SOCK_SNDBUF_LOCK;
	set_sndbuf(conn);
}

/* Any context: bytes of memory held for the connection's answers. */
void cp_conn_charge(struct cp_conn *conn, long bytes)
{
	atomic_long_add(bytes, &conn->queued);
	atomic_long_add(bytes, &conn->svc->queued);
}

/*
 * Is the node's queue at limit (its bound, to stop; 3/4 of it, to read on)
 * for conn? Not for a connection holding less than an even share of the
 * node's bound: a few heavy connections must not stop all the others. So
 * the node may hold up to twice its bound, the second half in light
 * connections' shares.
 */
static bool node_over(struct cp_conn *conn, u64 limit)
{
	struct cp_service *svc = conn->svc;
	u64 share = atomic_long_read(&conn->queued) * max(atomic_read(&svc->nconns), 1);

	return atomic_long_read(&svc->queued) >= limit &&
	       share >= READ_ONCE(svc->climits.node_queue);
}

/*
 * Connections are paused for the node: once it has room again, every
 * connection it paused reads on. queue_full is set by a connection that
 * the node's queue alone keeps paused, before it looks at the queue for the
 * last time (cp_conn_may_resume()); this reads it after the queue shrank,
 * so one of the two sees the other. Lock order: conns_lock, then a
 * connection's tx_lock.
 */
static void node_maybe_resume(struct cp_service *svc)
{
	struct cp_conn *conn;

	smp_mb__after_atomic();		/* the uncharge before queue_full */
	if (!READ_ONCE(svc->queue_full) ||
	    atomic_long_read(&svc->queued) >= READ_ONCE(svc->climits.node_queue) / 4 * 3 ||
	    !xchg(&svc->queue_full, false))
		return;
	spin_lock_bh(&svc->conns_lock);
	list_for_each_entry(conn, &svc->conns, link)
		if (READ_ONCE(conn->rx_paused))
			cp_conn_kick_rx(conn);
	spin_unlock_bh(&svc->conns_lock);
}

/* Any context: cp_conn_charge()'s bytes given back. */
void cp_conn_uncharge(struct cp_conn *conn, long bytes)
{
	atomic_long_sub(bytes, &conn->queued);
	atomic_long_sub(bytes, &conn->svc->queued);
	node_maybe_resume(conn->svc);
}

/*
 * Socket locked, after a frame was dispatched (which charged what it
 * holds): read no more while any bound is reached.
 */
void cp_conn_check_bounds(struct cp_conn *conn)
{
	struct cp_service *svc = conn->svc;
	bool node = node_over(conn, READ_ONCE(svc->climits.node_queue));

	if (atomic_read(&conn->inflight) < CP_INFLIGHT_MAX && !node &&
	    atomic_long_read(&conn->queued) < queue_max(conn) &&
	    atomic_long_read(&conn->pinned) < pin_max(conn))
		return;
	if (node)
		WRITE_ONCE(svc->queue_full, true);
	if (!conn->rx_paused) {
		WRITE_ONCE(conn->rx_paused, true);
		cp_stats_inc(svc->stats, CP_STAT_QUEUE_PAUSES);
	}
}

/*
 * Room to read on, with some to spare. If the node's queue is all that
 * keeps conn paused, node_maybe_resume() is asked to wake it.
 */
bool cp_conn_may_resume(struct cp_conn *conn)
{
	struct cp_service *svc = conn->svc;
	u64 node = READ_ONCE(svc->climits.node_queue) / 4 * 3;

	if (atomic_read(&conn->inflight) >= CP_INFLIGHT_RESUME ||
	    atomic_long_read(&conn->queued) >= queue_max(conn) / 4 * 3 ||
	    atomic_long_read(&conn->pinned) >= pin_max(conn) / 4 * 3)
		return false;
	if (!node_over(conn, node))
		return true;
	WRITE_ONCE(svc->queue_full, true);
	smp_mb();			/* queue_full before the queue */
	return !node_over(conn, node);
}

/* Any context: an answer was sent or dropped; a paused connection may read on. */
void cp_conn_maybe_resume(struct cp_conn *conn)
{
	if (READ_ONCE(conn->rx_paused) && cp_conn_may_resume(conn))
		cp_conn_kick_rx(conn);
}

/*
 * Socket locked, after bytes were handed to TCP: watch that the peer
 * acknowledges them. A reader that lets a whole frame timeout pass without
 * acknowledging anything it was sent is closed: it holds the node's memory
 * and page cache, and would hold a finishing connection open for good.
 */
void cp_conn_stall_arm(struct cp_conn *conn)
{
	if (timer_pending(&conn->stall_timer))
		return;
	WRITE_ONCE(conn->stall_una, READ_ONCE(tcp_sk(conn->sock->sk)->snd_una));
	mod_timer(&conn->stall_timer, jiffies + msecs_to_jiffies(conn->svc->frame_timeout_ms));
}

/*
 * Process context: the node's bounds changed. Every connection looks at
 * them again: a paused one may read on, an idle one may be past its time.
 */
void cp_conn_limits_changed(struct cp_service *svc)
{
	struct cp_conn *conn;

	spin_lock_bh(&svc->conns_lock);
	list_for_each_entry(conn, &svc->conns, link) {
		set_sndbuf(conn);
		if (!conn->member)
			mod_timer(&conn->idle_timer, jiffies);
		if (READ_ONCE(conn->rx_paused))
			cp_conn_kick_rx(conn);
	}
	spin_unlock_bh(&svc->conns_lock);
}

/* Timer: racy reads of the sequence numbers are fine for a deadline. */
static void stall_timeout(struct timer_list *t)
{
	struct cp_conn *conn = from_timer(conn, t, stall_timer);
	const struct tcp_sock *tp = tcp_sk(conn->sock->sk);
	u32 una = READ_ONCE(tp->snd_una);

	if (una == READ_ONCE(tp->write_seq)) {
		/*
		 * All acknowledged: the next send arms again. A finishing
		 * connection still here has a FIN that never left (its skb
		 * could not be had): it goes now.
		 */
		if (test_bit(CONN_FIN, &conn->flags) &&
		    READ_ONCE(conn->sock->sk->sk_shutdown) & SEND_SHUTDOWN)
			cp_conn_schedule_close(conn);
		return;
	}
	if (una != READ_ONCE(conn->stall_una)) {
		WRITE_ONCE(conn->stall_una, una);
		mod_timer(&conn->stall_timer,
			  jiffies + msecs_to_jiffies(conn->svc->frame_timeout_ms));
		return;
	}
	cp_stats_inc(conn->svc->stats, CP_STAT_TX_STALLS);
	cp_conn_schedule_close(conn);
}

/*
 * Timer: a connection with nothing in flight and no byte either way for
 * the idle timeout goes. With the timeout off, look again in a minute, in
 * case it is turned on.
 */
static void idle_timeout(struct timer_list *t)
{
	struct cp_conn *conn = from_timer(conn, t, idle_timer);
	unsigned long idle = READ_ONCE(conn->svc->climits.idle_timeout_s) * HZ;
	unsigned long since = jiffies - READ_ONCE(conn->active);

	if (!idle) {
		mod_timer(&conn->idle_timer, jiffies + 60 * HZ);
	} else if (atomic_read(&conn->inflight) || since < idle) {
		mod_timer(&conn->idle_timer, jiffies + (since < idle ? idle - since : idle));
	} else {
		cp_stats_inc(conn->svc->stats, CP_STAT_IDLE_CLOSES);
		cp_conn_schedule_close(conn);
	}
}

/* A new connection's timers; the idle timer runs for clients only. */
void cp_conn_bounds_init(struct cp_conn *conn)
{
	timer_setup(&conn->stall_timer, stall_timeout, 0);
	timer_setup(&conn->idle_timer, idle_timeout, 0);
	conn->active = jiffies;
	if (!conn->member)
		idle_timeout(&conn->idle_timer);
}

/* conn_close(): no timer fires from here on. */
void cp_conn_bounds_stop(struct cp_conn *conn)
{
	timer_shutdown_sync(&conn->stall_timer);
	timer_shutdown_sync(&conn->idle_timer);
}
