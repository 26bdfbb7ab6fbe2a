// SPDX-License-Identifier: GPL-2.0
/*
 * The block protocol end to end: round trips checked byte for byte and
 * against an independent CRC-32C, pipelining with out-of-order completion,
 * and bad input, after which other connections and stored blocks must be
 * unaffected. Each test runs on a fresh node in a network namespace of its
 * own, with its cache on a tmpfs ("node") or on ext4 ("disk", where the page
 * cache can be dropped under a response that is half sent).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "cp_node.h"
#include "cp_test.h"
#include "kselftest_harness.h"

/*
 * Files in dir (< 0 on an error); the path of the last one read goes to
 * path, if given.
 */
static int dir_files(const char *dir, char *path, size_t len)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (path && snprintf(path, len, "%s/%s", dir, de->d_name) >= (int)len) {
			n = -1;
			break;
		}
		n++;
	}
	closedir(d);
	return n;
}

static int count_files(const char *dir)
{
	return dir_files(dir, NULL, 0);
}

/*
 * The heavier tests get 600 s instead of the harness's 30: under a KASAN and
 * lockdep kernel in TCG they run 10-20 times slower than on the stock one.
 */
FIXTURE(node) {
	char dir[64];
};

FIXTURE_SETUP(node)
{
	char cmd[512];

	ASSERT_EQ(0, node_env(self->dir));
	snprintf(cmd, sizeof(cmd), "%s start --listen %s --dir %s --frame-timeout 5000",
		 ctl(), PEER, self->dir);
	ASSERT_EQ(0, system(cmd));
}

/* The softirq_tx module parameter; the fixture's teardown sets it back. */
static int set_softirq_tx(const char *val)
{
	int fd = open("/sys/module/cachepeer/parameters/softirq_tx", O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

FIXTURE_TEARDOWN(node)
{
	set_softirq_tx("Y");
	EXPECT_EQ(0, node_env_end(self->dir, NULL));
}

/* GET [off, off + len) of key and compare with the expected bytes. */
static void check_range(struct __test_metadata *_metadata, struct cp_client *c, const char *key,
			const unsigned char *data, size_t size, size_t off, size_t len)
{
	struct cp_msg m = { .op = CACHEPEER_OP_GET, .key = key, .key_len = strlen(key),
			    .offset = off, .length = len };
	size_t want = len ? len : size - off;
	unsigned char *buf = malloc(want + 1);
	struct cp_resp r;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(CACHEPEER_S_OK, exchange(c, &m, &r, buf));
	ASSERT_EQ(want, r.data_len);
	ASSERT_EQ(size, r.block_size);
	ASSERT_EQ(ref_crc(data + off, want), r.crc);
	ASSERT_EQ(0, memcmp(buf, data + off, want));
	free(buf);
}

TEST_F_TIMEOUT(node, round_trip_sizes, 600)
{
	static const size_t sizes[] = {
		1, 4096, 32 * 1024 - 1, 32 * 1024, 32 * 1024 + 1, MiB + 7, 4 * MiB,
	};
	unsigned char *data = malloc(4 * MiB);
	struct cp_client c;
	char key[32];
	size_t i;

	ASSERT_NE(NULL, data);
	ASSERT_EQ(0, do_connect(&c));
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct cp_msg m = { .op = CACHEPEER_OP_STAT, .key = key };
		struct cp_resp r;

		snprintf(key, sizeof(key), "size-%zu", sizes[i]);
		m.key_len = strlen(key);
		fill_random(data, sizes[i], i + 1);
		ASSERT_EQ(CACHEPEER_S_OK, put_key(key, data, sizes[i]));
		check_range(_metadata, &c, key, data, sizes[i], 0, 0);
		ASSERT_EQ(CACHEPEER_S_OK, exchange(&c, &m, &r, NULL));
		ASSERT_EQ(sizes[i], r.block_size);
		ASSERT_EQ(ref_crc(data, sizes[i]), r.crc);
	}
	cp_client_close(&c);
	free(data);
}

TEST_F_TIMEOUT(node, random_ranges, 600)
{
	size_t size = MiB + 7, i;
	unsigned char *data = malloc(size);
	unsigned int seed = 42;
	struct cp_client c;

	ASSERT_NE(NULL, data);
	fill_random(data, size, 7);
	ASSERT_EQ(CACHEPEER_S_OK, put_key("ranges", data, size));
	ASSERT_EQ(0, do_connect(&c));
	for (i = 0; i < 300; i++) {
		size_t off = rand_r(&seed) % size;
		size_t len = 1 + rand_r(&seed) % (size - off);

		if (i % 3 == 0)	/* often small, segment-crossing ranges */
			len = 1 + rand_r(&seed) % (size - off < 70000 ? size - off : 70000);
		check_range(_metadata, &c, "ranges", data, size, off, len);
	}
	check_range(_metadata, &c, "ranges", data, size, size - 1, 0);
	cp_client_close(&c);
	free(data);
}

/*
 * 1,000 requests written before any answer is read: hits, misses and DELs
 * (which take a worker). Every id is answered exactly once, hits carry the
 * right bytes, and some answers overtake earlier requests.
 */
static unsigned int segs_in(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) ? 0 : ti.tcpi_segs_in;
}

/*
 * 64 PINGs in one write are answered in a handful of segments: TX sends with
 * MSG_MORE while more answers are queued. Without that (the node's sockets
 * are TCP_NODELAY) every 48-byte answer would be a segment of its own.
 */
