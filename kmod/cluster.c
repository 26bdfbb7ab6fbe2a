// SPDX-License-Identifier: GPL-2.0
/*
 * The cluster: this node's view of the membership and the ring built from
 * it, who owns a key under it, and how views travel between members.
 *
 * Views merge member by member (view.c; the rule is in the uapi header).
 * An edit made here is pushed down a relay tree over the ring's members,
 * rooted here: each member relays a push that brought it news to at most
 * CACHEPEER_RING_RELAY_FANOUT others, so a change costs one message per
 * member. Every second each member sends two random members a digest of
 * its view; a member whose view differs answers with the whole of it, and
 * the asker sends its own back if the answer lacks anything. That repairs
 * what a relay missed (a member down, partitioned or restarted). Pushes
 * are calls on the node's links to the members (link.c); their answers
 * are taken in, and gossip and probes run, in workers on cp_peer_wq,
 * which a stopping node drains.
 *
 * Locking: cl->lock (a mutex) serialises view changes and the node's name
 * as the ring knows it; it nests inside the node's lock. The view is read
 * under it alone; readers find the ring under RCU, from softirq too. A
 * push's HMAC is checked before the lock is taken.
 */

#include <linux/random.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/timekeeping.h>
#include <net/ipv6.h>

#include "cluster.h"
#include "link.h"
#include "trace.h"

#define CP_GOSSIP_PERIOD	HZ
/*
 * A burst of changes (a join, a liveness flap) is saved once, this much
 * later; stopping saves at once, and a restart that finds a file this
 * much behind catches up from the others.
 */
#define CP_SAVE_DELAY		(2 * HZ)
#define CP_GOSSIP_FANOUT	2
#define CP_SUSPECT_MS		3000	/* a suspect member is down after this */

/*
 * What this node has seen of a member's liveness, beyond its view entry:
 * since when it holds the member suspect (at which incarnation, and
 * whether on its own probe), and when the member last answered a probe.
 */
struct cp_watch {
	char name[CACHEPEER_NAME_MAX + 1];
	u32 incarnation;
	bool mine;
	unsigned long suspect_since;	/* jiffies; 0: not suspect */
	unsigned long heard;		/* jiffies; 0: never */
};

#define CP_PUSH_MAX_AGE_MS	(CACHEPEER_RING_MAX_AGE_S * 1000ULL)

/* A signed encoding, shared by the pushes of one fan-out. */
struct cp_pushmsg {
	refcount_t ref;
	bool digest;
	size_t len;
	u8 data[] __aligned(8);		/* struct cachepeer_ring_hdr first */
};

/*
 * A push to one member, a call on the link to it; once it ends, push_work
 * takes the member's answer in, if it has one.
 */
struct cp_push {
	struct cp_call call;
	struct work_struct work;
	struct cp_cluster *cl;
	struct cp_pushmsg *msg;
	int err;
};

static u64 now_ms(void)
{
	return div_u64(ktime_get_real_ns(), NSEC_PER_MSEC);
}

static struct cp_ring *ring_locked(struct cp_cluster *cl)
{
	return rcu_dereference_protected(cl->ring, lockdep_is_held(&cl->lock));
}

static struct cp_pushmsg *msg_alloc(size_t len)
{
	struct cp_pushmsg *msg = kvmalloc(struct_size(msg, data, len), GFP_KERNEL);

	if (msg) {
		refcount_set(&msg->ref, 1);
		msg->len = len;
		msg->digest = false;
	}
	return msg;
}

static void msg_put(struct cp_pushmsg *msg)
{
	if (refcount_dec_and_test(&msg->ref))
		kvfree(msg);
}

/*
 * The view (or its digest, or n of its entries, an edit's), stamped now,
 * to be relayed from root; or NULL.
 */
static struct cp_pushmsg *view_msg(struct cp_cluster *cl, bool digest, u16 root,
				   const struct cachepeer_ring_member *e, u32 n)
{
	size_t len = e ? cp_view_enc_len(NULL, false) + n * sizeof(*e) :
			 cp_view_enc_len(cl->view, digest);
	struct cachepeer_ring_hdr *h;
	struct cp_pushmsg *msg;

	lockdep_assert_held(&cl->lock);
	msg = msg_alloc(len + CACHEPEER_HMAC_LEN);
	if (!msg)
		return NULL;
	msg->digest = digest;
	h = (void *)msg->data;
	if (e)
		cp_view_encode_part(cl->view, h, e, n);
	else
		cp_view_encode(cl->view, h, digest);
	h->time_ms = cpu_to_be64(now_ms());
	h->relay_root = htons(root);
	return msg;
}

/* Sign msg, which needs no lock: false (msg freed) if it cannot be. */
static bool msg_sign(struct cp_cluster *cl, struct cp_pushmsg *msg)
{
	size_t len = msg->len - CACHEPEER_HMAC_LEN;

	if (!cp_keys_sign(cl->keys, msg->data, len, msg->data + len))
		return true;
	msg_put(msg);
	return false;
}

/* view_msg(), signed. */
static struct cp_pushmsg *view_sign(struct cp_cluster *cl, bool digest, u16 root,
				    const struct cachepeer_ring_member *e, u32 n)
{
	struct cp_pushmsg *msg = view_msg(cl, digest, root, e, n);

	return msg && msg_sign(cl, msg) ? msg : NULL;
}

/*
 * What a member whose view is of epoch since lacks, so that a repair costs
 * what changed, not the whole view (since U64_MAX: the whole view). Ahead
 * of it: the entries edited after since, and those not alive (liveness
 * changes no version), as a partial view. Behind it: no entry at all, and
 * the member, seeing this epoch, sends back what is newer. Of one epoch
 * (the views differ in older entries, or in a refutation): the whole view.
 */
static struct cp_pushmsg *view_since(struct cp_cluster *cl, u64 since)
{
	u64 epoch = cl->view ? cl->view->epoch : 0;
	struct cachepeer_ring_member *e = NULL;
	struct cp_pushmsg *msg;
	u32 i, k = 0;

