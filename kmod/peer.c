// SPDX-License-Identifier: GPL-2.0
/*
 * The node as a client of other members, for the one call that blocks:
 * a forwarded PUT, framed by the same codec (proto.c) as client requests.
 * Every other call (forwarded GETs and DELs, hand-off fetches, pushes,
 * PINGs and PROBEs) goes over the links of link.c and blocks no one. A
 * forwarded PUT streams a payload its client paces: on a link, a slow
 * client would hold up every call queued behind it, so it takes a
 * connection of its own for the call. Calls here block, with
 * CP_PEER_TIMEOUT_MS on every step, so they run only in workers on
 * cp_peer_wq; a dead member costs a worker that long, once per
 * CP_PEER_RETRY_MS, and no more. One call at a time per connection, over
 * connections a pool keeps per member (struct cp_peers).
 *
 * The sockets are kernel sockets in the node's namespace, which hold no
 * reference on it: every caller is a work item the node waits for before
 * its namespace goes away, and a stopping node closes the idle ones and
 * every busy one as its call ends. They close with a reset (linger 0), so
 * none is left to TCP as an orphan, or in TIME_WAIT, once the node's gone.
 */

#include <crypto/algapi.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "peer.h"
#include "trace.h"

/*
 * Pages for a connection's answers: charged to the memory cgroup its worker
 * made active, and at that cgroup's limit a failure, never the OOM killer.
 */
#define CP_PBUF_GFP	(GFP_KERNEL_ACCOUNT | __GFP_NORETRY | __GFP_NOWARN)

struct cp_pbuf *cp_pbuf_alloc(size_t len)
{
	u32 i, n = DIV_ROUND_UP(len, PAGE_SIZE);
	struct cp_pbuf *pb;

	pb = kvzalloc(struct_size(pb, bv, n), CP_PBUF_GFP);
	if (!pb)
		return NULL;
	pb->len = len;
	pb->cap = n;
	for (i = 0; i < n; i++) {
		struct page *page = alloc_page(CP_PBUF_GFP);

		if (!page) {
			cp_pbuf_free(pb);
			return NULL;
		}
		bvec_set_page(&pb->bv[pb->nbv++], page,
			      min_t(size_t, PAGE_SIZE, len - i * PAGE_SIZE), 0);
	}
	return pb;
}

struct cp_pbuf *cp_pbuf_from(const void *data, size_t len)
{
	struct cp_pbuf *pb = cp_pbuf_alloc(len);
	u32 i;

	if (!pb)
		return NULL;
	for (i = 0; i < pb->nbv; i++)
		memcpy_to_page(pb->bv[i].bv_page, 0, data + i * PAGE_SIZE, pb->bv[i].bv_len);
	return pb;
}

/* Another reference to pb's pages, for data that is only read from now on. */
struct cp_pbuf *cp_pbuf_share(const struct cp_pbuf *pb, gfp_t gfp)
{
	struct cp_pbuf *share;
	u32 i;

	share = kvmalloc(struct_size(share, bv, pb->nbv), gfp);
	if (!share)
		return NULL;
	share->len = pb->len;
	share->nbv = pb->nbv;
	share->cap = pb->nbv;
	for (i = 0; i < pb->nbv; i++) {
		get_page(pb->bv[i].bv_page);
		share->bv[i] = pb->bv[i];
	}
	return share;
}

void cp_pbuf_free(struct cp_pbuf *pb)
{
	u32 i;

	if (!pb)
		return;
	for (i = 0; i < pb->nbv; i++)
		put_page(pb->bv[i].bv_page);
	kvfree(pb);
}

/*
 * At most max bytes of pb from byte off on, as one piece: a reader's next,
 * where cur (zeroed at first) remembers the piece it is in. A reader moves
 * on, and back a little when a send took less than it was given.
 */
struct bio_vec cp_pbuf_next(const struct cp_pbuf *pb, u64 off, u64 max, struct cp_pbuf_cur *cur)
{
	const struct bio_vec *v;
	struct bio_vec out;
	u64 skip;

	while (off < cur->start) {
		cur->i--;
		cur->start -= pb->bv[cur->i].bv_len;
	}
	while (cur->start + pb->bv[cur->i].bv_len <= off) {
		cur->start += pb->bv[cur->i].bv_len;
		cur->i++;
	}
	v = &pb->bv[cur->i];
	skip = off - cur->start;
	bvec_set_page(&out, v->bv_page, min_t(u64, v->bv_len - skip, max), v->bv_offset + skip);
	return out;
}

