// SPDX-License-Identifier: GPL-2.0
/* Cache lifecycle subcommands: limits, stats, scrub, conns. */

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "ctl.h"
#include "nl.h"

static const char * const evict_names[] = {
	[CACHEPEER_EVICT_LRU] = "lru",
	[CACHEPEER_EVICT_2RANDOM] = "2-random",
	[CACHEPEER_EVICT_NONE] = "none",
};

/* Status names as identifiers, for JSON keys and Prometheus labels. */
static const char * const status_ids[] = {
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
};

static const char *evict_name(unsigned int v)
{
	return v < ARRAY_SIZE(evict_names) ? evict_names[v] : "unknown";
}

static int parse_pct(const struct subcommand *cmd, const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end || v < 0 || v > 99)
		usage_error(cmd, "invalid percentage '%s' (0-99)", s);
	return v;
}

static void print_limit(const char *what, unsigned long long v, bool bytes)
{
	char buf[32];

	if (!v)
		printf("  %s: none\n", what);
	else if (bytes)
		printf("  %s: %s\n", what, fmt_size(v, buf, sizeof(buf)));
	else
		printf("  %s: %llu\n", what, v);
}

static void show_limits(const struct cp_node_info *info)
{
	const struct cp_limits *l = &info->limits;
	const struct cp_node_stats *st = &info->stats;
	char b1[32];

	if (opt_json) {
		printf("{");
		json_u64("max_bytes", l->max_bytes, ",");
		json_u64("max_blocks", l->max_blocks, ",");
		json_u64("fs_stop", l->fs_stop, ",");
		json_u64("fs_cull", l->fs_cull, ",");
		json_u64("fs_run", l->fs_run, ",");
		printf("\"evict\":\"%s\",", evict_name(l->evict));
		json_u64("scrub_rate", l->scrub_rate, ",");
		json_u64("blocks", st->blocks, ",");
		json_u64("bytes", st->bytes, "");
		printf("}\n");
		return;
	}
	printf("limits:\n");
	print_limit("max bytes", l->max_bytes, true);
	print_limit("max blocks", l->max_blocks, false);
	printf("  free space: stop below %u%%, cull below %u%%, run at %u%%%s\n", l->fs_stop,
	       l->fs_cull, l->fs_run, l->fs_cull ? "" : " (culling off)");
	printf("  eviction: %s\n", evict_name(l->evict));
	if (l->scrub_rate)
		printf("  scrub rate: %s/s\n", fmt_size(l->scrub_rate, b1, sizeof(b1)));
	else
		printf("  scrub rate: off\n");
	if (info->state == CACHEPEER_NODE_RUNNING)
		printf("  in use: %llu blocks, %s\n", (unsigned long long)st->blocks,
		       fmt_size(st->bytes, b1, sizeof(b1)));
}

int cmd_limits(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "max-bytes", required_argument, NULL, 'B' },
		{ "max-blocks", required_argument, NULL, 'N' },
		{ "fs-stop", required_argument, NULL, 's' },
		{ "fs-cull", required_argument, NULL, 'c' },
		{ "fs-run", required_argument, NULL, 'r' },
		{ "evict", required_argument, NULL, 'e' },
		{ "scrub-rate", required_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const struct subcommand *cmd = find_subcommand("limits");
	struct cp_limits lim = { 0 };
	unsigned long long v;
	struct cp_node_info *info;
	struct cp_nl *nl;
	size_t i;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'B':
			if (parse_size(optarg, &v))
				usage_error(cmd, "invalid size '%s'", optarg);
			lim.max_bytes = v;
			lim.set |= CP_LIM_BYTES;
			break;
		case 'N':
			if (parse_size(optarg, &v))
				usage_error(cmd, "invalid count '%s'", optarg);
			lim.max_blocks = v;
			lim.set |= CP_LIM_BLOCKS;
			break;
		case 's':
			lim.fs_stop = parse_pct(cmd, optarg);
			lim.set |= CP_LIM_FS_STOP;
			break;
		case 'c':
			lim.fs_cull = parse_pct(cmd, optarg);
			lim.set |= CP_LIM_FS_CULL;
			break;
		case 'r':
			lim.fs_run = parse_pct(cmd, optarg);
			lim.set |= CP_LIM_FS_RUN;
			break;
		case 'e':
			for (i = 0; i < ARRAY_SIZE(evict_names); i++)
				if (!strcmp(optarg, evict_names[i]))
					break;
			if (i == ARRAY_SIZE(evict_names))
				usage_error(cmd, "unknown policy '%s' (lru, 2-random, none)",
					    optarg);
			lim.evict = i;
			lim.set |= CP_LIM_EVICT;
			break;
		case 'R':
			if (parse_size(optarg, &v))
				usage_error(cmd, "invalid rate '%s'", optarg);
			lim.scrub_rate = v;
			lim.set |= CP_LIM_SCRUB_RATE;
			break;
		case 'j':
			opt_json = true;
			break;
		case 'h':
			want_help(cmd, 0, NULL);
			exit(EXIT_OK);
		default:
			usage_error(cmd, "bad option");
		}
	}
	if (optind != argc)
		usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (lim.set) {
		nl = open_nl();
		ret = cp_nl_node_set_limits(nl, &lim);
		if (ret)
			fail("limits: %s", cp_nl_strerror(nl, ret));
		cp_nl_close(nl);
		return EXIT_OK;
	}
	info = cp_node_query();
	show_limits(info);
	free(info);
	return EXIT_OK;
}

