// SPDX-License-Identifier: GPL-2.0
/* Ring subcommands: ring (show, edit, set, lookup), join, leave. */

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "ctl.h"
#include "nl.h"
#include "ring.h"

/* How long join and leave wait to see their change on another member. */
#define CONVERGE_MS	5000

static const char * const miss_names[] = {
	[CACHEPEER_MISS_FORWARD] = "forward",
	[CACHEPEER_MISS_REDIRECT] = "redirect",
};

static void ring_get_local(struct cp_nl *nl, struct cp_ring_info *ri)
{
	int ret = cp_nl_ring_get(nl, ri);

	if (ret)
		fail("ring: %s", cp_nl_strerror(nl, ret));
	if (cp_ring_build(&ri->ring))
		fail("out of memory");
}

static void print_ring(const struct cp_ring_info *ri, bool config)
{
	const struct cp_ring *r = &ri->ring;
	double *share = calloc(r->n ? r->n : 1, sizeof(*share));
	unsigned int i;

	if (!share)
		fail("out of memory");
	cp_ring_shares(r, share);
	if (config) {
		printf("# cachepeer ring: member NAME ADDR:PORT [weight W]\n");
		for (i = 0; i < r->n; i++)
			printf("member %s %s weight %u\n", r->m[i].name, r->m[i].addr,
			       r->m[i].weight);
	} else if (opt_json) {
		printf("{");
		json_u64("epoch", r->epoch, ",");
		printf("\"miss\":\"%s\",\"key_set\":%s,", miss_names[ri->miss & 1],
		       ri->key_set ? "true" : "false");
		json_u64("handoff_s", ri->handoff_s, ",");
		json_u64("mem", ri->mem, ",");
		json_u64("build_ns", ri->build_ns, ",");
		json_u64("points", r->npoints, ",");
		printf("\"members\":[");
		for (i = 0; i < r->n; i++) {
			printf("%s{\"name\":", i ? "," : "");
			json_string(stdout, r->m[i].name);
			printf(",\"addr\":");
			json_string(stdout, r->m[i].addr);
			printf(",\"weight\":%u,\"points\":%u,\"share\":%.6f}", r->m[i].weight,
			       r->m[i].points, share[i]);
		}
		printf("]}\n");
	} else {
		char b[32];

		printf("ring epoch %llu: %u members, %u points, %s, built in %.3f ms\n",
		       (unsigned long long)r->epoch, r->n, r->npoints,
		       fmt_size(ri->mem, b, sizeof(b)), ri->build_ns / 1e6);
		printf("misses: %s; hand-off window: %u s; cluster key: %s\n",
		       miss_names[ri->miss & 1], ri->handoff_s, ri->key_set ? "set" : "NOT SET");
		if (r->n)
			printf("  %-24s %-28s %6s %6s %7s\n", "NAME", "ADDRESS", "WEIGHT", "POINTS",
			       "SHARE");
		for (i = 0; i < r->n; i++)
			printf("  %-24s %-28s %6u %6u %6.2f%%\n", r->m[i].name, r->m[i].addr,
			       r->m[i].weight, r->m[i].points, share[i] * 100);
	}
	free(share);
}

static unsigned int parse_weight(const struct subcommand *cmd, const char *s)
{
	char *end;
	long w = strtol(s, &end, 10);

	if (!*s || *end || w < 0 || w > CACHEPEER_WEIGHT_MAX)
		usage_error(cmd, "weight '%s' must be 0-%d", s, CACHEPEER_WEIGHT_MAX);
	return w;
}

