// SPDX-License-Identifier: GPL-2.0
/*
 * libcachepeer against a live cluster (cluster.sh runs it in a member's
 * namespace, the writer key in CACHEPEER_KEY) and against a fake node of
 * its own that answers wrongly or not at all.
 *
 *   libclient SEEDS FAKE_ADDR PREFIX MEMBERS
 *
 * SEEDS: the cluster's seeds, the first of them dead. FAKE_ADDR: an
 * address to listen on. PREFIX: for the keys written. MEMBERS: the ring's
 * size. With LIBCLIENT_EDIT (a command that changes the ring) and
 * LIBCLIENT_REDIRECT (seeds whose first redirects its misses) instead, a
 * second run reads the blocks a first one stored, across the ring edit
 * and through the redirects, and does nothing else. Prints what failed,
 * and "libclient: N checks, N failed"; exit status 1 on any failure.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cachepeer/client.h>
#include <linux/cachepeer.h>

#include "cp_ref.h"

static int checks, failed;

#define CHECK(cond, ...) do {							\
	checks++;								\
	if (!(cond)) {								\
		failed++;							\
		printf("FAIL %s:%d: ", __func__, __LINE__);			\
		printf(__VA_ARGS__);						\
		printf("\n");							\
	}									\
} while (0)

#define NKEYS	48

static const char *prefix;
static unsigned int members;
static uint8_t *blocks[NKEYS];
static size_t sizes[NKEYS];

static void key_of(int i, char *key, size_t len)
{
	snprintf(key, len, "%slib-%d", prefix, i);
}

static void make_blocks(void)
{
	int i;

	for (i = 0; i < NKEYS; i++) {
		/* 1 byte to 1 MiB, and around the 64 KiB receive buffer. */
		if (i == 0)
			sizes[i] = 1;
		else if (i % 8 == 1)
			sizes[i] = 65536 + i;
		else
			sizes[i] = (size_t)(i * 20011) % (1 << 20) + 1;
		blocks[i] = malloc(sizes[i]);
		fill_random(blocks[i], sizes[i], 0x9e3779b97f4a7c15ULL + i);
	}
}

struct tally {
	atomic_int done, bad;
	int want;
};

static void put_done(void *arg, const struct cachepeer_result *res)
{
	struct tally *t = arg;

	if (res->error)
		t->bad++;
	t->done++;
}

/* Every block PUT at once (all in flight), then read back and STATed. */
static void test_put_get(struct cachepeer *cp)
{
	struct tally t = { 0 };
	struct cachepeer_stats st;
	char key[64];
	int i;

	for (i = 0; i < NKEYS; i++) {
		struct cachepeer_request r = {
			.op = CACHEPEER_PUT, .key = key, .data = blocks[i],
			.data_len = sizes[i], .done = put_done, .arg = &t,
		};

		key_of(i, key, sizeof(key));
		r.key_len = strlen(key);
		CHECK(!cachepeer_submit(cp, &r, NULL), "submit PUT %d", i);
	}
	while (t.done < NKEYS)
		if (cachepeer_run(cp, -1) < 0)
			break;
	CHECK(t.done == NKEYS && !t.bad, "PUTs: %d done, %d failed", t.done, t.bad);
	for (i = 0; i < NKEYS; i++) {
		uint8_t *buf = malloc(sizes[i]);
		uint64_t size = 0;
		uint32_t crc = 0;
		ssize_t n;

		key_of(i, key, sizeof(key));
		n = cachepeer_get(cp, key, strlen(key), 0, 0, buf, sizes[i]);
		CHECK(n == (ssize_t)sizes[i] && !memcmp(buf, blocks[i], sizes[i]),
		      "GET %s: %zd of %zu", key, n, sizes[i]);
		CHECK(!cachepeer_stat(cp, key, strlen(key), &size, &crc) && size == sizes[i] &&
		      crc == ref_crc(blocks[i], sizes[i]), "STAT %s", key);
		free(buf);
	}
	cachepeer_get_stats(cp, &st, sizeof(st));
	CHECK(st.members == members && st.ring_epoch, "ring of %llu members",
	      (unsigned long long)st.members);
	CHECK(st.redirects == 0, "%llu redirects", (unsigned long long)st.redirects);
}

