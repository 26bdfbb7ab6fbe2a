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
 * the ring, checked against selftests/ring_vectors.txt, which the client
 * library's tests read too, and the latency histograms' buckets.
 */

#include <linux/crc32c.h>
#include <linux/inet.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/vmalloc.h>

#include "crc.c"
#include "ring.c"
#include "stats.c"
#include "view.c"

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

/*
 * With members down, a key's owner is the first member clockwise that is
 * not, as a walk over the whole ring's points finds; with all down, none.
 */
static bool test_ring_down(void)
{
	struct cp_ring *r = vector_ring(), *d;
	struct cp_member *m;
	const char *why;
	bool ok = true;
	u32 i, k, p;

	if (!CHECK(r && r->nmembers >= 3, "cannot build the vectors' ring"))
		return false;
	m = kmemdup(r->members, r->nmembers * sizeof(*m), GFP_KERNEL);
	if (!m) {
		cp_ring_free(r);
		return CHECK(false, "out of memory");
	}
	m[0].state = CACHEPEER_MEMBER_DOWN;
	m[2].state = CACHEPEER_MEMBER_DOWN;
	d = cp_ring_build(m, r->nmembers, 1, "", &why);
	for (i = 0; !IS_ERR(d) && i < 1000; i++) {
		u64 hash = cp_ring_key_hash(&i, sizeof(i));
		int want = -1;

		/* The full ring's first point at or after hash, then onwards. */
		for (p = 0; p < r->npoints && r->hash[p] < hash; p++)
			;
		for (k = 0; k < r->npoints && want < 0; k++) {
			u16 o = r->owner[(p + k) % r->npoints];

			if (o != 0 && o != 2)
				want = o;
		}
		ok &= CHECK(cp_ring_owner(d, hash) == want, "key %u: owner %d, want %d", i,
			    cp_ring_owner(d, hash), want);
	}
	cp_ring_free(IS_ERR(d) ? NULL : d);
	for (i = 0; i < r->nmembers; i++)
		m[i].state = CACHEPEER_MEMBER_DOWN;
	d = cp_ring_build(m, r->nmembers, 1, "", &why);
	ok &= CHECK(!IS_ERR(d) && cp_ring_owner(d, 42) == -1, "all down, still an owner");
	cp_ring_free(IS_ERR(d) ? NULL : d);
	kfree(m);
	cp_ring_free(r);
	return ok;
}

/* A view of the vectors' members, entry i at version ver + i. */
static struct cp_view *vector_view(u64 ver)
{
	struct cp_ring *r = vector_ring();
	struct cp_view *v;
	u32 i;

	if (!r)
		return NULL;
	v = cp_view_alloc(r->nmembers);
	for (i = 0; v && i < r->nmembers; i++) {
		cp_entry_set(&v->e[i], &r->members[i], ver + i, 0);
		v->epoch = max(v->epoch, ver + i);
	}
	cp_ring_free(r);
	return v;
}

