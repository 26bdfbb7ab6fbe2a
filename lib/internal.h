/* SPDX-License-Identifier: MIT */
#ifndef CP_INTERNAL_H
#define CP_INTERNAL_H

/*
 * libcachepeer's insides: a handle holds a pool of members (by address),
 * each with its connections; a request is routed to a member, queued on one
 * of its connections, written, and matched to its answer by id.
 *
 * Locking: everything here is under the handle's lock, but for the one
 * thread (the leader) that waits in epoll_wait() with it dropped; callbacks
 * run with it dropped too. A request is owned by the handle from submit to
 * its completion, and after that by the connection still expecting its
 * answer (dead set), which frees it when the answer or the connection ends.
 */

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <cachepeer/client.h>
#include <linux/cachepeer.h>

#include "ring.h"
#include "wire.h"

struct cp_list {
	struct cp_list *next, *prev;
};

#define fallthrough __attribute__((__fallthrough__))

#define cp_entry(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

static inline void cp_list_init(struct cp_list *l)
{
	l->next = l;
	l->prev = l;
}

static inline bool cp_list_empty(const struct cp_list *l)
{
	return l->next == l;
}

static inline void cp_list_add_tail(struct cp_list *e, struct cp_list *head)
{
	e->prev = head->prev;
	e->next = head;
	head->prev->next = e;
	head->prev = e;
}

static inline void cp_list_add(struct cp_list *e, struct cp_list *head)
{
	cp_list_add_tail(e, head->next);
}

static inline void cp_list_del(struct cp_list *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	cp_list_init(e);
}

enum cp_kind {
	CP_K_USER,
	CP_K_RING,		/* RING_GET: the handle's ring */
	CP_K_HELLO,		/* HELLO (1), on its connection only */
	CP_K_PROOF,		/* HELLO (2) */
};

/* Where a response's data goes. */
enum cp_sink {
	CP_SINK_DISCARD,
	CP_SINK_BUF,		/* the caller's buffer */
	CP_SINK_SPLICE,		/* a regular file, through the connection's pipe */
	CP_SINK_COPY,		/* any other fd, read and written */
	CP_SINK_OWN,		/* the request's own buffer (ring, HELLO, REDIRECT) */
};

/* A blocking helper's request: its result, straight to the caller's stack. */
struct cp_sync {
	bool done;
	pthread_cond_t *cond;		/* the caller sleeps on it, if not NULL */
	struct cachepeer_result res;
};

struct cp_req {
	struct cp_list qnode;		/* a connection's out or in-flight list */
	struct cp_list tnode;		/* the handle's list, by deadline */
	uint64_t id;
	enum cp_kind kind;
	struct cachepeer_request r;
	uint64_t hash;
	uint64_t deadline;		/* ms, CLOCK_MONOTONIC */
	struct cp_conn *conn;		/* queued or sent on; NULL: neither */
	bool sent_all;			/* on conn's in-flight list */
	bool dead;			/* completed; its answer is dropped */
	bool splice;			/* CACHEPEER_REQ_FD to a file opened read-write */
	bool seekable;			/* CACHEPEER_REQ_FD: written at fd_offset */
	bool wrote;			/* bytes went to an fd that cannot take them again */
	int to;				/* member to send to next (a REDIRECT's), or -1 */
	unsigned int tries, hops;
	size_t sent;			/* bytes of the frame written */
	uint32_t crc;			/* PUT: of the data, sent with CACHEPEER_F_CRC */
	uint8_t *own;			/* CP_SINK_OWN's data */
	struct cp_sync *sync;		/* a blocking helper's, or NULL */
	struct cachepeer_result res;
	/* The frame's head: header and key, written as one piece. */
	struct {
		struct cachepeer_req hdr;
		uint8_t key[CACHEPEER_KEY_MAX];
	} frame;
};

static_assert(offsetof(struct cp_req, frame.key) - offsetof(struct cp_req, frame.hdr) ==
	       sizeof(struct cachepeer_req), "a frame's key follows its header");

enum cp_conn_state {
	CP_C_CONNECTING,
	CP_C_HELLO,		/* HELLO under way: only its frames are written */
	CP_C_READY,
	CP_C_CLOSED,		/* failed or closed, freed at the end of the round */
};

#define CP_RBUF		(64 * 1024)