TEST_F(node, small_responses_coalesced)
{
	enum { N = 64 };
	struct cachepeer_req req[N];
	unsigned int before, segs;
	struct cp_client c;
	int i;

	memset(req, 0, sizeof(req));
	for (i = 0; i < N; i++) {
		req[i].magic = htobe32(CACHEPEER_REQ_MAGIC);
		req[i].version = CACHEPEER_PROTO_VERSION;
		req[i].opcode = CACHEPEER_OP_PING;
		req[i].id = htobe64(i);
	}
	ASSERT_EQ(0, do_connect(&c));
	before = segs_in(c.fd);
	ASSERT_EQ((ssize_t)sizeof(req), write(c.fd, req, sizeof(req)));
	for (i = 0; i < N; i++) {
		struct cp_resp r;

		ASSERT_EQ(0, cp_client_recv_hdr(&c, &r));
		ASSERT_EQ(CACHEPEER_S_OK, r.status);
	}
	segs = segs_in(c.fd) - before;
	TH_LOG("%d answers came in %u segments", N, segs);
	ASSERT_LT(0, segs);
	ASSERT_GE(N / 4, segs);
	cp_client_close(&c);
}

struct sender {
	struct cp_client *c;
	const struct cp_msg *msgs;
	int n, err;
};

/*
 * Sends every request while the test reads answers: a client that sent
 * them all first would stop reading for as long as that takes, which on a
 * slow kernel is longer than the node waits for a reader (the stall timeout).
 */
static void *send_all(void *arg)
{
	struct sender *s = arg;
	int i;

	for (i = 0; i < s->n && !s->err; i++)
		s->err = cp_client_send(s->c, &s->msgs[i]);
	return NULL;
}

TEST_F_TIMEOUT(node, pipelined_out_of_order, 600)
{
	enum { N = 1000, BS = 64 * 1024 };
	unsigned char *data = malloc(BS), *buf = malloc(BS);
	static unsigned char seen[N];
	struct cp_msg *msgs = calloc(N, sizeof(*msgs));
	char keys[N][16];
	uint64_t last_id = 0;
	int i, out_of_order = 0;
	struct sender snd;
	struct cp_client c;
	pthread_t tid;

	ASSERT_NE(NULL, data);
	ASSERT_NE(NULL, msgs);
	fill_random(data, BS, 99);
	ASSERT_EQ(CACHEPEER_S_OK, put_key("hit", data, BS));
	for (i = 0; i < N; i++) {
		struct cp_msg *m = &msgs[i];

		m->id = i;
		if (i % 10 == 3) {
			snprintf(keys[i], sizeof(keys[i]), "del-%d", i);
			m->op = CACHEPEER_OP_DEL;
		} else if (i % 10 == 7) {
			snprintf(keys[i], sizeof(keys[i]), "miss-%d", i);
			m->op = CACHEPEER_OP_GET;
		} else {
			snprintf(keys[i], sizeof(keys[i]), "hit");
			m->op = CACHEPEER_OP_GET;
			m->offset = (i * 4093) % BS;
			m->length = 1 + (i * 7919) % (BS - m->offset);
		}
		m->key = keys[i];
		m->key_len = strlen(keys[i]);
	}
	ASSERT_EQ(0, do_connect(&c));
	snd = (struct sender){ .c = &c, .msgs = msgs, .n = N };
	ASSERT_EQ(0, pthread_create(&tid, NULL, send_all, &snd));
	for (i = 0; i < N; i++) {
		struct cp_resp r;
		struct cp_msg *m;

		ASSERT_EQ(0, cp_client_recv_hdr(&c, &r));
		ASSERT_GT(N, r.id);
		ASSERT_EQ(0, seen[r.id]);
		seen[r.id] = 1;
		if (r.id < last_id)
			out_of_order++;
		last_id = r.id;
		m = &msgs[r.id];
		if (m->op == CACHEPEER_OP_DEL || strcmp(m->key, "hit")) {
			ASSERT_EQ(CACHEPEER_S_NOT_FOUND, r.status);
			continue;
		}
		ASSERT_EQ(CACHEPEER_S_OK, r.status);
		ASSERT_EQ(m->length, r.data_len);
		ASSERT_EQ(0, cp_client_recv_data(&c, &r, buf));
		ASSERT_EQ(0, memcmp(buf, data + m->offset, m->length));
		ASSERT_EQ(ref_crc(data + m->offset, m->length), r.crc);
	}
	ASSERT_EQ(0, pthread_join(tid, NULL));
	ASSERT_EQ(0, snd.err);
	TH_LOG("%d of %d answers overtook an earlier request", out_of_order, N);
	ASSERT_LT(0, out_of_order);
	cp_client_close(&c);
	free(msgs);
	free(data);
	free(buf);
}

/*
 * A process spinning on each CPU, so that no CPU runs one task alone: the
 * node then answers a shallow connection's small GETs from the softirq that
 * parsed them (tx_direct()). They die with the test.
 */
static int start_hogs(pid_t *pids, int max)
{
	int i, n = sysconf(_SC_NPROCESSORS_ONLN);

	for (i = 0; i < n && i < max; i++) {
		cpu_set_t set;

		pids[i] = fork();
		if (pids[i] < 0)
			return -1;
		if (pids[i])
			continue;
		CPU_ZERO(&set);
		CPU_SET(i, &set);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sched_setaffinity(0, sizeof(set), &set);
		for (;;)
			;
	}
	return i;
}

static void stop_hogs(pid_t *pids, int n)
{
	while (n-- > 0) {
		kill(pids[n], SIGKILL);
		waitpid(pids[n], NULL, 0);
	}
}

