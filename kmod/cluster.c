// SPDX-License-Identifier: GPL-2.0
/*
 * The cluster: this node's ring, who owns a key under it, and how ring
 * changes travel between members.
 *
 * Propagation. A ring change made here (netlink) or adopted from a peer is
 * pushed at once to every other member: RING_PUSH carries the ring's
 * encoding and its HMAC-SHA256 under the cluster key. A receiver adopts the
 * ring if it wins (larger epoch; on equal epochs, larger XXH64 of the
 * encoding), and otherwise answers with its own, which the sender adopts if
 * that wins. Every member also gossips its ring to two random members each
 * second, so a member that missed a push (down, partitioned, restarted)
 * catches up. All of it runs in workers on cp_peer_wq, which a stopping
 * node drains, over the node's pooled connections to the members (peer.c).
 *
 * Locking: cl->lock (a mutex) serialises ring changes, the HMAC transform
 * and the node's name as the ring knows it; it nests inside the node's
 * lock. Readers find the ring under RCU, from softirq too.
 */

#include <linux/random.h>
#include <linux/slab.h>
#include <net/ipv6.h>

#include "cluster.h"

#define CP_GOSSIP_PERIOD	HZ
#define CP_GOSSIP_FANOUT	2

/* A signed ring encoding, shared by the pushes of one fan-out. */
struct cp_pushmsg {
	refcount_t ref;
	size_t len;
	u8 data[];
};

struct cp_push {
	struct work_struct work;
	struct cp_cluster *cl;
	union cp_addr to;
	struct cp_pushmsg *msg;
};

static struct cp_ring *ring_locked(struct cp_cluster *cl)
{
	return rcu_dereference_protected(cl->ring, lockdep_is_held(&cl->lock));
}

/* The ring's encoding followed by its HMAC, or NULL. */
static struct cp_pushmsg *ring_sign(struct cp_cluster *cl, const struct cp_ring *r)
{
	size_t len = cp_ring_enc_len(r);
	struct cp_pushmsg *msg;

	lockdep_assert_held(&cl->lock);
	msg = kvmalloc(struct_size(msg, data, len + CACHEPEER_HMAC_LEN), GFP_KERNEL);
	if (!msg)
		return NULL;
	refcount_set(&msg->ref, 1);
	msg->len = len + CACHEPEER_HMAC_LEN;
	cp_ring_encode(r, msg->data);
	if (cp_keys_sign(cl->keys, msg->data, len, msg->data + len)) {
		kvfree(msg);
		return NULL;
	}
	return msg;
}

static void msg_put(struct cp_pushmsg *msg)
{
	if (refcount_dec_and_test(&msg->ref))
		kvfree(msg);
}

static void push_done(struct cp_cluster *cl)
{
	if (atomic_dec_and_test(&cl->pushes))
		wake_up_var(&cl->pushes);
}

static void push_work(struct work_struct *work)
{
	struct cp_push *pw = container_of(work, struct cp_push, work);
	struct cp_cluster *cl = pw->cl;
	struct cp_req req = {
		.id = CP_PEER_REQ_ID,
		.opcode = CACHEPEER_OP_RING_PUSH,
		.payload_len = pw->msg->len,
	};
	struct cp_peer *p;
	struct cp_resp r;
	void *reply = NULL;
	int err;

	err = cp_peer_call(&cl->peers, &pw->to, &req, NULL, pw->msg->data, &r, &p);
	if (err)
		goto out;
	if (r.status != CACHEPEER_S_OK)
		err = -EACCES;
	if (!err && r.data_len) {
		if (r.data_len <= CACHEPEER_RING_ENC_MAX + CACHEPEER_HMAC_LEN)
			reply = kvmalloc(r.data_len, GFP_KERNEL);
		err = reply ? cp_peer_recv(p, reply, r.data_len) : -EMSGSIZE;
	}
	/* A refusing member ends the connection; data left unread ends it here. */
	cp_peer_done(&cl->peers, p, !err);
out:
	cp_stats_inc(cl->stats, err ? CP_STAT_PEER_ERRORS : CP_STAT_RING_SENT);
	/* The member had a winning ring of its own: take it. */
	if (!err && reply)
		cp_cluster_push_in(cl, reply, r.data_len, NULL);
	kvfree(reply);
	msg_put(pw->msg);
	kfree(pw);
	push_done(cl);
}

