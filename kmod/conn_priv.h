/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the connection's own files only: conn.c (lifetime, callbacks,
 * CPU placement), rx.c (reading requests), bounds.c (what a connection may
 * hold), request.c (dispatch and the ops a node answers itself), miss.c
 * (GETs for blocks it does not hold, writes routed by the ring), put_fwd.c
 * (PUTs streamed to their owner) and tx.c (sending responses).
 */
#ifndef _CP_CONN_PRIV_H
#define _CP_CONN_PRIV_H

#include <linux/bvec.h>
#include <linux/memcontrol.h>
#include <linux/pagevec.h>
#include <linux/sched/mm.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/timer.h>
#include <linux/workqueue.h>
#include <net/sock.h>

#include "conn.h"
#include "proto.h"
#include "service.h"

#define CP_INFLIGHT_MAX		512
#define CP_INFLIGHT_RESUME	384
#define CP_TX_BVECS		(PAGEVEC_SIZE + 1)	/* a header and a folio batch */
#define CP_REQ_LEN		sizeof(struct cachepeer_req)
#define CP_RESP_LEN		sizeof(struct cachepeer_resp)
#define CP_PUT_CHUNK		(64 * 1024)	/* a connection's PUT payload buffer */

/*
 * What a node allocates for its connections (the connection, requests,
 * answers and their headers, payload buffers) is charged to the memory
 * cgroup of whoever started it (cp_conn_memcg()), and fails at that
 * cgroup's limit: a failure is backpressure. Never GFP_ATOMIC: its
 * __GFP_HIGH would force the charge past memory.max. Workers reclaim once
 * and do not retry, so a node at its limit never calls the OOM killer on
 * the tasks beside it; for the same reason the memcg is made active only
 * around these allocations, never around page-cache reads or writes, inode
 * or socket creation, which charge with GFP_KERNEL. Socket buffers are not
 * the cgroup's at all: TCP charges them with GFP_KERNEL from a sending
 * worker, which at the limit ran the OOM killer in the starter's cgroup,
 * and forces them past it from softirq. They stay under TCP's own limits.
 */
#define CP_GFP_ATOMIC		(GFP_NOWAIT | __GFP_ACCOUNT | __GFP_NOWARN)
#define CP_GFP			(GFP_KERNEL_ACCOUNT | __GFP_NORETRY | __GFP_NOWARN)

enum {
	RX_FRAME,	/* parsing headers from softirq */
	RX_PAYLOAD,	/* put_work owns the socket's bytes */
	RX_STOPPED,	/* after a fatal frame: read nothing more */
};

enum cp_hello {
	HELLO_NONE,	/* it may HELLO */
	HELLO_PROVING,	/* HELLO (1) answered: the proof is next */
	HELLO_DONE,	/* authenticated, or no HELLO any more */
};

enum {
	CONN_CLOSED,	/* conn_close() has begun */
	CONN_EOF,	/* peer sent FIN: finish once in-flight requests are done */
	CONN_RX_END,	/* RX_STOPPED: finish once in-flight requests are done */
	CONN_FIN,	/* cp_conn_finish(): our FIN follows the queued bytes */
};

struct cp_source;

struct cp_conn {
	struct cp_service *svc;
	struct socket *sock;
	struct list_head link;		/* in svc->conns, under svc->conns_lock */
	struct cp_source *source;	/* its count in svc->sources; NULL: a member */
	refcount_t ref;
	unsigned long flags;
	atomic_t inflight;
	/* What its answers hold (bounded by svc->climits): see cp_conn_charge(). */
	atomic_long_t queued;		/* bytes of memory */
	atomic_long_t pinned;		/* bytes of page-cache data */
	atomic_long_t relayed;		/* bytes relayed from other members */
	bool member;			/* from a ring member's address */
	unsigned long active;		/* jiffies of the last byte either way */
	int cpu;			/* rx_work, tx_work: see conn_cpu() */
	int home_cpu;			/* conn_pick_cpu()'s */
	struct sockaddr_storage peer;
	u64 born;			/* ktime_get_ns() */
	u64 rx_bytes;			/* under the socket lock or put_work */
	u64 tx_bytes;			/* under the socket lock, as TX */