/*
 * HELLO with the node's current member key, if it has one: a member proves
 * itself to the others (the uapi header's HELLO, from the client's side).
 */
static int peer_hello(struct cp_peer *p, struct cp_keys *keys)
{
	struct cp_key *key = cp_keys_member(keys);
	u8 hello[CACHEPEER_NONCE_LEN + CACHEPEER_NAME_MAX];
	u8 got[CACHEPEER_NONCE_LEN + CACHEPEER_HMAC_LEN + 1];
	u8 proof[CACHEPEER_HMAC_LEN];
	struct cp_req q = {
		.id = CP_PEER_REQ_ID,
		.opcode = CACHEPEER_OP_HELLO,
	};
	const u8 *nonce = got, *theirs = got + CACHEPEER_NONCE_LEN;
	struct cp_resp r;
	u8 role = 0;
	int err;

	if (!key)
		return 0;
	get_random_bytes(hello, CACHEPEER_NONCE_LEN);
	memcpy(hello + CACHEPEER_NONCE_LEN, key->name, key->name_len);
	q.key_len = CACHEPEER_NONCE_LEN + key->name_len;
	err = cp_peer_send(p, &q, hello, NULL) ?: cp_peer_recv_resp(p, q.id, &r);
	if (!err && (r.status != CACHEPEER_S_OK || r.data_len != sizeof(got)))
		err = -EACCES;
	err = err ?: cp_peer_recv(p, got, sizeof(got));
	if (!err)
		role = got[sizeof(got) - 1];
	err = err ?: cp_key_proof(key, true, hello, nonce, role, proof);
	/* The member must prove the key too: a node that cannot is no member. */
	if (!err && (role != CACHEPEER_ROLE_MEMBER || crypto_memneq(proof, theirs, sizeof(proof))))
		err = -EACCES;
	err = err ?: cp_key_proof(key, false, hello, nonce, role, proof);
	if (!err) {
		q.flags = CACHEPEER_F_PROOF;
		q.key_len = sizeof(proof);
		err = cp_peer_send(p, &q, proof, NULL) ?: cp_peer_recv_resp(p, q.id, &r);
	}
	if (!err && r.status != CACHEPEER_S_OK)
		err = -EACCES;
	cp_key_put(key);
	return err;
}

static void peer_set_rcvtimeo(struct cp_peer *p, unsigned int ms)
{
	struct sock *sk = p->sock->sk;

	lock_sock(sk);
	sk->sk_rcvtimeo = msecs_to_jiffies(ms);
	release_sock(sk);
}

/*
 * Connect p's new socket to the member at addr, and authenticate with the
 * member key if there is one.
 */
int cp_peer_connect(struct cp_peer *p, const union cp_addr *addr, struct cp_keys *keys)
{
	long timeo = msecs_to_jiffies(CP_PEER_TIMEOUT_MS);
	struct sock *sk = p->sock->sk;

	lock_sock(sk);
	sk->sk_sndtimeo = timeo;
	sk->sk_rcvtimeo = timeo;
	release_sock(sk);
	tcp_sock_set_nodelay(sk);
	sock_no_linger(sk);
	return kernel_connect(p->sock, (struct sockaddr *)addr, cp_addr_len(addr), 0) ?:
	       peer_hello(p, keys);
}

/* Linger 0: the close is a reset, and the socket is gone when this returns. */
static void peer_free(struct cp_peer *p)
{
	if (p->sock)
		sock_release(p->sock);
	kfree(p);
}

/*
 * A member's entry in the pool: its connections, and whether it answered
 * the last time it was asked. Under cp_peers.lock.
 */
struct cp_peer_member {
	struct list_head list;		/* in cp_peers.members */
	union cp_addr addr;
	struct list_head idle;		/* struct cp_peer, the newest first */
	struct list_head busy;		/* struct cp_peer, taken by a call */
	u32 nidle;
	u32 nbusy;			/* taken, or being opened */
	unsigned long used;		/* jiffies of the last call */
	unsigned long retry_at;		/* if failed: no new connection before */
	bool failed;			/* the last connect or call timed out or failed */
};

