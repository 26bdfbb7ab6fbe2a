// SPDX-License-Identifier: GPL-2.0
/*
 * Links: one connection per member, multiplexed like a client's. Calls are
 * queued from any context (a forwarded GET is queued from the softirq that
 * parsed it), sent right there when the link is idle and its socket free,
 * else by the link's tx_work in batches, and answered out of order on the
 * link's receive path: sk_data_ready parses the answers in softirq, as
 * rx.c parses requests, and completes each call there. No worker waits for
 * a member; connecting and the HELLO (which block) run in connect_work,
 * tearing a connection down in close_work, both on cp_peer_wq.
 *
 * An answer's data is not copied: the link takes references on the pages
 * of the skbs it arrived in, so that the client's socket sends the very
 * pages the member sent. What lies in an skb's linear head (slab memory
 * TCP would not splice) and pieces under CP_LINK_REF_MIN (which would pin
 * a page each) are copied, packed into pages of the link's own. The skbs
 * themselves are consumed at once, so a client slow to read holds pages
 * against the node's relay budget (miss.c), never the link's receive
 * buffer: the link reads on for every other call.
 *
 * Lifetimes: a link stays in ps->links, socket or not, until it has been
 * idle for CP_PEER_IDLE_MS or the node stops; only cp_links_expire() frees
 * one, after its works and timer, and after an RCU grace period: calls
 * find their link under RCU, and one taken out is marked dead first. Its
 * socket belongs to connect_work until the link is UP, then to close_work
 * once the link is CLOSING. A failed connection or a member that stops
 * answering fails every call sent on it and, for CP_PEER_RETRY_MS, every
 * new one.
 *
 * Locks: the socket's (the receive path, sending, close_work), then
 * l->lock (the state, the calls, the counts); ps->links_lock, then
 * l->lock. A call made under a client's socket lock only tries the link's
 * (link_kick()), and an answer relayed to a client from the link's
 * receive path only tries the client's (tx.c). Calls are completed with
 * neither l->lock nor ps->links_lock held. ps->links_lock is taken to add
 * or remove a link, not to make a call.
 */

#include <linux/hash.h>
#include <linux/jhash.h>
#include <linux/slab.h>
#include <linux/timer.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "link.h"
#include "trace.h"

/*
 * Links per member: one per CPU of a small machine, so that neither the
 * member's answers to this node nor this node's parsing of them is one
 * connection's work on one CPU.
 */
#define CP_LINK_SLOTS		2
/* How often a link with calls in flight checks their deadlines. */
#define CP_LINK_TICK		(HZ / 4)
#define CP_LINK_TX_BUF		(16 * 1024)
#define CP_LINK_BUCKETS		16

enum {
	LINK_IDLE,		/* no socket */
	LINK_CONNECTING,	/* connect_work connects, then says HELLO */
	LINK_UP,
	LINK_CLOSING,		/* close_work closes the socket */
	LINK_FAILED,		/* no socket; no call before retry_at */
};

struct cp_link {
	struct hlist_node node;		/* in ps->links (RCU), under ps->links_lock */
	struct cp_peers *ps;
	union cp_addr addr;
	u32 slot;			/* which of the member's links */
	struct list_head gone;		/* cp_links_expire()'s, to free */
	struct rcu_head rcu;

	spinlock_t lock;		/* the fields to tx_buf */
	bool dead;			/* out of ps->links: take no call */
	int state;			/* link_recv() peeks without the lock */
	bool failed;			/* CLOSING: then FAILED, not IDLE */
	struct socket *sock;
	struct list_head sendq;		/* struct cp_call, to send */
	struct list_head calls[CP_LINK_BUCKETS];	/* sent, by id */
	u32 ncalls;			/* queued, sent or being answered */
	u32 nprompt;			/* sent, not yet answered whole, prompt */
	u64 next_id;
	unsigned long busy_since;	/* jiffies: nprompt became non-zero */
	unsigned long used;		/* jiffies: the last call */
	unsigned long retry_at;

	/* TX, in tx_work: requests written, not yet all sent */
	u8 *tx_buf;
	u32 tx_len;
	u32 tx_off;
	/*
	 * A call whose payload did not fit in tx_buf whole, and how much of
	 * it did; under l->lock, as the payload is copied under it alone:
	 * the call cannot end meanwhile, and ends the connection if it
	 * ends before its payload is written (the frame is broken).
	 */
	struct cp_call *tx_call;
	u32 tx_poff;
	bool tx_broken;			/* a payload was cut short: send no more */

	/* RX, under the socket lock */
	u8 rx_hdr[sizeof(struct cachepeer_resp)];
	u32 rx_got;
	u64 rx_left;			/* data bytes of the answer being read */
	struct cp_call *rx_call;	/* its call; NULL: data to drop */
	unsigned long rx_last;		/* jiffies: the last byte received */
	bool rx_timed;			/* an answer is being read, until */
	unsigned long rx_deadline;	/* (under l->lock, for the timer) */
	struct page *rx_copy;		/* where small pieces are copied to */
	u32 rx_copy_off;

	/* connect_work's socket, for a stopping node to cut short */
	struct mutex connect_mutex;
	struct socket *connecting;

	struct work_struct connect_work;
	struct work_struct tx_work;
	struct work_struct close_work;
	struct timer_list timer;

