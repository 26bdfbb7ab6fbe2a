/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints, the "cachepeer" trace system: what a node did, one event
 * each, for perf, bpftrace and tracefs. Addresses are copied into the
 * event (a sockaddr_in6's room; IPv4 ones fit), so nothing here points
 * into the module's objects after the event is recorded.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM cachepeer

#ifndef _CP_TRACE_HELPERS
#define _CP_TRACE_HELPERS
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/socket.h>
#include <linux/string.h>

/* An address into an event's room for one: the family says how much. */
static inline void cp_trace_addr(u8 *room, const struct sockaddr *sa)
{
	memset(room, 0, sizeof(struct sockaddr_in6));
	if (sa->sa_family == AF_INET)
		memcpy(room, sa, sizeof(struct sockaddr_in));
	else if (sa->sa_family == AF_INET6)
		memcpy(room, sa, sizeof(struct sockaddr_in6));
}
#endif

#if !defined(_CP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _CP_TRACE_H

#include <linux/tracepoint.h>

#include <linux/cachepeer.h>

#define CP_TRACE_ID_LEN 16

#define cp_show_op(op) __print_symbolic(op,				\
	{ CACHEPEER_OP_GET, "get" }, { CACHEPEER_OP_PUT, "put" },	\
	{ CACHEPEER_OP_STAT, "stat" }, { CACHEPEER_OP_DEL, "del" },	\
	{ CACHEPEER_OP_PING, "ping" }, { CACHEPEER_OP_RING_GET, "ring_get" }, \
	{ CACHEPEER_OP_RING_PUSH, "ring_push" }, { CACHEPEER_OP_HELLO, "hello" }, \
	{ CACHEPEER_OP_PROBE, "probe" })

#define cp_show_status(s) __print_symbolic(s,				\
	{ CACHEPEER_S_OK, "ok" }, { CACHEPEER_S_NOT_FOUND, "not_found" }, \
	{ CACHEPEER_S_BAD_REQUEST, "bad_request" },			\
	{ CACHEPEER_S_TOO_LARGE, "too_large" }, { CACHEPEER_S_NO_SPACE, "no_space" }, \
	{ CACHEPEER_S_BUSY, "busy" }, { CACHEPEER_S_IO_ERROR, "io_error" }, \
	{ CACHEPEER_S_CORRUPT, "corrupt" }, { CACHEPEER_S_REDIRECT, "redirect" }, \
	{ CACHEPEER_S_DENIED, "denied" }, { CACHEPEER_S_CONFLICT, "conflict" })

/* A request answered: its last byte is with TCP. */
TRACE_EVENT(cachepeer_request,
	TP_PROTO(const struct sockaddr *peer, u64 id, u8 op, u16 status, u64 bytes, u64 ns),
	TP_ARGS(peer, id, op, status, bytes, ns),
	TP_STRUCT__entry(
		__array(u8, peer, sizeof(struct sockaddr_in6))
		__field(u64, id)
		__field(u64, bytes)
		__field(u64, ns)
		__field(u16, status)
		__field(u8, op)
	),
	TP_fast_assign(
		cp_trace_addr(__entry->peer, peer);
		__entry->id = id;
		__entry->bytes = bytes;
		__entry->ns = ns;
		__entry->status = status;
		__entry->op = op;
	),
	TP_printk("peer=%pISpc id=%llu op=%s status=%s bytes=%llu ns=%llu",
		  __entry->peer, __entry->id, cp_show_op(__entry->op),
		  cp_show_status(__entry->status), __entry->bytes,
		  __entry->ns)
);

DECLARE_EVENT_CLASS(cachepeer_conn_class,
	TP_PROTO(const struct sockaddr *peer, u64 rx_bytes, u64 tx_bytes, u64 age_ms),
	TP_ARGS(peer, rx_bytes, tx_bytes, age_ms),
	TP_STRUCT__entry(
		__array(u8, peer, sizeof(struct sockaddr_in6))
		__field(u64, rx_bytes)
		__field(u64, tx_bytes)
		__field(u64, age_ms)
	),
	TP_fast_assign(
		cp_trace_addr(__entry->peer, peer);
		__entry->rx_bytes = rx_bytes;
		__entry->tx_bytes = tx_bytes;
		__entry->age_ms = age_ms;
	),
	TP_printk("peer=%pISpc rx_bytes=%llu tx_bytes=%llu age_ms=%llu", __entry->peer,
		  __entry->rx_bytes, __entry->tx_bytes, __entry->age_ms)
);

