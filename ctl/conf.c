// SPDX-License-Identifier: GPL-2.0
/*
 * Config files (cachepeer.conf(5)): setconf, syncconf, showconf, up, down.
 *
 * A file is INI, as WireGuard's: [Node] holds the node's settings under
 * the names of start's and set's options in CamelCase (MaxBytes for
 * --max-bytes), read and checked by the same option tables (node_opts());
 * [Key NAME] a client key; [Ring] the seeds to join through and this
 * node's weight. Secrets never leave their files: showconf prints a key as
 * its fingerprint, and a fingerprint that matches what the node holds
 * leaves the key alone, so "showconf | setconf -" changes nothing.
 */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "node.h"
#include "sha256.h"

#define CONF_MAX_BYTES	(1024 * 1024)
#define CONF_SEEDS_MAX	16
#define NAME_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
/* How long up waits for a node removed while down to hear of it. */
#define UP_FORGET_S	30

struct conf_key {
	char name[CACHEPEER_NAME_MAX + 1];
	int role;			/* -1: not given */
	const char *file, *fpr;
	int line;
	/* planned by key_plan() */
	bool add, replace;
	unsigned char secret[CACHEPEER_SECRET_MAX];
	size_t len;
};

struct conf {
	const char *path;
	char *text;			/* the file; values point into it */
	struct node_conf node;
	struct opt set_opts[SET_OPTS], start_opts[START_OPTS];
	bool start_seen[START_OPTS];
	const char *key_fpr, *next_fpr;	/* [Node] ClusterKeyFingerprint, Next... */
	const char *ns;
	struct conf_key keys[CACHEPEER_KEYS_MAX];
	unsigned int nkeys;
	const char *seeds[CONF_SEEDS_MAX];
	unsigned int nseeds;
	unsigned long long weight;
	bool weight_given;
	const char *join_key;		/* [Ring] Key, NAME:FILE */
	int start_line;			/* where Listen or Directory was */
};

enum conf_mode {
	MODE_SETCONF,	/* everything in the file; restart if it must */
	MODE_SYNCCONF,	/* only what differs; never start, stop or restart */
	MODE_UP,	/* only what differs; start a stopped node, never restart */
};

static __printf(3, 4) __noreturn void conf_error(const struct conf *c, int line,
						 const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG_NAME ": %s:%d: ", c->path, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}

/* --max-conns-per-source is MaxConnsPerSource; --dir is Directory. */
static void conf_name(const char *opt, char *out, size_t len)
{
	size_t o = 0;
	bool up = true;

	if (!strcmp(opt, "dir"))
		opt = "directory";
	for (; *opt && o + 1 < len; opt++) {
		if (*opt == '-') {
			up = true;
			continue;
		}
		out[o++] = up ? toupper((unsigned char)*opt) : *opt;
		up = false;
	}
	out[o] = '\0';
}

static const struct opt *find_opt(const struct opt *opts, const char *key)
{
	char name[64];

	for (; opts->name; opts++) {
		conf_name(opts->name, name, sizeof(name));
		if (!strcasecmp(name, key))
			return opts;
	}
	return NULL;
}

/* A path in the file: relative ones are taken from the file's directory. */
static const char *conf_path(const struct conf *c, const char *v)
{
	const char *slash = strrchr(c->path, '/');
	char *p;

	if (v[0] == '/' || !slash || !strcmp(c->path, "-"))
		return v;
	if (asprintf(&p, "%.*s/%s", (int)(slash - c->path), c->path, v) < 0)
		fail("out of memory");
	return p;
}

