// SPDX-License-Identifier: GPL-2.0
/* Node subcommands: status, start, stop, set. */

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "client.h"

#include "ctl.h"
#include "nl.h"

struct cp_nl *open_nl(void)
{
	struct cp_nl *nl;
	int ret;

	ret = cp_nl_open(&nl);
	if (ret)
		fail("%s", cp_nl_strerror(NULL, ret));
	return nl;
}

static const char *state_name(__u32 state)
{
	switch (state) {
	case CACHEPEER_NODE_STOPPED:
		return "stopped";
	case CACHEPEER_NODE_RUNNING:
		return "running";
	}
	return "unknown";
}

/* Parse a subcommand's -j/-h options; returns the index of the first operand. */
int parse_opts(const struct subcommand *cmd, int argc, char **argv, bool json_ok)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			if (!json_ok)
				usage_error(cmd, "-j is not supported here");
			opt_json = true;
			break;
		case 'h':
			want_help(cmd, 0, NULL);
			exit(EXIT_OK);
		default:
			usage_error(cmd, "bad option");
		}
	}
	return optind;
}

static void print_json(const struct cp_node_info *info)
{
	const struct cp_node_stats *st = &info->stats;
	int i;

	printf("{\"name\":");
	json_string(stdout, info->name);
	printf(",\"state\":\"%s\",\"version\":", state_name(info->state));
	json_string(stdout, info->version);
	if (info->state == CACHEPEER_NODE_RUNNING) {
		printf(",\"listen\":");
		json_string(stdout, info->listen);
		printf(",\"dir\":");
		json_string(stdout, info->dir);
		printf(",\"max_block\":%llu,\"frame_timeout_ms\":%u,\"epoch\":%llu",
		       (unsigned long long)info->max_block, info->frame_timeout_ms,
		       (unsigned long long)info->epoch);
		printf(",\"stats\":{");
		json_u64("conns", st->conns, ",");
		json_u64("conns_refused", st->conns_refused, ",");
		json_u64("timeouts", st->timeouts, ",");
		json_u64("blocks", st->blocks, ",");
		json_u64("bytes", st->bytes, ",");
		json_u64("corrupt", st->corrupt, ",");
		json_u64("zc_bytes", st->zc_bytes, ",");
		json_u64("copied_bytes", st->copied_bytes, ",");
		printf("\"ops\":{");
		for (i = CACHEPEER_OP_GET; i <= CACHEPEER_OP_MAX; i++)
			json_u64(op_names[i], st->ops[i], i < CACHEPEER_OP_MAX ? "," : "");
		printf("},\"status\":{");
		for (i = 0; i <= CACHEPEER_S_MAX; i++)
			json_u64(cp_status_name(i), st->status[i], i < CACHEPEER_S_MAX ? "," : "");
		printf("}}");
	}
	printf("}\n");
}

static void print_pretty(const struct cp_node_info *info)
{
	const struct cp_node_stats *st = &info->stats;
	char b1[32], b2[32];

	printf("node: %s\n", info->name[0] ? info->name : "(unnamed)");
	printf("  state: %s\n", state_name(info->state));
	printf("  module version: %s\n", info->version);
	if (info->state != CACHEPEER_NODE_RUNNING)
		return;
	printf("  listening on: %s\n", info->listen);
	printf("  cache directory: %s\n", info->dir);
	printf("  max block: %s\n", fmt_size(info->max_block, b1, sizeof(b1)));
	printf("  frame timeout: %u ms\n", info->frame_timeout_ms);
	printf("  ring epoch: %llu\n", (unsigned long long)info->epoch);
	printf("  blocks: %llu (%s)\n", (unsigned long long)st->blocks,
	       fmt_size(st->bytes, b1, sizeof(b1)));
	printf("  connections: %llu open, %llu refused, %llu timed out\n",
	       (unsigned long long)st->conns, (unsigned long long)st->conns_refused,
	       (unsigned long long)st->timeouts);
	printf("  served: %s zero-copy, %s copied\n", fmt_size(st->zc_bytes, b1, sizeof(b1)),
	       fmt_size(st->copied_bytes, b2, sizeof(b2)));
	printf("  requests: get %llu, put %llu, stat %llu, del %llu, ping %llu\n",
	       (unsigned long long)st->ops[CACHEPEER_OP_GET],
	       (unsigned long long)st->ops[CACHEPEER_OP_PUT],
	       (unsigned long long)st->ops[CACHEPEER_OP_STAT],
	       (unsigned long long)st->ops[CACHEPEER_OP_DEL],
	       (unsigned long long)st->ops[CACHEPEER_OP_PING]);
	printf("  corrupt blocks dropped: %llu\n", (unsigned long long)st->corrupt);
}

/* This namespace's node; exits on failure. Free the result. */
struct cp_node_info *cp_node_query(void)
{
	struct cp_node_info *info = calloc(1, sizeof(*info));
	struct cp_nl *nl;
	int ret;

	if (!info)
		fail("out of memory");
	nl = open_nl();
	ret = cp_nl_node_get(nl, info);
	if (ret)
		fail("status: %s", cp_nl_strerror(nl, ret));
	cp_nl_close(nl);
	return info;
}

int cmd_status(int argc, char **argv)
{
	const struct subcommand *cmd = find_subcommand("status");
	struct cp_node_info *info;

	if (argc && parse_opts(cmd, argc, argv, true) != argc)
		usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	info = cp_node_query();
	if (opt_json)
		print_json(info);
	else
		print_pretty(info);
	free(info);
	return EXIT_OK;
}

