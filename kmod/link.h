/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Links: a few multiplexed connections per member, for calls whose answers
 * are read on the link's receive path: every call but a forwarded PUT
 * (forwarded GETs and DELs, hand-off fetches, ring pushes, PINGs, PROBEs).
 */
#ifndef _CP_LINK_H
#define _CP_LINK_H

#include <linux/list.h>
#include <linux/types.h>

#include "peer.h"
#include "proto.h"
#include "ring.h"

/* Calls in flight on one link, sent or waiting to be. */
#define CP_LINK_CALLS_MAX	256
/*
 * How long a call may wait for its answer to begin; then reading the
 * answer may take as long again, and a millisecond more per KiB of its
 * data (at least 1 MiB/s: a large block on a slow path still gets through).
 */
#define CP_LINK_ANSWER_MS	10000
#define CP_LINK_RATE_SHIFT	10

/*
 * One call to a member: a request, its answer's header in r and its data,
 * if admitted, in pb. The caller owns the call; from cp_link_call()
 * returning 0 until done() the link uses it.
 */
struct cp_call {
	struct list_head list;		/* the link's queue, or its calls by id */
	struct cp_req q;		/* q.id is the link's to choose */
	const u8 *key;			/* q.key_len bytes, kept until done() */
	const u8 *payload;		/* q.payload_len bytes, kept until done() */
	unsigned int ms;		/* answered within, or -ETIMEDOUT; 0: CP_LINK_ANSWER_MS */
	unsigned long deadline;		/* jiffies, from ms */
	/*
	 * Softirq or process context, under the link's socket: r is the
	 * answer's header, with data. 0 takes the data into pb, an error
	 * drops it and is done()'s. NULL: the call wants a status alone, and
	 * an answer with data is -EBADMSG.
	 */
	int (*admit)(struct cp_call *call);
	/* Any context, once: the call ended, answered (r, pb) unless err. */
	void (*done)(struct cp_call *call, int err);
	struct cp_resp r;
	struct cp_pbuf *pb;
	int err;
	union cp_addr to;		/* for the tracepoint */
	u64 start;			/* ktime_get_ns() */
};

int cp_link_call(struct cp_peers *ps, const union cp_addr *addr, struct cp_call *call);
void cp_links_init(struct cp_peers *ps);
void cp_links_start(struct cp_peers *ps);
void cp_links_stop(struct cp_peers *ps);
void cp_links_expire(struct cp_peers *ps, bool all);
u64 cp_links_calls(struct cp_peers *ps, u32 *most);

#endif /* _CP_LINK_H */
