// SPDX-License-Identifier: GPL-2.0
/*
 * What one client may hold of a node: hostile readers that pipeline
 * requests and never read, connection limits per node and per source
 * address, the idle timeout, and the queue and page-cache bounds, which
 * must stop a connection's parsing and then let it go on. Every test runs
 * on a fresh node in a network namespace of its own, whose frame timeout
 * (and so its stall timeout) is two seconds.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <time.h>

#include "cp_node.h"
#include "kselftest_harness.h"

#define FRAME_TIMEOUT_MS	2000
#define HOSTILE			100	/* connections */
#define PIPELINE		512	/* requests each, never read */

FIXTURE(bounds) {
	char dir[64];
};

FIXTURE_SETUP(bounds)
{
	struct rlimit rl = { 4096, 4096 };
	char cmd[512];

	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	ASSERT_EQ(0, node_env(self->dir));
	snprintf(cmd, sizeof(cmd), "%s start --listen %s --dir %s --frame-timeout %d",
		 ctl(), PEER, self->dir, FRAME_TIMEOUT_MS * cp_time_scale());
	ASSERT_EQ(0, system(cmd));
}

FIXTURE_TEARDOWN(bounds)
{
	EXPECT_EQ(0, node_env_end(self->dir, NULL));
}

static int ctl_set(const char *args)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "%s set %s", ctl(), args);
	return system(cmd);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* kB of MemAvailable. */
static long mem_available(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/*
 * The smallest and largest "queued", and the largest "pinned", over the
 * node's connections, from `cachepeerctl conns -j`; the number of
 * connections, or -1.
 */
static int conns_held(long long *least, long long *queued, long long *pinned)
{
	static char buf[1 << 20];
	char cmd[256], *p;
	int n = 0;
	size_t len;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s conns -j", ctl());
	f = popen(cmd, "r");
	if (!f)
		return -1;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	buf[len] = 0;
	if (pclose(f))
		return -1;
	*queued = *pinned = 0;
	*least = LLONG_MAX;
	for (p = buf; (p = strstr(p, "\"queued\":")); n++) {
		long long q = strtoll(p + 9, &p, 10), pin;

		p = strstr(p, "\"pinned\":");
		if (!p)
			return -1;
		pin = strtoll(p + 9, &p, 10);
		*least = q < *least ? q : *least;
		*queued = q > *queued ? q : *queued;
		*pinned = pin > *pinned ? pin : *pinned;
	}
	return n;
}

/* A frame header, in wire order. */
static struct cachepeer_req frame(uint8_t op, uint64_t id)
{
	return (struct cachepeer_req) {
		.magic = htobe32(CACHEPEER_REQ_MAGIC),
		.version = CACHEPEER_PROTO_VERSION,
		.opcode = op,
		.id = htobe64(id),
	};
}

/*
 * A connection to the node, from src (an address on lo) unless NULL, whose
 * receive buffer is rcvbuf bytes (0: the default) so that what the node
 * sends backs up into the node once it is full. Its fd, or -errno.
 */
static int dial(const char *src, int rcvbuf)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(7000) };
	struct timeval tv = { .tv_sec = 20 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	int err;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (src) {
		struct sockaddr_in from = { .sin_family = AF_INET };

		inet_pton(AF_INET, src, &from.sin_addr);
		if (bind(fd, (struct sockaddr *)&from, sizeof(from)))
			goto err;
	}
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		goto err;
	return fd;
err:
	err = -errno;
	close(fd);
	return err;
}

/* n RING_GETs, ids 0..n-1, in one write. */
static int pipeline_ring_gets(int fd, int n)
{
	struct cachepeer_req *req = calloc(n, sizeof(*req));
	ssize_t len = n * sizeof(*req), done;
	int i;

	if (!req)
		return -1;
	for (i = 0; i < n; i++)
		req[i] = frame(CACHEPEER_OP_RING_GET, i);
	done = write(fd, req, len);
	free(req);
	return done == len ? 0 : -1;
}

/* The node answers PING on fd. */
static int ping(int fd)
{
	struct cachepeer_req req = frame(CACHEPEER_OP_PING, 7);
	struct cp_client c = { .fd = fd };
	struct cp_resp r;

	if (write(fd, &req, sizeof(req)) != sizeof(req) || cp_client_recv_hdr(&c, &r))
		return -1;
	return r.status;
}

/* The node closed fd: EOF or a reset, after whatever it had sent. */
static int closed_by_node(int fd)
{
	char buf[4096];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		;
	return n == 0 || errno == ECONNRESET;
}

