/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reference data and CRCs for the C selftests, written apart from the code
 * under test so that a bug there cannot cancel out in a comparison.
 */
#ifndef CP_REF_H
#define CP_REF_H

#include <stddef.h>
#include <stdint.h>

/* Bit-at-a-time CRC-32C: shares nothing with the module, the tool or the library. */
static inline uint32_t ref_crc(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t c = ~0u;
	int k;

	while (len--) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & -(c & 1));
	}
	return ~c;
}

static inline void fill_random(void *buf, size_t len, uint64_t seed)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		p[i] = seed;
	}
}

#endif /* CP_REF_H */
