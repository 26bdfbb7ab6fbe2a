// SPDX-License-Identifier: GPL-2.0
/* Block-protocol client used by cachepeerctl, the tests and the benchmark. */

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "client.h"
#include "crc32c.h"
#include "sha256.h"

const char *cp_status_name(uint16_t status)
{
	static const char * const names[] = {
		[CACHEPEER_S_OK] = "ok",
		[CACHEPEER_S_NOT_FOUND] = "not found",
		[CACHEPEER_S_BAD_REQUEST] = "bad request",
		[CACHEPEER_S_TOO_LARGE] = "too large",
		[CACHEPEER_S_NO_SPACE] = "no space",
		[CACHEPEER_S_BUSY] = "busy",
		[CACHEPEER_S_IO_ERROR] = "I/O error",
		[CACHEPEER_S_CORRUPT] = "corrupt",
		[CACHEPEER_S_REDIRECT] = "redirect",
		[CACHEPEER_S_DENIED] = "denied",
		[CACHEPEER_S_CONFLICT] = "a block of another size is stored under this key",
	};

	return status <= CACHEPEER_S_MAX ? names[status] : "unknown status";
}

/* "ADDR:PORT" or "[ADDR6]:PORT". */
int cp_parse_peer(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	const char *colon = strrchr(s, ':');
	char host[INET6_ADDRSTRLEN + 1];
	size_t hlen;
	char *end;
	long port;

	if (!colon || colon == s)
		return -EINVAL;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return -EINVAL;
	hlen = colon - s;
	if (s[0] == '[') {
		if (hlen < 3 || s[hlen - 1] != ']')
			return -EINVAL;
		s++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons(port);
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
		*len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -EINVAL;
}

/* "ADDR:PORT" or "[ADDR6]:PORT", as cp_parse_peer() reads it back; "?" for others. */
const char *cp_fmt_sockaddr(const struct sockaddr *sa, char *buf, size_t len)
{
	const struct sockaddr_in6 *sin6 = (const void *)sa;
	const struct sockaddr_in *sin = (const void *)sa;
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET6 &&
	    inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host)))
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
	else if (sa->sa_family == AF_INET &&
		 inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host)))
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	else
		snprintf(buf, len, "?");
	return buf;
}

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
static const struct cp_client_key *default_key;

void cp_client_use_key(const struct cp_client_key *k)
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
	struct cachepeer_req h = {
		.magic = htobe32(CACHEPEER_REQ_MAGIC),
		.version = CACHEPEER_PROTO_VERSION,
		.opcode = m->op,
		.flags = htobe16(m->flags),
		.id = htobe64(m->id),
		.key_len = htobe16(m->key_len),
		.offset = htobe64(m->offset),
		.length = htobe64(m->length),
		.payload_len = htobe64(m->payload_len),
	};
	struct iovec iov[3] = {
		{ &h, sizeof(h) },
		{ (void *)m->key, m->key_len },
		{ (void *)m->payload, m->payload_len },
	};

	if (m->with_crc) {
		h.flags = htobe16(m->flags | CACHEPEER_F_CRC);
		h.crc = htobe32(crc32c(0, m->payload, m->payload_len));
	}
	return write_all(c->fd, iov, 3);
}

int cp_resp_decode(const struct cachepeer_resp *h, struct cp_resp *r)
{
	if (be32toh(h->magic) != CACHEPEER_RESP_MAGIC)
		return -EBADMSG;
	r->id = be64toh(h->id);
	r->status = be16toh(h->status);
	r->data_len = be64toh(h->data_len);
	r->block_size = be64toh(h->block_size);
	r->crc = be32toh(h->crc);
	r->epoch = be64toh(h->epoch);
	return 0;
}

int cp_client_recv_hdr(struct cp_client *c, struct cp_resp *r)
{
	struct cachepeer_resp h;
	int ret = read_all(c->fd, &h, sizeof(h));

	return ret ?: cp_resp_decode(&h, r);
}

/*
 * NAME:FILE, or with spec NULL the environment's CACHEPEER_KEY: a key's name
 * and its secret, FILE's bytes less one trailing newline. 1 if there is
 * none to load, 0, -EINVAL for a bad name or secret length, -errno.
 */
int cp_client_key_load(const char *spec, struct cp_client_key *k)
{
	/* A secret, its newline, and one byte more to tell a file too long. */
	uint8_t buf[CACHEPEER_SECRET_MAX + 2];
	const char *colon;
	size_t n, name_len;
	FILE *f;

	if (!spec)
		spec = getenv("CACHEPEER_KEY");
	if (!spec || !*spec)
		return 1;
	colon = strchr(spec, ':');
	name_len = colon ? (size_t)(colon - spec) : 0;
	if (!name_len || name_len > CACHEPEER_NAME_MAX)
		return -EINVAL;
	memcpy(k->name, spec, name_len);
	k->name[name_len] = '\0';
	f = fopen(colon + 1, "rb");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n && buf[n - 1] == '\n')
		n--;
	if (n < CACHEPEER_SECRET_MIN || n > CACHEPEER_SECRET_MAX) {
		explicit_bzero(buf, sizeof(buf));
		return -EINVAL;
	}
	memcpy(k->secret, buf, n);
	explicit_bzero(buf, sizeof(buf));
	k->len = n;
	return 0;
}

/* A HELLO proof, as the uapi header defines it. */
static void hello_proof(const struct cp_client_key *k, bool node, const uint8_t *cnonce,
			const uint8_t *snonce, uint8_t role, uint8_t *proof)
{
	const char *label = node ? "cachepeer hello v1 node" : "cachepeer hello v1 client";
	uint8_t name_len = strlen(k->name);
	struct hmac_sha256 h;

	hmac_sha256_init(&h, k->secret, k->len);
	hmac_sha256_update(&h, label, strlen(label));
	hmac_sha256_update(&h, cnonce, CACHEPEER_NONCE_LEN);
	hmac_sha256_update(&h, snonce, CACHEPEER_NONCE_LEN);
	hmac_sha256_update(&h, &name_len, 1);
	hmac_sha256_update(&h, k->name, name_len);
	hmac_sha256_update(&h, &role, 1);
	hmac_sha256_final(&h, proof);
}

/* Constant time: a proof's bytes tell nothing by when they differ. */
static bool same(const uint8_t *a, const uint8_t *b, size_t len)
{
	uint8_t d = 0;

	while (len--)
		d |= *a++ ^ *b++;
	return !d;
}

/*
 * HELLO with key k, as the connection's first request; *role is the role
 * the node gave. -EACCES if the node does not know the key or refuses the
 * proof, -EKEYREJECTED if the node cannot prove the key itself.
 */
int cp_client_hello(struct cp_client *c, const struct cp_client_key *k, uint8_t *role)
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
	hello_proof(k, true, hello, got, *role, proof);
	if (!same(proof, got + CACHEPEER_NONCE_LEN, sizeof(proof)))
		return -EKEYREJECTED;
	hello_proof(k, false, hello, got, *role, proof);
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
