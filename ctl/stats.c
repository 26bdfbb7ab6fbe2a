// SPDX-License-Identifier: GPL-2.0
/* What a node has done: stats, scrub, conns. */

#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "nl.h"

int cmd_stats(const struct subcommand *cmd, int argc, char **argv)
{
	bool prometheus = false;
	const struct opt opts[] = {
		OPT("prometheus", OPT_FLAG, &prometheus),
		{ 0 }
	};
	struct cp_node_info *info;
	const char *name;
	char **args;

	if (parse_cmdline(cmd, argc, argv, opts, &args))
		usage_error(cmd, "unexpected argument '%s'", args[0]);
	if (prometheus && opt_json)
		usage_error(cmd, "-j and --prometheus exclude each other");
	info = cp_node_query();
	name = info->name;
	if (prometheus) {
		/* [A-Za-z0-9._-]: no escaping needed. */
		printf("# HELP cachepeer_up 1 if the node is running.\n");
		printf("# TYPE cachepeer_up gauge\n");
		printf("cachepeer_up{node=\"%s\"} %d\n", name,
		       info->state == CACHEPEER_NODE_RUNNING);
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
