// SPDX-License-Identifier: GPL-2.0
/*
 * GETs for blocks the node does not hold. The ring decides: a key another
 * member owns is forwarded to it (its answer relayed, data included) or
 * redirected there, as the node's miss setting says; a key this node took
 * over at the last ring change is fetched from its previous owner and
 * stored, for a while. Anything else is a miss. A request from another
 * member is answered from the store alone, so a GET is forwarded at most
 * once.
 *
 * Relayed data is held in private pages until it is sent: at most
 * CP_RELAY_BYTES_MAX per node and a quarter of that per connection, so that
 * a few slow readers cannot make every other forward answer BUSY (a GET
 * answered from another's fetch counts as if it held the pages alone).
 *
 * Forwards, forwarded DELs, hand-off fetches and the PINGs of indirect
 * probes go over the links to members (link.c), answered on the links'
 * receive path: no worker waits for a member, so one that is slow or gone
 * delays the requests that need it, not PUTs, cold GETs or teardown. What
 * is left to do in process context once a member answered (storing a
 * handed-off block, deleting a local copy) is local work, on cp_wq.
 * Concurrent misses of one key being handed off, or of one range being
 * forwarded, wait for the one fetch under way (struct cp_fetch) and are
 * answered from it: a hand-off's waiters from the block it stored, a
 * forward's from the same pages, shared.
 */

#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/slab.h>
#include <linux/unaligned.h>

#include "conn_priv.h"
#include "crc.h"
#include "link.h"

#define CP_RELAY_CONN_MAX	(CP_RELAY_BYTES_MAX / 4)

/*
 * A fetch from another member under way, and the GETs that wait for it: a
 * hand-off of a whole block, or a forward of one range. Owned by the
 * request that fetches; in svc->fetches until it is done.
 */
struct cp_fetch {
	struct hlist_node node;
	u8 key_id[CP_ID_LEN];
	u64 off;			/* a forward's range, as its GETs asked */
	u64 len;
	bool handoff;
	struct list_head waiters;	/* struct cp_request, by their list */
};

/*
 * Any context: hold len relayed bytes for req, within the node's relay
 * budget and its connection's share of it; -EBUSY beyond them.
 */
static int relay_hold(struct cp_request *req, u64 len)
{
	struct cp_service *svc = req->conn->svc;
	struct cp_conn *conn = req->conn;

	if (atomic_long_add_return(len, &conn->relayed) > CP_RELAY_CONN_MAX) {
		atomic_long_sub(len, &conn->relayed);
		return -EBUSY;
	}
	if (atomic64_add_return(len, &svc->relay_bytes) > CP_RELAY_BYTES_MAX) {
		atomic64_sub(len, &svc->relay_bytes);
		atomic_long_sub(len, &conn->relayed);
		return -EBUSY;
	}
	req->relayed = len;
	return 0;
}

static bool fetch_wanted(struct cp_request *req);

/*
 * A request's call to another member: a forwarded GET's to the key's
 * owner (made by the GET that fetches), a forwarded DEL's, a hand-off's
 * fetch, a PING for a PROBE. Charged to the request, which outlives it.
 */
struct cp_fwd {
	struct cp_call call;
	struct cp_request *req;
	u64 held;			/* relay bytes held by the node alone */
	struct work_struct work;	/* a hand-off's storing, on cp_wq */
};

/*
 * Any context: a call for req, asking q of the member in req->to with
 * req's key, done() once answered. NULL without memory.
 */
static struct cp_fwd *fwd_alloc(struct cp_request *req, const struct cp_req *q,
				void (*done)(struct cp_call *call, int err), gfp_t gfp)
{
	struct cp_fwd *fw = kzalloc(sizeof(*fw), gfp);

	if (!fw)
		return NULL;
	cp_request_charge(req, sizeof(*fw));
	fw->req = req;
	fw->call.q = *q;
	fw->call.key = req->key;
	fw->call.done = done;
	return fw;
}

/* Any context: make fw's call; if it cannot be made, it is done() with why. */
static void fwd_call(struct cp_fwd *fw)
{
	struct cp_request *req = fw->req;
	int err = cp_link_call(&req->conn->svc->cluster.peers, &req->to, &fw->call);

	if (err)
		fw->call.done(&fw->call, err);
}

