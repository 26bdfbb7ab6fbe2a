// SPDX-License-Identifier: GPL-2.0
/* Ring commands: ring (show, add, set, del, load, lookup, bench), join, leave. */

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "ctl.h"
#include "nl.h"
#include "ring.h"

/* How long join and leave wait to see their change on another member. */
#define CONVERGE_MS	30000

static const char * const miss_names[] = {
	[CACHEPEER_MISS_FORWARD] = "forward",
	[CACHEPEER_MISS_REDIRECT] = "redirect",
};

static void ring_get_local(struct cp_nl *nl, struct cp_ring_info *ri)
{
	int ret = cp_nl_ring_get(nl, ri);

	if (ret)
		nl_fail(nl, "ring", ret);
	if (cp_ring_build(&ri->ring))
		fail("out of memory");
}

static const char *state_name(unsigned int state)
{
	static const char * const names[] = {
		[CACHEPEER_MEMBER_ALIVE] = "alive",
		[CACHEPEER_MEMBER_SUSPECT] = "suspect",
		[CACHEPEER_MEMBER_DOWN] = "down",
	};

	return state < ARRAY_SIZE(names) ? names[state] : "?";
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
		printf("# cachepeer ring, for 'cachepeerctl ring load'\n");
		printf("# member NAME ADDR:PORT [weight W]\n");
		for (i = 0; i < r->n; i++)
			printf("member %s %s weight %u\n", r->m[i].name, r->m[i].addr,
			       r->m[i].weight);
	} else if (opt_json) {
		printf("{");
		json_u64(stdout, "epoch", r->epoch, ",");
		printf("\"miss\":\"%s\",\"key_set\":%s,", miss_names[ri->miss & 1],
		       ri->key_set ? "true" : "false");
		json_u64(stdout, "handoff_s", ri->handoff_s, ",");
		json_u64(stdout, "mem", ri->mem, ",");
		json_u64(stdout, "build_ns", ri->build_ns, ",");
		json_u64(stdout, "points", r->npoints, ",");
		printf("\"members\":[");
		for (i = 0; i < r->n; i++) {
			printf("%s{\"name\":", i ? "," : "");
			json_string(stdout, r->m[i].name);
			printf(",\"addr\":");
			json_string(stdout, r->m[i].addr);
			printf(",\"weight\":%u,\"points\":%u,\"share\":%.6f,\"state\":\"%s\",",
			       r->m[i].weight, r->m[i].points, share[i], state_name(r->m[i].state));
			json_u64(stdout, "incarnation", r->m[i].incarnation,
				 r->m[i].heard_ms >= 0 ? "," : "");
			if (r->m[i].heard_ms >= 0)
				json_u64(stdout, "heard_ms", r->m[i].heard_ms, "");
			printf("}");
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
			printf("  %-24s %-28s %6s %6s %7s %-7s %s\n", "NAME", "ADDRESS", "WEIGHT",
			       "POINTS", "SHARE", "STATE", "HEARD");
		for (i = 0; i < r->n; i++) {
			char heard[32] = "-";

			if (r->m[i].heard_ms >= 0)
				snprintf(heard, sizeof(heard), "%.1fs", r->m[i].heard_ms / 1e3);
			printf("  %-24s %-28s %6u %6u %6.2f%% %-7s %s\n", r->m[i].name,
			       r->m[i].addr, r->m[i].weight, r->m[i].points, share[i] * 100,
			       state_name(r->m[i].state), heard);
		}
	}
	free(share);
}

/*
 * NAME ADDR:PORT, and in a ring file "weight W" after them; NULL or a
 * reason. The weight is CACHEPEER_WEIGHT_DEFAULT unless given.
 */
static const char *parse_member(char **w, int n, struct cp_ring_member *m)
{
	struct sockaddr_storage ss;
	unsigned long long wt = CACHEPEER_WEIGHT_DEFAULT;
	socklen_t len;

	if (n != 2 && n != 4)
		return "expected NAME ADDR:PORT";
	if (strlen(w[0]) > CACHEPEER_NAME_MAX)
		return "member name is longer than 63 bytes";
	if (cp_parse_peer(w[1], &ss, &len))
		return "member address must be ADDR:PORT or [ADDR6]:PORT";
	if (n == 4) {
		if (strcmp(w[2], "weight") || parse_count(w[3], &wt))
			return "expected 'weight W'";
		if (wt > CACHEPEER_WEIGHT_MAX)
			return "weight must be 0-1000";
	}
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", w[0]);
	snprintf(m->addr, sizeof(m->addr), "%s", w[1]);
	m->weight = wt;
	return NULL;
}

