/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the connection's own files only: conn.c (lifetime, callbacks,
 * RX framing, CPU placement), request.c (dispatch and every op) and tx.c
 * (sending responses).
 */
#ifndef _CP_CONN_PRIV_H
#define _CP_CONN_PRIV_H

#include <linux/bvec.h>
#include <linux/pagevec.h>
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

enum {
	RX_FRAME,	/* parsing headers from softirq */
	RX_PAYLOAD,	/* put_work owns the socket's bytes */
	RX_STOPPED,	/* after a fatal frame: read nothing more */
};

enum {
	CONN_CLOSED,	/* conn_close() has begun */
	CONN_EOF,	/* peer sent FIN: close once in-flight requests are done */
};

struct cp_conn {
	struct cp_service *svc;
	struct socket *sock;
	struct list_head link;		/* in svc->conns, under svc->conns_lock */
	refcount_t ref;
	unsigned long flags;
	atomic_t inflight;
	int cpu;			/* rx_work, tx_work: see conn_cpu() */
	int home_cpu;			/* conn_pick_cpu()'s */
	struct sockaddr_storage peer;
	u64 born;			/* ktime_get_ns() */
	u64 rx_bytes;			/* under the socket lock or put_work */
	u64 tx_bytes;			/* tx_work */

	/* RX state, under the socket lock */
	int rx_state;
	bool rx_paused;			/* in-flight bound reached */
	bool rx_retry;			/* a whole frame waits for memory */
	u32 rx_len;
	struct cp_req rx_req;
	u8 rx_buf[CP_REQ_LEN + CACHEPEER_KEY_MAX];
	struct timer_list frame_timer;
	struct work_struct rx_work;

	/* PUT payload, owned by put_work while rx_state == RX_PAYLOAD */
	struct cp_request *put_req;
	void *put_buf;
	struct work_struct put_work;

	spinlock_t tx_lock;		/* tx_queue, dead, tx_held */
	struct list_head tx_queue;
	bool dead;			/* conn_close(): queue no response, kick no rx_work */
	bool tx_held;			/* softirq RX: kick tx_work when it ends */
	struct work_struct tx_work;
	struct task_struct *tx_owner;	/* tx_work's task, while it owns the socket */
	/*
	 * The send state belongs to whoever holds the socket lock: tx_work
	 * (lock_sock()) or cp_tx_direct() (bh_lock_sock(), socket not owned).
	 */
	struct cp_request *tx_cur;	/* partly sent, or deferred by cp_tx_direct() */
	struct page_frag_cache pfc;
	/* send_response()'s, here rather than on the stack */
	struct bio_vec tx_bv[CP_TX_BVECS];
	struct folio_batch tx_fb;

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
	void *push_buf;			/* RING_PUSH payload */
	u8 *key;			/* GET routed to another member */
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
	bool close_after;
	struct cachepeer_resp *hdr;	/* page_frag, from TX */
	u64 sent;
};

/* Disk reads, PUT payloads, fsync, peer calls and teardown may block for long. */
extern struct workqueue_struct *cp_wq;

/* conn.c */
void cp_conn_get(struct cp_conn *conn);
void cp_conn_put(struct cp_conn *conn);
void cp_conn_queue(struct cp_conn *conn, struct work_struct *work);
void cp_conn_kick_rx(struct cp_conn *conn);
void cp_conn_schedule_close(struct cp_conn *conn);
void cp_conn_read_frames(struct cp_conn *conn);

/* request.c */
int cp_request_dispatch(struct cp_conn *conn, gfp_t gfp);
void cp_request_reject(struct cp_conn *conn, u16 status);
void cp_request_done(struct cp_request *req);
void cp_request_put_work(struct work_struct *work);
int cp_request_init(void);
void cp_request_uninit(void);

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