	/* The socket's own callbacks, put back before it closes. */
	void (*saved_data_ready)(struct sock *sk);
	void (*saved_write_space)(struct sock *sk);
	void (*saved_state_change)(struct sock *sk);
};

/* Softirq allocations for answers: bounded by the relay budget, not charged. */
#define CP_LINK_GFP	(GFP_NOWAIT | __GFP_NOWARN)

static struct list_head *link_bucket(struct cp_link *l, u64 id)
{
	return &l->calls[hash_64(id, ilog2(CP_LINK_BUCKETS))];
}

/*
 * A call the member should answer at once, unlike a PROBE, whose answer
 * waits for the member's own PING of a third: its silence meanwhile is no
 * sign of a stalled member (link_timer()).
 */
static bool call_prompt(const struct cp_call *call)
{
	return call->q.opcode != CACHEPEER_OP_PROBE;
}

/* Under l->lock: call went out (sent), or is no longer waited for. */
static void link_count_sent(struct cp_link *l, const struct cp_call *call, bool sent)
{
	lockdep_assert_held(&l->lock);
	if (!call_prompt(call))
		return;
	if (!sent)
		l->nprompt--;
	else if (!l->nprompt++)
		l->busy_since = jiffies;
}

/* Any context: the call ended with err; tell its caller. */
static void call_end(struct cp_call *call, int err)
{
	trace_cachepeer_peer_call(&call->to.sa, call->q.opcode, err, err ? 0 : call->r.status,
				  ktime_get_ns() - call->start);
	call->done(call, err);
}

/* Any context: end every call in list with err. */
static void calls_fail(struct list_head *list, int err)
{
	struct cp_call *call, *n;

	list_for_each_entry_safe(call, n, list, list) {
		list_del_init(&call->list);
		cp_pbuf_free(call->pb);
		call->pb = NULL;
		call_end(call, err);
	}
}

/* Under l->lock: take the sent calls, which the connection will not answer. */
static void link_take_sent(struct cp_link *l, struct list_head *out)
{
	int i;

	lockdep_assert_held(&l->lock);
	for (i = 0; i < CP_LINK_BUCKETS; i++)
		list_splice_init(&l->calls[i], out);
	l->tx_call = NULL;
}

static void link_count_out(struct cp_link *l, struct list_head *out)
{
	struct cp_call *call;

	lockdep_assert_held(&l->lock);
	list_for_each_entry(call, out, list)
		l->ncalls--;
}

/*
 * Under l->lock: the connection is done for; close it, and take its calls
 * sent into *dead, to be failed. failed: the member is not asked again for
 * CP_PEER_RETRY_MS.
 */
static void link_abort_locked(struct cp_link *l, bool failed, struct list_head *dead)
{
	lockdep_assert_held(&l->lock);
	if (l->state != LINK_UP)
		return;
	WRITE_ONCE(l->state, LINK_CLOSING);
	l->failed = failed;
	link_take_sent(l, dead);
	link_count_out(l, dead);
	queue_work(cp_peer_wq, &l->close_work);
}

/* Any context: as link_abort_locked(), and the calls sent fail with err. */
static void link_abort(struct cp_link *l, int err, bool failed)
{
	LIST_HEAD(dead);

	spin_lock_bh(&l->lock);
	link_abort_locked(l, failed, &dead);
	spin_unlock_bh(&l->lock);
	calls_fail(&dead, err);
}

/* Under l->lock: check deadlines while calls are in flight. */
static void link_arm(struct cp_link *l)
{
	lockdep_assert_held(&l->lock);
	if (!timer_pending(&l->timer))
		mod_timer(&l->timer, jiffies + CP_LINK_TICK);
}

/*
 * Under l->lock, tx_buf empty: fill it with the queued calls, the rest of
 * a payload begun first. A call is in l->calls from before its first byte
 * goes out, as its answer may come at once.
 */
static void link_fill(struct cp_link *l)
{
	struct cp_call *call;
	struct cachepeer_req h;

	lockdep_assert_held(&l->lock);
	l->tx_off = 0;
	l->tx_len = 0;
	for (;;) {
		call = l->tx_call;
		if (call) {
			u32 n = min_t(u64, CP_LINK_TX_BUF - l->tx_len,
				      call->q.payload_len - l->tx_poff);

			memcpy(l->tx_buf + l->tx_len, call->payload + l->tx_poff, n);
			l->tx_len += n;
			l->tx_poff += n;
			if (l->tx_poff < call->q.payload_len)
				return;
			l->tx_call = NULL;
		}
		call = list_first_entry_or_null(&l->sendq, struct cp_call, list);
		if (!call || l->tx_len + sizeof(h) + call->q.key_len > CP_LINK_TX_BUF)
			return;
		call->q.id = ++l->next_id;
		cp_proto_fill_req(&h, &call->q);
		memcpy(l->tx_buf + l->tx_len, &h, sizeof(h));
		if (call->q.key_len)
			memcpy(l->tx_buf + l->tx_len + sizeof(h), call->key, call->q.key_len);
		l->tx_len += sizeof(h) + call->q.key_len;
		list_move_tail(&call->list, link_bucket(l, call->q.id));
		link_count_sent(l, call, true);
		if (call->q.payload_len) {
			l->tx_call = call;
			l->tx_poff = 0;
		}
	}
}

