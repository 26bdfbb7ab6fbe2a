// SPDX-License-Identifier: GPL-2.0
/* What a node has done: stats, scrub, conns. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "nl.h"

static __u64 delta(const struct cp_node_stats *a, const struct cp_node_stats *b,
		   const char *json)
{
	return counter_get(b, json) - counter_get(a, json);
}

/* The GET histogram of what happened between a and b. */
static void lat_delta(const struct cp_node_stats *a, const struct cp_node_stats *b,
		      struct cp_lat *d)
{
	const struct cp_lat *la = &a->lat[CACHEPEER_OP_GET], *lb = &b->lat[CACHEPEER_OP_GET];
	unsigned int i;

	d->count = lb->count - la->count;
	d->sum_ns = lb->sum_ns - la->sum_ns;
	for (i = 0; i < CACHEPEER_LAT_BUCKETS; i++)
		d->b[i] = lb->b[i] - la->b[i];
}

static void sleep_until(double t)
{
	double left = t - now_s();
	struct timespec ts;

	if (left <= 0)
		return;
	ts.tv_sec = (time_t)left;
	ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * stats -i: a line per interval, as vmstat 1 prints, of what the node did
 * in it: per-second rates, the gauges as they are, and the GETs' p99 over
 * the interval alone. With -j, a JSON object per line with the raw deltas.
 */
static void stats_live(unsigned long long interval, unsigned long long count)
{
	struct cp_node_info *prev = cp_node_query(), *cur;
	double t0 = now_s(), tp = t0, t;
	unsigned long long i;
	struct cp_lat *get = calloc(1, sizeof(*get));
	unsigned int op;

	if (!get)
		fail("out of memory");
	for (i = 0; !count || i < count; i++) {
		const struct cp_node_stats *a = &prev->stats, *b;
		__u64 reqs = 0, gets, puts, hits, misses, sent, failed, p99;
		double dt;

		if (!opt_json && i % 20 == 0)
			printf("%9s %9s %9s %5s %10s %7s %8s %8s %8s %10s\n", "req/s", "get/s",
			       "put/s", "hit%", "sent/s", "conns", "inflight", "evict/s",
			       "failed/s", "get_p99");
		sleep_until(t0 + (i + 1) * interval);
		cur = cp_node_query();
		if (cur->state != CACHEPEER_NODE_RUNNING)
			fail("stats: the node stopped");
		t = now_s();
		dt = t - tp;
		b = &cur->stats;
		for (op = CACHEPEER_OP_GET; op <= CACHEPEER_OP_MAX; op++)
			reqs += b->ops[op] - a->ops[op];
		gets = b->ops[CACHEPEER_OP_GET] - a->ops[CACHEPEER_OP_GET];
		puts = b->ops[CACHEPEER_OP_PUT] - a->ops[CACHEPEER_OP_PUT];
		hits = delta(a, b, "hits");
		misses = delta(a, b, "misses");
		sent = delta(a, b, "zc_bytes") + delta(a, b, "copied_bytes");
		failed = 0;
		for (op = CACHEPEER_S_BAD_REQUEST; op <= CACHEPEER_S_MAX; op++)
			if (op != CACHEPEER_S_REDIRECT)
				failed += b->status[op] - a->status[op];
		lat_delta(a, b, get);
		p99 = lat_quantile(get, 0.99);
		if (opt_json) {
			printf("{\"interval_s\":%.3f,", dt);
			json_u64(stdout, "requests", reqs, ",");
			json_u64(stdout, "gets", gets, ",");
			json_u64(stdout, "puts", puts, ",");
			json_u64(stdout, "hits", hits, ",");
			json_u64(stdout, "misses", misses, ",");
			json_u64(stdout, "sent_bytes", sent, ",");
			json_u64(stdout, "conns", counter_get(b, "conns"), ",");
			json_u64(stdout, "inflight", counter_get(b, "inflight"), ",");
			json_u64(stdout, "evictions", delta(a, b, "evictions"), ",");
			json_u64(stdout, "failed", failed, ",");
			if (get->count && p99)
				printf("\"get_p99_ns\":%llu}\n", (unsigned long long)p99);
			else
				printf("\"get_p99_ns\":null}\n");
		} else {
			char hit[16] = "-", rate[32], lat[32] = "-";

			if (hits + misses)
				snprintf(hit, sizeof(hit), "%.0f", 100.0 * hits / (hits + misses));
			if (get->count)
				fmt_ns(p99, lat, sizeof(lat));
			printf("%9.0f %9.0f %9.0f %5s %10s %7llu %8llu %8.0f %8.0f %10s\n",
			       reqs / dt, gets / dt, puts / dt, hit,
			       fmt_size((unsigned long long)(sent / dt), rate, sizeof(rate)),
			       (unsigned long long)counter_get(b, "conns"),
			       (unsigned long long)counter_get(b, "inflight"),
			       delta(a, b, "evictions") / dt, failed / dt, lat);
		}
		fflush(stdout);
		free(prev);
		prev = cur;
		tp = t;
	}
	free(get);
	free(prev);
}

/* No module, or no family: a node that is not up, as a scrape should see it. */
static bool prometheus_down(void)
{
	struct cp_nl *nl;
	int ret = cp_nl_open(&nl);

	if (ret == -ENOENT) {
		printf("# HELP cachepeer_up 1 if the node is running.\n");
		printf("# TYPE cachepeer_up gauge\n");
		printf("cachepeer_up{node=\"\"} 0\n");
		printf("# HELP cachepeer_build_info The tool's and the module's versions.\n");
		printf("# TYPE cachepeer_build_info gauge\n");
		printf("cachepeer_build_info{node=\"\",tool=\"%s\",module=\"\"} 1\n",
		       CACHEPEER_VERSION);
		return true;
	}
	if (!ret)
		cp_nl_close(nl);
	return false;
}

int cmd_stats(const struct subcommand *cmd, int argc, char **argv)
{
	unsigned long long interval = 0, count = 0;
	bool prometheus = false;
	const struct opt opts[] = {
		OPT("prometheus", OPT_FLAG, &prometheus),
		OPT("interval", OPT_SECONDS, &interval, .short_name = 'i', .min = 1,
		    .max = 86400),
		OPT("count", OPT_COUNT, &count, .short_name = 'c', .min = 1),
		{ 0 }
	};
	struct cp_node_info *info;
	const char *name;
	char **args;

	if (parse_cmdline(cmd, argc, argv, opts, &args))
		usage_error(cmd, "unexpected argument '%s'", args[0]);
	if (prometheus && opt_json)
		usage_error(cmd, "-j and --prometheus exclude each other");
	if (interval && prometheus)
		usage_error(cmd, "--interval and --prometheus exclude each other");
	if (count && !interval)
		usage_error(cmd, "--count needs --interval");
	if (interval) {
		stats_live(interval, count);
		return EXIT_OK;
	}
	if (prometheus && prometheus_down())
		return EXIT_OK;
	info = cp_node_query();
	name = info->name;
	if (prometheus) {
		/* [A-Za-z0-9._-]: no escaping needed. */
		printf("# HELP cachepeer_up 1 if the node is running.\n");
		printf("# TYPE cachepeer_up gauge\n");
		printf("cachepeer_up{node=\"%s\"} %d\n", name,
		       info->state == CACHEPEER_NODE_RUNNING);
		printf("# HELP cachepeer_build_info The tool's and the module's versions.\n");
		printf("# TYPE cachepeer_build_info gauge\n");
		printf("cachepeer_build_info{node=\"%s\",tool=\"%s\",module=\"%s\"} 1\n", name,
		       CACHEPEER_VERSION, info->version);
		if (info->state == CACHEPEER_NODE_RUNNING) {
			printf("# HELP cachepeer_ring_epoch The node's ring epoch.\n"
			       "# TYPE cachepeer_ring_epoch gauge\n"
			       "cachepeer_ring_epoch{node=\"%s\"} %llu\n", name,
			       (unsigned long long)info->epoch);
			printf("# HELP cachepeer_limit_bytes Byte limit, 0 for none.\n"
			       "# TYPE cachepeer_limit_bytes gauge\n"
			       "cachepeer_limit_bytes{node=\"%s\"} %llu\n", name,
			       (unsigned long long)info->limits.max_bytes);
			printf("# HELP cachepeer_limit_blocks Block limit, 0 for none.\n"
			       "# TYPE cachepeer_limit_blocks gauge\n"
			       "cachepeer_limit_blocks{node=\"%s\"} %llu\n", name,
			       (unsigned long long)info->limits.max_blocks);
			counters_prometheus(stdout, name, &info->stats);
		}
	} else if (opt_json) {
		node_json(stdout, info);
	} else {
		printf("node: %s (%s)\n", name[0] ? name : "(unnamed)",
		       info->state == CACHEPEER_NODE_RUNNING ? "running" : "stopped");
		if (info->state == CACHEPEER_NODE_RUNNING) {
			printf("  ring epoch: %llu\n", (unsigned long long)info->epoch);
			counters_pretty(stdout, &info->stats);
		}
	}
	free(info);
	return EXIT_OK;
}

int cmd_scrub(const struct subcommand *cmd, int argc, char **argv)
{
	struct cp_node_info *info;
	const struct cp_node_stats *st;
	struct cp_nl *nl;
	char b1[32], **args;
	int n, ret;

	n = parse_cmdline(cmd, argc, argv, NULL, &args);
	if (n) {
		if (strcmp(args[0], "start") || n != 1)
			usage_error(cmd, "expected 'start' or nothing");
		nl = open_nl();
		ret = cp_nl_scrub_start(nl);
		if (ret)
			nl_fail(nl, "scrub start", ret);
		cp_nl_close(nl);
		return EXIT_OK;
	}
	info = cp_node_query();
	st = &info->stats;
	if (info->state != CACHEPEER_NODE_RUNNING)
		fail("scrub: node is not running");
	if (opt_json) {
		printf("{");
		json_u64(stdout, "rate", info->limits.scrub_rate, ",");
		json_u64(stdout, "passes", counter_get(st, "scrub.passes"), ",");
		json_u64(stdout, "blocks", counter_get(st, "scrub.blocks"), ",");
		json_u64(stdout, "bytes", counter_get(st, "scrub.bytes"), ",");
		json_u64(stdout, "corrupt", counter_get(st, "scrub.corrupt"), ",");
		json_u64(stdout, "pass_blocks", counter_get(st, "scrub.pass_blocks"), ",");
		printf("\"running\":%s}\n", counter_get(st, "scrub.running") ? "true" : "false");
	} else {
		bool running = counter_get(st, "scrub.running");

		printf("scrub: %s", running ? "pass running" : "idle");
		if (running)
			printf(", %llu of %llu blocks checked",
			       (unsigned long long)counter_get(st, "scrub.pass_blocks"),
			       (unsigned long long)counter_get(st, "blocks"));
		printf("\n  rate: %s/s%s\n", fmt_size(info->limits.scrub_rate, b1, sizeof(b1)),
		       info->limits.scrub_rate ? "" : " (patrol off)");
		printf("  passes completed: %llu\n  blocks verified: %llu (%s)\n"
		       "  corrupt blocks found: %llu\n",
		       (unsigned long long)counter_get(st, "scrub.passes"),
		       (unsigned long long)counter_get(st, "scrub.blocks"),
		       fmt_size(counter_get(st, "scrub.bytes"), b1, sizeof(b1)),
		       (unsigned long long)counter_get(st, "scrub.corrupt"));
	}
	free(info);
	return EXIT_OK;
}

int cmd_conns(const struct subcommand *cmd, int argc, char **argv)
{
	struct cp_conn_entry *e = NULL;
	unsigned int n = 0, i;
	struct cp_nl *nl;
	char **args;
	int ret;

	if (parse_cmdline(cmd, argc, argv, NULL, &args))
		usage_error(cmd, "unexpected argument '%s'", args[0]);
	nl = open_nl();
	ret = cp_nl_conn_list(nl, &e, &n);
	if (ret)
		nl_fail(nl, "conns", ret);
	cp_nl_close(nl);
	if (opt_json)
		printf("[");
	else if (n)
		printf("%-47s %9s %14s %14s %10s %4s %10s %10s\n", "PEER", "INFLIGHT", "RX BYTES",
		       "TX BYTES", "AGE S", "CPU", "QUEUED", "PINNED");
	else
		printf("no connections\n");
	for (i = 0; i < n; i++) {
		if (!opt_json) {
			printf("%-47s %9llu %14llu %14llu %10.1f %4d %10llu %10llu%s\n", e[i].peer,
			       (unsigned long long)e[i].inflight, (unsigned long long)e[i].rx_bytes,
			       (unsigned long long)e[i].tx_bytes, e[i].age_ms / 1000.0, e[i].cpu,
			       (unsigned long long)e[i].queued, (unsigned long long)e[i].pinned,
			       e[i].member ? " member" : "");
			continue;
		}
		printf("%s{\"peer\":", i ? "," : "");
		json_string(stdout, e[i].peer);
		printf(",");
		json_u64(stdout, "inflight", e[i].inflight, ",");
		json_u64(stdout, "rx_bytes", e[i].rx_bytes, ",");
		json_u64(stdout, "tx_bytes", e[i].tx_bytes, ",");
		json_u64(stdout, "age_ms", e[i].age_ms, ",");
		json_u64(stdout, "queued", e[i].queued, ",");
		json_u64(stdout, "pinned", e[i].pinned, ",");
		printf("\"member\":%s,\"cpu\":%d}", e[i].member ? "true" : "false", e[i].cpu);
	}
	if (opt_json)
		printf("]\n");
	free(e);
	return EXIT_OK;
}
