// SPDX-License-Identifier: GPL-2.0
/* Node subcommands: status, start, stop, set. */

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "nl.h"

static struct cp_nl *open_nl(void)
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
static int parse_opts(const struct subcommand *cmd, int argc, char **argv, bool json_ok)
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

int cmd_status(int argc, char **argv)
{
	const struct subcommand *cmd = find_subcommand("status");
	struct cp_node_info info;
	struct cp_nl *nl;
	int ret;

	if (argc && parse_opts(cmd, argc, argv, true) != argc)
		usage_error(cmd, "unexpected argument '%s'", argv[optind]);

	nl = open_nl();
	ret = cp_nl_node_get(nl, &info);
	if (ret)
		fail("status: %s", cp_nl_strerror(nl, ret));
	cp_nl_close(nl);

	if (opt_json) {
		printf("{\"name\":");
		json_string(stdout, info.name);
		printf(",\"state\":\"%s\",\"version\":", state_name(info.state));
		json_string(stdout, info.version);
		printf("}\n");
		return EXIT_OK;
	}
	printf("node: %s\n", info.name[0] ? info.name : "(unnamed)");
	printf("  state: %s\n", state_name(info.state));
	printf("  module version: %s\n", info.version);
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

int cmd_start(int argc, char **argv)
{
	return simple_op("start", argc, argv, cp_nl_node_start);
}

int cmd_stop(int argc, char **argv)
{
	return simple_op("stop", argc, argv, cp_nl_node_stop);
}

int cmd_set(int argc, char **argv)
{
	const struct subcommand *cmd = find_subcommand("set");
	struct cp_nl *nl;
	int i, ret;

	i = parse_opts(cmd, argc, argv, false);
	if (argc - i != 2 || strcmp(argv[i], "name"))
		usage_error(cmd, "expected 'name NAME'");

	nl = open_nl();
	ret = cp_nl_node_set_name(nl, argv[i + 1]);
	if (ret)
		fail("set name '%s': %s", argv[i + 1], cp_nl_strerror(nl, ret));
	cp_nl_close(nl);
	return EXIT_OK;
}
