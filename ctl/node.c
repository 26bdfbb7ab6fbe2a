// SPDX-License-Identifier: GPL-2.0
/* Node commands: status, start, stop, set, limits; and the node's JSON schema. */

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client.h"
#include "ctl.h"
#include "node.h"

const char * const miss_names[] = { "forward", "redirect", NULL };
const char * const evict_names[] = { "lru", "2-random", "none", NULL };
const char * const access_names[] = { "auto", "open", "writes", "all", NULL };

static const char *access_name(__u8 access)
{
	return access <= CACHEPEER_ACCESS_MAX ? access_names[access] : "?";
}

struct cp_nl *open_nl(void)
{
	struct cp_nl *nl;
	int ret;

	ret = cp_nl_open(&nl);
	if (ret)
		fail_with(ret == -ENOENT ? EXIT_NO_MODULE : EXIT_ERR, "%s",
			  cp_nl_strerror(NULL, ret));
	return nl;
}

/* A request of an open family failed: one line, the kernel's reason included. */
void nl_fail(struct cp_nl *nl, const char *what, int err)
{
	fail("%s: %s", what, cp_nl_strerror(nl, err));
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

static const char *evict_name(unsigned int v)
{
	return v < ARRAY_SIZE(evict_names) - 1 ? evict_names[v] : "unknown";
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
		nl_fail(nl, "status", ret);
	cp_nl_close(nl);
	return info;
}

static void limits_json(FILE *f, const struct cp_limits *l)
{
	fputc('{', f);
	json_u64(f, "max_bytes", l->max_bytes, ",");
	json_u64(f, "max_blocks", l->max_blocks, ",");
	json_u64(f, "fs_stop", l->fs_stop, ",");
	json_u64(f, "fs_cull", l->fs_cull, ",");
	json_u64(f, "fs_run", l->fs_run, ",");
	fprintf(f, "\"evict\":\"%s\",", evict_name(l->evict));
	json_u64(f, "scrub_rate", l->scrub_rate, ",");
	json_u64(f, "max_conns", l->max_conns, ",");
	json_u64(f, "max_conns_per_source", l->max_conns_source, ",");
	json_u64(f, "conn_queue", l->conn_queue, ",");
	json_u64(f, "node_queue", l->node_queue, ",");
	json_u64(f, "conn_pin", l->conn_pin, ",");
	json_u64(f, "idle_timeout_s", l->idle_timeout_s, "}");
}

/*
 * The node as one JSON object: what status -j and stats -j both print.
 * "stats" (see counters.c) only while the node runs.
 */
void node_json(FILE *f, const struct cp_node_info *info)
{
	fprintf(f, "{\"name\":");
	json_string(f, info->name);
	fprintf(f, ",\"state\":\"%s\",\"version\":", state_name(info->state));
	json_string(f, info->version);
	fprintf(f, ",\"access\":\"%s\",\"access_set\":\"%s\"", access_name(info->access_now),
		access_name(info->access));
	if (info->state == CACHEPEER_NODE_RUNNING) {
		fprintf(f, ",\"listen\":");
		json_string(f, info->listen);
		/* Not told to callers without CAP_NET_ADMIN. */
		if (info->dir[0]) {
			fprintf(f, ",\"dir\":");
			json_string(f, info->dir);
		}
		fprintf(f, ",");
		json_u64(f, "max_block", info->max_block, ",");
		json_u64(f, "frame_timeout_ms", info->frame_timeout_ms, ",");
		json_u64(f, "epoch", info->epoch, "");
	}
	fprintf(f, ",\"limits\":");
	limits_json(f, &info->limits);
	if (info->state == CACHEPEER_NODE_RUNNING) {
		fprintf(f, ",\"stats\":");
		counters_json(f, &info->stats);
	}
	fprintf(f, "}\n");
}

static void print_pretty(const struct cp_node_info *info)
{
	const struct cp_node_stats *st = &info->stats;
	char b1[32], b2[32];

	printf("node: %s\n", info->name[0] ? info->name : "(unnamed)");
	printf("  state: %s\n", state_name(info->state));
	printf("  module version: %s\n", info->version);
	printf("  access: %s%s\n", access_name(info->access_now),
	       info->access == CACHEPEER_ACCESS_AUTO ? " (auto: writes once there is a key)" : "");
	if (info->state != CACHEPEER_NODE_RUNNING)
		return;
	printf("  listening on: %s\n", info->listen);
	printf("  cache directory: %s\n", info->dir[0] ? info->dir : "(needs CAP_NET_ADMIN)");
	printf("  max block: %s\n", fmt_size(info->max_block, b1, sizeof(b1)));
	printf("  frame timeout: %u ms\n", info->frame_timeout_ms);
	printf("  ring epoch: %llu\n", (unsigned long long)info->epoch);
	printf("  blocks: %llu (%s)\n", (unsigned long long)counter_get(st, "blocks"),
	       fmt_size(counter_get(st, "bytes"), b1, sizeof(b1)));
	printf("  connections: %llu open, %llu refused, %llu timed out\n",
	       (unsigned long long)counter_get(st, "conns"),
	       (unsigned long long)counter_get(st, "conns_refused"),
	       (unsigned long long)counter_get(st, "timeouts"));
	printf("  served: %s zero-copy, %s copied\n",
	       fmt_size(counter_get(st, "zc_bytes"), b1, sizeof(b1)),
	       fmt_size(counter_get(st, "copied_bytes"), b2, sizeof(b2)));
	printf("  requests: get %llu, put %llu, stat %llu, del %llu, ping %llu\n",
	       (unsigned long long)st->ops[CACHEPEER_OP_GET],
	       (unsigned long long)st->ops[CACHEPEER_OP_PUT],
	       (unsigned long long)st->ops[CACHEPEER_OP_STAT],
	       (unsigned long long)st->ops[CACHEPEER_OP_DEL],
	       (unsigned long long)st->ops[CACHEPEER_OP_PING]);
	printf("  corrupt blocks dropped: %llu\n", (unsigned long long)counter_get(st, "corrupt"));
	printf("  (cachepeerctl stats shows every counter)\n");
}

/* A command that takes no operands and no options of its own. */
void no_operands(const struct subcommand *cmd, int argc, char **argv)
{
	char **args;

	if (parse_cmdline(cmd, argc, argv, NULL, &args))
		usage_error(cmd, "unexpected argument '%s'", args[0]);
}

int cmd_status(const struct subcommand *cmd, int argc, char **argv)
{
	struct cp_node_info *info;

	no_operands(cmd, argc, argv);
	info = cp_node_query();
	if (opt_json)
		node_json(stdout, info);
	else
		print_pretty(info);
	free(info);
	return EXIT_OK;
}

/* A node anyone on the network may write to is worth a word. */
static void warn_open(const struct sockaddr_storage *ss, const char *listen)
{
	const struct sockaddr_in6 *sin6 = (const void *)ss;
	const struct sockaddr_in *sin = (const void *)ss;
	struct cp_node_info *info;

	if (ss->ss_family == AF_INET ? (ntohl(sin->sin_addr.s_addr) >> 24) == 127 :
	    IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
		return;
	info = cp_node_query();
	if (info->access_now == CACHEPEER_ACCESS_OPEN)
		fprintf(stderr, "%s: warning: access is open: anyone reaching %s may PUT and DEL\n",
			PROG_NAME, listen);
	free(info);
}

/*
 * The same directory: by identity, since a node started from module
 * parameters holds cache_dir= as it was given (a trailing slash, a symlink).
 */
static bool same_dir(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) || stat(b, &sb))
		return !strcmp(a, b);
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*
 * The first of start's options (max block and frame timeout only where
 * given) in which the running node differs from cfg, or NULL; the two
 * values go to now and asked (len bytes each).
 */