	/* HELLO (hello.c), under the socket lock */
	u8 role;			/* enum cachepeer_role: what it may do */
	u8 hello;			/* enum cp_hello */
	struct cp_key *key;		/* proved (role set), or being proved */
	u8 expect[CACHEPEER_HMAC_LEN];	/* the client's proof, to come */

	/* RX state, under the socket lock */
	int rx_state;
	bool rx_paused;			/* in-flight bound reached */
	bool rx_retry;			/* a whole frame waits for memory */
	bool rx_frame_done;		/* a frame ended since the deadline was set */
	struct cp_frame rx;
	struct timer_list frame_timer;
	struct work_struct rx_work;

	/* PUT payload, owned by put_work while rx_state == RX_PAYLOAD */
	struct cp_request *put_req;
	void *put_buf;
	struct work_struct put_work;

	spinlock_t tx_lock;		/* tx_queue, dead, tx_held */
	struct list_head tx_queue;
	bool dead;			/* conn_close(): queue no response, kick no rx_work */
	bool tx_held;			/* softirq TX ahead: it kicks tx_work after */
	struct work_struct tx_work;
	struct task_struct *tx_owner;	/* tx_work's task, while it owns the socket */
	/*
	 * The send state belongs to whoever holds the socket lock: tx_work
	 * (lock_sock()), or softirq TX (the socket's spinlock, the socket
	 * not owned): cp_tx_direct(), or tx.c's relay of a member's answer.
	 */
	struct cp_request *tx_cur;	/* partly sent, or deferred by softirq TX */
	struct page_frag_cache pfc;
	/* send_response()'s, here rather than on the stack */
	struct bio_vec tx_bv[CP_TX_BVECS];
	struct folio_batch tx_fb;

	/* Sent bytes the peer does not acknowledge: see cp_conn_stall_arm(). */
	struct timer_list stall_timer;
	u32 stall_una;
	struct timer_list idle_timer;

	struct work_struct fin_work;
	struct work_struct close_work;
	struct work_struct free_work;
};

/* One request, from its frame until its response is sent or dropped. */
struct cp_request {
	struct list_head list;
	struct cp_conn *conn;		/* holds a reference */
	struct cp_block *block;		/* GET, STAT: holds a reference */
	struct cp_blkfile *bf;		/* GET with data: holds a reference */
	struct cp_put *put;
	int put_err;
	struct cp_pbuf *pbuf;		/* data not from the page cache */
	struct cp_pbuf_cur pbuf_cur;	/* ...and TX's place in it */
	void *body;			/* small data, from the connection's page_frag */
	void *push_buf;			/* RING_PUSH payload */
	u8 *key;			/* for a call to another member */
	u16 key_len;
	union cp_addr to;		/* that member */
	struct work_struct work;
	u8 key_id[CP_ID_LEN];
	u64 id;
	u64 off;
	u64 len;			/* data bytes in the response */
	u64 block_size;
	u32 crc;
	u32 want_crc;
	u16 status;
	u8 op;
	u8 flags;
	bool elsewhere;			/* PUT: another member's key, to redirect */
	bool fetching;			/* GET: its fetch is in svc->fetches (miss.c) */
	u8 fwd;				/* PUT: forwarded (put_fwd.c), at this step */
	u64 payload_len;
	struct cp_peer *peer;		/* forwarded PUT: the owner's connection */
	u32 fwd_off;			/* ...and the bytes of put_buf to send it */
	u32 fwd_len;
	struct cachepeer_resp *hdr;	/* page_frag, from TX */
	u64 sent;
	u64 born;			/* ktime_get_ns() when parsed */
	long charged;			/* bytes counted in conn->queued */
	long pinned;			/* bytes counted in conn->pinned */
	long relayed;			/* bytes counted in conn->relayed */
};

/* Disk reads, PUT payloads, fsync, peer calls and teardown may block for long. */
extern struct workqueue_struct *cp_wq;

/*
 * Any context: make the node's memory cgroup the one charged, until
 * set_active_memcg() puts back what this returns. Where a connection's
 * work begins: its socket callbacks and its work items.
 */
