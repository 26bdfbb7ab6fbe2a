/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CP_CONN_H
#define _CP_CONN_H

struct cp_service;
struct socket;

int cp_conn_create(struct cp_service *svc, struct socket *sock);
void cp_conn_close_all(struct cp_service *svc);

int cp_conn_init(void);
void cp_conn_uninit(void);

#endif /* _CP_CONN_H */