enum { MIXED_N = 300, MIXED_BIG = MIXED_N / 50, MIXED_BURST = 8 };

/*
 * With every CPU busy, MIXED_N small GETs one at a time, a whole MiB every
 * 50th and a burst of MIXED_BURST every 50th, all on one connection; every
 * byte and CRC is checked. Returns how many answers the node sent from
 * softirq meanwhile.
 */
static long long mixed_gets(struct __test_metadata *_metadata)
{
	size_t size = MiB + 7;
	unsigned char *data = malloc(size);
	long long before, sent;
	unsigned int seed = 3;
	struct cp_client c;
	pid_t hogs[64];
	int i, j, nhogs;

	ASSERT_NE(NULL, data);
	fill_random(data, size, 11);
	ASSERT_EQ(CACHEPEER_S_OK, put_key("mixed", data, size));
	ASSERT_EQ(0, do_connect(&c));
	before = node_stat("softirq_tx");
	ASSERT_LE(0, before);
	nhogs = start_hogs(hogs, ARRAY_SIZE(hogs));
	ASSERT_LT(0, nhogs);
	for (i = 0; i < MIXED_N; i++) {
		size_t off = rand_r(&seed) % (size - 4096);

		check_range(_metadata, &c, "mixed", data, size, off, 1 + rand_r(&seed) % 4096);
		if (i % 50 == 0)	/* too big for softirq */
			check_range(_metadata, &c, "mixed", data, size, 0, 0);
		if (i % 50 == 25) {	/* deep: tx_work */
			struct cp_msg m = { .op = CACHEPEER_OP_GET, .key = "mixed", .key_len = 5,
					    .length = 4096 };
			unsigned char buf[4096];
			struct cp_resp r;

			for (j = 0; j < MIXED_BURST; j++) {
				m.id = j;
				m.offset = j * 4096;
				ASSERT_EQ(0, cp_client_send(&c, &m));
			}
			for (j = 0; j < MIXED_BURST; j++) {
				ASSERT_EQ(0, cp_client_recv_hdr(&c, &r));
				ASSERT_EQ(CACHEPEER_S_OK, r.status);
				ASSERT_GT(MIXED_BURST, r.id);
				ASSERT_EQ(0, cp_client_recv_data(&c, &r, buf));
				ASSERT_EQ(0, memcmp(buf, data + r.id * 4096, 4096));
				ASSERT_EQ(ref_crc(buf, 4096), r.crc);
			}
		}
	}
	stop_hogs(hogs, nhogs);
	sent = node_stat("softirq_tx") - before;
	TH_LOG("%lld of %d answers went out from softirq", sent,
	       MIXED_N + MIXED_BIG + MIXED_BIG * MIXED_BURST);
	cp_client_close(&c);
	free(data);
	return sent;
}

/*
 * Small answers go out from softirq (the counter says so), big ones and
 * bursts from tx_work, and every byte and CRC is right whichever sent it.
 */
TEST_F_TIMEOUT(node, answers_from_softirq, 600)
{
	long long sent;

	ASSERT_EQ(0, set_softirq_tx("Y"));
	sent = mixed_gets(_metadata);
	ASSERT_LE(MIXED_N / 2, sent);
	ASSERT_GE(MIXED_N + MIXED_BIG * MIXED_BURST, sent);	/* never a whole MiB */
}

/* softirq_tx=N: the same load, every answer from tx_work. */
TEST_F_TIMEOUT(node, softirq_tx_off, 600)
{
	ASSERT_EQ(0, set_softirq_tx("N"));
	ASSERT_EQ(0, mixed_gets(_metadata));
}

/* A PUT stuck half-way on one connection delays no hit on another. */
TEST_F_TIMEOUT(node, hits_during_slow_put, 600)
{
	struct cachepeer_req h = {
		.magic = htobe32(CACHEPEER_REQ_MAGIC), .version = CACHEPEER_PROTO_VERSION,
		.opcode = CACHEPEER_OP_PUT, .key_len = htobe16(4),
		.payload_len = htobe64(MiB),
	};
	unsigned char *data = malloc(MiB);
	struct cp_client slow, c;
	struct cp_resp r;
	int i;

	ASSERT_NE(NULL, data);
	fill_random(data, MiB, 5);
	ASSERT_EQ(CACHEPEER_S_OK, put_key("fast", data, 64 * 1024));
	ASSERT_EQ(0, do_connect(&slow));
	ASSERT_EQ(sizeof(h), write(slow.fd, &h, sizeof(h)));
	ASSERT_EQ(4, write(slow.fd, "slow", 4));
	ASSERT_EQ(MiB / 2, write(slow.fd, data, MiB / 2));

	ASSERT_EQ(0, do_connect(&c));
	for (i = 0; i < 50; i++)
		check_range(_metadata, &c, "fast", data, 64 * 1024, i * 100, 1000);
	cp_client_close(&c);

	ASSERT_EQ(MiB / 2, write(slow.fd, data + MiB / 2, MiB / 2));
	ASSERT_EQ(0, cp_client_recv_hdr(&slow, &r));
	ASSERT_EQ(CACHEPEER_S_OK, r.status);
	cp_client_close(&slow);
	ASSERT_EQ(0, do_connect(&c));
	check_range(_metadata, &c, "slow", data, MiB, 0, 0);
	cp_client_close(&c);
	free(data);
}