/* NAME ADDR:PORT [weight W], from words; 0 or a reason. */
static const char *parse_member(char **w, int n, struct cp_ring_member *m)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char *end;
	long wt = CACHEPEER_WEIGHT_DEFAULT;

	if (n != 2 && n != 4)
		return "expected NAME ADDR:PORT [weight W]";
	if (strlen(w[0]) > CACHEPEER_NAME_MAX)
		return "member name is longer than 63 bytes";
	if (cp_parse_peer(w[1], &ss, &len))
		return "member address must be ADDR:PORT or [ADDR6]:PORT";
	if (n == 4) {
		wt = strtol(w[3], &end, 10);
		if (strcmp(w[2], "weight") || !*w[3] || *end)
			return "expected 'weight W'";
		if (wt < 0 || wt > CACHEPEER_WEIGHT_MAX)
			return "weight must be 0-1000";
	}
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", w[0]);
	snprintf(m->addr, sizeof(m->addr), "%s", w[1]);
	m->weight = wt;
	return NULL;
}

/* A ring file: "member NAME ADDR:PORT [weight W]" lines, '#' comments. */
static unsigned int read_ring_file(const struct subcommand *cmd, const char *path,
				   struct cp_ring_member *m)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	unsigned int n = 0, line = 0;
	char buf[512];

	if (!f)
		fail("ring set: '%s': %s", path, strerror(errno));
	while (fgets(buf, sizeof(buf), f)) {
		char *w[8], *save = NULL, *t;
		const char *why;
		int nw = 0;

		line++;
		for (t = strtok_r(buf, " \t\r\n", &save); t && nw < 8;
		     t = strtok_r(NULL, " \t\r\n", &save))
			w[nw++] = t;
		if (!nw || w[0][0] == '#')
			continue;
		if (strcmp(w[0], "member"))
			fail("ring set: %s:%u: expected 'member NAME ADDR:PORT [weight W]'", path,
			     line);
		if (n == CACHEPEER_RING_MEMBERS_MAX)
			fail("ring set: %s:%u: more than %d members", path, line,
			     CACHEPEER_RING_MEMBERS_MAX);
		why = parse_member(w + 1, nw - 1, &m[n]);
		if (why)
			fail("ring set: %s:%u: %s", path, line, why);
		n++;
	}
	if (f != stdin)
		fclose(f);
	(void)cmd;
	return n;
}

/* One line per key: KEY HASH OWNER ADDR ("-" for no owner), or a JSON object. */
static void ring_lookup(struct cp_nl *nl, const char *key)
{
	struct cp_ring_member owner;
	__u64 hash;
	int ret = cp_nl_ring_lookup(nl, key, strlen(key), &hash, &owner);

	if (ret && ret != -ENOENT)
		fail("ring lookup: %s", cp_nl_strerror(nl, ret));
	if (opt_json) {
		printf("{\"key\":");
		json_string(stdout, key);
		printf(",\"hash\":\"%016llx\",\"owner\":", (unsigned long long)hash);
		if (ret) {
			printf("null}\n");
			return;
		}
		json_string(stdout, owner.name);
		printf(",\"addr\":");
		json_string(stdout, owner.addr);
		printf("}\n");
	} else {
		printf("%s %016llx %s %s\n", key, (unsigned long long)hash, ret ? "-" : owner.name,
		       ret ? "-" : owner.addr);
	}
}

static void ring_lookup_arg(const struct subcommand *cmd, struct cp_nl *nl, const char *key)
{
	char buf[CACHEPEER_KEY_MAX + 2];

	if (strcmp(key, "-")) {
		if (!key[0] || strlen(key) > CACHEPEER_KEY_MAX)
			usage_error(cmd, "key '%s' must be 1-%d bytes", key, CACHEPEER_KEY_MAX);
		ring_lookup(nl, key);
		return;
	}
	while (fgets(buf, sizeof(buf), stdin)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (buf[0])
			ring_lookup(nl, buf);
	}
}