static void push_to(struct cp_cluster *cl, const struct cp_member *m, struct cp_pushmsg *msg)
{
	struct cp_push *pw = kzalloc(sizeof(*pw), GFP_KERNEL);

	if (!pw) {
		cp_stats_inc(cl->stats, CP_STAT_PEER_ERRORS);
		return;
	}
	INIT_WORK(&pw->work, push_work);
	pw->cl = cl;
	pw->to = m->addr;
	refcount_inc(&msg->ref);
	pw->msg = msg;
	atomic_inc(&cl->pushes);
	queue_work(cp_peer_wq, &pw->work);
}

/* Push r to every other member, or to fanout random ones. */
static void push_ring(struct cp_cluster *cl, const struct cp_ring *r, u32 fanout)
{
	struct cp_pushmsg *msg;
	u32 i;

	lockdep_assert_held(&cl->lock);
	if (!cl->running || !cp_cluster_has_key(cl) || !r->nmembers)
		return;
	msg = ring_sign(cl, r);
	if (!msg) {
		cp_stats_inc(cl->stats, CP_STAT_PEER_ERRORS);
		return;
	}
	if (!fanout) {
		for (i = 0; i < r->nmembers; i++)
			if (i != r->self)
				push_to(cl, &r->members[i], msg);
	} else {
		for (i = 0; i < fanout; i++) {
			u32 k = get_random_u32_below(r->nmembers);

			if (k != r->self)
				push_to(cl, &r->members[k], msg);
		}
	}
	msg_put(msg);
}

/* Make r the ring, and prev (if given, else the ring before) the previous one. */
static void ring_install(struct cp_cluster *cl, struct cp_ring *r, struct cp_ring *prev)
{
	struct cp_ring *old = ring_locked(cl);
	struct cp_ring *older = rcu_dereference_protected(cl->prev, lockdep_is_held(&cl->lock));

	if (prev) {
		cp_ring_free_rcu(old);
		old = prev;
	}
	rcu_assign_pointer(cl->prev, old);
	rcu_assign_pointer(cl->ring, r);
	WRITE_ONCE(cl->changed, jiffies);
	WRITE_ONCE(cl->epoch, r->epoch);
	cp_ring_free_rcu(older);
	push_ring(cl, r, 0);
}

static void gossip_work(struct work_struct *work)
{
	struct cp_cluster *cl = container_of(to_delayed_work(work), struct cp_cluster,
					     gossip_work);
	struct cp_ring *r;

	cp_peers_expire(&cl->peers);
	mutex_lock(&cl->lock);
	r = ring_locked(cl);
	if (r && r->self >= 0 && r->nmembers > 1)
		push_ring(cl, r, CP_GOSSIP_FANOUT);
	if (cl->running)
		queue_delayed_work(cp_peer_wq, &cl->gossip_work, CP_GOSSIP_PERIOD);
	mutex_unlock(&cl->lock);
}

void cp_cluster_init(struct cp_cluster *cl, struct net *net, struct cp_stats __percpu *stats,
		     struct cp_keys *keys)
{
	cl->net = net;
	cl->stats = stats;
	cl->keys = keys;
	mutex_init(&cl->lock);
	INIT_DELAYED_WORK(&cl->gossip_work, gossip_work);
	cp_peers_init(&cl->peers, net, keys, stats);
	cl->handoff_s = CACHEPEER_HANDOFF_DEFAULT;
	cl->miss = CACHEPEER_MISS_FORWARD;
}

