// SPDX-License-Identifier: GPL-2.0
/*
 * cachepeerctl: control a cachepeer node (the kernel module) of the current
 * network namespace. Run it under "ip netns exec" for other namespaces.
 */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

bool opt_json;

static int cmd_help(int argc, char **argv);

static const struct subcommand subcommands[] = {
	{ "status", cmd_status, "[-j]", "show this node (the default command)" },
	{ "start", cmd_start,
	  "--listen ADDR:PORT --dir PATH [--max-block SIZE] [--frame-timeout MS]",
	  "start this namespace's node" },
	{ "stop", cmd_stop, "", "stop this namespace's node, closing every connection" },
	{ "set", cmd_set,
	  "[name NAME] [key FILE] [miss forward|redirect] [handoff SECONDS]",
	  "name this node (1-63 of [A-Za-z0-9._-]); set the cluster key (16-64 bytes\n"
	  "         read from FILE, less a trailing newline); what a GET that misses here\n"
	  "         does for a key another member owns (default forward); how long after\n"
	  "         a ring change an owner that misses asks the previous owner (600)" },
	{ "ring", cmd_ring,
	  "[-j] [show [--config] | add NAME ADDR:PORT [weight W] | del NAME |\n"
	  "         weight NAME W | set FILE | lookup KEY... | bench [COUNT]]",
	  "show the ring (members, weights, share of keys, epoch), edit it, or replace\n"
	  "         it from FILE (the format 'show --config' prints); weights are 0-1000,\n"
	  "         default 100 (160 points); 0 drains a member. Changes reach every member.\n"
	  "         lookup prints KEY HASH OWNER ADDR per key (KEY '-': keys from stdin);\n"
	  "         bench times COUNT lookups (default 1000000) in the kernel and here" },
	{ "join", cmd_join, "SEED_ADDR:PORT [--name NAME] [--weight W]",
	  "add this node to the ring SEED belongs to (SEED may be this node, to start a\n"
	  "         ring) and wait until SEED has the new ring; needs the cluster key set" },
	{ "leave", cmd_leave, "", "take this node out of the ring; its keys move to the others" },
	{ "warmup", cmd_warmup, "[--peer SEED] [--jobs N] [--check] [-j] (DIR | -f LIST)",
	  "PUT every file under DIR (key: its path under DIR), or each file named in\n"
	  "         LIST (key: the line), to its owner; --check GETs them back and compares" },
	{ "limits", cmd_limits,
	  "[-j] [--max-bytes SIZE] [--max-blocks N] [--fs-stop PCT] [--fs-cull PCT] [--fs-run PCT]\n"
	  "         [--evict lru|2-random|none] [--scrub-rate SIZE]",
	  "show the cache limits, or set the ones given (0: no limit; applied at once)" },
	{ "stats", cmd_stats, "[-j | --prometheus]",
	  "show statistics; --prometheus prints text exposition for node_exporter" },
	{ "scrub", cmd_scrub, "[-j] [start]",
	  "show scrub progress, or start a full pass now (hot blocks too)" },
	{ "conns", cmd_conns, "[-j]", "list connections: peer, in flight, bytes, age, TX CPU" },
	{ "put", cmd_put, "[--peer ADDR:PORT] KEY FILE", "store FILE as block KEY" },
	{ "get", cmd_get, "[--peer ADDR:PORT] [--offset O] [--length L] [-o FILE] KEY",
	  "fetch block KEY (or a range) to FILE or stdout, CRC-checked" },
	{ "stat", cmd_stat, "[--peer ADDR:PORT] [-j] KEY", "show block KEY's size and CRC-32C" },
	{ "del", cmd_del, "[--peer ADDR:PORT] KEY", "delete block KEY" },
	{ "help", cmd_help, "[COMMAND]", "show help" },
};

const struct subcommand *find_subcommand(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(subcommands); i++) {
		if (!strcmp(subcommands[i].name, name))
			return &subcommands[i];
	}
	return NULL;
}

void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG_NAME ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_ERR);
}