static bool is_fpr(const char *s)
{
	int i;

	for (i = 0; i < 2 * FPR_LEN; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return !s[i];
}

/* The fingerprint of the secret in path, as the node computes it. */
static void file_fpr(const struct subcommand *cmd, const char *path, char *out)
{
	unsigned char secret[CACHEPEER_SECRET_MAX], digest[SHA256_LEN];
	struct sha256 s;
	size_t len;
	int ret;

	ret = read_key_file(path, secret, &len);
	if (ret)
		fail("%s: key file '%s': %s", cmd->name, path,
		     ret == -EINVAL ? "wrong length" : strerror(-ret));
	sha256_init(&s);
	sha256_update(&s, secret, len);
	sha256_final(&s, digest);
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(&s, sizeof(s));
	fpr_hex(digest, out);
}

/* A setting that may appear once: *slot, unless it is there already. */
static void once(const struct conf *c, int line, const char *key, const char **slot,
		 const char *v)
{
	if (*slot)
		conf_error(c, line, "%s given twice", key);
	*slot = v;
}

static void node_line(const struct subcommand *cmd, struct conf *c, int line, const char *key,
		      const char *v)
{
	const struct opt *o;
	char where[128];

	if (!strcasecmp(key, "Namespace")) {
		once(c, line, key, &c->ns, v);
		return;
	}
	if (!strcasecmp(key, "ClusterKeyFingerprint") ||
	    !strcasecmp(key, "NextClusterKeyFingerprint")) {
		if (!is_fpr(v))
			conf_error(c, line, "%s must be %d hex digits", key, 2 * FPR_LEN);
		once(c, line, key, tolower(key[0]) == 'n' ? &c->next_fpr : &c->key_fpr, v);
		return;
	}
	o = find_opt(c->set_opts, key);
	if (o ? *o->given : false)
		conf_error(c, line, "%s given twice", key);
	if (!o) {
		o = find_opt(c->start_opts, key);
		if (!o)
			conf_error(c, line, "unknown setting '%s' in [Node]", key);
		if (c->start_seen[o - c->start_opts])
			conf_error(c, line, "%s given twice", key);
		c->start_seen[o - c->start_opts] = true;
		c->start_line = line;
	} else {
		*o->given = true;
	}
	if (!strcmp(o->name, "dir") || strstr(o->name, "cluster-key"))
		v = conf_path(c, v);
	snprintf(where, sizeof(where), "%s at %s:%d", key, c->path, line);
	opt_context = where;
	opt_value(cmd, o, v);
	opt_context = NULL;
}

static void key_line(struct conf *c, int line, const char *key, const char *v)
{
	struct conf_key *k = &c->keys[c->nkeys - 1];
	int i;

	if (!strcasecmp(key, "Role")) {
		if (k->role >= 0)
			conf_error(c, line, "%s given twice", key);
		for (i = CACHEPEER_ROLE_READ; i <= CACHEPEER_ROLE_WRITE; i++)
			if (!strcmp(v, role_names[i]))
				k->role = i;
		if (k->role < 0)
			conf_error(c, line, "Role is read or write, not '%s'", v);
	} else if (!strcasecmp(key, "File")) {
		once(c, line, key, &k->file, conf_path(c, v));
	} else if (!strcasecmp(key, "Fingerprint")) {
		if (!is_fpr(v))
			conf_error(c, line, "Fingerprint must be %d hex digits", 2 * FPR_LEN);
		once(c, line, key, &k->fpr, v);
	} else {
		conf_error(c, line, "unknown setting '%s' in [Key %s]", key, k->name);
	}
}

static void ring_line(struct conf *c, int line, const char *key, const char *v)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (!strcasecmp(key, "Seed")) {
		if (c->nseeds == CONF_SEEDS_MAX)
			conf_error(c, line, "at most %d seeds", CONF_SEEDS_MAX);
		if (cp_parse_peer(v, &ss, &len))
			conf_error(c, line, "Seed '%s' is not ADDR:PORT or [ADDR6]:PORT", v);
		c->seeds[c->nseeds++] = v;
	} else if (!strcasecmp(key, "Weight")) {
		if (c->weight_given)
			conf_error(c, line, "%s given twice", key);
		if (parse_count(v, &c->weight) || c->weight > CACHEPEER_WEIGHT_MAX)
			conf_error(c, line, "Weight must be 0-%d, not '%s'", CACHEPEER_WEIGHT_MAX,
				   v);
		c->weight_given = true;
	} else if (!strcasecmp(key, "Key")) {
		/* NAME:FILE, FILE from the file's directory, as every path here. */
		const char *colon = strchr(v, ':');
		char *spec;

		if (!colon || colon == v || !colon[1])
			conf_error(c, line, "Key is NAME:FILE, not '%s'", v);
		if (asprintf(&spec, "%.*s:%s", (int)(colon - v), v, conf_path(c, colon + 1)) < 0)
			fail("out of memory");
		once(c, line, key, &c->join_key, spec);
	} else {
		conf_error(c, line, "unknown setting '%s' in [Ring]", key);
	}
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static char *read_conf(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *text = malloc(CONF_MAX_BYTES + 1);
	size_t n;

	if (!f)
		fail("config '%s': %s", path, strerror(errno));
	if (!text)
		fail("out of memory");
	n = fread(text, 1, CONF_MAX_BYTES + 1, f);
	if (ferror(f))
		fail("config '%s': %s", path, strerror(errno));
	if (n > CONF_MAX_BYTES)
		fail("config '%s': larger than %d bytes", path, CONF_MAX_BYTES);
	if (f != stdin)
		fclose(f);
	text[n] = '\0';
	return text;
}

static void key_done(const struct conf *c)
{
	const struct conf_key *k = &c->keys[c->nkeys - 1];

	if (k->role < 0)
		conf_error(c, k->line, "[Key %s] needs a Role", k->name);
	if (!k->file && !k->fpr)
		conf_error(c, k->line, "[Key %s] needs a File (or %s)", k->name,
			   "the Fingerprint of the key the node has");
}

static bool is_key_section(const char *s)
{
	return !strncasecmp(s, "Key", 3) && isspace((unsigned char)s[3]);
}

/* [Key NAME] begins. */
static void key_section(struct conf *c, int line, const char *name)
{
	struct conf_key *k = &c->keys[c->nkeys];
	unsigned int i;

	if (c->nkeys == CACHEPEER_KEYS_MAX)
		conf_error(c, line, "at most %d keys", CACHEPEER_KEYS_MAX);
	if (!*name || strlen(name) > CACHEPEER_NAME_MAX ||
	    strspn(name, NAME_CHARS) != strlen(name) || !strncmp(name, "member.", 7))
		conf_error(c, line, "a key name is 1-%d of [A-Za-z0-9._-], not member.*: '%s'",
			   CACHEPEER_NAME_MAX, name);
	for (i = 0; i < c->nkeys; i++)
		if (!strcmp(c->keys[i].name, name))
			conf_error(c, line, "[Key %s] given twice", name);
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->role = -1;
	k->line = line;
	c->nkeys++;
}

static void conf_parse(const struct subcommand *cmd, struct conf *c, const char *path)
{
	enum { NONE, NODE, KEY, RING } section = NONE;
	char *line, *next, *p;
	int n = 0;

	memset(c, 0, sizeof(*c));
	c->path = path;
	c->text = read_conf(path);
	node_opts(&c->node, c->set_opts, c->start_opts);
	for (line = c->text; line && *line; line = next) {
		char *key, *v;

		n++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		p = strchr(line, '#');
		if (p)
			*p = '\0';
		line = trim(line);
		if (!*line)
			continue;
		if (*line == '[') {
			p = strchr(line, ']');
			if (!p || p[1])
				conf_error(c, n, "a section is [Node], [Key NAME] or [Ring]");
			*p = '\0';
			line = trim(line + 1);
			if (section == KEY)
				key_done(c);
			if (!strcasecmp(line, "Node")) {
				section = NODE;
			} else if (!strcasecmp(line, "Ring")) {
				section = RING;
			} else if (is_key_section(line)) {
				key_section(c, n, trim(line + 3));
				section = KEY;
			} else {
				conf_error(c, n, "unknown section [%s]", line);
			}
			continue;
		}
		p = strchr(line, '=');
		if (!p)
			conf_error(c, n, "expected 'Setting = value'");
		*p = '\0';
		key = trim(line);
		v = trim(p + 1);
		if (!*v)
			conf_error(c, n, "%s has no value", key);
		if (section == NODE)
			node_line(cmd, c, n, key, v);
		else if (section == KEY)
			key_line(c, n, key, v);
		else if (section == RING)
			ring_line(c, n, key, v);
		else
			conf_error(c, n, "'%s' before any section", key);
	}
	if (section == KEY)
		key_done(c);
	if (!c->node.listen != !c->node.dir)
		conf_error(c, c->start_line, "[Node] needs Listen and Directory both, or neither");
	if (!c->node.listen && (c->node.max_block || c->node.frame_timeout_ms))
		conf_error(c, c->start_line, "MaxBlock and FrameTimeout need Listen and Directory");
}

/* Enter the network namespace the file names: a name under /run/netns, or a path. */
static void enter_ns(const struct conf *c)
{
	char path[4200];
	int fd;

	if (!c->ns)
		return;
	snprintf(path, sizeof(path), strchr(c->ns, '/') ? "%s" : "/run/netns/%s", c->ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET))
		fail("network namespace '%s': %s", c->ns, strerror(errno));
	close(fd);
}

