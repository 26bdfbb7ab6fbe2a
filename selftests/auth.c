// SPDX-License-Identifier: GPL-2.0
/*
 * HELLO and the access policy: what a connection may do with no key, with a
 * read key, with a write key; the handshake's failures, each with its
 * documented status and nothing else disturbed; a deleted key closing its
 * connections. The proofs are computed here from the uapi header's
 * definition (over ctl/sha256.c's HMAC), not by the client library.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <sys/random.h>

#include "cp_node.h"
#include "kselftest_harness.h"
#include "sha256.h"

static const char reader_secret[] = "reader secret of twenty-eight";
static const char writer_secret[] = "writer secret, thirty bytes!!";

FIXTURE(auth) {
	char dir[64];
};

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -1;
	ret = fprintf(f, "%s\n", text) < 0;
	return fclose(f) || ret ? -1 : 0;
}

static int run(const char *fmt, const char *arg)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "%s ", ctl());
	snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), fmt, arg);
	return system(cmd);
}

FIXTURE_SETUP(auth)
{
	char path[128];

	ASSERT_EQ(0, node_env(self->dir));
	snprintf(path, sizeof(path), "start --listen %s --dir %%s", PEER);
	ASSERT_EQ(0, run(path, self->dir));
	snprintf(path, sizeof(path), "%s/reader.key", self->dir);
	ASSERT_EQ(0, write_file(path, reader_secret));
	ASSERT_EQ(0, run("key add reader --role read %s", path));
	snprintf(path, sizeof(path), "%s/writer.key", self->dir);
	ASSERT_EQ(0, write_file(path, writer_secret));
	ASSERT_EQ(0, run("key add writer --role write %s", path));
}

FIXTURE_TEARDOWN(auth)
{
	EXPECT_EQ(0, node_env_end(self->dir, NULL));
}

/* The uapi header's proof, computed here. */
static void proof(const char *secret, bool node, const uint8_t *cn, const uint8_t *sn,
		  const char *name, uint8_t role, uint8_t *out)
{
	const char *label = node ? "cachepeer hello v1 node" : "cachepeer hello v1 client";
	uint8_t len = strlen(name);
	struct hmac_sha256 h;

	hmac_sha256_init(&h, secret, strlen(secret));
	hmac_sha256_update(&h, label, strlen(label));
	hmac_sha256_update(&h, cn, CACHEPEER_NONCE_LEN);
	hmac_sha256_update(&h, sn, CACHEPEER_NONCE_LEN);
	hmac_sha256_update(&h, &len, 1);
	hmac_sha256_update(&h, name, len);
	hmac_sha256_update(&h, &role, 1);
	hmac_sha256_final(&h, out);
}

/* A HELLO exchange's frames and answers, to check and to replay. */
struct hello {
	uint8_t cnonce[CACHEPEER_NONCE_LEN];
	uint8_t answer[CACHEPEER_NONCE_LEN + CACHEPEER_HMAC_LEN + 1];
	uint8_t proof[CACHEPEER_HMAC_LEN];
};

/* HELLO (1) with name; the status; the answer's data in h. */
static int hello1(struct cp_client *c, const char *name, struct hello *h, bool fresh)
{
	uint8_t key[CACHEPEER_NONCE_LEN + CACHEPEER_NAME_MAX];
	struct cp_msg m = { .op = CACHEPEER_OP_HELLO, .id = 11, .key = key,
			    .key_len = CACHEPEER_NONCE_LEN + strlen(name) };
	struct cp_resp r;

	if (fresh && getrandom(h->cnonce, sizeof(h->cnonce), 0) != sizeof(h->cnonce))
		return -1;
	memcpy(key, h->cnonce, CACHEPEER_NONCE_LEN);
	memcpy(key + CACHEPEER_NONCE_LEN, name, strlen(name));
	if (cp_client_send(c, &m) || cp_client_recv_hdr(c, &r))
		return -1;
	if (r.data_len &&
	    (r.data_len != sizeof(h->answer) || cp_client_recv_data(c, &r, h->answer)))
		return -2;
	return r.status;
}

