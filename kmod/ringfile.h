/* SPDX-License-Identifier: GPL-2.0 */
/* The node's ring, kept in its cache directory across restarts. */
#ifndef _CP_RINGFILE_H
#define _CP_RINGFILE_H

struct cp_service;

void cp_ringfile_init(struct cp_service *svc);
int cp_ringfile_start(struct cp_service *svc);
void cp_ringfile_stop(struct cp_service *svc);
void cp_ringfile_exit(struct cp_service *svc);

#endif /* _CP_RINGFILE_H */
