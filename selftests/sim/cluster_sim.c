// SPDX-License-Identifier: GPL-2.0
/*
 * A discrete-event simulation of a cluster's membership traffic, built from
 * the module's own view code (kmod/view.c and ring.c, unchanged, as the
 * fuzzers build them) and mirroring what kmod/cluster.c does with it:
 *
 *   - an edit is pushed down the relay tree rooted at the node that made it;
 *     a node relays a push only if it brought news, and answers with its
 *     whole view only if it is the root's child and the push lacked something;
 *   - every node sends a digest to two random members each second; one whose
 *     view differs answers with its whole view, and the asker sends its own
 *     back if the answer lacks anything.
 *
 * Every message takes LATENCY_MS; a lost one is never delivered (a timeout,
 * as far as the sender is concerned). Scenarios: one change, the same with
 * 5 % of messages lost, and two halves that each make a change while
 * partitioned, then heal. For each: the time until every node holds the
 * same view, the messages and bytes sent.
 *
 *   cluster_sim [-n MEMBERS] [-s SEED] [-c]
 *
 * With -c (make check) it fails if a scenario does not converge within a
 * minute of simulated time, or if the one-change scenario costs more than
 * 3 N messages.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"
#include "view.h"

#define LATENCY_MS	2
#define GOSSIP_MS	1000
#define GOSSIP_FANOUT	2
#define LIMIT_MS	60000

enum kind { PUSH, DIGEST, ANSWER };

struct msg {
	u64 at;
	u32 from, to;
	enum kind kind;
	u16 root;			/* PUSH: relay root, or CACHEPEER_RING_NO_RELAY */
	u64 digest;			/* DIGEST: the sender's */
	u64 epoch;			/* the sender's view's */
	struct cp_view *v;		/* PUSH, ANSWER: the entries (and floor) sent */
	bool partial;			/* v is only an edit's entries */
};

struct node {
	struct cp_view *v;
	u64 digest;			/* of v */
	u64 next_gossip;
	int side;			/* partition side */
};

static struct node *nodes;
static u32 nn;
static struct msg *q;			/* a binary heap by time */
static u32 qn, qcap;
static u64 now, views, digests, bytes, lost_pct;
static bool partitioned;

static u32 rnd(u32 below)
{
	return (u32)(((u64)random() << 16 ^ random()) % below);
}

static struct cp_view *copy(const struct cp_view *v)
{
	struct cp_view *c = cp_view_alloc(v->n);

	if (!c)
		abort();
	memcpy(c->e, v->e, v->n * sizeof(v->e[0]));
	c->epoch = v->epoch;
	c->floor = v->floor;
	return c;
}

static void set_view(u32 i, struct cp_view *v)
{
	cp_view_free(nodes[i].v);
	nodes[i].v = v;
	nodes[i].digest = cp_view_digest(v);
}

static void heap_push(struct msg m)
{
	u32 i;

	if (qn == qcap) {
		qcap = qcap ? 2 * qcap : 1024;
		q = realloc(q, qcap * sizeof(*q));
		if (!q)
			abort();
	}
	for (i = qn++; i && q[(i - 1) / 2].at > m.at; i = (i - 1) / 2)
		q[i] = q[(i - 1) / 2];
	q[i] = m;
}

static struct msg heap_pop(void)
{
	struct msg top = q[0], last = q[--qn];
	u32 i = 0, c;

	while ((c = 2 * i + 1) < qn) {
		if (c + 1 < qn && q[c + 1].at < q[c].at)
			c++;
		if (q[c].at >= last.at)
			break;
		q[i] = q[c];
		i = c;
	}
	q[i] = last;
	return top;
}

/* A message: a digest of from's view, or v (NULL: from's whole view). */
static void send_msg(u32 from, u32 to, enum kind kind, u16 root, const struct cp_view *v,
		     bool partial)
{
	struct msg m = { .at = now + LATENCY_MS, .from = from, .to = to, .kind = kind,
			 .root = root, .partial = partial };

	if (!v)
		v = nodes[from].v;
	if (kind == DIGEST)
		digests++;
	else
		views++;
	bytes += cp_view_enc_len(v, kind == DIGEST) + CACHEPEER_HMAC_LEN;
	if (rnd(100) < lost_pct || (partitioned && nodes[from].side != nodes[to].side))
		return;
	m.epoch = nodes[from].v->epoch;
	if (kind == DIGEST)
		m.digest = nodes[from].digest;
	else
		m.v = copy(v);
	heap_push(m);
}

/* The node's ring: its view's live members in name order, and its place. */
static u32 members(u32 i, int *self, u32 *idx)
{
	struct cp_member *m;
	char name[16];
	u32 n, k;

	m = cp_view_members(nodes[i].v, &n);
	if (!m)
		abort();
	snprintf(name, sizeof(name), "m%u", i);
	*self = -1;
	for (k = 0; k < n; k++) {
		idx[k] = atoi(m[k].name + 1);
		if (!strcmp(m[k].name, name))
			*self = k;
	}
	free(m);
	return n;
}

