/* SPDX-License-Identifier: MIT */
/*
 * libcachepeer: a client of cachepeer cache nodes (the block protocol).
 *
 * A handle (struct cachepeer) talks to one node or to a cluster: it reads
 * the ring from a seed and sends each request to its key's owner, over
 * connections it opens and closes by load; it follows REDIRECTs and ring
 * changes, skips members that are down or that it cannot reach, and
 * checks every GET's CRC-32C.
 *
 * Requests complete asynchronously: cachepeer_submit() queues one with a
 * callback, and cachepeer_run() does the I/O and calls the callbacks. The
 * handle's file descriptor (cachepeer_fd()) becomes readable when
 * cachepeer_run() has work, so a handle fits an application's event loop.
 * The blocking helpers (cachepeer_get() and the rest) submit and wait.
 *
 * Threads: one handle may be shared by any number of threads. The blocking
 * helpers may be called from many threads at once; their requests share
 * the handle's connections. Callbacks run in whichever thread is in
 * cachepeer_run() or a blocking helper, with no lock of the handle held
 * (a callback may submit). cachepeer_run() must not be called by two
 * threads at once, nor from a callback; cachepeer_close() must not run
 * while another thread uses the handle. The thread doing the I/O also
 * writes GETs into file descriptors (CACHEPEER_REQ_FD) and reads files
 * back to check them, with the handle's lock held: a pipe's reader must
 * not need the handle to drain it.
 *
 * Errors: functions return 0 (or a count) or a negative errno:
 *   -ENOENT     the node has no such block (NOT_FOUND)
 *   -EINVAL     a bad argument, or the node refused the request (BAD_REQUEST)
 *   -EFBIG      a PUT larger than the node's block limit (TOO_LARGE)
 *   -ENOSPC     the node is out of space (NO_SPACE)
 *   -EBUSY      the node could not serve it now (BUSY); retry later
 *   -EIO        the node failed to read or write its disk (IO_ERROR)
 *   -EBADMSG    the data failed its CRC, here or on the node (CORRUPT);
 *               a GET may be retried
 *   -EACCES     the node refused the key or the request (DENIED)
 *   -EEXIST     a block of another size is stored under the key (CONFLICT)
 *   -EMSGSIZE   a GET's data is larger than its buffer
 *   -ETIMEDOUT  no answer within the request's timeout; may be retried
 *   -ECANCELED  cancelled by cachepeer_cancel()
 *   -EHOSTUNREACH  no member (or seed) could be reached; may be retried
 *   -EPROTO     a malformed answer (the connection is closed)
 *   -ENOMEM and others from the system calls involved.
 * A request whose connection fails before it is answered is sent again,
 * to the next member if its own cannot be reached (blocks are immutable,
 * so this is safe; a DEL sent twice may answer -ENOENT).
 */
#ifndef CACHEPEER_CLIENT_H
#define CACHEPEER_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct cachepeer;

/*
 * Options of a handle. Zero means the default in every field, so a caller
 * may set only what it needs; set size to sizeof(struct cachepeer_config):
 * fields added later are then taken as zero for older callers.
 */
struct cachepeer_config {
	size_t size;
	/* "ADDR:PORT" or "[ADDR6]:PORT", several separated by commas: tried in order. */
	const char *seeds;
	/* "NAME:FILE": the key to HELLO with, its secret in FILE. NULL: none. */
	const char *key;
	unsigned int flags;		/* CACHEPEER_CFG_* */
	unsigned int min_conns;		/* per member, kept open once opened (1) */
	unsigned int max_conns;		/* per member (4) */
	unsigned int depth;		/* in flight on a connection before another opens (8) */
	unsigned int timeout_ms;	/* of a request, unless it sets its own (10000) */
	unsigned int connect_timeout_ms;	/* (2000) */
	unsigned int idle_ms;		/* connections over min_conns idle this long close (5000) */
};

/* Send every request to the first seed that answers; read no ring. */
#define CACHEPEER_CFG_PIN	0x1U
/* Read the key from the CACHEPEER_KEY environment variable when key is NULL. */
#define CACHEPEER_CFG_ENV_KEY	0x2U

enum cachepeer_req_op {
	CACHEPEER_GET = 1,
	CACHEPEER_PUT,
	CACHEPEER_STAT,
	CACHEPEER_DEL,
};

struct cachepeer_result {
	int error;		/* 0 or a negative errno, as above */
	int status;		/* the node's status (CACHEPEER_S_*), -1 if none came */
	uint64_t len;		/* GET: bytes received */
	uint64_t block_size;	/* GET, STAT: the whole block's size */
	uint32_t crc;		/* GET: of the bytes received; STAT: of the block */
	uint64_t epoch;		/* the answering node's ring epoch */
	uint64_t id;		/* the request's, as cachepeer_submit() gave it */
};

typedef void cachepeer_done_fn(void *arg, const struct cachepeer_result *res);

