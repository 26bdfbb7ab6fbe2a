/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * cachepeer: an in-kernel peer for distributed file-system block caches.
 *
 * This header is the ABI shared by the kernel module and cachepeerctl. It is
 * the protocol reference; keep it userspace-safe (__u32, 1U << n, no BIT()).
 *
 * Control plane: generic netlink family "cachepeer"
 * -------------------------------------------------
 *
 * Every network namespace is an independent cache node. Requests act on the
 * node of the requesting socket's namespace. Mutating commands require
 * CAP_NET_ADMIN in the user namespace that owns that network namespace.
 * Attribute parsing is strict: unknown attributes, wrong types and lengths,
 * unknown flags and a non-zero genlmsghdr.reserved are rejected with an
 * extended ACK message.
 *
 * CACHEPEER_CMD_NODE_GET (do)
 *   request:  none
 *   reply:    CACHEPEER_CMD_NODE_GET
 *               CACHEPEER_A_NODE_VERSION   string, module version
 *               CACHEPEER_A_NODE_STATE     u32, enum cachepeer_node_state
 *               CACHEPEER_A_NODE_NAME      string, may be empty
 *
 * CACHEPEER_CMD_NODE_SET (do, admin)
 *   request:  CACHEPEER_A_NODE_NAME       1..CACHEPEER_NAME_MAX bytes of
 *                                          [A-Za-z0-9._-]
 *
 * CACHEPEER_CMD_NODE_START (do, admin)
 *   request:  none
 *   Moves the node from STOPPED to RUNNING; -EALREADY if it is running.
 *
 * CACHEPEER_CMD_NODE_STOP (do, admin)
 *   request:  none
 *   Moves the node from RUNNING to STOPPED; -EALREADY if it is stopped.
 */
#ifndef _UAPI_LINUX_CACHEPEER_H
#define _UAPI_LINUX_CACHEPEER_H

#include <linux/types.h>

#define CACHEPEER_GENL_NAME	"cachepeer"
#define CACHEPEER_GENL_VERSION	1

/* Longest node name, not counting the terminating NUL. */
#define CACHEPEER_NAME_MAX	63

enum cachepeer_node_state {
	CACHEPEER_NODE_STOPPED,
	CACHEPEER_NODE_RUNNING,
};

enum cachepeer_cmd {
	CACHEPEER_CMD_UNSPEC,
	CACHEPEER_CMD_NODE_GET,
	CACHEPEER_CMD_NODE_SET,
	CACHEPEER_CMD_NODE_START,
	CACHEPEER_CMD_NODE_STOP,

	__CACHEPEER_CMD_MAX,
	CACHEPEER_CMD_MAX = __CACHEPEER_CMD_MAX - 1
};

enum cachepeer_node_attr {
	CACHEPEER_A_NODE_UNSPEC,
	CACHEPEER_A_NODE_VERSION,
	CACHEPEER_A_NODE_STATE,
	CACHEPEER_A_NODE_NAME,

	__CACHEPEER_A_NODE_MAX,
	CACHEPEER_A_NODE_MAX = __CACHEPEER_A_NODE_MAX - 1
};

#endif /* _UAPI_LINUX_CACHEPEER_H */