/* A client connection accepted (its counts all 0). */
DEFINE_EVENT(cachepeer_conn_class, cachepeer_conn_open,
	TP_PROTO(const struct sockaddr *peer, u64 rx_bytes, u64 tx_bytes, u64 age_ms),
	TP_ARGS(peer, rx_bytes, tx_bytes, age_ms)
);

/* A client connection closed, for whatever reason. */
DEFINE_EVENT(cachepeer_conn_class, cachepeer_conn_close,
	TP_PROTO(const struct sockaddr *peer, u64 rx_bytes, u64 tx_bytes, u64 age_ms),
	TP_ARGS(peer, rx_bytes, tx_bytes, age_ms)
);

DECLARE_EVENT_CLASS(cachepeer_block_class,
	TP_PROTO(const u8 *id, u64 size),
	TP_ARGS(id, size),
	TP_STRUCT__entry(
		__array(u8, id, CP_TRACE_ID_LEN)
		__field(u64, size)
	),
	TP_fast_assign(
		memcpy(__entry->id, id, CP_TRACE_ID_LEN);
		__entry->size = size;
	),
	TP_printk("block=%*phN size=%llu", CP_TRACE_ID_LEN, __entry->id, __entry->size)
);

/* A block evicted for the limits or for space. */
DEFINE_EVENT(cachepeer_block_class, cachepeer_evict,
	TP_PROTO(const u8 *id, u64 size),
	TP_ARGS(id, size)
);

/* A block dropped: a segment failed its CRC (on a read or the scrub's). */
DEFINE_EVENT(cachepeer_block_class, cachepeer_corrupt,
	TP_PROTO(const u8 *id, u64 size),
	TP_ARGS(id, size)
);

/*
 * A scrub pass ended, having verified blocks: whole, or cut short (the
 * patrol turned off). Corrupt blocks it found are cachepeer_corrupt events.
 */
TRACE_EVENT(cachepeer_scrub_pass,
	TP_PROTO(u64 blocks, bool completed),
	TP_ARGS(blocks, completed),
	TP_STRUCT__entry(
		__field(u64, blocks)
		__field(bool, completed)
	),
	TP_fast_assign(
		__entry->blocks = blocks;
		__entry->completed = completed;
	),
	TP_printk("blocks=%llu completed=%d", __entry->blocks, __entry->completed)
);

/* A ring push or answer taken in (its news merged), found stale, or refused. */
TRACE_EVENT(cachepeer_ring,
	TP_PROTO(u64 epoch, u64 sent_epoch, const char *result),
	TP_ARGS(epoch, sent_epoch, result),
	TP_STRUCT__entry(
		__field(u64, epoch)
		__field(u64, sent_epoch)
		__string(result, result)
	),
	TP_fast_assign(
		__entry->epoch = epoch;
		__entry->sent_epoch = sent_epoch;
		__assign_str(result);
	),
	TP_printk("epoch=%llu sent_epoch=%llu result=%s", __entry->epoch, __entry->sent_epoch,
		  __get_str(result))
);

/* A call to another member ended: answered (status), or err. */
TRACE_EVENT(cachepeer_peer_call,
	TP_PROTO(const struct sockaddr *to, u8 op, int err, u16 status, u64 ns),
	TP_ARGS(to, op, err, status, ns),
	TP_STRUCT__entry(
		__array(u8, to, sizeof(struct sockaddr_in6))
		__field(u64, ns)
		__field(int, err)
		__field(u16, status)
		__field(u8, op)
	),
	TP_fast_assign(
		cp_trace_addr(__entry->to, to);
		__entry->ns = ns;
		__entry->err = err;
		__entry->status = status;
		__entry->op = op;
	),
	TP_printk("to=%pISpc op=%s err=%d status=%s ns=%llu", __entry->to,
		  cp_show_op(__entry->op), __entry->err,
		  cp_show_status(__entry->status), __entry->ns)
);

#endif /* _CP_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