const char *start_diff(const struct cp_start_cfg *cfg, const struct cp_node_info *info,
		       char *now, char *asked, size_t len)
{
	cp_fmt_sockaddr((const struct sockaddr *)&cfg->listen, asked, len);
	if (strcmp(info->listen, asked)) {
		snprintf(now, len, "%s", info->listen);
		return "listen";
	}
	if (!same_dir(info->dir, cfg->dir)) {
		snprintf(now, len, "%s", info->dir);
		snprintf(asked, len, "%s", cfg->dir);
		return "dir";
	}
	if (cfg->max_block && info->max_block != cfg->max_block) {
		snprintf(now, len, "%llu", (unsigned long long)info->max_block);
		snprintf(asked, len, "%llu", (unsigned long long)cfg->max_block);
		return "max-block";
	}
	if (cfg->frame_timeout_ms && info->frame_timeout_ms != cfg->frame_timeout_ms) {
		snprintf(now, len, "%ums", info->frame_timeout_ms);
		snprintf(asked, len, "%ums", cfg->frame_timeout_ms);
		return "frame-timeout";
	}
	return NULL;
}

/*
 * start on a running node: done already if it runs with what was asked,
 * so that boot scripts and "up" may repeat it; else the first setting that
 * differs is named. False: the node is not running after all (it stopped
 * meanwhile).
 */