/* The same lookups in the kernel (RING_LOOKUP with a count) and here. */
static void ring_bench(struct cp_nl *nl, unsigned long count)
{
	struct cp_ring_member owner;
	struct cp_ring_info ri;
	__u64 hash, kns;
	double t, build, client;
	unsigned long i;
	int ret;

	ret = cp_nl_ring_time(nl, "bench", 5, count, &hash, &owner, &kns);
	if (ret)
		fail("ring bench: %s", cp_nl_strerror(nl, ret));
	if (cp_nl_ring_get(nl, &ri))
		fail("ring bench: cannot read the ring");
	if (!ri.ring.n)
		fail("ring bench: the ring is empty");
	t = now_s();
	if (cp_ring_build(&ri.ring))
		fail("out of memory");
	build = now_s() - t;
	t = now_s();
	for (i = 0; i < count; i++, hash += 0x9e3779b97f4a7c15ULL)
		cp_ring_owner(&ri.ring, hash);	/* out of line: not optimised away */
	client = now_s() - t;
	if (opt_json) {
		printf("{");
		json_u64("members", ri.ring.n, ",");
		json_u64("points", ri.ring.npoints, ",");
		json_u64("mem", ri.mem, ",");
		json_u64("build_ns", ri.build_ns, ",");
		json_u64("client_build_ns", build * 1e9, ",");
		json_u64("lookups", count, ",");
		json_u64("kernel_ns", kns, ",");
		json_u64("client_ns", client * 1e9, "}\n");
	} else {
		printf("ring: %u members, %u points, %llu bytes in the kernel\n", ri.ring.n,
		       ri.ring.npoints, (unsigned long long)ri.mem);
		printf("build: kernel %.3f ms, client %.3f ms\n", ri.build_ns / 1e6, build * 1e3);
		printf("lookups: kernel %.0f/s (%.0f ns), client %.0f/s (%.0f ns), %lu each\n",
		       count / (kns / 1e9), (double)kns / count, count / client,
		       client * 1e9 / count, count);
	}
	cp_ring_free(&ri.ring);
}

int cmd_ring(int argc, char **argv)
{
	const struct subcommand *cmd = find_subcommand("ring");
	struct cp_ring_member m = { 0 };
	struct cp_ring_info ri;
	const char *verb, *why;
	struct cp_nl *nl;
	bool config = false;
	int i, ret = 0, nargs;

	i = parse_opts(cmd, argc, argv, true);
	verb = i < argc ? argv[i++] : "show";
	nargs = argc - i;
	nl = open_nl();
	if (!strcmp(verb, "show")) {
		if (nargs == 1 && !strcmp(argv[i], "--config"))
			config = true;
		else if (nargs)
			usage_error(cmd, "expected 'show [--config]'");
		ring_get_local(nl, &ri);
		print_ring(&ri, config);
		cp_ring_free(&ri.ring);
	} else if (!strcmp(verb, "add")) {
		why = parse_member(argv + i, nargs, &m);
		if (why)
			usage_error(cmd, "%s", why);
		ret = cp_nl_ring_add(nl, &m);
	} else if (!strcmp(verb, "del")) {
		if (nargs != 1)
			usage_error(cmd, "expected 'del NAME'");
		ret = cp_nl_ring_del(nl, argv[i]);
	} else if (!strcmp(verb, "weight")) {
		if (nargs != 2)
			usage_error(cmd, "expected 'weight NAME W'");
		snprintf(m.name, sizeof(m.name), "%s", argv[i]);
		if (strlen(argv[i]) > CACHEPEER_NAME_MAX)
			usage_error(cmd, "member name is longer than 63 bytes");
		m.weight = parse_weight(cmd, argv[i + 1]);
		ret = cp_nl_ring_weight(nl, &m);
	} else if (!strcmp(verb, "set")) {
		struct cp_ring_member *all = calloc(CACHEPEER_RING_MEMBERS_MAX, sizeof(*all));
		unsigned int n;

		if (nargs != 1)
			usage_error(cmd, "expected 'set FILE'");
		if (!all)
			fail("out of memory");
		n = read_ring_file(cmd, argv[i], all);
		ret = cp_nl_ring_set(nl, all, n, 0);
		free(all);
	} else if (!strcmp(verb, "bench")) {
		char *end;
		unsigned long count = nargs ? strtoul(argv[i], &end, 10) : 1000000;

		if (nargs > 1 || (nargs && *end) || !count || count > 1000000)
			usage_error(cmd, "expected 'bench [COUNT]', COUNT 1-1000000");
		ring_bench(nl, count);
	} else if (!strcmp(verb, "lookup")) {
		if (!nargs)
			usage_error(cmd, "expected 'lookup KEY...'");
		for (; i < argc; i++)
			ring_lookup_arg(cmd, nl, argv[i]);
	} else {
		usage_error(cmd, "unknown ring command '%s'", verb);
	}
	if (ret)
		fail("ring %s: %s", verb, cp_nl_strerror(nl, ret));
	cp_nl_close(nl);
	return EXIT_OK;
}