/*
 * Under the link's socket: the owner's answer has data, to be held against
 * the relay budget while it is read and sent: as its fetcher's, the
 * fetcher's connection's share and the node's; or, for a fetcher over its
 * share whose fetch other GETs wait for, the node's alone (fw->held, given
 * back once they are answered). So a client that never reads can neither
 * fetch past its share nor deny others a range it asked for too. The data
 * is not copied: the link hands over the pages it arrived in (link.c).
 */
static int forward_admit(struct cp_call *call)
{
	struct cp_fwd *fw = container_of(call, struct cp_fwd, call);
	struct cp_request *req = fw->req;
	struct cp_service *svc = req->conn->svc;
	u64 len = call->r.data_len;
	int err;

	if (call->r.status != CACHEPEER_S_OK || len > svc->max_block)
		return -EBADMSG;
	err = relay_hold(req, len);
	if (err && fetch_wanted(req)) {
		fw->held = len;
		err = atomic64_add_return(len, &svc->relay_bytes) > CP_RELAY_BYTES_MAX ? -EBUSY : 0;
	}
	return err;
}

/* Any context: answer a forwarded GET as the fetch for it ended. */
static void forward_answer(struct cp_request *req, int err, const struct cp_resp *r)
{
	if (err) {
		/* An owner out of reach is a miss: the client has a backing store. */
		cp_request_answer(req, err == -EBUSY || err == -ENOMEM ? CACHEPEER_S_BUSY :
				  CACHEPEER_S_NOT_FOUND);
		return;
	}
	req->len = r->data_len;
	req->block_size = r->block_size;
	req->crc = r->crc;
	cp_request_answer(req, r->status);
}

/*
 * Any context: answer a GET from the fetch it made or waited for, its
 * data the fetched pages (*pb): taken, for the last GET answered (take),
 * or shared (relayed bytes are never written to). Each GET holds the relay
 * budget as if the pages were its own, a bound rather than an account (the
 * fetcher from forward_admit() on), so that one over its connection's
 * share is answered BUSY alone.
 */
static void forward_share(struct cp_request *req, struct cp_pbuf **pb, bool take, int err,
			  const struct cp_resp *r)
{
	struct mem_cgroup *memcg;

	if (!err && *pb) {
		if (!req->relayed)
			err = relay_hold(req, r->data_len);
		if (!err && take) {
			req->pbuf = *pb;
			*pb = NULL;
		} else if (!err) {
			memcg = cp_conn_memcg(req->conn);
			req->pbuf = cp_pbuf_share(*pb, CP_GFP_ATOMIC);
			set_active_memcg(memcg);
			err = req->pbuf ? 0 : -EBUSY;
		}
		if (req->pbuf)
			cp_request_charge(req, cp_pbuf_mem(req->pbuf->len));
	}
	forward_answer(req, err, r);
}

static void fetch_end(struct cp_request *req, bool handoff, struct list_head *waiters);

/* Any context: the fetch req made ended; answer it and the GETs that waited. */
static void forward_end(struct cp_request *req, int err, const struct cp_resp *r,
			struct cp_pbuf *pb)
{
	struct cp_stats __percpu *stats = req->conn->svc->stats;
	struct cp_request *w, *n;
	LIST_HEAD(waiters);

	cp_stats_inc(stats, err ? CP_STAT_PEER_ERRORS : CP_STAT_FORWARDS);
	fetch_end(req, false, &waiters);
	list_for_each_entry_safe(w, n, &waiters, list) {
		list_del_init(&w->list);
		forward_share(w, &pb, false, err, r);
	}
	forward_share(req, &pb, true, err, r);
	/* Unless req took them: the shares hold the pages now. */
	cp_pbuf_free(pb);
}

static void forward_done(struct cp_call *call, int err)
{
	struct cp_fwd *fw = container_of(call, struct cp_fwd, call);
	struct cp_service *svc = fw->req->conn->svc;

	forward_end(fw->req, err, &call->r, call->pb);
	if (fw->held)
		atomic64_sub(fw->held, &svc->relay_bytes);
	kfree(fw);
}

/*
 * Any context, as dispatch: GET the range from the key's owner, over the
 * link to it, as a request the owner answers from its store alone.
 */
static void forward(struct cp_request *req, gfp_t gfp)
{
	struct cp_req q = {
		.opcode = CACHEPEER_OP_GET,
		.flags = CACHEPEER_F_NOFWD,
		.key_len = req->key_len,
		.offset = req->off,
		.length = req->len,
	};
	struct cp_fwd *fw = fwd_alloc(req, &q, forward_done, gfp);
	struct cp_resp none = {};

	if (!fw) {
		forward_end(req, -ENOMEM, &none, NULL);
		return;
	}
	fw->call.admit = forward_admit;
	fwd_call(fw);
}