struct workqueue_struct *cp_peer_wq __ro_after_init;
struct workqueue_struct *cp_peer_tx_wq __ro_after_init;

void cp_peers_init(struct cp_peers *ps, struct net *net, struct cp_keys *keys,
		   struct cp_stats __percpu *stats)
{
	ps->net = net;
	ps->keys = keys;
	ps->stats = stats;
	mutex_init(&ps->lock);
	INIT_LIST_HEAD(&ps->members);
}

/* The node runs: calls may be made. */
void cp_peers_start(struct cp_peers *ps)
{
	mutex_lock(&ps->lock);
	ps->open = true;
	mutex_unlock(&ps->lock);
}

/* Close the idle connections that match (all of them when all is set). */
static void peers_close_idle(struct cp_peers *ps, bool all)
{
	unsigned long idle = msecs_to_jiffies(CP_PEER_IDLE_MS);
	struct cp_peer_member *m, *mn;
	struct cp_peer *p, *pn;
	LIST_HEAD(dead);

	mutex_lock(&ps->lock);
	list_for_each_entry_safe(m, mn, &ps->members, list) {
		list_for_each_entry_safe_reverse(p, pn, &m->idle, list) {
			if (!all && time_before(jiffies, p->since + idle))
				break;
			list_move(&p->list, &dead);
			m->nidle--;
		}
		if (!m->nidle && !m->nbusy && (all || time_after(jiffies, m->used + idle))) {
			list_del(&m->list);
			kfree(m);
		}
	}
	mutex_unlock(&ps->lock);
	list_for_each_entry_safe(p, pn, &dead, list)
		peer_free(p);
}

/* Process context: connections idle for CP_PEER_IDLE_MS go. */
void cp_peers_expire(struct cp_peers *ps)
{
	peers_close_idle(ps, false);
}

/*
 * Process context: the node stops. Calls under way are cut short (their
 * sockets shut down, which does not free them: each call's caller does,
 * as it ends), later ones fail, and no connection is pooled any more.
 */
void cp_peers_stop(struct cp_peers *ps)
{
	struct cp_peer_member *m;
	struct cp_peer *p;

	mutex_lock(&ps->lock);
	ps->open = false;
	list_for_each_entry(m, &ps->members, list)
		list_for_each_entry(p, &m->busy, list)
			kernel_sock_shutdown(p->sock, SHUT_RDWR);
	mutex_unlock(&ps->lock);
	peers_close_idle(ps, true);
}

/* The namespace goes: the node stopped and every call has ended. */
void cp_peers_exit(struct cp_peers *ps)
{
	peers_close_idle(ps, true);
	WARN_ON(!list_empty(&ps->members));
	mutex_destroy(&ps->lock);
}

static struct cp_peer_member *member_find(struct cp_peers *ps, const union cp_addr *addr)
{
	struct cp_peer_member *m;

	lockdep_assert_held(&ps->lock);
	list_for_each_entry(m, &ps->members, list)
		if (!memcmp(&m->addr, addr, cp_addr_len(addr)))
			return m;
	return NULL;
}

/* A pooled connection the member has not closed, with nothing unread. */
static bool peer_usable(struct cp_peer *p)
{
	struct sock *sk = p->sock->sk;

	return READ_ONCE(sk->sk_state) == TCP_ESTABLISHED &&
	       !(READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) &&
	       skb_queue_empty_lockless(&sk->sk_receive_queue);
}

/* Under the lock: the member failed; calls fail at once for a while. */
static void member_failed(struct cp_peer_member *m)
{
	m->failed = true;
	m->retry_at = jiffies + msecs_to_jiffies(CP_PEER_RETRY_MS);
}

/*
 * A new connection for a call. Its place is held (m->nbusy) and it is on
 * m->busy before the connect, so that a stopping node can cut it short.
 */
static struct cp_peer *peer_new(struct cp_peers *ps, struct cp_peer_member *m)
{
	struct cp_peer *p = kzalloc(sizeof(*p), GFP_KERNEL);
	int err = p ? sock_create_kern(ps->net, m->addr.sa.sa_family, SOCK_STREAM,
				       IPPROTO_TCP, &p->sock) : -ENOMEM;