static bool start_again(const struct subcommand *cmd, const struct cp_start_cfg *cfg)
{
	struct cp_node_info *info = cp_node_query();
	char now[sizeof(info->dir)], asked[sizeof(info->dir)];
	const char *opt;

	if (info->state != CACHEPEER_NODE_RUNNING) {
		free(info);
		return false;
	}
	opt = start_diff(cfg, info, now, asked, sizeof(now));
	if (opt)
		fail("%s: the node is running with --%s %s, not %s (stop it first)", cmd->name,
		     opt, now, asked);
	free(info);
	return true;
}

/* c's start options as the kernel takes them; dir is c->dir resolved. */
void node_start_cfg(const struct subcommand *cmd, const struct node_conf *c,
		    struct cp_start_cfg *cfg, char dir[PATH_MAX])
{
	socklen_t len;

	memset(cfg, 0, sizeof(*cfg));
	if (!c->listen || !c->dir)
		usage_error(cmd, "--listen and --dir are required");
	cp_parse_peer(c->listen, &cfg->listen, &len);
	if (!realpath(c->dir, dir))
		fail("%s: cache directory '%s': %s", cmd->name, c->dir, strerror(errno));
	cfg->dir = dir;
	cfg->max_block = c->max_block;
	cfg->frame_timeout_ms = c->frame_timeout_ms;
}

/* Start the node as cfg says, or find it running so; exits on failure. */
void node_start(const struct subcommand *cmd, struct cp_nl *nl, const struct cp_start_cfg *cfg,
		const char *listen)
{
	int ret = cp_nl_node_start(nl, cfg);

	/* Running: done, or a setting differs; stopped meanwhile: once more. */
	if (ret == -EALREADY && start_again(cmd, cfg))
		return;
	if (ret == -EALREADY)
		ret = cp_nl_node_start(nl, cfg);
	if (ret)
		nl_fail(nl, cmd->name, ret);
	warn_open(&cfg->listen, listen);
}

int cmd_start(const struct subcommand *cmd, int argc, char **argv)
{
	struct opt set_opts[SET_OPTS], opts[START_OPTS];
	struct node_conf c = { 0 };
	struct cp_start_cfg cfg;
	char dir[PATH_MAX];
	struct cp_nl *nl;
	char **args;

	node_opts(&c, set_opts, opts);
	if (parse_cmdline(cmd, argc, argv, opts, &args))
		usage_error(cmd, "unexpected argument '%s'", args[0]);
	node_start_cfg(cmd, &c, &cfg, dir);
	nl = open_nl();
	node_start(cmd, nl, &cfg, c.listen);
	cp_nl_close(nl);
	return EXIT_OK;
}

int cmd_stop(const struct subcommand *cmd, int argc, char **argv)
{
	struct cp_nl *nl;
	int ret;

	no_operands(cmd, argc, argv);
	nl = open_nl();
	ret = cp_nl_node_stop(nl);
	/* Stopped already: what was asked. */
	if (ret && ret != -EALREADY)
		nl_fail(nl, "stop", ret);
	cp_nl_close(nl);
	return EXIT_OK;
}

static void cluster_key_arg(const struct subcommand *cmd, const char *path, unsigned char *key,
			    size_t *len)
{
	int ret = read_key_file(path, key, len);

	if (ret == -EINVAL)
		usage_error(cmd, "key file '%s' must hold %d-%d bytes", path,
			    CACHEPEER_CLUSTER_KEY_MIN, CACHEPEER_CLUSTER_KEY_MAX);
	if (ret)
		fail("%s: key file '%s': %s", cmd->name, path, strerror(-ret));
}

