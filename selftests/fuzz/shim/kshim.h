/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of the kernel's API to build kmod/ring.c and view.c, unchanged, in
 * userspace: each kernel header it includes is a file here that includes
 * this. XXH64 is the client library's (ctl/ring.c), an implementation
 * independent of the kernel's.
 */
#ifndef KSHIM_H
#define KSHIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/in6.h>

#define GFP_KERNEL	0
#define __maybe_unused	__attribute__((unused))
#define BIT(n)		(1UL << (n))
#define ERR_PTR(e)	((void *)(long)(e))
#define PTR_ERR(p)	((long)(p))
#define IS_ERR(p)	((unsigned long)(p) >= (unsigned long)-4095)
#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))
#define struct_size(p, member, n) (sizeof(*(p)) + (n) * sizeof((p)->member[0]))
#define static_assert(e, ...) _Static_assert(e, #e)
#define U64_MAX		UINT64_MAX
#define max(a, b)	({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); _a > _b ? _a : _b; })
#define swap(a, b)	do { __typeof__(a) _t = (a); (a) = (b); (b) = _t; } while (0)
#define strscpy_pad(d, s) shim_strscpy_pad(d, s, sizeof(d))
#define htonl(x)	htobe32(x)
#define htons(x)	htobe16(x)
#define ntohl(x)	be32toh(x)
#define ntohs(x)	be16toh(x)

/* The kernel's, for a NUL-padded destination of size bytes. */
static inline int shim_strscpy_pad(char *d, const char *s, size_t size)
{
	size_t len = strnlen(s, size - 1);

	memset(d, 0, size);
	memcpy(d, s, len);
	return len;
}

static inline void *kvcalloc(size_t n, size_t size, int gfp __maybe_unused)
{
	return calloc(n, size);
}

static inline void *kvzalloc(size_t n, int gfp)
{
	return kvcalloc(1, n, gfp);
}

static inline void *kvmalloc_array(size_t n, size_t size, int gfp)
{
	return kvcalloc(n, size, gfp);
}

static inline void *kmalloc_array(size_t n, size_t size, int gfp)
{
	return kvcalloc(n, size, gfp);
}

static inline void kvfree(const void *p)
{
	free((void *)p);
}

static inline void kfree(const void *p)
{
	free((void *)p);
}

static inline u64 ktime_get_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *),
			void *swap_fn __maybe_unused)
{
	qsort(base, n, size, cmp);
}

static inline void *memchr_inv(const void *p, int c, size_t n)
{
	const unsigned char *s = p;

	for (; n; n--, s++)
		if (*s != (unsigned char)c)
			return (void *)s;
	return NULL;
}

struct rcu_head {
	void (*func)(struct rcu_head *head);
};

static inline void call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *head))
{
	func(head);
}

static inline bool ipv6_addr_equal(const struct in6_addr *a, const struct in6_addr *b)
{
	return !memcmp(a, b, sizeof(*a));
}

uint64_t cp_xxh64(const void *data, size_t len, uint64_t seed);

static inline u64 xxh64(const void *p, size_t len, u64 seed)
{
	return cp_xxh64(p, len, seed);
}

/* The streaming API, by gathering the input: digests of small inputs only. */
struct xxh64_state {
	unsigned char *buf;
	size_t len;
	u64 seed;
};

static inline void xxh64_reset(struct xxh64_state *st, u64 seed)
{
	*st = (struct xxh64_state) { .seed = seed };
}

static inline void xxh64_update(struct xxh64_state *st, const void *p, size_t len)
{
	st->buf = realloc(st->buf, st->len + len);
	if (!st->buf)
		abort();
	memcpy(st->buf + st->len, p, len);
	st->len += len;
}

static inline u64 xxh64_digest(struct xxh64_state *st)
{
	u64 h = cp_xxh64(st->buf, st->len, st->seed);

	free(st->buf);
	st->buf = NULL;
	return h;
}

#endif
