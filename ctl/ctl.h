/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CTL_H
#define CTL_H

#include <stdbool.h>
#include <stdio.h>

#define PROG_NAME "cachepeerctl"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __noreturn __attribute__((noreturn))

/* Exit statuses, the same for every command; listed in --help and the README. */
enum {
	EXIT_OK = 0,
	EXIT_ERR = 1,		/* any error not listed below */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_NOT_FOUND = 3,	/* no such block */
	EXIT_CONN = 4,		/* cannot reach a node over the network */
	EXIT_CRC = 5,		/* data failed its CRC, or the node found it corrupt */
	EXIT_NO_MODULE = 6,	/* the cachepeer module is not loaded */
	EXIT_DENIED = 7,	/* the node refused the key, or the request */
};

struct subcommand {
	const char *name;
	int (*fn)(const struct subcommand *cmd, int argc, char **argv);
	const char *args;	/* argument synopsis */
	const char *summary;
};

/*
 * One option parser for every command. A command lists its options; -j
 * (--json) and -h (--help) are accepted by all, anywhere on the line, and
 * "--" ends the options. Values are checked by kind, with one message per
 * kind, so a bad value reads the same whatever the command.
 */
enum opt_kind {
	OPT_FLAG,		/* bool */
	OPT_STRING,		/* const char * */
	OPT_ADDR,		/* const char *, ADDR:PORT or [ADDR6]:PORT */
	OPT_SIZE,		/* unsigned long long bytes: 4M, 64K, 1G (powers of 1024) */
	OPT_COUNT,		/* unsigned long long, plain decimal, at most max */
	OPT_MS,			/* unsigned long long ms: 30s, 500ms, 2m; bare: ms */
	OPT_SECONDS,		/* unsigned long long s: 10m, 30s, 1h; bare: s */
	OPT_CHOICE,		/* int, the index in choices */
};

struct opt {
	const char *name;	/* long name, without "--" */
	char short_name;	/* 0: none */
	enum opt_kind kind;
	void *out;
	bool *given;		/* if set, becomes true when the option appears */
	unsigned long long min, max;	/* OPT_COUNT, OPT_SIZE, OPT_MS, OPT_SECONDS; max 0: none */
	const char * const *choices;	/* OPT_CHOICE, NULL-terminated */
};

/* An option: OPT("name", OPT_KIND, &out, .given = ..., .max = ...). */
#define OPT(n, k, o, ...) { .name = (n), .kind = (k), .out = (o), ##__VA_ARGS__ }

extern bool opt_json;
extern const char *opt_context;

void opt_value(const struct subcommand *cmd, const struct opt *o, const char *arg);

int parse_cmdline(const struct subcommand *cmd, int argc, char **argv, const struct opt *opts,
		  char ***operands);
__printf(2, 3) __noreturn void usage_error(const struct subcommand *cmd, const char *fmt, ...);
void print_usage(FILE *f, const struct subcommand *cmd);
__printf(1, 2) __noreturn void fail(const char *fmt, ...);
__printf(2, 3) __noreturn void fail_with(int status, const char *fmt, ...);

/* output.c: values in and out */
int parse_size(const char *s, unsigned long long *out);
int parse_count(const char *s, unsigned long long *out);
int parse_duration(const char *s, unsigned long long unit_ms, unsigned long long *out);
const char *fmt_size(unsigned long long v, char *buf, size_t len);
void json_string(FILE *f, const char *s);
void json_u64(FILE *f, const char *name, unsigned long long v, const char *sep);
double now_s(void);

/* node.c */
struct cp_nl;
struct cp_node_info;
struct cp_nl *open_nl(void);	/* exits on failure */
__noreturn void nl_fail(struct cp_nl *nl, const char *what, int err);
struct cp_node_info *cp_node_query(void);
void no_operands(const struct subcommand *cmd, int argc, char **argv);
void node_json(FILE *f, const struct cp_node_info *info);
const char *local_peer(void);
int cmd_status(const struct subcommand *cmd, int argc, char **argv);
int cmd_start(const struct subcommand *cmd, int argc, char **argv);
int cmd_stop(const struct subcommand *cmd, int argc, char **argv);
int cmd_set(const struct subcommand *cmd, int argc, char **argv);
int cmd_limits(const struct subcommand *cmd, int argc, char **argv);

/* stats.c */
int cmd_stats(const struct subcommand *cmd, int argc, char **argv);
int cmd_scrub(const struct subcommand *cmd, int argc, char **argv);
int cmd_conns(const struct subcommand *cmd, int argc, char **argv);

/* block.c */
int cmd_put(const struct subcommand *cmd, int argc, char **argv);
int cmd_get(const struct subcommand *cmd, int argc, char **argv);
int cmd_stat(const struct subcommand *cmd, int argc, char **argv);
int cmd_del(const struct subcommand *cmd, int argc, char **argv);

/* cluster.c */
int cmd_ring(const struct subcommand *cmd, int argc, char **argv);
int cmd_join(const struct subcommand *cmd, int argc, char **argv);
int cmd_leave(const struct subcommand *cmd, int argc, char **argv);

/* key.c */
#define FPR_LEN 8	/* a key's fingerprint: the first bytes of SHA-256 of its secret */
extern const char * const role_names[];
void fpr_hex(const unsigned char *fpr, char *out);
int read_key_file(const char *path, unsigned char *key, size_t *len);
void use_key(const struct subcommand *cmd, const char *spec);
__noreturn void fail_connect(const char *what, const char *peer, int err);
int cmd_key(const struct subcommand *cmd, int argc, char **argv);
int cmd_genkey(const struct subcommand *cmd, int argc, char **argv);

/* conf.c */
int cmd_setconf(const struct subcommand *cmd, int argc, char **argv);
int cmd_showconf(const struct subcommand *cmd, int argc, char **argv);
int cmd_up(const struct subcommand *cmd, int argc, char **argv);
int cmd_down(const struct subcommand *cmd, int argc, char **argv);

/* warmup.c */
int cmd_warmup(const struct subcommand *cmd, int argc, char **argv);

#endif