/*
 * The options of set and start, bound to c: one table for the command line
 * and the config file alike (conf.c), so a value reads and is checked the
 * same wherever it is given. Fills set_opts[SET_OPTS] and
 * start_opts[START_OPTS], each ending in an empty entry.
 */
void node_opts(struct node_conf *c, struct opt *set_opts, struct opt *start_opts)
{
	struct cp_settings *set = &c->set;
	bool *g = set->given;
	const struct opt so[SET_OPTS] = {
		OPT("name", OPT_STRING, &set->name, .given = &g[CP_SET_NAME]),
		OPT("cluster-key", OPT_STRING, &c->key_file, .given = &g[CP_SET_KEY]),
		OPT("next-cluster-key", OPT_STRING, &c->next_file, .given = &g[CP_SET_NEXT_KEY]),
		OPT("access", OPT_CHOICE, &set->access, .given = &g[CP_SET_ACCESS],
		    .choices = access_names),
		OPT("miss", OPT_CHOICE, &set->miss, .given = &g[CP_SET_MISS],
		    .choices = miss_names),
		OPT("handoff", OPT_SECONDS, &set->handoff_s, .given = &g[CP_SET_HANDOFF],
		    .max = 7 * 24 * 3600),
		OPT("max-bytes", OPT_SIZE, &set->max_bytes, .given = &g[CP_SET_MAX_BYTES]),
		OPT("max-blocks", OPT_COUNT, &set->max_blocks, .given = &g[CP_SET_MAX_BLOCKS]),
		OPT("fs-stop", OPT_COUNT, &set->fs_stop, .given = &g[CP_SET_FS_STOP], .max = 99),
		OPT("fs-cull", OPT_COUNT, &set->fs_cull, .given = &g[CP_SET_FS_CULL], .max = 99),
		OPT("fs-run", OPT_COUNT, &set->fs_run, .given = &g[CP_SET_FS_RUN], .max = 99),
		OPT("evict", OPT_CHOICE, &set->evict, .given = &g[CP_SET_EVICT],
		    .choices = evict_names),
		OPT("scrub-rate", OPT_SIZE, &set->scrub_rate, .given = &g[CP_SET_SCRUB_RATE]),
		OPT("max-conns", OPT_COUNT, &set->max_conns, .given = &g[CP_SET_MAX_CONNS],
		    .min = 1, .max = CACHEPEER_MAX_CONNS_LIMIT),
		OPT("max-conns-per-source", OPT_COUNT, &set->max_conns_source,
		    .given = &g[CP_SET_MAX_CONNS_SOURCE], .max = CACHEPEER_MAX_CONNS_LIMIT),
		OPT("conn-queue", OPT_SIZE, &set->conn_queue, .given = &g[CP_SET_CONN_QUEUE],
		    .min = CACHEPEER_QUEUE_MIN, .max = CACHEPEER_QUEUE_LIMIT),
		OPT("node-queue", OPT_SIZE, &set->node_queue, .given = &g[CP_SET_NODE_QUEUE],
		    .min = CACHEPEER_QUEUE_MIN, .max = CACHEPEER_QUEUE_LIMIT),
		OPT("conn-pin", OPT_SIZE, &set->conn_pin, .given = &g[CP_SET_CONN_PIN],
		    .min = CACHEPEER_QUEUE_MIN, .max = CACHEPEER_QUEUE_LIMIT),
		OPT("idle-timeout", OPT_SECONDS, &set->idle_timeout_s,
		    .given = &g[CP_SET_IDLE_TIMEOUT], .max = 7 * 24 * 3600),
		{ 0 }
	};
	const struct opt st[START_OPTS] = {
		OPT("listen", OPT_ADDR, &c->listen),
		OPT("dir", OPT_STRING, &c->dir),
		OPT("max-block", OPT_SIZE, &c->max_block, .min = 1,
		    .max = CACHEPEER_MAX_BLOCK_LIMIT),
		OPT("frame-timeout", OPT_MS, &c->frame_timeout_ms, .min = 100, .max = 3600000),
		{ 0 }
	};

	memcpy(set_opts, so, sizeof(so));
	memcpy(start_opts, st, sizeof(st));
}

/*
 * Send c's settings marked given, the cluster keys read from their files
 * first (nl NULL: opened after that, so a bad file is told as such even
 * without the module); exits on failure.
 */