/* A ring file: "member NAME ADDR:PORT [weight W]" lines, '#' comments. */
static unsigned int read_ring_file(const char *path, struct cp_ring_member *m)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	unsigned int n = 0, line = 0;
	char buf[512];

	if (!f)
		fail("ring load: '%s': %s", path, strerror(errno));
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
			fail("ring load: %s:%u: expected 'member NAME ADDR:PORT [weight W]'", path,
			     line);
		if (n == CACHEPEER_RING_MEMBERS_MAX)
			fail("ring load: %s:%u: more than %d members", path, line,
			     CACHEPEER_RING_MEMBERS_MAX);
		why = parse_member(w + 1, nw - 1, &m[n]);
		if (why)
			fail("ring load: %s:%u: %s", path, line, why);
		n++;
	}
	if (f != stdin)
		fclose(f);
	return n;
}

/* One line per key: KEY HASH OWNER ADDR ("-" for no owner), or a JSON object. */
static void ring_lookup(struct cp_nl *nl, const char *key)
{
	struct cp_ring_member owner;
	__u64 hash;
	int ret = cp_nl_ring_lookup(nl, key, strlen(key), &hash, &owner);

	if (ret && ret != -ENOENT)
		nl_fail(nl, "ring lookup", ret);
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
		nl_fail(nl, "ring bench", ret);
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
		json_u64(stdout, "members", ri.ring.n, ",");
		json_u64(stdout, "points", ri.ring.npoints, ",");
		json_u64(stdout, "mem", ri.mem, ",");
		json_u64(stdout, "build_ns", ri.build_ns, ",");
		json_u64(stdout, "client_build_ns", build * 1e9, ",");
		json_u64(stdout, "lookups", count, ",");
		json_u64(stdout, "kernel_ns", kns, ",");
		json_u64(stdout, "client_ns", client * 1e9, "}\n");
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

static const struct {
	const char *verb;
	int min, max;		/* operands after the verb */
	const char *usage;
} ring_verbs[] = {
	{ "show", 0, 0, "show [--config]" },
	{ "add", 2, 2, "add NAME ADDR:PORT [--weight W]" },
	{ "set", 1, 1, "set NAME --weight W" },
	{ "del", 1, 1, "del NAME" },
	{ "load", 1, 1, "load FILE" },
	{ "lookup", 1, INT_MAX, "lookup KEY..." },
	{ "bench", 0, 0, "bench [--count N]" },
};

int cmd_ring(const struct subcommand *cmd, int argc, char **argv)
{
	unsigned long long weight = CACHEPEER_WEIGHT_DEFAULT, count = 1000000;
	bool config = false, weight_given = false, count_given = false, force = false;
	const struct opt opts[] = {
		OPT("config", OPT_FLAG, &config),
		OPT("force", OPT_FLAG, &force),
		OPT("weight", OPT_COUNT, &weight, .given = &weight_given,
		    .max = CACHEPEER_WEIGHT_MAX),
		OPT("count", OPT_COUNT, &count, .given = &count_given, .min = 1, .max = 1000000),
		{ 0 }
	};
	struct cp_ring_member m = { 0 };
	struct cp_ring_info ri;
	const char *verb, *why;
	struct cp_nl *nl;
	char **args;
	int n, i, ret = 0;
	size_t v;

	n = parse_cmdline(cmd, argc, argv, opts, &args);
	verb = n ? args[0] : "show";
	args += !!n;
	n -= !!n;
	if (config && strcmp(verb, "show"))
		usage_error(cmd, "--config is for 'ring show'");
	if (weight_given && strcmp(verb, "add") && strcmp(verb, "set"))
		usage_error(cmd, "--weight is for 'ring add' and 'ring set'");
	if (count_given && strcmp(verb, "bench"))
		usage_error(cmd, "--count is for 'ring bench'");
	if (force && strcmp(verb, "load"))
		usage_error(cmd, "--force is for 'ring load'");
	/* The command line first, so that a usage error needs no module. */
	for (v = 0; v < ARRAY_SIZE(ring_verbs) && strcmp(verb, ring_verbs[v].verb); v++)
		;
	if (v == ARRAY_SIZE(ring_verbs))
		usage_error(cmd, "unknown ring command '%s'", verb);
	if (n < ring_verbs[v].min || n > ring_verbs[v].max ||
	    (!strcmp(verb, "set") && !weight_given))
		usage_error(cmd, "expected '%s'", ring_verbs[v].usage);
	if (!strcmp(verb, "add")) {
		why = parse_member(args, n, &m);
		if (why)
			usage_error(cmd, "%s", why);
		m.weight = weight;
	} else if (!strcmp(verb, "set")) {
		if (strlen(args[0]) > CACHEPEER_NAME_MAX)
			usage_error(cmd, "member name is longer than 63 bytes");
		snprintf(m.name, sizeof(m.name), "%s", args[0]);
		m.weight = weight;
	}
	nl = open_nl();
	if (!strcmp(verb, "show")) {
		ring_get_local(nl, &ri);
		print_ring(&ri, config);
		cp_ring_free(&ri.ring);
	} else if (!strcmp(verb, "add")) {
		ret = cp_nl_ring_add(nl, &m);
	} else if (!strcmp(verb, "set")) {
		ret = cp_nl_ring_weight(nl, &m);
	} else if (!strcmp(verb, "del")) {
		ret = cp_nl_ring_del(nl, args[0]);
	} else if (!strcmp(verb, "load")) {
		struct cp_ring_member *all = calloc(CACHEPEER_RING_MEMBERS_MAX, sizeof(*all));
		unsigned int nm;

		if (!all)
			fail("out of memory");
		nm = read_ring_file(args[0], all);
		/* It would remove every member, on every node. */
		if (!nm && !force)
			fail("ring load: '%s' has no member; --force empties the ring", args[0]);
		ret = cp_nl_ring_set(nl, all, nm, 0);
		free(all);
	} else if (!strcmp(verb, "bench")) {
		ring_bench(nl, count);
	} else {
		for (i = 0; i < n; i++)
			ring_lookup_arg(cmd, nl, args[i]);
	}
	if (ret) {
		char what[16];

		snprintf(what, sizeof(what), "ring %s", verb);
		nl_fail(nl, what, ret);
	}
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
	struct cp_client c;
	int ret;

	if (strncmp(listen, "0.0.0.0:", 8) && strncmp(listen, "[::]:", 5)) {
		snprintf(out, size, "%s", listen);
		return;
	}
	ret = cp_client_connect(&c, seed);
	if (ret)
		fail_connect("join", seed, ret);
	if (getsockname(c.fd, (struct sockaddr *)&ss, &len))
		fail("join: getsockname: %s", strerror(errno));
	cp_client_close(&c);
	if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(atoi(port));
	else
		((struct sockaddr_in *)&ss)->sin_port = htons(atoi(port));
	cp_fmt_sockaddr((struct sockaddr *)&ss, out, size);
}

/* Wait until peer's ring is at least epoch and has (or, for !want, lacks) m. */
static bool converged(const char *what, const char *peer, __u64 epoch,
		      const struct cp_ring_member *m, bool want)
{
	double end = now_s() + CONVERGE_MS / 1000.0;

	do {
		struct cp_ring r;
		bool ok;
		int i, ret;

		ret = cp_ring_fetch(peer, &r);
		/* Asking again will not change the node's mind about the key. */
		if (ret == -EACCES || ret == -EKEYREJECTED)
			fail_connect(what, peer, ret);
		if (ret)
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
	int ret;

	*info = cp_node_query();
	if ((*info)->state != CACHEPEER_NODE_RUNNING)
		fail("%s: the local node is not running", what);
	nl = open_nl();
	ret = cp_nl_ring_get(nl, &ri);
	if (ret)
		nl_fail(nl, what, ret);
	cp_ring_free(&ri.ring);
	if (!ri.key_set)
		fail("%s: no cluster key; set one first (cachepeerctl set --cluster-key FILE)",
		     what);
	return nl;
}

/*
 * A node with no ring joins: the seed's ring with self added (its weight
 * in that ring kept unless given), the seed's epoch as the base.
 */
static int join_seed_ring(struct cp_nl *nl, const char *seed, struct cp_ring_member *self,
			  bool weight_set)
{
	struct cp_ring_member *all;
	unsigned int i, n = 0;
	struct cp_ring sr;
	int idx, ret;

	ret = cp_ring_fetch(seed, &sr);
	if (ret)
		fail_connect("join: reading the ring", seed, ret);
	all = calloc(sr.n + 1, sizeof(*all));
	if (!all)
		fail("out of memory");
	idx = cp_ring_find(&sr, self->name);
	if (idx >= 0 && !weight_set)
		self->weight = sr.m[idx].weight;
	for (i = 0; i < sr.n; i++)
		if ((int)i != idx)
			all[n++] = sr.m[i];
	all[n++] = *self;
	ret = cp_nl_ring_set(nl, all, n, sr.epoch);
	free(all);
	cp_ring_free(&sr);
	return ret;
}

int cmd_join(const struct subcommand *cmd, int argc, char **argv)
{
	struct cp_ring_member self = { .weight = CACHEPEER_WEIGHT_DEFAULT };
	unsigned long long weight = CACHEPEER_WEIGHT_DEFAULT;
	const char *name = NULL, *seed = NULL, *key = NULL;
	bool weight_set = false;
	const struct opt opts[] = {
		OPT("seed", OPT_ADDR, &seed),
		OPT("key", OPT_STRING, &key),
		OPT("name", OPT_STRING, &name),
		OPT("weight", OPT_COUNT, &weight, .given = &weight_set,
		    .max = CACHEPEER_WEIGHT_MAX),
		{ 0 }
	};
	struct cp_node_info *info;
	struct cp_ring_info ri;
	struct cp_nl *nl;
	int idx, ret = 0;
	char **args;

	if (parse_cmdline(cmd, argc, argv, opts, &args))
		usage_error(cmd, "unexpected argument '%s'", args[0]);
	if (!seed)
		usage_error(cmd, "--seed is required (this node's own address starts a ring)");
	use_key(cmd, key);
	self.weight = weight;
	nl = cluster_node("join", &info);
	if (name && strcmp(name, info->name)) {
		struct cp_settings set = { .name = name, .given[CP_SET_NAME] = true };

		ret = cp_nl_node_set(nl, &set);
		if (ret)
			fail("join: name '%s': %s", name, cp_nl_strerror(nl, ret));
		snprintf(info->name, sizeof(info->name), "%s", name);
	}
	if (!info->name[0])
		fail("join: this node has no name; give --name NAME");
	snprintf(self.name, sizeof(self.name), "%s", info->name);
	self_addr(info->listen, seed, self.addr, sizeof(self.addr));

	/*
	 * A node already in a ring (one that left, say) adds itself to its
	 * own view; one with none takes the seed's ring with itself added.
	 * Views merge member by member, so no concurrent edit undoes either.
	 */
	ring_get_local(nl, &ri);
	idx = cp_ring_find(&ri.ring, self.name);
	if (idx >= 0 && strcmp(ri.ring.m[idx].addr, self.addr))
		fail("join: %s is in the ring with address %s; leave first", self.name,
		     ri.ring.m[idx].addr);
	if (idx >= 0 && !weight_set)
		self.weight = ri.ring.m[idx].weight;
	if (idx >= 0 && ri.ring.m[idx].weight != self.weight)
		ret = cp_nl_ring_weight(nl, &self);
	else if (idx < 0 && ri.ring.n)
		ret = cp_nl_ring_add(nl, &self);
	else if (idx < 0)
		ret = join_seed_ring(nl, seed, &self, weight_set);
	cp_ring_free(&ri.ring);
	if (ret)
		nl_fail(nl, "join", ret);
	ring_get_local(nl, &ri);
	if (converged("join", seed, ri.ring.epoch, &self, true)) {
		printf("joined as %s (%s): ring epoch %llu, %u members\n", self.name,
		       self.addr, (unsigned long long)ri.ring.epoch, ri.ring.n);
		cp_ring_free(&ri.ring);
		cp_nl_close(nl);
		free(info);
		return EXIT_OK;
	}
	cp_ring_free(&ri.ring);
	fail("join: %s did not take the new ring; is the cluster key the same on both?", seed);
	return EXIT_ERR;
}

int cmd_leave(const struct subcommand *cmd, int argc, char **argv)
{
	const char *key = NULL;
	const struct opt opts[] = {
		OPT("key", OPT_STRING, &key),
		{ 0 }
	};
	struct cp_node_info *info;
	struct cp_ring_member self;
	struct cp_ring_info ri;
	char other[64] = "";
	struct cp_nl *nl;
	unsigned int i;
	char **args;
	int idx, ret;

	if (parse_cmdline(cmd, argc, argv, opts, &args))
		usage_error(cmd, "unexpected argument '%s'", args[0]);
	use_key(cmd, key);
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
		nl_fail(nl, "leave", ret);
	ring_get_local(nl, &ri);
	if (other[0] && !converged("leave", other, ri.ring.epoch, &self, false))
		fail("leave: %s did not take the new ring", other);
	printf("left the ring: epoch %llu, %u members remain\n",
	       (unsigned long long)ri.ring.epoch, ri.ring.n);
	cp_ring_free(&ri.ring);
	cp_nl_close(nl);
	free(info);
	return EXIT_OK;
}