/*
 * Under the link socket's lock: owned by tx_work, or bh-locked and not
 * owned (link_kick()), which excludes the other, so tx_buf is theirs
 * alone. Write the queued calls into tx_buf and send it, without
 * blocking; a full socket resumes tx_work from sk_write_space. sk is the
 * connection the caller locked: a link that closed, or
 * opened another, sends nothing on it. -EAGAIN: the socket took no more
 * (full, or out of memory with nothing in flight for an ACK to resume).
 *
 * Without MSG_MORE: a batch is already up to CP_LINK_TX_BUF, and a corked
 * tail whose followers timed out would wait for a probe timer.
 */
static int link_send(struct cp_link *l, struct sock *sk)
{
	for (;;) {
		struct kvec kv;
		struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };
		int ret;

		spin_lock_bh(&l->lock);
		if (l->state != LINK_UP || l->sock->sk != sk || l->tx_broken) {
			spin_unlock_bh(&l->lock);
			return 0;
		}
		if (l->tx_off == l->tx_len)
			link_fill(l);
		spin_unlock_bh(&l->lock);
		if (l->tx_off == l->tx_len)
			return 0;
		kv.iov_base = l->tx_buf + l->tx_off;
		kv.iov_len = l->tx_len - l->tx_off;
		iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &kv, 1, kv.iov_len);
		ret = tcp_sendmsg_locked(sk, &msg, kv.iov_len);
		if (ret < 0)
			return ret;
		l->tx_off += ret;
	}
}

/* tx_work: what link_kick() could not send, and what write_space resumes. */
static void link_tx_work(struct work_struct *work)
{
	struct cp_link *l = container_of(work, struct cp_link, tx_work);
	struct sock *sk;
	int err;

	/* close_work cancels this before it releases the socket. */
	spin_lock_bh(&l->lock);
	sk = l->state == LINK_UP ? l->sock->sk : NULL;
	spin_unlock_bh(&l->lock);
	if (!sk)
		return;
	lock_sock(sk);
	err = link_send(l, sk);
	release_sock(sk);
	/* Full: sk_write_space queues this again. */
	if (err && err != -EAGAIN)
		link_abort(l, err, false);
}

/* Softirq: send on the link's socket if it is free (only tried: see link_kick()). */
static int link_send_bh(struct cp_link *l, struct sock *sk)
{
	int err = -EAGAIN;
	gfp_t gfp;

	if (!spin_trylock(&sk->sk_lock.slock))
		return -EAGAIN;
	if (!sock_owned_by_user(sk)) {
		/* For tcp_sendmsg_locked()'s skbs; tx_work's stay GFP_KERNEL. */
		gfp = sk->sk_allocation;
		sk->sk_allocation = GFP_NOWAIT | __GFP_NOWARN;
		err = link_send(l, sk);
		sk->sk_allocation = gfp;
	}
	spin_unlock(&sk->sk_lock.slock);
	return err;
}

/*
 * Any context, l->lock not held, sk held for this, l by the caller's RCU
 * read section: calls were queued on a link with none before them. In
 * softirq (a forwarded GET just parsed) they go out right here if the
 * link's socket is free: tx_work would cost a wakeup and two task
 * switches per batch, on a path whose answers are parsed in softirq
 * anyway. The socket is only tried, since the caller may hold a client's
 * socket and the two have no fixed order; a busy socket, one that took no
 * more (tx_work retries, with GFP_KERNEL), an error (tx_work meets it
 * again, and closes the link) or another context leave the sending to
 * tx_work.
 */
static void link_kick(struct cp_link *l, struct sock *sk)
{
	int err = in_serving_softirq() ? link_send_bh(l, sk) : -EAGAIN;

	sock_put(sk);
	if (!err)
		return;
	/* Not after close_work cancelled it: link_free() would not again. */
	spin_lock_bh(&l->lock);
	if (l->state == LINK_UP)
		queue_work(cp_peer_tx_wq, &l->tx_work);
	spin_unlock_bh(&l->lock);
}

/*
 * Under the socket lock: take len bytes of skb from off on into call's
 * pages: references on its fragments, a copy of what lies in its head.
 */
static int link_grab(struct cp_link *l, struct cp_pbuf **pbp, const struct sk_buff *skb,
		     u32 off, u32 len);

static int pbuf_add(struct cp_pbuf **pbp, struct page *page, u32 off, u32 len)
{
	struct cp_pbuf *pb = *pbp, *bigger;

	if (pb->nbv == pb->cap) {
		/* On failure *pbp is still whole, for its owner to free. */
		bigger = krealloc(pb, struct_size(pb, bv, pb->cap * 2), CP_LINK_GFP);
		if (!bigger)
			return -ENOMEM;
		bigger->cap *= 2;
		*pbp = pb = bigger;
	}
	bvec_set_page(&pb->bv[pb->nbv++], page, len, off);
	return 0;
}

/*
 * Copy len bytes of skb from off on into the link's copy page, packed: a
 * piece that continues the call's last one extends its bvec. A member
 * that sends its answers in tiny segments costs a copy of them, and
 * neither a page pinned nor a bvec per segment.
 */
