// SPDX-License-Identifier: MIT
/* The block protocol's shared pieces: addresses, headers, keys, HELLO proofs. */

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "wire.h"

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

/* A request header; crc goes with CACHEPEER_F_CRC in flags. */
void cp_req_encode(struct cachepeer_req *h, uint8_t op, uint16_t flags, uint64_t id,
		   size_t key_len, uint64_t offset, uint64_t length, uint64_t payload_len,
		   uint32_t crc)
{
	*h = (struct cachepeer_req) {
		.magic = htobe32(CACHEPEER_REQ_MAGIC),
		.version = CACHEPEER_PROTO_VERSION,
		.opcode = op,
		.flags = htobe16(flags),
		.id = htobe64(id),
		.key_len = htobe16(key_len),
		.offset = htobe64(offset),
		.length = htobe64(length),
		.payload_len = htobe64(payload_len),
		.crc = htobe32(crc),
	};
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

/*
 * NAME:FILE, or with spec NULL the environment's CACHEPEER_KEY: a key's name
 * and its secret, FILE's bytes less one trailing newline. 1 if there is
 * none to load, 0, -EINVAL for a bad name or secret length, -errno.
 */
int cp_key_load(const char *spec, struct cp_key *k)
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
void cp_hello_proof(const struct cp_key *k, bool node, const uint8_t *cnonce,
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
bool cp_same(const uint8_t *a, const uint8_t *b, size_t len)
{
	uint8_t d = 0;

	while (len--)
		d |= *a++ ^ *b++;
	return !d;
}
