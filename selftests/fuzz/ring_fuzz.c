// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness over the module's ring code (kmod/ring.c, built
 * unchanged): the decoder of what RING_PUSH carries and RING_GET answers,
 * and the ring built from what it accepts. An accepted encoding builds a
 * ring whose points are sorted and owned by its members, whose lookups land
 * on a member, and which encodes to bytes that decode and build to the same
 * ring (same digest, same bytes).
 */
#include <stdlib.h>
#include <string.h>

#include "ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct cp_ring *r)
{
	u64 points = 0;
	u32 i;

	for (i = 0; i < r->nmembers; i++) {
		points += r->members[i].points;
		if (i && strcmp(r->members[i - 1].name, r->members[i].name) >= 0)
			abort();
	}
	if (points != r->npoints)
		abort();
	for (i = 0; i < r->npoints; i++)
		if (r->owner[i] >= r->nmembers || (i && r->hash[i - 1] > r->hash[i]))
			abort();
}

/* r's encoding, decoded and built again. */
static struct cp_ring *again(const struct cp_ring *r, void **enc, size_t *len)
{
	const char *why;
	struct cp_member *m;
	struct cp_ring *r2;
	u64 epoch;
	u32 n;

	*len = cp_ring_enc_len(r);
	*enc = malloc(*len);
	if (!*enc)
		abort();
	cp_ring_encode(r, *enc);
	m = cp_ring_decode(*enc, *len, &n, &epoch);
	if (!m || n != r->nmembers || epoch != r->epoch)
		abort();
	r2 = cp_ring_build(m, n, epoch, "", &why);
	kvfree(m);
	if (IS_ERR(r2))
		abort();
	return r2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cp_ring *r, *r2;
	struct cp_member *m;
	void *enc, *enc2;
	size_t len, len2;
	char self[CACHEPEER_NAME_MAX + 1];
	const char *why;
	u64 epoch, h;
	u32 n, i;

	m = cp_ring_decode(data, size, &n, &epoch);
	if (!m)
		return 0;
	/* This node is the first member named, wherever sorting puts it. */
	memcpy(self, n ? m[0].name : "", n ? sizeof(self) : 1);
	r = cp_ring_build(m, n, epoch, self, &why);
	kvfree(m);
	if (IS_ERR(r)) {
		/* Refused only with a reason, a member list that breaks a rule. */
		if (!why)
			abort();
		return 0;
	}
	check(r);
	r2 = again(r, &enc, &len);
	check(r2);
	if (r2->digest != r->digest || r2->npoints != r->npoints ||
	    memcmp(r2->hash, r->hash, r->npoints * sizeof(*r->hash)))
		abort();
	cp_ring_free(cp_ring_build(r2->members, r2->nmembers, r2->epoch, "", &why));
	enc2 = malloc(cp_ring_enc_len(r2));
	len2 = cp_ring_enc_len(r2);
	if (!enc2)
		abort();
	cp_ring_encode(r2, enc2);
	if (len2 != len || memcmp(enc, enc2, len))
		abort();
	for (i = 0, h = r->digest; i < 64; i++, h = h * 6364136223846793005ULL + 1) {
		int o = cp_ring_owner(r, h);

		if (r->npoints ? o < 0 || (u32)o >= r->nmembers : o != -1)
			abort();
	}
	if (n ? r->self < 0 || strcmp(r->members[r->self].name, self) : r->self != -1)
		abort();
	free(enc);
	free(enc2);
	cp_ring_free(r);
	cp_ring_free(r2);
	return 0;
}
