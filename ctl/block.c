// SPDX-License-Identifier: GPL-2.0
/* Block subcommands over the data plane: put, get, stat, del. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "ctl.h"
#include "nl.h"

struct block_opts {
	const char *peer;
	const char *out;
	unsigned long long offset;
	unsigned long long length;
	bool redirected;
};

static int parse_block_opts(const struct subcommand *cmd, int argc, char **argv,
			    struct block_opts *o, bool range)
{
	static const struct option longopts[] = {
		{ "peer", required_argument, NULL, 'p' },
		{ "offset", required_argument, NULL, 'O' },
		{ "length", required_argument, NULL, 'L' },
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	int c;

	optind = 1;
	/* Options may follow the key; "--" ends them for keys starting with '-'. */
	while ((c = getopt_long(argc, argv, "o:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->peer = optarg;
			break;
		case 'O':
		case 'L':
			if (!range || parse_size(optarg, c == 'O' ? &o->offset : &o->length))
				usage_error(cmd, "invalid or unsupported '%s'", optarg);
			break;
		case 'o':
			if (!range)
				usage_error(cmd, "-o is only for get");
			o->out = optarg;
			break;
		case 'j':
			opt_json = true;
			break;
		case 'h':
			want_help(cmd, 0, NULL);
			exit(EXIT_OK);
		default:
			usage_error(cmd, "bad option");
		}
	}
	return optind;
}

static void connect_peer(struct cp_client *c, const char *peer)
{
	int ret;

	if (!peer)
		peer = local_peer();
	ret = cp_client_connect(c, peer);
	if (ret == -EINVAL) {
		fprintf(stderr, PROG_NAME ": invalid peer '%s' (ADDR:PORT or [ADDR6]:PORT)\n",
			peer);
		exit(EXIT_USAGE);
	}
	if (ret) {
		fprintf(stderr, PROG_NAME ": cannot connect to %s: %s\n", peer, strerror(-ret));
		exit(EXIT_CONN);
	}
}

/* One request, one response header; exits on transport errors and bad statuses. */
static void transact(const char *what, const char *key, struct block_opts *o,
		     struct cp_msg *m, struct cp_client *c, struct cp_resp *r)
{
	int ret;

	connect_peer(c, o->peer);
	m->id = 1;
	m->key = key;
	m->key_len = strlen(key);
	ret = cp_client_send(c, m);
	/* A node refusing a frame answers before it closes: read that answer. */
	if (!cp_client_recv_hdr(c, r))
		ret = 0;
	else if (!ret)
		ret = -ECONNRESET;
	if (ret) {
		fprintf(stderr, PROG_NAME ": %s '%s': %s\n", what, key, strerror(-ret));
		exit(EXIT_CONN);
	}
	if (r->status == CACHEPEER_S_REDIRECT && r->data_len < 64 && !o->redirected) {
		/* The node names the key's owner: ask there, once. */
		char *to = calloc(1, r->data_len + 1);

		if (!to || cp_client_recv_data(c, r, to))
			fail("%s '%s': bad redirect", what, key);
		fprintf(stderr, PROG_NAME ": %s '%s': redirected to %s\n", what, key, to);
		cp_client_close(c);
		o->peer = to;
		o->redirected = true;
		transact(what, key, o, m, c, r);
		return;
	}
	if (r->status == CACHEPEER_S_OK)
		return;
	fprintf(stderr, PROG_NAME ": %s '%s': %s\n", what, key, cp_status_name(r->status));
	exit(r->status == CACHEPEER_S_NOT_FOUND ? EXIT_NOT_FOUND :
	     r->status == CACHEPEER_S_CORRUPT ? EXIT_CRC : EXIT_ERR);
}

static const char *key_arg(const struct subcommand *cmd, const char *key)
{
	size_t len = strlen(key);

	if (!len || len > CACHEPEER_KEY_MAX)
		usage_error(cmd, "key '%s' must be 1-%d bytes", key, CACHEPEER_KEY_MAX);
	return key;
}

