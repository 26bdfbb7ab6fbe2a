/* SPDX-License-Identifier: GPL-2.0 */
/* Module parameters, as the initial namespace's node reads them. */
#ifndef _CP_PARAMS_H
#define _CP_PARAMS_H

#include "service.h"

/* What the module parameters say about the initial namespace's node. */
struct cp_params {
	const char *name;
	struct cp_limits limits;
	bool start;			/* cache_dir= and listen= were given */
	const char *listen;		/* then, listen= as given */
	struct cp_config cfg;		/* then, how to start it */
};

int cp_params_read(struct net *net, struct cp_params *p);

#endif /* _CP_PARAMS_H */
