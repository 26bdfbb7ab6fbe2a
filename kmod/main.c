// SPDX-License-Identifier: GPL-2.0
/*
 * cachepeer: serve immutable cache blocks from the page cache to peers.
 *
 * Only the init/exit ladder lives here. Workqueues come first, since a node
 * started from module parameters uses them at pernet init; the pernet
 * subsystem is registered before the genl family so that no request can
 * reach a namespace whose node does not exist yet; exit unwinds in exact
 * reverse.
 */

#include <linux/module.h>
#include <net/genetlink.h>

#include <linux/cachepeer.h>

#include "auth.h"
#include "cluster.h"
#include "conn.h"
#include "crc.h"
#include "netlink.h"
#include "service.h"
#include "store.h"

static int __init cp_mod_init(void)
{
	int ret;

	ret = cp_crc_init();
	if (ret)
		return ret;

	ret = cp_auth_init();
	if (ret)
		goto err_auth;

	ret = cp_store_init();
	if (ret)
		goto err_store;

	ret = cp_conn_init();
	if (ret)
		goto err_conn;

	ret = cp_cluster_mod_init();
	if (ret)
		goto err_cluster;

	ret = cp_service_init();
	if (ret)
		goto err_service;

	ret = cp_genl_init();
	if (ret)
		goto err_genl;

	return 0;

err_genl:
	cp_service_uninit();
err_service:
	cp_cluster_mod_exit();
err_cluster:
	cp_conn_uninit();
err_conn:
	cp_store_uninit();
err_store:
	cp_auth_exit();
err_auth:
	cp_crc_exit();
	return ret;
}

static void __exit cp_mod_exit(void)
{
	cp_genl_uninit();
	cp_service_uninit();
	cp_cluster_mod_exit();
	cp_conn_uninit();
	cp_store_uninit();
	cp_auth_exit();
	cp_crc_exit();
}

module_init(cp_mod_init);
module_exit(cp_mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("In-kernel cache peer for distributed file-system block caches");
MODULE_VERSION(CACHEPEER_VERSION);
MODULE_ALIAS_GENL_FAMILY(CACHEPEER_GENL_NAME);