/* The node runs: push the ring it has, and keep gossiping. */
void cp_cluster_start(struct cp_cluster *cl)
{
	struct cp_ring *r;

	cp_peers_start(&cl->peers);
	mutex_lock(&cl->lock);
	cl->running = true;
	r = ring_locked(cl);
	if (r)
		push_ring(cl, r, 0);
	queue_delayed_work(cp_peer_wq, &cl->gossip_work, CP_GOSSIP_PERIOD);
	mutex_unlock(&cl->lock);
}

/*
 * Process context: no push or gossip runs after this returns, and calls
 * to members still under way (forwards, hand-offs) fail or end soon.
 */
void cp_cluster_stop(struct cp_cluster *cl)
{
	mutex_lock(&cl->lock);
	cl->running = false;
	mutex_unlock(&cl->lock);
	cp_peers_stop(&cl->peers);
	cancel_delayed_work_sync(&cl->gossip_work);
	wait_var_event(&cl->pushes, !atomic_read(&cl->pushes));
}

/*
 * The namespace is going away: the node has stopped (no push or gossip is
 * left) and no netlink request can reach it, so nothing else holds cl->lock.
 */
void cp_cluster_exit(struct cp_cluster *cl)
{
	mutex_lock(&cl->lock);
	cp_ring_free_rcu(ring_locked(cl));
	cp_ring_free_rcu(rcu_dereference_protected(cl->prev, lockdep_is_held(&cl->lock)));
	RCU_INIT_POINTER(cl->ring, NULL);
	RCU_INIT_POINTER(cl->prev, NULL);
	cp_peers_exit(&cl->peers);
	mutex_unlock(&cl->lock);
	mutex_destroy(&cl->lock);
}

/*
 * The node's lock held, which serialises renames. The ring's idea of which
 * member is this node follows the name; a member may not be renamed.
 */
int cp_cluster_rename(struct cp_cluster *cl, const char *name)
{
	struct cp_ring *r, *p;
	int err = 0;

	mutex_lock(&cl->lock);
	r = ring_locked(cl);
	p = rcu_dereference_protected(cl->prev, lockdep_is_held(&cl->lock));
	if (r && r->self >= 0 && strcmp(name, cl->name)) {
		err = -EBUSY;
	} else {
		strscpy(cl->name, name);
		if (r)
			WRITE_ONCE(r->self, cp_ring_find(r, name));
		if (p)
			WRITE_ONCE(p->self, cp_ring_find(p, name));
	}
	mutex_unlock(&cl->lock);
	return err;
}

/*
 * A node with no ring that sets its seed's ring plus itself is joining: until now
 * its keys lived where the same ring without it puts them. That ring is its
 * previous one, for hand-off. NULL if there is none to build.
 */
static struct cp_ring *joined_prev(struct cp_cluster *cl, const struct cp_ring *r)
{
	struct cp_member *m;
	struct cp_ring *prev;
	const char *why;

	if (r->self < 0 || r->nmembers < 2)
		return NULL;
	m = kvmalloc_array(r->nmembers - 1, sizeof(*m), GFP_KERNEL);
	if (!m)
		return NULL;
	memcpy(m, r->members, r->self * sizeof(*m));
	memcpy(m + r->self, r->members + r->self + 1,
	       (r->nmembers - r->self - 1) * sizeof(*m));
	prev = cp_ring_build(m, r->nmembers - 1, r->epoch - 1, cl->name, &why);
	kvfree(m);
	return IS_ERR(prev) ? NULL : prev;
}