/* An encoded view parses to the same entries, and bad encodings do not. */
static bool test_view_codec(void)
{
	struct cp_view *v = vector_view(1000);
	const struct cachepeer_ring_member *e;
	const struct cachepeer_ring_hdr *h;
	struct cachepeer_ring_member t;
	bool ok = true;
	const char *why;
	size_t len;
	u8 *buf;

	if (!CHECK(v, "cannot build the vectors' view"))
		return false;
	len = cp_view_enc_len(v, false);
	buf = kmalloc(len, GFP_KERNEL);
	if (!buf) {
		cp_view_free(v);
		return CHECK(false, "out of memory");
	}
	cp_view_encode(v, buf, false);
	e = cp_view_parse(buf, len, &h, &why);
	ok &= CHECK(e && ntohs(h->nmembers) == v->n && be64_to_cpu(h->epoch) == v->epoch &&
		    !memcmp(e, v->e, v->n * sizeof(*e)), "parse: %s", why);
	ok &= CHECK(e && be64_to_cpu(h->digest) == cp_view_digest(v), "digest");
	ok &= CHECK(!cp_view_parse(buf, len - 1, &h, &why), "a short encoding parsed");
	/* Out of name order. */
	e = (void *)(buf + sizeof(*h));
	t = *(struct cachepeer_ring_member *)e;
	((struct cachepeer_ring_member *)e)[0] = e[1];
	((struct cachepeer_ring_member *)e)[1] = t;
	ok &= CHECK(!cp_view_parse(buf, len, &h, &why), "unsorted entries parsed");
	cp_view_encode(v, buf, false);
	/* The first member's name fills its field: no NUL. */
	buf[sizeof(struct cachepeer_ring_hdr) + CACHEPEER_NAME_MAX] = 'x';
	ok &= CHECK(!cp_view_parse(buf, len, &h, &why), "an unterminated name parsed");
	cp_view_encode(v, buf, false);
	/* The first entry's version past the epoch. */
	memset(buf + sizeof(*h) + offsetof(struct cachepeer_ring_member, version), 0xff, 8);
	ok &= CHECK(!cp_view_parse(buf, len, &h, &why), "version 2^64 - 1 parsed");
	cp_view_encode(v, buf, false);
	buf[sizeof(*h) + offsetof(struct cachepeer_ring_member, state)] = 7;
	ok &= CHECK(!cp_view_parse(buf, len, &h, &why), "state 7 parsed");
	kfree(buf);
	cp_view_free(v);
	return ok;
}

static void view_put(struct cp_view *v)
{
	if (!IS_ERR_OR_NULL(v))
		cp_view_free(v);
}

/* a merged with b, and b with a, in place of what *ab and *ba held. */
static void merge_both(const struct cp_view *a, const struct cp_view *b, struct cp_view **ab,
		       struct cp_view **ba)
{
	bool lacks;

	view_put(*ab);
	view_put(*ba);
	*ab = cp_view_merge(a, b->e, b->n, b->floor, 0, &lacks);
	*ba = cp_view_merge(b, a->e, a->n, a->floor, 0, &lacks);
}

static bool same_view(const struct cp_view *a, const struct cp_view *b)
{
	return !IS_ERR_OR_NULL(a) && !IS_ERR_OR_NULL(b) && a->n == b->n &&
	       !memcmp(a->e, b->e, a->n * sizeof(a->e[0]));
}

/*
 * Concurrent edits of different members both survive, of one member
 * converge on one, whichever way round views merge; tombstones win over
 * older entries, and once dropped, raise the floor, which keeps the
 * member out, while the epoch stays.
 */
