// SPDX-License-Identifier: GPL-2.0
/* The one table of a node's statistics, and every form they are printed in. */

#include <assert.h>
#include <string.h>

#include "counters.h"
#include "ctl.h"

#define S(attr) CACHEPEER_A_STATS_##attr
#define SCRUB CACHEPEER_A_STATS_SCRUB
#define SC(attr) CACHEPEER_A_SCRUB_##attr

const struct counter counters[] = {
	{ 0, S(CONNS), NULL, "conns", "connections", true, CNT_NUMBER, "open connections" },
	{ 0, S(CONNS_REFUSED), NULL, "conns_refused", "connections_refused_total", false,
	  CNT_NUMBER, "connections refused over the node's limit" },
	{ 0, S(CONNS_REFUSED_SOURCE), NULL, "conns_refused_source",
	  "connections_refused_source_total", false, CNT_NUMBER,
	  "connections refused over the per-source limit" },
	{ 0, S(CONNS_REFUSED_MEMORY), NULL, "conns_refused_memory",
	  "connections_refused_memory_total", false, CNT_NUMBER,
	  "connections refused or closed for want of memory" },
	{ 0, S(IDLE_CLOSES), NULL, "idle_closes", "idle_closes_total", false, CNT_NUMBER,
	  "connections closed after the idle timeout" },
	{ 0, S(TIMEOUTS), NULL, "timeouts", "frame_timeouts_total", false, CNT_NUMBER,
	  "connections closed for an unfinished frame" },
	{ 0, S(TX_STALLS), NULL, "tx_stalls", "tx_stalls_total", false, CNT_NUMBER,
	  "connections closed for acknowledging nothing they were sent" },
	{ 0, S(INFLIGHT), NULL, "inflight", "requests_in_flight", true, CNT_NUMBER,
	  "requests in flight" },
	{ 0, S(QUEUED_BYTES), NULL, "queued_bytes", "queued_bytes", true, CNT_BYTES,
	  "memory held for answers not yet sent" },
	{ 0, S(QUEUE_PAUSES), NULL, "queue_pauses", "queue_pauses_total", false, CNT_NUMBER,
	  "times a connection's reading stopped at a bound" },
	{ 0, S(HELLOS), NULL, "hellos", "hellos_total", false, CNT_NUMBER,
	  "connections authenticated with a key" },
	{ 0, S(HELLO_FAILURES), NULL, "hello_failures", "hello_failures_total", false, CNT_NUMBER,
	  "HELLOs refused: no such key, or a wrong proof" },
	{ 0, S(DENIED_UNAUTH), NULL, "denied_unauthenticated", "denied_unauthenticated_total",
	  false, CNT_NUMBER, "requests DENIED for want of a HELLO" },
	{ 0, S(DENIED_ROLE), NULL, "denied_role", "denied_role_total", false, CNT_NUMBER,
	  "requests DENIED to the key's role" },
	{ 0, S(HITS), NULL, "hits", "hits_total", false, CNT_NUMBER, "GETs answered with data" },
	{ 0, S(MISSES), NULL, "misses", "misses_total", false, CNT_NUMBER,
	  "GETs answered NOT_FOUND" },
	{ 0, S(ZC_BYTES), NULL, "zc_bytes", "zerocopy_bytes_total", false, CNT_BYTES,
	  "block bytes spliced from the page cache" },
	{ 0, S(COPIED_BYTES), NULL, "copied_bytes", "copied_bytes_total", false, CNT_BYTES,
	  "block bytes TCP had to copy" },
	{ 0, S(SOFTIRQ_TX), NULL, "softirq_tx", "softirq_responses_total", false, CNT_NUMBER,
	  "responses sent from softirq: where parsed, or relayed" },
	{ 0, S(BLOCKS), NULL, "blocks", "cache_blocks", true, CNT_NUMBER, "blocks in the cache" },
	{ 0, S(BYTES), NULL, "bytes", "cache_bytes", true, CNT_BYTES, "bytes in the cache" },
	{ 0, S(EVICTIONS), NULL, "evictions", "evictions_total", false, CNT_NUMBER,
	  "blocks evicted" },
	{ 0, S(CORRUPT), NULL, "corrupt", "corrupt_blocks_total", false, CNT_NUMBER,
	  "blocks dropped for failing their CRCs" },
	{ 0, S(FOREIGN), NULL, "foreign", "foreign_files_total", false, CNT_NUMBER,
	  "files removed for not matching their name" },
	{ 0, S(OPEN_FILES), NULL, "open_files", "open_files", true, CNT_NUMBER,
	  "blocks with an open file" },
	{ 0, S(INDEX_MEM), NULL, "index_mem", "index_memory_bytes", true, CNT_BYTES,
	  "memory of the block index" },
	{ 0, S(SCAN_DONE), NULL, "scan_done", "index_scan_done", true, CNT_BOOL,
	  "start-up index scan done" },
	{ 0, S(SCAN_FOUND), NULL, "scan_found", "index_scan_blocks", true, CNT_NUMBER,
	  "blocks the start-up scan indexed" },
	{ 0, S(SCAN_MS), NULL, "scan_ms", "index_scan_seconds", true, CNT_MS,
	  "time the start-up scan took" },
	{ 0, S(NO_SPACE), NULL, "no_space", "no_space", true, CNT_BOOL,
	  "free space below fs-stop, PUTs refused" },
	{ 0, S(CULLING), NULL, "culling", "culling", true, CNT_BOOL,
	  "free space below fs-cull, evicting" },
	{ 0, S(FS_SIZE), NULL, "fs_size", "fs_size_bytes", true, CNT_BYTES,
	  "size of the cache filesystem" },
	{ 0, S(FS_AVAIL), NULL, "fs_avail", "fs_avail_bytes", true, CNT_BYTES,
	  "free on it for the node" },
	{ SCRUB, SC(PASSES), "scrub", "passes", "scrub_passes_total", false, CNT_NUMBER,
	  "scrub passes completed" },
	{ SCRUB, SC(BLOCKS), "scrub", "blocks", "scrub_blocks_total", false, CNT_NUMBER,
	  "blocks verified by scrub" },
	{ SCRUB, SC(BYTES), "scrub", "bytes", "scrub_bytes_total", false, CNT_BYTES,
	  "bytes verified by scrub" },
	{ SCRUB, SC(CORRUPT), "scrub", "corrupt", "scrub_corrupt_total", false, CNT_NUMBER,
	  "corrupt blocks found by scrub" },
	{ SCRUB, SC(PASS_BLOCKS), "scrub", "pass_blocks", "scrub_pass_blocks", true, CNT_NUMBER,
	  "blocks verified in the current pass" },
	{ SCRUB, SC(RUNNING), "scrub", "running", "scrub_running", true, CNT_BOOL,
	  "a scrub pass under way" },
	{ 0, S(FORWARDS), "cluster", "forwards", "forwards_total", false, CNT_NUMBER,
	  "GETs, PUTs and DELs relayed to their owner" },
	{ 0, S(REDIRECTS), "cluster", "redirects", "redirects_total", false, CNT_NUMBER,
	  "requests answered with the owner's address" },
	{ 0, S(HANDOFFS), "cluster", "handoffs", "handoffs_total", false, CNT_NUMBER,
	  "blocks fetched from their previous owner" },
	{ 0, S(PEER_ERRORS), "cluster", "peer_errors", "peer_errors_total", false, CNT_NUMBER,
	  "failed calls to other members" },
	{ 0, S(PEER_CONNECTS), "cluster", "peer_connects", "peer_connects_total", false,
	  CNT_NUMBER, "connections opened to other members" },
	{ 0, S(HANDOFF_JOINED), "cluster", "handoff_joined", "handoff_joined_total", false,
	  CNT_NUMBER, "misses that waited for a hand-off already under way" },
	{ 0, S(FORWARD_JOINED), "cluster", "forward_joined", "forward_joined_total", false,
	  CNT_NUMBER, "misses that waited for a forward of the same range under way" },
	{ 0, S(PEER_CALLS), "cluster", "peer_calls", "peer_calls_in_flight", true, CNT_NUMBER,
	  "forwarded GETs in flight on the links to members" },
	{ 0, S(PEER_CALLS_MAX), "cluster", "peer_calls_max", "peer_calls_max", true, CNT_NUMBER,
	  "the most forwarded GETs on one link at once since start" },
	{ 0, S(RING_ACCEPTED), "cluster", "ring_accepted", "ring_accepted_total", false,
	  CNT_NUMBER, "ring pushes adopted" },
	{ 0, S(RING_REFUSED), "cluster", "ring_refused", "ring_refused_total", false, CNT_NUMBER,
	  "ring pushes refused: no valid HMAC, or signed too long ago" },
	{ 0, S(RING_SENT), "cluster", "ring_sent", "ring_sent_total", false, CNT_NUMBER,
	  "views sent to other members, whole or partial" },
	{ 0, S(RING_STALE), "cluster", "ring_stale", "ring_stale_total", false, CNT_NUMBER,
	  "ring pushes that brought nothing new" },
	{ 0, S(RING_DIGESTS), "cluster", "ring_digests", "ring_digests_total", false, CNT_NUMBER,
	  "gossip digests sent to other members" },
	{ 0, S(PROBES), "cluster", "probes", "probes_total", false, CNT_NUMBER,
	  "members probed (PING, then PROBE through two others)" },
	{ 0, S(MEMBER_SUSPECT), "cluster", "member_suspect", "member_suspect_total", false,
	  CNT_NUMBER, "members this node's probes found silent" },
	{ 0, S(MEMBER_DOWN), "cluster", "member_down", "member_down_total", false, CNT_NUMBER,
	  "suspect members this node declared down" },
	{ 0, S(MEMBER_REFUTED), "cluster", "member_refuted", "member_refuted_total", false,
	  CNT_NUMBER, "times this node refuted being suspect or down" },
};

