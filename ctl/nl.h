/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NL_H
#define NL_H

#include <linux/types.h>
#include <linux/cachepeer.h>

/*
 * All libnl code lives behind these functions. They return 0 or a negative
 * errno; cp_nl_strerror() turns that, plus the kernel's extended ACK message
 * if there was one, into a one-line reason.
 */

struct cp_nl;

struct cp_node_info {
	char version[32];
	__u32 state;
	char name[CACHEPEER_NAME_MAX + 1];
};

int cp_nl_open(struct cp_nl **nlp);
void cp_nl_close(struct cp_nl *nl);
const char *cp_nl_strerror(struct cp_nl *nl, int err);

int cp_nl_node_get(struct cp_nl *nl, struct cp_node_info *info);
int cp_nl_node_set_name(struct cp_nl *nl, const char *name);
int cp_nl_node_start(struct cp_nl *nl);
int cp_nl_node_stop(struct cp_nl *nl);

#endif