static void test_errors(struct cachepeer *cp)
{
	uint8_t small[16], buf[4096];
	char key[64];
	ssize_t n;

	key_of(5, key, sizeof(key));
	n = cachepeer_get(cp, key, strlen(key), 0, 0, small, sizeof(small));
	CHECK(n == -EMSGSIZE, "GET into a small buffer: %zd", n);
	/* The connection goes on: a range of the same block. */
	n = cachepeer_get(cp, key, strlen(key), 100, 16, small, sizeof(small));
	CHECK(n == 16 && !memcmp(small, blocks[5] + 100, 16), "range GET: %zd", n);
	n = cachepeer_get(cp, "no-such-key", 11, 0, 0, buf, sizeof(buf));
	CHECK(n == -ENOENT, "GET of a missing key: %zd", n);
	CHECK(cachepeer_put(cp, key, strlen(key), blocks[5], 10) == -EEXIST,
	      "PUT of another size over a block");
	CHECK(cachepeer_get(cp, "", 0, 0, 0, buf, 1) == -EINVAL, "empty key");
	key_of(NKEYS - 1, key, sizeof(key));
	CHECK(!cachepeer_del(cp, key, strlen(key)), "DEL");
	CHECK(cachepeer_get(cp, key, strlen(key), 0, 0, buf, sizeof(buf)) == -ENOENT,
	      "GET after DEL");
	CHECK(cachepeer_del(cp, key, strlen(key)) == -ENOENT, "DEL again");
	CHECK(!cachepeer_put(cp, key, strlen(key), blocks[NKEYS - 1], sizes[NKEYS - 1]),
	      "PUT again");
}

static int file_matches(int fd, off_t at, const uint8_t *want, size_t len)
{
	uint8_t *got = malloc(len);
	int ok = pread(fd, got, len, at) == (ssize_t)len && !memcmp(got, want, len);

	free(got);
	return ok;
}

/* GET into a file (spliced), a write-only file and a pipe (copied). */
static void test_get_fd(struct cachepeer *cp)
{
	char key[64], path[] = "/tmp/libclient.XXXXXX";
	int fd = mkstemp(path), wo, p[2], i = 9;
	ssize_t n;
	pid_t pid;

	key_of(i, key, sizeof(key));
	n = cachepeer_get_fd(cp, key, strlen(key), 0, 0, fd, 4096);
	CHECK(n == (ssize_t)sizes[i] && file_matches(fd, 4096, blocks[i], sizes[i]),
	      "GET into a file: %zd", n);
	wo = open(path, O_WRONLY);
	n = cachepeer_get_fd(cp, key, strlen(key), 10, 1000, wo, 0);
	CHECK(n == 1000 && file_matches(fd, 0, blocks[i] + 10, 1000),
	      "GET into a write-only file: %zd", n);
	close(wo);
	close(fd);
	unlink(path);
	if (pipe(p))
		return;
	pid = fork();
	if (!pid) {
		uint8_t *got = malloc(sizes[i]);
		size_t have = 0;
		ssize_t r;

		close(p[1]);
		while (have < sizes[i] && (r = read(p[0], got + have, sizes[i] - have)) > 0)
			have += r;
		_exit(have == sizes[i] && !memcmp(got, blocks[i], have) ? 0 : 1);
	}
	close(p[0]);
	n = cachepeer_get_fd(cp, key, strlen(key), 0, 0, p[1], 0);
	close(p[1]);
	CHECK(n == (ssize_t)sizes[i], "GET into a pipe: %zd", n);
	waitpid(pid, &i, 0);
	CHECK(WIFEXITED(i) && !WEXITSTATUS(i), "the pipe's reader saw other bytes");
}

/* Every block but the last, read through cp and compared. */
static int read_all_blocks(struct cachepeer *cp)
{
	uint8_t *buf = malloc(1 << 20);
	char key[64];
	int i, bad = 0;

	for (i = 0; buf && i < NKEYS - 1; i++) {
		key_of(i, key, sizeof(key));
		if (cachepeer_get(cp, key, strlen(key), 0, 0, buf, 1 << 20) != (ssize_t)sizes[i] ||
		    memcmp(buf, blocks[i], sizes[i]))
			bad++;
	}
	free(buf);
	return buf ? bad : -1;
}

