/* SPDX-License-Identifier: GPL-2.0 */
/* The control plane: registering the generic netlink family. */
#ifndef _CP_NETLINK_H
#define _CP_NETLINK_H

int cp_genl_init(void);
void cp_genl_uninit(void);

#endif /* _CP_NETLINK_H */
