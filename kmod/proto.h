/* SPDX-License-Identifier: GPL-2.0 */
/* The wire codec: request and response headers in host byte order. */
#ifndef _CP_PROTO_H
#define _CP_PROTO_H

#include <linux/types.h>
#include <linux/cachepeer.h>

/* A request header in host byte order. */
struct cp_req {
	u64 id;
	u64 offset;
	u64 length;
	u64 payload_len;
	u32 crc;
	u16 flags;
	u16 key_len;
	u8 opcode;
};

/* A response header in host byte order. */
struct cp_resp {
	u64 id;
	u64 data_len;
	u64 block_size;
	u64 epoch;
	u32 crc;
	u16 status;
};

/*
 * A connection's RX framing: the frame being read, its header and then its
 * key. The reader copies bytes to buf + len, never more than
 * cp_frame_want() at a time, and reports them with cp_frame_got(): however
 * the stream is cut into segments, the same frames come out. A frame's
 * payload (PUT, RING_PUSH) is read by someone else; then cp_frame_reset().
 */
struct cp_frame {
	u32 len;			/* bytes of the frame in buf */
	struct cp_req req;		/* its header, once len has passed it */
	u8 buf[sizeof(struct cachepeer_req) + CACHEPEER_KEY_MAX];
};

enum cp_frame_state {
	CP_FRAME_MORE,		/* the frame needs more bytes */
	CP_FRAME_WHOLE,		/* header and key are in buf */
	CP_FRAME_BAD,		/* it breaks framing: answer it, read no more */
};

static inline u32 cp_frame_want(const struct cp_frame *f)
{
	u32 whole = sizeof(struct cachepeer_req);

	if (f->len >= whole)
		whole += f->req.key_len;
	return whole - f->len;
}

static inline const u8 *cp_frame_key(const struct cp_frame *f)
{
	return f->buf + sizeof(struct cachepeer_req);
}

static inline void cp_frame_reset(struct cp_frame *f)
{
	f->len = 0;
}

enum cp_frame_state cp_frame_got(struct cp_frame *f, u32 n, u64 max_block, u16 *status);
int cp_proto_parse_req(const struct cachepeer_req *w, u64 max_block, struct cp_req *r,
		       u16 *status);
void cp_proto_fill_req(struct cachepeer_req *w, const struct cp_req *r);
int cp_proto_parse_resp(const struct cachepeer_resp *w, struct cp_resp *r);
void cp_proto_fill_resp(struct cachepeer_resp *w, const struct cp_resp *r);

#endif /* _CP_PROTO_H */