#define CP_REDIRECT_LEN sizeof("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535")

/* Process context: answer REDIRECT, with the address of req->to as "ADDR:PORT". */
void cp_request_redirect(struct cp_request *req)
{
	char text[CP_REDIRECT_LEN];
	int len;

	len = snprintf(text, sizeof(text), "%pISpc", &req->to.sa);
	req->pbuf = cp_request_pbuf(req, text, len);
	if (!req->pbuf) {
		cp_request_answer(req, CACHEPEER_S_BUSY);
		return;
	}
	req->len = len;
	req->crc = cp_crc32c(0, text, len);
	cp_stats_inc(req->conn->svc->stats, CP_STAT_REDIRECTS);
	cp_request_answer(req, CACHEPEER_S_REDIRECT);
}

static void redirect_work(struct work_struct *work)
{
	cp_request_redirect(container_of(work, struct cp_request, work));
}

/*
 * Process context: a DEL for another member's key, redirected there. A
 * copy this node holds goes too, or GETs sent here would still find it,
 * and a hand-off from here would bring it back to the owner.
 */
static void del_redirect_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);

	cp_store_del(&req->conn->svc->store, req->key_id);
	cp_request_redirect(req);
}

/*
 * Any context: answer a PUT or DEL forwarded to the key's owner with the
 * owner's status, or BUSY if err: the owner could not be asked, or did
 * not answer, and may or may not have written.
 */
static void write_answer(struct cp_request *req, int err, u16 status)
{
	cp_stats_inc(req->conn->svc->stats, err ? CP_STAT_PEER_ERRORS : CP_STAT_FORWARDS);
	cp_request_answer(req, err ? CACHEPEER_S_BUSY : status);
}

/* Process context: as write_answer(), the owner's answer r read on p. */
void cp_request_write_answer(struct cp_request *req, int err, struct cp_peer *p,
			     const struct cp_resp *r)
{
	if (!err) {
		/* A write's answer carries no data; one that does leaves bytes unread. */
		cp_peer_done(&req->conn->svc->cluster.peers, p, !r->data_len);
		if (r->data_len)
			err = -EBADMSG;
	}
	write_answer(req, err, err ? 0 : r->status);
}

static void del_done(struct cp_call *call, int err)
{
	struct cp_fwd *fw = container_of(call, struct cp_fwd, call);

	write_answer(fw->req, err, call->r.status);
	kfree(fw);
}

/*
 * Process context: DEL of a copy here (as del_redirect_work()), then on
 * the key's owner, acting with this node's member rights.
 */
static void del_forward_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);
	struct cp_req q = {
		.opcode = CACHEPEER_OP_DEL,
		.flags = CACHEPEER_F_LOCAL,
		.key_len = req->key_len,
	};
	struct cp_fwd *fw;

	cp_store_del(&req->conn->svc->store, req->key_id);
	fw = fwd_alloc(req, &q, del_done, GFP_KERNEL);
	if (fw)
		fwd_call(fw);
	else
		write_answer(req, -ENOMEM, 0);
}

static void probe_done(struct cp_call *call, int err)
{
	struct cp_fwd *fw = container_of(call, struct cp_fwd, call);
	struct cp_cluster *cl = &fw->req->conn->svc->cluster;

	cp_request_answer(fw->req, cp_cluster_pinged(call, err) ? CACHEPEER_S_OK :
			  CACHEPEER_S_NOT_FOUND);
	atomic_dec(&cl->probes_in);
	kfree(fw);
}

/*
 * Any context, as dispatch: PROBE of the member named key (an indirect
 * probe, for a member whose own probe failed). Only a ring member's
 * address is ever called: the key is a name, not an address.
 */
void cp_request_probe(struct cp_request *req, const u8 *key, gfp_t gfp)
{
	struct cp_cluster *cl = &req->conn->svc->cluster;
	struct cp_req q = { .opcode = CACHEPEER_OP_PING };
	char name[CACHEPEER_NAME_MAX + 1];
	struct cp_fwd *fw;

	memcpy(name, key, req->key_len);
	name[req->key_len] = 0;
	if (!cp_cluster_member_addr(cl, name, &req->to)) {
		cp_request_answer(req, CACHEPEER_S_NOT_FOUND);
		return;
	}
	/* Each holds a call for up to CP_PING_MS: a bound, not a queue. */
	fw = atomic_inc_return(&cl->probes_in) <= CP_PROBES_IN_MAX ?
	     fwd_alloc(req, &q, probe_done, gfp) : NULL;
	if (!fw) {
		atomic_dec(&cl->probes_in);
		cp_request_answer(req, CACHEPEER_S_BUSY);
		return;
	}
	fw->call.ms = CP_PING_MS;
	fwd_call(fw);
}

