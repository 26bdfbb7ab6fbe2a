// SPDX-License-Identifier: GPL-2.0
/*
 * cachepeerctl: control a cachepeer node (the kernel module) of the current
 * network namespace. Run it under "ip netns exec" for other namespaces.
 *
 * The command line has one style (see print_help()): operands name what a
 * command acts on, every setting is a --long option, and a few options
 * mean the same for every command.
 */

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "ctl.h"

bool opt_json;

static int cmd_help(const struct subcommand *cmd, int argc, char **argv);

static const struct subcommand subcommands[] = {
	{ "status", cmd_status, "",
	  "show this node: state, settings and main counters (the default command)" },
	{ "start", cmd_start,
	  "--listen ADDR:PORT --dir PATH [--max-block SIZE] [--frame-timeout DURATION]",
	  "start this namespace's node: listen on ADDR:PORT, cache blocks in PATH;\n"
	  "blocks up to --max-block (default 4M, at most 64M); a connection holding an\n"
	  "unfinished frame for --frame-timeout (default 30s; a bare number is ms) is closed.\n"
	  "A running node with these settings is left as it is (success); one running with\n"
	  "others is an error naming the first that differs" },
	{ "stop", cmd_stop, "",
	  "stop this namespace's node, closing every connection (a stopped node: success)" },
	{ "set", cmd_set,
	  "[--name NAME] [--cluster-key FILE] [--next-cluster-key FILE] [--access POLICY]\n"
	  "[--miss forward|redirect] [--handoff DURATION]\n"
	  "[--max-bytes SIZE] [--max-blocks COUNT] [--fs-stop PCT] [--fs-cull PCT] [--fs-run PCT]\n"
	  "[--evict lru|2-random|none] [--scrub-rate SIZE] [--max-conns COUNT]\n"
	  "[--max-conns-per-source COUNT] [--conn-queue SIZE] [--node-queue SIZE]\n"
	  "[--conn-pin SIZE] [--idle-timeout DURATION]",
	  "change this node's settings, running or not, at once:\n"
	  "--name: 1-63 of [A-Za-z0-9._-]; --cluster-key: 16-64 bytes read from FILE,\n"
	  "less a trailing newline, that sign ring changes between members and prove\n"
	  "them to each other (the member key); --next-cluster-key: a new one, accepted\n"
	  "too, to move a cluster to it node by node (set it as next everywhere, then as\n"
	  "current everywhere, then 'key del' the old one); --access: what a connection\n"
	  "may do without HELLO, open (anything), writes (read only; writes need a key),\n"
	  "all (nothing but HELLO and PING) or auto (the default: writes once the node\n"
	  "has any key, open before); --miss: what a GET that misses here, or a PUT or\n"
	  "DEL from a writer, does for a key another member owns: forward it to the\n"
	  "owner (the default; a PUT's payload streamed through) or redirect the client\n"
	  "there (PUTs and DELs without a write key always are); --handoff: how long\n"
	  "after a ring change an owner that misses asks the previous owner (default\n"
	  "10m; a bare number is seconds; 0: never); --max-bytes and\n"
	  "--max-blocks cap the cache (0: no limit); below --fs-cull % free on the cache\n"
	  "filesystem the node evicts until --fs-run % is free, below --fs-stop % it\n"
	  "refuses PUTs (defaults 7, 10, 3; 0-99); --evict picks victims (default lru);\n"
	  "--scrub-rate is the scrub patrol's bytes per second (default 1M; 0: off).\n"
	  "What clients may hold: --max-conns connections (default 16384), of which\n"
	  "--max-conns-per-source from one IPv4 address or IPv6 /64 (default 256; 0: no\n"
	  "limit), more are reset; a connection's answers not yet sent may hold\n"
	  "--conn-queue bytes of memory (default 4M), all connections' --node-queue\n"
	  "(default 256M), and a connection's --conn-pin bytes of page cache (default\n"
	  "64M): at a bound the node reads no more requests from it until it is under\n"
	  "3/4 of the bound (64K-1T each; a ring member's connections get 4 times the\n"
	  "queue bounds); a client connection idle for --idle-timeout (default 10m; a\n"
	  "bare number is seconds; 0: never) is closed" },
	{ "limits", cmd_limits, "",
	  "show the cache limits, the bounds on clients, and what is in use" },
	{ "stats", cmd_stats, "[--prometheus | --interval SECONDS [--count N]]",
	  "show every counter, and per op the latency from parsed to last byte sent (p50,\n"
	  "p99, p999, each at most 25 % above the true value); --prometheus prints text\n"
	  "exposition for node_exporter (cachepeer_up 0 when the module is not loaded);\n"
	  "--interval (-i) prints a line every SECONDS of per-second rates over it, as\n"
	  "vmstat does (with -j, a JSON object of the interval's counts per line),\n"
	  "--count (-c) N lines, then ends" },
	{ "scrub", cmd_scrub, "[start]",
	  "show scrub progress, or start a full pass now (hot blocks too)" },
	{ "conns", cmd_conns, "",
	  "list connections: peer, in flight, bytes, age, TX CPU, bytes of memory and of\n"
	  "page cache held for answers, and whether the peer is a ring member; needs\n"
	  "CAP_NET_ADMIN" },
	{ "ring", cmd_ring,
	  "[show [--config] | add NAME ADDR:PORT [--weight W] | set NAME --weight W |\n"
	  "del NAME | load [--force] FILE | lookup KEY... | bench [--count N]]",
	  "show the ring (members, weights, share of keys, epoch), or edit it: weights are\n"
	  "0-1000, default 100 (160 points), 0 drains a member; load makes the ring equal\n"
	  "FILE ('-': standard input), in the format 'show --config' prints: members it\n"
	  "lacks are removed (an empty FILE needs --force). Changes reach every member,\n"
	  "and edits made at once on different nodes all survive. lookup prints KEY HASH OWNER ADDR per key (KEY '-':\n"
	  "keys from standard input); bench times --count lookups (default 1000000) in\n"
	  "the kernel and here" },
	{ "join", cmd_join, "--seed ADDR:PORT [--name NAME] [--weight W] [--key NAME:FILE]",
	  "add this node to the ring the seed belongs to (the seed may be this node, to\n"
	  "start a ring) and wait until the seed has the new ring; needs the cluster key\n"
	  "set on this node; --key (or CACHEPEER_KEY) is the key the seed is read with" },
	{ "leave", cmd_leave, "[--key NAME:FILE]",
	  "take this node out of the ring, its keys moving to the others, and wait until\n"
	  "another member has the new ring (read with --key, or CACHEPEER_KEY)" },
	{ "setconf", cmd_setconf, "FILE",
	  "make the node what config FILE ('-': standard input; see cachepeer.conf(5))\n"
	  "says: its settings, keys (keys the file lacks are deleted; a key whose\n"
	  "fingerprint and role the node has already is left alone) and, if the file has\n"
	  "Listen and Directory, start it, or restart it if it runs with others" },
	{ "syncconf", cmd_setconf, "FILE",
	  "as setconf, but change only what differs, never start, stop or restart the\n"
	  "node: a Listen, Directory, MaxBlock or FrameTimeout other than the running\n"
	  "node's is an error naming it" },
	{ "showconf", cmd_showconf, "",
	  "print the node's configuration as a config file: keys as fingerprints, the\n"
	  "ring's other members as seeds; 'showconf | setconf -' changes nothing" },
	{ "up", cmd_up, "NAME",
	  "bring up the node of /etc/cachepeer/NAME.conf (NAME with a '/': that file;\n"
	  "$CACHEPEER_CONFIG_DIR instead of /etc/cachepeer): enter its Namespace, load\n"
	  "the module if needed, apply the file as syncconf does, start the node, and\n"
	  "join the ring through the first seed that answers unless it is a member\n"
	  "already; repeating it changes nothing" },
	{ "down", cmd_down, "NAME",
	  "stop the node of NAME's config (it stays in the ring: 'leave' takes it out);\n"
	  "a stopped node, or no module: success" },
	{ "warmup", cmd_warmup,
	  "[--seed ADDR:PORT] [--jobs N] [--check] [--key NAME:FILE] (DIR | --list FILE)",
	  "PUT every file under DIR (key: its path under DIR), or each file named in FILE\n"
	  "(key: the line), to its owner on the ring read from the seed (default: this\n"
	  "node); --check GETs them back and compares" },
	{ "put", cmd_put, "KEY FILE [--peer ADDR:PORT] [--key NAME:FILE]",
	  "store FILE as block KEY on its owner, as this node's ring says (with no\n"
	  "ring: on this node); --peer stores it on that node, whatever its ring says;\n"
	  "with --key (or CACHEPEER_KEY=NAME:FILE in the environment), as for every\n"
	  "block command, HELLO with that key first" },
	{ "get", cmd_get,
	  "KEY [-o FILE] [--offset SIZE] [--length SIZE] [--peer ADDR:PORT] [--key NAME:FILE]",
	  "fetch block KEY (or a range of it) to FILE or standard output, CRC-checked" },
	{ "stat", cmd_stat, "KEY [--peer ADDR:PORT] [--key NAME:FILE]",
	  "show block KEY's size and CRC-32C" },
	{ "del", cmd_del, "KEY [--peer ADDR:PORT] [--key NAME:FILE]",
	  "delete block KEY on its owner (--peer: on that node)" },
	{ "key", cmd_key, "[list | add NAME --role read|write FILE | del NAME]",
	  "list the node's keys (name, role, fingerprint, connections using it; needs\n"
	  "CAP_NET_ADMIN), or add one whose secret is FILE's 16-64 bytes less a trailing\n"
	  "newline (read: GET, STAT, PING, RING_GET; write: also PUT and DEL), or delete\n"
	  "one, closing the connections that use it; the cluster keys are listed as\n"
	  "member.FINGERPRINT" },
	{ "genkey", cmd_genkey, "",
	  "print a new secret: 32 random bytes in base64 (cachepeerctl genkey > FILE;\n"
	  "chmod 600 FILE)" },
	{ "help", cmd_help, "[COMMAND]", "show help" },
};

