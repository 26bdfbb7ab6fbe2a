// SPDX-License-Identifier: GPL-2.0
/*
 * cachepeer_test.ko: unit tests of the module's pure parts, run inside the
 * kernel. Debian's kernel is built without KUnit, so this module carries its
 * own small runner: at load it runs every test and reports in KTAP to the
 * kernel log (selftests/unit.sh collects it), and fails the load if any
 * test failed.
 *
 * The code under test is compiled into this module from the same sources
 * as cachepeer.ko's (kbuild refuses one object in two modules): the CRC-32C
 * combine, checked against the kernel's own crc32c() over whole buffers,
 * and the ring, checked against selftests/ring_vectors.txt, which the
 * client library's tests read too.
 */

#include <linux/inet.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/vmalloc.h>

#include "crc.c"
#include "ring.c"

#include "ring_vectors.h"

struct cp_test {
	const char *name;
	bool (*fn)(void);
};

/* A failed check: say what, in KTAP's diagnostic form. */
#define CHECK(cond, fmt, ...) ({					\
	bool __ok = (cond);						\
	if (!__ok)							\
		pr_info("# %s:%d: " fmt "\n", __func__, __LINE__, ##__VA_ARGS__); \
	__ok;								\
})

/* The kernel's own CRC-32C of a whole buffer, in the standard form. */
static u32 kernel_crc(const void *p, size_t len)
{
	return ~crc32c(~0U, p, len);
}

static bool test_crc_check_value(void)
{
	return CHECK(cp_crc32c(0, "123456789", 9) == 0xe3069283, "check value %08x",
		     cp_crc32c(0, "123456789", 9)) &&
	       CHECK(cp_crc32c(0, NULL, 0) == 0, "CRC of nothing is not 0");
}

/* Every split of buffers of awkward lengths: combine(A, B) == crc(A.B). */
static bool test_crc_combine(void)
{
	static const size_t lens[] = { 0, 1, 3, 4, 5, 31, 32, 33, 1000, 4096, 32767, 32768,
				       32769, 65536 + 7, 200000 };
	size_t total = 2 * 200000;
	bool ok = true;
	u8 *buf;
	size_t i, j;

	buf = vmalloc(total);
	if (!buf)
		return CHECK(false, "out of memory");
	get_random_bytes(buf, total);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		for (j = 0; j < ARRAY_SIZE(lens); j++) {
			size_t a = lens[i], b = lens[j];
			u32 want = kernel_crc(buf, a + b);
			u32 got = cp_crc32c_combine(kernel_crc(buf, a), kernel_crc(buf + a, b), b);

			ok &= CHECK(got == want, "|A| %zu |B| %zu: %08x, want %08x", a, b, got,
				    want);
		}
	}
	/* And chaining: cp_crc32c(cp_crc32c(0, A), B) is the CRC of A.B. */
	ok &= CHECK(cp_crc32c(cp_crc32c(0, buf, 1000), buf + 1000, 5000) ==
		    kernel_crc(buf, 6000), "cp_crc32c does not chain");
	vfree(buf);
	return ok;
}

/* The whole-segment shortcut matches the general combine and the kernel. */
static bool test_crc_combine_seg(void)
{
	size_t seg = CACHEPEER_SEG_SIZE, n = 8;
	bool ok = true;
	u32 crc = 0;
	u8 *buf;
	size_t i;

	buf = vmalloc(seg * n);
	if (!buf)
		return CHECK(false, "out of memory");
	get_random_bytes(buf, seg * n);
	for (i = 0; i < n; i++) {
		u32 part = kernel_crc(buf + i * seg, seg);

		crc = i ? cp_crc32c_combine_seg(crc, part) : part;
		ok &= CHECK(crc == kernel_crc(buf, (i + 1) * seg), "after %zu segments", i + 1);
		ok &= CHECK(!i || crc == cp_crc32c_combine(kernel_crc(buf, i * seg), part, seg),
			    "segment %zu: shortcut and general combine differ", i);
	}
	vfree(buf);
	return ok;
}

static bool test_xxh64(void)
{
	bool ok = true;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(xxh64_vectors); i++) {
		const char *key = xxh64_vectors[i].key;
		u64 got = xxh64(key, strlen(key), xxh64_vectors[i].seed);

		ok &= CHECK(got == xxh64_vectors[i].hash, "xxh64(%s, seed %llu) = %016llx",
			    key, xxh64_vectors[i].seed, got);
		if (!xxh64_vectors[i].seed)
			ok &= CHECK(cp_ring_key_hash(key, strlen(key)) == xxh64_vectors[i].hash,
				    "key hash of '%s'", key);
	}
	return ok;
}

/* The vectors' ring, built as a node builds one. */
static struct cp_ring *vector_ring(void)
{
	struct cp_member *m;
	struct cp_ring *r;
	const char *why;
	size_t i;