/*
 * The ring changes behind the handle's back: the first answer with the
 * newer epoch makes it read the ring again, and reads go on by the new one.
 */
static void test_epoch(struct cachepeer *cp, const char *edit)
{
	struct cachepeer_stats st0, st;
	uint8_t buf[16];
	char key[64];
	int i;

	cachepeer_get_stats(cp, &st0, sizeof(st0));
	CHECK(!system(edit), "%s", edit);
	key_of(0, key, sizeof(key));
	for (i = 0; i < 200; i++) {
		cachepeer_get(cp, key, strlen(key), 0, 1, buf, sizeof(buf));
		cachepeer_get_stats(cp, &st, sizeof(st));
		if (st.ring_reads > st0.ring_reads && st.ring_epoch > st0.ring_epoch)
			break;
		usleep(20000);
	}
	CHECK(st.ring_reads > st0.ring_reads && st.ring_epoch > st0.ring_epoch,
	      "ring read %llu times, epoch %llu (was %llu)", (unsigned long long)st.ring_reads,
	      (unsigned long long)st.ring_epoch, (unsigned long long)st0.ring_epoch);
	CHECK(!read_all_blocks(cp), "blocks read by the new ring");
}

/* Pinned to a node that redirects its misses: every GET ends at its owner. */
static void test_redirect(const char *seeds, const char *key_spec)
{
	struct cachepeer_config cfg = {
		.size = sizeof(cfg), .seeds = seeds, .key = key_spec, .flags = CACHEPEER_CFG_PIN,
	};
	struct cachepeer_stats st;
	struct cachepeer *cp;

	if (cachepeer_open(&cp, &cfg)) {
		CHECK(0, "open %s", seeds);
		return;
	}
	CHECK(!read_all_blocks(cp), "blocks read through redirects");
	cachepeer_get_stats(cp, &st, sizeof(st));
	CHECK(st.redirects > 0, "%llu redirects followed", (unsigned long long)st.redirects);
	cachepeer_close(cp);
}

struct reader {
	struct cachepeer *cp;
	int id, bad;
};

static void *reader(void *arg)
{
	struct reader *rd = arg;
	uint8_t *buf = malloc(1 << 20);
	char key[64];
	int j;

	for (j = 0; j < 60; j++) {
		int i = (rd->id * 7 + j) % (NKEYS - 1);

		key_of(i, key, sizeof(key));
		if (cachepeer_get(rd->cp, key, strlen(key), 0, 0, buf, 1 << 20) !=
		    (ssize_t)sizes[i] || memcmp(buf, blocks[i], sizes[i]))
			rd->bad++;
	}
	free(buf);
	return NULL;
}

/* 16 threads share the handle, blocking helpers only. */
static void test_threads(struct cachepeer *cp)
{
	struct reader rd[16];
	pthread_t th[16];
	int i, bad = 0;

	for (i = 0; i < 16; i++) {
		rd[i] = (struct reader) { .cp = cp, .id = i };
		pthread_create(&th[i], NULL, reader, &rd[i]);
	}
	for (i = 0; i < 16; i++) {
		pthread_join(th[i], NULL);
		bad += rd[i].bad;
	}
	CHECK(!bad, "%d of 960 GETs from 16 threads failed", bad);
}

static void get_done(void *arg, const struct cachepeer_result *res)
{
	struct tally *t = arg;

	if (res->error || res->len != 4096)
		t->bad++;
	t->done++;
}

/*
 * Pinned to one node, two in flight a connection at most: 64 GETs open up
 * to max_conns connections, the requests queued together go out in few
 * writes, and the extra connections close once idle. The block is stored
 * on that node first (LOCAL), so that it answers every GET itself.
 */