/*
 * Poll the node's counter name until it is at least want (at most, with
 * below); 0, or -1 at the deadline (a bound for a hung node).
 */
static int wait_stat(const char *name, long long want, double secs, bool below)
{
	double end = now() + secs * cp_time_scale();
	long long v;

	while ((v = node_stat(name)) < 0 || (below ? v > want : v < want)) {
		if (now() > end)
			return -1;
		usleep(50000);
	}
	return 0;
}

/* A ring of n members elsewhere: its encoding, RING_GET's answer, is 88 bytes each. */
static int load_ring(int n)
{
	char path[] = "/tmp/cp-ring.XXXXXX", cmd[256];
	int fd = mkstemp(path), i, ret;
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");

	if (!f)
		return -1;
	for (i = 0; i < n; i++)
		fprintf(f, "member m%d 10.0.%d.%d:7000\n", i, i / 200, 1 + i % 200);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s ring load %s", ctl(), path);
	ret = system(cmd);
	unlink(path);
	return ret;
}

/* A client that reads: a PUT, its GET compared byte for byte, a RING_GET. */
static void good_client(struct __test_metadata *_metadata)
{
	static unsigned char data[100000], got[100000];
	struct cp_msg get = { .op = CACHEPEER_OP_GET, .key = "good", .key_len = 4 };
	struct cp_msg ring = { .op = CACHEPEER_OP_RING_GET };
	struct cp_client c;
	struct cp_resp r;

	fill_random(data, sizeof(data), 5);
	ASSERT_EQ(CACHEPEER_S_OK, put_key("good", data, sizeof(data)));
	ASSERT_EQ(0, do_connect(&c));
	ASSERT_EQ(CACHEPEER_S_OK, exchange(&c, &get, &r, got));
	ASSERT_EQ(0, memcmp(data, got, sizeof(data)));
	ASSERT_EQ(ref_crc(data, sizeof(data)), r.crc);
	ASSERT_EQ(CACHEPEER_S_OK, exchange(&c, &ring, &r, got));
	cp_client_close(&c);
}

/*
 * 100 connections pipeline 512 RING_GETs each (of a ring of 48 members:
 * 4 KiB answers) and never read, with receive buffers so small that the
 * answers back up into the node. Each stops at its queue bound, the node's
 * memory stays within those bounds (by its own accounting and by
 * MemAvailable), a client that reads is served all the while, and the
 * stalled connections are closed once they have acknowledged nothing for
 * the frame timeout, giving back all they held. Without the bounds the
 * node held every answer, two pages each: 400 MiB.
 */
TEST_F_TIMEOUT(bounds, hostile_readers, 600)
{
	const long long conn_queue = 64 << 10, slack = 16 << 10;
	long long least, queued, pinned, most = 0, node_most = 0;
	int fds[HOSTILE], i, n;
	long mem0, drop = 0;
	double t0, end;

	ASSERT_EQ(0, load_ring(48));
	ASSERT_EQ(0, ctl_set("--conn-queue 64K"));
	mem0 = mem_available();
	for (i = 0; i < HOSTILE; i++) {
		fds[i] = dial(NULL, 4096);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, pipeline_ring_gets(fds[i], PIPELINE));
	}
	t0 = now();
	good_client(_metadata);

	/* Watch what they hold until the node has closed them all. */
	for (end = now() + 120; node_stat("tx_stalls") < HOSTILE && now() < end;
	     usleep(100000)) {
		long long node_queued = node_stat("queued_bytes");
		long d = mem0 - mem_available();

		n = conns_held(&least, &queued, &pinned);
		ASSERT_LE(0, n);
		most = queued > most ? queued : most;
		node_most = node_queued > node_most ? node_queued : node_most;
		drop = d > drop ? d : drop;
	}
	TH_LOG("largest queue %lld bytes, node %lld bytes, MemAvailable -%ld kB at most; "
	       "all closed %.1f s after the last pipeline was sent",
	       most, node_most, drop, now() - t0);
	ASSERT_EQ(HOSTILE, node_stat("tx_stalls"));
	/* They filled up to their bound, and over it by the frame that reached it. */
	ASSERT_LE(conn_queue, most);
	ASSERT_GE(conn_queue + slack, most);
	ASSERT_GE(HOSTILE * (conn_queue + slack), node_most);
	ASSERT_GT(64 << 10, drop);
	for (i = 0; i < HOSTILE; i++) {
		ASSERT_TRUE(closed_by_node(fds[i]));
		close(fds[i]);
	}
	/* Everything they held is given back. */
	ASSERT_EQ(0, wait_stat("conns", 0, 60, true));
	ASSERT_EQ(0, node_stat("queued_bytes"));
}