	if (!err) {
		p->m = m;
		p->seq = CP_PEER_REQ_ID;
		mutex_lock(&ps->lock);
		list_add(&p->list, &m->busy);
		/* Stop began while this was created: it shut down the others. */
		if (!ps->open)
			kernel_sock_shutdown(p->sock, SHUT_RDWR);
		mutex_unlock(&ps->lock);
		err = cp_peer_connect(p, &m->addr, ps->keys);
		if (!err) {
			cp_stats_inc(ps->stats, CP_STAT_PEER_CONNECTS);
			mutex_lock(&ps->lock);
			m->failed = false;
			mutex_unlock(&ps->lock);
			return p;
		}
		mutex_lock(&ps->lock);
		list_del(&p->list);
		mutex_unlock(&ps->lock);
	}
	if (p)
		peer_free(p);
	mutex_lock(&ps->lock);
	m->nbusy--;
	if (err != -ENOMEM)
		member_failed(m);
	mutex_unlock(&ps->lock);
	return ERR_PTR(err);
}

/*
 * Process context: a connection to the member at addr, pooled or new;
 * -EBUSY with CP_PEER_MEMBER_CONNS taken already.
 */
static struct cp_peer *peer_get(struct cp_peers *ps, const union cp_addr *addr)
{
	struct cp_peer_member *m, *spare = NULL;
	struct cp_peer *p;

	might_sleep();
	for (;;) {
		mutex_lock(&ps->lock);
		if (!ps->open) {
			p = ERR_PTR(-ESHUTDOWN);
			break;
		}
		m = member_find(ps, addr);
		if (!m && spare) {
			m = spare;
			spare = NULL;
			list_add(&m->list, &ps->members);
		}
		if (!m) {
			mutex_unlock(&ps->lock);
			spare = kzalloc(sizeof(*spare), GFP_KERNEL);
			if (!spare)
				return ERR_PTR(-ENOMEM);
			spare->addr = *addr;
			INIT_LIST_HEAD(&spare->idle);
			INIT_LIST_HEAD(&spare->busy);
			continue;
		}
		m->used = jiffies;
		p = list_first_entry_or_null(&m->idle, struct cp_peer, list);
		if (p) {
			list_move(&p->list, &m->busy);
			m->nidle--;
			m->nbusy++;
			mutex_unlock(&ps->lock);
			if (peer_usable(p)) {
				p->reused = true;
				goto out;
			}
			cp_peer_done(ps, p, false);
			continue;
		}
		if (m->failed && time_before(jiffies, m->retry_at)) {
			p = ERR_PTR(-EHOSTUNREACH);
			break;
		}
		if (m->nbusy >= CP_PEER_MEMBER_CONNS) {
			p = ERR_PTR(-EBUSY);
			break;
		}
		m->nbusy++;
		mutex_unlock(&ps->lock);
		p = peer_new(ps, m);
		goto out;
	}
	mutex_unlock(&ps->lock);
out:
	kfree(spare);
	return p;
}

/*
 * Process context: the call is over. Pool its connection if reuse says
 * the answer was read whole, else close it.
 */
void cp_peer_done(struct cp_peers *ps, struct cp_peer *p, bool reuse)
{
	struct cp_peer_member *m = p->m;

	mutex_lock(&ps->lock);
	m->nbusy--;
	if (reuse && ps->open) {
		p->since = jiffies;
		list_move(&p->list, &m->idle);
		m->nidle++;
		p = NULL;
	} else {
		list_del(&p->list);
	}
	mutex_unlock(&ps->lock);
	if (p)
		peer_free(p);
}

/* A pooled connection the member closed before it read the call. */
static bool peer_was_closed(int err)
{
	return err == -EPIPE || err == -ECONNRESET || err == -ENOTCONN;
}

/* Under no lock: the member did not answer in time; calls fail at once for a while. */
static void peer_member_failed(struct cp_peers *ps, struct cp_peer *p)
{
	mutex_lock(&ps->lock);
	member_failed(p->m);
	mutex_unlock(&ps->lock);
}

/*
 * Process context: send req (key and payload as cp_peer_send() takes them;
 * its id is the connection's own) to the member at addr. On success *pp is
 * the connection, its answer still to come (cp_peer_answer()). A pooled
 * connection the member had closed meanwhile is retried once on a new one.
 */