/* What the node runs with now, as a config would say it. */
struct node_now {
	struct cp_node_info *info;
	struct cp_ring_info ri;
	struct node_conf conf;
	struct opt set_opts[SET_OPTS], start_opts[START_OPTS];
	struct cp_key_entry keys[2 + CACHEPEER_KEYS_MAX];
	bool keep[2 + CACHEPEER_KEYS_MAX];	/* named in the file (key_plan()) */
	unsigned int nkeys;
	char fpr[2][2 * FPR_LEN + 1];	/* the cluster keys: current, next; "" none */
};

static void node_now(const struct subcommand *cmd, struct cp_nl *nl, struct node_now *now)
{
	struct node_conf *c = &now->conf;
	const struct cp_limits *l;
	unsigned int i;
	int ret;

	memset(now, 0, sizeof(*now));
	now->info = calloc(1, sizeof(*now->info));
	if (!now->info)
		fail("out of memory");
	ret = cp_nl_node_get(nl, now->info) ?: cp_nl_ring_get(nl, &now->ri) ?:
	      cp_nl_key_list(nl, now->keys, ARRAY_SIZE(now->keys), &now->nkeys);
	if (ret)
		nl_fail(nl, cmd->name, ret);
	node_opts(c, now->set_opts, now->start_opts);
	l = &now->info->limits;
	c->set.name = now->info->name;
	c->set.access = now->info->access;
	c->set.miss = now->ri.miss;
	c->set.handoff_s = now->ri.handoff_s;
	c->set.max_bytes = l->max_bytes;
	c->set.max_blocks = l->max_blocks;
	c->set.fs_stop = l->fs_stop;
	c->set.fs_cull = l->fs_cull;
	c->set.fs_run = l->fs_run;
	c->set.evict = l->evict;
	c->set.scrub_rate = l->scrub_rate;
	c->set.max_conns = l->max_conns;
	c->set.max_conns_source = l->max_conns_source;
	c->set.conn_queue = l->conn_queue;
	c->set.node_queue = l->node_queue;
	c->set.conn_pin = l->conn_pin;
	c->set.idle_timeout_s = l->idle_timeout_s;
	if (now->info->state == CACHEPEER_NODE_RUNNING) {
		c->listen = now->info->listen;
		c->dir = now->info->dir;
		c->max_block = now->info->max_block;
		c->frame_timeout_ms = now->info->frame_timeout_ms;
	}
	for (i = 0; i < now->nkeys; i++)
		if (now->keys[i].next >= 0)
			fpr_hex(now->keys[i].fpr, now->fpr[now->keys[i].next]);
}