static bool test_view_merge(void)
{
	struct cp_view *base = vector_view(1000), *a, *b, *ab = NULL, *ba = NULL, *x = NULL, *y;
	bool ok = true, lacks;
	u64 epoch;

	if (!CHECK(base, "no view"))
		return false;
	a = cp_view_merge(base, NULL, 0, 0, 0, &lacks);
	b = cp_view_merge(base, NULL, 0, 0, 0, &lacks);
	if (IS_ERR(a) || IS_ERR(b))
		goto out;
	/* On a: member 0 reweighted; on b: member 1 removed, both at 5000. */
	a->e[0].weight = htons(7);
	a->e[0].version = cpu_to_be64(5000);
	b->e[1].flags |= CACHEPEER_MEMBER_F_REMOVED;
	b->e[1].version = cpu_to_be64(5000);
	ok &= CHECK(cp_view_news(a, b->e, b->n, 0, 0, &lacks) && lacks, "news both ways");
	merge_both(a, b, &ab, &ba);
	ok &= CHECK(same_view(ab, ba), "merge not commutative");
	ok &= CHECK(!IS_ERR(ab) && ntohs(ab->e[0].weight) == 7 && cp_entry_removed(&ab->e[1]),
		    "an edit was lost");
	ok &= CHECK(!IS_ERR(ab) && !cp_view_news(ab, a->e, a->n, 0, 0, &lacks), "old news");
	if (IS_ERR(ab) || IS_ERR(ba))
		goto out;
	/* Both edit member 2 at one version: the larger encoding wins, on both. */
	a->e[2].weight = htons(1);
	b->e[2].weight = htons(2);
	a->e[2].version = cpu_to_be64(6000);
	b->e[2].version = cpu_to_be64(6000);
	merge_both(a, b, &ab, &ba);
	ok &= CHECK(same_view(ab, ba) && ntohs(ab->e[2].weight) == 2, "one member's edits");
	if (IS_ERR(ab))
		goto out;
	/*
	 * Of one version, liveness decides: a's member 3 suspected at
	 * incarnation 0, b's alive at 1 (it refuted): b's wins, either way
	 * round. Of another version, the newer entry wins whole: a's member 4
	 * down at incarnation 7 loses to b's edit of it, alive at 0.
	 */
	a->e[3].state = CACHEPEER_MEMBER_SUSPECT;
	b->e[3].incarnation = cpu_to_be32(1);
	a->e[4].state = CACHEPEER_MEMBER_DOWN;
	a->e[4].incarnation = cpu_to_be32(7);
	b->e[4].version = cpu_to_be64(7000);
	merge_both(a, b, &ab, &ba);
	ok &= CHECK(same_view(ab, ba) && ab->e[3].state == CACHEPEER_MEMBER_ALIVE &&
		    be32_to_cpu(ab->e[3].incarnation) == 1 &&
		    ab->e[4].state == CACHEPEER_MEMBER_ALIVE && !ab->e[4].incarnation,
		    "liveness merge");
	if (IS_ERR(ab))
		goto out;
	/* A day after member 1's removal its tombstone goes; the epoch stays. */
	epoch = ab->epoch;
	ok &= CHECK(cp_view_expire(ab, 5000 + CP_VIEW_TOMBSTONE_MS + 1), "no expiry");
	ok &= CHECK(ab->n == base->n - 1 && ab->floor == 5000 && ab->epoch == epoch, "expiry");
	/* A view from before (base) cannot bring member 1 back. */
	x = cp_view_merge(ab, base->e, base->n, 0, 0, &lacks);
	ok &= CHECK(!IS_ERR(x) && x->n == ab->n && lacks, "a removed member came back");
	/* A partial push (one entry) says nothing of the others, whatever its floor. */
	y = cp_view_merge(ab, ab->e, 1, U64_MAX - 2, CP_MERGE_PARTIAL, &lacks);
	ok &= CHECK(!IS_ERR(y) && y->n == ab->n && !lacks, "a partial push dropped entries");
	view_put(y);
out:
	ok &= CHECK(!IS_ERR(a) && !IS_ERR(b) && !IS_ERR(ab) && !IS_ERR(ba) && !IS_ERR(x),
		    "merge failed");
	view_put(base);
	view_put(a);
	view_put(b);
	view_put(ab);
	view_put(ba);
	view_put(x);
	return ok;
}

/* Two live entries with one address: only the winner is a ring member. */
static bool test_view_address_clash(void)
{
	struct cp_view *v = vector_view(1000);
	struct cp_member *m;
	bool ok = true;
	u32 n = 0;

	if (!CHECK(v && v->n >= 3, "no view"))
		return false;
	memcpy(v->e[2].addr, v->e[0].addr, sizeof(v->e[0].addr));
	v->e[2].port = v->e[0].port;
	m = cp_view_members(v, &n);
	/* Entry 2 has the larger version. */
	ok &= CHECK(m && n == v->n - 1 && strcmp(m[0].name, v->e[0].name), "clash kept both");
	kvfree(m);
	cp_view_free(v);
	return ok;
}

