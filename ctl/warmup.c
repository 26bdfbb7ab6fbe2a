// SPDX-License-Identifier: GPL-2.0
/*
 * warmup: PUT files as blocks to their owners on the ring, in parallel, or
 * with --check GET them back through the same routing and compare.
 */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"
#include "ctl.h"
#include "route.h"

#define JOBS_MAX 64

struct item {
	char *key;
	char *path;
};

struct warmup {
	struct item *items;
	size_t n, cap;
	const char *seed;
	bool check;
	atomic_size_t next;
	atomic_ulong ok, missing, bad, failed, unreachable, bytes, failovers, refreshes, redirects;
};

static struct warmup W;
static size_t dir_prefix;

static void add_item(const char *key, const char *path)
{
	if (strlen(key) > CACHEPEER_KEY_MAX)
		fail("warmup: key '%s' is longer than %d bytes", key, CACHEPEER_KEY_MAX);
	if (W.n == W.cap) {
		W.cap = W.cap ? W.cap * 2 : 256;
		W.items = realloc(W.items, W.cap * sizeof(*W.items));
		if (!W.items)
			fail("out of memory");
	}
	W.items[W.n].key = strdup(key);
	W.items[W.n].path = strdup(path);
	if (!W.items[W.n].key || !W.items[W.n].path)
		fail("out of memory");
	W.n++;
}

static int walk_fn(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (type == FTW_F && S_ISREG(st->st_mode))
		add_item(path + dir_prefix, path);
	return 0;
}

static void read_list(const char *list)
{
	FILE *f = strcmp(list, "-") ? fopen(list, "r") : stdin;
	char buf[4096];

	if (!f)
		fail("warmup: '%s': %s", list, strerror(errno));
	while (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\r\n")] = '\0';
		if (buf[0])
			add_item(buf, buf);
	}
	if (f != stdin)
		fclose(f);
}

static char *read_file(const char *path, size_t *len)
{
	struct stat st;
	size_t done = 0;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!st.st_size || (unsigned long long)st.st_size > CACHEPEER_MAX_BLOCK_LIMIT) {
		close(fd);
		errno = EFBIG;
		return NULL;
	}
	buf = malloc(st.st_size);
	while (buf && done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, st.st_size - done);

		if (n <= 0) {
			free(buf);
			buf = NULL;
			errno = n ? errno : EIO;
			break;
		}
		done += n;
	}
	close(fd);
	*len = done;
	return buf;
}

/* One block: PUT it, or with --check GET it and compare. */
static void one(struct cp_router *rt, const struct item *it)
{
	struct cp_msg m = { .id = 1, .key = it->key, .key_len = strlen(it->key) };
	struct cp_client *c;
	struct cp_resp r;
	size_t len;
	char *data = read_file(it->path, &len), *got = NULL;
	int ret;

	if (!data) {
		fprintf(stderr, PROG_NAME ": warmup: '%s': %s\n", it->path, strerror(errno));
		W.failed++;
		return;
	}
	if (W.check) {
		m.op = CACHEPEER_OP_GET;
	} else {
		m.op = CACHEPEER_OP_PUT;
		m.payload = data;
		m.payload_len = len;
		m.with_crc = 1;
	}
	ret = cp_router_call(rt, &m, &r, &c);
	if (ret) {
		fprintf(stderr, PROG_NAME ": warmup: '%s': no member reachable\n", it->key);
		W.unreachable++;
	} else if (W.check && r.status == CACHEPEER_S_OK) {
		got = malloc(r.data_len ? r.data_len : 1);
		if (!got || cp_client_recv_data(c, &r, got) || r.data_len != len ||
		    memcmp(got, data, len) || r.crc != crc32c(0, data, len)) {
			fprintf(stderr, PROG_NAME ": check: '%s': data differ\n", it->key);
			W.bad++;
		} else {
			W.ok++;
			W.bytes += len;
		}
	} else if (r.status == CACHEPEER_S_OK) {
		W.ok++;
		W.bytes += len;
	} else if (W.check && r.status == CACHEPEER_S_NOT_FOUND) {
		fprintf(stderr, PROG_NAME ": check: '%s': not cached\n", it->key);
		W.missing++;
	} else {
		fprintf(stderr, PROG_NAME ": warmup: '%s': %s\n", it->key,
			cp_status_name(r.status));
		W.failed++;
	}
	free(got);
	free(data);
}