	lockdep_assert_held(&cl->lock);
	if (since != U64_MAX && epoch != since)
		e = kvmalloc_array(cl->view ? cl->view->n + 1 : 1, sizeof(*e), GFP_KERNEL);
	for (i = 0; e && epoch > since && i < cl->view->n; i++)
		if (cp_entry_version(&cl->view->e[i]) > since ||
		    cl->view->e[i].state != CACHEPEER_MEMBER_ALIVE)
			e[k++] = cl->view->e[i];
	msg = view_msg(cl, false, CACHEPEER_RING_NO_RELAY, e, k);
	kvfree(e);
	return msg;
}

/* The view or the name changed: have the node save them, soon and once. */
static void view_changed(struct cp_cluster *cl)
{
	if (cl->save)
		queue_delayed_work(cp_peer_wq, cl->save, CP_SAVE_DELAY);
}

/* Tombstones past their lifetime go (and the encoding shrinks). */
static void view_expire(struct cp_cluster *cl, u64 now)
{
	lockdep_assert_held(&cl->lock);
	if (cp_view_expire(cl->view, now)) {
		WRITE_ONCE(cl->enc_len, cp_view_enc_len(cl->view, false));
		view_changed(cl);
	}
}

static void push_done(struct cp_cluster *cl)
{
	if (atomic_dec_and_test(&cl->pushes))
		wake_up_var(&cl->pushes);
}

static void push_to(struct cp_cluster *cl, const union cp_addr *to, struct cp_pushmsg *msg);
static u16 view_in(struct cp_cluster *cl, const void *msg, size_t len, bool *answer,
		   u64 *epoch, bool *digest);

/*
 * From a push's work, which stop waits for: what one member of view epoch
 * since lacks (view_since()). Signed outside the lock.
 */
static void answer_to(struct cp_cluster *cl, const union cp_addr *to, u64 since)
{
	struct cp_pushmsg *msg = NULL;

	mutex_lock(&cl->lock);
	if (cl->running && cp_cluster_has_key(cl))
		msg = view_since(cl, since);
	mutex_unlock(&cl->lock);
	if (msg && msg_sign(cl, msg)) {
		push_to(cl, to, msg);
		msg_put(msg);
	}
}

/* Under the link's socket: the member's answer has data, a view we lack. */
static int push_admit(struct cp_call *call)
{
	if (call->r.status != CACHEPEER_S_OK ||
	    call->r.data_len > CACHEPEER_RING_ENC_MAX + CACHEPEER_HMAC_LEN)
		return -EBADMSG;
	return 0;
}

/* Any context: the push ended; taking its answer in needs cl->lock. */
static void push_call_done(struct cp_call *call, int err)
{
	struct cp_push *pw = container_of(call, struct cp_push, call);

	pw->err = err ?: call->r.status != CACHEPEER_S_OK ? -EACCES : 0;
	queue_work(cp_peer_wq, &pw->work);
}

/* On cp_peer_wq, which stop waits for: a push ended. */
static void push_work(struct work_struct *work)
{
	struct cp_push *pw = container_of(work, struct cp_push, work);
	struct cp_cluster *cl = pw->cl;
	const struct cp_pbuf *pb = pw->call.pb;
	bool answer = false, digest;
	void *reply = NULL;
	struct iov_iter it;
	int err = pw->err;
	u64 epoch;

	if (!err && pb) {
		reply = kvmalloc(pb->len, GFP_KERNEL);
		cp_pbuf_iter(pb, &it);
		err = !reply ? -ENOMEM :
		      copy_from_iter(reply, pb->len, &it) != pb->len ? -EFAULT : 0;
	}
	cp_stats_inc(cl->stats, err ? CP_STAT_PEER_ERRORS :
		     pw->msg->digest ? CP_STAT_RING_DIGESTS : CP_STAT_RING_SENT);
	/*
	 * The member held something we lacked: take it, and give back what it
	 * lacks: what is newer than its epoch, or all, if it has ours.
	 */
	if (!err && reply &&
	    view_in(cl, reply, pb->len, &answer, &epoch, &digest) == CACHEPEER_S_OK &&
	    (answer || READ_ONCE(cl->epoch) > epoch))
		answer_to(cl, &pw->call.to, READ_ONCE(cl->epoch) > epoch ? epoch : U64_MAX);
	kvfree(reply);
	cp_pbuf_free(pw->call.pb);
	msg_put(pw->msg);
	kfree(pw);
	push_done(cl);
}

/*
 * Process context, cl->lock held or not: push msg to the member at to,
 * over the link to it. The answer is taken in by push_work, which stop
 * waits for.
 */
static void push_to(struct cp_cluster *cl, const union cp_addr *to, struct cp_pushmsg *msg)
{
	struct cp_push *pw = kzalloc(sizeof(*pw), GFP_KERNEL);
	int err;

	if (!pw) {
		cp_stats_inc(cl->stats, CP_STAT_PEER_ERRORS);
		return;
	}
	INIT_WORK(&pw->work, push_work);
	pw->cl = cl;
	refcount_inc(&msg->ref);
	pw->msg = msg;
	pw->call.q.opcode = CACHEPEER_OP_RING_PUSH;
	pw->call.q.payload_len = msg->len;
	pw->call.payload = msg->data;
	pw->call.admit = push_admit;
	pw->call.done = push_call_done;
	atomic_inc(&cl->pushes);
	err = cp_link_call(&cl->peers, to, &pw->call);
	if (err)
		push_call_done(&pw->call, err);
}

static bool member_down(const struct cp_member *m)
{
	return m->state == CACHEPEER_MEMBER_DOWN;
}

/*
 * Relay trees and gossip go over the members that are not down: the place
 * of member idx among them (-1 if it is down, or not a member), and how
 * many there are in *n.
 */
static int live_pos(const struct cp_ring *r, int idx, u32 *n)
{
	int pos = -1;
	u32 i;

	for (*n = 0, i = 0; i < r->nmembers; i++) {
		if (member_down(&r->members[i]))
			continue;
		if (i == idx)
			pos = *n;
		(*n)++;
	}
	return pos;
}

