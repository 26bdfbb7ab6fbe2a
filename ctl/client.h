/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CLIENT_H
#define CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <linux/cachepeer.h>

/*
 * A small blocking client for the block protocol: requests may be sent
 * back to back and answers read in whatever order the node sends them.
 * Functions return 0 or a negative errno; -EBADMSG means a response failed
 * its CRC or was malformed.
 */

struct cp_client {
	int fd;
};

struct cp_resp {
	uint64_t id;
	uint16_t status;
	uint64_t data_len;
	uint64_t block_size;
	uint32_t crc;
	uint64_t epoch;
};

struct cp_msg {
	uint8_t op;
	uint64_t id;
	const void *key;
	size_t key_len;
	uint64_t offset;
	uint64_t length;
	const void *payload;
	uint64_t payload_len;
	int with_crc;		/* PUT: send the payload's CRC for the node to check */
	uint16_t flags;		/* CACHEPEER_F_*, besides the CRC's */
};

/* A key to HELLO with. */
struct cp_client_key {
	char name[CACHEPEER_NAME_MAX + 1];
	uint8_t secret[CACHEPEER_SECRET_MAX];
	size_t len;
};

#define CP_CONNECT_TIMEOUT_MS	2000

int cp_parse_peer(const char *s, struct sockaddr_storage *ss, socklen_t *len);
const char *cp_fmt_sockaddr(const struct sockaddr *sa, char *buf, size_t len);
int cp_client_connect(struct cp_client *c, const char *peer);
void cp_client_close(struct cp_client *c);
void cp_client_set_timeout(struct cp_client *c, unsigned int ms, bool rx);
int cp_client_send(struct cp_client *c, const struct cp_msg *m);
int cp_client_recv_hdr(struct cp_client *c, struct cp_resp *r);
/* A response header already read off the wire. */
int cp_resp_decode(const struct cachepeer_resp *h, struct cp_resp *r);
int cp_client_recv_data(struct cp_client *c, const struct cp_resp *r, void *buf);
const char *cp_status_name(uint16_t status);
int cp_client_key_load(const char *spec, struct cp_client_key *k);
void cp_client_use_key(const struct cp_client_key *k);
int cp_client_hello(struct cp_client *c, const struct cp_client_key *k, uint8_t *role);

#endif