/*
 * This node's address as other members reach it: its listen address, or if
 * that is a wildcard, the local address of a connection to the seed.
 */
static void self_addr(const char *listen, const char *seed, char *out, size_t size)
{
	const char *port = strrchr(listen, ':') + 1;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN];
	struct cp_client c;

	if (strncmp(listen, "0.0.0.0:", 8) && strncmp(listen, "[::]:", 5)) {
		snprintf(out, size, "%s", listen);
		return;
	}
	if (cp_client_connect(&c, seed))
		fail("join: cannot connect to %s", seed);
	if (getsockname(c.fd, (struct sockaddr *)&ss, &len))
		fail("join: getsockname: %s", strerror(errno));
	cp_client_close(&c);
	if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
		snprintf(out, size, "[%s]:%s", host, port);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
		snprintf(out, size, "%s:%s", host, port);
	}
}

/* Wait until peer's ring is at least epoch and has (or, for !want, lacks) m. */
static bool converged(const char *peer, __u64 epoch, const struct cp_ring_member *m, bool want)
{
	double end = now_s() + CONVERGE_MS / 1000.0;

	do {
		struct cp_ring r;
		bool ok;
		int i;

		if (cp_ring_fetch(peer, &r))
			goto next;
		i = cp_ring_find(&r, m->name);
		ok = want ? i >= 0 && !strcmp(r.m[i].addr, m->addr) &&
			    r.m[i].weight == m->weight : i < 0;
		if (r.epoch >= epoch && ok) {
			cp_ring_free(&r);
			return true;
		}
		cp_ring_free(&r);
next:
		usleep(100 * 1000);
	} while (now_s() < end);
	return false;
}

static struct cp_nl *cluster_node(const char *what, struct cp_node_info **info)
{
	struct cp_ring_info ri;
	struct cp_nl *nl;

	*info = cp_node_query();
	if ((*info)->state != CACHEPEER_NODE_RUNNING)
		fail("%s: the local node is not running", what);
	nl = open_nl();
	if (cp_nl_ring_get(nl, &ri))
		fail("%s: cannot read the ring", what);
	cp_ring_free(&ri.ring);
	if (!ri.key_set)
		fail("%s: no cluster key; set one first (cachepeerctl set key FILE)", what);
	return nl;
}