/* The index of the member at place pos among those not down. */
static u32 live_at(const struct cp_ring *r, u32 pos)
{
	u32 i;

	for (i = 0; i < r->nmembers; i++)
		if (!member_down(&r->members[i]) && !pos--)
			break;
	return i;
}

/* msg to the members that position self relays to, in the tree rooted at root. */
static void relay(struct cp_cluster *cl, const struct cp_ring *r, u32 root,
		  struct cp_pushmsg *msg)
{
	u32 child[CACHEPEER_RING_RELAY_FANOUT], n;
	int i, k, self = live_pos(r, r->self, &n);

	if (self < 0)
		return;
	k = cp_relay_children(n, root, self, child);
	for (i = 0; i < k; i++)
		push_to(cl, &r->members[live_at(r, child[i])].addr, msg);
}

/*
 * This node's view changed by an edit made here (the n entries e), or it
 * starts (e NULL: the whole view): push that down the relay tree, rooted
 * here, or (a node that is not a member, such as one that just left) at a
 * random member, which relays it on.
 */
static void push_edit(struct cp_cluster *cl, const struct cachepeer_ring_member *e, u32 n)
{
	struct cp_ring *r = ring_locked(cl);
	struct cp_ring *p = rcu_dereference_protected(cl->prev, lockdep_is_held(&cl->lock));
	struct cp_pushmsg *msg;
	u32 root, i, nl;
	int self;

	lockdep_assert_held(&cl->lock);
	if (!cl->running || !cp_cluster_has_key(cl) || !r)
		return;
	self = live_pos(r, r->self, &nl);
	/* An edit that removed every member goes to each of the members before. */
	if (!nl) {
		msg = p && p->nmembers ?
		      view_sign(cl, false, CACHEPEER_RING_NO_RELAY, e, n) : NULL;
		for (i = 0; msg && i < p->nmembers; i++)
			if (i != p->self)
				push_to(cl, &p->members[i].addr, msg);
		if (msg)
			msg_put(msg);
		return;
	}
	root = self >= 0 ? self : get_random_u32_below(nl);
	msg = view_sign(cl, false, root, e, n);
	if (!msg) {
		cp_stats_inc(cl->stats, CP_STAT_PEER_ERRORS);
		return;
	}
	if (self >= 0)
		relay(cl, r, root, msg);
	else
		push_to(cl, &r->members[live_at(r, root)].addr, msg);
	msg_put(msg);
}

/*
 * Has ring a the same members as m (names, addresses, weights)? Then
 * whether the member called name is down in a and not in m goes to *back.
 */
static bool same_members(const struct cp_ring *a, const struct cp_member *m, u32 n,
			 const char *name, bool *back)
{
	u32 i;

	*back = false;
	if (!a || a->nmembers != n)
		return false;
	for (i = 0; i < n; i++) {
		const struct cp_member *x = &a->members[i];

		if (strcmp(x->name, m[i].name) || x->weight != m[i].weight ||
		    memcmp(&x->addr, &m[i].addr, sizeof(x->addr)))
			return false;
		*back |= member_down(x) && !member_down(&m[i]) && !strcmp(x->name, name);
	}
	return true;
}

/* Make r the ring; prev, if given, else the ring before, the previous one. */
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
	cp_ring_free_rcu(older);
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

/*
 * Make v (which the cluster takes) the view, and its live members the
 * ring. A change of versions, or of which members are down, leaves the
 * previous ring and the hand-off window as they were: keys that move to
 * the next member when their owner goes down cannot be fetched from it.
 * Except when this node comes back from being down: then the ring it was
 * down in is its previous one, to fetch what it missed. A join's previous
 * ring is the ring without this node.
 */
static int view_install(struct cp_cluster *cl, struct cp_view *v, bool join)
{
	struct cp_ring *r, *cur = ring_locked(cl);
	struct cp_member *m;
	bool back;
	const char *why;
	u32 n;

	lockdep_assert_held(&cl->lock);
	m = cp_view_members(v, &n);
	if (!m) {
		cp_view_free(v);
		return -ENOMEM;
	}
	r = cp_ring_build(m, n, v->epoch, cl->name, &why);
	if (IS_ERR(r)) {
		kvfree(m);
		cp_view_free(v);
		return PTR_ERR(r);
	}
	if (same_members(cur, m, n, cl->name, &back) && !back) {
		rcu_assign_pointer(cl->ring, r);
		cp_ring_free_rcu(cur);
	} else {
		ring_install(cl, r, join ? joined_prev(cl, r) : NULL);
	}
	kvfree(m);
	cp_view_free(cl->view);
	cl->view = v;
	WRITE_ONCE(cl->epoch, v->epoch);
	WRITE_ONCE(cl->enc_len, cp_view_enc_len(v, false));
	view_changed(cl);
	return 0;
}

/* The member's watch, made if need be; NULL if there is no room or memory. */
static struct cp_watch *watch(struct cp_cluster *cl, const char *name)
{
	u32 i, k;

	lockdep_assert_held(&cl->lock);
	for (i = 0; i < cl->nwatch; i++)
		if (!strcmp(cl->watch[i].name, name))
			return &cl->watch[i];
	if (!cl->watch) {
		cl->watch = kvcalloc(CACHEPEER_RING_MEMBERS_MAX, sizeof(*cl->watch), GFP_KERNEL);
		if (!cl->watch)
			return NULL;
	}
	/* Full: forget the members the view no longer holds. */
	if (cl->nwatch == CACHEPEER_RING_MEMBERS_MAX) {
		for (i = 0, k = 0; i < cl->nwatch; i++)
			if (cp_view_find(cl->view, cl->watch[i].name) >= 0)
				cl->watch[k++] = cl->watch[i];
		cl->nwatch = k;
		if (k == CACHEPEER_RING_MEMBERS_MAX)
			return NULL;
	}
	memset(&cl->watch[cl->nwatch], 0, sizeof(cl->watch[0]));
	strscpy(cl->watch[cl->nwatch].name, name);
	return &cl->watch[cl->nwatch++];
}