/* Every member but the root gets a relayed push exactly once. */
static bool test_relay_tree(void)
{
	u32 child[CACHEPEER_RING_RELAY_FANOUT], got[64];
	u32 n, root, self;
	bool ok = true;
	int i, k;

	for (n = 1; n <= ARRAY_SIZE(got); n++) {
		for (root = 0; root < n; root += 7) {
			memset(got, 0, sizeof(got));
			for (self = 0; self < n; self++) {
				k = cp_relay_children(n, root, self, child);
				for (i = 0; i < k; i++)
					got[child[i]]++;
			}
			for (self = 0; self < n; self++)
				ok &= CHECK(got[self] == (self != root), "n %u root %u: %u got %u",
					    n, root, self, got[self]);
		}
	}
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

/*
 * Every bucket starts where the uapi header says, and a histogram adds up:
 * cachepeerctl reads the buckets off that layout.
 */
static bool test_lat_buckets(void)
{
	struct cp_lat __percpu *lat;
	u64 *b, sum;
	bool ok = true;
	unsigned int i;

	ok &= CHECK(lat_bucket(0) == 0, "0 ns");
	ok &= CHECK(lat_bucket(U64_MAX) == CACHEPEER_LAT_BUCKETS - 1, "U64_MAX ns");
	for (i = 1; i < CACHEPEER_LAT_BUCKETS; i++) {
		u64 lo = cachepeer_lat_lower(i);

		ok &= CHECK(lat_bucket(lo) == i, "%llu ns in %u, not %u", lo, lat_bucket(lo), i);
		ok &= CHECK(lat_bucket(lo - 1) == i - 1, "%llu ns in %u, not %u", lo - 1,
			    lat_bucket(lo - 1), i - 1);
	}
	lat = cp_lat_alloc();
	b = kcalloc(2 * CACHEPEER_LAT_BUCKETS, sizeof(*b), GFP_KERNEL);
	if (!lat || !b) {
		ok = CHECK(false, "no memory");
		goto out;
	}
	for (i = 0; i < 3; i++)
		cp_lat_add(lat, CACHEPEER_OP_GET, 5000);
	cp_lat_add(lat, CACHEPEER_OP_PUT, 1);
	sum = cp_lat_sum(lat, CACHEPEER_OP_GET, b, b + CACHEPEER_LAT_BUCKETS);
	ok &= CHECK(sum == 15000 && b[lat_bucket(5000)] == 3, "GET: sum %llu, bucket %llu",
		    sum, b[lat_bucket(5000)]);
	sum = cp_lat_sum(lat, CACHEPEER_OP_PUT, b, b + CACHEPEER_LAT_BUCKETS);
	ok &= CHECK(sum == 1 && b[0] == 1, "PUT: sum %llu, bucket 0 %llu", sum, b[0]);
out:
	kfree(b);
	cp_lat_free(lat);
	return ok;
}

static const struct cp_test tests[] = {
	{ "crc32c_check_value", test_crc_check_value },
	{ "crc32c_combine_matches_kernel_crc", test_crc_combine },
	{ "crc32c_combine_seg_matches_kernel_crc", test_crc_combine_seg },
	{ "xxh64_vectors", test_xxh64 },
	{ "ring_points_vectors", test_ring_points },
	{ "ring_owner_vectors", test_ring_owners },
	{ "ring_owner_past_down_members", test_ring_down },
	{ "view_encode_parse", test_view_codec },
	{ "view_merge", test_view_merge },
	{ "view_address_clash", test_view_address_clash },
	{ "relay_tree", test_relay_tree },
	{ "member_names", test_names },
	{ "latency_buckets", test_lat_buckets },
};

static int __init cp_test_init(void)
{
	unsigned int failed = 0;
	size_t i;

	if (cp_crc_init())
		return -ENODEV;
	pr_info("KTAP version 1\n");
	pr_info("1..%zu\n", ARRAY_SIZE(tests));
	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		bool ok = tests[i].fn();

		pr_info("%sok %zu %s\n", ok ? "" : "not ", i + 1, tests[i].name);
		failed += !ok;
	}
	pr_info("# cachepeer_test: %zu passed, %u failed\n", ARRAY_SIZE(tests) - failed, failed);
	if (failed)
		cp_crc_exit();
	return failed ? -EINVAL : 0;
}

static void __exit cp_test_exit(void)
{
	cp_crc_exit();
}

module_init(cp_test_init);
module_exit(cp_test_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Unit tests of cachepeer's CRC-32C combine and hash ring");