int cp_peer_begin(struct cp_peers *ps, const union cp_addr *addr, const struct cp_req *req,
		  const void *key, const void *payload, struct cp_peer **pp)
{
	struct cp_req q = *req;
	struct cp_peer *p;
	bool reused;
	int err;

	do {
		p = peer_get(ps, addr);
		if (IS_ERR(p))
			return PTR_ERR(p);
		/* An answer to an earlier call cannot pass for this one's. */
		q.id = ++p->seq;
		err = cp_peer_send(p, &q, key, payload);
		if (!err) {
			*pp = p;
			return 0;
		}
		reused = p->reused;
		if (err == -EAGAIN)
			peer_member_failed(ps, p);
		cp_peer_done(ps, p, false);
	} while (reused && peer_was_closed(err));
	return err;
}

/*
 * Process context: read the answer's header into *r, waiting up to ms. On
 * success its data is next on p, for the caller to read and then give p
 * back with cp_peer_done(); on failure p is closed. A member that does not
 * answer in time is not asked again for CP_PEER_RETRY_MS, unless blame
 * says its answer waits on another member (a PROBE).
 */
int cp_peer_answer(struct cp_peers *ps, struct cp_peer *p, struct cp_resp *r, unsigned int ms,
		   bool blame)
{
	int err;

	if (ms != CP_PEER_TIMEOUT_MS)
		peer_set_rcvtimeo(p, ms);
	err = cp_peer_recv_resp(p, p->seq, r);
	if (!err && ms != CP_PEER_TIMEOUT_MS)
		peer_set_rcvtimeo(p, CP_PEER_TIMEOUT_MS);
	if (!err)
		return 0;
	if (err == -EAGAIN && blame)
		peer_member_failed(ps, p);
	cp_peer_done(ps, p, false);
	return err;
}

/*
 * Send a request: its header, key_len bytes of key and payload_len of
 * payload; without a payload, the header and key only, the payload left
 * to the caller to send.
 */
int cp_peer_send(struct cp_peer *p, const struct cp_req *req, const void *key,
		 const void *payload)
{
	struct cachepeer_req h;
	struct kvec kv[3] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)key, .iov_len = req->key_len },
		{ .iov_base = (void *)payload, .iov_len = payload ? req->payload_len : 0 },
	};
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	size_t total = sizeof(h) + req->key_len + kv[2].iov_len;
	int ret;

	cp_proto_fill_req(&h, req);
	ret = kernel_sendmsg(p->sock, &msg, kv, 3, total);
	if (ret < 0)
		return ret;
	return ret == total ? 0 : -EIO;
}

static int recv_iter(struct cp_peer *p, struct iov_iter *it)
{
	size_t want = iov_iter_count(it);
	struct msghdr msg = { .msg_iter = *it, .msg_flags = MSG_WAITALL | MSG_NOSIGNAL };
	int ret;

	ret = sock_recvmsg(p->sock, &msg, MSG_WAITALL | MSG_NOSIGNAL);
	if (ret < 0)
		return ret;
	return ret == want ? 0 : -ECONNRESET;
}

int cp_peer_recv(struct cp_peer *p, void *buf, size_t len)
{
	struct kvec kv = { .iov_base = buf, .iov_len = len };
	struct iov_iter it;

	iov_iter_kvec(&it, ITER_DEST, &kv, 1, len);
	return recv_iter(p, &it);
}

/* The response to the call with this id, the one in flight on the connection. */
int cp_peer_recv_resp(struct cp_peer *p, u64 id, struct cp_resp *r)
{
	struct cachepeer_resp w;
	int ret = cp_peer_recv(p, &w, sizeof(w));

	if (ret)
		return ret;
	if (cp_proto_parse_resp(&w, r) || r->id != id)
		return -EBADMSG;
	return 0;
}

int __init cp_peer_mod_init(void)
{
	cp_peer_wq = alloc_workqueue("cachepeer_peer", WQ_UNBOUND, 0);
	if (!cp_peer_wq)
		return -ENOMEM;
	cp_peer_tx_wq = alloc_workqueue("cachepeer_peer_tx", WQ_HIGHPRI, 0);
	if (!cp_peer_tx_wq) {
		destroy_workqueue(cp_peer_wq);
		return -ENOMEM;
	}
	return 0;
}

void cp_peer_mod_exit(void)
{
	destroy_workqueue(cp_peer_tx_wq);
	destroy_workqueue(cp_peer_wq);
}