/*
 * Set the liveness of the view's entry idx, as a change made here, and
 * push it. Its version stays: liveness merges apart from it.
 */
static void live_set(struct cp_cluster *cl, int idx, u8 state, u32 incarnation)
{
	struct cachepeer_ring_member ch = cl->view->e[idx];
	struct cp_view *v;
	bool lacks;

	lockdep_assert_held(&cl->lock);
	ch.state = state;
	ch.incarnation = cpu_to_be32(incarnation);
	v = cp_view_merge(cl->view, &ch, 1, 0, CP_MERGE_EDIT, &lacks);
	if (IS_ERR(v) || view_install(cl, v, false))
		return;
	push_edit(cl, &ch, 1);
}

/* A view that holds this node suspect or down is refuted, as SWIM does. */
static void refute(struct cp_cluster *cl)
{
	int idx = cl->name[0] ? cp_view_find(cl->view, cl->name) : -1;
	const struct cachepeer_ring_member *e;
	struct cachepeer_ring_member ch;
	struct cp_view *v;
	bool lacks;
	u64 ver;

	lockdep_assert_held(&cl->lock);
	if (idx < 0)
		return;
	e = &cl->view->e[idx];
	if (cp_entry_removed(e) || e->state == CACHEPEER_MEMBER_ALIVE)
		return;
	cp_stats_inc(cl->stats, CP_STAT_MEMBER_REFUTED);
	if (be32_to_cpu(e->incarnation) < U32_MAX) {
		live_set(cl, idx, CACHEPEER_MEMBER_ALIVE, be32_to_cpu(e->incarnation) + 1);
		return;
	}
	/* No incarnation above: an edit of its own entry, alive at 0, wins instead. */
	ch = *e;
	ch.state = CACHEPEER_MEMBER_ALIVE;
	ch.incarnation = 0;
	if (cp_view_next(cl->view, now_ms(), &ver))
		return;
	ch.version = cpu_to_be64(ver);
	v = cp_view_merge(cl->view, &ch, 1, 0, CP_MERGE_EDIT, &lacks);
	if (!IS_ERR(v) && !view_install(cl, v, false))
		push_edit(cl, &ch, 1);
}

/*
 * Each second: a member held suspect too long is down. The node whose
 * probe failed declares it after CP_SUSPECT_MS; the others wait twice as
 * long, in case that node went away, so that one push usually does it.
 */
static void suspects_expire(struct cp_cluster *cl)
{
	u32 i;

	lockdep_assert_held(&cl->lock);
	for (i = 0; cl->view && i < cl->view->n; i++) {
		const struct cachepeer_ring_member *e = &cl->view->e[i];
		u32 inc = be32_to_cpu(e->incarnation);
		struct cp_watch *w;

		if (e->state != CACHEPEER_MEMBER_SUSPECT || cp_entry_removed(e) ||
		    !strcmp(e->name, cl->name))
			continue;
		w = watch(cl, e->name);
		if (!w)
			continue;
		if (!w->suspect_since || w->incarnation != inc) {
			w->suspect_since = jiffies;
			w->incarnation = inc;
			w->mine = false;
			continue;
		}
		if (time_before(jiffies, w->suspect_since +
				msecs_to_jiffies(CP_SUSPECT_MS * (w->mine ? 1 : 2))))
			continue;
		cp_stats_inc(cl->stats, CP_STAT_MEMBER_DOWN);
		live_set(cl, i, CACHEPEER_MEMBER_DOWN, inc);
	}
}

enum { PROBE_PING, PROBE_PINGED, PROBE_ASKED };

/* Any context: a call of the probe ended; the last of its step moves it on. */
static void probe_done(struct cp_call *call, int err)
{
	struct cp_probe_call *pc = container_of(call, struct cp_probe_call, call);
	struct cp_cluster *cl = pc->cl;
	struct cp_probe *pr = &cl->probe;

	if (call->q.opcode == CACHEPEER_OP_PING) {
		if (cp_cluster_pinged(call, err))
			WRITE_ONCE(pr->ok, true);
	} else if (!err && call->r.status == CACHEPEER_S_OK) {
		WRITE_ONCE(pr->ok, true);
	} else if (!err && call->r.status == CACHEPEER_S_NOT_FOUND) {
		WRITE_ONCE(pr->evidence, true);
	}
	/* Ordered after the writes above: probe_work reads them. */
	if (atomic_dec_and_test(&pr->pending))
		queue_work(cp_peer_wq, &cl->probe_work);
}

/*
 * From probe_work: make the step's calls, n of them from call[first] on,
 * to ask op of the members at to[]. The last to end, here or later,
 * queues probe_work again.
 */
static void probe_calls(struct cp_cluster *cl, u32 first, u32 n, u8 op,
			const struct cp_member *to)
{
	struct cp_probe *pr = &cl->probe;
	u32 i;

	atomic_set(&pr->pending, n);
	for (i = 0; i < n; i++) {
		struct cp_probe_call *pc = &pr->call[first + i];
		int err;

		memset(pc, 0, sizeof(*pc));
		pc->cl = cl;
		pc->call.q.opcode = op;
		if (op == CACHEPEER_OP_PROBE) {
			pc->call.q.key_len = strlen(pr->target.name);
			pc->call.key = pr->target.name;
		}
		pc->call.ms = op == CACHEPEER_OP_PING ? CP_PING_MS : CP_PROBE_MS;
		pc->call.done = probe_done;
		err = cp_link_call(&cl->peers, &to[i].addr, &pc->call);
		if (err)
			probe_done(&pc->call, err);
	}
}

/*
 * Under cl->lock: pick the probe's target, the next member round the
 * ring that is not down, and up to CP_PROBE_HELPERS others to ask if it
 * does not answer. False if there is no one to probe.
 */