/* Process context. Apply one edit to the ring, as a new epoch, and push it. */
int cp_cluster_edit(struct cp_cluster *cl, enum cp_ring_edit op, const struct cp_member *m,
		    u32 n, u64 base_epoch, const char **why)
{
	struct cp_member *all = NULL;
	struct cp_ring *cur, *r;
	u32 count = 0;
	int idx, err = 0;

	*why = NULL;
	mutex_lock(&cl->lock);
	cur = ring_locked(cl);
	if (op != CP_RING_SET) {
		count = cur ? cur->nmembers : 0;
		all = kvcalloc(count + 1, sizeof(*all), GFP_KERNEL);
		if (!all) {
			err = -ENOMEM;
			goto out;
		}
		if (cur)
			memcpy(all, cur->members, count * sizeof(*all));
		idx = cur ? cp_ring_find(cur, m->name) : -1;
		if (op == CP_RING_ADD && idx >= 0) {
			*why = "a member of that name is already in the ring";
			err = -EEXIST;
		} else if (op != CP_RING_ADD && idx < 0) {
			*why = "no member of that name in the ring";
			err = -ENOENT;
		} else if (op == CP_RING_ADD) {
			all[count++] = *m;
		} else if (op == CP_RING_DEL) {
			memmove(&all[idx], &all[idx + 1], (--count - idx) * sizeof(*all));
		} else {
			all[idx].weight = m->weight;
		}
		if (err)
			goto out;
		m = all;
		n = count;
		base_epoch = 0;
	}
	/* An epoch that wrapped to 0 would lose to every ring there is, for good. */
	if (max(cur ? cur->epoch : 0, base_epoch) == U64_MAX) {
		*why = "the ring's epoch would pass 2^64 - 1";
		err = -ERANGE;
		goto out;
	}
	r = cp_ring_build(m, n, max(cur ? cur->epoch : 0, base_epoch) + 1, cl->name, why);
	if (IS_ERR(r)) {
		err = PTR_ERR(r);
		goto out;
	}
	/* A join (RING_SET on a node without a ring, from a seed's epoch). */
	ring_install(cl, r, !cur && base_epoch ? joined_prev(cl, r) : NULL);
out:
	mutex_unlock(&cl->lock);
	kvfree(all);
	return err;
}

/*
 * Any context. Who owns a key of this hash: another member, whose address
 * goes into *to; or this node, which took the key over at the last ring
 * change, within the hand-off window, from the member in *to.
 */
enum cp_owner cp_cluster_owner(struct cp_cluster *cl, u64 hash, union cp_addr *to)
{
	enum cp_owner owner = CP_OWNER_NONE;
	const struct cp_ring *r, *p;
	int o;

	rcu_read_lock();
	r = rcu_dereference(cl->ring);
	o = r ? cp_ring_owner(r, hash) : -1;
	if (o >= 0 && o != READ_ONCE(r->self)) {
		*to = r->members[o].addr;
		owner = CP_OWNER_OTHER;
	} else if (o >= 0 && time_before(jiffies, READ_ONCE(cl->changed) +
					 READ_ONCE(cl->handoff_s) * HZ)) {
		p = rcu_dereference(cl->prev);
		o = p ? cp_ring_owner(p, hash) : -1;
		if (o >= 0 && o != READ_ONCE(p->self)) {
			*to = p->members[o].addr;
			owner = CP_OWNER_PREVIOUS;
		}
	}
	rcu_read_unlock();
	return owner;
}

/*
 * Any context: is addr (its port aside) a member's address in the ring? A
 * connection from there gets a member's bounds. (Members do not prove who
 * they are yet; that is for member keys.)
 */
bool cp_cluster_is_member(struct cp_cluster *cl, const struct sockaddr *addr)
{
	const struct sockaddr_in6 *a6 = (const void *)addr;
	const struct sockaddr_in *a4 = (const void *)addr;
	const struct cp_ring *r;
	bool found = false;
	__be32 v4 = 0;
	u32 i;

	/* An IPv4 peer of an IPv6 listener comes v4-mapped. */
	if (addr->sa_family == AF_INET)
		v4 = a4->sin_addr.s_addr;
	else if (ipv6_addr_v4mapped(&a6->sin6_addr))
		v4 = a6->sin6_addr.s6_addr32[3];
	rcu_read_lock();
	r = rcu_dereference(cl->ring);
	for (i = 0; r && !found && i < r->nmembers; i++) {
		const union cp_addr *m = &r->members[i].addr;

		found = m->sa.sa_family == AF_INET6 ?
			!v4 && ipv6_addr_equal(&m->v6.sin6_addr, &a6->sin6_addr) :
			v4 && m->v4.sin_addr.s_addr == v4;
	}
	rcu_read_unlock();
	return found;
}