/* Expect an answer with this status (or none if status < 0), then EOF or reset. */
static void expect_closed(struct __test_metadata *_metadata, struct cp_client *c, int status)
{
	struct cp_resp r;
	char b;

	if (status >= 0) {
		ASSERT_EQ(0, cp_client_recv_hdr(c, &r));
		ASSERT_EQ(status, r.status);
	}
	ASSERT_GE(0, read(c->fd, &b, 1));
}

/* The node still serves "keep" byte for byte, to a new connection. */
static void expect_intact(struct __test_metadata *_metadata, const unsigned char *keep)
{
	struct cp_client c;

	ASSERT_EQ(0, do_connect(&c));
	check_range(_metadata, &c, "keep", keep, 100000, 0, 0);
	cp_client_close(&c);
}

/* The node may close as soon as it has seen a bad header: the key can fail. */
static void send_raw(struct __test_metadata *_metadata, struct cp_client *c,
		     struct cachepeer_req *h, const char *key, size_t key_len)
{
	ASSERT_EQ(sizeof(*h), write(c->fd, h, sizeof(*h)));
	if (key_len)
		send(c->fd, key, key_len, MSG_NOSIGNAL);
}

TEST_F_TIMEOUT(node, bad_frames, 600)
{
	static char key[300];
	unsigned char keep[100000];
	struct {
		const char *what;
		size_t key_len;
		int status;
	} cases[] = {
		{ "bad magic", 3, CACHEPEER_S_BAD_REQUEST },
		{ "bad version", 3, CACHEPEER_S_BAD_REQUEST },
		{ "unknown opcode", 3, CACHEPEER_S_BAD_REQUEST },
		{ "unknown flag", 3, CACHEPEER_S_BAD_REQUEST },
		{ "key length 0", 0, CACHEPEER_S_BAD_REQUEST },
		{ "key length 251", 251, CACHEPEER_S_BAD_REQUEST },
		{ "payload on a GET", 3, CACHEPEER_S_BAD_REQUEST },
		{ "payload over the maximum", 3, CACHEPEER_S_TOO_LARGE },
		{ "reserved field set", 3, CACHEPEER_S_BAD_REQUEST },
	};
	size_t i;

	memset(key, 'k', sizeof(key));
	fill_random(keep, sizeof(keep), 3);
	ASSERT_EQ(CACHEPEER_S_OK, put_key("keep", keep, sizeof(keep)));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct cachepeer_req h = {
			.magic = htobe32(CACHEPEER_REQ_MAGIC), .version = CACHEPEER_PROTO_VERSION,
			.opcode = CACHEPEER_OP_GET, .id = htobe64(i + 100),
			.key_len = htobe16(cases[i].key_len),
		};
		struct cp_client c;

		switch (i) {
		case 0:
			h.magic = htobe32(0x12345678);
			break;
		case 1:
			h.version = 2;
			break;
		case 2:
			h.opcode = 77;
			break;
		case 3:
			h.flags = htobe16(0x8000);
			break;
		case 6:
			h.payload_len = htobe64(10);
			break;
		case 7:
			h.opcode = CACHEPEER_OP_PUT;
			h.payload_len = htobe64(4 * MiB + 1);
			break;
		case 8:
			h.reserved = htobe16(1);
			break;
		}
		TH_LOG("%s", cases[i].what);
		ASSERT_EQ(0, do_connect(&c));
		send_raw(_metadata, &c, &h, key, cases[i].key_len);
		expect_closed(_metadata, &c, cases[i].status);
		cp_client_close(&c);
		expect_intact(_metadata, keep);
	}
}

TEST_F(node, range_errors_keep_the_connection)
{
	unsigned char keep[100000];
	struct cp_msg m = { .op = CACHEPEER_OP_GET, .key = "keep", .key_len = 4 };
	struct cp_msg ping = { .op = CACHEPEER_OP_PING, .id = 9 };
	struct cp_client c;
	struct cp_resp r;

	fill_random(keep, sizeof(keep), 3);
	ASSERT_EQ(CACHEPEER_S_OK, put_key("keep", keep, sizeof(keep)));
	ASSERT_EQ(0, do_connect(&c));
	m.offset = sizeof(keep) + 1;
	ASSERT_EQ(CACHEPEER_S_BAD_REQUEST, exchange(&c, &m, &r, NULL));
	m.offset = 10;
	m.length = sizeof(keep);
	ASSERT_EQ(CACHEPEER_S_BAD_REQUEST, exchange(&c, &m, &r, NULL));
	m.offset = ~0ULL;
	m.length = 2;
	ASSERT_EQ(CACHEPEER_S_BAD_REQUEST, exchange(&c, &m, &r, NULL));
	ASSERT_EQ(CACHEPEER_S_OK, exchange(&c, &ping, &r, NULL));
	ASSERT_EQ(9, r.id);
	check_range(_metadata, &c, "keep", keep, sizeof(keep), 99999, 0);
	cp_client_close(&c);
}

