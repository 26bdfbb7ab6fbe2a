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

int cp_proto_parse_req(const struct cachepeer_req *w, u64 max_block, struct cp_req *r,
		       u16 *status);
void cp_proto_fill_req(struct cachepeer_req *w, const struct cp_req *r);
int cp_proto_parse_resp(const struct cachepeer_resp *w, struct cp_resp *r);
void cp_proto_fill_resp(struct cachepeer_resp *w, const struct cp_resp *r);

#endif /* _CP_PROTO_H */