static bool probe_pick(struct cp_cluster *cl)
{
	struct cp_probe *pr = &cl->probe;
	struct cp_ring *r = ring_locked(cl);
	u32 i, k;
	int idx;

	lockdep_assert_held(&cl->lock);
	if (!cl->running || !r || r->self < 0 || r->nmembers < 2)
		return false;
	/* Not itself, and not one down: that one comes back by refuting it. */
	for (i = 0; i < r->nmembers; i++) {
		k = cl->probe_next++ % r->nmembers;
		if (k != r->self && !member_down(&r->members[k]))
			break;
	}
	if (i == r->nmembers)
		return false;
	pr->target = r->members[k];
	idx = cp_view_find(cl->view, pr->target.name);
	if (idx < 0)
		return false;
	pr->inc = be32_to_cpu(cl->view->e[idx].incarnation);
	pr->nh = 0;
	for (i = 0; i < 4 * CP_PROBE_HELPERS && pr->nh < CP_PROBE_HELPERS; i++) {
		u32 h = get_random_u32_below(r->nmembers);

		if (h != k && h != r->self && !member_down(&r->members[h]) &&
		    (!pr->nh || strcmp(pr->helper[0].name, r->members[h].name)))
			pr->helper[pr->nh++] = r->members[h];
	}
	pr->ok = false;
	pr->evidence = !pr->nh;
	return true;
}

/* Under cl->lock: the probe is over; what it found of its target. */
static void probe_end(struct cp_cluster *cl)
{
	struct cp_probe *pr = &cl->probe;
	struct cp_watch *w;
	int idx;

	lockdep_assert_held(&cl->lock);
	w = watch(cl, pr->target.name);
	idx = cp_view_find(cl->view, pr->target.name);
	if (pr->ok && w) {
		w->heard = jiffies;
	} else if (!pr->ok && pr->evidence && idx >= 0 && cl->running &&
		   !cp_entry_removed(&cl->view->e[idx]) &&
		   cl->view->e[idx].state == CACHEPEER_MEMBER_ALIVE &&
		   be32_to_cpu(cl->view->e[idx].incarnation) == pr->inc) {
		/* Still alive at the incarnation probed: a refutation since is not suspected. */
		cp_stats_inc(cl->stats, CP_STAT_MEMBER_SUSPECT);
		if (w) {
			w->suspect_since = jiffies;
			w->incarnation = pr->inc;
			w->mine = true;
		}
		live_set(cl, idx, CACHEPEER_MEMBER_SUSPECT, pr->inc);
	}
}

/*
 * One probe, queued by gossip_work, on cp_peer_wq, a step at a time: PING
 * the next member round the ring that is not down; if it does not answer,
 * ask two others to (PROBE). It is suspect (and pushed as such) if none
 * reaches it and one at least says so: a node that reaches no one at all
 * is more likely cut off itself, and suspects no one. A PING that found
 * the link to the member full is an answer: the member is working.
 */
static void probe_work(struct work_struct *work)
{
	struct cp_cluster *cl = container_of(work, struct cp_cluster, probe_work);
	struct cp_probe *pr = &cl->probe;

	switch (pr->step) {
	case PROBE_PING:
		mutex_lock(&cl->lock);
		if (!probe_pick(cl)) {
			cl->probing = false;
			mutex_unlock(&cl->lock);
			return;
		}
		mutex_unlock(&cl->lock);
		cp_stats_inc(cl->stats, CP_STAT_PROBES);
		pr->step = PROBE_PINGED;
		probe_calls(cl, 0, 1, CACHEPEER_OP_PING, &pr->target);
		return;
	case PROBE_PINGED:
		if (!READ_ONCE(pr->ok) && pr->nh) {
			pr->step = PROBE_ASKED;
			probe_calls(cl, 1, pr->nh, CACHEPEER_OP_PROBE, pr->helper);
			return;
		}
		break;
	}
	mutex_lock(&cl->lock);
	probe_end(cl);
	cl->probing = false;
	mutex_unlock(&cl->lock);
}

/* Any context: the address of the ring member named name, if there is one. */
bool cp_cluster_member_addr(struct cp_cluster *cl, const char *name, union cp_addr *to)
{
	const struct cp_ring *r;
	bool found = false;
	int i;

	rcu_read_lock();
	r = rcu_dereference(cl->ring);
	i = r ? cp_ring_find(r, name) : -1;
	if (i >= 0) {
		*to = r->members[i].addr;
		found = true;
	}
	rcu_read_unlock();
	return found;
}

/* Process context: jiffies when name last answered this node's probe; 0: never. */
unsigned long cp_cluster_heard(struct cp_cluster *cl, const char *name)
{
	unsigned long heard = 0;
	u32 i;

	lockdep_assert_held(&cl->lock);
	for (i = 0; i < cl->nwatch; i++)
		if (!strcmp(cl->watch[i].name, name))
			heard = cl->watch[i].heard;
	return heard;
}

/*
 * A signed encoding from a member: a view (whole or partial), merged if it
 * brings news (and relayed on, if it is a push down a relay tree), or a
 * digest (*digest). Sets *answer if the sender should get an answer (for
 * a digest, view_since() its epoch, which goes to *epoch).
 */