/* Any context: the request's key, for a call to another member. */
static int keep_key(struct cp_request *req, const u8 *key, gfp_t gfp)
{
	req->key = kmemdup(key, req->key_len, gfp);
	if (!req->key)
		return -ENOMEM;
	cp_request_charge(req, req->key_len);
	return 0;
}

/*
 * Any context, as dispatch: a PUT or DEL of a key another member owns is
 * not for this node (the uapi header's routing). True if so, and then a
 * DEL is on its way (forwarded, redirected, or BUSY without memory), while
 * a PUT's payload is to be read: forwarded (req->fwd, put_fwd.c), or
 * dropped and answered with cp_request_redirect() (or BUSY, req->put_err).
 * Forwarding acts with the node's member rights, which only a write or
 * member key, never an open access policy, lends a client.
 */
bool cp_request_route_write(struct cp_request *req, const u8 *key, gfp_t gfp)
{
	struct cp_conn *conn = req->conn;
	struct cp_cluster *cl = &conn->svc->cluster;

	if (req->flags & CACHEPEER_F_LOCAL ||
	    cp_cluster_owner(cl, cp_ring_key_hash(key, req->key_len), &req->to) != CP_OWNER_OTHER)
		return false;
	if (READ_ONCE(cl->miss) == CACHEPEER_MISS_FORWARD &&
	    cp_hello_role(conn) >= CACHEPEER_ROLE_WRITE) {
		if (keep_key(req, key, gfp)) {
			if (req->op == CACHEPEER_OP_PUT)
				req->put_err = -ENOMEM;
			else
				cp_request_answer(req, CACHEPEER_S_BUSY);
		} else if (req->op == CACHEPEER_OP_PUT) {
			req->fwd = FWD_OPENING;
		} else {
			cp_request_queue(req, del_forward_work);
		}
		return true;
	}
	cp_request_charge(req, cp_pbuf_mem(CP_REDIRECT_LEN));
	if (req->op == CACHEPEER_OP_DEL)
		cp_request_queue(req, del_redirect_work);
	return true;
}

/* Any context: answer req from the store, as the hand-off left it. */
static void handoff_serve(struct cp_request *req)
{
	struct cp_block *b = cp_request_lookup(req);

	if (b)
		cp_request_get_block(req, b);
	else
		cp_request_answer(req, CACHEPEER_S_NOT_FOUND);
}

/* Fetches tracked at once, past which more are made untracked, uncoalesced. */
#define CP_FETCHES_MAX	4096

/* A hand-off's GETs share it whatever their range; a forward's, only theirs. */
static struct hlist_head *fetch_bucket(struct cp_service *svc, const struct cp_request *req,
				       bool handoff)
{
	u64 h = get_unaligned((const u64 *)req->key_id);

	if (!handoff)
		h ^= req->off ^ (req->len * 31);
	return &svc->fetches[hash_64(h, ilog2(ARRAY_SIZE(svc->fetches)))];
}

static bool fetch_match(const struct cp_fetch *f, const struct cp_request *req, bool handoff)
{
	return f->handoff == handoff && !memcmp(f->key_id, req->key_id, CP_ID_LEN) &&
	       (handoff || (f->off == req->off && f->len == req->len));
}

/* Under the fetches lock: the fetch of what req asks, or NULL. */
static struct cp_fetch *fetch_find(struct cp_service *svc, const struct cp_request *req,
				   bool handoff)
{
	struct cp_fetch *f;

	lockdep_assert_held(&svc->fetches_lock);
	hlist_for_each_entry(f, fetch_bucket(svc, req, handoff), node)
		if (fetch_match(f, req, handoff))
			return f;
	return NULL;
}

/* Process context: do other GETs wait for the fetch req makes? */
static bool fetch_wanted(struct cp_request *req)
{
	struct cp_service *svc = req->conn->svc;
	struct cp_fetch *f;
	bool wanted;

	if (!req->fetching)
		return false;
	spin_lock_bh(&svc->fetches_lock);
	f = fetch_find(svc, req, false);
	wanted = f && !list_empty(&f->waiters);
	spin_unlock_bh(&svc->fetches_lock);
	return wanted;
}