const unsigned int ncounters = ARRAY_SIZE(counters);
static_assert(ARRAY_SIZE(counters) <= CP_COUNTERS_MAX, "CP_COUNTERS_MAX");

const char * const op_names[CACHEPEER_OP_MAX + 1] = {
	[CACHEPEER_OP_GET] = "get", [CACHEPEER_OP_PUT] = "put", [CACHEPEER_OP_STAT] = "stat",
	[CACHEPEER_OP_DEL] = "del", [CACHEPEER_OP_PING] = "ping",
	[CACHEPEER_OP_RING_GET] = "ring_get", [CACHEPEER_OP_RING_PUSH] = "ring_push",
	[CACHEPEER_OP_HELLO] = "hello", [CACHEPEER_OP_PROBE] = "probe",
};

/* Status names as identifiers, for JSON keys and Prometheus labels. */
const char * const status_ids[CACHEPEER_S_MAX + 1] = {
	[CACHEPEER_S_OK] = "ok",
	[CACHEPEER_S_NOT_FOUND] = "not_found",
	[CACHEPEER_S_BAD_REQUEST] = "bad_request",
	[CACHEPEER_S_TOO_LARGE] = "too_large",
	[CACHEPEER_S_NO_SPACE] = "no_space",
	[CACHEPEER_S_BUSY] = "busy",
	[CACHEPEER_S_IO_ERROR] = "io_error",
	[CACHEPEER_S_CORRUPT] = "corrupt",
	[CACHEPEER_S_REDIRECT] = "redirect",
	[CACHEPEER_S_DENIED] = "denied",
	[CACHEPEER_S_CONFLICT] = "conflict",
};