static void node_now_free(struct node_now *now)
{
	free(now->info);
	cp_ring_free(&now->ri.ring);
}

/* Whether option o holds the same value in a and b (tables of one layout). */
static bool same_value(const struct opt *a, const struct opt *b)
{
	switch (a->kind) {
	case OPT_STRING:
	case OPT_ADDR:
		return !strcmp(*(const char **)a->out, *(const char **)b->out);
	case OPT_CHOICE:
		return *(int *)a->out == *(int *)b->out;
	default:
		return *(unsigned long long *)a->out == *(unsigned long long *)b->out;
	}
}

/*
 * The cluster keys: a file whose key is the node's already is left alone,
 * and a fingerprint must be what the node holds (it cannot set a key).
 */
static void cluster_keys(const struct subcommand *cmd, struct conf *c, const struct node_now *now)
{
	const char *files[2] = { c->node.key_file, c->node.next_file };
	const char *fprs[2] = { c->key_fpr, c->next_fpr };
	bool *given[2] = { &c->node.set.given[CP_SET_KEY], &c->node.set.given[CP_SET_NEXT_KEY] };
	char fpr[2 * FPR_LEN + 1];
	int i;

	for (i = 0; i < 2; i++) {
		const char *what = i ? "NextClusterKey" : "ClusterKey";

		if (*given[i]) {
			file_fpr(cmd, files[i], fpr);
			if (fprs[i] && strcasecmp(fpr, fprs[i]))
				fail("%s: %s: the key in %s has fingerprint %s, not %s", cmd->name,
				     what, files[i], fpr, fprs[i]);
			if (!strcmp(fpr, now->fpr[i]))
				*given[i] = false;
		} else if (fprs[i] && strcasecmp(fprs[i], now->fpr[i])) {
			fail("%s: %sFingerprint %s is not the node's %s (%s); give %s = FILE",
			     cmd->name, what, fprs[i], what, now->fpr[i][0] ? now->fpr[i] : "none",
			     what);
		}
	}
}

