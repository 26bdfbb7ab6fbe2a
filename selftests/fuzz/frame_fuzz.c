// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness over the module's RX framing (cp_frame_*() in
 * kmod/proto.c, built unchanged): a stream of frames, valid or not, fed in
 * segments cut wherever the input says, driven as conn.c's recv_actor()
 * drives it (payloads skipped, as put_work reads them). However the stream
 * is cut, the frames that come out must be those of an independent parse
 * of the whole stream, and nothing may be read past a frame that breaks
 * framing.
 */
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EVENTS	256
#define HDR		sizeof(struct cachepeer_req)

struct event {
	int bad;		/* a frame that broke framing, with status */
	u16 status;
	struct cp_req req;
	u8 key[CACHEPEER_KEY_MAX];
};

struct trace {
	struct event ev[MAX_EVENTS];
	int n;
	size_t consumed;	/* stream bytes taken, payloads included */
};

static void record(struct trace *t, const struct cp_frame *f, int bad, u16 status)
{
	struct event *e;

	if (t->n == MAX_EVENTS)
		return;
	e = &t->ev[t->n++];
	memset(e, 0, sizeof(*e));
	e->bad = bad;
	e->status = status;
	if (!bad) {
		e->req = f->req;
		memcpy(e->key, cp_frame_key(f), f->req.key_len);
	}
}

/* Cut points from a xorshift generator seeded by the input's first bytes. */
static size_t next_cut(u64 *seed, size_t max)
{
	*seed ^= *seed << 13;
	*seed ^= *seed >> 7;
	*seed ^= *seed << 17;
	return 1 + *seed % max;
}

/* recv_actor()'s loop over segments of s, with the framing under test. */
static void feed(const u8 *s, size_t len, u64 seed, size_t max_seg, u64 max_block,
		 struct trace *t)
{
	struct cp_frame f = { 0 };
	size_t pos = 0;
	u64 skip = 0;
	int stopped = 0;

	while (pos < len && !stopped) {
		size_t end = pos + next_cut(&seed, max_seg);

		if (end > len)
			end = len;
		while (pos < end && !stopped) {
			u16 status = 0;
			u32 n;

			if (skip) {
				size_t take = end - pos < skip ? end - pos : skip;

				skip -= take;
				pos += take;
				continue;
			}
			n = cp_frame_want(&f);
			if (!n || f.len + n > sizeof(f.buf))
				abort();
			if (n > end - pos)
				n = end - pos;
			memcpy(f.buf + f.len, s + pos, n);
			pos += n;
			switch (cp_frame_got(&f, n, max_block, &status)) {
			case CP_FRAME_MORE:
				break;
			case CP_FRAME_BAD:
				record(t, &f, 1, status);
				stopped = 1;
				break;
			case CP_FRAME_WHOLE:
				if (f.len != HDR + f.req.key_len)
					abort();
				record(t, &f, 0, 0);
				skip = f.req.payload_len;
				cp_frame_reset(&f);
				break;
			}
		}
	}
	t->consumed = pos;
}

/* The same stream parsed whole, without the framing code: the expected trace. */
static void reference(const u8 *s, size_t len, u64 max_block, struct trace *t)
{
	size_t pos = 0;

	while (len - pos >= HDR) {
		struct cachepeer_req w;
		struct cp_frame f;
		u16 status;

		memcpy(&w, s + pos, HDR);
		if (cp_proto_parse_req(&w, max_block, &f.req, &status)) {
			record(t, NULL, 1, status);
			t->consumed = pos + HDR;
			return;
		}
		if (len - pos - HDR < f.req.key_len)
			break;
		memcpy(f.buf + HDR, s + pos + HDR, f.req.key_len);
		record(t, &f, 0, 0);
		pos += HDR + f.req.key_len;
		if (f.req.payload_len > len - pos) {
			pos = len;
			break;
		}
		pos += f.req.payload_len;
	}
	t->consumed = len;
}

static int same(const struct event *a, const struct event *b)
{
	if (a->bad || b->bad)
		return a->bad == b->bad && a->status == b->status;
	return a->req.id == b->req.id && a->req.offset == b->req.offset &&
	       a->req.length == b->req.length && a->req.payload_len == b->req.payload_len &&
	       a->req.crc == b->req.crc && a->req.flags == b->req.flags &&
	       a->req.key_len == b->req.key_len && a->req.opcode == b->req.opcode &&
	       !memcmp(a->key, b->key, a->req.key_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct trace cut, whole;
	u64 seed = 1, max_block;
	size_t max_seg;
	int i;

	if (size < 10)
		return 0;
	memcpy(&seed, data, 8);
	seed |= 1;
	max_seg = 1 + data[8] % 128;
	max_block = 1 + data[9] * 4096ULL;
	data += 10;
	size -= 10;

	memset(&cut, 0, sizeof(cut));
	memset(&whole, 0, sizeof(whole));
	feed(data, size, seed, max_seg, max_block, &cut);
	reference(data, size, max_block, &whole);
	if (cut.n != whole.n)
		abort();
	for (i = 0; i < cut.n; i++)
		if (!same(&cut.ev[i], &whole.ev[i]))
			abort();
	/* Past a bad frame's header, not a byte more is read. */
	if (cut.n && cut.ev[cut.n - 1].bad && cut.consumed != whole.consumed)
		abort();
	return 0;
}