/* The push v (partial or not) from node i to its children under root. */
static void relay(u32 i, u16 root, const struct cp_view *v, bool partial)
{
	u32 child[CACHEPEER_RING_RELAY_FANOUT], *idx = malloc(nn * sizeof(*idx));
	int self, k, c;
	u32 n;

	if (!idx)
		abort();
	n = members(i, &self, idx);
	if (self >= 0) {
		k = cp_relay_children(n, root, self, child);
		for (c = 0; c < k; c++)
			send_msg(i, idx[child[c]], PUSH, root, v, partial);
	}
	free(idx);
}

/* An edit made at node i (its entries e): push it down the tree rooted there. */
static void edit_pushed(u32 i, const struct cp_view *e)
{
	u32 *idx = malloc(nn * sizeof(*idx));
	int self;

	if (!idx)
		abort();
	members(i, &self, idx);
	free(idx);
	if (self >= 0)
		relay(i, self, e, true);
}

/* Merge what a message carries at node i; whether the sender lacked something. */
static bool merge_in(u32 i, const struct cp_view *in, bool partial, bool *news)
{
	unsigned int how = partial ? CP_MERGE_PARTIAL : 0;
	struct cp_view *merged;
	bool lacks;

	*news = cp_view_news(nodes[i].v, in->e, in->n, in->floor, how, &lacks);
	if (!*news)
		return lacks;
	merged = cp_view_merge(nodes[i].v, in->e, in->n, in->floor, how, &lacks);
	if (IS_ERR(merged))
		abort();
	set_view(i, merged);
	return lacks;
}

/*
 * As cluster.c's view_since(): ahead of since, what is newer (partial);
 * behind it, nothing (partial, empty); of one epoch, the whole view.
 */
static void answer_since(u32 i, u32 to, enum kind kind, u64 since)
{
	const struct cp_view *v = nodes[i].v;
	struct cp_view *part;
	u32 k, n = 0;

	if (v->epoch == since) {
		send_msg(i, to, kind, CACHEPEER_RING_NO_RELAY, NULL, false);
		return;
	}
	part = cp_view_alloc(v->n);
	if (!part)
		abort();
	for (k = 0; v->epoch > since && k < v->n; k++)
		if (cp_entry_version(&v->e[k]) > since || v->e[k].state != CACHEPEER_MEMBER_ALIVE)
			part->e[n++] = v->e[k];
	part->n = n;
	part->floor = v->floor;
	part->epoch = v->epoch;
	send_msg(i, to, kind, CACHEPEER_RING_NO_RELAY, part, true);
	cp_view_free(part);
}

static void deliver(struct msg *m)
{
	u32 *idx;
	bool news, lacks;
	int self, pos;
	u32 n;

	switch (m->kind) {
	case DIGEST:
		if (m->digest != nodes[m->to].digest)
			answer_since(m->to, m->from, ANSWER, m->epoch);
		break;
	case ANSWER:
		lacks = merge_in(m->to, m->v, m->partial, &news);
		if (nodes[m->to].v->epoch > m->epoch)
			answer_since(m->to, m->from, PUSH, m->epoch);
		else if (lacks)
			send_msg(m->to, m->from, PUSH, CACHEPEER_RING_NO_RELAY, NULL, false);
		break;
	case PUSH:
		lacks = merge_in(m->to, m->v, m->partial, &news);
		if (news && m->root != CACHEPEER_RING_NO_RELAY)
			relay(m->to, m->root, m->v, m->partial);
		idx = malloc(nn * sizeof(*idx));
		if (!idx)
			abort();
		n = members(m->to, &self, idx);
		free(idx);
		pos = self >= 0 && m->root < n ? (self + n - m->root) % n : 0;
		if (lacks && pos <= CACHEPEER_RING_RELAY_FANOUT)
			send_msg(m->to, m->from, ANSWER, CACHEPEER_RING_NO_RELAY, NULL, false);
		break;
	}
	cp_view_free(m->v);
}

static void gossip(u32 i)
{
	u32 k, g;

	for (g = 0; g < GOSSIP_FANOUT && nn > 1; g++) {
		k = rnd(nn - 1);
		send_msg(i, k + (k >= i), DIGEST, CACHEPEER_RING_NO_RELAY, NULL, false);
	}
}

static bool converged(void)
{
	u32 i;

	for (i = 1; i < nn; i++)
		if (nodes[i].digest != nodes[0].digest)
			return false;
	return true;
}

/* Run until every view is the same (or LIMIT_MS); the time it took, or -1. */
static long run(u64 start)
{
	u32 i;

	while (now < start + LIMIT_MS) {
		u64 next = qn ? q[0].at : U64_MAX;

		for (i = 0; i < nn; i++)
			if (nodes[i].next_gossip < next)
				next = nodes[i].next_gossip;
		now = next;
		for (i = 0; i < nn; i++) {
			if (nodes[i].next_gossip == now) {
				gossip(i);
				nodes[i].next_gossip += GOSSIP_MS;
			}
		}
		while (qn && q[0].at == now) {
			struct msg m = heap_pop();

			deliver(&m);
		}
		if (!qn && converged())
			return now - start;
	}
	return -1;
}