static int link_copy(struct cp_link *l, struct cp_pbuf **pbp, const struct sk_buff *skb,
		     u32 off, u32 len)
{
	struct bio_vec *last;
	u32 n;
	int err;

	while (len) {
		if (!l->rx_copy || l->rx_copy_off == PAGE_SIZE) {
			if (l->rx_copy)
				put_page(l->rx_copy);
			l->rx_copy = alloc_page(CP_LINK_GFP);
			if (!l->rx_copy)
				return -ENOMEM;
			l->rx_copy_off = 0;
		}
		n = min_t(u32, len, PAGE_SIZE - l->rx_copy_off);
		if (skb_copy_bits(skb, off, page_address(l->rx_copy) + l->rx_copy_off, n))
			return -EFAULT;
		last = (*pbp)->nbv ? &(*pbp)->bv[(*pbp)->nbv - 1] : NULL;
		if (last && last->bv_page == l->rx_copy &&
		    last->bv_offset + last->bv_len == l->rx_copy_off) {
			last->bv_len += n;
		} else {
			get_page(l->rx_copy);
			err = pbuf_add(pbp, l->rx_copy, l->rx_copy_off, n);
			if (err) {
				put_page(l->rx_copy);
				return err;
			}
		}
		l->rx_copy_off += n;
		off += n;
		len -= n;
	}
	return 0;
}

/*
 * Fragments are referenced, not copied, when a piece of at least
 * CP_LINK_REF_MIN bytes lies in them: a reference pins the fragment's
 * whole page, so smaller pieces are copied, and an answer holds at most a
 * page reference per KiB of the data the relay budget counts. A compound
 * page (a NIC's or virtio's order-3 receive buffer) is still pinned whole.
 */
#define CP_LINK_REF_MIN		1024

static int link_grab(struct cp_link *l, struct cp_pbuf **pbp, const struct sk_buff *skb,
		     u32 off, u32 len)
{
	u32 start = skb_headlen(skb), end, n, i;
	struct sk_buff *frag;
	int err;

	if (off < start) {
		n = min(len, start - off);
		err = link_copy(l, pbp, skb, off, n);
		if (err)
			return err;
		off += n;
		len -= n;
	}
	if (len && !skb_frags_readable(skb))
		return -EFAULT;
	for (i = 0; i < skb_shinfo(skb)->nr_frags && len; i++) {
		const skb_frag_t *f = &skb_shinfo(skb)->frags[i];
		struct page *page = skb_frag_page(f);

		end = start + skb_frag_size(f);
		if (off < end) {
			n = min(len, end - off);
			if (!page)
				return -EFAULT;
			if (n < CP_LINK_REF_MIN) {
				err = link_copy(l, pbp, skb, off, n);
			} else {
				get_page(page);
				err = pbuf_add(pbp, page, skb_frag_off(f) + off - start, n);
				if (err)
					put_page(page);
			}
			if (err)
				return err;
			off += n;
			len -= n;
		}
		start = end;
	}
	skb_walk_frags(skb, frag) {
		if (!len)
			break;
		end = start + frag->len;
		if (off < end) {
			n = min(len, end - off);
			err = link_grab(l, pbp, frag, off - start, n);
			if (err)
				return err;
			off += n;
			len -= n;
		}
		start = end;
	}
	return len ? -EFAULT : 0;
}

/*
 * Under l->lock: an answer of data_len bytes is being read, from its
 * header's first byte on. It has a deadline of its own, from now: a member
 * that trickles it holds neither the call nor the link for longer than
 * the answer's size allows.
 */
static void link_time(struct cp_link *l, u64 data_len)
{
	lockdep_assert_held(&l->lock);
	l->rx_timed = true;
	l->rx_deadline = jiffies + msecs_to_jiffies(CP_LINK_ANSWER_MS +
						    (data_len >> CP_LINK_RATE_SHIFT));
}

/* Under the socket lock: an answer's header is in; find its call. */
static int link_header(struct cp_link *l)
{
	struct cp_call *call, *found = NULL;
	struct cp_resp r;

	/* No answer is longer than a block can be: a member that says so is broken. */
	if (cp_proto_parse_resp((const struct cachepeer_resp *)l->rx_hdr, &r) ||
	    r.data_len > CACHEPEER_MAX_BLOCK_LIMIT)
		return -EBADMSG;
	spin_lock_bh(&l->lock);
	list_for_each_entry(call, link_bucket(l, r.id), list) {
		if (call->q.id == r.id) {
			found = call;
			break;
		}
	}
	if (found) {
		list_del_init(&found->list);
		/*
		 * Before its payload was whole: the member stopped reading it
		 * (it refused the call from its header, and closes). The
		 * framing is broken: nothing more goes out on this
		 * connection, which ends once this answer is read.
		 */
		if (found == l->tx_call) {
			l->tx_call = NULL;
			l->tx_broken = true;
		}
	}
	if (r.data_len)
		link_time(l, r.data_len);
	else
		l->rx_timed = false;
	spin_unlock_bh(&l->lock);
	l->rx_left = r.data_len;
	l->rx_call = found;
	/* Not found: it timed out, and its data is dropped. */
	if (!found)
		return 0;
	found->r = r;
	if (!r.data_len)
		return 0;
	found->err = found->admit ? found->admit(found) : -EBADMSG;
	if (!found->err) {
		u32 cap = min_t(u64, DIV_ROUND_UP(r.data_len, PAGE_SIZE), 1024) + 4;

		found->pb = kmalloc(struct_size(found->pb, bv, cap), CP_LINK_GFP);
		if (found->pb) {
			found->pb->len = r.data_len;
			found->pb->nbv = 0;
			found->pb->cap = cap;
		} else {
			found->err = -ENOMEM;
		}
	}
	return 0;
}