/*
 * The client keys become the file's: keys it lacks are deleted, keys that
 * differ replaced (their connections closed, as key del does), keys with
 * the file's fingerprint and role left alone. key_plan() checks all of it
 * and reads every secret before anything is changed.
 */
static void key_plan(const struct subcommand *cmd, struct conf *c, struct node_now *now)
{
	char fpr[2 * FPR_LEN + 1], have[2 * FPR_LEN + 1];
	unsigned int i, j;
	int ret;

	for (i = 0; i < c->nkeys; i++) {
		struct conf_key *k = &c->keys[i];

		if (k->file) {
			file_fpr(cmd, k->file, fpr);
			if (k->fpr && strcasecmp(fpr, k->fpr))
				fail("%s: [Key %s]: the key in %s has fingerprint %s, not %s",
				     cmd->name, k->name, k->file, fpr, k->fpr);
		} else {
			snprintf(fpr, sizeof(fpr), "%s", k->fpr);
		}
		k->add = true;
		for (j = 0; j < now->nkeys; j++) {
			if (now->keys[j].next >= 0 || strcmp(now->keys[j].name, k->name))
				continue;
			fpr_hex(now->keys[j].fpr, have);
			now->keep[j] = true;
			k->add = strcasecmp(have, fpr) || now->keys[j].role != k->role;
			k->replace = k->add;
		}
		if (k->add && !k->file)
			fail("%s: [Key %s]: the node has no such key with fingerprint %s; %s",
			     cmd->name, k->name, fpr, "give its File");
		if (!k->add)
			continue;
		ret = read_key_file(k->file, k->secret, &k->len);
		if (ret)
			fail("%s: key file '%s': %s", cmd->name, k->file, strerror(-ret));
	}
}

static void key_add(const struct subcommand *cmd, struct cp_nl *nl, struct conf_key *k)
{
	int ret = cp_nl_key_add(nl, k->name, k->role, k->secret, k->len);

	explicit_bzero(k->secret, sizeof(k->secret));
	if (ret)
		fail("%s: key add %s: %s", cmd->name, k->name, cp_nl_strerror(nl, ret));
}

static void key_del(const struct subcommand *cmd, struct cp_nl *nl, const char *name)
{
	int ret = cp_nl_key_del(nl, name);

	if (ret)
		fail("%s: key del %s: %s", cmd->name, name, cp_nl_strerror(nl, ret));
}

/*
 * New keys go in before old ones go, so the node never has none on the
 * way (under access auto, no key means open); a key replaced under its
 * own name cannot be, and is deleted and added.
 */
static void key_apply(const struct subcommand *cmd, struct cp_nl *nl, struct conf *c,
		      const struct node_now *now)
{
	unsigned int i, j;

	for (i = 0; i < c->nkeys; i++)
		if (c->keys[i].add && !c->keys[i].replace)
			key_add(cmd, nl, &c->keys[i]);
	for (i = 0; i < c->nkeys; i++) {
		if (!c->keys[i].replace)
			continue;
		key_del(cmd, nl, c->keys[i].name);
		key_add(cmd, nl, &c->keys[i]);
	}
	for (j = 0; j < now->nkeys; j++)
		if (now->keys[j].next < 0 && !now->keep[j])
			key_del(cmd, nl, now->keys[j].name);
}

/*
 * Make the node what c says. Settings and keys go first, so that a node
 * started here never listens under a weaker access policy than its file's.
 */
