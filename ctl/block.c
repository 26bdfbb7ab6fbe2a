// SPDX-License-Identifier: GPL-2.0
/* Block subcommands over the data plane: put, get, stat, del. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "ctl.h"
#include "nl.h"

struct block_opts {
	const char *peer;
	const char *key;
	const char *out;
	unsigned long long offset;
	unsigned long long length;
	bool redirected;
	bool routed;		/* peer is the key's owner, as the local ring says */
	char owner[64];
};

/*
 * The block commands' options, which get takes all of; returns the
 * operands, of which there must be want.
 */
static char **parse_block_opts(const struct subcommand *cmd, int argc, char **argv,
			       struct block_opts *o, bool range, int want, const char *what)
{
	const struct opt all[] = {
		OPT("peer", OPT_ADDR, &o->peer),
		OPT("key", OPT_STRING, &o->key),
		OPT("offset", OPT_SIZE, &o->offset),
		OPT("length", OPT_SIZE, &o->length),
		OPT("output", OPT_STRING, &o->out, .short_name = 'o'),
		{ 0 }
	};
	const struct opt peer_only[] = { all[0], all[1], { 0 } };
	char **args;

	if (parse_cmdline(cmd, argc, argv, range ? all : peer_only, &args) != want)
		usage_error(cmd, "expected %s", what);
	use_key(cmd, o->key);
	return args;
}

/*
 * Where a command goes. --peer pins a node, and a PUT or DEL sent there is
 * stored or deleted there (LOCAL) whatever its ring says. Otherwise the
 * local node's ring names the key's owner, as the nodes route; with no
 * ring, the local node.
 */
static void route(const char *what, const char *key, struct block_opts *o, struct cp_msg *m)
{
	struct cp_ring_member owner;
	struct cp_nl *nl;
	__u64 hash;
	int ret;

	if (o->peer) {
		if (m->op == CACHEPEER_OP_PUT || m->op == CACHEPEER_OP_DEL)
			m->flags |= CACHEPEER_F_LOCAL;
		return;
	}
	nl = open_nl();
	ret = cp_nl_ring_lookup(nl, key, strlen(key), &hash, &owner);
	if (ret && ret != -ENOENT)
		nl_fail(nl, what, ret);
	cp_nl_close(nl);
	if (ret) {
		o->peer = local_peer();
		return;
	}
	snprintf(o->owner, sizeof(o->owner), "%s", owner.addr);
	o->peer = o->owner;
	o->routed = true;
}

/*
 * Connect to o->peer. An owner the ring named that cannot be reached is
 * left to the local node, which stores or deletes the block itself (LOCAL)
 * rather than send it back there.
 */
static void connect_peer(const char *what, const char *key, struct block_opts *o,
			 struct cp_msg *m, struct cp_client *c)
{
	int ret = cp_client_connect(c, o->peer);

	if (ret && o->routed) {
		fprintf(stderr, PROG_NAME ": %s '%s': owner %s: %s; using the local node\n", what,
			key, o->peer, strerror(-ret));
		o->routed = false;
		o->peer = local_peer();
		if (m->op == CACHEPEER_OP_PUT || m->op == CACHEPEER_OP_DEL)
			m->flags |= CACHEPEER_F_LOCAL;
		ret = cp_client_connect(c, o->peer);
	}
	if (ret)
		fail_connect(what, o->peer, ret);
}

/* One request, one response header; exits on transport errors and bad statuses. */
static void transact(const char *what, const char *key, struct block_opts *o,
		     struct cp_msg *m, struct cp_client *c, struct cp_resp *r)
{
	int ret;

	if (!o->redirected)
		route(what, key, o, m);
	connect_peer(what, key, o, m, c);
	m->id = 1;
	m->key = key;
	m->key_len = strlen(key);
	ret = cp_client_send(c, m);
	/* A node refusing a frame answers before it closes: read that answer. */
	if (!cp_client_recv_hdr(c, r))
		ret = 0;
	else if (!ret)
		ret = -ECONNRESET;
	if (ret)
		fail_with(EXIT_CONN, "%s '%s': %s", what, key, strerror(-ret));
	if (r->status == CACHEPEER_S_REDIRECT && r->data_len < 64 && !o->redirected) {
		/* The node names the key's owner: ask there, once. */
		char *to = calloc(1, r->data_len + 1);

		if (!to || cp_client_recv_data(c, r, to))
			fail("%s '%s': bad redirect", what, key);
		fprintf(stderr, PROG_NAME ": %s '%s': redirected to %s\n", what, key, to);
		cp_client_close(c);
		o->peer = to;
		o->redirected = true;
		o->routed = false;
		transact(what, key, o, m, c, r);
		return;
	}
	if (r->status == CACHEPEER_S_OK)
		return;
	fail_with(r->status == CACHEPEER_S_NOT_FOUND ? EXIT_NOT_FOUND :
		  r->status == CACHEPEER_S_CORRUPT ? EXIT_CRC :
		  r->status == CACHEPEER_S_DENIED ? EXIT_DENIED : EXIT_ERR,
		  "%s '%s': %s", what, key, cp_status_name(r->status));
}