TEST_F(node, failed_puts_leave_nothing)
{
	struct cachepeer_req h = {
		.magic = htobe32(CACHEPEER_REQ_MAGIC), .version = CACHEPEER_PROTO_VERSION,
		.opcode = CACHEPEER_OP_PUT, .key_len = htobe16(4), .payload_len = htobe64(MiB),
	};
	unsigned char *data = malloc(MiB);
	struct cp_msg get = { .op = CACHEPEER_OP_GET };
	struct cp_client c;
	struct cp_resp r;

	ASSERT_NE(NULL, data);
	fill_random(data, MiB, 11);
	/* Declares a megabyte, sends half, vanishes. */
	ASSERT_EQ(0, do_connect(&c));
	send_raw(_metadata, &c, &h, "gone", 4);
	ASSERT_EQ(MiB / 2, write(c.fd, data, MiB / 2));
	cp_client_close(&c);

	/* A client CRC that does not match the payload: CORRUPT, nothing kept. */
	h.flags = htobe16(CACHEPEER_F_CRC);
	h.key_len = htobe16(3);
	h.crc = htobe32(ref_crc(data, 1000) ^ 1);
	h.payload_len = htobe64(1000);
	ASSERT_EQ(0, do_connect(&c));
	send_raw(_metadata, &c, &h, "bad", 3);
	ASSERT_EQ(1000, write(c.fd, data, 1000));
	ASSERT_EQ(0, cp_client_recv_hdr(&c, &r));
	ASSERT_EQ(CACHEPEER_S_CORRUPT, r.status);

	/* The connection goes on, and neither block exists. */
	get.key = "bad";
	get.key_len = 3;
	ASSERT_EQ(CACHEPEER_S_NOT_FOUND, exchange(&c, &get, &r, NULL));
	get.key = "gone";
	get.key_len = 4;
	ASSERT_EQ(CACHEPEER_S_NOT_FOUND, exchange(&c, &get, &r, NULL));
	cp_client_close(&c);
	/* Only complete, verified blocks ever get a name. */
	ASSERT_EQ(0, count_files(self->dir));
	free(data);
}

TEST_F_TIMEOUT(node, random_bytes, 600)
{
	unsigned char keep[100000], junk[10000];
	struct cp_client c;
	char b;
	int i;

	fill_random(keep, sizeof(keep), 3);
	ASSERT_EQ(CACHEPEER_S_OK, put_key("keep", keep, sizeof(keep)));
	for (i = 0; i < 5; i++) {
		fill_random(junk, sizeof(junk), 1000 + i);
		ASSERT_EQ(0, do_connect(&c));
		write(c.fd, junk, sizeof(junk));
		/* Answered BAD_REQUEST and/or closed; never left hanging. */
		while (read(c.fd, &b, 1) > 0)
			;
		cp_client_close(&c);
		expect_intact(_metadata, keep);
	}
}

TEST_F(node, unfinished_frame_times_out)
{
	struct cachepeer_req h = { .magic = htobe32(CACHEPEER_REQ_MAGIC) };
	struct cp_client c;
	struct timeval t0, t1;
	char b;

	ASSERT_EQ(0, do_connect(&c));
	ASSERT_EQ(10, write(c.fd, &h, 10));
	gettimeofday(&t0, NULL);
	ASSERT_GE(0, read(c.fd, &b, 1));	/* the node closes it */
	gettimeofday(&t1, NULL);
	/* The fixture's frame timeout is 5 s: honoured, not cut short. */
	ASSERT_LE(4, t1.tv_sec - t0.tv_sec);
	ASSERT_GT(30, t1.tv_sec - t0.tv_sec);
	cp_client_close(&c);
}

/*
 * The deadline is per frame. PINGs sent one byte, then a frame at a time,
 * so that every read of the node ends a byte into a frame, for longer than
 * the fixture's 5 s frame timeout: each frame completes at once, and the
 * connection must live and every PING be answered. (A deadline that ran
 * from the first partial frame until a read ended on a frame boundary cut
 * this connection.)
 */