static void conf_apply(const struct subcommand *cmd, struct conf *c, enum conf_mode mode)
{
	bool running, restart = false;
	struct cp_start_cfg cfg;
	struct node_now now;
	char dir[PATH_MAX];
	struct cp_nl *nl;
	unsigned int i;
	int ret;

	/* Everything is checked, and every file read, before anything changes. */
	if (c->node.listen)
		node_start_cfg(cmd, &c->node, &cfg, dir);
	nl = open_nl();
	node_now(cmd, nl, &now);
	running = now.info->state == CACHEPEER_NODE_RUNNING;
	if (running && c->node.listen) {
		char was[sizeof(now.info->dir)], asked[sizeof(now.info->dir)], name[32];
		const char *opt;

		opt = start_diff(&cfg, now.info, was, asked, sizeof(was));
		restart = opt;
		if (restart && mode != MODE_SETCONF) {
			conf_name(opt, name, sizeof(name));
			fail("%s: %s %s differs from the running node's %s: %s %s", cmd->name,
			     name, asked, was, "it changes only with a restart",
			     "(setconf, or down and up)");
		}
	}
	cluster_keys(cmd, c, &now);
	key_plan(cmd, c, &now);
	/* Only what differs (the cluster keys' files were compared just above). */
	for (i = 0; mode != MODE_SETCONF && c->set_opts[i].name; i++) {
		const struct opt *o = &c->set_opts[i];

		if (*o->given && (o->kind != OPT_STRING || o->out == &c->node.set.name) &&
		    same_value(o, &now.set_opts[i]))
			*o->given = false;
	}
	for (i = 0; i < CP_SET_COUNT && !c->node.set.given[i]; i++)
		;
	if (i < CP_SET_COUNT)
		node_set(cmd, nl, &c->node);
	key_apply(cmd, nl, c, &now);
	if (restart) {
		ret = cp_nl_node_stop(nl);
		if (ret && ret != -EALREADY)
			nl_fail(nl, cmd->name, ret);
	}
	if (c->node.listen && mode != MODE_SYNCCONF)
		node_start(cmd, nl, &cfg, c->node.listen);
	node_now_free(&now);
	cp_nl_close(nl);
}

static const char *conf_file(const struct subcommand *cmd, int argc, char **argv)
{
	char **args;

	if (parse_cmdline(cmd, argc, argv, NULL, &args) != 1)
		usage_error(cmd, "expected one FILE ('-': standard input)");
	return args[0];
}

int cmd_setconf(const struct subcommand *cmd, int argc, char **argv)
{
	struct conf c;

	conf_parse(cmd, &c, conf_file(cmd, argc, argv));
	enter_ns(&c);
	conf_apply(cmd, &c, strcmp(cmd->name, "setconf") ? MODE_SYNCCONF : MODE_SETCONF);
	return EXIT_OK;
}