/* Under the socket lock: the answer being read is whole. */
static void link_answered(struct cp_link *l)
{
	struct cp_call *call = l->rx_call;
	bool broken;

	l->rx_call = NULL;
	l->rx_got = 0;
	spin_lock_bh(&l->lock);
	l->rx_timed = false;
	if (call) {
		l->ncalls--;
		link_count_sent(l, call, false);
	}
	broken = l->tx_broken;
	spin_unlock_bh(&l->lock);
	if (call) {
		if (call->err) {
			cp_pbuf_free(call->pb);
			call->pb = NULL;
		}
		call_end(call, call->err);
	}
	/* Not a failed member: calls queued go out on a new connection. */
	if (broken)
		link_abort(l, -ECONNRESET, false);
}

static int link_recv(read_descriptor_t *desc, struct sk_buff *skb, unsigned int off, size_t len)
{
	struct cp_link *l = desc->arg.data;
	size_t used = 0;
	u32 n;

	while (used < len) {
		if (READ_ONCE(l->state) != LINK_UP) {
			desc->count = 0;
			break;
		}
		if (l->rx_got < sizeof(l->rx_hdr)) {
			n = min_t(size_t, sizeof(l->rx_hdr) - l->rx_got, len - used);
			if (skb_copy_bits(skb, off + used, l->rx_hdr + l->rx_got, n))
				break;
			l->rx_got += n;
			used += n;
			if (l->rx_got < sizeof(l->rx_hdr)) {
				/* Split: the header alone is timed. */
				if (l->rx_got == n) {
					spin_lock_bh(&l->lock);
					link_time(l, 0);
					spin_unlock_bh(&l->lock);
				}
				continue;
			}
			desc->error = link_header(l);
			if (desc->error) {
				desc->count = 0;
				break;
			}
		} else {
			n = min_t(u64, l->rx_left, len - used);
			if (l->rx_call && !l->rx_call->err)
				l->rx_call->err = link_grab(l, &l->rx_call->pb, skb, off + used, n);
			l->rx_left -= n;
			used += n;
		}
		if (!l->rx_left)
			link_answered(l);
	}
	if (used)
		WRITE_ONCE(l->rx_last, jiffies);
	return used;
}

/* Under the socket lock and its callback lock: read the answers received. */
static void link_read(struct sock *sk, struct cp_link *l)
{
	read_descriptor_t desc = { .count = 1, .arg.data = l };

	tcp_read_sock(sk, &desc, link_recv);
	if (desc.error)
		link_abort(l, desc.error, true);
}

/* Softirq, or a task that owned the socket: answers arrived. */
static void link_data_ready(struct sock *sk)
{
	struct cp_link *l;

	read_lock_bh(&sk->sk_callback_lock);
	l = sk->sk_user_data;
	if (l)
		link_read(sk, l);
	read_unlock_bh(&sk->sk_callback_lock);
}