/* Any context: does the node take ring pushes at all (has it a key)? */
bool cp_cluster_has_key(struct cp_cluster *cl)
{
	return rcu_access_pointer(cl->keys->member[0]);
}

/* Any context: how long the ring's encoding is now. */
size_t cp_cluster_enc_len(struct cp_cluster *cl)
{
	size_t len;

	rcu_read_lock();
	len = cp_ring_enc_len(rcu_dereference(cl->ring));
	rcu_read_unlock();
	return len;
}

/* Process context. The ring's encoding, kvmalloc'd, for RING_GET. */
void *cp_cluster_encode(struct cp_cluster *cl, size_t *len)
{
	void *buf;

	mutex_lock(&cl->lock);
	*len = cp_ring_enc_len(ring_locked(cl));
	buf = kvmalloc(*len, GFP_KERNEL);
	if (buf)
		cp_ring_encode(ring_locked(cl), buf);
	mutex_unlock(&cl->lock);
	return buf;
}

/*
 * Process context. A RING_PUSH payload: adopt its ring if it wins. If ours
 * wins and reply is not NULL, *reply is our own signed ring.
 */
u16 cp_cluster_push_in(struct cp_cluster *cl, const void *msg, size_t len,
		       struct cp_pbuf **reply)
{
	size_t enc_len = len - CACHEPEER_HMAC_LEN;
	struct cp_ring *r, *cur;
	struct cp_member *m;
	struct cp_pushmsg *own;
	u16 status = CACHEPEER_S_OK;
	const char *why;
	u64 epoch;
	u32 n;

	if (len < sizeof(struct cachepeer_ring_hdr) + CACHEPEER_HMAC_LEN)
		return CACHEPEER_S_BAD_REQUEST;
	mutex_lock(&cl->lock);
	if (!cp_keys_verify(cl->keys, msg, enc_len, msg + enc_len)) {
		cp_stats_inc(cl->stats, CP_STAT_RING_REFUSED);
		status = CACHEPEER_S_DENIED;
		goto out;
	}
	m = cp_ring_decode(msg, enc_len, &n, &epoch);
	/* Adopted, the last epoch there is would make every later edit wrap. */
	if (m && epoch == U64_MAX) {
		kvfree(m);
		m = NULL;
	}
	if (!m) {
		status = CACHEPEER_S_BAD_REQUEST;
		goto out;
	}
	r = cp_ring_build(m, n, epoch, cl->name, &why);
	kvfree(m);
	if (IS_ERR(r)) {
		status = why ? CACHEPEER_S_BAD_REQUEST : CACHEPEER_S_BUSY;
		goto out;
	}
	cur = ring_locked(cl);
	if (cp_ring_wins(r, cur)) {
		ring_install(cl, r, NULL);
		cp_stats_inc(cl->stats, CP_STAT_RING_ACCEPTED);
		goto out;
	}
	if (reply && cp_ring_wins(cur, r)) {
		own = ring_sign(cl, cur);
		*reply = own ? cp_pbuf_from(own->data, own->len) : NULL;
		if (own)
			msg_put(own);
	}
	cp_ring_free(r);
out:
	mutex_unlock(&cl->lock);
	return status;
}

int __init cp_cluster_mod_init(void)
{
	return cp_peer_mod_init();
}

void cp_cluster_mod_exit(void)
{
	cp_peer_mod_exit();
}