TEST_F_TIMEOUT(node, moving_pipeline_not_timed_out, 600)
{
	enum { PINGS = 100, LEN = sizeof(struct cachepeer_req) };
	struct cp_msg m = { .op = CACHEPEER_OP_PING };
	unsigned char *frames = calloc(PINGS, LEN);
	struct timeval t0, t1;
	struct cp_client c;
	struct cp_resp r;
	size_t off = 0;
	int i, one = 1;

	ASSERT_NE(NULL, frames);
	for (i = 0; i < PINGS; i++) {
		struct cachepeer_req *h = (void *)(frames + i * LEN);

		h->magic = htobe32(CACHEPEER_REQ_MAGIC);
		h->version = CACHEPEER_PROTO_VERSION;
		h->opcode = m.op;
		h->id = htobe64(i);
	}
	ASSERT_EQ(0, do_connect(&c));
	ASSERT_EQ(0, setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	gettimeofday(&t0, NULL);
	while (off < PINGS * LEN) {
		size_t n = !off ? 1 : off + LEN > PINGS * LEN ? PINGS * LEN - off : LEN;

		ASSERT_EQ((ssize_t)n, write(c.fd, frames + off, n));
		off += n;
		usleep(80 * 1000);
	}
	gettimeofday(&t1, NULL);
	ASSERT_LE(6, t1.tv_sec - t0.tv_sec) TH_LOG("sent too fast to outlast the timeout");
	for (i = 0; i < PINGS; i++) {
		ASSERT_EQ(0, cp_client_recv_hdr(&c, &r));
		ASSERT_EQ(CACHEPEER_S_OK, r.status);
		ASSERT_EQ((uint64_t)i, r.id);
	}
	cp_client_close(&c);
	free(frames);
}

/* A byte every second keeps no frame open past the timeout. */
TEST_F_TIMEOUT(node, trickling_frame_times_out, 600)
{
	struct cachepeer_req h = { .magic = htobe32(CACHEPEER_REQ_MAGIC) };
	struct timeval t0, t1;
	struct cp_client c;
	size_t i;
	char b;

	ASSERT_EQ(0, do_connect(&c));
	gettimeofday(&t0, NULL);
	for (i = 0; i < sizeof(h); i++) {
		if (write(c.fd, (char *)&h + i, 1) != 1)
			break;		/* closed by the node */
		sleep(1);
		gettimeofday(&t1, NULL);
		ASSERT_GT(20, t1.tv_sec - t0.tv_sec) TH_LOG("still open after 20 s");
	}
	ASSERT_GE(0, read(c.fd, &b, 1));
	gettimeofday(&t1, NULL);
	ASSERT_LE(4, t1.tv_sec - t0.tv_sec);
	ASSERT_GT(20, t1.tv_sec - t0.tv_sec);
	cp_client_close(&c);
}

/*
 * A client that half-closes after its request gets every byte of the
 * answer, then EOF: the node finishes the connection (its FIN follows what
 * it has queued) rather than resetting it with bytes still in its socket.
 * A small receive buffer keeps those bytes queued at the node when it ends.
 */
TEST_F_TIMEOUT(node, half_closed_client_gets_everything, 600)
{
	enum { BS = 4 * MiB };
	unsigned char *data = malloc(BS), *got = malloc(BS);
	struct cp_msg m = { .op = CACHEPEER_OP_GET, .key = "hc", .key_len = 2 };
	int rcvbuf = 16384;
	struct cp_client c;
	struct cp_resp r;
	size_t n = 0;
	ssize_t k;

	ASSERT_NE(NULL, data);
	ASSERT_NE(NULL, got);
	fill_random(data, BS, 31);
	ASSERT_EQ(CACHEPEER_S_OK, put_key("hc", data, BS));
	ASSERT_EQ(0, do_connect(&c));
	ASSERT_EQ(0, setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)));
	ASSERT_EQ(0, cp_client_send(&c, &m));
	ASSERT_EQ(0, shutdown(c.fd, SHUT_WR));
	ASSERT_EQ(0, cp_client_recv_hdr(&c, &r));
	ASSERT_EQ(CACHEPEER_S_OK, r.status);
	ASSERT_EQ(BS, r.data_len);
	while (n < BS && (k = read(c.fd, got + n, BS - n)) > 0)
		n += k;
	ASSERT_EQ(BS, n) TH_LOG("the answer was cut after %zu bytes: %s", n, strerror(errno));
	ASSERT_EQ(0, memcmp(data, got, BS));
	ASSERT_EQ(ref_crc(data, BS), r.crc);
	ASSERT_EQ(0, read(c.fd, got, 1)) TH_LOG("no EOF after the answer: %s", strerror(errno));
	cp_client_close(&c);
	free(data);
	free(got);
}

/* All of a test's connections come from one address: lift the per-source limit. */
static int no_source_limit(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "%s set --max-conns-per-source 0", ctl());
	return system(cmd);
}

TEST_F_TIMEOUT(node, many_connections, 600)
{
	enum { N = 2000 };
	struct rlimit rl = { N + 100, N + 100 };
	static struct cp_client conns[N];
	struct cp_msg ping = { .op = CACHEPEER_OP_PING };
	struct cp_resp r;
	int i;

	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	ASSERT_EQ(0, no_source_limit());
	for (i = 0; i < N; i++)
		ASSERT_EQ(0, do_connect(&conns[i]));
	for (i = 0; i < N; i++) {
		ping.id = i;
		ASSERT_EQ(0, cp_client_send(&conns[i], &ping));
	}
	for (i = 0; i < N; i++) {
		ASSERT_EQ(0, cp_client_recv_hdr(&conns[i], &r));
		ASSERT_EQ(i, r.id);
		ASSERT_EQ(CACHEPEER_S_OK, r.status);
	}
	for (i = 0; i < N; i++)
		cp_client_close(&conns[i]);
}

/*
 * Clients hang up while the node stops: the node's close of every
 * connection meets closes already running for the same connections, and
 * none may run twice on a freed one (KASAN in check-debug sees that, the
 * guest log check anything else). Then the node starts again and serves.
 */
TEST_F_TIMEOUT(node, stop_while_clients_leave, 600)
{
	enum { ROUNDS = 6, N = 1000 };
	struct rlimit rl = { N + 100, N + 100 };
	static struct cp_client conns[N];
	struct cp_msg ping = { .op = CACHEPEER_OP_PING };
	char stop[256], start[512];
	struct cp_resp r;
	int round, i, status;
	pid_t pid;

	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	ASSERT_EQ(0, no_source_limit());
	snprintf(stop, sizeof(stop), "%s stop", ctl());
	snprintf(start, sizeof(start), "%s start --listen %s --dir %s", ctl(), PEER, self->dir);
	for (round = 0; round < ROUNDS; round++) {
		if (round)
			ASSERT_EQ(0, system(start));
		for (i = 0; i < N; i++) {
			ASSERT_EQ(0, do_connect(&conns[i]));
			ping.id = i;
			ASSERT_EQ(0, cp_client_send(&conns[i], &ping));
		}
		for (i = 0; i < N; i++) {
			ASSERT_EQ(0, cp_client_recv_hdr(&conns[i], &r));
			ASSERT_EQ(CACHEPEER_S_OK, r.status);
		}
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			usleep(round * 10000);	/* meet the closes early and late */
			_exit(system(stop) ? 1 : 0);
		}
		/* The child shares the sockets: shutdown() sends FIN anyway. */
		for (i = 0; i < N; i++)
			shutdown(conns[i].fd, SHUT_RDWR);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_EQ(0, status);
		for (i = 0; i < N; i++)
			cp_client_close(&conns[i]);
	}
	ASSERT_EQ(0, system(start));
	ASSERT_EQ(0, do_connect(&conns[0]));
	ASSERT_EQ(CACHEPEER_S_OK, exchange(&conns[0], &ping, &r, NULL));
	cp_client_close(&conns[0]);
}

