/* SPDX-License-Identifier: GPL-2.0 */
#ifndef COUNTERS_H
#define COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <linux/types.h>
#include <linux/cachepeer.h>

/*
 * Every statistic a node reports, once: where it is in NODE_GET's reply, its
 * JSON key (under "stats", in a group or not), its Prometheus name and
 * type, and its help text, which is also its label in the pretty form.
 * Netlink parsing and every output form are driven by this table, so a
 * counter added here appears everywhere with one name.
 */
enum cnt_unit {
	CNT_NUMBER,
	CNT_BYTES,
	CNT_BOOL,
	CNT_MS,			/* Prometheus gets seconds */
};

struct counter {
	int nest;		/* 0: in CACHEPEER_A_NODE_STATS; else the nest inside it */
	int attr;
	const char *group;	/* JSON sub-object of "stats", or NULL */
	const char *json;
	const char *prom;	/* after "cachepeer_"; counters end in _total */
	bool gauge;		/* goes down as well as up */
	enum cnt_unit unit;
	const char *help;
};

extern const struct counter counters[];
extern const unsigned int ncounters;

/* Requests by op and responses by status, as labelled families. */
extern const char * const op_names[CACHEPEER_OP_MAX + 1];
extern const char * const status_ids[CACHEPEER_S_MAX + 1];

#define CP_COUNTERS_MAX 64

/* An op's latency histogram; see CACHEPEER_LAT_BUCKETS. */
struct cp_lat {
	__u64 count;
	__u64 sum_ns;
	__u64 b[CACHEPEER_LAT_BUCKETS];
};

struct cp_node_stats {
	__u64 v[CP_COUNTERS_MAX];	/* by index in counters[] */
	__u64 ops[CACHEPEER_OP_MAX + 1];
	__u64 status[CACHEPEER_S_MAX + 1];
	struct cp_lat lat[CACHEPEER_OP_MAX + 1];
};

__u64 lat_upper(unsigned int i);
__u64 lat_quantile(const struct cp_lat *l, double q);
const char *fmt_ns(__u64 ns, char *buf, size_t len);

__u64 counter_get(const struct cp_node_stats *st, const char *json);
void counters_json(FILE *f, const struct cp_node_stats *st);
void counters_pretty(FILE *f, const struct cp_node_stats *st);
void counters_prometheus(FILE *f, const char *node, const struct cp_node_stats *st);
const char *counter_fmt(const struct counter *c, __u64 v, char *buf, size_t len);

#endif