static const struct subcommand *find_subcommand(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(subcommands); i++) {
		if (!strcmp(subcommands[i].name, name))
			return &subcommands[i];
	}
	return NULL;
}

static void vmessage(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(PROG_NAME, fmt, ap);
	va_end(ap);
	exit(EXIT_ERR);
}

void fail_with(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(PROG_NAME, fmt, ap);
	va_end(ap);
	exit(status);
}

/* The synopsis, its continuation lines indented under the command. */
static void print_synopsis(FILE *f, const char *indent, const char *text)
{
	for (; *text; text++) {
		fputc(*text, f);
		if (*text == '\n')
			fputs(indent, f);
	}
}

void print_usage(FILE *f, const struct subcommand *cmd)
{
	fprintf(f, "usage: " PROG_NAME " %s%s", cmd->name, cmd->args[0] ? " " : "");
	print_synopsis(f, "         ", cmd->args);
	fputc('\n', f);
}

void usage_error(const struct subcommand *cmd, const char *fmt, ...)
{
	char prefix[64];
	va_list ap;

	snprintf(prefix, sizeof(prefix), PROG_NAME " %s", cmd->name);
	va_start(ap, fmt);
	vmessage(prefix, fmt, ap);
	va_end(ap);
	print_usage(stderr, cmd);
	exit(EXIT_USAGE);
}