int cmd_start(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "dir", required_argument, NULL, 'd' },
		{ "max-block", required_argument, NULL, 'm' },
		{ "frame-timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const struct subcommand *cmd = find_subcommand("start");
	struct cp_start_cfg cfg = { 0 };
	char dir[PATH_MAX];
	const char *listen = NULL, *dir_arg = NULL;
	struct sockaddr_storage ss;
	unsigned long long v;
	socklen_t len;
	struct cp_nl *nl;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen = optarg;
			break;
		case 'd':
			dir_arg = optarg;
			break;
		case 'm':
			if (parse_size(optarg, &v) || !v)
				usage_error(cmd, "invalid size '%s'", optarg);
			cfg.max_block = v;
			break;
		case 't':
			if (parse_size(optarg, &v) || !v || v > 3600000)
				usage_error(cmd, "invalid timeout '%s' (milliseconds)", optarg);
			cfg.frame_timeout_ms = v;
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
	if (!listen || !dir_arg)
		usage_error(cmd, "--listen and --dir are required");
	if (cp_parse_peer(listen, &ss, &len))
		usage_error(cmd, "invalid address '%s' (ADDR:PORT or [ADDR6]:PORT)", listen);
	if (!realpath(dir_arg, dir))
		fail("start: cache directory '%s': %s", dir_arg, strerror(errno));
	cfg.family = ss.ss_family;
	if (ss.ss_family == AF_INET6) {
		memcpy(cfg.addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
		cfg.port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		memcpy(cfg.addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
		cfg.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	cfg.dir = dir;

	nl = open_nl();
	ret = cp_nl_node_start(nl, &cfg);
	if (ret)
		fail("start: %s", cp_nl_strerror(nl, ret));
	cp_nl_close(nl);
	return EXIT_OK;
}

static int simple_op(const char *name, int argc, char **argv, int (*op)(struct cp_nl *nl))
{
	const struct subcommand *cmd = find_subcommand(name);
	struct cp_nl *nl;
	int ret;

	if (parse_opts(cmd, argc, argv, false) != argc)
		usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	nl = open_nl();
	ret = op(nl);
	if (ret)
		fail("%s: %s", name, cp_nl_strerror(nl, ret));
	cp_nl_close(nl);
	return EXIT_OK;
}

int cmd_stop(int argc, char **argv)
{
	return simple_op("stop", argc, argv, cp_nl_node_stop);
}

int cmd_set(int argc, char **argv)
{
	const struct subcommand *cmd = find_subcommand("set");
	struct cp_cluster_cfg cc = { .miss = -1, .handoff_s = -1 };
	unsigned char key[CACHEPEER_CLUSTER_KEY_MAX + 2];
	struct cp_nl *nl;
	int first, i, ret;

	first = parse_opts(cmd, argc, argv, false);
	if (first == argc || (argc - first) % 2)
		usage_error(cmd, "expected SETTING VALUE pairs");
	for (i = first; i < argc; i += 2) {
		const char *what = argv[i], *val = argv[i + 1];
		char *end;

		if (!strcmp(what, "name")) {
			cc.name = val;
		} else if (!strcmp(what, "key")) {
			ret = read_key_file(val, key, &cc.key_len);
			if (ret == -EINVAL)
				usage_error(cmd, "key file '%s' must hold %d-%d bytes", val,
					    CACHEPEER_CLUSTER_KEY_MIN, CACHEPEER_CLUSTER_KEY_MAX);
			if (ret)
				fail("set key: '%s': %s", val, strerror(-ret));
			cc.key = key;
		} else if (!strcmp(what, "miss")) {
			if (!strcmp(val, "forward"))
				cc.miss = CACHEPEER_MISS_FORWARD;
			else if (!strcmp(val, "redirect"))
				cc.miss = CACHEPEER_MISS_REDIRECT;
			else
				usage_error(cmd, "miss is 'forward' or 'redirect'");
		} else if (!strcmp(what, "handoff")) {
			cc.handoff_s = strtol(val, &end, 10);
			if (!*val || *end || cc.handoff_s < 0)
				usage_error(cmd, "handoff is a number of seconds");
		} else {
			usage_error(cmd, "unknown setting '%s'", what);
		}
	}

	nl = open_nl();
	ret = cp_nl_node_set_cluster(nl, &cc);
	if (ret && cc.name && argc - first == 2)
		fail("set name '%s': %s", cc.name, cp_nl_strerror(nl, ret));
	if (ret)
		fail("set: %s", cp_nl_strerror(nl, ret));
	cp_nl_close(nl);
	return EXIT_OK;
}

/* The local node's listen address, with a wildcard turned into loopback. */
const char *local_peer(void)
{
	static char peer[80];
	struct cp_node_info *info = cp_node_query();

	if (info->state != CACHEPEER_NODE_RUNNING)
		fail("the local node is not running; give --peer ADDR:PORT");
	if (!strncmp(info->listen, "0.0.0.0:", 8))
		snprintf(peer, sizeof(peer), "127.0.0.1:%s", info->listen + 8);
	else if (!strncmp(info->listen, "[::]:", 5))
		snprintf(peer, sizeof(peer), "[::1]:%s", info->listen + 5);
	else
		snprintf(peer, sizeof(peer), "%s", info->listen);
	free(info);
	return peer;
}