static const char *key_arg(const struct subcommand *cmd, const char *key)
{
	size_t len = strlen(key);

	if (!len || len > CACHEPEER_KEY_MAX)
		usage_error(cmd, "key '%s' must be 1-%d bytes", key, CACHEPEER_KEY_MAX);
	return key;
}

int cmd_put(const struct subcommand *cmd, int argc, char **argv)
{
	struct block_opts o = { 0 };
	struct cp_msg m = { .op = CACHEPEER_OP_PUT, .with_crc = 1 };
	struct cp_client c;
	struct cp_resp r;
	struct stat st;
	const char *key;
	char *buf, **args;
	ssize_t n;
	size_t done = 0;
	int fd;

	args = parse_block_opts(cmd, argc, argv, &o, false, 2, "KEY FILE");
	key = key_arg(cmd, args[0]);
	fd = open(args[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		fail("put: '%s': %s", args[1], strerror(errno));
	if (!st.st_size || (unsigned long long)st.st_size > CACHEPEER_MAX_BLOCK_LIMIT)
		fail("put: '%s': a block is 1 byte to 64 MiB, this is %lld bytes", args[1],
		     (long long)st.st_size);
	buf = malloc(st.st_size);
	if (!buf)
		fail("out of memory");
	while (done < (size_t)st.st_size) {
		n = read(fd, buf + done, st.st_size - done);
		if (n <= 0)
			fail("put: '%s': %s", args[1], n ? strerror(errno) : "short read");
		done += n;
	}
	close(fd);
	m.payload = buf;
	m.payload_len = done;
	transact("put", key, &o, &m, &c, &r);
	cp_client_close(&c);
	free(buf);
	return EXIT_OK;
}

int cmd_get(const struct subcommand *cmd, int argc, char **argv)
{
	struct block_opts o = { 0 };
	struct cp_msg m = { .op = CACHEPEER_OP_GET };
	struct cp_client c;
	struct cp_resp r;
	const char *key;
	char *buf;
	int fd, ret;
	size_t done = 0;

	key = key_arg(cmd, parse_block_opts(cmd, argc, argv, &o, true, 1, "KEY")[0]);
	m.offset = o.offset;
	m.length = o.length;
	transact("get", key, &o, &m, &c, &r);
	buf = malloc(r.data_len ? r.data_len : 1);
	if (!buf)
		fail("out of memory");
	ret = cp_client_recv_data(&c, &r, buf);
	cp_client_close(&c);
	if (ret == -EBADMSG)
		fail_with(EXIT_CRC, "get '%s': CRC mismatch", key);
	if (ret)
		fail_with(EXIT_CONN, "get '%s': %s", key, strerror(-ret));
	fd = o.out ? open(o.out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : 1;
	if (fd < 0)
		fail("get: '%s': %s", o.out, strerror(errno));
	while (done < r.data_len) {
		ssize_t n = write(fd, buf + done, r.data_len - done);

		if (n < 0)
			fail("get: write: %s", strerror(errno));
		done += n;
	}
	if (o.out && close(fd))
		fail("get: '%s': %s", o.out, strerror(errno));
	free(buf);
	return EXIT_OK;
}

int cmd_stat(const struct subcommand *cmd, int argc, char **argv)
{
	struct block_opts o = { 0 };
	struct cp_msg m = { .op = CACHEPEER_OP_STAT };
	struct cp_client c;
	struct cp_resp r;
	const char *key;

	key = key_arg(cmd, parse_block_opts(cmd, argc, argv, &o, false, 1, "KEY")[0]);
	transact("stat", key, &o, &m, &c, &r);
	cp_client_close(&c);
	if (opt_json)
		printf("{\"size\":%llu,\"crc32c\":\"%08x\",\"epoch\":%llu}\n",
		       (unsigned long long)r.block_size, r.crc, (unsigned long long)r.epoch);
	else
		printf("size %llu crc32c %08x\n", (unsigned long long)r.block_size, r.crc);
	return EXIT_OK;
}

int cmd_del(const struct subcommand *cmd, int argc, char **argv)
{
	struct block_opts o = { 0 };
	struct cp_msg m = { .op = CACHEPEER_OP_DEL };
	struct cp_client c;
	struct cp_resp r;
	const char *key;

	key = key_arg(cmd, parse_block_opts(cmd, argc, argv, &o, false, 1, "KEY")[0]);
	transact("del", key, &o, &m, &c, &r);
	cp_client_close(&c);
	return EXIT_OK;
}
