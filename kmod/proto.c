// SPDX-License-Identifier: GPL-2.0
/*
 * The wire codec: requests and responses, encoded and decoded, for client
 * connections and for the node's own calls to other members alike. Pure
 * functions of their arguments, callable from softirq, and built unchanged
 * into the userspace fuzz harness (selftests/fuzz/), so nothing here may
 * touch kernel state.
 */

#ifdef __KERNEL__
#include <linux/errno.h>
#include <asm/byteorder.h>
#endif

#include "proto.h"

/*
 * n more bytes of the frame (at most cp_frame_want()) are in f->buf. The
 * header is parsed the moment it is whole; for CP_FRAME_BAD, *status is
 * the answer.
 */
enum cp_frame_state cp_frame_got(struct cp_frame *f, u32 n, u64 max_block, u16 *status)
{
	const u32 hdr = sizeof(struct cachepeer_req);
	bool had_header = f->len >= hdr;

	f->len += n;
	if (f->len < hdr)
		return CP_FRAME_MORE;
	if (!had_header &&
	    cp_proto_parse_req((const struct cachepeer_req *)f->buf, max_block, &f->req, status))
		return CP_FRAME_BAD;
	return f->len == hdr + f->req.key_len ? CP_FRAME_WHOLE : CP_FRAME_MORE;
}

/*
 * Validate a request header. Returns 0, or -EBADMSG with *status set to the
 * answer for a frame that breaks framing; the caller answers and closes.
 * Fields an op does not use must be zero, so that a client bug is caught
 * rather than half-honoured.
 */
int cp_proto_parse_req(const struct cachepeer_req *w, u64 max_block, struct cp_req *r,
		       u16 *status)
{
	bool want_key, want_payload, want_range;
	u16 flags_ok;

	*status = CACHEPEER_S_BAD_REQUEST;
	if (be32_to_cpu(w->magic) != CACHEPEER_REQ_MAGIC ||
	    w->version != CACHEPEER_PROTO_VERSION || w->reserved)
		return -EBADMSG;

	r->id = be64_to_cpu(w->id);
	r->opcode = w->opcode;
	r->flags = be16_to_cpu(w->flags);
	r->key_len = be16_to_cpu(w->key_len);
	r->crc = be32_to_cpu(w->crc);
	r->offset = be64_to_cpu(w->offset);
	r->length = be64_to_cpu(w->length);
	r->payload_len = be64_to_cpu(w->payload_len);

	if (r->opcode < CACHEPEER_OP_GET || r->opcode > CACHEPEER_OP_MAX)
		return -EBADMSG;

	want_key = r->opcode <= CACHEPEER_OP_DEL || r->opcode == CACHEPEER_OP_PROBE;
	want_payload = r->opcode == CACHEPEER_OP_PUT || r->opcode == CACHEPEER_OP_RING_PUSH;
	want_range = r->opcode == CACHEPEER_OP_GET;
	flags_ok = r->opcode == CACHEPEER_OP_PUT ? CACHEPEER_F_CRC | CACHEPEER_F_LOCAL :
		   r->opcode == CACHEPEER_OP_DEL ? CACHEPEER_F_LOCAL :
		   r->opcode == CACHEPEER_OP_GET ? CACHEPEER_F_NOFWD :
		   r->opcode == CACHEPEER_OP_HELLO ? CACHEPEER_F_PROOF : 0;

	if (r->flags & ~flags_ok)
		return -EBADMSG;
	if (r->opcode == CACHEPEER_OP_HELLO) {
		/* A nonce and a key name, or a proof. */
		if (r->flags & CACHEPEER_F_PROOF ? r->key_len != CACHEPEER_HMAC_LEN :
		    r->key_len <= CACHEPEER_NONCE_LEN ||
		    r->key_len > CACHEPEER_NONCE_LEN + CACHEPEER_NAME_MAX)
			return -EBADMSG;
	} else if (r->opcode == CACHEPEER_OP_PROBE) {
		if (r->key_len < 1 || r->key_len > CACHEPEER_NAME_MAX)
			return -EBADMSG;
	} else if (want_key ? r->key_len < 1 || r->key_len > CACHEPEER_KEY_MAX : r->key_len) {
		return -EBADMSG;
	}
	if (!want_range && (r->offset || r->length))
		return -EBADMSG;
	if (!want_payload && r->payload_len)
		return -EBADMSG;
	if (!(r->flags & CACHEPEER_F_CRC) && r->crc)
		return -EBADMSG;
	if (want_payload) {
		u64 max = r->opcode == CACHEPEER_OP_PUT ? max_block :
			  CACHEPEER_RING_ENC_MAX + CACHEPEER_HMAC_LEN;

		if (!r->payload_len)
			return -EBADMSG;
		if (r->payload_len > max) {
			*status = CACHEPEER_S_TOO_LARGE;
			return -EBADMSG;
		}
	}
	*status = CACHEPEER_S_OK;
	return 0;
}

/* The header of a request r, which the caller has made valid. */
void cp_proto_fill_req(struct cachepeer_req *w, const struct cp_req *r)
{
	*w = (struct cachepeer_req) {
		.magic = cpu_to_be32(CACHEPEER_REQ_MAGIC),
		.version = CACHEPEER_PROTO_VERSION,
		.opcode = r->opcode,
		.flags = cpu_to_be16(r->flags),
		.id = cpu_to_be64(r->id),
		.key_len = cpu_to_be16(r->key_len),
		.crc = cpu_to_be32(r->crc),
		.offset = cpu_to_be64(r->offset),
		.length = cpu_to_be64(r->length),
		.payload_len = cpu_to_be64(r->payload_len),
	};
}

/*
 * Decode a response header. Returns 0, or -EBADMSG for one no node sends
 * (bad magic, reserved bits, an unknown status, data on a status that has
 * none); the stream it came from cannot be trusted after that.
 */
int cp_proto_parse_resp(const struct cachepeer_resp *w, struct cp_resp *r)
{
	if (be32_to_cpu(w->magic) != CACHEPEER_RESP_MAGIC || w->reserved || w->reserved2)
		return -EBADMSG;
	r->id = be64_to_cpu(w->id);
	r->status = be16_to_cpu(w->status);
	r->data_len = be64_to_cpu(w->data_len);
	r->block_size = be64_to_cpu(w->block_size);
	r->crc = be32_to_cpu(w->crc);
	r->epoch = be64_to_cpu(w->epoch);
	if (r->status > CACHEPEER_S_MAX)
		return -EBADMSG;
	/* Only OK and a REDIRECT (the owner's address) carry data. */
	if (r->data_len && r->status != CACHEPEER_S_OK && r->status != CACHEPEER_S_REDIRECT)
		return -EBADMSG;
	return 0;
}

void cp_proto_fill_resp(struct cachepeer_resp *w, const struct cp_resp *r)
{
	*w = (struct cachepeer_resp) {
		.magic = cpu_to_be32(CACHEPEER_RESP_MAGIC),
		.status = cpu_to_be16(r->status),
		.id = cpu_to_be64(r->id),
		.data_len = cpu_to_be64(r->data_len),
		.block_size = cpu_to_be64(r->block_size),
		.crc = cpu_to_be32(r->crc),
		.epoch = cpu_to_be64(r->epoch),
	};
}
