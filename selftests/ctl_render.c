// SPDX-License-Identifier: GPL-2.0
/*
 * For render.sh: one snapshot of a node's counters, every counter a value
 * of its own, rendered by cachepeerctl's own code (ctl/counters.c) in the
 * pretty, JSON and Prometheus forms, after the table itself, so that the
 * forms can be checked against the table and each other.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "counters.h"
#include "ctl.h"

bool opt_json;

void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	exit(1);
}

int main(void)
{
	struct cp_node_stats st = { 0 };
	char buf[64];
	unsigned int i;

	for (i = 0; i < ncounters; i++) {
		const struct counter *c = &counters[i];

		/* Distinct, and distinct once formatted: sizes a GiB apart. */
		if (c->unit == CNT_BOOL)
			st.v[i] = i % 2;
		else if (c->unit == CNT_BYTES)
			st.v[i] = (i + 1ULL) << 30;
		else
			st.v[i] = 1000003ULL * (i + 1) + i;
	}
	for (i = 0; i <= CACHEPEER_OP_MAX; i++)
		st.ops[i] = 11 * i + 1;
	for (i = 0; i <= CACHEPEER_S_MAX; i++)
		st.status[i] = 13 * i + 2;
	/*
	 * Latency: GET in the first bucket, one a few buckets on and one
	 * far on; PUT also in the last (no bound); the other ops none.
	 */
	st.lat[CACHEPEER_OP_GET].b[0] = 1;
	st.lat[CACHEPEER_OP_GET].b[5] = 10;
	st.lat[CACHEPEER_OP_GET].b[41] = 989;
	st.lat[CACHEPEER_OP_GET].count = 1000;
	st.lat[CACHEPEER_OP_GET].sum_ns = 123456789;
	st.lat[CACHEPEER_OP_PUT].b[30] = 7;
	st.lat[CACHEPEER_OP_PUT].b[CACHEPEER_LAT_BUCKETS - 1] = 3;
	st.lat[CACHEPEER_OP_PUT].count = 10;
	st.lat[CACHEPEER_OP_PUT].sum_ns = 3000000000000ULL;

	printf("== table\n");
	for (i = 0; i < ncounters; i++) {
		const struct counter *c = &counters[i];

		printf("%s%s%s\t%s\t%s\t%d\t%s\t%llu\t%s\n", c->group ?: "", c->group ? "." : "",
		       c->json, c->prom, c->gauge ? "gauge" : "counter", c->unit, c->help,
		       (unsigned long long)st.v[i], counter_fmt(c, st.v[i], buf, sizeof(buf)));
	}
	for (i = CACHEPEER_OP_GET; i <= CACHEPEER_OP_MAX; i++)
		printf("ops.%s\trequests_total{op=\"%s\"}\tcounter\t0\t-\t%llu\t-\n", op_names[i],
		       op_names[i], (unsigned long long)st.ops[i]);
	for (i = 0; i <= CACHEPEER_S_MAX; i++)
		printf("status.%s\tresponses_total{status=\"%s\"}\tcounter\t0\t-\t%llu\t-\n",
		       status_ids[i], status_ids[i], (unsigned long long)st.status[i]);
	printf("== json\n");
	counters_json(stdout, &st);
	printf("\n== pretty\n");
	counters_pretty(stdout, &st);
	printf("== prometheus\n");
	counters_prometheus(stdout, "n1", &st);
	return 0;
}