int cmd_put(int argc, char **argv)
{
	const struct subcommand *cmd = find_subcommand("put");
	struct block_opts o = { 0 };
	struct cp_msg m = { .op = CACHEPEER_OP_PUT, .with_crc = 1 };
	struct cp_client c;
	struct cp_resp r;
	struct stat st;
	const char *key;
	char *buf;
	ssize_t n;
	size_t done = 0;
	int i, fd;

	i = parse_block_opts(cmd, argc, argv, &o, false);
	if (argc - i != 2)
		usage_error(cmd, "expected KEY FILE");
	key = key_arg(cmd, argv[i]);
	fd = open(argv[i + 1], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		fail("put: '%s': %s", argv[i + 1], strerror(errno));
	if (!st.st_size || (unsigned long long)st.st_size > CACHEPEER_MAX_BLOCK_LIMIT)
		fail("put: '%s': a block is 1 byte to 64 MiB, this is %lld bytes", argv[i + 1],
		     (long long)st.st_size);
	buf = malloc(st.st_size);
	if (!buf)
		fail("out of memory");
	while (done < (size_t)st.st_size) {
		n = read(fd, buf + done, st.st_size - done);
		if (n <= 0)
			fail("put: '%s': %s", argv[i + 1], n ? strerror(errno) : "short read");
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

int cmd_get(int argc, char **argv)
{
	const struct subcommand *cmd = find_subcommand("get");
	struct block_opts o = { 0 };
	struct cp_msg m = { .op = CACHEPEER_OP_GET };
	struct cp_client c;
	struct cp_resp r;
	const char *key;
	char *buf;
	int i, fd, ret;
	size_t done = 0;

	i = parse_block_opts(cmd, argc, argv, &o, true);
	if (argc - i != 1)
		usage_error(cmd, "expected KEY");
	key = key_arg(cmd, argv[i]);
	m.offset = o.offset;
	m.length = o.length;
	transact("get", key, &o, &m, &c, &r);
	buf = malloc(r.data_len ? r.data_len : 1);
	if (!buf)
		fail("out of memory");
	ret = cp_client_recv_data(&c, &r, buf);
	cp_client_close(&c);
	if (ret == -EBADMSG) {
		fprintf(stderr, PROG_NAME ": get '%s': CRC mismatch\n", key);
		exit(EXIT_CRC);
	}
	if (ret)
		fail("get '%s': %s", key, strerror(-ret));
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

int cmd_stat(int argc, char **argv)
{
	const struct subcommand *cmd = find_subcommand("stat");
	struct block_opts o = { 0 };
	struct cp_msg m = { .op = CACHEPEER_OP_STAT };
	struct cp_client c;
	struct cp_resp r;
	const char *key;
	int i;

	i = parse_block_opts(cmd, argc, argv, &o, false);
	if (argc - i != 1)
		usage_error(cmd, "expected KEY");
	key = key_arg(cmd, argv[i]);
	transact("stat", key, &o, &m, &c, &r);
	cp_client_close(&c);
	if (opt_json)
		printf("{\"size\":%llu,\"crc32c\":\"%08x\",\"epoch\":%llu}\n",
		       (unsigned long long)r.block_size, r.crc, (unsigned long long)r.epoch);
	else
		printf("size %llu crc32c %08x\n", (unsigned long long)r.block_size, r.crc);
	return EXIT_OK;
}

int cmd_del(int argc, char **argv)
{
	const struct subcommand *cmd = find_subcommand("del");
	struct block_opts o = { 0 };
	struct cp_msg m = { .op = CACHEPEER_OP_DEL };
	struct cp_client c;
	struct cp_resp r;
	int i;

	i = parse_block_opts(cmd, argc, argv, &o, false);
	if (argc - i != 1)
		usage_error(cmd, "expected KEY");
	transact("del", key_arg(cmd, argv[i]), &o, &m, &c, &r);
	cp_client_close(&c);
	return EXIT_OK;
}