static void print_command_help(const struct subcommand *cmd)
{
	print_usage(stdout, cmd);
	fputs("  ", stdout);
	print_synopsis(stdout, "  ", cmd->summary);
	fputs("\n", stdout);
}

/* Where a bad value came from: --name, or what opt_context says (a config line). */
const char *opt_context;

static const char *opt_label(const struct opt *o)
{
	static char label[64];

	if (opt_context)
		return opt_context;
	snprintf(label, sizeof(label), "--%s", o->name);
	return label;
}

static __noreturn void bad_value(const struct subcommand *cmd, const struct opt *o,
				 const char *arg, const char *what, const char *hint)
{
	usage_error(cmd, "invalid %s '%s' for %s (%s)", what, arg, opt_label(o), hint);
}

/* A value of an option, checked by kind; exits on a bad one. */
void opt_value(const struct subcommand *cmd, const struct opt *o, const char *arg)
{
	unsigned long long v = 0, max = o->max ?: ~0ULL;
	struct sockaddr_storage ss;
	socklen_t len;
	int i;

	switch (o->kind) {
	case OPT_FLAG:
		*(bool *)o->out = true;
		return;
	case OPT_STRING:
		*(const char **)o->out = arg;
		return;
	case OPT_ADDR:
		if (cp_parse_peer(arg, &ss, &len))
			bad_value(cmd, o, arg, "address", "ADDR:PORT or [ADDR6]:PORT");
		*(const char **)o->out = arg;
		return;
	case OPT_CHOICE:
		for (i = 0; o->choices[i]; i++) {
			if (!strcmp(arg, o->choices[i])) {
				*(int *)o->out = i;
				return;
			}
		}
		fprintf(stderr, PROG_NAME " %s: invalid value '%s' for %s (", cmd->name, arg,
			opt_label(o));
		for (i = 0; o->choices[i]; i++)
			fprintf(stderr, "%s%s", i ? ", " : "", o->choices[i]);
		fprintf(stderr, ")\n");
		print_usage(stderr, cmd);
		exit(EXIT_USAGE);
	case OPT_SIZE:
		if (parse_size(arg, &v))
			bad_value(cmd, o, arg, "size", "bytes, or with K, M, G, T");
		break;
	case OPT_COUNT:
		if (parse_count(arg, &v))
			bad_value(cmd, o, arg, "number", "decimal digits");
		break;
	case OPT_MS:
	case OPT_SECONDS:
		if (parse_duration(arg, o->kind == OPT_MS ? 1 : 1000, &v))
			bad_value(cmd, o, arg, "duration", o->kind == OPT_MS ?
				  "e.g. 500ms, 30s, 10m; a bare number is milliseconds" :
				  "e.g. 30s, 10m, 1h; a bare number is seconds");
		if (o->kind == OPT_SECONDS) {
			if (v % 1000)
				bad_value(cmd, o, arg, "duration", "whole seconds");
			v /= 1000;
		}
		break;
	}
	if (v < o->min || v > max) {
		const char *unit = o->kind == OPT_MS ? "ms" : o->kind == OPT_SECONDS ? "s" : "";

		usage_error(cmd, "%s must be %llu%s to %llu%s, not '%s'", opt_label(o), o->min,
			    unit, max, unit, arg);
	}
	*(unsigned long long *)o->out = v;
}

