// SPDX-License-Identifier: GPL-2.0
/*
 * The node as a client of other members: ring pushes, forwarded GETs and
 * hand-off fetches, framed by the same codec (proto.c) as client requests.
 * Calls block, with CP_PEER_TIMEOUT_MS on every step, so they run only from
 * workers; a dead member costs a worker that long and no more. One request
 * per connection: calls are rare next to client traffic, and a fresh
 * connection cannot be confused by an earlier call that timed out half way.
 *
 * The sockets are kernel sockets in the node's namespace, which hold no
 * reference on it: every caller is a work item the node waits for before
 * its namespace goes away.
 */

#include <crypto/algapi.h>
#include <linux/highmem.h>
#include <linux/random.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "peer.h"

/*
 * Pages for a connection's answers: charged to the memory cgroup its worker
 * made active, and at that cgroup's limit a failure, never the OOM killer.
 */
#define CP_PBUF_GFP	(GFP_KERNEL_ACCOUNT | __GFP_NORETRY | __GFP_NOWARN)

struct cp_pbuf *cp_pbuf_alloc(size_t len)
{
	u32 i, n = DIV_ROUND_UP(len, PAGE_SIZE);
	struct cp_pbuf *pb;

	pb = kvzalloc(struct_size(pb, pages, n), CP_PBUF_GFP);
	if (!pb)
		return NULL;
	pb->len = len;
	for (i = 0; i < n; i++) {
		pb->pages[i] = alloc_page(CP_PBUF_GFP);
		if (!pb->pages[i]) {
			cp_pbuf_free(pb);
			return NULL;
		}
		pb->npages++;
	}
	return pb;
}

struct cp_pbuf *cp_pbuf_from(const void *data, size_t len)
{
	struct cp_pbuf *pb = cp_pbuf_alloc(len);
	size_t off;

	if (!pb)
		return NULL;
	for (off = 0; off < len; off += PAGE_SIZE)
		memcpy_to_page(pb->pages[off >> PAGE_SHIFT], 0, data + off,
			       min_t(size_t, PAGE_SIZE, len - off));
	return pb;
}

void cp_pbuf_free(struct cp_pbuf *pb)
{
	u32 i;

	if (!pb)
		return;
	for (i = 0; i < pb->npages; i++)
		put_page(pb->pages[i]);
	kvfree(pb);
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
	err = cp_peer_send(p, &q, hello, NULL) ?: cp_peer_recv_resp(p, &q, &r);
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
		err = cp_peer_send(p, &q, proof, NULL) ?: cp_peer_recv_resp(p, &q, &r);
	}
	if (!err && r.status != CACHEPEER_S_OK)
		err = -EACCES;
	cp_key_put(key);
	return err;
}

/* A connection to the member at addr, authenticated with the member key if there is one. */
int cp_peer_open(struct net *net, const union cp_addr *addr, struct cp_keys *keys,
		 struct cp_peer *p)
{
	long timeo = msecs_to_jiffies(CP_PEER_TIMEOUT_MS);
	struct sock *sk;
	int err;

	err = sock_create_kern(net, addr->sa.sa_family, SOCK_STREAM, IPPROTO_TCP, &p->sock);
	if (err)
		return err;
	sk = p->sock->sk;
	lock_sock(sk);
	sk->sk_sndtimeo = timeo;
	sk->sk_rcvtimeo = timeo;
	release_sock(sk);
	tcp_sock_set_nodelay(sk);
	err = kernel_connect(p->sock, (struct sockaddr *)addr, cp_addr_len(addr), 0) ?:
	      peer_hello(p, keys);
	if (err) {
		sock_release(p->sock);
		p->sock = NULL;
	}
	return err;
}

void cp_peer_close(struct cp_peer *p)
{
	if (p->sock) {
		kernel_sock_shutdown(p->sock, SHUT_RDWR);
		sock_release(p->sock);
		p->sock = NULL;
	}
}

/* Send a request: its header, key_len bytes of key and payload_len of payload. */
int cp_peer_send(struct cp_peer *p, const struct cp_req *req, const void *key,
		 const void *payload)
{
	struct cachepeer_req h;
	struct kvec kv[3] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)key, .iov_len = req->key_len },
		{ .iov_base = (void *)payload, .iov_len = req->payload_len },
	};
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	size_t total = sizeof(h) + req->key_len + req->payload_len;
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

/* The response to req, the one request in flight on this connection. */
int cp_peer_recv_resp(struct cp_peer *p, const struct cp_req *req, struct cp_resp *r)
{
	struct cachepeer_resp w;
	int ret = cp_peer_recv(p, &w, sizeof(w));

	if (ret)
		return ret;
	if (cp_proto_parse_resp(&w, r) || r->id != req->id)
		return -EBADMSG;
	return 0;
}

/* Fill pb (all of pb->len) from the connection. */
int cp_peer_recv_pbuf(struct cp_peer *p, struct cp_pbuf *pb)
{
	struct bio_vec bv[16];
	size_t off = 0;

	while (off < pb->len) {
		size_t bytes = 0;
		struct iov_iter it;
		int n = 0, ret;

		while (n < ARRAY_SIZE(bv) && off + bytes < pb->len) {
			size_t len = min_t(size_t, PAGE_SIZE, pb->len - off - bytes);

			bvec_set_page(&bv[n++], pb->pages[(off + bytes) >> PAGE_SHIFT], len, 0);
			bytes += len;
		}
		iov_iter_bvec(&it, ITER_DEST, bv, n, bytes);
		ret = recv_iter(p, &it);
		if (ret)
			return ret;
		off += bytes;
	}
	return 0;
}