/* One Prometheus sample, with its HELP and TYPE the first time it is seen. */
static void prom(const char *node, const char *name, const char *type, const char *help,
		 const char *label, unsigned long long v)
{
	printf("# HELP cachepeer_%s %s\n# TYPE cachepeer_%s %s\n", name, help, name, type);
	printf("cachepeer_%s{node=\"%s\"%s} %llu\n", name, node, label ? label : "", v);
}

static void prom_more(const char *node, const char *name, const char *label,
		      unsigned long long v)
{
	printf("cachepeer_%s{node=\"%s\"%s} %llu\n", name, node, label, v);
}

static void print_prometheus(const struct cp_node_info *info)
{
	const struct cp_node_stats *st = &info->stats;
	const struct cp_limits *l = &info->limits;
	const char *n = info->name;	/* [A-Za-z0-9._-]: no escaping needed */
	char label[64];
	int i;

	prom(n, "up", "gauge", "1 if the node is running.", NULL,
	     info->state == CACHEPEER_NODE_RUNNING);
	if (info->state != CACHEPEER_NODE_RUNNING)
		return;
	prom(n, "ring_epoch", "gauge", "The node's ring epoch.", NULL, info->epoch);
	prom(n, "hits_total", "counter", "GETs answered with data.", NULL, st->hits);
	prom(n, "misses_total", "counter", "GETs answered NOT_FOUND.", NULL, st->misses);
	prom(n, "sent_bytes_total", "counter", "Block bytes sent, by how.",
	     ",mode=\"zerocopy\"", st->zc_bytes);
	prom_more(n, "sent_bytes_total", ",mode=\"copied\"", st->copied_bytes);
	prom(n, "softirq_responses_total", "counter",
	     "Responses sent from the softirq that parsed their request.", NULL, st->softirq_tx);
	for (i = CACHEPEER_OP_GET; i <= CACHEPEER_OP_MAX; i++) {
		snprintf(label, sizeof(label), ",op=\"%s\"", op_names[i]);
		if (i == CACHEPEER_OP_GET)
			prom(n, "requests_total", "counter", "Requests by op.", label, st->ops[i]);
		else
			prom_more(n, "requests_total", label, st->ops[i]);
	}
	for (i = 0; i <= CACHEPEER_S_MAX; i++) {
		snprintf(label, sizeof(label), ",status=\"%s\"", status_ids[i]);
		if (!i)
			prom(n, "responses_total", "counter", "Responses by status.", label,
			     st->status[i]);
		else
			prom_more(n, "responses_total", label, st->status[i]);
	}
	prom(n, "requests_in_flight", "gauge", "Requests in flight.", NULL, st->inflight);
	prom(n, "connections", "gauge", "Open connections.", NULL, st->conns);
	prom(n, "connections_refused_total", "counter", "Connections over the limit.", NULL,
	     st->conns_refused);
	prom(n, "frame_timeouts_total", "counter", "Connections closed for an unfinished frame.",
	     NULL, st->timeouts);
	prom(n, "evictions_total", "counter", "Blocks evicted.", NULL, st->evictions);
	prom(n, "crc_failures_total", "counter", "Blocks dropped for failing their CRCs.", NULL,
	     st->corrupt);
	prom(n, "foreign_files_total", "counter", "Files removed for not matching their name.",
	     NULL, st->foreign);
	prom(n, "cache_blocks", "gauge", "Blocks in the cache.", NULL, st->blocks);
	prom(n, "cache_bytes", "gauge", "Bytes in the cache.", NULL, st->bytes);
	prom(n, "limit_blocks", "gauge", "Block limit, 0 for none.", NULL, l->max_blocks);
	prom(n, "limit_bytes", "gauge", "Byte limit, 0 for none.", NULL, l->max_bytes);
	prom(n, "index_memory_bytes", "gauge", "Memory of the block index.", NULL, st->index_mem);
	prom(n, "open_files", "gauge", "Blocks with an open file.", NULL, st->open_files);
	prom(n, "index_scan_done", "gauge", "1 once the start-up index rebuild has ended.", NULL,
	     st->scan_done);
	prom(n, "scrub_passes_total", "counter", "Scrub passes completed.", NULL,
	     st->scrub_passes);
	prom(n, "scrub_blocks_total", "counter", "Blocks verified by scrub.", NULL,
	     st->scrub_blocks);
	prom(n, "scrub_bytes_total", "counter", "Bytes verified by scrub.", NULL, st->scrub_bytes);
	prom(n, "scrub_corrupt_total", "counter", "Corrupt blocks found by scrub.", NULL,
	     st->scrub_corrupt);
	prom(n, "scrub_running", "gauge", "1 while a scrub pass is under way.", NULL,
	     st->scrub_running);
	prom(n, "forwards_total", "counter", "GETs relayed from their owner.", NULL,
	     st->forwards);
	prom(n, "redirects_total", "counter", "GETs answered with the owner's address.", NULL,
	     st->redirects);
	prom(n, "handoffs_total", "counter", "Blocks fetched from their previous owner.", NULL,
	     st->handoffs);
	prom(n, "peer_errors_total", "counter", "Failed calls to other members.", NULL,
	     st->peer_errors);
	prom(n, "ring_accepted_total", "counter", "Ring pushes adopted.", NULL,
	     st->ring_accepted);
	prom(n, "ring_refused_total", "counter", "Ring pushes without a valid HMAC.", NULL,
	     st->ring_refused);
	prom(n, "ring_sent_total", "counter", "Ring pushes other members answered.", NULL,
	     st->ring_sent);
}

