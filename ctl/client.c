// SPDX-License-Identifier: GPL-2.0
/*
 * The blocking block-protocol client of cachepeerctl's simple commands and
 * the tests; applications use libcachepeer (lib/).
 */

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "client.h"
#include "crc32c.h"
#include "sha256.h"

static int connect_peer(struct cp_client *c, const char *peer)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, ret;

	ret = cp_parse_peer(peer, &ss, &len);
	if (ret)
		return ret;
	c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A peer that vanished must not hold a client for TCP's whole SYN backoff. */
	cp_client_set_timeout(c, CP_CONNECT_TIMEOUT_MS, false);
	if (connect(c->fd, (struct sockaddr *)&ss, len)) {
		ret = errno == EINPROGRESS ? -ETIMEDOUT : -errno;
		close(c->fd);
		c->fd = -1;
		return ret;
	}
	cp_client_set_timeout(c, 0, false);
	return 0;
}

/* The process's key: every connection cp_client_connect() makes HELLOs with it. */
static const struct cp_key *default_key;

void cp_client_use_key(const struct cp_key *k)
{
	default_key = k;
}

/*
 * Connect to peer, and HELLO with the process's key if it has one: then
 * -EACCES or -EKEYREJECTED if that fails (see cp_client_hello()).
 */
int cp_client_connect(struct cp_client *c, const char *peer)
{
	uint8_t role;
	int ret = connect_peer(c, peer);

	if (ret || !default_key)
		return ret;
	ret = cp_client_hello(c, default_key, &role);
	if (ret)
		cp_client_close(c);
	return ret;
}

/* Bound sends (and connect), or with rx also receives, to ms; 0: no bound. */
void cp_client_set_timeout(struct cp_client *c, unsigned int ms, bool rx)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000 };

	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (rx)
		setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

void cp_client_close(struct cp_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* MSG_NOSIGNAL: a node that refuses a frame closes; that is an error, not a signal. */
static int write_all(int fd, struct iovec *iov, int n)
{
	while (n) {
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = n };
		ssize_t w = sendmsg(fd, &msg, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (n && (size_t)w >= iov->iov_len) {
			w -= iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= w;
		}
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	while (len) {
		ssize_t r = read(fd, buf, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			return -ECONNRESET;
		buf = (char *)buf + r;
		len -= r;
	}
	return 0;
}

int cp_client_send(struct cp_client *c, const struct cp_msg *m)
{
	struct cachepeer_req h;
	struct iovec iov[3] = {
		{ &h, sizeof(h) },
		{ (void *)m->key, m->key_len },
		{ (void *)m->payload, m->payload_len },
	};

	if (m->with_crc)
		cp_req_encode(&h, m->op, m->flags | CACHEPEER_F_CRC, m->id, m->key_len, m->offset,
			      m->length, m->payload_len, crc32c(0, m->payload, m->payload_len));
	else
		cp_req_encode(&h, m->op, m->flags, m->id, m->key_len, m->offset, m->length,
			      m->payload_len, 0);
	return write_all(c->fd, iov, 3);
}

int cp_client_recv_hdr(struct cp_client *c, struct cp_resp *r)
{
	struct cachepeer_resp h;
	int ret = read_all(c->fd, &h, sizeof(h));

	return ret ?: cp_resp_decode(&h, r);
}

/*
 * HELLO with key k, as the connection's first request; *role is the role
 * the node gave. -EACCES if the node does not know the key or refuses the
 * proof, -EKEYREJECTED if the node cannot prove the key itself.
 */
int cp_client_hello(struct cp_client *c, const struct cp_key *k, uint8_t *role)
{
	uint8_t hello[CACHEPEER_NONCE_LEN + CACHEPEER_NAME_MAX];
	uint8_t got[CACHEPEER_NONCE_LEN + CACHEPEER_HMAC_LEN + 1], proof[CACHEPEER_HMAC_LEN];
	size_t name_len = strlen(k->name);
	struct cp_msg m = { .op = CACHEPEER_OP_HELLO, .id = 1, .key = hello,
			    .key_len = CACHEPEER_NONCE_LEN + name_len };
	struct cp_resp r;
	int ret;

	if (getrandom(hello, CACHEPEER_NONCE_LEN, 0) != CACHEPEER_NONCE_LEN)
		return -EIO;
	memcpy(hello + CACHEPEER_NONCE_LEN, k->name, name_len);
	ret = cp_client_send(c, &m) ?: cp_client_recv_hdr(c, &r);
	if (ret)
		return ret;
	if (r.status != CACHEPEER_S_OK)
		return -EACCES;
	if (r.data_len != sizeof(got))
		return -EBADMSG;
	ret = cp_client_recv_data(c, &r, got);
	if (ret)
		return ret;
	*role = got[sizeof(got) - 1];
	cp_hello_proof(k, true, hello, got, *role, proof);
	if (!cp_same(proof, got + CACHEPEER_NONCE_LEN, sizeof(proof)))
		return -EKEYREJECTED;
	cp_hello_proof(k, false, hello, got, *role, proof);
	m = (struct cp_msg) { .op = CACHEPEER_OP_HELLO, .id = 2, .flags = CACHEPEER_F_PROOF,
			      .key = proof, .key_len = sizeof(proof) };
	ret = cp_client_send(c, &m) ?: cp_client_recv_hdr(c, &r);
	if (ret)
		return ret;
	return r.status == CACHEPEER_S_OK ? 0 : -EACCES;
}

/* Read a response's data into buf (data_len bytes) and check its CRC. */
int cp_client_recv_data(struct cp_client *c, const struct cp_resp *r, void *buf)
{
	int ret = read_all(c->fd, buf, r->data_len);

	if (ret)
		return ret;
	return crc32c(0, buf, r->data_len) == r->crc ? 0 : -EBADMSG;
}