int cmd_join(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "weight", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const struct subcommand *cmd = find_subcommand("join");
	struct cp_ring_member self = { .weight = CACHEPEER_WEIGHT_DEFAULT };
	const char *name = NULL, *seed;
	struct cp_node_info *info;
	struct cp_ring_info ri;
	bool weight_set = false;
	struct cp_nl *nl;
	int c, attempt, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'w':
			self.weight = parse_weight(cmd, optarg);
			weight_set = true;
			break;
		case 'h':
			want_help(cmd, 0, NULL);
			return EXIT_OK;
		default:
			usage_error(cmd, "bad option");
		}
	}
	if (argc - optind != 1)
		usage_error(cmd, "expected SEED_ADDR:PORT");
	seed = argv[optind];
	nl = cluster_node("join", &info);
	if (name && strcmp(name, info->name)) {
		ret = cp_nl_node_set_name(nl, name);
		if (ret)
			fail("join: name '%s': %s", name, cp_nl_strerror(nl, ret));
		snprintf(info->name, sizeof(info->name), "%s", name);
	}
	if (!info->name[0])
		fail("join: this node has no name; give --name NAME");
	snprintf(self.name, sizeof(self.name), "%s", info->name);
	self_addr(info->listen, seed, self.addr, sizeof(self.addr));

	/* A concurrent change may win over ours; then read the ring and retry. */
	for (attempt = 0; attempt < 5; attempt++) {
		struct cp_ring sr;
		unsigned int i, n = 0;
		struct cp_ring_member *all;
		int idx;

		ret = cp_ring_fetch(seed, &sr);
		if (ret)
			fail("join: cannot read the ring from %s: %s", seed, strerror(-ret));
		all = calloc(sr.n + 1, sizeof(*all));
		if (!all)
			fail("out of memory");
		idx = cp_ring_find(&sr, self.name);
		if (idx >= 0 && !weight_set)
			self.weight = sr.m[idx].weight;
		for (i = 0; i < sr.n; i++)
			if ((int)i != idx)
				all[n++] = sr.m[i];
		all[n++] = self;
		ret = cp_nl_ring_set(nl, all, n, sr.epoch);
		free(all);
		cp_ring_free(&sr);
		if (ret)
			fail("join: %s", cp_nl_strerror(nl, ret));
		ring_get_local(nl, &ri);
		if (converged(seed, ri.ring.epoch, &self, true)) {
			printf("joined as %s (%s): ring epoch %llu, %u members\n", self.name,
			       self.addr, (unsigned long long)ri.ring.epoch, ri.ring.n);
			cp_ring_free(&ri.ring);
			cp_nl_close(nl);
			free(info);
			return EXIT_OK;
		}
		cp_ring_free(&ri.ring);
	}
	fail("join: %s did not take the new ring; is the cluster key the same on both?", seed);
	return EXIT_ERR;
}

int cmd_leave(int argc, char **argv)
{
	const struct subcommand *cmd = find_subcommand("leave");
	struct cp_node_info *info;
	struct cp_ring_member self;
	struct cp_ring_info ri;
	char other[64] = "";
	struct cp_nl *nl;
	unsigned int i;
	int idx, ret;

	if (parse_opts(cmd, argc, argv, false) != argc)
		usage_error(cmd, "takes no arguments");
	nl = cluster_node("leave", &info);
	ring_get_local(nl, &ri);
	idx = cp_ring_find(&ri.ring, info->name);
	if (!info->name[0] || idx < 0)
		fail("leave: this node (%s) is not in the ring", info->name);
	self = ri.ring.m[idx];
	for (i = 0; i < ri.ring.n; i++)
		if ((int)i != idx && ri.ring.m[i].weight)
			snprintf(other, sizeof(other), "%s", ri.ring.m[i].addr);
	cp_ring_free(&ri.ring);
	ret = cp_nl_ring_del(nl, self.name);
	if (ret)
		fail("leave: %s", cp_nl_strerror(nl, ret));
	ring_get_local(nl, &ri);
	if (other[0] && !converged(other, ri.ring.epoch, &self, false))
		fail("leave: %s did not take the new ring", other);
	printf("left the ring: epoch %llu, %u members remain\n",
	       (unsigned long long)ri.ring.epoch, ri.ring.n);
	cp_ring_free(&ri.ring);
	cp_nl_close(nl);
	free(info);
	return EXIT_OK;
}

/* The whole file, less one trailing newline: 16-64 bytes. */
int read_key_file(const char *path, unsigned char *key, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -errno;
	n = fread(key, 1, CACHEPEER_CLUSTER_KEY_MAX + 2, f);
	fclose(f);
	if (n && key[n - 1] == '\n')
		n--;
	if (n < CACHEPEER_CLUSTER_KEY_MIN || n > CACHEPEER_CLUSTER_KEY_MAX)
		return -EINVAL;
	*len = n;
	return 0;
}