void node_set(const struct subcommand *cmd, struct cp_nl *nl, struct node_conf *c)
{
	unsigned char key[CACHEPEER_CLUSTER_KEY_MAX], next_key[CACHEPEER_CLUSTER_KEY_MAX];
	struct cp_nl *own = NULL;
	int ret;

	if (c->set.given[CP_SET_KEY]) {
		cluster_key_arg(cmd, c->key_file, key, &c->set.key_len);
		c->set.key = key;
	}
	if (c->set.given[CP_SET_NEXT_KEY]) {
		cluster_key_arg(cmd, c->next_file, next_key, &c->set.next_key_len);
		c->set.next_key = next_key;
	}
	if (!nl) {
		own = open_nl();
		nl = own;
	}
	ret = cp_nl_node_set(nl, &c->set);
	explicit_bzero(key, sizeof(key));
	explicit_bzero(next_key, sizeof(next_key));
	if (ret)
		nl_fail(nl, cmd->name, ret);
	if (own)
		cp_nl_close(own);
	/* The secrets stay here. */
	c->set.key = NULL;
	c->set.next_key = NULL;
}

int cmd_set(const struct subcommand *cmd, int argc, char **argv)
{
	struct opt opts[SET_OPTS], start_opts[START_OPTS];
	struct node_conf c = { 0 };
	char **args;
	size_t i;

	node_opts(&c, opts, start_opts);
	if (parse_cmdline(cmd, argc, argv, opts, &args))
		usage_error(cmd, "unexpected argument '%s'", args[0]);
	for (i = 0; i < CP_SET_COUNT && !c.set.given[i]; i++)
		;
	if (i == CP_SET_COUNT)
		usage_error(cmd, "nothing to set");
	node_set(cmd, NULL, &c);
	return EXIT_OK;
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

int cmd_limits(const struct subcommand *cmd, int argc, char **argv)
{
	struct cp_node_info *info;
	const struct cp_limits *l;
	char b1[32];

	no_operands(cmd, argc, argv);
	info = cp_node_query();
	l = &info->limits;
	if (opt_json) {
		limits_json(stdout, l);
		putchar('\n');
		free(info);
		return EXIT_OK;
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
		printf("  in use: %llu blocks, %s\n",
		       (unsigned long long)counter_get(&info->stats, "blocks"),
		       fmt_size(counter_get(&info->stats, "bytes"), b1, sizeof(b1)));
	printf("clients:\n");
	printf("  connections: %u per node, ", l->max_conns);
	if (l->max_conns_source)
		printf("%u per source address\n", l->max_conns_source);
	else
		printf("no limit per source address\n");
	printf("  queued answers: %s per connection, ", fmt_size(l->conn_queue, b1, sizeof(b1)));
	printf("%s per node\n", fmt_size(l->node_queue, b1, sizeof(b1)));
	printf("  page cache they hold: %s per connection\n",
	       fmt_size(l->conn_pin, b1, sizeof(b1)));
	if (l->idle_timeout_s)
		printf("  idle timeout: %us\n", l->idle_timeout_s);
	else
		printf("  idle timeout: never\n");
	if (info->state == CACHEPEER_NODE_RUNNING)
		printf("  in use: %llu connections, %s queued\n",
		       (unsigned long long)counter_get(&info->stats, "conns"),
		       fmt_size(counter_get(&info->stats, "queued_bytes"), b1, sizeof(b1)));
	free(info);
	return EXIT_OK;
}

/* The local node's listen address, with a wildcard turned into loopback. */
const char *local_peer(void)
{
	static char peer[80];
	struct cp_node_info *info = cp_node_query();

	if (info->state != CACHEPEER_NODE_RUNNING)
		fail_with(EXIT_CONN, "the local node is not running; give --peer ADDR:PORT");
	if (!strncmp(info->listen, "0.0.0.0:", 8))
		snprintf(peer, sizeof(peer), "127.0.0.1:%s", info->listen + 8);
	else if (!strncmp(info->listen, "[::]:", 5))
		snprintf(peer, sizeof(peer), "[::1]:%s", info->listen + 5);
	else
		snprintf(peer, sizeof(peer), "%s", info->listen);
	free(info);
	return peer;
}