/* HELLO (2) with proof p; the status. */
static int hello2(struct cp_client *c, const uint8_t *p)
{
	struct cp_msg m = { .op = CACHEPEER_OP_HELLO, .id = 12, .flags = CACHEPEER_F_PROOF,
			    .key = p, .key_len = CACHEPEER_HMAC_LEN };
	struct cp_resp r;

	if (cp_client_send(c, &m) || cp_client_recv_hdr(c, &r))
		return -1;
	return r.status;
}

/* A whole HELLO with name and secret, checking the node's proof; the final status. */
static int hello(struct __test_metadata *_metadata, struct cp_client *c, const char *name,
		 const char *secret, uint8_t role, struct hello *h)
{
	uint8_t want[CACHEPEER_HMAC_LEN];

	EXPECT_EQ(CACHEPEER_S_OK, hello1(c, name, h, true));
	EXPECT_EQ(role, h->answer[sizeof(h->answer) - 1]);
	proof(secret, true, h->cnonce, h->answer, name, role, want);
	EXPECT_EQ(0, memcmp(want, h->answer + CACHEPEER_NONCE_LEN, sizeof(want)));
	proof(secret, false, h->cnonce, h->answer, name, role, h->proof);
	return hello2(c, h->proof);
}

static int ping(struct cp_client *c)
{
	struct cp_msg m = { .op = CACHEPEER_OP_PING, .id = 5 };
	struct cp_resp r;

	return exchange(c, &m, &r, NULL);
}

static int del(struct cp_client *c, const char *key)
{
	struct cp_msg m = { .op = CACHEPEER_OP_DEL, .id = 6, .key = key, .key_len = strlen(key) };
	struct cp_resp r;

	return exchange(c, &m, &r, NULL);
}

static int put(struct cp_client *c, const char *key, const void *data, size_t len)
{
	struct cp_msg m = { .op = CACHEPEER_OP_PUT, .id = 7, .key = key, .key_len = strlen(key),
			    .payload = data, .payload_len = len, .with_crc = 1 };
	struct cp_resp r;

	return exchange(c, &m, &r, NULL);
}

static int get(struct cp_client *c, const char *key, void *buf)
{
	struct cp_msg m = { .op = CACHEPEER_OP_GET, .id = 8, .key = key, .key_len = strlen(key) };
	struct cp_resp r;

	return exchange(c, &m, &r, buf);
}

