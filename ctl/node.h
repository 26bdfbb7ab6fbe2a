/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NODE_H
#define NODE_H

#include <limits.h>

#include "ctl.h"
#include "nl.h"

/*
 * A node's configuration as set and start take it, from the command line
 * or a config file: the same option tables (node_opts()) fill it.
 */
struct node_conf {
	struct cp_settings set;
	const char *key_file, *next_file;	/* cluster keys, files */
	const char *listen, *dir;		/* start's; NULL: not given */
	unsigned long long max_block, frame_timeout_ms;	/* 0: not given */
};

#define SET_OPTS	(CP_SET_COUNT + 1)
#define START_OPTS	5

extern const char * const miss_names[], * const evict_names[], * const access_names[];

void node_opts(struct node_conf *c, struct opt *set_opts, struct opt *start_opts);
void node_set(const struct subcommand *cmd, struct cp_nl *nl, struct node_conf *c);
void node_start_cfg(const struct subcommand *cmd, const struct node_conf *c,
		    struct cp_start_cfg *cfg, char dir[PATH_MAX]);
void node_start(const struct subcommand *cmd, struct cp_nl *nl, const struct cp_start_cfg *cfg,
		const char *listen);
const char *start_diff(const struct cp_start_cfg *cfg, const struct cp_node_info *info,
		       char *now, char *asked, size_t len);

#endif