static inline struct mem_cgroup *cp_conn_memcg(struct cp_conn *conn)
{
	return set_active_memcg(conn->svc->memcg);
}

/* conn.c */
void cp_conn_get(struct cp_conn *conn);
void cp_conn_put(struct cp_conn *conn);
void cp_conn_queue(struct cp_conn *conn, struct work_struct *work);
void cp_conn_kick_rx(struct cp_conn *conn);
void cp_conn_schedule_close(struct cp_conn *conn);
void cp_conn_finish(struct cp_conn *conn);

/* rx.c */
void cp_conn_read_frames(struct cp_conn *conn);
void cp_conn_rx_locked(struct cp_conn *conn);
void cp_rx_frame_timeout(struct timer_list *t);
void cp_rx_work(struct work_struct *work);
void cp_conn_rx_end(struct cp_conn *conn);

/* bounds.c */
int cp_conn_admit(struct cp_service *svc, struct cp_conn *conn, struct cp_source **spare);
struct cp_source *cp_conn_source_alloc(void);
void cp_conn_source_put(struct cp_conn *conn);
void cp_conn_sndbuf(struct cp_conn *conn);
void cp_conn_charge(struct cp_conn *conn, long bytes);
void cp_conn_uncharge(struct cp_conn *conn, long bytes);
void cp_conn_check_bounds(struct cp_conn *conn);
bool cp_conn_may_resume(struct cp_conn *conn);
void cp_conn_maybe_resume(struct cp_conn *conn);
void cp_conn_stall_arm(struct cp_conn *conn);
void cp_conn_bounds_init(struct cp_conn *conn);
void cp_conn_bounds_stop(struct cp_conn *conn);

/* request.c */
int cp_request_dispatch(struct cp_conn *conn, gfp_t gfp);
void cp_request_reject(struct cp_conn *conn, u16 status);
void cp_request_done(struct cp_request *req);
void cp_request_put_work(struct work_struct *work);
void cp_request_charge(struct cp_request *req, long bytes);
void cp_request_answer(struct cp_request *req, u16 status);
void cp_request_queue(struct cp_request *req, work_func_t fn);
struct cp_pbuf *cp_request_pbuf(struct cp_request *req, const void *data, size_t len);
struct cp_block *cp_request_lookup(struct cp_request *req);
void cp_request_get_block(struct cp_request *req, struct cp_block *b);
int cp_request_init(void);
void cp_request_uninit(void);

/* hello.c */
void cp_hello(struct cp_conn *conn, struct cp_request *req);
bool cp_hello_allows(struct cp_conn *conn, u8 op);
u8 cp_hello_role(struct cp_conn *conn);

/* miss.c */
void cp_request_miss(struct cp_request *req, const u8 *key, gfp_t gfp);
bool cp_request_route_write(struct cp_request *req, const u8 *key, gfp_t gfp);
void cp_request_probe(struct cp_request *req, const u8 *key, gfp_t gfp);
void cp_request_redirect(struct cp_request *req);
void cp_request_write_answer(struct cp_request *req, int err, struct cp_peer *p,
			     const struct cp_resp *r);

/* put_fwd.c */
enum { FWD_NONE, FWD_OPENING, FWD_PAYLOAD, FWD_ANSWER };
void cp_put_fwd_start(struct cp_conn *conn, struct cp_request *req);
int cp_put_fwd_pump(struct cp_conn *conn, struct cp_request *req);
void cp_put_fwd_end(struct cp_request *req);
void cp_put_fwd_release(struct cp_request *req, bool reuse);

/* tx.c */
void cp_tx_queue(struct cp_request *req);
void cp_tx_work(struct work_struct *work);
void cp_tx_direct(struct cp_conn *conn);

/*
 * True in tx_work's own backlog processing: the socket is locked by the
 * task that asks, so frames can be parsed here and now, as rx_work would
 * after lock_sock().
 */
static inline bool cp_tx_owns(struct cp_conn *conn)
{
	return in_task() && READ_ONCE(conn->tx_owner) == current;
}

#endif /* _CP_CONN_PRIV_H */