static u16 view_in(struct cp_cluster *cl, const void *msg, size_t len, bool *answer,
		   u64 *epoch, bool *digest)
{
	size_t enc_len = len - CACHEPEER_HMAC_LEN;
	const struct cachepeer_ring_member *in;
	const struct cachepeer_ring_hdr *h;
	struct cp_pushmsg *fwd = NULL;
	struct cp_view *merged;
	u16 root = CACHEPEER_RING_NO_RELAY;
	unsigned int how;
	int self;
	u32 nl = 0;
	bool news, lacks;
	const char *why;
	struct cp_ring *r;
	s64 age;
	u64 now;
	int pos;

	*answer = false;
	if (len < sizeof(*h) + CACHEPEER_HMAC_LEN)
		return CACHEPEER_S_BAD_REQUEST;
	if (!cp_keys_verify(cl->keys, msg, enc_len, msg + enc_len)) {
		cp_stats_inc(cl->stats, CP_STAT_RING_REFUSED);
		trace_cachepeer_ring(READ_ONCE(cl->epoch), 0, "refused: signature");
		return CACHEPEER_S_DENIED;
	}
	in = cp_view_parse(msg, enc_len, &h, &why);
	/*
	 * Versions are the editors' clocks (or just above the epoch): one
	 * far ahead of the signer's would hold edits back everywhere.
	 */
	if (!in || be64_to_cpu(h->epoch) > be64_to_cpu(h->time_ms) + CP_VIEW_TOMBSTONE_MS) {
		trace_cachepeer_ring(READ_ONCE(cl->epoch), 0, "refused: malformed");
		return CACHEPEER_S_BAD_REQUEST;
	}
	now = now_ms();
	age = now - be64_to_cpu(h->time_ms);
	if (age > (s64)CP_PUSH_MAX_AGE_MS || age < -(s64)CP_PUSH_MAX_AGE_MS) {
		pr_warn_ratelimited("ring push signed %lld s %s this node's clock, refused; are the members' clocks in sync?\n",
				    abs(age) / 1000, age > 0 ? "before" : "after");
		cp_stats_inc(cl->stats, CP_STAT_RING_REFUSED);
		trace_cachepeer_ring(READ_ONCE(cl->epoch), be64_to_cpu(h->epoch), "refused: age");
		return CACHEPEER_S_DENIED;
	}

	*epoch = be64_to_cpu(h->epoch);
	*digest = h->flags & CACHEPEER_RING_F_DIGEST;
	mutex_lock(&cl->lock);
	view_expire(cl, now);
	if (h->flags & CACHEPEER_RING_F_DIGEST) {
		*answer = be64_to_cpu(h->digest) != cp_view_digest(cl->view);
		goto out;
	}
	how = h->flags & CACHEPEER_RING_F_PARTIAL ? CP_MERGE_PARTIAL : 0;
	news = cp_view_news(cl->view, in, ntohs(h->nmembers), be64_to_cpu(h->floor), how,
			    &lacks);
	r = ring_locked(cl);
	if (news) {
		merged = cp_view_merge(cl->view, in, ntohs(h->nmembers), be64_to_cpu(h->floor),
				       how, &lacks);
		if (IS_ERR(merged) || view_install(cl, merged, false)) {
			mutex_unlock(&cl->lock);
			return CACHEPEER_S_BUSY;
		}
		cp_stats_inc(cl->stats, CP_STAT_RING_ACCEPTED);
		trace_cachepeer_ring(cl->epoch, *epoch, "accepted");
		refute(cl);
		r = ring_locked(cl);
		root = ntohs(h->relay_root);
		live_pos(r, r->self, &nl);
		fwd = root < nl && cl->running ? msg_alloc(len) : NULL;
		if (fwd) {
			memcpy(fwd->data, msg, len);
			relay(cl, r, root, fwd);
			msg_put(fwd);
		}
	} else {
		cp_stats_inc(cl->stats, CP_STAT_RING_STALE);
		trace_cachepeer_ring(cl->epoch, *epoch, "stale");
	}
	/*
	 * Down a relay tree only the root and its children answer: the root
	 * then has the rest of the views, and the others keep quiet.
	 */
	root = ntohs(h->relay_root);
	self = r ? live_pos(r, r->self, &nl) : -1;
	pos = self >= 0 && root < nl ? (self + nl - root) % nl : 0;
	*answer = lacks && pos <= CACHEPEER_RING_RELAY_FANOUT;
out:
	mutex_unlock(&cl->lock);
	return CACHEPEER_S_OK;
}

static void gossip_work(struct work_struct *work)
{
	struct cp_cluster *cl = container_of(to_delayed_work(work), struct cp_cluster,
					     gossip_work);
	struct cp_pushmsg *msg = NULL;
	struct cp_ring *r;
	u32 i, k, nl = 0;
	int self;

	cp_peers_expire(&cl->peers);
	cp_links_expire(&cl->peers, false);
	mutex_lock(&cl->lock);
	view_expire(cl, now_ms());
	suspects_expire(cl);
	/* In case the refutation on the push that said so could not be made. */
	refute(cl);
	r = ring_locked(cl);
	if (cl->running && r && r->self >= 0 && r->nmembers > 1 && cp_cluster_has_key(cl))
		msg = view_sign(cl, true, CACHEPEER_RING_NO_RELAY, NULL, 0);
	if (msg && !cl->probing) {
		cl->probing = true;
		cl->probe.step = PROBE_PING;
		queue_work(cp_peer_wq, &cl->probe_work);
	}
	self = msg ? live_pos(r, r->self, &nl) : -1;
	for (i = 0; self >= 0 && nl > 1 && i < CP_GOSSIP_FANOUT; i++) {
		/* Uniform over the others that are not down. */
		k = get_random_u32_below(nl - 1);
		push_to(cl, &r->members[live_at(r, k + (k >= self))].addr, msg);
	}
	if (msg)
		msg_put(msg);
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
	INIT_WORK(&cl->probe_work, probe_work);
	cp_peers_init(&cl->peers, net, keys, stats);
	cp_links_init(&cl->peers);
	cl->handoff_s = CACHEPEER_HANDOFF_DEFAULT;
	cl->miss = CACHEPEER_MISS_FORWARD;
	cl->enc_len = cp_view_enc_len(NULL, false);
}

/*
 * The node runs: push the view it has (the members that answer send back
 * what it missed while stopped), and keep gossiping.
 */
void cp_cluster_start(struct cp_cluster *cl)
{
	cp_peers_start(&cl->peers);
	cp_links_start(&cl->peers);
	mutex_lock(&cl->lock);
	cl->running = true;
	cl->probe_next = get_random_u32();
	/* A view saved while this node was held down is not pushed as such. */
	if (cl->view)
		refute(cl);
	push_edit(cl, NULL, 0);
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
	cp_links_stop(&cl->peers);
	cancel_delayed_work_sync(&cl->gossip_work);
	/*
	 * The probe's calls have ended (cp_links_stop()), and those it makes
	 * now fail at once; its next step may not run, and so not say so.
	 */
	cancel_work_sync(&cl->probe_work);
	mutex_lock(&cl->lock);
	cl->probing = false;
	mutex_unlock(&cl->lock);
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
	cp_view_free(cl->view);
	cl->view = NULL;
	kvfree(cl->watch);
	cl->watch = NULL;
	cl->nwatch = 0;
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
		view_changed(cl);
	}
	mutex_unlock(&cl->lock);
	return err;
}

