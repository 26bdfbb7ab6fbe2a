// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness over kmod/proto.c, the frame validation the module runs
 * in softirq, built unchanged (see Makefile). Beyond not crashing, every
 * accepted header must satisfy the invariants the module relies on.
 */
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cachepeer_req w;
	struct cp_req r;
	u64 max_block = CACHEPEER_MAX_BLOCK_DEFAULT;
	u16 status;

	if (size < sizeof(w))
		return 0;
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
	/* Ops up to DEL take a key; PING and the ring ops none. */
	if (r.opcode > CACHEPEER_OP_DEL ? r.key_len != 0 :
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
	if (r.flags & ~(r.opcode == CACHEPEER_OP_PUT ? CACHEPEER_F_CRC :
			r.opcode == CACHEPEER_OP_GET ? CACHEPEER_F_NOFWD : 0))
		abort();
	if (r.crc && !(r.flags & CACHEPEER_F_CRC))
		abort();
	return 0;
}