/*
 * One request. The key is copied at submit; a PUT's data and a GET's
 * buffer must stay valid until the callback has run.
 */
struct cachepeer_request {
	enum cachepeer_req_op op;
	const void *key;
	size_t key_len;			/* 1..250 bytes */
	uint64_t offset, length;	/* GET: a range; length 0: to the block's end */
	void *buf;			/* GET: where the data goes ... */
	size_t buf_len;			/* ... at most this much, else -EMSGSIZE */
	int fd;				/* GET with CACHEPEER_REQ_FD: the data goes here */
	off_t fd_offset;		/* ... at this offset, if fd is a regular file */
	const void *data;		/* PUT: the block */
	size_t data_len;
	unsigned int flags;		/* CACHEPEER_REQ_* */
	unsigned int timeout_ms;	/* 0: the handle's */
	cachepeer_done_fn *done;	/* called once, with the result */
	void *arg;
};

/*
 * GET into fd instead of buf. From the socket to a regular file the data
 * moves with splice() (no copy through this process) and the CRC is then
 * checked from the file, which must be open for reading too; to anything
 * else (a pipe, a write-only file) it is read, checked and written. On a
 * CRC mismatch the bytes written are not to be trusted. fd must be in
 * blocking mode: the writes block the thread doing the I/O.
 */
#define CACHEPEER_REQ_FD	0x1U
/* PUT, DEL: on the node the request is routed to, whatever its ring says. */
#define CACHEPEER_REQ_LOCAL	0x2U

/* 0 and *cp, or a negative errno (the seeds unreachable: -EHOSTUNREACH). */
int cachepeer_open(struct cachepeer **cp, const struct cachepeer_config *cfg);
/*
 * Closes every connection; requests not yet done complete with -ECANCELED
 * (their callbacks run here; a callback's new request gets -ESHUTDOWN).
 */
void cachepeer_close(struct cachepeer *cp);

/* Readable when cachepeer_run() has something to do. */
int cachepeer_fd(const struct cachepeer *cp);
/*
 * Do the handle's I/O and call the callbacks of the requests done, waiting
 * at most timeout_ms (-1: until a request is done, whichever thread ran
 * its callback; 0: not at all). Returns the number of callbacks this call
 * ran, or a negative errno.
 */
int cachepeer_run(struct cachepeer *cp, int timeout_ms);
/* Queue a request; *id (if id is not NULL) names it to cachepeer_cancel(). */
int cachepeer_submit(struct cachepeer *cp, const struct cachepeer_request *req, uint64_t *id);
/* The request completes with -ECANCELED; -ENOENT if it is already done. */
int cachepeer_cancel(struct cachepeer *cp, uint64_t id);

/* Blocking helpers: submit, and wait (any thread). */
ssize_t cachepeer_get(struct cachepeer *cp, const void *key, size_t key_len, uint64_t offset,
		      uint64_t length, void *buf, size_t buf_len);
ssize_t cachepeer_get_fd(struct cachepeer *cp, const void *key, size_t key_len, uint64_t offset,
			 uint64_t length, int fd, off_t fd_offset);
int cachepeer_put(struct cachepeer *cp, const void *key, size_t key_len, const void *data,
		  size_t len);
int cachepeer_stat(struct cachepeer *cp, const void *key, size_t key_len, uint64_t *size,
		   uint32_t *crc);
int cachepeer_del(struct cachepeer *cp, const void *key, size_t key_len);
/*
 * Wait for a request submitted with a callback of NULL; its result into
 * *res. -ENOENT for an id that is not such a request (or was waited for).
 */
int cachepeer_wait(struct cachepeer *cp, uint64_t id, struct cachepeer_result *res);

struct cachepeer_stats {
	uint64_t requests;		/* submitted */
	uint64_t retries;		/* sent again after a connection failed */
	uint64_t redirects;		/* REDIRECTs followed */
	uint64_t ring_reads;		/* rings read, the first included */
	uint64_t ring_epoch;		/* of the ring in use; 0: none (pinned) */
	uint64_t members;		/* in that ring */
	uint64_t conns;			/* open now */
	uint64_t conns_opened;
	uint64_t conns_closed_idle;
	uint64_t connect_failures;
	uint64_t timeouts;
	uint64_t crc_errors;
	uint64_t writes;		/* sendmsg() calls that sent requests */
	uint64_t frames;		/* requests they sent: frames / writes is the batching */
};

/* Up to size bytes of the handle's counters (size: sizeof(*st)). */
void cachepeer_get_stats(struct cachepeer *cp, struct cachepeer_stats *st, size_t size);
/* The node status's name, as cachepeerctl prints it. */
const char *cachepeer_status_str(int status);
/* The library's version, "MAJOR.MINOR". */
const char *cachepeer_version(void);

#ifdef __cplusplus
}
#endif

#endif
