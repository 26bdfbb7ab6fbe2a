/* SPDX-License-Identifier: MIT */
#ifndef CP_WIRE_H
#define CP_WIRE_H

/*
 * The block protocol's pieces that libcachepeer and cachepeerctl share:
 * addresses, frame headers, keys and HELLO proofs. Internal to the
 * library (hidden by its version script); the tool links them statically.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <linux/cachepeer.h>

struct cp_resp {
	uint64_t id;
	uint16_t status;
	uint64_t data_len;
	uint64_t block_size;
	uint32_t crc;
	uint64_t epoch;
};

/* A key to HELLO with. */
struct cp_key {
	char name[CACHEPEER_NAME_MAX + 1];
	uint8_t secret[CACHEPEER_SECRET_MAX];
	size_t len;
};

/* Longest "ADDR:PORT" or "[ADDR6]:PORT", with its NUL. */
#define CP_ADDR_MAX	64

int cp_parse_peer(const char *s, struct sockaddr_storage *ss, socklen_t *len);
const char *cp_fmt_sockaddr(const struct sockaddr *sa, char *buf, size_t len);
const char *cp_status_name(uint16_t status);
void cp_req_encode(struct cachepeer_req *h, uint8_t op, uint16_t flags, uint64_t id,
		   size_t key_len, uint64_t offset, uint64_t length, uint64_t payload_len,
		   uint32_t crc);
int cp_resp_decode(const struct cachepeer_resp *h, struct cp_resp *r);
int cp_key_load(const char *spec, struct cp_key *k);
void cp_hello_proof(const struct cp_key *k, bool node, const uint8_t *cnonce,
		    const uint8_t *snonce, uint8_t role, uint8_t *proof);
bool cp_same(const uint8_t *a, const uint8_t *b, size_t len);

#endif
