// SPDX-License-Identifier: GPL-2.0
/*
 * CRC-32C and its combination. The kernel's __crc32c_le_shift() was
 * removed from mainline after 6.12, so the module carries the GF(2)
 * arithmetic itself (after lib/crc32.c). All of it is safe in softirq.
 *
 * The CRC itself comes from the crypto API, as lib/libcrc32c.c takes it,
 * but without a symbol of that module: plain insmod works, and
 * crypto_alloc_shash() loads the accelerated driver (crc32c-intel) on
 * demand.
 */

#include <crypto/hash.h>
#include <linux/cache.h>
#include <linux/crc32poly.h>
#include <linux/init.h>
#include <linux/module.h>

#include <linux/cachepeer.h>

#include "crc.h"

/* x^(8 * CACHEPEER_SEG_SIZE) mod P: shifting by a whole segment is one multiply. */
static u32 seg_power __ro_after_init;
static struct crypto_shash *crc_tfm __ro_after_init;

/*
 * The crc32c drivers keep the running, uninverted CRC as their whole
 * context (libcrc32c relies on it the same way), so a CRC is continued by
 * setting it. len is at most a block, far below UINT_MAX; an update of
 * crc32c cannot fail.
 */
u32 cp_crc32c(u32 crc, const void *data, size_t len)
{
	SHASH_DESC_ON_STACK(desc, crc_tfm);
	u32 *ctx = shash_desc_ctx(desc);

	desc->tfm = crc_tfm;
	*ctx = ~crc;
	crypto_shash_update(desc, data, len);
	crc = ~*ctx;
	barrier_data(ctx);
	return crc;
}

static u32 gf2_multiply(u32 x, u32 y)
{
	u32 product = x & 1 ? y : 0;
	int i;

	for (i = 0; i < 31; i++) {
		product = (product >> 1) ^ (product & 1 ? CRC32C_POLY_LE : 0);
		x >>= 1;
		product ^= x & 1 ? y : 0;
	}
	return product;
}

/* crc * x^(8 * len) mod P, i.e. crc followed by len zero bytes. */
static u32 crc32c_shift(u32 crc, size_t len)
{
	u32 power = CRC32C_POLY_LE;	/* x^32 mod P */
	int i;

	for (i = 0; i < 8 * (int)(len & 3); i++)
		crc = (crc >> 1) ^ (crc & 1 ? CRC32C_POLY_LE : 0);
	for (len >>= 2; len; len >>= 1) {
		if (len & 1)
			crc = gf2_multiply(crc, power);
		if (len > 1)
			power = gf2_multiply(power, power);
	}
	return crc;
}

/*
 * For standard (finalised) CRCs the pre- and post-inversions cancel out, as
 * in zlib's crc32_combine(): crc(A.B) = shift(crc(A), |B|) ^ crc(B).
 */
u32 cp_crc32c_combine(u32 crc_a, u32 crc_b, size_t len_b)
{
	return crc32c_shift(crc_a, len_b) ^ crc_b;
}

u32 cp_crc32c_combine_seg(u32 crc_a, u32 crc_b)
{
	return gf2_multiply(crc_a, seg_power) ^ crc_b;
}

int __init cp_crc_init(void)
{
	crc_tfm = crypto_alloc_shash("crc32c", 0, 0);
	if (IS_ERR(crc_tfm)) {
		pr_err("no crc32c in the crypto API (CONFIG_CRYPTO_CRC32C): %ld\n",
		       PTR_ERR(crc_tfm));
		return PTR_ERR(crc_tfm);
	}
	/* crc32c_shift(1, n) would be x^(8n) times x^0 = x^31 in this bit order. */
	seg_power = crc32c_shift(1U << 31, CACHEPEER_SEG_SIZE);
	return 0;
}

void cp_crc_exit(void)
{
	crypto_free_shash(crc_tfm);
}

/* For modprobe, and initramfs tools: the driver crypto_alloc_shash() asks for. */
MODULE_SOFTDEP("pre: crc32c");