	m = kcalloc(ARRAY_SIZE(member_vectors), sizeof(*m), GFP_KERNEL);
	if (!m)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(member_vectors); i++) {
		strscpy(m[i].name, member_vectors[i].name);
		m[i].addr.v4.sin_family = AF_INET;
		m[i].addr.v4.sin_port = htons(member_vectors[i].port);
		if (!in4_pton(member_vectors[i].ip4, -1, (u8 *)&m[i].addr.v4.sin_addr, -1, NULL))
			goto bad;
		m[i].weight = member_vectors[i].weight;
	}
	r = cp_ring_build(m, ARRAY_SIZE(member_vectors), 1, "", &why);
	kfree(m);
	return IS_ERR(r) ? NULL : r;
bad:
	kfree(m);
	return NULL;
}

static bool test_ring_points(void)
{
	struct cp_ring *r = vector_ring();
	bool ok = true;
	size_t i;
	int k;

	if (!CHECK(r, "cannot build the vectors' ring"))
		return false;
	for (i = 0; i < ARRAY_SIZE(points_vectors); i++) {
		k = cp_ring_find(r, points_vectors[i].name);
		ok &= CHECK(k >= 0 && r->members[k].points == points_vectors[i].points,
			    "points of %s", points_vectors[i].name);
	}
	cp_ring_free(r);
	return ok;
}

static bool test_ring_owners(void)
{
	struct cp_ring *r = vector_ring();
	bool ok = true;
	size_t i;
	int o;

	if (!CHECK(r, "cannot build the vectors' ring"))
		return false;
	for (i = 0; i < ARRAY_SIZE(owner_vectors); i++) {
		const char *key = owner_vectors[i].key;
		u64 hash = cp_ring_key_hash(key, strlen(key));

		o = cp_ring_owner(r, hash);
		ok &= CHECK(hash == owner_vectors[i].hash, "hash of %s: %016llx", key, hash);
		ok &= CHECK(o >= 0 && !strcmp(r->members[o].name, owner_vectors[i].owner),
			    "owner of %s: %s, want %s", key, o >= 0 ? r->members[o].name : "none",
			    owner_vectors[i].owner);
	}
	cp_ring_free(r);
	return ok;
}

/* An encoded ring decodes to the same members, and bad encodings do not. */
static bool test_ring_codec(void)
{
	struct cp_ring *r = vector_ring();
	struct cp_member *m;
	bool ok = true;
	size_t len;
	u64 epoch;
	u8 *buf;
	u32 n, i;

	if (!CHECK(r, "cannot build the vectors' ring"))
		return false;
	len = cp_ring_enc_len(r);
	buf = kmalloc(len, GFP_KERNEL);
	if (!buf) {
		cp_ring_free(r);
		return CHECK(false, "out of memory");
	}
	cp_ring_encode(r, buf);
	m = cp_ring_decode(buf, len, &n, &epoch);
	ok &= CHECK(m && n == r->nmembers && epoch == r->epoch, "decode");
	for (i = 0; m && i < n && i < r->nmembers; i++)
		ok &= CHECK(!strcmp(m[i].name, r->members[i].name) &&
			    m[i].weight == r->members[i].weight && !cp_member_check(&m[i]),
			    "member %u", i);
	kvfree(m);
	ok &= CHECK(!cp_ring_decode(buf, len - 1, &n, &epoch), "a short encoding decoded");
	/* The first member's name fills its field: no NUL. */
	buf[sizeof(struct cachepeer_ring_hdr) + CACHEPEER_NAME_MAX] = 'x';
	ok &= CHECK(!cp_ring_decode(buf, len, &n, &epoch), "an unterminated name decoded");
	kfree(buf);
	cp_ring_free(r);
	return ok;
}

static bool test_names(void)
{
	return CHECK(cp_name_valid("a", 1), "a") &&
	       CHECK(cp_name_valid("node-1.rack_2", 13), "node-1.rack_2") &&
	       CHECK(!cp_name_valid("", 0), "empty") &&
	       CHECK(!cp_name_valid("bad/name", 8), "slash") &&
	       CHECK(!cp_name_valid("caf\xe9", 4), "Latin-1") &&
	       CHECK(!cp_name_valid("x", CACHEPEER_NAME_MAX + 1), "too long");
}

static const struct cp_test tests[] = {
	{ "crc32c_check_value", test_crc_check_value },
	{ "crc32c_combine_matches_kernel_crc", test_crc_combine },
	{ "crc32c_combine_seg_matches_kernel_crc", test_crc_combine_seg },
	{ "xxh64_vectors", test_xxh64 },
	{ "ring_points_vectors", test_ring_points },
	{ "ring_owner_vectors", test_ring_owners },
	{ "ring_encode_decode", test_ring_codec },
	{ "member_names", test_names },
};

static int __init cp_test_init(void)
{
	unsigned int failed = 0;
	size_t i;

	cp_crc_init();
	pr_info("KTAP version 1\n");
	pr_info("1..%zu\n", ARRAY_SIZE(tests));
	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		bool ok = tests[i].fn();

		pr_info("%sok %zu %s\n", ok ? "" : "not ", i + 1, tests[i].name);
		failed += !ok;
	}
	pr_info("# cachepeer_test: %zu passed, %u failed\n", ARRAY_SIZE(tests) - failed, failed);
	return failed ? -EINVAL : 0;
}

static void __exit cp_test_exit(void)
{
}

module_init(cp_test_init);
module_exit(cp_test_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Unit tests of cachepeer's CRC-32C combine and hash ring");