static void *worker(void *arg)
{
	struct cp_router rt;
	size_t i;

	if (cp_router_init(&rt, W.seed)) {
		/* Count the blocks this worker would have taken as unreachable. */
		while ((i = W.next++) < W.n)
			W.unreachable++;
		return NULL;
	}
	while ((i = W.next++) < W.n)
		one(&rt, &W.items[i]);
	W.failovers += rt.failovers;
	W.refreshes += rt.refreshes - 1;
	W.redirects += rt.redirects;
	cp_router_free(&rt);
	return NULL;
}

int cmd_warmup(const struct subcommand *cmd, int argc, char **argv)
{
	unsigned long long jobs = 4;
	const char *list = NULL, *key = NULL;
	const struct opt opts[] = {
		OPT("seed", OPT_ADDR, &W.seed),
		OPT("key", OPT_STRING, &key),
		OPT("jobs", OPT_COUNT, &jobs, .min = 1, .max = JOBS_MAX),
		OPT("check", OPT_FLAG, &W.check),
		OPT("list", OPT_STRING, &list),
		{ 0 }
	};
	pthread_t tid[JOBS_MAX];
	struct cp_ring probe;
	char b[32], **args;
	double t0, dt;
	bool tty = isatty(2);
	int n, i, ret;

	n = parse_cmdline(cmd, argc, argv, opts, &args);
	if (list ? n : n != 1)
		usage_error(cmd, "expected DIR or --list FILE");
	use_key(cmd, key);
	if (list) {
		read_list(list);
	} else {
		const char *dir = args[0];

		dir_prefix = strlen(dir) + (dir[strlen(dir) - 1] != '/');
		if (nftw(dir, walk_fn, 32, FTW_PHYS))
			fail("warmup: '%s': %s", dir, strerror(errno));
	}
	if (!W.seed)
		W.seed = local_peer();
	ret = cp_ring_fetch(W.seed, &probe);
	if (ret)
		fail_connect("warmup: reading the ring", W.seed, ret);
	if (!probe.n)
		fail("warmup: %s has an empty ring; join nodes first", W.seed);
	cp_ring_free(&probe);

	t0 = now_s();
	for (i = 0; i < (int)jobs; i++)
		if (pthread_create(&tid[i], NULL, worker, NULL))
			fail("warmup: cannot start a thread");
	while (tty && W.next < W.n) {
		fprintf(stderr, "\r%s: %zu/%zu blocks", W.check ? "check" : "warmup",
			W.next < W.n ? (size_t)W.next : W.n, W.n);
		usleep(200 * 1000);
	}
	for (i = 0; i < (int)jobs; i++)
		pthread_join(tid[i], NULL);
	dt = now_s() - t0;
	if (tty)
		fprintf(stderr, "\r\033[K");

	if (opt_json) {
		printf("{");
		json_u64(stdout, "blocks", W.n, ",");
		json_u64(stdout, "ok", W.ok, ",");
		json_u64(stdout, "missing", W.missing, ",");
		json_u64(stdout, "bad", W.bad, ",");
		json_u64(stdout, "failed", W.failed, ",");
		json_u64(stdout, "unreachable", W.unreachable, ",");
		json_u64(stdout, "bytes", W.bytes, ",");
		printf("\"seconds\":%.3f,", dt);
		json_u64(stdout, "failovers", W.failovers, ",");
		json_u64(stdout, "refreshes", W.refreshes, ",");
		json_u64(stdout, "redirects", W.redirects, "}\n");
	} else {
		printf("%s: %zu blocks, %lu %s, %lu missing, %lu bad, %lu failed, ",
		       W.check ? "check" : "warmup", W.n, (unsigned long)W.ok,
		       W.check ? "match" : "stored", (unsigned long)W.missing,
		       (unsigned long)W.bad, (unsigned long)W.failed);
		printf("%lu unreachable; ", (unsigned long)W.unreachable);
		printf("%s in %.2f s (%.1f MiB/s)\n", fmt_size(W.bytes, b, sizeof(b)), dt,
		       W.bytes / 1048576.0 / (dt ? dt : 1));
	}
	/* The worst outcome decides: no node to reach, then errors, bad data, misses. */
	if (W.unreachable)
		return EXIT_CONN;
	if (W.failed)
		return EXIT_ERR;
	if (W.bad)
		return EXIT_CRC;
	return W.missing ? EXIT_NOT_FOUND : EXIT_OK;
}
