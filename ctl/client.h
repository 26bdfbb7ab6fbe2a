/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CLIENT_H
#define CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <linux/cachepeer.h>

#include "wire.h"

/*
 * A small blocking client for the block protocol: requests may be sent
 * back to back and answers read in whatever order the node sends them.
 * Functions return 0 or a negative errno; -EBADMSG means a response failed
 * its CRC or was malformed.
 */

struct cp_client {
	int fd;
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

#define CP_CONNECT_TIMEOUT_MS	2000

int cp_client_connect(struct cp_client *c, const char *peer);
void cp_client_close(struct cp_client *c);
void cp_client_set_timeout(struct cp_client *c, unsigned int ms, bool rx);
int cp_client_send(struct cp_client *c, const struct cp_msg *m);
int cp_client_recv_hdr(struct cp_client *c, struct cp_resp *r);
int cp_client_recv_data(struct cp_client *c, const struct cp_resp *r, void *buf);
void cp_client_use_key(const struct cp_key *k);
struct cp_ring;
/* Read the ring from any node (RING_GET over the block protocol). */
int cp_ring_fetch(const char *peer, struct cp_ring *r);
int cp_client_hello(struct cp_client *c, const struct cp_key *k, uint8_t *role);

#endif
