// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness over kmod/proto.c, the wire codec the module runs in
 * softirq, built unchanged (see Makefile). Beyond not crashing, every
 * accepted request header must satisfy the invariants the module relies on,
 * and whatever either decoder accepts must encode back to the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A response header: decoded, it must encode back to itself. */
static void check_resp(const uint8_t *data)
{
	struct cachepeer_resp w, again;
	struct cp_resp r;

	memcpy(&w, data, sizeof(w));
	if (cp_proto_parse_resp(&w, &r))
		return;
	if (r.status > CACHEPEER_S_MAX ||
	    (r.data_len && r.status != CACHEPEER_S_OK && r.status != CACHEPEER_S_REDIRECT))
		abort();
	cp_proto_fill_resp(&again, &r);
	if (memcmp(&w, &again, sizeof(w)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cachepeer_req w, again;
	struct cp_req r;
	u64 max_block = CACHEPEER_MAX_BLOCK_DEFAULT;
	u16 status;

	_Static_assert(sizeof(struct cachepeer_resp) == sizeof(w), "one input, two headers");
	if (size < sizeof(w))
		return 0;
	check_resp(data);
	memcpy(&w, data, sizeof(w));
	if (size >= sizeof(w) + 8)
		memcpy(&max_block, data + sizeof(w), 8);
	max_block %= CACHEPEER_MAX_BLOCK_LIMIT + 1;

	if (cp_proto_parse_req(&w, max_block, &r, &status)) {
		if (status != CACHEPEER_S_BAD_REQUEST && status != CACHEPEER_S_TOO_LARGE)
			abort();
		return 0;
	}
	if (status != CACHEPEER_S_OK)
		abort();
	if (r.opcode < CACHEPEER_OP_GET || r.opcode > CACHEPEER_OP_MAX)
		abort();
	/*
	 * Ops up to DEL take a key; PING and the ring ops none; HELLO a nonce
	 * and a key name, or a proof; PROBE a member's name.
	 */
	if (r.opcode == CACHEPEER_OP_HELLO ?
	    (r.flags & CACHEPEER_F_PROOF ? r.key_len != CACHEPEER_HMAC_LEN :
	     r.key_len <= CACHEPEER_NONCE_LEN ||
	     r.key_len > CACHEPEER_NONCE_LEN + CACHEPEER_NAME_MAX) :
	    r.opcode == CACHEPEER_OP_PROBE ? r.key_len < 1 || r.key_len > CACHEPEER_NAME_MAX :
	    r.opcode > CACHEPEER_OP_DEL ? r.key_len != 0 :
	    r.key_len < 1 || r.key_len > CACHEPEER_KEY_MAX)
		abort();
	if (r.opcode == CACHEPEER_OP_PUT ?
	    r.payload_len < 1 || r.payload_len > max_block :
	    r.opcode == CACHEPEER_OP_RING_PUSH ?
	    r.payload_len < 1 || r.payload_len > CACHEPEER_RING_ENC_MAX + CACHEPEER_HMAC_LEN :
	    r.payload_len != 0)
		abort();
	if (r.opcode != CACHEPEER_OP_GET && (r.offset || r.length))
		abort();
	if (r.flags & ~(r.opcode == CACHEPEER_OP_PUT ? CACHEPEER_F_CRC | CACHEPEER_F_LOCAL :
			r.opcode == CACHEPEER_OP_DEL ? CACHEPEER_F_LOCAL :
			r.opcode == CACHEPEER_OP_GET ? CACHEPEER_F_NOFWD :
			r.opcode == CACHEPEER_OP_HELLO ? CACHEPEER_F_PROOF : 0))
		abort();
	if (r.crc && !(r.flags & CACHEPEER_F_CRC))
		abort();
	/* What the node accepts, its own encoder writes identically. */
	cp_proto_fill_req(&again, &r);
	if (memcmp(&w, &again, sizeof(w)))
		abort();
	return 0;
}