static void print_usage(FILE *f, const struct subcommand *cmd)
{
	fprintf(f, "usage: " PROG_NAME " %s%s%s\n", cmd->name, cmd->args[0] ? " " : "",
		cmd->args);
}

void usage_error(const struct subcommand *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG_NAME " %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	print_usage(stderr, cmd);
	exit(EXIT_USAGE);
}

bool want_help(const struct subcommand *cmd, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			break;
	}
	if (argv && i >= argc)
		return false;
	print_usage(stdout, cmd);
	printf("  %s\n", cmd->summary);
	return true;
}

static void print_help(FILE *f)
{
	size_t i;

	fprintf(f,
		"usage: " PROG_NAME " [-j] [COMMAND [ARGS]]\n"
		"\n"
		"Control the cachepeer node of the current network namespace.\n"
		"With no command, show its status.\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < ARRAY_SIZE(subcommands); i++)
		fprintf(f, "  %-6s%s%s\n         %s\n", subcommands[i].name,
			subcommands[i].args[0] ? " " : "", subcommands[i].args,
			subcommands[i].summary);
	fprintf(f,
		"\n"
		"Options:\n"
		"  -j, --json   print machine-readable JSON\n"
		"  -h, --help   show this help (also after any command)\n"
		"  --version    show the tool's version\n"
		"\n"
		"Block commands talk to --peer, by default this namespace's node. KEY is the\n"
		"block's key (1-250 bytes); SIZE takes K, M, G suffixes (powers of 1024).\n"
		"\n"
		"Exit status: 0 success, 1 error, 2 bad command line, 3 block not found,\n"
		"4 cannot reach the node, 5 CRC mismatch or block found corrupt.\n"
		"start, stop, set, setting limits and scrub start need CAP_NET_ADMIN over the\n"
		"network namespace.\n"
		"\n"
		"Limits: --max-bytes and --max-blocks cap the cache (default: none). Below\n"
		"--fs-cull %% free space on the cache filesystem the node evicts until\n"
		"--fs-run %% is free; below --fs-stop %% it refuses PUTs with NO_SPACE\n"
		"(defaults 7, 10, 3, as cachefilesd). --evict picks the victims: lru (the\n"
		"default), 2-random (the older of two random blocks) or none (PUTs over a\n"
		"limit fail instead). --scrub-rate is the patrol's read rate, bytes per\n"
		"second (default 1M; 0 turns it off). The patrol re-verifies blocks unused\n"
		"for a minute against their CRCs and drops corrupt ones.\n");
}

static int cmd_help(int argc, char **argv)
{
	const struct subcommand *cmd;

	if (argc < 2) {
		print_help(stdout);
		return EXIT_OK;
	}
	cmd = find_subcommand(argv[1]);
	if (!cmd) {
		fprintf(stderr, PROG_NAME ": unknown command '%s'\n", argv[1]);
		return EXIT_USAGE;
	}
	want_help(cmd, 0, NULL);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	const struct subcommand *cmd;

	for (argc--, argv++; argc && argv[0][0] == '-'; argc--, argv++) {
		if (!strcmp(argv[0], "-j") || !strcmp(argv[0], "--json")) {
			opt_json = true;
			continue;
		}
		if (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help")) {
			print_help(stdout);
			return EXIT_OK;
		}
		if (!strcmp(argv[0], "--version")) {
			printf(PROG_NAME " %s\n", CACHEPEER_VERSION);
			return EXIT_OK;
		}
		fprintf(stderr, PROG_NAME ": unknown option '%s'\n", argv[0]);
		print_help(stderr);
		return EXIT_USAGE;
	}
	if (!argc)
		return cmd_status(0, NULL);

	cmd = find_subcommand(argv[0]);
	if (!cmd) {
		fprintf(stderr, PROG_NAME ": unknown command '%s' (try '" PROG_NAME " help')\n",
			argv[0]);
		return EXIT_USAGE;
	}
	if (cmd->fn != cmd_help && want_help(cmd, argc, argv))
		return EXIT_OK;
	return cmd->fn(argc, argv);
}
