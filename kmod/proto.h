/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CP_PROTO_H
#define _CP_PROTO_H

#include <linux/types.h>
#include <linux/cachepeer.h>

/* A validated request header in host byte order. */
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

int cp_proto_parse_req(const struct cachepeer_req *w, u64 max_block, struct cp_req *r,
		       u16 *status);
void cp_proto_fill_resp(struct cachepeer_resp *w, u64 id, u16 status, u64 data_len,
			u64 block_size, u32 crc, u64 epoch);

#endif /* _CP_PROTO_H */