static void print_stats_json(const struct cp_node_info *info)
{
	const struct cp_node_stats *st = &info->stats;
	int i;

	printf("{\"name\":");
	json_string(stdout, info->name);
	printf(",\"running\":%s", info->state == CACHEPEER_NODE_RUNNING ? "true" : "false");
	if (info->state == CACHEPEER_NODE_RUNNING) {
		printf(",");
		json_u64("epoch", info->epoch, ",");
		json_u64("hits", st->hits, ",");
		json_u64("misses", st->misses, ",");
		json_u64("zc_bytes", st->zc_bytes, ",");
		json_u64("copied_bytes", st->copied_bytes, ",");
		json_u64("softirq_tx", st->softirq_tx, ",");
		json_u64("inflight", st->inflight, ",");
		json_u64("conns", st->conns, ",");
		json_u64("conns_refused", st->conns_refused, ",");
		json_u64("timeouts", st->timeouts, ",");
		json_u64("evictions", st->evictions, ",");
		json_u64("crc_failures", st->corrupt, ",");
		json_u64("foreign", st->foreign, ",");
		json_u64("blocks", st->blocks, ",");
		json_u64("bytes", st->bytes, ",");
		json_u64("limit_blocks", info->limits.max_blocks, ",");
		json_u64("limit_bytes", info->limits.max_bytes, ",");
		json_u64("index_mem", st->index_mem, ",");
		json_u64("open_files", st->open_files, ",");
		printf("\"scan_done\":%s,", st->scan_done ? "true" : "false");
		json_u64("scan_found", st->scan_found, ",");
		json_u64("scan_ms", st->scan_ms, ",");
		printf("\"no_space\":%s,\"culling\":%s,", st->no_space ? "true" : "false",
		       st->culling ? "true" : "false");
		printf("\"scrub\":{");
		json_u64("passes", st->scrub_passes, ",");
		json_u64("blocks", st->scrub_blocks, ",");
		json_u64("bytes", st->scrub_bytes, ",");
		json_u64("corrupt", st->scrub_corrupt, ",");
		json_u64("pass_blocks", st->scrub_pass_blocks, ",");
		printf("\"running\":%s},\"cluster\":{", st->scrub_running ? "true" : "false");
		json_u64("forwards", st->forwards, ",");
		json_u64("redirects", st->redirects, ",");
		json_u64("handoffs", st->handoffs, ",");
		json_u64("peer_errors", st->peer_errors, ",");
		json_u64("ring_accepted", st->ring_accepted, ",");
		json_u64("ring_refused", st->ring_refused, ",");
		json_u64("ring_sent", st->ring_sent, "");
		printf("},\"ops\":{");
		for (i = CACHEPEER_OP_GET; i <= CACHEPEER_OP_MAX; i++)
			json_u64(op_names[i], st->ops[i], i < CACHEPEER_OP_MAX ? "," : "");
		printf("},\"status\":{");
		for (i = 0; i <= CACHEPEER_S_MAX; i++)
			json_u64(status_ids[i], st->status[i], i < CACHEPEER_S_MAX ? "," : "");
		printf("}");
	}
	printf("}\n");
}