static int entry_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cachepeer_ring_member *)a)->name,
		      ((const struct cachepeer_ring_member *)b)->name);
}

/* Does e (a live entry) hold the same member as m, version and liveness aside? */
static bool entry_is(const struct cachepeer_ring_member *e, const struct cp_member *m)
{
	struct cachepeer_ring_member x;

	cp_entry_set(&x, m, cp_entry_version(e), 0);
	return !memcmp(&x, e, offsetof(struct cachepeer_ring_member, incarnation));
}

static bool addr_taken(const struct cp_view *v, const struct cachepeer_ring_member *e)
{
	u32 i;

	for (i = 0; v && i < v->n; i++)
		if (!cp_entry_removed(&v->e[i]) && strcmp(v->e[i].name, e->name) &&
		    v->e[i].family == e->family && v->e[i].port == e->port &&
		    !memcmp(v->e[i].addr, e->addr, sizeof(e->addr)))
			return true;
	return false;
}

/*
 * The entries a RING_SET of m (n members) changes in cur, with version
 * ver, into ch; how many. A join's other members get version 0: any entry
 * the cluster holds for them wins.
 */
static int set_changes(const struct cp_view *cur, const struct cp_member *m, u32 n, u64 ver,
		       bool join, const char *self, struct cachepeer_ring_member *ch,
		       const char **why)
{
	u32 i, k = 0;

	for (i = 0; i < n; i++) {
		int idx = cp_view_find(cur, m[i].name);
		u64 v = join && strcmp(m[i].name, self) ? 0 : ver;

		if (idx >= 0 && !cp_entry_removed(&cur->e[idx]) && entry_is(&cur->e[idx], &m[i]))
			continue;
		cp_entry_set(&ch[k], &m[i], v, 0);
		/* An edit does not touch liveness, which the member itself owns. */
		if (idx >= 0) {
			ch[k].incarnation = cur->e[idx].incarnation;
			ch[k].state = cur->e[idx].state;
		}
		k++;
	}
	/* Members the list lacks are removed. */
	for (i = 0; cur && i < cur->n; i++) {
		u32 j;

		if (cp_entry_removed(&cur->e[i]))
			continue;
		for (j = 0; j < n && strcmp(m[j].name, cur->e[i].name); j++)
			;
		if (j == n) {
			ch[k] = cur->e[i];
			ch[k].flags |= CACHEPEER_MEMBER_F_REMOVED;
			ch[k++].version = cpu_to_be64(ver);
		}
	}
	sort(ch, k, sizeof(*ch), entry_name_cmp, NULL);
	for (i = 1; i < k; i++)
		if (!entry_name_cmp(&ch[i - 1], &ch[i])) {
			*why = "duplicate member name";
			return -EINVAL;
		}
	return k;
}

/*
 * Process context. Apply an edit to the view, each changed entry at a new
 * version, and push it.
 */
