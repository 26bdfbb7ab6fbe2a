/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The client library's ring (ctl/ring.h), under the names the Makefile
 * gives its functions: its struct names clash with the kernel's, so the
 * layout is repeated here, field for field.
 */
#ifndef FUZZ_CTL_RING_H
#define FUZZ_CTL_RING_H

#include <stddef.h>
#include <stdint.h>

struct ctl_ring_member {
	char name[CACHEPEER_NAME_MAX + 1];
	char addr[64];
	unsigned int weight;
	unsigned int points;
	unsigned int state;
	unsigned int incarnation;
	long long heard_ms;
};

struct ctl_ring {
	uint64_t epoch;
	unsigned int n;
	struct ctl_ring_member *m;
	unsigned int npoints;
	void *points;
};

int ctl_cp_ring_decode(struct ctl_ring *r, const void *buf, size_t len);
int ctl_cp_ring_owner(const struct ctl_ring *r, uint64_t hash);
void ctl_cp_ring_free(struct ctl_ring *r);

#endif