static void test_adaptive(const char *node, const char *key_spec)
{
	struct cachepeer_config cfg = {
		.size = sizeof(cfg), .seeds = node, .key = key_spec, .flags = CACHEPEER_CFG_PIN,
		.min_conns = 1, .max_conns = 4, .depth = 2, .idle_ms = 200,
	};
	static uint8_t bufs[64][4096];
	struct cachepeer_stats st;
	struct cachepeer *cp;
	struct tally t = { 0 };
	char key[64];
	int i;

	struct cachepeer_result res;
	uint64_t id;

	CHECK(!cachepeer_open(&cp, &cfg), "open pinned");
	snprintf(key, sizeof(key), "%sadaptive", prefix);
	{
		struct cachepeer_request r = {
			.op = CACHEPEER_PUT, .key = key, .key_len = strlen(key),
			.data = blocks[3], .data_len = sizes[3], .flags = CACHEPEER_REQ_LOCAL,
		};

		CHECK(!cachepeer_submit(cp, &r, &id) && !cachepeer_wait(cp, id, &res) &&
		      !res.error, "PUT LOCAL to the pinned node: %d", res.error);
	}
	for (i = 0; i < 64; i++) {
		struct cachepeer_request r = {
			.op = CACHEPEER_GET, .key = key, .key_len = strlen(key), .buf = bufs[i],
			.buf_len = sizeof(bufs[i]), .length = 4096,
			.done = get_done, .arg = &t,
		};

		cachepeer_submit(cp, &r, NULL);
	}
	while (t.done < 64)
		if (cachepeer_run(cp, -1) < 0)
			break;
	cachepeer_get_stats(cp, &st, sizeof(st));
	CHECK(t.done == 64, "adaptive: %d done", t.done);
	CHECK(st.conns_opened == 4, "opened %llu connections, not max_conns 4",
	      (unsigned long long)st.conns_opened);
	CHECK(st.frames == 1 + 64 + 4 * 2 && st.writes < st.frames / 2,
	      "%llu frames in %llu writes", (unsigned long long)st.frames,
	      (unsigned long long)st.writes);
	/* Idle for 200 ms: back to min_conns, within a few seconds at most. */
	for (i = 0; i < 100 && st.conns > 1; i++) {
		cachepeer_run(cp, 100);
		cachepeer_get_stats(cp, &st, sizeof(st));
	}
	CHECK(st.conns == 1 && st.conns_closed_idle == 3, "%llu open, %llu closed idle",
	      (unsigned long long)st.conns, (unsigned long long)st.conns_closed_idle);
	cachepeer_close(cp);
}

/* A fake node: reads requests and answers them wrongly, or never. */
enum fake_mode {
	FAKE_SILENT,		/* never answers */
	FAKE_BAD_CRC,		/* 100 bytes, a wrong CRC */
	FAKE_SHORT,		/* 50 bytes of a 100-byte block, their CRC right */
	FAKE_DATA,		/* 10 bytes on any answer (a STAT's has none) */
	FAKE_TOO_LARGE,		/* TOO_LARGE after a PUT's header, then closes */
};

struct fake {
	int lfd;
	atomic_int mode;
};

static void fake_answer(struct fake *f, int c, const struct cachepeer_req *h)
{
	static const uint8_t data[100] = { 1, 2, 3 };
	struct cachepeer_resp r = {
		.magic = htobe32(CACHEPEER_RESP_MAGIC), .id = h->id,
		.status = htobe16(CACHEPEER_S_OK),
		.data_len = htobe64(sizeof(data)),
		.block_size = htobe64(sizeof(data)), .crc = htobe32(12345),
	};
	size_t len = sizeof(data);

	switch (f->mode) {
	case FAKE_SILENT:
		return;
	case FAKE_BAD_CRC:
		break;
	case FAKE_SHORT:
		len = 50;
		r.data_len = htobe64(len);
		r.crc = htobe32(ref_crc(data, len));
		break;
	case FAKE_DATA:
		len = 10;
		r.data_len = htobe64(len);
		r.block_size = htobe64(len);
		r.crc = htobe32(ref_crc(data, len));
		break;
	case FAKE_TOO_LARGE:
		len = 0;
		r.status = htobe16(CACHEPEER_S_TOO_LARGE);
		r.data_len = 0;
		break;
	}
	if (write(c, &r, sizeof(r)) < 0 || (len && write(c, data, len) < 0))
		return;
}