/* A value as a config file says it: exact, in the largest unit that divides it. */
static void print_value(const char *name, const struct opt *o)
{
	static const struct {
		const char *suffix;
		unsigned long long mul;
	} sizes[] = { { "T", 1ULL << 40 }, { "G", 1 << 30 }, { "M", 1 << 20 }, { "K", 1 << 10 } },
	  times[] = { { "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 } };
	unsigned long long v;
	size_t i;

	printf("%s = ", name);
	switch (o->kind) {
	case OPT_STRING:
	case OPT_ADDR:
		printf("%s\n", *(const char **)o->out);
		return;
	case OPT_CHOICE:
		/* A value this tool has no name for (a newer module's) is printed as a number. */
		for (i = 0; o->choices[i] && (int)i != *(int *)o->out; i++)
			;
		if (o->choices[i])
			printf("%s\n", o->choices[i]);
		else
			printf("%d\n", *(int *)o->out);
		return;
	case OPT_SIZE:
		v = *(unsigned long long *)o->out;
		for (i = 0; i < ARRAY_SIZE(sizes) && (!v || v % sizes[i].mul); i++)
			;
		if (i < ARRAY_SIZE(sizes))
			printf("%llu%s\n", v / sizes[i].mul, sizes[i].suffix);
		else
			printf("%llu\n", v);
		return;
	case OPT_MS:
	case OPT_SECONDS:
		v = *(unsigned long long *)o->out * (o->kind == OPT_SECONDS ? 1000 : 1);
		for (i = 0; i < ARRAY_SIZE(times) && (!v || v % times[i].mul); i++)
			;
		if (i < ARRAY_SIZE(times))
			printf("%llu%s\n", v / times[i].mul, times[i].suffix);
		else
			printf("%llu%s\n", v, v ? "ms" : "");
		return;
	default:
		printf("%llu\n", *(unsigned long long *)o->out);
	}
}

int cmd_showconf(const struct subcommand *cmd, int argc, char **argv)
{
	struct cp_ring *r;
	struct node_now now;
	struct cp_nl *nl;
	const struct opt *o;
	char name[64];
	unsigned int i;
	int self;

	no_operands(cmd, argc, argv);
	nl = open_nl();
	node_now(cmd, nl, &now);
	cp_nl_close(nl);
	printf("# cachepeerctl showconf: cachepeer %s (keys show as fingerprints)\n[Node]\n",
	       now.info->version);
	if (now.info->name[0])
		printf("Name = %s\n", now.info->name);
	for (o = now.start_opts; now.conf.listen && o->name; o++) {
		conf_name(o->name, name, sizeof(name));
		print_value(name, o);
	}
	for (o = now.set_opts; o->name; o++) {
		if (o->kind == OPT_STRING)	/* the name, and cluster keys' files */
			continue;
		conf_name(o->name, name, sizeof(name));
		print_value(name, o);
	}
	if (now.fpr[0][0])
		printf("ClusterKeyFingerprint = %s\n", now.fpr[0]);
	if (now.fpr[1][0])
		printf("NextClusterKeyFingerprint = %s\n", now.fpr[1]);
	for (i = 0; i < now.nkeys; i++) {
		char fpr[2 * FPR_LEN + 1];

		if (now.keys[i].next >= 0)
			continue;
		fpr_hex(now.keys[i].fpr, fpr);
		printf("\n[Key %s]\nRole = %s\nFingerprint = %s\n", now.keys[i].name,
		       now.keys[i].role <= CACHEPEER_ROLE_MAX ? role_names[now.keys[i].role] : "?",
		       fpr);
	}
	/* A member: its weight, and the others as seeds (itself if alone). */
	r = &now.ri.ring;
	self = now.info->name[0] ? cp_ring_find(r, now.info->name) : -1;
	if (self >= 0) {
		printf("\n[Ring]\nWeight = %u\n", r->m[self].weight);
		for (i = 0; i < r->n; i++)
			if ((int)i != self || r->n == 1)
				printf("Seed = %s\n", r->m[i].addr);
	}
	node_now_free(&now);
	return EXIT_OK;
}

/* up's and down's NAME: /etc/cachepeer/NAME.conf ($CACHEPEER_CONFIG_DIR), or a path. */
static char *conf_lookup(const struct subcommand *cmd, int argc, char **argv)
{
	const char *name = conf_file(cmd, argc, argv), *dir = getenv("CACHEPEER_CONFIG_DIR");
	char *path;

	if (strchr(name, '/'))
		return strdup(name);
	if (!*name)
		usage_error(cmd, "NAME is a config's name, as in /etc/cachepeer/NAME.conf");
	if (asprintf(&path, "%s/%s.conf", dir ?: "/etc/cachepeer", name) < 0)
		fail("out of memory");
	return path;
}

/* The module, loaded with modprobe if its family is missing. */
static void load_module(void)
{
	struct cp_nl *nl;
	pid_t pid;
	int status;

	status = cp_nl_open(&nl);
	if (!status)
		cp_nl_close(nl);
	if (status != -ENOENT)
		return;		/* loaded; open_nl() reports any other failure */
	pid = fork();
	if (pid == 0) {
		execlp("modprobe", "modprobe", "cachepeer", (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		fail_with(EXIT_NO_MODULE, "up: modprobe cachepeer failed");
}

/* Run join with these arguments in a child: false if it failed. */
static bool join_via(const char *seed, const struct conf *c)
{
	char weight[16], *argv[8];
	pid_t pid;
	int argc = 0, status;

	argv[argc++] = "join";
	argv[argc++] = "--seed";
	argv[argc++] = (char *)seed;
	if (c->weight_given) {
		snprintf(weight, sizeof(weight), "%llu", c->weight);
		argv[argc++] = "--weight";
		argv[argc++] = weight;
	}
	if (c->join_key) {
		argv[argc++] = "--key";
		argv[argc++] = (char *)c->join_key;
	}
	argv[argc] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		static const struct subcommand join = { "join", cmd_join, "", "" };

		exit(cmd_join(&join, argc, argv));
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       !WEXITSTATUS(status);
}

/* This node's entry in its own ring (-1: none), which is in ri. */
static int own_entry(struct cp_ring_info *ri, struct cp_node_info **info)
{
	struct cp_nl *nl = open_nl();
	int ret, self;

	*info = cp_node_query();
	ret = cp_nl_ring_get(nl, ri);
	if (ret)
		nl_fail(nl, "up", ret);
	cp_nl_close(nl);
	self = (*info)->name[0] ? cp_ring_find(&ri->ring, (*info)->name) : -1;
	/*
	 * A member at another address (its Listen changed) is left to join,
	 * which says so; a wildcard listen cannot be compared.
	 */
	if (self >= 0 && strcmp(ri->ring.m[self].addr, (*info)->listen) &&
	    strncmp((*info)->listen, "0.0.0.0:", 8) && strncmp((*info)->listen, "[::]:", 5))
		self = -1;
	return self;
}

/*
 * The first seed that answers a ring read (its ring in r), or -1. Join
 * goes there first: it waits for its seed to take the change, which a
 * seed that is down never does.
 */
static int first_seed(const struct conf *c, struct cp_ring *r)
{
	unsigned int i;

	for (i = 0; i < c->nseeds; i++)
		if (!cp_ring_fetch(c->seeds[i], r))
			return i;
	return -1;
}

/*
 * Join through the first seed that answers, unless this node is in the
 * ring already with the weight asked: a restart of the whole cluster then
 * needs no seed to be up first. In the ring means in that seed's ring as
 * well as its own: a node removed while it was down still holds itself
 * until the members tell it otherwise, which its start asked them to do.
 * No seed answering, its own ring is trusted.
 */
static void up_join(const struct conf *c)
{
	struct cp_node_info *info;
	struct cp_ring_info ri;
	double end = now_s() + UP_FORGET_S;
	struct cp_ring sr;
	int self, seed, idx;
	unsigned int i;
	bool held = true;

	use_key(NULL, c->join_key);
	self = own_entry(&ri, &info);
	seed = first_seed(c, &sr);
	if (seed >= 0) {
		idx = cp_ring_find(&sr, info->name);
		held = self >= 0 && idx >= 0 && !strcmp(sr.m[idx].addr, ri.ring.m[self].addr);
		cp_ring_free(&sr);
	}
	if (self >= 0 && !held) {
		/* Join would find itself in and add nothing: wait to hear it is out. */
		while (self >= 0 && now_s() < end) {
			cp_ring_free(&ri.ring);
			free(info);
			usleep(100 * 1000);
			self = own_entry(&ri, &info);
		}
		if (self >= 0)
			fail("up: %s is in its own ring after %d s, not in its seeds'; %s",
			     info->name, UP_FORGET_S, "is the cluster key the same?");
	}
	if (self >= 0 && (!c->weight_given || ri.ring.m[self].weight == c->weight)) {
		cp_ring_free(&ri.ring);
		free(info);
		return;
	}
	cp_ring_free(&ri.ring);
	free(info);
	if (seed >= 0 && join_via(c->seeds[seed], c))
		return;
	for (i = 0; i < c->nseeds; i++)
		if ((int)i != seed && join_via(c->seeds[i], c))
			return;
	fail("up: the node runs, but joined no ring: no seed took it in");
}

int cmd_up(const struct subcommand *cmd, int argc, char **argv)
{
	char *path = conf_lookup(cmd, argc, argv);
	struct conf c;

	conf_parse(cmd, &c, path);
	enter_ns(&c);
	if (!c.node.listen)
		fail("up: %s: [Node] has no Listen and Directory", path);
	load_module();
	conf_apply(cmd, &c, MODE_UP);
	if (c.nseeds)
		up_join(&c);
	return EXIT_OK;
}

int cmd_down(const struct subcommand *cmd, int argc, char **argv)
{
	char *path = conf_lookup(cmd, argc, argv);
	struct cp_nl *nl;
	struct conf c;
	int ret;

	conf_parse(cmd, &c, path);
	enter_ns(&c);
	/* No module: no node running, which is what down asks for. */
	ret = cp_nl_open(&nl);
	if (ret == -ENOENT)
		return EXIT_OK;
	if (ret)
		fail("down: %s", cp_nl_strerror(NULL, ret));
	ret = cp_nl_node_stop(nl);
	if (ret && ret != -EALREADY)
		nl_fail(nl, "down", ret);
	cp_nl_close(nl);
	return EXIT_OK;
}