/* Any context: req's fetch is done; *waiters takes the GETs that waited for it. */
static void fetch_end(struct cp_request *req, bool handoff, struct list_head *waiters)
{
	struct cp_service *svc = req->conn->svc;
	struct cp_fetch *f;

	if (!req->fetching)
		return;
	spin_lock_bh(&svc->fetches_lock);
	f = fetch_find(svc, req, handoff);
	if (f) {
		hlist_del(&f->node);
		svc->nfetches--;
		list_splice_init(&f->waiters, waiters);
	}
	spin_unlock_bh(&svc->fetches_lock);
	kfree(f);
}

/*
 * Under the link's socket: the previous owner's answer is the whole
 * block, held until it is stored against the node's relay budget, not
 * the fetching connection's share: the hand-off is the node's work, done
 * for every GET that waits for it.
 */
static int handoff_admit(struct cp_call *call)
{
	struct cp_fwd *fw = container_of(call, struct cp_fwd, call);
	struct cp_service *svc = fw->req->conn->svc;
	const struct cp_resp *r = &call->r;

	if (r->status != CACHEPEER_S_OK || r->data_len != r->block_size ||
	    r->data_len > svc->max_block)
		return -EBADMSG;
	if (atomic64_add_return(r->data_len, &svc->relay_bytes) > CP_RELAY_BYTES_MAX) {
		atomic64_sub(r->data_len, &svc->relay_bytes);
		return -EBUSY;
	}
	fw->held = r->data_len;
	return 0;
}