static void *fake_node(void *arg)
{
	struct fake *f = arg;
	int c;

	while ((c = accept(f->lfd, NULL, NULL)) >= 0) {
		struct cachepeer_req h;
		uint8_t key[CACHEPEER_KEY_MAX], sink[4096];

		while (read(c, &h, sizeof(h)) == sizeof(h) &&
		       read(c, key, be16toh(h.key_len)) == be16toh(h.key_len)) {
			fake_answer(f, c, &h);
			if (f->mode == FAKE_TOO_LARGE) {
				/* As a node does: answer, then no more (a FIN, not a reset). */
				shutdown(c, SHUT_WR);
				while (read(c, sink, sizeof(sink)) > 0)
					;
				break;
			}
		}
		close(c);
	}
	return NULL;
}

/* A request cancelled by close, whose callback tries to submit another. */
struct closing {
	struct cachepeer *cp;
	int err, sub;
};

static void on_close(void *arg, const struct cachepeer_result *res)
{
	struct cachepeer_request r = { .op = CACHEPEER_STAT, .key = "k", .key_len = 1 };
	struct closing *cl = arg;

	cl->err = res->error;
	cl->sub = cachepeer_submit(cl->cp, &r, NULL);
}

/* A GET of "k" that a silent node holds until it is cancelled or closed. */
static struct cachepeer_request held_get(uint8_t *buf, size_t len)
{
	return (struct cachepeer_request){
		.op = CACHEPEER_GET, .key = "k", .key_len = 1, .buf = buf,
		.buf_len = len, .timeout_ms = 60000,
	};
}

static void test_fake(const char *addr)
{
	struct cachepeer_config cfg = {
		.size = sizeof(cfg), .seeds = addr, .flags = CACHEPEER_CFG_PIN, .timeout_ms = 300,
	};
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct fake f = { .mode = FAKE_SILENT };
	char host[32];
	struct cachepeer_result res;
	struct cachepeer_stats st;
	char path[] = "/tmp/libclient.XXXXXX";
	struct cachepeer *cp;
	uint8_t buf[200], *big;
	pthread_t th;
	uint64_t id;
	int one = 1, fd;
	ssize_t n;

	snprintf(host, sizeof(host), "%.*s", (int)strcspn(addr, ":"), addr);
	inet_pton(AF_INET, host, &sin.sin_addr);
	sin.sin_port = htons(atoi(strchr(addr, ':') + 1));
	f.lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(f.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(f.lfd, (struct sockaddr *)&sin, sizeof(sin)) || listen(f.lfd, 8)) {
		CHECK(0, "fake node on %s: %s", addr, strerror(errno));
		return;
	}
	pthread_create(&th, NULL, fake_node, &f);
	CHECK(!cachepeer_open(&cp, &cfg), "open the fake");
	n = cachepeer_get(cp, "k", 1, 0, 0, buf, sizeof(buf));
	CHECK(n == -ETIMEDOUT, "GET never answered: %zd", n);
	/* Silent all that time: the connection is closed, the node routed past. */
	cachepeer_get_stats(cp, &st, sizeof(st));
	CHECK(st.conns == 0, "%llu connections to a hung node", (unsigned long long)st.conns);
	n = cachepeer_get(cp, "k", 1, 0, 0, buf, sizeof(buf));
	CHECK(n == -EHOSTUNREACH, "GET right after: %zd", n);
	{
		struct cachepeer_request r = held_get(buf, sizeof(buf));
		int i;

		/* Tried again after its back-off (0.5 s): then held until cancelled. */
		for (i = 0; i < 100; i++) {
			CHECK(!cachepeer_submit(cp, &r, &id), "submit");
			if (!cachepeer_cancel(cp, id))
				break;
			cachepeer_wait(cp, id, &res);
			usleep(20000);
		}
		CHECK(i < 100, "the node was never tried again");
		CHECK(!cachepeer_wait(cp, id, &res) && res.error == -ECANCELED,
		      "cancelled: %d", res.error);
		CHECK(cachepeer_cancel(cp, id) == -ENOENT, "cancel twice");
	}
	f.mode = FAKE_BAD_CRC;
	n = cachepeer_get(cp, "k", 1, 0, 0, buf, sizeof(buf));
	CHECK(n == -EBADMSG, "GET with a bad CRC: %zd", n);
	fd = mkstemp(path);
	n = cachepeer_get_fd(cp, "k", 1, 0, 0, fd, 0);
	CHECK(n == -EBADMSG, "GET into a file with a bad CRC: %zd", n);
	close(fd);
	unlink(path);
	cachepeer_get_stats(cp, &st, sizeof(st));
	CHECK(st.timeouts == 1 && st.crc_errors == 2, "%llu timeouts, %llu CRC errors",
	      (unsigned long long)st.timeouts, (unsigned long long)st.crc_errors);
	/* Answers the protocol does not allow: refused, the connection closed. */
	f.mode = FAKE_SHORT;
	n = cachepeer_get(cp, "k", 1, 0, 0, buf, sizeof(buf));
	CHECK(n == -EPROTO, "GET answered with half its block: %zd", n);
	f.mode = FAKE_DATA;
	n = cachepeer_stat(cp, "k", 1, NULL, NULL);
	CHECK(n == -EPROTO, "STAT answered with data: %zd", n);
	/* Refused after its header, long before its 16 MiB are written. */
	f.mode = FAKE_TOO_LARGE;
	big = calloc(1, 16 << 20);
	n = big ? cachepeer_put(cp, "k", 1, big, 16 << 20) : -ENOMEM;
	CHECK(n == -EFBIG, "PUT refused as too large: %zd", n);
	free(big);
	/* Close: what is in flight is cancelled, and a callback's request refused. */
	f.mode = FAKE_SILENT;
	{
		struct closing cl = { .cp = cp, .sub = 1 };
		struct cachepeer_request r = held_get(buf, sizeof(buf));

		r.done = on_close;
		r.arg = &cl;

		CHECK(!cachepeer_submit(cp, &r, NULL), "submit before close");
		cachepeer_close(cp);
		CHECK(cl.err == -ECANCELED && cl.sub == -ESHUTDOWN,
		      "closed: %d, a new request: %d", cl.err, cl.sub);
	}
	shutdown(f.lfd, SHUT_RDWR);
	close(f.lfd);
	pthread_join(th, NULL);
}