/* The latency, in ns, below which bucket i's requests were; 0: no bound. */
__u64 lat_upper(unsigned int i)
{
	if (i == 0)
		return 1ULL << CACHEPEER_LAT_MIN_SHIFT;
	return i < CACHEPEER_LAT_BUCKETS - 1 ? cachepeer_lat_lower(i + 1) : 0;
}

/*
 * The q quantile, as the upper bound of its bucket (at most 25 % above the
 * true value); 0 with no requests, or when it is in the last bucket.
 */
__u64 lat_quantile(const struct cp_lat *l, double q)
{
	__u64 seen = 0, want;
	unsigned int i;

	if (!l->count)
		return 0;
	/* The rank of the q quantile, at least 1: the request it is. */
	want = (__u64)(q * l->count + 0.999999);
	if (!want)
		want = 1;
	for (i = 0; i < CACHEPEER_LAT_BUCKETS; i++) {
		seen += l->b[i];
		if (seen >= want)
			return lat_upper(i);
	}
	return 0;
}

/* A latency for people; 0 is past the last bound. */
const char *fmt_ns(__u64 ns, char *buf, size_t len)
{
	if (!ns)
		snprintf(buf, len, ">%.0f s", lat_upper(CACHEPEER_LAT_BUCKETS - 2) / 1e9);
	else if (ns < 1000)
		snprintf(buf, len, "%llu ns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.1f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", ns / 1e9);
	return buf;
}