static void print_stats_pretty(const struct cp_node_info *info)
{
	const struct cp_node_stats *st = &info->stats;
	const struct cp_limits *l = &info->limits;
	char b1[32], b2[32], b3[32];
	int i;

	printf("node: %s (%s)\n", info->name[0] ? info->name : "(unnamed)",
	       info->state == CACHEPEER_NODE_RUNNING ? "running" : "stopped");
	if (info->state != CACHEPEER_NODE_RUNNING)
		return;
	printf("  ring epoch: %llu\n", (unsigned long long)info->epoch);
	printf("  gets: %llu hits, %llu misses\n", (unsigned long long)st->hits,
	       (unsigned long long)st->misses);
	printf("  served: %s zero-copy, %s copied\n", fmt_size(st->zc_bytes, b1, sizeof(b1)),
	       fmt_size(st->copied_bytes, b2, sizeof(b2)));
	printf("  responses sent from softirq: %llu\n", (unsigned long long)st->softirq_tx);
	printf("  requests:");
	for (i = CACHEPEER_OP_GET; i <= CACHEPEER_OP_MAX; i++)
		printf(" %s %llu%s", op_names[i], (unsigned long long)st->ops[i],
		       i < CACHEPEER_OP_MAX ? "," : "\n");
	printf("  responses:");
	for (i = 0; i <= CACHEPEER_S_MAX; i++)
		printf(" %s %llu%s", cp_status_name(i), (unsigned long long)st->status[i],
		       i < CACHEPEER_S_MAX ? "," : "\n");
	printf("  in flight: %llu requests on %llu connections (%llu refused, %llu timed out)\n",
	       (unsigned long long)st->inflight, (unsigned long long)st->conns,
	       (unsigned long long)st->conns_refused, (unsigned long long)st->timeouts);
	printf("  cache: %llu blocks", (unsigned long long)st->blocks);
	if (l->max_blocks)
		printf(" of %llu", (unsigned long long)l->max_blocks);
	printf(", %s", fmt_size(st->bytes, b1, sizeof(b1)));
	if (l->max_bytes)
		printf(" of %s", fmt_size(l->max_bytes, b2, sizeof(b2)));
	printf("%s%s\n", st->culling ? ", culling" : "", st->no_space ? ", NO SPACE" : "");
	printf("  evictions: %llu; CRC failures: %llu; foreign files removed: %llu\n",
	       (unsigned long long)st->evictions, (unsigned long long)st->corrupt,
	       (unsigned long long)st->foreign);
	printf("  index: %s, %llu open files%s\n", fmt_size(st->index_mem, b1, sizeof(b1)),
	       (unsigned long long)st->open_files,
	       st->scan_done ? "" : ", start-up scan in progress");
	printf("  scrub: %llu passes, %llu blocks (%s), %llu corrupt%s\n",
	       (unsigned long long)st->scrub_passes, (unsigned long long)st->scrub_blocks,
	       fmt_size(st->scrub_bytes, b3, sizeof(b3)), (unsigned long long)st->scrub_corrupt,
	       st->scrub_running ? ", pass running" : "");
	printf("  cluster: %llu forwarded, %llu redirected, %llu handed off, %llu peer errors\n",
	       (unsigned long long)st->forwards, (unsigned long long)st->redirects,
	       (unsigned long long)st->handoffs, (unsigned long long)st->peer_errors);
	printf("  ring pushes: %llu adopted, %llu refused (bad HMAC), %llu sent\n",
	       (unsigned long long)st->ring_accepted, (unsigned long long)st->ring_refused,
	       (unsigned long long)st->ring_sent);
}

