/* SPDX-License-Identifier: GPL-2.0 */
/* Statistics: the node's per-CPU event counters. */
#ifndef _CP_STATS_H
#define _CP_STATS_H

#include <linux/percpu.h>
#include <linux/u64_stats_sync.h>

#include <linux/cachepeer.h>

/*
 * A node's event counters, one table for every part of the module. Gauges
 * (blocks, bytes, connections) are kept by their owners, who need them for
 * decisions; what only ever counts up lives here.
 */
enum cp_stat {
	CP_STAT_HITS,			/* GETs answered OK */
	CP_STAT_MISSES,			/* GETs answered NOT_FOUND */
	CP_STAT_ZC_BYTES,		/* data spliced from the page cache */
	CP_STAT_COPIED_BYTES,		/* data TCP had to copy */
	CP_STAT_SOFTIRQ_TX,		/* responses sent from softirq */
	CP_STAT_TIMEOUTS,		/* connections closed for an unfinished frame */
	CP_STAT_TX_STALLS,		/* closed for acknowledging nothing sent */
	CP_STAT_CONNS_REFUSED,		/* over the connection limit */
	CP_STAT_CONNS_REFUSED_SOURCE,	/* over the per-source limit */
	CP_STAT_CONNS_REFUSED_MEMORY,	/* refused or closed: no memory */
	CP_STAT_IDLE_CLOSES,		/* closed after the idle timeout */
	CP_STAT_QUEUE_PAUSES,		/* times a connection hit a bound */
	CP_STAT_HELLOS,			/* connections authenticated */
	CP_STAT_HELLO_FAILURES,		/* HELLOs refused */
	CP_STAT_DENIED_UNAUTH,		/* requests DENIED: no HELLO */
	CP_STAT_DENIED_ROLE,		/* requests DENIED: the role */
	CP_STAT_CORRUPT,		/* blocks dropped for bad CRCs */
	CP_STAT_EVICTIONS,
	CP_STAT_FOREIGN,		/* bad block files removed */
	CP_STAT_SCRUB_PASSES,
	CP_STAT_SCRUB_BLOCKS,
	CP_STAT_SCRUB_BYTES,
	CP_STAT_SCRUB_CORRUPT,
	CP_STAT_FORWARDS,		/* GETs, PUTs and DELs relayed to their owner */
	CP_STAT_REDIRECTS,
	CP_STAT_HANDOFFS,		/* blocks fetched from a previous owner */
	CP_STAT_PEER_ERRORS,		/* failed calls to other members */
	CP_STAT_PEER_CONNECTS,		/* connections opened to other members */
	CP_STAT_HANDOFF_JOINED,		/* misses that waited for a hand-off under way */
	CP_STAT_RING_ACCEPTED,
	CP_STAT_RING_REFUSED,
	CP_STAT_RING_SENT,		/* views sent, whole or partial */
	CP_STAT_RING_STALE,		/* pushes that brought nothing new */
	CP_STAT_RING_DIGESTS,		/* gossip digests sent */
	CP_STAT_PROBES,			/* members probed */
	CP_STAT_MEMBER_SUSPECT,		/* members this node's probes found silent */
	CP_STAT_MEMBER_DOWN,		/* suspect members this node declared down */
	CP_STAT_MEMBER_REFUTED,		/* times this node refuted being suspect */
	CP_STAT_FORWARD_JOINED,		/* GETs that waited for a forward under way */
	CP_STAT_OP,			/* + enum cachepeer_op: requests */
	CP_STAT_STATUS = CP_STAT_OP + CACHEPEER_OP_MAX + 1,	/* + status: responses */
	CP_STAT_MAX = CP_STAT_STATUS + CACHEPEER_S_MAX + 1
};

/* Latency histograms are kept per op, the op number the index. */
#define CP_LAT_OPS	(CACHEPEER_OP_MAX + 1)

/* Per CPU: the data path writes no shared cache line. */
struct cp_stats {
	u64_stats_t v[CP_STAT_MAX];
	struct u64_stats_sync syncp;
};

/*
 * Latency histograms, per CPU too: about 9 KiB a CPU, so made when a node
 * first starts, not for every namespace there is.
 */
struct cp_lat {
	u64_stats_t sum[CP_LAT_OPS];		/* ns */
	u64_stats_t b[CP_LAT_OPS][CACHEPEER_LAT_BUCKETS];
	struct u64_stats_sync syncp;
};

struct cp_stats __percpu *cp_stats_alloc(void);
void cp_stats_free(struct cp_stats __percpu *stats);
void cp_stats_add(struct cp_stats __percpu *stats, enum cp_stat i, u64 v);
void cp_stats_sum(struct cp_stats __percpu *stats, u64 *sum);
struct cp_lat __percpu *cp_lat_alloc(void);
void cp_lat_free(struct cp_lat __percpu *lat);
void cp_lat_add(struct cp_lat __percpu *lat, u8 op, u64 ns);
u64 cp_lat_sum(struct cp_lat __percpu *lat, u8 op, u64 *b, u64 *scratch);

static inline void cp_stats_inc(struct cp_stats __percpu *stats, enum cp_stat i)
{
	cp_stats_add(stats, i, 1);
}

#endif /* _CP_STATS_H */