static const double lat_qs[] = { 0.5, 0.99, 0.999 };
static const char * const lat_qnames[] = { "p50", "p99", "p999" };

/* A counter by its JSON key ("hits", "scrub.passes"); exits if there is none. */
__u64 counter_get(const struct cp_node_stats *st, const char *json)
{
	const char *dot = strchr(json, '.');
	unsigned int i;

	for (i = 0; i < ncounters; i++) {
		const struct counter *c = &counters[i];

		if (dot ? c->group && !strncmp(json, c->group, dot - json) &&
		    !c->group[dot - json] && !strcmp(dot + 1, c->json) :
		    !c->group && !strcmp(json, c->json))
			return st->v[i];
	}
	fail("no counter '%s'", json);
	return 0;
}

/* The pretty form of a counter's value. */
const char *counter_fmt(const struct counter *c, __u64 v, char *buf, size_t len)
{
	switch (c->unit) {
	case CNT_BYTES:
		return fmt_size(v, buf, len);
	case CNT_BOOL:
		return v ? "yes" : "no";
	case CNT_MS:
		snprintf(buf, len, "%llu ms", (unsigned long long)v);
		return buf;
	default:
		snprintf(buf, len, "%llu", (unsigned long long)v);
		return buf;
	}
}

/* The distinct groups, NULL (the top level) first, in table order. */
static unsigned int groups(const char **out)
{
	unsigned int n = 1, i, j;

	out[0] = NULL;
	for (i = 0; i < ncounters; i++) {
		for (j = 1; j < n && (!counters[i].group || strcmp(out[j], counters[i].group)); j++)
			;
		if (counters[i].group && j == n)
			out[n++] = counters[i].group;
	}
	return n;
}

static bool in_group(const struct counter *c, const char *group)
{
	return group ? c->group && !strcmp(c->group, group) : !c->group;
}

static void json_family(FILE *f, const char *name, const char * const *labels, const __u64 *v,
			int first, int last)
{
	int i;

	fprintf(f, ",\"%s\":{", name);
	for (i = first; i <= last; i++)
		json_u64(f, labels[i], v[i], i < last ? "," : "");
	fputc('}', f);
}

/*
 * "latency": per op answered, count, sum, quantiles (upper bounds; null
 * past the last bound) and the buckets not empty as [upper bound, count]
 * (null: no bound).
 */