/*
 * A block is immutable: a PUT of its key with another size is a conflict,
 * answered as one, and leaves nothing on disk; one of the same size is the
 * same block. Then the same with PUTs of both sizes racing.
 */
TEST_F_TIMEOUT(node, reput_other_size, 600)
{
	enum { N = 8, SMALL = 5000, BIG = 6000 };
	unsigned char *data = malloc(BIG);
	struct cp_client c[N];
	struct cp_msg m = { .op = CACHEPEER_OP_PUT, .key = "k2", .key_len = 2, .with_crc = 1 };
	struct cp_resp r;
	int i, ok = 0, conflicts = 0;

	ASSERT_NE(NULL, data);
	fill_random(data, BIG, 29);
	ASSERT_EQ(CACHEPEER_S_OK, put_key("k", data, SMALL));
	ASSERT_EQ(CACHEPEER_S_CONFLICT, put_key("k", data, BIG));
	ASSERT_EQ(CACHEPEER_S_OK, put_key("k", data, SMALL));
	ASSERT_EQ(1, count_files(self->dir));
	ASSERT_EQ(0, do_connect(&c[0]));
	check_range(_metadata, &c[0], "k", data, SMALL, 0, 0);
	cp_client_close(&c[0]);

	/* Racing: one size wins, every PUT of the other is a conflict. */
	m.payload = data;
	for (i = 0; i < N; i++) {
		m.payload_len = i % 2 ? BIG : SMALL;
		ASSERT_EQ(0, do_connect(&c[i]));
		ASSERT_EQ(0, cp_client_send(&c[i], &m));
	}
	for (i = 0; i < N; i++) {
		ASSERT_EQ(0, cp_client_recv_hdr(&c[i], &r));
		ASSERT_TRUE(r.status == CACHEPEER_S_OK || r.status == CACHEPEER_S_CONFLICT);
		if (r.status == CACHEPEER_S_OK)
			ok |= 1 << (i % 2);
		else
			conflicts++;
		cp_client_close(&c[i]);
	}
	ASSERT_TRUE(ok == 1 || ok == 2) TH_LOG("both sizes were stored (%d)", ok);
	ASSERT_EQ(N / 2, conflicts);
	ASSERT_EQ(2, count_files(self->dir));
	ASSERT_EQ(0, do_connect(&c[0]));
	check_range(_metadata, &c[0], "k2", data, ok == 1 ? SMALL : BIG, 0, 0);
	cp_client_close(&c[0]);
	free(data);
}

TEST_F_TIMEOUT(node, concurrent_puts_of_one_key, 600)
{
	enum { N = 8, BS = 256 * 1024 };
	unsigned char *data = malloc(BS);
	struct cp_client c[N];
	struct cp_msg m = { .op = CACHEPEER_OP_PUT, .key = "same", .key_len = 4,
			    .payload_len = BS, .with_crc = 1 };
	struct cp_resp r;
	int i;

	ASSERT_NE(NULL, data);
	fill_random(data, BS, 17);
	m.payload = data;
	for (i = 0; i < N; i++) {
		ASSERT_EQ(0, do_connect(&c[i]));
		ASSERT_EQ(0, cp_client_send(&c[i], &m));
	}
	for (i = 0; i < N; i++) {
		ASSERT_EQ(0, cp_client_recv_hdr(&c[i], &r));
		ASSERT_EQ(CACHEPEER_S_OK, r.status);
		cp_client_close(&c[i]);
	}
	ASSERT_EQ(1, count_files(self->dir));
	ASSERT_EQ(0, do_connect(&c[0]));
	check_range(_metadata, &c[0], "same", data, BS, 0, 0);
	cp_client_close(&c[0]);
	free(data);
}

/*
 * A node whose cache is on ext4, where the page cache can be dropped under
 * a response that is half sent. The filesystem image lives in a tmpfs.
 */
FIXTURE(disk) {
	char dir[64];
	char mnt[80];
};

FIXTURE_SETUP(disk)
{
	char cmd[1024];

	ASSERT_EQ(0, node_env(self->dir));
	snprintf(self->mnt, sizeof(self->mnt), "%s/mnt", self->dir);
	snprintf(cmd, sizeof(cmd), "modprobe loop && truncate -s 160M %1$s/img && %2$s %1$s/img",
		 self->dir, "mkfs.ext4 -q -F");
	ASSERT_EQ(0, system(cmd));
	snprintf(cmd, sizeof(cmd), "mkdir %2$s && mount -o loop %1$s/img %2$s && rmdir %2$s/%3$s",
		 self->dir, self->mnt, "lost+found");
	ASSERT_EQ(0, system(cmd));
	/* A PUT's frame, payload included, must arrive within the frame timeout. */
	snprintf(cmd, sizeof(cmd),
		 "%s start --listen %s --dir %s --max-block 64M --frame-timeout %d", ctl(), PEER,
		 self->mnt, 30000 * cp_time_scale());
	ASSERT_EQ(0, system(cmd));
}

FIXTURE_TEARDOWN(disk)
{
	EXPECT_EQ(0, node_env_end(self->dir, self->mnt));
}

/* The path of the one block file in dir. */
static int block_path(const char *dir, char *path, size_t len)
{
	return dir_files(dir, path, len) == 1 ? 0 : -1;
}

