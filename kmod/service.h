/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CP_SERVICE_H
#define _CP_SERVICE_H

#include <linux/mutex.h>
#include <net/net_namespace.h>

#include <linux/cachepeer.h>

/* One cache node per network namespace. */
struct cp_service {
	struct net *net;
	/* Serialises control operations; the genl family has parallel_ops. */
	struct mutex lock;
	enum cachepeer_node_state state;
	char name[CACHEPEER_NAME_MAX + 1];
};

struct cp_service *cp_service_get(const struct net *net);
bool cp_service_name_valid(const char *name, size_t len);
int cp_service_set_name(struct cp_service *svc, const char *name);
int cp_service_start(struct cp_service *svc);
int cp_service_stop(struct cp_service *svc);

int cp_service_init(void);
void cp_service_uninit(void);

#endif /* _CP_SERVICE_H */