int cmd_stats(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const struct subcommand *cmd = find_subcommand("stats");
	struct cp_node_info *info;
	bool prometheus = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			opt_json = true;
			break;
		case 'p':
			prometheus = true;
			break;
		case 'h':
			want_help(cmd, 0, NULL);
			exit(EXIT_OK);
		default:
			usage_error(cmd, "bad option");
		}
	}
	if (optind != argc)
		usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (prometheus && opt_json)
		usage_error(cmd, "-j and --prometheus exclude each other");
	info = cp_node_query();
	if (prometheus)
		print_prometheus(info);
	else if (opt_json)
		print_stats_json(info);
	else
		print_stats_pretty(info);
	free(info);
	return EXIT_OK;
}

int cmd_scrub(int argc, char **argv)
{
	const struct subcommand *cmd = find_subcommand("scrub");
	struct cp_node_info *info;
	const struct cp_node_stats *st;
	struct cp_nl *nl;
	char b1[32];
	int ret;

	if (parse_opts(cmd, argc, argv, true) < argc) {
		if (strcmp(argv[optind], "start") || optind + 1 != argc)
			usage_error(cmd, "expected 'start' or nothing");
		nl = open_nl();
		ret = cp_nl_scrub_start(nl);
		if (ret)
			fail("scrub start: %s", cp_nl_strerror(nl, ret));
		cp_nl_close(nl);
		return EXIT_OK;
	}
	info = cp_node_query();
	st = &info->stats;
	if (info->state != CACHEPEER_NODE_RUNNING)
		fail("scrub: node is not running");
	if (opt_json) {
		printf("{");
		json_u64("rate", info->limits.scrub_rate, ",");
		json_u64("passes", st->scrub_passes, ",");
		json_u64("blocks", st->scrub_blocks, ",");
		json_u64("bytes", st->scrub_bytes, ",");
		json_u64("corrupt", st->scrub_corrupt, ",");
		json_u64("pass_blocks", st->scrub_pass_blocks, ",");
		printf("\"running\":%s}\n", st->scrub_running ? "true" : "false");
	} else {
		printf("scrub: %s", st->scrub_running ? "pass running" : "idle");
		if (st->scrub_running)
			printf(", %llu of %llu blocks checked",
			       (unsigned long long)st->scrub_pass_blocks,
			       (unsigned long long)st->blocks);
		printf("\n  rate: %s/s%s\n", fmt_size(info->limits.scrub_rate, b1, sizeof(b1)),
		       info->limits.scrub_rate ? "" : " (patrol off)");
		printf("  passes completed: %llu\n  blocks verified: %llu (%s)\n"
		       "  corrupt blocks found: %llu\n",
		       (unsigned long long)st->scrub_passes, (unsigned long long)st->scrub_blocks,
		       fmt_size(st->scrub_bytes, b1, sizeof(b1)),
		       (unsigned long long)st->scrub_corrupt);
	}
	free(info);
	return EXIT_OK;
}

static void print_conn(const struct cp_conn_entry *ce, void *arg)
{
	int *n = arg;

	if (opt_json) {
		printf("%s{\"peer\":", (*n)++ ? "," : "");
		json_string(stdout, ce->peer);
		printf(",");
		json_u64("inflight", ce->inflight, ",");
		json_u64("rx_bytes", ce->rx_bytes, ",");
		json_u64("tx_bytes", ce->tx_bytes, ",");
		json_u64("age_ms", ce->age_ms, ",");
		printf("\"cpu\":%d}", ce->cpu);
		return;
	}
	if (!(*n)++)
		printf("%-47s %9s %14s %14s %10s %4s\n", "PEER", "INFLIGHT", "RX BYTES", "TX BYTES",
		       "AGE S", "CPU");
	printf("%-47s %9llu %14llu %14llu %10.1f %4d\n", ce->peer,
	       (unsigned long long)ce->inflight, (unsigned long long)ce->rx_bytes,
	       (unsigned long long)ce->tx_bytes, ce->age_ms / 1000.0, ce->cpu);
}

int cmd_conns(int argc, char **argv)
{
	const struct subcommand *cmd = find_subcommand("conns");
	struct cp_nl *nl;
	int n = 0, ret;

	if (parse_opts(cmd, argc, argv, true) != argc)
		usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	nl = open_nl();
	if (opt_json)
		printf("[");
	ret = cp_nl_conn_list(nl, print_conn, &n);
	if (ret)
		fail("conns: %s", cp_nl_strerror(nl, ret));
	if (opt_json)
		printf("]\n");
	else if (!n)
		printf("no connections\n");
	cp_nl_close(nl);
	return EXIT_OK;
}