int main(int argc, char **argv)
{
	struct cachepeer_config cfg = { .size = sizeof(cfg), .flags = CACHEPEER_CFG_ENV_KEY };
	const char *first;
	struct cachepeer *cp;
	char pin[64];
	int ret, i;

	if (argc != 5) {
		fprintf(stderr, "usage: libclient SEEDS FAKE_ADDR PREFIX MEMBERS\n");
		return 2;
	}
	cfg.seeds = argv[1];
	prefix = argv[3];
	members = atoi(argv[4]);
	make_blocks();
	ret = cachepeer_open(&cp, &cfg);
	CHECK(!ret, "open %s: %s", argv[1], strerror(-ret));
	if (ret)
		goto out;
	if (getenv("LIBCLIENT_EDIT") && getenv("LIBCLIENT_REDIRECT")) {
		printf("# a ring edit\n");
		fflush(stdout);
		test_epoch(cp, getenv("LIBCLIENT_EDIT"));
		cachepeer_close(cp);
		printf("# redirects\n");
		fflush(stdout);
		test_redirect(getenv("LIBCLIENT_REDIRECT"), getenv("CACHEPEER_KEY"));
		goto out;
	}
	printf("# PUT and GET\n");
	fflush(stdout);
	test_put_get(cp);
	printf("# errors\n");
	fflush(stdout);
	test_errors(cp);
	printf("# GET into fds\n");
	fflush(stdout);
	test_get_fd(cp);
	printf("# threads\n");
	fflush(stdout);
	test_threads(cp);
	cachepeer_close(cp);
	/* The second seed is alive: pin it. */
	first = strchr(argv[1], ',');
	snprintf(pin, sizeof(pin), "%.*s", (int)strcspn(first + 1, ","), first + 1);
	printf("# adaptive connections\n");
	fflush(stdout);
	test_adaptive(pin, getenv("CACHEPEER_KEY"));
	printf("# a fake node\n");
	fflush(stdout);
	test_fake(argv[2]);
out:
	for (i = 0; i < NKEYS; i++)
		free(blocks[i]);
	printf("libclient: %d checks, %d failed\n", checks, failed);
	return failed ? 1 : 0;
}