static void link_write_space(struct sock *sk)
{
	struct cp_link *l;

	read_lock_bh(&sk->sk_callback_lock);
	l = sk->sk_user_data;
	if (l && sk_stream_is_writeable(sk)) {
		/* Or TCP calls this again on every ACK. */
		clear_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		queue_work(cp_peer_tx_wq, &l->tx_work);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

/*
 * The member closed or reset the connection. A FIN is seen here before
 * sk_data_ready is told of the answers that came with it or before it:
 * they are read first, and only the calls still unanswered fail.
 */
static void link_state_change(struct sock *sk)
{
	struct cp_link *l;

	read_lock_bh(&sk->sk_callback_lock);
	l = sk->sk_user_data;
	if (l && sk->sk_state != TCP_ESTABLISHED) {
		if (sk->sk_state == TCP_CLOSE_WAIT)
			link_read(sk, l);
		link_abort(l, -ECONNRESET, false);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

/*
 * Timer: calls past their deadline fail; a member that sent nothing for
 * CP_PEER_TIMEOUT_MS while prompt calls waited for it, or sent an answer slower
 * than its size allows (link_time()), has its connection closed and is not
 * asked again for a while.
 */
static void link_timer(struct timer_list *t)
{
	struct cp_link *l = from_timer(l, t, timer);
	unsigned long now = jiffies, last;
	struct cp_call *call, *n;
	LIST_HEAD(stalled);
	LIST_HEAD(late);
	int i;

	spin_lock_bh(&l->lock);
	last = READ_ONCE(l->rx_last);
	if (time_before(last, l->busy_since))
		last = l->busy_since;
	/*
	 * Decided and done under one hold of the lock: this connection's.
	 * Before the late calls go, so that one whose deadline came first
	 * still shows the member silent.
	 */
	if ((l->nprompt && time_after(now, last + msecs_to_jiffies(CP_PEER_TIMEOUT_MS))) ||
	    (l->rx_timed && time_after(now, l->rx_deadline)))
		link_abort_locked(l, true, &stalled);
	/* A call cannot end with its payload half sent: its connection goes too. */
	if (l->tx_call && time_after(now, l->tx_call->deadline))
		link_abort_locked(l, false, &stalled);
	list_for_each_entry_safe(call, n, &l->sendq, list)
		if (time_after(now, call->deadline))
			list_move(&call->list, &late);
	for (i = 0; i < CP_LINK_BUCKETS; i++) {
		list_for_each_entry_safe(call, n, &l->calls[i], list) {
			if (time_after(now, call->deadline)) {
				list_move(&call->list, &late);
				link_count_sent(l, call, false);
			}
		}
	}
	link_count_out(l, &late);
	if (l->ncalls)
		mod_timer(&l->timer, now + CP_LINK_TICK);
	spin_unlock_bh(&l->lock);
	calls_fail(&late, -ETIMEDOUT);
	calls_fail(&stalled, -ETIMEDOUT);
}

/* Under the socket's callback lock: the link's own callbacks, or the socket's. */
static void link_hook(struct sock *sk, struct cp_link *l, bool on)
{
	if (on) {
		l->saved_data_ready = sk->sk_data_ready;
		l->saved_write_space = sk->sk_write_space;
		l->saved_state_change = sk->sk_state_change;
	}
	sk->sk_user_data = on ? l : NULL;
	sk->sk_data_ready = on ? link_data_ready : l->saved_data_ready;
	sk->sk_write_space = on ? link_write_space : l->saved_write_space;
	sk->sk_state_change = on ? link_state_change : l->saved_state_change;
}

static void link_hook_locked(struct socket *sock, struct cp_link *l, bool on)
{
	write_lock_bh(&sock->sk->sk_callback_lock);
	link_hook(sock->sk, l, on);
	write_unlock_bh(&sock->sk->sk_callback_lock);
}

/*
 * connect_work: connect and HELLO, then the link is UP and its queued
 * calls go out. If that fails, they fail, and so does every call for a
 * while. A node stopping meanwhile (CLOSING) takes nothing of this, and
 * does not wait for a member's timeouts: it shuts the socket down.
 */
static void link_connect_work(struct work_struct *work)
{
	struct cp_link *l = container_of(work, struct cp_link, connect_work);
	struct cp_peers *ps = l->ps;
	struct cp_peer tmp = {};
	LIST_HEAD(dead);
	int err;

	if (!l->tx_buf)
		l->tx_buf = kmalloc(CP_LINK_TX_BUF, GFP_KERNEL);
	err = l->tx_buf ? sock_create_kern(ps->net, l->addr.sa.sa_family, SOCK_STREAM,
					   IPPROTO_TCP, &tmp.sock) : -ENOMEM;
	if (!err) {
		/*
		 * Shown to cp_links_stop() before the state is looked at:
		 * a node that stops from here on shuts the connect down,
		 * and one that stopped before is seen here.
		 */
		mutex_lock(&l->connect_mutex);
		l->connecting = tmp.sock;
		mutex_unlock(&l->connect_mutex);
		spin_lock_bh(&l->lock);
		if (l->state != LINK_CONNECTING)
			err = -ESHUTDOWN;
		spin_unlock_bh(&l->lock);
		err = err ?: cp_peer_connect(&tmp, &l->addr, ps->keys);
		mutex_lock(&l->connect_mutex);
		l->connecting = NULL;
		mutex_unlock(&l->connect_mutex);
	}
	if (!err) {
		/* Calls are copied in from softirq too: the socket's page_frag. */
		tmp.sock->sk->sk_use_task_frag = false;
		link_hook_locked(tmp.sock, l, true);
	}
	spin_lock_bh(&l->lock);
	if (!err && l->state == LINK_CONNECTING) {
		l->sock = tmp.sock;
		tmp.sock = NULL;
		WRITE_ONCE(l->state, LINK_UP);
		l->failed = false;
		l->nprompt = 0;
		l->rx_got = 0;
		l->rx_timed = false;
		l->tx_len = 0;
		l->tx_off = 0;
		l->tx_call = NULL;
		l->tx_broken = false;
		WRITE_ONCE(l->rx_last, jiffies);
		cp_stats_inc(ps->stats, CP_STAT_PEER_CONNECTS);
		queue_work(cp_peer_tx_wq, &l->tx_work);
		/*
		 * A FIN or reset before UP found nothing to abort: now there
		 * is, and as a failed connect (no reconnecting in a loop).
		 */
		if (READ_ONCE(l->sock->sk->sk_state) != TCP_ESTABLISHED)
			link_abort_locked(l, true, &dead);
	} else {
		list_splice_init(&l->sendq, &dead);
		link_count_out(l, &dead);
		if (l->state == LINK_CONNECTING && err != -ENOMEM) {
			WRITE_ONCE(l->state, LINK_FAILED);
			l->retry_at = jiffies + msecs_to_jiffies(CP_PEER_RETRY_MS);
		} else {
			WRITE_ONCE(l->state, LINK_IDLE);
		}
	}
	spin_unlock_bh(&l->lock);
	if (tmp.sock) {
		if (!err)
			link_hook_locked(tmp.sock, l, false);
		sock_release(tmp.sock);
	}
	calls_fail(&dead, err ?: -ESHUTDOWN);
}

/*
 * close_work: the link is CLOSING, its sent calls failed. Unhook the
 * socket, so that no callback runs after this, fail the answer being read
 * and close (a reset: linger 0). Calls queued meanwhile go out on a new
 * connection, unless the member failed or the node stops.
 */
static void link_close_work(struct work_struct *work)
{
	struct cp_link *l = container_of(work, struct cp_link, close_work);
	struct socket *sock = l->sock;
	struct cp_call *call;
	LIST_HEAD(dead);

	link_hook_locked(sock, l, false);
	cancel_work_sync(&l->tx_work);
	lock_sock(sock->sk);
	call = l->rx_call;
	l->rx_call = NULL;
	l->rx_got = 0;
	release_sock(sock->sk);
	sock_release(sock);

	spin_lock_bh(&l->lock);
	l->sock = NULL;
	l->nprompt = 0;
	l->rx_timed = false;
	if (call)
		l->ncalls--;
	if (l->failed || !READ_ONCE(l->ps->links_open)) {
		list_splice_init(&l->sendq, &dead);
		link_count_out(l, &dead);
		WRITE_ONCE(l->state, l->failed ? LINK_FAILED : LINK_IDLE);
		l->retry_at = jiffies + msecs_to_jiffies(CP_PEER_RETRY_MS);
	} else if (!list_empty(&l->sendq)) {
		WRITE_ONCE(l->state, LINK_CONNECTING);
		queue_work(cp_peer_wq, &l->connect_work);
	} else {
		WRITE_ONCE(l->state, LINK_IDLE);
	}
	spin_unlock_bh(&l->lock);
	if (call)
		list_add(&call->list, &dead);
	calls_fail(&dead, -ECONNRESET);
}

static void link_setup(struct cp_link *l)
{
	int i;

	spin_lock_init(&l->lock);
	mutex_init(&l->connect_mutex);
	INIT_LIST_HEAD(&l->sendq);
	for (i = 0; i < CP_LINK_BUCKETS; i++)
		INIT_LIST_HEAD(&l->calls[i]);
	INIT_WORK(&l->connect_work, link_connect_work);
	INIT_WORK(&l->tx_work, link_tx_work);
	INIT_WORK(&l->close_work, link_close_work);
	timer_setup(&l->timer, link_timer, 0);
	WRITE_ONCE(l->state, LINK_IDLE);
}

/*
 * Under l->lock: queue call on l, connecting it if need be. Stop clears
 * links_open before it takes each link's lock, so a call queued here after
 * it took this one's sees that.
 */
static int link_queue(struct cp_peers *ps, struct cp_link *l, struct cp_call *call,
		      struct sock **kick)
{
	bool first;
	u32 most;

	lockdep_assert_held(&l->lock);
	if (!READ_ONCE(ps->links_open))
		return -ESHUTDOWN;
	switch (l->state) {
	case LINK_FAILED:
		if (time_before(jiffies, l->retry_at))
			return -EHOSTUNREACH;
		fallthrough;
	case LINK_IDLE:
		WRITE_ONCE(l->state, LINK_CONNECTING);
		queue_work(cp_peer_wq, &l->connect_work);
		break;
	}
	if (l->ncalls >= CP_LINK_CALLS_MAX)
		return -EBUSY;
	/* A sender, running or due, sends what is queued behind it. */
	first = list_empty(&l->sendq);
	list_add_tail(&call->list, &l->sendq);
	l->ncalls++;
	l->used = jiffies;
	most = READ_ONCE(ps->calls_max);
	while (l->ncalls > most && !try_cmpxchg(&ps->calls_max, &most, l->ncalls))
		;
	link_arm(l);
	if (first && l->state == LINK_UP) {
		*kick = l->sock->sk;
		sock_hold(*kick);
	}
	return 0;
}

/*
 * Any context: queue call on the link to the member at addr, opening it if
 * need be. 0: call->done() follows, once; else it never does.
 */
int cp_link_call(struct cp_peers *ps, const union cp_addr *addr, struct cp_call *call)
{
	/* The link of the CPU's slot: the member's work spread over its CPUs. */
	u32 slot = raw_smp_processor_id() % CP_LINK_SLOTS;
	u32 h = jhash(addr, cp_addr_len(addr), slot);
	struct hlist_head *head = &ps->links[h % ARRAY_SIZE(ps->links)];
	struct cp_link *l, *fresh = NULL;
	struct sock *kick = NULL;
	int err;

	call->deadline = jiffies + msecs_to_jiffies(call->ms ?: CP_LINK_ANSWER_MS);
	call->pb = NULL;
	call->err = 0;
	call->to = *addr;
	call->start = ktime_get_ns();
	for (;;) {
		rcu_read_lock();
		hlist_for_each_entry_rcu(l, head, node) {
			if (l->slot != slot || memcmp(&l->addr, addr, cp_addr_len(addr)))
				continue;
			spin_lock_bh(&l->lock);
			err = l->dead ? -EAGAIN : link_queue(ps, l, call, &kick);
			spin_unlock_bh(&l->lock);
			if (kick) {
				link_kick(l, kick);
				kick = NULL;
			}
			if (err != -EAGAIN) {
				rcu_read_unlock();
				kfree(fresh);
				return err;
			}
		}
		rcu_read_unlock();

		/* None: add one, unless another CPU did meanwhile. */
		if (!fresh) {
			fresh = kzalloc(sizeof(*fresh), CP_LINK_GFP);
			if (!fresh)
				return -ENOMEM;
			fresh->ps = ps;
			fresh->addr = *addr;
			fresh->slot = slot;
			link_setup(fresh);
		}
		spin_lock_bh(&ps->links_lock);
		if (!ps->links_open) {
			spin_unlock_bh(&ps->links_lock);
			/* Never added: nothing of it ran. */
			kfree(fresh);
			return -ESHUTDOWN;
		}
		hlist_for_each_entry(l, head, node)
			if (l->slot == slot && !memcmp(&l->addr, addr, cp_addr_len(addr)))
				break;
		if (!l) {
			hlist_add_head_rcu(&fresh->node, head);
			fresh = NULL;
		}
		spin_unlock_bh(&ps->links_lock);
	}
}

/* Process context: l is out of ps->links, and has no socket or call. */
static void link_free(struct cp_link *l)
{
	timer_shutdown_sync(&l->timer);
	flush_work(&l->connect_work);
	flush_work(&l->close_work);
	cancel_work_sync(&l->tx_work);
	WARN_ON(l->sock || l->ncalls);
	if (l->rx_copy)
		put_page(l->rx_copy);
	mutex_destroy(&l->connect_mutex);
	kfree(l->tx_buf);
	/* A call may still be looking at it, and finds it dead. */
	kfree_rcu(l, rcu);
}

void cp_links_init(struct cp_peers *ps)
{
	int i;

	mutex_init(&ps->links_mutex);
	spin_lock_init(&ps->links_lock);
	for (i = 0; i < ARRAY_SIZE(ps->links); i++)
		INIT_HLIST_HEAD(&ps->links[i]);
}

/* The node runs: calls may be made. */
void cp_links_start(struct cp_peers *ps)
{
	spin_lock_bh(&ps->links_lock);
	WRITE_ONCE(ps->calls_max, 0);
	WRITE_ONCE(ps->links_open, true);
	spin_unlock_bh(&ps->links_lock);
}

/*
 * Process context: the node stops. Every call fails, every connection is
 * closed, and the links are freed when this returns.
 */
void cp_links_stop(struct cp_peers *ps)
{
	struct cp_link *l;
	LIST_HEAD(dead);
	int i;

	mutex_lock(&ps->links_mutex);
	spin_lock_bh(&ps->links_lock);
	WRITE_ONCE(ps->links_open, false);
	for (i = 0; i < ARRAY_SIZE(ps->links); i++) {
		hlist_for_each_entry(l, &ps->links[i], node) {
			LIST_HEAD(out);

			spin_lock(&l->lock);
			list_splice_init(&l->sendq, &out);
			if (l->state == LINK_UP) {
				l->failed = false;
				link_take_sent(l, &out);
				queue_work(cp_peer_wq, &l->close_work);
			}
			/* connect_work, or close_work, ends it. */
			if (l->state == LINK_UP || l->state == LINK_CONNECTING)
				WRITE_ONCE(l->state, LINK_CLOSING);
			link_count_out(l, &out);
			list_splice(&out, &dead);
			spin_unlock(&l->lock);
		}
	}
	spin_unlock_bh(&ps->links_lock);
	calls_fail(&dead, -ESHUTDOWN);
	/*
	 * Nothing adds a link now, and only expiry (links_mutex) removes one.
	 * A connect or HELLO under way is cut short, not waited out.
	 */
	for (i = 0; i < ARRAY_SIZE(ps->links); i++) {
		hlist_for_each_entry(l, &ps->links[i], node) {
			mutex_lock(&l->connect_mutex);
			if (l->connecting)
				kernel_sock_shutdown(l->connecting, SHUT_RDWR);
			mutex_unlock(&l->connect_mutex);
			flush_work(&l->connect_work);
			flush_work(&l->close_work);
		}
	}
	mutex_unlock(&ps->links_mutex);
	cp_links_expire(ps, true);
}

/*
 * Any context: the calls in flight on every link, queued or sent; and in
 * *most, the most that one link held at once since the node started.
 */
u64 cp_links_calls(struct cp_peers *ps, u32 *most)
{
	struct cp_link *l;
	u64 n = 0;
	int i;

	spin_lock_bh(&ps->links_lock);
	*most = READ_ONCE(ps->calls_max);
	for (i = 0; i < ARRAY_SIZE(ps->links); i++)
		hlist_for_each_entry(l, &ps->links[i], node) {
			spin_lock(&l->lock);
			n += l->ncalls;
			spin_unlock(&l->lock);
		}
	spin_unlock_bh(&ps->links_lock);
	return n;
}

/*
 * Process context: close the connections idle for CP_PEER_IDLE_MS, and
 * free the links without one; all: every link, the node stopped.
 */
void cp_links_expire(struct cp_peers *ps, bool all)
{
	unsigned long idle = msecs_to_jiffies(CP_PEER_IDLE_MS), now = jiffies;
	struct hlist_node *tmp;
	struct cp_link *l, *n;
	LIST_HEAD(gone);
	int i;

	mutex_lock(&ps->links_mutex);
	spin_lock_bh(&ps->links_lock);
	for (i = 0; i < ARRAY_SIZE(ps->links); i++) {
		hlist_for_each_entry_safe(l, tmp, &ps->links[i], node) {
			bool quiet;

			spin_lock(&l->lock);
			quiet = all || (!l->ncalls && time_after(now, l->used + idle));
			if (quiet && (l->state == LINK_IDLE ||
				      (l->state == LINK_FAILED &&
				       (all || time_after(now, l->retry_at))))) {
				hlist_del_rcu(&l->node);
				l->dead = true;
				list_add(&l->gone, &gone);
			} else if (quiet && l->state == LINK_UP) {
				WRITE_ONCE(l->state, LINK_CLOSING);
				l->failed = false;
				queue_work(cp_peer_wq, &l->close_work);
			}
			spin_unlock(&l->lock);
		}
	}
	spin_unlock_bh(&ps->links_lock);
	mutex_unlock(&ps->links_mutex);
	list_for_each_entry_safe(l, n, &gone, gone)
		link_free(l);
}
