// SPDX-License-Identifier: GPL-2.0
/*
 * Statistics: a node's per-CPU event counters. Every part of the module may
 * count here, from any context; nothing here calls anywhere else.
 */

#include <linux/bitops.h>
#include <linux/string.h>

#include "stats.h"

struct cp_stats __percpu *cp_stats_alloc(void)
{
	struct cp_stats __percpu *stats = alloc_percpu(struct cp_stats);
	int cpu;

	if (stats)
		for_each_possible_cpu(cpu)
			u64_stats_init(&per_cpu_ptr(stats, cpu)->syncp);
	return stats;
}

void cp_stats_free(struct cp_stats __percpu *stats)
{
	free_percpu(stats);
}

/* Any context, hard interrupts included. */
void cp_stats_add(struct cp_stats __percpu *stats, enum cp_stat i, u64 v)
{
	struct cp_stats *s = get_cpu_ptr(stats);
	unsigned long flags;

	flags = u64_stats_update_begin_irqsave(&s->syncp);
	u64_stats_add(&s->v[i], v);
	u64_stats_update_end_irqrestore(&s->syncp, flags);
	put_cpu_ptr(stats);
}

/* sum holds CP_STAT_MAX values. */
void cp_stats_sum(struct cp_stats __percpu *stats, u64 *sum)
{
	int cpu, i;

	memset(sum, 0, CP_STAT_MAX * sizeof(*sum));
	for_each_possible_cpu(cpu) {
		const struct cp_stats *s = per_cpu_ptr(stats, cpu);
		u64 snap[CP_STAT_MAX];
		unsigned int seq;

		do {
			seq = u64_stats_fetch_begin(&s->syncp);
			for (i = 0; i < CP_STAT_MAX; i++)
				snap[i] = u64_stats_read(&s->v[i]);
		} while (u64_stats_fetch_retry(&s->syncp, seq));
		for (i = 0; i < CP_STAT_MAX; i++)
			sum[i] += snap[i];
	}
}

/* The histogram bucket of ns: see CACHEPEER_LAT_BUCKETS. */
static unsigned int lat_bucket(u64 ns)
{
	unsigned int e;

	if (ns < (1ULL << CACHEPEER_LAT_MIN_SHIFT))
		return 0;
	e = fls64(ns) - 1;
	if (e >= CACHEPEER_LAT_MAX_SHIFT)
		return CACHEPEER_LAT_BUCKETS - 1;
	return 1 + (e - CACHEPEER_LAT_MIN_SHIFT) * CACHEPEER_LAT_SUB +
	       ((ns >> (e - 2)) & (CACHEPEER_LAT_SUB - 1));
}

struct cp_lat __percpu *cp_lat_alloc(void)
{
	/* The namespace's owner pays: any user namespace's root may start nodes. */
	struct cp_lat __percpu *lat = alloc_percpu_gfp(struct cp_lat, GFP_KERNEL_ACCOUNT);
	int cpu;

	if (lat)
		for_each_possible_cpu(cpu)
			u64_stats_init(&per_cpu_ptr(lat, cpu)->syncp);
	return lat;
}

void cp_lat_free(struct cp_lat __percpu *lat)
{
	free_percpu(lat);
}

/* Any context: a request of op answered ns after it was parsed. */
void cp_lat_add(struct cp_lat __percpu *lat, u8 op, u64 ns)
{
	struct cp_lat *l;
	unsigned long flags;

	if (op >= CP_LAT_OPS)
		return;
	l = get_cpu_ptr(lat);
	flags = u64_stats_update_begin_irqsave(&l->syncp);
	u64_stats_inc(&l->b[op][lat_bucket(ns)]);
	u64_stats_add(&l->sum[op], ns);
	u64_stats_update_end_irqrestore(&l->syncp, flags);
	put_cpu_ptr(lat);
}

/*
 * op's histogram over the CPUs into b (CACHEPEER_LAT_BUCKETS values, and as
 * many of scratch); returns the sum of its latencies.
 */
u64 cp_lat_sum(struct cp_lat __percpu *lat, u8 op, u64 *b, u64 *scratch)
{
	u64 sum = 0, one;
	int cpu, i;

	memset(b, 0, CACHEPEER_LAT_BUCKETS * sizeof(*b));
	for_each_possible_cpu(cpu) {
		const struct cp_lat *l = per_cpu_ptr(lat, cpu);
		unsigned int seq;

		do {
			seq = u64_stats_fetch_begin(&l->syncp);
			for (i = 0; i < CACHEPEER_LAT_BUCKETS; i++)
				scratch[i] = u64_stats_read(&l->b[op][i]);
			one = u64_stats_read(&l->sum[op]);
		} while (u64_stats_fetch_retry(&l->syncp, seq));
		for (i = 0; i < CACHEPEER_LAT_BUCKETS; i++)
			b[i] += scratch[i];
		sum += one;
	}
	return sum;
}