/*
 * The same pipelines with ordinary receive buffers, as a client that never
 * reads would open them: the node sends every answer, and they must cost
 * the node no more than their bytes. Spliced from a page each, the 51,200
 * ring answers of a hundred bytes held 200 MiB in the clients' buffers.
 */
TEST_F_TIMEOUT(bounds, unread_answers_cost_their_bytes, 600)
{
	long long answered = node_stat("ok");
	int fds[HOSTILE], i;
	long mem0, drop;

	ASSERT_LE(0, answered);
	mem0 = mem_available();
	for (i = 0; i < HOSTILE; i++) {
		fds[i] = dial(NULL, 0);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, pipeline_ring_gets(fds[i], PIPELINE));
	}
	ASSERT_EQ(0, wait_stat("ok", answered + HOSTILE * PIPELINE, 120, false));
	drop = mem0 - mem_available();
	TH_LOG("MemAvailable -%ld kB with %d unread answers", drop, HOSTILE * PIPELINE);
	ASSERT_GT(100 << 10, drop);
	for (i = 0; i < HOSTILE; i++)
		close(fds[i]);
}

/*
 * A connection the node accepted and reset (fd, or dial()'s error): not
 * served, and closed. On a slow kernel the reset can come before connect()
 * returns, which then fails with ECONNRESET.
 */
static bool refused(int fd)
{
	bool ok;

	if (fd < 0)
		return fd == -ECONNRESET;
	ok = ping(fd) != CACHEPEER_S_OK && closed_by_node(fd);
	close(fd);
	return ok;
}

/*
 * 256 connections from one address are served; the 257th is accepted and
 * reset, and counted. Another address still gets in, until the node's own
 * limit.
 */