static void latency_json(FILE *f, const struct cp_lat *lat)
{
	bool first = true;
	unsigned int op, i, q;

	fputs(",\"latency\":{", f);
	for (op = CACHEPEER_OP_GET; op <= CACHEPEER_OP_MAX; op++) {
		const struct cp_lat *l = &lat[op];
		bool b1 = true;

		if (!l->count)
			continue;
		fprintf(f, "%s\"%s\":{", first ? "" : ",", op_names[op]);
		json_u64(f, "count", l->count, ",");
		json_u64(f, "sum_ns", l->sum_ns, ",");
		for (q = 0; q < ARRAY_SIZE(lat_qs); q++) {
			__u64 v = lat_quantile(l, lat_qs[q]);

			if (v)
				fprintf(f, "\"%s_ns\":%llu,", lat_qnames[q], (unsigned long long)v);
			else
				fprintf(f, "\"%s_ns\":null,", lat_qnames[q]);
		}
		fputs("\"buckets\":[", f);
		for (i = 0; i < CACHEPEER_LAT_BUCKETS; i++) {
			if (!l->b[i])
				continue;
			fputs(b1 ? "[" : ",[", f);
			if (lat_upper(i))
				fprintf(f, "%llu", (unsigned long long)lat_upper(i));
			else
				fputs("null", f);
			fprintf(f, ",%llu]", (unsigned long long)l->b[i]);
			b1 = false;
		}
		fputs("]}", f);
		first = false;
	}
	fputc('}', f);
}

/* The "stats" object of the node schema (status -j, stats -j). */
void counters_json(FILE *f, const struct cp_node_stats *st)
{
	const char *grp[8];
	unsigned int ng = groups(grp), g, i;

	fputc('{', f);
	for (g = 0; g < ng; g++) {
		bool first = true;

		if (g)
			fprintf(f, ",\"%s\":{", grp[g]);
		for (i = 0; i < ncounters; i++) {
			const struct counter *c = &counters[i];

			if (!in_group(c, grp[g]))
				continue;
			fprintf(f, "%s\"%s\":", first ? "" : ",", c->json);
			if (c->unit == CNT_BOOL)
				fputs(st->v[i] ? "true" : "false", f);
			else
				fprintf(f, "%llu", (unsigned long long)st->v[i]);
			first = false;
		}
		if (g)
			fputc('}', f);
	}
	json_family(f, "ops", op_names, st->ops, CACHEPEER_OP_GET, CACHEPEER_OP_MAX);
	json_family(f, "status", status_ids, st->status, 0, CACHEPEER_S_MAX);
	latency_json(f, st->lat);
	fputc('}', f);
}

static void pretty_family(FILE *f, const char *name, const char * const *labels,
			  const __u64 *v, int first, int last)
{
	int i;

	fprintf(f, "  %s:", name);
	for (i = first; i <= last; i++)
		fprintf(f, " %s %llu%s", labels[i], (unsigned long long)v[i],
			i < last ? "," : "\n");
}

/* "  latency:", then a line per op answered: its quantiles and count. */
static void latency_pretty(FILE *f, const struct cp_lat *lat)
{
	unsigned int op, q;
	char buf[32];

	fprintf(f, "  latency (parsed to last byte sent; within 25 %%):\n");
	for (op = CACHEPEER_OP_GET; op <= CACHEPEER_OP_MAX; op++) {
		if (!lat[op].count)
			continue;
		fprintf(f, "    %s:", op_names[op]);
		for (q = 0; q < ARRAY_SIZE(lat_qs); q++)
			fprintf(f, " %s %s,", lat_qnames[q],
				fmt_ns(lat_quantile(&lat[op], lat_qs[q]), buf, sizeof(buf)));
		fprintf(f, " mean %s, %llu requests\n",
			fmt_ns(lat[op].sum_ns / lat[op].count ?: 1, buf, sizeof(buf)),
			(unsigned long long)lat[op].count);
	}
}