struct cp_conn {
	struct cp_list mnode;		/* member's connections, or the handle's closed */
	struct cp_list dnode;		/* the handle's dirty list: has frames to write */
	int member;
	int fd;
	enum cp_conn_state state;
	bool want_out;			/* EPOLLOUT asked for */
	struct cp_list outq;		/* frames to write, the first maybe in part */
	struct cp_list inflight;	/* written, waiting for an answer */
	unsigned int load;		/* user requests in outq and inflight */
	uint64_t deadline;		/* connect and HELLO */
	uint64_t last_active;		/* last request queued or answered */
	uint8_t nonce[CACHEPEER_NONCE_LEN];
	/* Receive: a header, then its data into the current request's sink. */
	uint8_t *rbuf;
	size_t rpos, rlen;
	struct cp_resp cur;
	struct cp_req *creq;		/* NULL: between frames */
	enum cp_sink sink;
	uint64_t cdone;			/* bytes of cur's data taken */
	uint32_t ccrc;			/* CP_SINK_COPY: CRC so far */
	int sink_err;			/* a write to the fd failed: the rest is dropped */
	bool cut;			/* answered while a frame was half written */
	uint64_t last_rx;		/* ms of the last bytes read */
	int pipe[2];			/* CP_SINK_SPLICE; -1 until needed */
};

struct cp_member {
	char addr[CP_ADDR_MAX];
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct cp_list conns;
	unsigned int nconns;
	uint64_t dead_until;		/* ms: unreachable, routed past until then */
	unsigned int fails;		/* in a row: the back-off */
};

/* Most members a handle keeps: a ring's, its seeds, addresses redirected to. */
#define CP_POOL_MAX	(2 * CACHEPEER_RING_MEMBERS_MAX + 64)

struct cp_waiter {
	struct cp_list node;
	uint64_t id;			/* 0: waits to lead (cachepeer_run()) */
	pthread_cond_t cond;
};

struct cachepeer {
	pthread_mutex_t lock;
	struct cachepeer_config cfg;
	int epfd, evfd, tfd;
	bool has_key;
	struct cp_key key;

	struct cp_member **pool;
	unsigned int npool;
	int *seeds;			/* pool indexes */
	unsigned int nseeds;
	bool pinned;			/* no ring: to the seeds */

	struct cp_ring ring;
	int *ring_pool;			/* ring member -> pool index */
	bool *skip;			/* ring member: down or unreachable */
	bool stale, ring_busy;
	int ring_err;			/* of the last ring read */
	uint64_t ring_at;		/* ms of the last ring read asked */

	uint64_t now;			/* ms, as of the round or submit under way */
	bool now_fresh;			/* now was read by the submit the round follows */
	unsigned int tick_ms;		/* the coarse clock's step: waits end one later */
	uint64_t next_id;
	struct cp_list reqs;		/* not done, by deadline */
	struct cp_list done;		/* done, callback NULL: for cachepeer_wait() */
	struct cp_list callbacks;	/* done, callback not yet called */
	struct cp_list dirty;
	struct cp_list closed;
	uint64_t armed;			/* the timerfd's expiry, ms; 0: disarmed */
	uint64_t idle_at;		/* next look for idle connections */
	bool extra;			/* a member has more than min_conns */
	unsigned int pending_conns;	/* connecting or in HELLO: with a deadline */

	bool leader, sleeping, kicked, closing;
	bool self_lead;			/* a blocking helper submits, and will lead */
	uint64_t completions;		/* requests done, ever: cachepeer_run() waits for one */
	struct cp_list waiters;
	struct cachepeer_stats st;
	struct cp_list spare;		/* freed requests, kept for reuse */
	unsigned int nspare;
};

/* Requests kept for reuse: a malloc and a free less per request. */
#define CP_SPARE_MAX	64

/* client.c */
uint64_t cp_now_ms(void);
void cp_complete(struct cachepeer *cp, struct cp_req *req, int err);
void cp_dispatch(struct cachepeer *cp, struct cp_req *req);
void cp_member_failed(struct cachepeer *cp, int m);
void cp_answered(struct cachepeer *cp, struct cp_conn *c, struct cp_req *req);
int cp_round(struct cachepeer *cp, int timeout_ms);
int cp_submit(struct cachepeer *cp, const struct cachepeer_request *r, uint64_t *id,
	      struct cp_sync *sync);
struct cp_req *cp_req_alloc(struct cachepeer *cp);
void cp_req_free(struct cachepeer *cp, struct cp_req *req);
int cp_call_callbacks(struct cachepeer *cp);
bool cp_take_done(struct cachepeer *cp, uint64_t id, struct cachepeer_result *res);
bool cp_pending(struct cachepeer *cp, uint64_t id);

/* conn.c */
struct cp_conn *cp_conn_open(struct cachepeer *cp, int m);
void cp_conn_queue(struct cachepeer *cp, struct cp_conn *c, struct cp_req *req, bool first);
void cp_conn_flush(struct cachepeer *cp, struct cp_conn *c);
void cp_conn_event(struct cachepeer *cp, struct cp_conn *c, uint32_t events);
void cp_conn_fail(struct cachepeer *cp, struct cp_conn *c, int err);
void cp_conn_unqueue(struct cachepeer *cp, struct cp_req *req);
void cp_conn_free(struct cp_conn *c);
int cp_hello_start(struct cachepeer *cp, struct cp_conn *c);

/* wait.c */
void cp_handoff(struct cachepeer *cp);
void cp_wake_id(struct cachepeer *cp, uint64_t id);

#endif