TEST_F_TIMEOUT(bounds, connection_limits, 600)
{
	static int fds[256];
	int fd, other, i;

	for (i = 0; i < 256; i++) {
		fds[i] = dial(NULL, 0);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(CACHEPEER_S_OK, ping(fds[i]));
	}
	fd = dial(NULL, 0);
	ASSERT_TRUE(refused(fd));
	ASSERT_EQ(1, node_stat("conns_refused_source"));

	other = dial("127.0.0.2", 0);
	ASSERT_LE(0, other);
	ASSERT_EQ(CACHEPEER_S_OK, ping(other));
	ASSERT_EQ(257, node_stat("conns"));

	/* The node's limit, now one less than it has: nobody more gets in. */
	ASSERT_EQ(0, ctl_set("--max-conns 256"));
	fd = dial("127.0.0.3", 0);
	ASSERT_TRUE(refused(fd));
	ASSERT_EQ(1, node_stat("conns_refused"));
	/* Those it has are kept. */
	ASSERT_EQ(CACHEPEER_S_OK, ping(other));
	ASSERT_EQ(CACHEPEER_S_OK, ping(fds[0]));

	/* No per-source limit: the same address gets in again. */
	ASSERT_EQ(0, ctl_set("--max-conns 1000 --max-conns-per-source 0"));
	fd = dial(NULL, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(CACHEPEER_S_OK, ping(fd));
	close(fd);
	close(other);
	for (i = 0; i < 256; i++)
		close(fds[i]);
}

/*
 * A connection that sends nothing and is sent nothing for the idle timeout
 * is closed; one that keeps asking is not.
 */
TEST_F_TIMEOUT(bounds, idle_timeout, 600)
{
	char set[64];
	int idle, busy;
	double end;

	/*
	 * 2 s, stretched on a slow kernel: the busy connection must not look
	 * idle between two pings because a loaded emulated guest stalled.
	 */
	snprintf(set, sizeof(set), "--idle-timeout %d", 2 * cp_time_scale());
	ASSERT_EQ(0, ctl_set(set));
	idle = dial(NULL, 0);
	busy = dial(NULL, 0);
	ASSERT_LE(0, idle);
	ASSERT_LE(0, busy);
	ASSERT_EQ(CACHEPEER_S_OK, ping(idle));
	end = now() + 5 * cp_time_scale();
	while (now() < end) {
		ASSERT_EQ(CACHEPEER_S_OK, ping(busy));
		usleep(200000);
	}
	ASSERT_TRUE(closed_by_node(idle));
	ASSERT_EQ(CACHEPEER_S_OK, ping(busy));
	ASSERT_EQ(1, node_stat("idle_closes"));
	close(idle);
	close(busy);
}

/* Read n GET answers of block data (size bytes each) and compare them. */
static void read_gets(struct __test_metadata *_metadata, int fd, int n,
		      const unsigned char *data, size_t size)
{
	unsigned char *buf = malloc(size);
	struct cp_client c = { .fd = fd };
	int i;

	ASSERT_NE(NULL, buf);
	for (i = 0; i < n; i++) {
		struct cp_resp r;

		ASSERT_EQ(0, cp_client_recv_hdr(&c, &r));
		ASSERT_EQ(CACHEPEER_S_OK, r.status);
		ASSERT_EQ(size, r.data_len);
		ASSERT_EQ(0, cp_client_recv_data(&c, &r, buf));
		ASSERT_EQ(0, memcmp(buf, data, size));
	}
	free(buf);
}

/*
 * 32 GETs of a 1 MiB block from a reader that does not keep up: the
 * page-cache data its queued answers come to stops at the pin bound (and a
 * block's worth), then all of them arrive, byte for byte.
 */
TEST_F_TIMEOUT(bounds, page_cache_pin_bound, 600)
{
	enum { N = 32 };
	unsigned char *data = malloc(MiB);
	struct cachepeer_req req[N];
	long long least, queued, pinned;
	int fd, i;

	ASSERT_NE(NULL, data);
	fill_random(data, MiB, 17);
	ASSERT_EQ(CACHEPEER_S_OK, put_key("big", data, MiB));
	ASSERT_EQ(0, ctl_set("--conn-pin 4M"));
	fd = dial(NULL, 4096);
	ASSERT_LE(0, fd);
	for (i = 0; i < N; i++) {
		req[i] = frame(CACHEPEER_OP_GET, i);
		req[i].key_len = htobe16(3);
	}
	for (i = 0; i < N; i++) {
		ASSERT_EQ(sizeof(req[i]), write(fd, &req[i], sizeof(req[i])));
		ASSERT_EQ(3, write(fd, "big", 3));
	}
	ASSERT_EQ(0, wait_stat("queue_pauses", 1, 60, false));
	ASSERT_EQ(1, conns_held(&least, &queued, &pinned));
	TH_LOG("pinned %lld bytes of page cache", pinned);
	ASSERT_LT(0, pinned);
	ASSERT_GE(4 * MiB + MiB, pinned);
	read_gets(_metadata, fd, N, data, MiB);
	close(fd);
	free(data);
}

/*
 * A pipeline that hits the queue bound again and again is answered in
 * full once its client reads: pausing never loses a request.
 */
TEST_F_TIMEOUT(bounds, paused_pipeline_answered, 600)
{
	struct cp_client c;
	int fd, i, seen = 0;
	char buf[4096];

	ASSERT_EQ(0, ctl_set("--conn-queue 64K"));
	fd = dial(NULL, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pipeline_ring_gets(fd, PIPELINE));
	c.fd = fd;
	for (i = 0; i < PIPELINE; i++) {
		struct cp_resp r;

		ASSERT_EQ(0, cp_client_recv_hdr(&c, &r));
		ASSERT_EQ(CACHEPEER_S_OK, r.status);
		ASSERT_GT(sizeof(buf), r.data_len);
		ASSERT_EQ(0, cp_client_recv_data(&c, &r, buf));
		seen++;
	}
	ASSERT_EQ(PIPELINE, seen);
	ASSERT_LE(1, node_stat("queue_pauses"));
	close(fd);
}

/*
 * A node without a cluster key refuses a RING_PUSH from its header, at
 * once, without reading the payload it announces, and ends the connection.
 */
TEST_F_TIMEOUT(bounds, push_without_key_refused_from_header, 600)
{
	struct cachepeer_req req = frame(CACHEPEER_OP_RING_PUSH, 3);
	long long refused = node_stat("ring_refused");
	struct cp_resp r;
	struct cp_client c;

	req.payload_len = htobe64(4096);
	c.fd = dial(NULL, 0);
	ASSERT_LE(0, c.fd);
	ASSERT_EQ(sizeof(req), write(c.fd, &req, sizeof(req)));
	ASSERT_EQ(0, cp_client_recv_hdr(&c, &r));
	ASSERT_EQ(3, r.id);
	ASSERT_EQ(CACHEPEER_S_DENIED, r.status);
	ASSERT_TRUE(closed_by_node(c.fd));
	ASSERT_EQ(refused + 1, node_stat("ring_refused"));
	close(c.fd);
}

TEST_HARNESS_MAIN