/*
 * Parse a command's options (and the common ones) wherever they are on the
 * line; *operands gets the rest, in order. Returns how many operands.
 */
int parse_cmdline(const struct subcommand *cmd, int argc, char **argv, const struct opt *opts,
		  char ***operands)
{
	struct option lopts[32];
	char shorts[64] = ":jh";
	size_t n = 0, ns = 3, i;
	int c, idx;

	for (i = 0; opts && opts[i].name; i++) {
		if (n == ARRAY_SIZE(lopts) - 3 || ns >= sizeof(shorts) - 3)
			abort();
		lopts[n++] = (struct option) {
			.name = opts[i].name,
			.has_arg = opts[i].kind == OPT_FLAG ? no_argument : required_argument,
			.val = 256 + (int)i,
		};
		if (opts[i].short_name) {
			shorts[ns++] = opts[i].short_name;
			if (opts[i].kind != OPT_FLAG)
				shorts[ns++] = ':';
		}
	}
	lopts[n++] = (struct option) { .name = "json", .val = 'j' };
	lopts[n++] = (struct option) { .name = "help", .val = 'h' };
	lopts[n] = (struct option) { 0 };

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shorts, lopts, &idx)) != -1) {
		const struct opt *o = NULL;

		switch (c) {
		case 'j':
			opt_json = true;
			continue;
		case 'h':
			print_command_help(cmd);
			exit(EXIT_OK);
		case ':':
			usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
		case '?':
			if (optopt)
				usage_error(cmd, "unknown option '-%c'", optopt);
			usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		}
		if (c >= 256) {
			o = &opts[c - 256];
		} else {
			for (i = 0; opts[i].name && opts[i].short_name != c; i++)
				;
			o = &opts[i];
		}
		if (o->given)
			*o->given = true;
		opt_value(cmd, o, optarg);
	}
	*operands = argv + optind;
	return argc - optind;
}