/* One line per counter, "  help: value", the groups indented under their name. */
void counters_pretty(FILE *f, const struct cp_node_stats *st)
{
	const char *grp[8];
	unsigned int ng = groups(grp), g, i;
	char buf[32];

	pretty_family(f, "requests", op_names, st->ops, CACHEPEER_OP_GET, CACHEPEER_OP_MAX);
	pretty_family(f, "responses", status_ids, st->status, 0, CACHEPEER_S_MAX);
	latency_pretty(f, st->lat);
	for (g = 0; g < ng; g++) {
		if (g)
			fprintf(f, "  %s:\n", grp[g]);
		for (i = 0; i < ncounters; i++) {
			const struct counter *c = &counters[i];

			if (in_group(c, grp[g]))
				fprintf(f, "%s  %s: %s\n", g ? "  " : "", c->help,
					counter_fmt(c, st->v[i], buf, sizeof(buf)));
		}
	}
}

static void prom_head(FILE *f, const char *name, bool gauge, const char *help)
{
	fprintf(f, "# HELP cachepeer_%s %c%s.\n# TYPE cachepeer_%s %s\n", name,
		help[0] >= 'a' && help[0] <= 'z' ? help[0] - 'a' + 'A' : help[0], help + 1, name,
		gauge ? "gauge" : "counter");
}

static void prom_family(FILE *f, const char *node, const char *name, const char *label,
			const char *help, const char * const *labels, const __u64 *v, int first,
			int last)
{
	int i;

	prom_head(f, name, false, help);
	for (i = first; i <= last; i++)
		fprintf(f, "cachepeer_%s{node=\"%s\",%s=\"%s\"} %llu\n", name, node, label,
			labels[i], (unsigned long long)v[i]);
}

/*
 * A histogram per op answered, its bounds the powers of two from 2^10 ns on
 * (every fourth bucket's: the same set at every scrape).
 */
static void latency_prometheus(FILE *f, const char *node, const struct cp_lat *lat)
{
	const char *name = "cachepeer_request_duration_seconds";
	unsigned int op, i;

	fprintf(f, "# HELP %s Requests from parsed to last byte sent, by op.\n", name);
	fprintf(f, "# TYPE %s histogram\n", name);
	for (op = CACHEPEER_OP_GET; op <= CACHEPEER_OP_MAX; op++) {
		const struct cp_lat *l = &lat[op];
		__u64 cum = 0;

		if (!l->count)
			continue;
		for (i = 0; i < CACHEPEER_LAT_BUCKETS - 1; i++) {
			cum += l->b[i];
			if (i % CACHEPEER_LAT_SUB)
				continue;
			fprintf(f, "%s_bucket{node=\"%s\",op=\"%s\",le=\"%.9g\"} %llu\n", name,
				node, op_names[op], lat_upper(i) / 1e9, (unsigned long long)cum);
		}
		fprintf(f, "%s_bucket{node=\"%s\",op=\"%s\",le=\"+Inf\"} %llu\n", name, node,
			op_names[op], (unsigned long long)l->count);
		fprintf(f, "%s_sum{node=\"%s\",op=\"%s\"} %.9f\n", name, node, op_names[op],
			l->sum_ns / 1e9);
		fprintf(f, "%s_count{node=\"%s\",op=\"%s\"} %llu\n", name, node, op_names[op],
			(unsigned long long)l->count);
	}
}

/* Text exposition; node is a node name, [A-Za-z0-9._-]: no escaping needed. */
void counters_prometheus(FILE *f, const char *node, const struct cp_node_stats *st)
{
	unsigned int i;

	for (i = 0; i < ncounters; i++) {
		const struct counter *c = &counters[i];

		prom_head(f, c->prom, c->gauge, c->help);
		if (c->unit == CNT_MS)
			fprintf(f, "cachepeer_%s{node=\"%s\"} %.3f\n", c->prom, node,
				st->v[i] / 1e3);
		else
			fprintf(f, "cachepeer_%s{node=\"%s\"} %llu\n", c->prom, node,
				(unsigned long long)st->v[i]);
	}
	prom_family(f, node, "requests_total", "op", "requests by op", op_names, st->ops,
		    CACHEPEER_OP_GET, CACHEPEER_OP_MAX);
	prom_family(f, node, "responses_total", "status", "responses by status", status_ids,
		    st->status, 0, CACHEPEER_S_MAX);
	latency_prometheus(f, node, st->lat);
}
