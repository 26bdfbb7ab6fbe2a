// SPDX-License-Identifier: GPL-2.0
/*
 * Per-network-namespace node lifecycle.
 *
 * Kernel sockets hold no active reference on their namespace, so a node
 * cannot keep its namespace alive: everything a node owns is torn down from
 * the pernet exit path, which also runs for every namespace at rmmod.
 */

#include <linux/moduleparam.h>
#include <linux/string.h>
#include <net/netns/generic.h>

#include "service.h"

static unsigned int cp_net_id __read_mostly;

static char node_name[CACHEPEER_NAME_MAX + 1];

/* Plain ASCII on purpose: the kernel's isalnum() accepts Latin-1 letters. */
static bool name_char_valid(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool cp_service_name_valid(const char *name, size_t len)
{
	size_t i;

	if (!len || len > CACHEPEER_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (!name_char_valid(name[i]))
			return false;
	}
	return true;
}

static int node_name_param_set(const char *val, const struct kernel_param *kp)
{
	if (!cp_service_name_valid(val, strlen(val)))
		return -EINVAL;
	return param_set_copystring(val, kp);
}

static const struct kernel_param_ops node_name_param_ops = {
	.set = node_name_param_set,
	.get = param_get_string,
};

static struct kparam_string node_name_kps = {
	.maxlen = sizeof(node_name),
	.string = node_name,
};

module_param_cb(node_name, &node_name_param_ops, &node_name_kps, 0444);
MODULE_PARM_DESC(node_name,
		 "Name of the initial namespace's node, 1-63 of [A-Za-z0-9._-]. Default: unset");

struct cp_service *cp_service_get(const struct net *net)
{
	return net_generic(net, cp_net_id);
}

int cp_service_set_name(struct cp_service *svc, const char *name)
{
	lockdep_assert_held(&svc->lock);

	if (!cp_service_name_valid(name, strlen(name)))
		return -EINVAL;
	strscpy(svc->name, name);
	return 0;
}

int cp_service_start(struct cp_service *svc)
{
	lockdep_assert_held(&svc->lock);

	if (svc->state == CACHEPEER_NODE_RUNNING)
		return -EALREADY;
	svc->state = CACHEPEER_NODE_RUNNING;
	return 0;
}

int cp_service_stop(struct cp_service *svc)
{
	lockdep_assert_held(&svc->lock);

	if (svc->state == CACHEPEER_NODE_STOPPED)
		return -EALREADY;
	svc->state = CACHEPEER_NODE_STOPPED;
	return 0;
}

static int __net_init cp_net_init(struct net *net)
{
	struct cp_service *svc = cp_service_get(net);

	svc->net = net;
	mutex_init(&svc->lock);
	svc->state = CACHEPEER_NODE_STOPPED;
	if (net_eq(net, &init_net))
		strscpy(svc->name, node_name);
	return 0;
}

/*
 * No netlink request can race with this: a request's socket pins its
 * namespace, so by now no socket of this namespace is left to send one.
 */
static void __net_exit cp_net_exit(struct net *net)
{
	struct cp_service *svc = cp_service_get(net);

	mutex_lock(&svc->lock);
	if (svc->state == CACHEPEER_NODE_RUNNING)
		cp_service_stop(svc);
	mutex_unlock(&svc->lock);
	mutex_destroy(&svc->lock);
}

static struct pernet_operations cp_net_ops = {
	.init = cp_net_init,
	.exit = cp_net_exit,
	.id = &cp_net_id,
	.size = sizeof(struct cp_service),
};

int __init cp_service_init(void)
{
	return register_pernet_subsys(&cp_net_ops);
}

void cp_service_uninit(void)
{
	unregister_pernet_subsys(&cp_net_ops);
}