static void print_help(FILE *f)
{
	size_t i;

	fprintf(f,
		"usage: " PROG_NAME " [-j] [COMMAND [OPERANDS] [OPTIONS]]\n"
		"\n"
		"Control the cachepeer node of the current network namespace (run it under\n"
		"'ip netns exec' for another). With no command, show its status.\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < ARRAY_SIZE(subcommands); i++) {
		fprintf(f, "  %s%s", subcommands[i].name, subcommands[i].args[0] ? " " : "");
		print_synopsis(f, "      ", subcommands[i].args);
		fputs("\n      ", f);
		print_synopsis(f, "      ", subcommands[i].summary);
		fputc('\n', f);
	}
	fprintf(f,
		"\n"
		"Style: operands name what a command acts on (a block KEY, a FILE, a member\n"
		"NAME, an ADDR:PORT); every setting is a --long option, before or after the\n"
		"operands ('--option VALUE' or '--option=VALUE'); '--' ends the options, for\n"
		"keys that start with '-'. These options mean the same for every command:\n"
		"  -j, --json         print machine-readable JSON (one schema: status and\n"
		"                     stats print the same object)\n"
		"  -h, --help         show the command's usage\n"
		"  --peer ADDR:PORT   the node to talk to over the network (block commands;\n"
		"                     default: the key's owner on this node's ring, or this\n"
		"                     node without a ring); a PUT or DEL is done there\n"
		"  --seed ADDR:PORT   any member, to read the ring from (join, warmup)\n"
		"  --key NAME:FILE    HELLO with this key (block commands, join, warmup);\n"
		"                     default: $CACHEPEER_KEY, else none\n"
		"  --version          show the tool's version (before any command)\n"
		"\n"
		"Values: SIZE is bytes, or with K, M, G, T (powers of 1024); COUNT, PCT and W\n"
		"are plain decimal numbers; DURATION is 500ms, 30s, 10m, 1h or 1d, and a bare\n"
		"number is in the unit the command's help states.\n"
		"\n"
		"Exit status: 0 success, 1 error, 2 bad command line, 3 block not found,\n"
		"4 cannot reach a node, 5 CRC mismatch or block found corrupt, 6 the\n"
		"cachepeer module is not loaded, 7 the node refused the key or the request.\n"
		"start, stop, set, setconf, syncconf, showconf, up, down, scrub start, ring\n"
		"edits, key, conns, join and leave need CAP_NET_ADMIN over the network\n"
		"namespace. up and down read /etc/cachepeer/NAME.conf (cachepeer.conf(5));\n"
		"CACHEPEER_CONFIG_DIR replaces /etc/cachepeer.\n");
}

static int cmd_help(const struct subcommand *cmd, int argc, char **argv)
{
	const struct subcommand *c;
	char **args;
	int n;

	n = parse_cmdline(cmd, argc, argv, NULL, &args);
	if (!n) {
		print_help(stdout);
		return EXIT_OK;
	}
	c = find_subcommand(args[0]);
	if (!c || n > 1)
		usage_error(cmd, "unknown command '%s'", args[0]);
	print_command_help(c);
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
		fprintf(stderr, PROG_NAME ": unknown option '%s' (try '" PROG_NAME " help')\n",
			argv[0]);
		return EXIT_USAGE;
	}
	/* No command: status, with the last word before it as its argv[0], not parsed. */
	if (!argc)
		return cmd_status(find_subcommand("status"), 1, argv - 1);
	cmd = find_subcommand(argv[0]);
	if (!cmd) {
		fprintf(stderr, PROG_NAME ": unknown command '%s' (try '" PROG_NAME " help')\n",
			argv[0]);
		return EXIT_USAGE;
	}
	return cmd->fn(cmd, argc, argv);
}
