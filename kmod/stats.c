// SPDX-License-Identifier: GPL-2.0
/*
 * Statistics: a node's per-CPU event counters. Every part of the module may
 * count here, from any context; nothing here calls anywhere else.
 */

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