/* The node closed c: EOF or a reset. */
static bool closed(struct cp_client *c)
{
	char b;
	ssize_t n = read(c->fd, &b, 1);

	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/*
 * Under the default policy (writes, the node having keys): anyone reads,
 * only a write key writes; a refused PUT's payload is dropped and the
 * connection goes on; each refusal is counted by why.
 */
TEST_F_TIMEOUT(auth, roles_under_writes, 600)
{
	static unsigned char data[70000], got[70000];
	long long unauth = node_stat("denied_unauthenticated"), role = node_stat("denied_role");
	struct cp_client anon, reader, writer;
	struct hello h;

	fill_random(data, sizeof(data), 3);
	ASSERT_EQ(0, do_connect(&writer));
	ASSERT_EQ(CACHEPEER_S_OK, hello(_metadata, &writer, "writer", writer_secret,
					CACHEPEER_ROLE_WRITE, &h));
	ASSERT_EQ(CACHEPEER_S_OK, put(&writer, "blk", data, sizeof(data)));

	ASSERT_EQ(0, do_connect(&anon));
	ASSERT_EQ(CACHEPEER_S_DENIED, put(&anon, "other", data, sizeof(data)));
	ASSERT_EQ(CACHEPEER_S_DENIED, del(&anon, "blk"));
	ASSERT_EQ(CACHEPEER_S_OK, get(&anon, "blk", got));
	ASSERT_EQ(0, memcmp(data, got, sizeof(data)));

	ASSERT_EQ(0, do_connect(&reader));
	ASSERT_EQ(CACHEPEER_S_OK, hello(_metadata, &reader, "reader", reader_secret,
					CACHEPEER_ROLE_READ, &h));
	ASSERT_EQ(CACHEPEER_S_DENIED, put(&reader, "other", data, 100));
	ASSERT_EQ(CACHEPEER_S_DENIED, del(&reader, "blk"));
	ASSERT_EQ(CACHEPEER_S_OK, get(&reader, "blk", got));

	/* Nothing was stored or removed by the refused requests. */
	ASSERT_EQ(CACHEPEER_S_NOT_FOUND, get(&writer, "other", got));
	ASSERT_EQ(CACHEPEER_S_OK, del(&writer, "blk"));
	ASSERT_EQ(unauth + 2, node_stat("denied_unauthenticated"));
	ASSERT_EQ(role + 2, node_stat("denied_role"));
	ASSERT_EQ(2, node_stat("hellos"));
	cp_client_close(&anon);
	cp_client_close(&reader);
	cp_client_close(&writer);
}

/* Under "all", a connection without HELLO may only PING (and HELLO). */
TEST_F_TIMEOUT(auth, policy_all, 600)
{
	unsigned char got[16];
	struct cp_client anon, reader;
	struct cp_msg ring = { .op = CACHEPEER_OP_RING_GET, .id = 9 };
	struct cp_resp r;
	struct hello h;

	ASSERT_EQ(0, run("set --access %s", "all"));
	ASSERT_EQ(0, do_connect(&anon));
	ASSERT_EQ(CACHEPEER_S_DENIED, get(&anon, "blk", got));
	ASSERT_EQ(CACHEPEER_S_DENIED, exchange(&anon, &ring, &r, NULL));
	ASSERT_EQ(CACHEPEER_S_OK, ping(&anon));
	ASSERT_EQ(0, do_connect(&reader));
	ASSERT_EQ(CACHEPEER_S_OK, hello(_metadata, &reader, "reader", reader_secret,
					CACHEPEER_ROLE_READ, &h));
	ASSERT_EQ(CACHEPEER_S_NOT_FOUND, get(&reader, "blk", got));
	/* Back to open: anyone may write again. */
	ASSERT_EQ(0, run("set --access %s", "open"));
	ASSERT_EQ(CACHEPEER_S_OK, put(&anon, "blk", "x", 1));
	cp_client_close(&anon);
	cp_client_close(&reader);
}

/* Deleting a key closes the connections that use it, and it proves no more. */
TEST_F_TIMEOUT(auth, key_del_closes_its_connections, 600)
{
	struct cp_client reader, writer, again;
	struct hello h;

	ASSERT_EQ(0, do_connect(&reader));
	ASSERT_EQ(CACHEPEER_S_OK, hello(_metadata, &reader, "reader", reader_secret,
					CACHEPEER_ROLE_READ, &h));
	ASSERT_EQ(0, do_connect(&writer));
	ASSERT_EQ(CACHEPEER_S_OK, hello(_metadata, &writer, "writer", writer_secret,
					CACHEPEER_ROLE_WRITE, &h));
	ASSERT_EQ(0, run("key del %s", "reader"));
	ASSERT_TRUE(closed(&reader));
	ASSERT_EQ(CACHEPEER_S_OK, ping(&writer));
	ASSERT_EQ(0, do_connect(&again));
	ASSERT_EQ(CACHEPEER_S_DENIED, hello1(&again, "reader", &h, true));
	cp_client_close(&reader);
	cp_client_close(&writer);
	cp_client_close(&again);
}

/*
 * The handshake's failures: each answered with its status, the connection
 * going on or ending as the uapi header says, nothing else disturbed.
 */
TEST_F_TIMEOUT(auth, handshake_failures, 600)
{
	struct cachepeer_req short_hello = {
		.magic = htobe32(CACHEPEER_REQ_MAGIC), .version = CACHEPEER_PROTO_VERSION,
		.opcode = CACHEPEER_OP_HELLO, .id = htobe64(3), .key_len = htobe16(20),
	};
	long long failures = node_stat("hello_failures");
	uint8_t junk[CACHEPEER_HMAC_LEN] = { 1 }, key[20] = { 0 }, old[CACHEPEER_NONCE_LEN];
	uint8_t frame[sizeof(short_hello) + sizeof(key)];
	struct cp_client c, other;
	struct cp_resp r;
	struct hello h, rec;

	/* A connection authenticated before all of it, to be served after. */
	ASSERT_EQ(0, do_connect(&other));
	ASSERT_EQ(CACHEPEER_S_OK, hello(_metadata, &other, "writer", writer_secret,
					CACHEPEER_ROLE_WRITE, &h));

	/* No key of that name: DENIED, and the connection may try again. */
	ASSERT_EQ(0, do_connect(&c));
	ASSERT_EQ(CACHEPEER_S_DENIED, hello1(&c, "nobody", &h, true));
	ASSERT_EQ(CACHEPEER_S_OK, hello(_metadata, &c, "writer", writer_secret,
					CACHEPEER_ROLE_WRITE, &rec));
	/* HELLO twice: BAD_REQUEST, the role kept. */
	ASSERT_EQ(CACHEPEER_S_BAD_REQUEST, hello1(&c, "reader", &h, true));
	ASSERT_EQ(CACHEPEER_S_OK, put(&c, "kept", "y", 1));
	cp_client_close(&c);

	/* A wrong proof (the wrong secret): DENIED, and the connection ends. */
	ASSERT_EQ(0, do_connect(&c));
	ASSERT_EQ(CACHEPEER_S_OK, hello1(&c, "writer", &h, true));
	proof("not the writer's secret!", false, h.cnonce, h.answer, "writer",
	      CACHEPEER_ROLE_WRITE, h.proof);
	ASSERT_EQ(CACHEPEER_S_DENIED, hello2(&c, h.proof));
	ASSERT_TRUE(closed(&c));
	cp_client_close(&c);

	/* A recorded exchange replayed: the node's nonce is new, so DENIED. */
	memcpy(old, rec.answer, sizeof(old));
	ASSERT_EQ(0, do_connect(&c));
	ASSERT_EQ(CACHEPEER_S_OK, hello1(&c, "writer", &rec, false));
	ASSERT_NE(0, memcmp(rec.answer, old, CACHEPEER_NONCE_LEN));
	ASSERT_EQ(CACHEPEER_S_DENIED, hello2(&c, rec.proof));
	ASSERT_TRUE(closed(&c));
	cp_client_close(&c);

	/* The node's own proof reflected back: DENIED. */
	ASSERT_EQ(0, do_connect(&c));
	ASSERT_EQ(CACHEPEER_S_OK, hello1(&c, "writer", &h, true));
	ASSERT_EQ(CACHEPEER_S_DENIED, hello2(&c, h.answer + CACHEPEER_NONCE_LEN));
	cp_client_close(&c);

	/* A proof with no HELLO before it: BAD_REQUEST, nothing else. */
	ASSERT_EQ(0, do_connect(&c));
	ASSERT_EQ(CACHEPEER_S_BAD_REQUEST, hello2(&c, junk));
	ASSERT_EQ(CACHEPEER_S_OK, ping(&c));
	cp_client_close(&c);

	/* HELLO after another request: BAD_REQUEST, and no role. */
	ASSERT_EQ(0, do_connect(&c));
	ASSERT_EQ(CACHEPEER_S_OK, ping(&c));
	ASSERT_EQ(CACHEPEER_S_BAD_REQUEST, hello1(&c, "writer", &h, true));
	ASSERT_EQ(CACHEPEER_S_DENIED, put(&c, "late", "z", 1));
	cp_client_close(&c);

	/*
	 * A HELLO too short to hold a nonce and a name breaks framing. The
	 * header and its key go in one write: the node may answer and close
	 * on the header alone, and a second write would race that close.
	 */
	memcpy(frame, &short_hello, sizeof(short_hello));
	memcpy(frame + sizeof(short_hello), key, sizeof(key));
	ASSERT_EQ(0, do_connect(&c));
	ASSERT_EQ(sizeof(frame), write(c.fd, frame, sizeof(frame)));
	ASSERT_EQ(0, cp_client_recv_hdr(&c, &r));
	ASSERT_EQ(CACHEPEER_S_BAD_REQUEST, r.status);
	ASSERT_TRUE(closed(&c));
	cp_client_close(&c);

	/* Refused: the unknown name, the wrong proof, the replay, the reflection. */
	ASSERT_EQ(failures + 4, node_stat("hello_failures"));
	/* The stored block is untouched by all of it, the other connection served. */
	ASSERT_EQ(CACHEPEER_S_OK, get(&other, "kept", key));
	ASSERT_EQ('y', key[0]);
	ASSERT_EQ(CACHEPEER_S_OK, put(&other, "after", "a", 1));
	cp_client_close(&other);
}

/* The client library's HELLO, as the tool and the benchmark use it. */
TEST_F_TIMEOUT(auth, client_library_hello, 600)
{
	struct cp_key k = { .name = "writer" };
	struct cp_client c;
	uint8_t role = 0;

	memcpy(k.secret, writer_secret, strlen(writer_secret));
	k.len = strlen(writer_secret);
	ASSERT_EQ(0, do_connect(&c));
	ASSERT_EQ(0, cp_client_hello(&c, &k, &role));
	ASSERT_EQ(CACHEPEER_ROLE_WRITE, role);
	ASSERT_EQ(CACHEPEER_S_OK, put(&c, "lib", "w", 1));
	cp_client_close(&c);
	/* The wrong secret: the node cannot prove it, the client says so. */
	k.secret[0] ^= 1;
	ASSERT_EQ(0, do_connect(&c));
	ASSERT_EQ(-EKEYREJECTED, cp_client_hello(&c, &k, &role));
	cp_client_close(&c);
}

/* Key files: the longest secret with and without its newline, one byte more. */
TEST_F_TIMEOUT(auth, key_files, 600)
{
	char path[128], spec[160], text[CACHEPEER_SECRET_MAX + 2];
	struct cp_key k;
	FILE *f;

	snprintf(path, sizeof(path), "%s/long.key", self->dir);
	snprintf(spec, sizeof(spec), "long:%s", path);
	memset(text, 'k', sizeof(text));
	text[CACHEPEER_SECRET_MAX] = '\n';
	ASSERT_NE(NULL, f = fopen(path, "w"));
	ASSERT_EQ(CACHEPEER_SECRET_MAX + 1, fwrite(text, 1, CACHEPEER_SECRET_MAX + 1, f));
	ASSERT_EQ(0, fclose(f));
	ASSERT_EQ(0, cp_key_load(spec, &k));
	ASSERT_EQ(CACHEPEER_SECRET_MAX, k.len);
	ASSERT_EQ(0, run("key add long --role read %s", path));
	/* A secret one byte too long, newline or not. */
	text[CACHEPEER_SECRET_MAX] = 'k';
	ASSERT_NE(NULL, f = fopen(path, "w"));
	ASSERT_EQ(CACHEPEER_SECRET_MAX + 1, fwrite(text, 1, CACHEPEER_SECRET_MAX + 1, f));
	ASSERT_EQ(0, fclose(f));
	ASSERT_EQ(-EINVAL, cp_key_load(spec, &k));
	/* A next cluster key needs a current one to move from. */
	snprintf(path, sizeof(path), "%s/writer.key", self->dir);
	ASSERT_NE(0, run("set --next-cluster-key %s 2>/dev/null", path));
	ASSERT_EQ(0, run("set --cluster-key %s", path));
	ASSERT_EQ(0, run("set --next-cluster-key %s/reader.key", self->dir));
}

TEST_HARNESS_MAIN
