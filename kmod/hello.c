// SPDX-License-Identifier: GPL-2.0
/*
 * HELLO and access: what a connection may do, and how it proves a key (the
 * uapi header's HELLO). Both HELLO requests are answered where they are
 * parsed, usually softirq: a key lookup under RCU, fresh random bytes and
 * synchronous HMACs under the key's transform, nothing that sleeps. After
 * HELLO a request pays one role check, under the socket lock like all RX
 * state: no hashing, no allocation, no lock of its own.
 */

#include <crypto/algapi.h>
#include <linux/random.h>

#include "conn_priv.h"
#include "crc.h"

#define CP_HELLO_BODY	(CACHEPEER_NONCE_LEN + CACHEPEER_HMAC_LEN + 1)

/* Socket locked: may the connection make a request of op, as things stand? */
/* Socket locked: the role conn proved, or NONE once its key is deleted. */
u8 cp_hello_role(struct cp_conn *conn)
{
	/* A deleted key's connections are closing: they may do no more. */
	if (conn->key && READ_ONCE(conn->key->dead))
		return CACHEPEER_ROLE_NONE;
	return conn->role;
}

bool cp_hello_allows(struct cp_conn *conn, u8 op)
{
	u8 access = cp_access_now(conn->svc);
	u8 role = cp_hello_role(conn);

	/* A request before HELLO closes the door on it. */
	if (op != CACHEPEER_OP_HELLO && conn->hello == HELLO_NONE)
		conn->hello = HELLO_DONE;
	switch (op) {
	case CACHEPEER_OP_HELLO:
	case CACHEPEER_OP_PING:
		return true;
	case CACHEPEER_OP_GET:
	case CACHEPEER_OP_STAT:
	case CACHEPEER_OP_RING_GET:
		return access != CACHEPEER_ACCESS_ALL || role >= CACHEPEER_ROLE_READ;
	case CACHEPEER_OP_PUT:
	case CACHEPEER_OP_DEL:
		return access == CACHEPEER_ACCESS_OPEN || role >= CACHEPEER_ROLE_WRITE;
	default:	/* RING_PUSH, PROBE */
		return access == CACHEPEER_ACCESS_OPEN || role == CACHEPEER_ROLE_MEMBER;
	}
}

static void hello_fail(struct cp_conn *conn, struct cp_request *req)
{
	cp_stats_inc(conn->svc->stats, CP_STAT_HELLO_FAILURES);
	cp_request_answer(req, CACHEPEER_S_DENIED);
}

/*
 * (1): the client's nonce and a key name. Answer with the node's nonce, its
 * proof and the key's role, and keep the proof the client must send.
 */
static void hello_start(struct cp_conn *conn, struct cp_request *req, const u8 *k, u16 len)
{
	const u8 *cnonce = k, *name = k + CACHEPEER_NONCE_LEN;
	struct cp_key *key;
	u8 *body;

	if (conn->hello != HELLO_NONE) {
		cp_request_answer(req, CACHEPEER_S_BAD_REQUEST);
		return;
	}
	key = cp_keys_get(&conn->svc->keys, name, len - CACHEPEER_NONCE_LEN);
	if (!key) {
		hello_fail(conn, req);	/* it may try another name */
		return;
	}
	/* The socket lock keeps the page_frag TX's alone, as it does for TX. */
	body = page_frag_alloc(&conn->pfc, CP_HELLO_BODY, CP_GFP_ATOMIC);
	if (!body) {
		cp_key_put(key);
		cp_request_answer(req, CACHEPEER_S_BUSY);
		return;
	}
	get_random_bytes(body, CACHEPEER_NONCE_LEN);
	body[CP_HELLO_BODY - 1] = key->role;
	if (cp_key_proof(key, true, cnonce, body, key->role, body + CACHEPEER_NONCE_LEN) ||
	    cp_key_proof(key, false, cnonce, body, key->role, conn->expect)) {
		page_frag_free(body);
		cp_key_put(key);
		cp_request_answer(req, CACHEPEER_S_BUSY);
		return;
	}
	WRITE_ONCE(conn->key, key);
	conn->hello = HELLO_PROVING;
	req->body = body;
	req->len = CP_HELLO_BODY;
	req->crc = cp_crc32c(0, body, CP_HELLO_BODY);
	cp_request_charge(req, CP_HELLO_BODY);
	cp_request_answer(req, CACHEPEER_S_OK);
}

/*
 * (2): the client's proof. Right, the connection has the key's role from
 * the next request on; wrong, it ends. A key removed meanwhile proves
 * nothing: whoever removed it closes the connections holding it once no
 * reader of the key table can still be here (cp_service_drop_key()).
 */
static void hello_proof(struct cp_conn *conn, struct cp_request *req, const u8 *proof)
{
	struct cp_key *key = conn->key;
	bool ok;

	if (conn->hello != HELLO_PROVING) {
		cp_request_answer(req, CACHEPEER_S_BAD_REQUEST);
		return;
	}
	conn->hello = HELLO_DONE;
	rcu_read_lock();
	ok = !crypto_memneq(proof, conn->expect, CACHEPEER_HMAC_LEN) && !READ_ONCE(key->dead);
	if (ok) {
		atomic_inc(&key->conns);
		WRITE_ONCE(conn->role, key->role);
	}
	rcu_read_unlock();
	memzero_explicit(conn->expect, sizeof(conn->expect));
	if (!ok) {
		cp_conn_rx_end(conn);
		hello_fail(conn, req);
		return;
	}
	cp_stats_inc(conn->svc->stats, CP_STAT_HELLOS);
	cp_request_answer(req, CACHEPEER_S_OK);
}

/* Socket locked, any context: a HELLO frame is in conn->rx. */
void cp_hello(struct cp_conn *conn, struct cp_request *req)
{
	const struct cp_req *r = &conn->rx.req;

	if (r->flags & CACHEPEER_F_PROOF)
		hello_proof(conn, req, cp_frame_key(&conn->rx));
	else
		hello_start(conn, req, cp_frame_key(&conn->rx), r->key_len);
}
