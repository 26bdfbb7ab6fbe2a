/* SPDX-License-Identifier: GPL-2.0 */
/* CRC-32C and its combination, for merging stored segment CRCs. */
#ifndef _CP_CRC_H
#define _CP_CRC_H

#include <linux/types.h>

/*
 * Standard CRC-32C values throughout (~crc32c(~0, data)); the CRC of no data
 * is 0, and cp_crc32c(cp_crc32c(0, a), b) is the CRC of a followed by b.
 */
u32 cp_crc32c(u32 crc, const void *data, size_t len);
u32 cp_crc32c_combine(u32 crc_a, u32 crc_b, size_t len_b);
/* Append one whole CRC segment (CACHEPEER_SEG_SIZE bytes) with CRC crc_b. */
u32 cp_crc32c_combine_seg(u32 crc_a, u32 crc_b);

int cp_crc_init(void);
void cp_crc_exit(void);

#endif /* _CP_CRC_H */