/* Member m<i>: 10.<i / 256>.<i % 256>.1:7000, weight 100. */
static void entry(struct cachepeer_ring_member *e, u32 i, u64 ver)
{
	struct cp_member m = { 0 };

	snprintf(m.name, sizeof(m.name), "m%u", i);
	m.addr.v4.sin_family = AF_INET;
	m.addr.v4.sin_port = htons(7000);
	m.addr.v4.sin_addr.s_addr = htonl(0x0a000001 | (i << 8));
	m.weight = CACHEPEER_WEIGHT_DEFAULT;
	cp_entry_set(e, &m, ver, 0);
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cachepeer_ring_member *)a)->name,
		      ((const struct cachepeer_ring_member *)b)->name);
}

/* Every node holds the same view of all nn members. */
static void setup(void)
{
	struct cp_view *v = cp_view_alloc(nn);
	u32 i;

	if (!v)
		abort();
	for (i = 0; i < nn; i++)
		entry(&v->e[i], i, 1000);
	qsort(v->e, nn, sizeof(v->e[0]), entry_cmp);
	v->epoch = 1000;
	for (i = 0; i < nn; i++) {
		set_view(i, copy(v));
		nodes[i].next_gossip = now + 1 + rnd(GOSSIP_MS);
		nodes[i].side = i % 2;
	}
	cp_view_free(v);
	while (qn) {
		struct msg m = heap_pop();

		cp_view_free(m.v);
	}
}

/* Node i edits member t at version ver: a new weight, or (weight < 0) its removal. */
static void edit(u32 i, u32 t, int weight, u64 ver)
{
	struct cachepeer_ring_member e;
	struct cp_view *v, *part;
	char name[16];
	bool lacks;
	int k;

	snprintf(name, sizeof(name), "m%u", t);
	k = cp_view_find(nodes[i].v, name);
	if (k < 0)
		abort();
	e = nodes[i].v->e[k];
	if (weight < 0)
		e.flags |= CACHEPEER_MEMBER_F_REMOVED;
	else
		e.weight = htons(weight);
	e.version = cpu_to_be64(ver);
	v = cp_view_merge(nodes[i].v, &e, 1, 0, CP_MERGE_EDIT, &lacks);
	part = cp_view_alloc(1);
	if (IS_ERR(v) || !part)
		abort();
	set_view(i, v);
	part->e[0] = e;
	part->floor = v->floor;
	edit_pushed(i, part);
	cp_view_free(part);
}

static u64 v0, d0, b0;

static void mark(void)
{
	v0 = views;
	d0 = digests;
	b0 = bytes;
}

static bool report(const char *what, long ms)
{
	printf("%-38s %7ld ms %7llu views %7llu digests %9.2f MB\n", what, ms,
	       (unsigned long long)(views - v0), (unsigned long long)(digests - d0),
	       (bytes - b0) / 1e6);
	return ms >= 0;
}

int main(int argc, char **argv)
{
	bool check = false, ok = true;
	u64 start;
	long ms;
	int c;

	nn = 1000;
	srandom(1);
	while ((c = getopt(argc, argv, "n:s:c")) != -1) {
		if (c == 'n')
			nn = atoi(optarg);
		else if (c == 's')
			srandom(atoi(optarg));
		else if (c == 'c')
			check = true;
		else
			return 2;
	}
	if (nn < 2 || nn > CACHEPEER_RING_MEMBERS_MAX)
		return 2;
	nodes = calloc(nn, sizeof(*nodes));
	if (!nodes)
		return 1;
	printf("%u members, %d ms a message, digests to %d members every %d ms\n", nn,
	       LATENCY_MS, GOSSIP_FANOUT, GOSSIP_MS);

	/* One change, made at node 0. */
	setup();
	mark();
	start = now;
	edit(0, nn / 2, 50, 2000);
	ms = run(start);
	ok &= report("one change", ms);
	if (check && views - v0 > 3 * (u64)nn) {
		printf("FAIL: one change cost more than 3 N views\n");
		ok = false;
	}

	/* The same, 5 % of messages lost. */
	setup();
	lost_pct = 5;
	mark();
	start = now;
	edit(0, nn / 2, 60, 3000);
	ok &= report("one change, 5 % of messages lost", run(start));
	lost_pct = 0;

	/* Two halves, a change on each while apart (relays only), then healed. */
	setup();
	partitioned = true;
	edit(0, 2, 70, 4000);
	edit(1, 3, -1, 4000);
	while (qn) {
		struct msg m = heap_pop();

		now = m.at;
		deliver(&m);
	}
	partitioned = false;
	for (c = 0; c < (int)nn; c++)
		nodes[c].next_gossip = now + 1 + rnd(GOSSIP_MS);
	mark();
	ok &= report("two changes made apart, then healed", run(now));
	if (!ok)
		printf("FAIL: a scenario did not converge within %d s\n", LIMIT_MS / 1000);
	return ok ? 0 : 1;
}
