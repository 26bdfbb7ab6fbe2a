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
	  "responses sent from the softirq that parsed their request" },
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

/* One line per counter, "  help: value", the groups indented under their name. */
void counters_pretty(FILE *f, const struct cp_node_stats *st)
{
	const char *grp[8];
	unsigned int ng = groups(grp), g, i;
	char buf[32];

	pretty_family(f, "requests", op_names, st->ops, CACHEPEER_OP_GET, CACHEPEER_OP_MAX);
	pretty_family(f, "responses", status_ids, st->status, 0, CACHEPEER_S_MAX);
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
}