int cp_cluster_edit(struct cp_cluster *cl, enum cp_ring_edit op, const struct cp_member *m,
		    u32 n, u64 base_epoch, const char **why)
{
	struct cachepeer_ring_member *ch;
	struct cp_view *cur, *v;
	bool join = false, lacks;
	int idx, k = 0, err;
	u64 ver;
	u32 i, j;

	*why = NULL;
	ch = kvcalloc((size_t)n + CACHEPEER_RING_MEMBERS_MAX + 1, sizeof(*ch), GFP_KERNEL);
	if (!ch)
		return -ENOMEM;
	mutex_lock(&cl->lock);
	view_expire(cl, now_ms());
	cur = cl->view;
	err = cp_view_next(cur, now_ms(), &ver);
	if (!err && op == CP_RING_SET && base_epoch) {
		/* Past the seed's epoch; 2^64 - 1 is a version no push may carry. */
		err = base_epoch >= U64_MAX - 1 ? -ERANGE : 0;
		ver = max(ver, base_epoch + 1);
		/* A join: this node, in the list, has no live member in its view yet. */
		for (join = true, i = 0; cur && i < cur->n; i++)
			join &= cp_entry_removed(&cur->e[i]);
		for (i = 0; join && i < n && strcmp(m[i].name, cl->name); i++)
			;
		join &= i < n;
	}
	if (err) {
		*why = "the ring's epoch would pass 2^64 - 1";
		goto out;
	}
	idx = op == CP_RING_SET ? -1 : cp_view_find(cur, m->name);
	if (idx >= 0 && cp_entry_removed(&cur->e[idx]))
		idx = -1;
	/* One that another member's entry with its address keeps out of the ring. */
	if (idx >= 0 && op == CP_RING_WEIGHT && cp_ring_find(ring_locked(cl), m->name) < 0)
		idx = -1;
	err = -EINVAL;
	switch (op) {
	case CP_RING_SET:
		for (i = 0; i < n; i++)
			for (j = 0; j < i; j++)
				if (!memcmp(&m[i].addr, &m[j].addr, sizeof(m->addr)))
					*why = "duplicate member address";
		if (*why)
			goto out;
		k = set_changes(cur, m, n, ver, join, cl->name, ch, why);
		if (k < 0)
			goto out;
		break;
	case CP_RING_ADD:
		if (idx >= 0) {
			*why = "a member of that name is already in the ring";
			err = -EEXIST;
			goto out;
		}
		cp_entry_set(&ch[k++], m, ver, 0);
		if (addr_taken(cur, ch)) {
			*why = "duplicate member address";
			goto out;
		}
		break;
	case CP_RING_DEL:
	case CP_RING_WEIGHT:
		if (idx < 0) {
			*why = "no member of that name in the ring";
			err = -ENOENT;
			goto out;
		}
		ch[k] = cur->e[idx];
		ch[k].version = cpu_to_be64(ver);
		if (op == CP_RING_DEL)
			ch[k].flags |= CACHEPEER_MEMBER_F_REMOVED;
		else
			ch[k].weight = cpu_to_be16(m->weight);
		k++;
		break;
	}
	err = 0;
	if (!k)
		goto out;
	v = cp_view_merge(cur, ch, k, 0, CP_MERGE_EDIT, &lacks);
	if (IS_ERR(v)) {
		err = PTR_ERR(v);
		if (err == -E2BIG)
			*why = "too many ring members (removed ones are kept for a day)";
		goto out;
	}
	err = view_install(cl, v, join);
	if (!err)
		push_edit(cl, ch, k);
out:
	mutex_unlock(&cl->lock);
	kvfree(ch);
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
		int now;

		p = rcu_dereference(cl->prev);
		o = p ? cp_ring_owner(p, hash) : -1;
		/* Not from a previous owner that is down now: it would not answer. */
		now = o >= 0 ? cp_ring_find(r, p->members[o].name) : -1;
		if (o >= 0 && o != READ_ONCE(p->self) &&
		    !(now >= 0 && r->members[now].state == CACHEPEER_MEMBER_DOWN)) {
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

/* Any context: how long the view's encoding is now, for RING_GET's charge. */
size_t cp_cluster_enc_len(struct cp_cluster *cl)
{
	return READ_ONCE(cl->enc_len);
}

/* Process context. The view's encoding, kvmalloc'd, for RING_GET. */
void *cp_cluster_encode(struct cp_cluster *cl, size_t *len, char *name)
{
	struct cachepeer_ring_hdr *h;

	mutex_lock(&cl->lock);
	*len = cp_view_enc_len(cl->view, false);
	h = kvmalloc(*len, GFP_KERNEL);
	if (h) {
		cp_view_encode(cl->view, h, false);
		h->time_ms = cpu_to_be64(now_ms());
	}
	/* With the view it goes with, for the node to save both. */
	if (name)
		strscpy(name, cl->name, CACHEPEER_NAME_MAX + 1);
	mutex_unlock(&cl->lock);
	return h;
}

/* Is e at the address this node listens on (any address of it, if it listens on all)? */
static bool entry_at(const struct cachepeer_ring_member *e, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *sin6 = (const void *)ss;
	const struct sockaddr_in *sin = (const void *)ss;

	if (ss->ss_family == AF_INET)
		return e->family == 4 && e->port == sin->sin_port &&
		       (sin->sin_addr.s_addr == htonl(INADDR_ANY) ||
			!memcmp(e->addr, &sin->sin_addr, sizeof(sin->sin_addr)));
	return ss->ss_family == AF_INET6 && e->family == 6 && e->port == sin6->sin6_port &&
	       (ipv6_addr_any(&sin6->sin6_addr) ||
		!memcmp(e->addr, &sin6->sin6_addr, sizeof(sin6->sin6_addr)));
}

/*
 * Process context, the node starting on listen: the view (a whole
 * encoding, checked here as a push's would be) and name it saved in its
 * cache directory, taken if it holds no view of its own (one kept in memory
 * since the node stopped is as new), with the name unless one is set. Not
 * if the view has the node at another address: the directory is another
 * node's (a cloned disk, a moved one), or the node moved. -EBADMSG,
 * -ERANGE or -EADDRNOTAVAIL: not taken. Nothing is pushed here: starting
 * pushes the view.
 */
int cp_cluster_restore(struct cp_cluster *cl, const void *enc, size_t len, const char *name,
		       const struct sockaddr_storage *listen)
{
	const struct cachepeer_ring_member *in;
	const struct cachepeer_ring_hdr *h;
	struct cp_view *v;
	const char *why;
	int err = 0;
	u32 n, i;

	in = cp_view_parse(enc, len, &h, &why);
	if (!in || h->flags)
		return -EBADMSG;
	/* As a push's: an epoch from the future would make every edit refused. */
	if (be64_to_cpu(h->epoch) > now_ms() + CP_VIEW_TOMBSTONE_MS)
		return -ERANGE;
	n = ntohs(h->nmembers);
	mutex_lock(&cl->lock);
	if (cl->view && (cl->view->n || cl->view->epoch))
		goto out;
	if (cl->name[0])
		name = cl->name;
	for (i = 0; i < n; i++) {
		if (!strcmp(in[i].name, name) && !cp_entry_removed(&in[i]) &&
		    !entry_at(&in[i], listen)) {
			err = -EADDRNOTAVAIL;
			goto out;
		}
	}
	/* Before the ring is built, which finds this node in it by name. */
	if (!cl->name[0])
		strscpy(cl->name, name);
	v = cp_view_alloc(n);
	if (!v) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(v->e, in, n * sizeof(*in));
	v->epoch = be64_to_cpu(h->epoch);
	v->floor = be64_to_cpu(h->floor);
	err = view_install(cl, v, false);
out:
	mutex_unlock(&cl->lock);
	return err;
}

/*
 * Process context. A RING_PUSH payload: merge it. If the sender lacks
 * something this node holds and reply is not NULL, *reply is this node's
 * own signed view.
 */
u16 cp_cluster_push_in(struct cp_cluster *cl, const void *msg, size_t len,
		       struct cp_pbuf **reply)
{
	struct cp_pushmsg *own;
	bool answer, digest;
	u16 status;
	u64 epoch;

	status = view_in(cl, msg, len, &answer, &epoch, &digest);
	if (status != CACHEPEER_S_OK || !answer || !reply)
		return status;
	mutex_lock(&cl->lock);
	own = view_since(cl, digest ? epoch : U64_MAX);
	mutex_unlock(&cl->lock);
	if (own && msg_sign(cl, own)) {
		*reply = cp_pbuf_from(own->data, own->len);
		cp_stats_inc(cl->stats, CP_STAT_RING_SENT);
		msg_put(own);
	}
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
