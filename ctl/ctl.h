/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CTL_H
#define CTL_H

#include <stdbool.h>
#include <stdio.h>

#define PROG_NAME "cachepeerctl"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define __printf(a, b) __attribute__((format(printf, a, b)))

/* Exit statuses; documented in cachepeerctl --help. */
enum {
	EXIT_OK = 0,
	EXIT_ERR = 1,		/* any error not listed below */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_NOT_FOUND = 3,	/* no such block */
	EXIT_CONN = 4,		/* cannot reach the node */
	EXIT_CRC = 5,		/* data failed its CRC, or the node found it corrupt */
};

struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;	/* one-line argument synopsis */
	const char *summary;
};

extern bool opt_json;

__printf(2, 3) void usage_error(const struct subcommand *cmd, const char *fmt, ...);
bool want_help(const struct subcommand *cmd, int argc, char **argv);
__printf(1, 2) void fail(const char *fmt, ...);

/* output.c */
extern const char * const op_names[];	/* by enum cachepeer_op */
void json_string(FILE *f, const char *s);
void json_u64(const char *name, unsigned long long v, const char *sep);
int parse_size(const char *s, unsigned long long *out);
const char *fmt_size(unsigned long long v, char *buf, size_t len);
double now_s(void);

/* block.c */
int cmd_put(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_del(int argc, char **argv);

/* cache.c */
int cmd_limits(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_scrub(int argc, char **argv);
int cmd_conns(int argc, char **argv);

/* cluster.c */
int cmd_ring(int argc, char **argv);
int cmd_join(int argc, char **argv);
int cmd_leave(int argc, char **argv);
int read_key_file(const char *path, unsigned char *key, size_t *len);

/* warmup.c */
int cmd_warmup(int argc, char **argv);

/* node.c */
struct cp_node_info;
struct cp_nl;
struct cp_nl *open_nl(void);	/* exits on failure */
struct cp_node_info *cp_node_query(void);
const char *local_peer(void);
int parse_opts(const struct subcommand *cmd, int argc, char **argv, bool json_ok);
int cmd_status(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_set(int argc, char **argv);
const struct subcommand *find_subcommand(const char *name);

#endif