/* Process context: store the block in pb, as the previous owner answered r. */
static int handoff_store(struct cp_request *req, const struct cp_resp *r,
			 const struct cp_pbuf *pb)
{
	struct cp_service *svc = req->conn->svc;
	struct iov_iter from;
	struct cp_put *put;
	void *buf;
	int err;

	buf = kvmalloc(CP_PUT_CHUNK, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	put = cp_store_put_begin(&svc->store, req->key_id, req->key, req->key_len, r->data_len);
	err = PTR_ERR_OR_ZERO(put);
	/* Copied, as a PUT's payload is: the store writes through the page cache. */
	cp_pbuf_iter(pb, &from);
	while (!err && iov_iter_count(&from)) {
		size_t n = copy_from_iter(buf, min_t(size_t, CP_PUT_CHUNK,
						     iov_iter_count(&from)), &from);

		err = n ? cp_store_put_write(put, buf, n) : -EFAULT;
	}
	if (!err)
		err = cp_store_put_commit(put, true, r->crc);
	if (!IS_ERR(put))
		cp_store_put_free(put);
	kvfree(buf);
	return err;
}

/*
 * Any context: req's hand-off is over, the block stored or not; serve req
 * and every GET that waited for it. After the commit: a GET that finds no
 * fetch here finds the block.
 */
static void handoff_end(struct cp_request *req)
{
	struct cp_request *w, *n;
	LIST_HEAD(waiters);

	fetch_end(req, true, &waiters);
	handoff_serve(req);
	list_for_each_entry_safe(w, n, &waiters, list) {
		list_del_init(&w->list);
		handoff_serve(w);
	}
}

/*
 * On cp_wq: the hand-off's fetch ended. Store the block it brought (its
 * CRC is checked on commit), then serve this GET and every one that
 * waited for the fetch.
 */
static void handoff_work(struct work_struct *work)
{
	struct cp_fwd *fw = container_of(work, struct cp_fwd, work);
	struct cp_request *req = fw->req;
	struct cp_service *svc = req->conn->svc;
	struct cp_stats __percpu *stats = svc->stats;
	const struct cp_resp *r = &fw->call.r;
	int err = fw->call.err;

	if (!err && r->status != CACHEPEER_S_OK)
		err = -ENOENT;
	/* Without data, the answer was never admitted: a broken member. */
	else if (!err && (!fw->call.pb || !r->data_len))
		err = -EBADMSG;
	if (!err)
		err = handoff_store(req, r, fw->call.pb);
	cp_pbuf_free(fw->call.pb);
	atomic64_sub(fw->held, &svc->relay_bytes);
	kfree(fw);
	/* Not an error: the member lacks it too, or a PUT stored it meanwhile. */
	if (err != -ENOENT && err != -EALREADY)
		cp_stats_inc(stats, err ? CP_STAT_PEER_ERRORS : CP_STAT_HANDOFFS);
	handoff_end(req);
}

/* Any context: the fetch ended; what is left to do may block. */
static void handoff_done(struct cp_call *call, int err)
{
	struct cp_fwd *fw = container_of(call, struct cp_fwd, call);

	call->err = err;
	INIT_WORK(&fw->work, handoff_work);
	queue_work(cp_wq, &fw->work);
}

/*
 * Any context, as dispatch: take the block over from the member that
 * owned its key under the previous ring, as a request that member answers
 * from its store alone.
 */
static void handoff(struct cp_request *req, gfp_t gfp)
{
	struct cp_req q = {
		.opcode = CACHEPEER_OP_GET,
		.flags = CACHEPEER_F_NOFWD,
		.key_len = req->key_len,
	};
	struct cp_fwd *fw = fwd_alloc(req, &q, handoff_done, gfp);

	if (!fw) {
		cp_stats_inc(req->conn->svc->stats, CP_STAT_PEER_ERRORS);
		handoff_end(req);
		return;
	}
	fw->call.admit = handoff_admit;
	fwd_call(fw);
}

/*
 * Any context, as dispatch: a GET that needs a fetch from another member,
 * a hand-off or a forward. True if it is taken care of: it waits for the
 * same fetch under way, or (a hand-off) the block came meanwhile. False:
 * req makes the fetch, its work to be queued; tracked for others to wait
 * for (req->fetching) unless there is no memory or room for that.
 */
static bool fetch_join(struct cp_request *req, bool handoff, gfp_t gfp)
{
	struct cp_service *svc = req->conn->svc;
	struct hlist_head *head = fetch_bucket(svc, req, handoff);
	struct cp_fetch *f, *fresh = kmalloc(sizeof(*fresh), gfp);
	struct cp_block *b = NULL;

	spin_lock_bh(&svc->fetches_lock);
	f = fetch_find(svc, req, handoff);
	if (f) {
		list_add_tail(&req->list, &f->waiters);
		spin_unlock_bh(&svc->fetches_lock);
		kfree(fresh);
		cp_stats_inc(svc->stats, handoff ? CP_STAT_HANDOFF_JOINED : CP_STAT_FORWARD_JOINED);
		return true;
	}
	/* A hand-off that ended since this GET looked has stored the block. */
	if (handoff)
		b = cp_request_lookup(req);
	if (!b && fresh && svc->nfetches < CP_FETCHES_MAX) {
		memcpy(fresh->key_id, req->key_id, CP_ID_LEN);
		fresh->off = req->off;
		fresh->len = req->len;
		fresh->handoff = handoff;
		INIT_LIST_HEAD(&fresh->waiters);
		hlist_add_head(&fresh->node, head);
		svc->nfetches++;
		req->fetching = true;
		fresh = NULL;
	}
	spin_unlock_bh(&svc->fetches_lock);
	kfree(fresh);
	if (b) {
		cp_request_get_block(req, b);
		return true;
	}
	return false;
}

/* Any context, as dispatch: a GET for a block this node does not hold. */
void cp_request_miss(struct cp_request *req, const u8 *key, gfp_t gfp)
{
	struct cp_cluster *cl = &req->conn->svc->cluster;
	enum cp_owner owner;

	if (req->flags & CACHEPEER_F_NOFWD) {
		cp_request_answer(req, CACHEPEER_S_NOT_FOUND);
		return;
	}
	owner = cp_cluster_owner(cl, cp_ring_key_hash(key, req->key_len), &req->to);
	if (owner == CP_OWNER_NONE) {
		cp_request_answer(req, CACHEPEER_S_NOT_FOUND);
		return;
	}
	if (keep_key(req, key, gfp)) {
		cp_request_answer(req, CACHEPEER_S_BUSY);
		return;
	}
	if (owner == CP_OWNER_PREVIOUS) {
		if (!fetch_join(req, true, gfp))
			handoff(req, gfp);
		return;
	}
	if (READ_ONCE(cl->miss) == CACHEPEER_MISS_REDIRECT) {
		cp_request_charge(req, cp_pbuf_mem(CP_REDIRECT_LEN));
		cp_request_queue(req, redirect_work);
	} else if (!fetch_join(req, false, gfp)) {
		forward(req, gfp);
	}
}