/* Bytes of the file at path in the page cache, or -1. */
static long resident(const char *path)
{
	int fd = open(path, O_RDONLY);
	long pg = sysconf(_SC_PAGESIZE), n = 0, i;
	unsigned char *vec = NULL;
	struct stat st;
	void *map;

	if (fd < 0 || fstat(fd, &st))
		return -1;
	map = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -1;
	vec = malloc(st.st_size / pg + 1);
	if (!vec || mincore(map, st.st_size, vec))
		n = -1;
	for (i = 0; n >= 0 && i < (st.st_size + pg - 1) / pg; i++)
		n += (vec[i] & 1) * pg;
	free(vec);
	munmap(map, st.st_size);
	return n;
}

/* Drop the file's clean pages; DONTNEED also drains the per-CPU LRU batches. */
static int evict(const char *path)
{
	int fd = open(path, O_RDONLY), ret;

	if (fd < 0)
		return -1;
	ret = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd < 0)
		return -1;
	ret |= write(fd, "3", 1) != 1;
	close(fd);
	return ret;
}

/* Read up to len bytes; fewer only at EOF or on an error. */
static size_t read_upto(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n <= 0)
			break;
		got += n;
	}
	return got;
}

enum { BIG = 64 * MiB, FIRST = MiB };

static struct cp_msg stat_big = { .op = CACHEPEER_OP_STAT, .key = "big", .key_len = 3 };

/*
 * Store a 64 MiB block, GET it on a connection with a small receive buffer,
 * read its first MiB and stop reading: TX stalls on a full socket with a few
 * MiB in flight and most of the block still to be taken from the page cache.
 * Then drop that page cache.
 */
static void stall_and_evict(struct __test_metadata *_metadata, const char *mnt,
			    struct cp_client *c, unsigned char *data, unsigned char *got,
			    char *path, size_t path_len)
{
	struct cp_msg m = { .op = CACHEPEER_OP_GET, .key = "big", .key_len = 3 };
	int rcvbuf = 128 * 1024;
	struct cp_resp r;
	long res;

	fill_random(data, BIG, 23);
	ASSERT_EQ(CACHEPEER_S_OK, put_key("big", data, BIG));
	ASSERT_EQ(0, block_path(mnt, path, path_len));
	ASSERT_EQ(0, do_connect(c));
	ASSERT_EQ(0, setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)));
	ASSERT_EQ(0, cp_client_send(c, &m));
	ASSERT_EQ(0, cp_client_recv_hdr(c, &r));
	ASSERT_EQ(CACHEPEER_S_OK, r.status);
	ASSERT_EQ(BIG, r.data_len);
	ASSERT_EQ(FIRST, read_upto(c->fd, got, FIRST));
	sleep(1);
	ASSERT_EQ(0, evict(path));
	/* Only what sits in socket buffers (a few MiB) can stay cached. */
	res = resident(path);
	TH_LOG("%ld MiB of the block cached after the drop", res / MiB);
	ASSERT_LE(0, res);
	ASSERT_GT(BIG / 2, res);
}

/*
 * Folios dropped from the page cache after the GET was checked (in softirq)
 * and before TX took them: TX reads them back, verifies them and sends the
 * right bytes.
 */
TEST_F_TIMEOUT(disk, evicted_mid_response, 600)
{
	unsigned char *data = malloc(BIG), *got = malloc(BIG);
	struct cp_client c;
	struct cp_resp r;
	char path[256];

	ASSERT_NE(NULL, data);
	ASSERT_NE(NULL, got);
	stall_and_evict(_metadata, self->mnt, &c, data, got, path, sizeof(path));
	ASSERT_EQ(BIG - FIRST, read_upto(c.fd, got + FIRST, BIG - FIRST));
	ASSERT_EQ(0, memcmp(data, got, BIG));
	/* The node read the rest back from disk. */
	ASSERT_LT(BIG / 2, resident(path));
	/* The connection and the block are fine. */
	ASSERT_EQ(CACHEPEER_S_OK, exchange(&c, &stat_big, &r, NULL));
	ASSERT_EQ(BIG, r.block_size);
	cp_client_close(&c);
	free(data);
	free(got);
}

/*
 * The same, with a byte of the unsent part changed on disk: the header (and
 * OK) is already out, so the node must end the connection rather than send
 * the bad byte, and drop the block.
 */
TEST_F_TIMEOUT(disk, corrupted_mid_response, 600)
{
	unsigned char *data = malloc(BIG), *got = malloc(BIG);
	const off_t bad = 60 * MiB;
	struct cp_client c;
	struct cp_resp r;
	char path[256];
	size_t n;
	int fd;

	ASSERT_NE(NULL, data);
	ASSERT_NE(NULL, got);
	stall_and_evict(_metadata, self->mnt, &c, data, got, path, sizeof(path));
	fd = open(path, O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, pwrite(fd, &(unsigned char){ data[bad] ^ 0xff }, 1, bad));
	ASSERT_EQ(0, fsync(fd));
	close(fd);
	ASSERT_EQ(0, evict(path));
	n = read_upto(c.fd, got + FIRST, BIG - FIRST);
	TH_LOG("the connection ended after %zu MiB", (FIRST + n) / MiB);
	ASSERT_GT(BIG - FIRST, n);
	ASSERT_EQ(0, memcmp(data, got, FIRST + n));
	cp_client_close(&c);
	/* Dropped from the index and the directory. */
	ASSERT_EQ(0, do_connect(&c));
	ASSERT_EQ(CACHEPEER_S_NOT_FOUND, exchange(&c, &stat_big, &r, NULL));
	cp_client_close(&c);
	ASSERT_EQ(0, count_files(self->mnt));
	free(data);
	free(got);
}

TEST_HARNESS_MAIN
