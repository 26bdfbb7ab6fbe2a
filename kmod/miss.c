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
 * a few slow readers cannot make every other forward answer BUSY.
 */

#include <linux/slab.h>

#include "conn_priv.h"
#include "crc.h"

#define CP_RELAY_CONN_MAX	(CP_RELAY_BYTES_MAX / 4)

/*
 * Process context: ask the member in req->to for what req asks of this
 * node, as a request that member answers from its store alone. On success
 * *r is its answer.
 */
static int peer_call(struct cp_request *req, struct cp_peer *p, u64 off, u64 len,
		     struct cp_resp *r)
{
	struct cp_req q = {
		.id = CP_PEER_REQ_ID,
		.opcode = CACHEPEER_OP_GET,
		.flags = CACHEPEER_F_NOFWD,
		.key_len = req->key_len,
		.offset = off,
		.length = len,
	};

	return cp_peer_open(req->conn->svc->net, &req->to, &req->conn->svc->keys, p) ?:
	       cp_peer_send(p, &q, req->key, NULL) ?:
	       cp_peer_recv_resp(p, &q, r);
}

/*
 * Process context: hold len relayed bytes for req, within the node's relay
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

/*
 * Process context: GET the range from the key's owner and relay its answer,
 * data included, from private pages charged to the relay budget and to the
 * connection's queue.
 */
static int forward(struct cp_request *req, struct cp_resp *r)
{
	struct cp_service *svc = req->conn->svc;
	struct cp_peer p = { };
	int err;

	err = peer_call(req, &p, req->off, req->len, r);
	if (!err && r->data_len) {
		if (r->status != CACHEPEER_S_OK || r->data_len > svc->max_block)
			err = -EBADMSG;
		else
			err = relay_hold(req, r->data_len);
		if (!err) {
			req->pbuf = cp_request_pbuf(req, NULL, r->data_len);
			err = req->pbuf ? cp_peer_recv_pbuf(&p, req->pbuf) : -ENOMEM;
		}
		if (req->pbuf)
			cp_request_charge(req, cp_pbuf_mem(req->pbuf->len));
	}
	cp_peer_close(&p);
	if (err) {
		cp_pbuf_free(req->pbuf);
		req->pbuf = NULL;
	}
	return err;
}

static void forward_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);
	struct cp_stats __percpu *stats = req->conn->svc->stats;
	struct cp_resp r;
	int err = forward(req, &r);

	if (err) {
		cp_stats_inc(stats, CP_STAT_PEER_ERRORS);
		/* An owner out of reach is a miss: the client has a backing store. */
		cp_request_answer(req, err == -EBUSY ? CACHEPEER_S_BUSY : CACHEPEER_S_NOT_FOUND);
		return;
	}
	cp_stats_inc(stats, CP_STAT_FORWARDS);
	req->len = r.data_len;
	req->block_size = r.block_size;
	req->crc = r.crc;
	cp_request_answer(req, r.status);
}

#define CP_REDIRECT_LEN sizeof("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535")

/* Process context: the owner's address as "ADDR:PORT". */
static void redirect_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);
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

/*
 * Process context. Fetch the whole block from the member that owned its key
 * under the previous ring, and store it; its CRC is checked on commit.
 * -ENOENT if that member lacks it too.
 */
static int handoff(struct cp_request *req)
{
	struct cp_service *svc = req->conn->svc;
	struct cp_peer p = { };
	struct cp_put *put = NULL;
	struct cp_resp r;
	void *buf = NULL;
	u64 got = 0;
	int err;

	err = peer_call(req, &p, 0, 0, &r);
	if (err)
		goto out;
	if (r.status != CACHEPEER_S_OK) {
		cp_peer_close(&p);
		return -ENOENT;
	}
	if (!r.data_len || r.data_len != r.block_size || r.data_len > svc->max_block) {
		err = -EBADMSG;
		goto out;
	}
	buf = kvmalloc(CP_PUT_CHUNK, GFP_KERNEL);
	put = cp_store_put_begin(&svc->store, req->key_id, req->key, req->key_len, r.data_len);
	if (!buf || IS_ERR(put)) {
		err = buf ? PTR_ERR(put) : -ENOMEM;
		put = NULL;
		/* Another hand-off of the key got there first. */
		if (err == -EALREADY) {
			cp_peer_close(&p);
			kvfree(buf);
			return 0;
		}
		goto out;
	}
	while (!err && got < r.data_len) {
		size_t n = min_t(u64, CP_PUT_CHUNK, r.data_len - got);

		err = cp_peer_recv(&p, buf, n) ?: cp_store_put_write(put, buf, n);
		got += n;
	}
	if (!err)
		err = cp_store_put_commit(put, true, r.crc);
out:
	cp_store_put_free(put);
	kvfree(buf);
	cp_peer_close(&p);
	cp_stats_inc(svc->stats, err ? CP_STAT_PEER_ERRORS : CP_STAT_HANDOFFS);
	return err;
}

/* Process context: take the block over from its previous owner, then serve. */
static void handoff_work(struct work_struct *work)
{
	struct cp_request *req = container_of(work, struct cp_request, work);
	struct cp_block *b = NULL;

	if (!handoff(req))
		b = cp_request_lookup(req);
	if (b)
		cp_request_get_block(req, b);
	else
		cp_request_answer(req, CACHEPEER_S_NOT_FOUND);
}

/* Any context, as dispatch: a GET for a block this node does not hold. */
void cp_request_miss(struct cp_request *req, const u8 *key, gfp_t gfp)
{
	struct cp_cluster *cl = &req->conn->svc->cluster;
	work_func_t fn;

	if (req->flags & CACHEPEER_F_NOFWD) {
		cp_request_answer(req, CACHEPEER_S_NOT_FOUND);
		return;
	}
	switch (cp_cluster_owner(cl, cp_ring_key_hash(key, req->key_len), &req->to)) {
	case CP_OWNER_OTHER:
		fn = forward_work;
		if (READ_ONCE(cl->miss) == CACHEPEER_MISS_REDIRECT) {
			fn = redirect_work;
			cp_request_charge(req, cp_pbuf_mem(CP_REDIRECT_LEN));
		}
		break;
	case CP_OWNER_PREVIOUS:
		fn = handoff_work;
		break;
	default:
		cp_request_answer(req, CACHEPEER_S_NOT_FOUND);
		return;
	}
	req->key = kmemdup(key, req->key_len, gfp);
	if (!req->key) {
		cp_request_answer(req, CACHEPEER_S_BUSY);
		return;
	}
	cp_request_charge(req, req->key_len);
	cp_request_queue(req, fn);
}

