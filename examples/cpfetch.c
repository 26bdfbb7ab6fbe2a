// SPDX-License-Identifier: MIT
/*
 * Read blocks from a cachepeer cluster into files, N at a time.
 *
 *   cpfetch [-n INFLIGHT] [-k NAME:FILE] SEEDS OUTDIR < KEYS
 *
 * Reads one key per line from standard input and GETs each block from its
 * owner in the ring (found through SEEDS, "ADDR:PORT[,ADDR:PORT...]"),
 * INFLIGHT (default 16) at a time, into OUTDIR/KEY ('/' in a key becomes
 * '_'). The library checks every block's CRC-32C (from the file's pages,
 * after splicing the data in: no copy through this process); a block that
 * fails is reported and its file removed. Exit status 1 if any failed.
 *
 * Built against the installed library:
 *   cc cpfetch.c -o cpfetch `pkg-config --cflags --libs cachepeer`
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cachepeer/client.h>

struct fetch {
	char key[256];
	char path[4096];
	int fd;
	int busy;
};

static struct cachepeer *cp;
static const char *outdir;
static int failed, inflight;

static void done(void *arg, const struct cachepeer_result *res)
{
	struct fetch *f = arg;

	close(f->fd);
	if (res->error) {
		fprintf(stderr, "cpfetch: %s: %s\n", f->key, strerror(-res->error));
		unlink(f->path);
		failed = 1;
	}
	f->busy = 0;
	inflight--;
}

/* The next key from stdin into f, and its GET submitted. 0 at the end of input. */
static int start(struct fetch *f)
{
	struct cachepeer_request r = { .op = CACHEPEER_GET, .flags = CACHEPEER_REQ_FD };
	size_t n, i;
	int ret;

	for (;;) {
		if (!fgets(f->key, sizeof(f->key), stdin))
			return 0;
		n = strcspn(f->key, "\n");
		f->key[n] = '\0';
		if (n)
			break;
	}
	n = snprintf(f->path, sizeof(f->path), "%s/", outdir);
	for (i = 0; f->key[i] && n < sizeof(f->path) - 1; i++)
		f->path[n++] = f->key[i] == '/' ? '_' : f->key[i];
	f->path[n] = '\0';
	/* Read-write: the library checks the CRC from the file it spliced into. */
	f->fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (f->fd < 0) {
		perror(f->path);
		failed = 1;
		return 1;
	}
	r.key = f->key;
	r.key_len = strlen(f->key);
	r.fd = f->fd;
	r.done = done;
	r.arg = f;
	ret = cachepeer_submit(cp, &r, NULL);
	if (ret) {
		fprintf(stderr, "cpfetch: %s: %s\n", f->key, strerror(-ret));
		close(f->fd);
		unlink(f->path);
		failed = 1;
		return 1;
	}
	f->busy = 1;
	inflight++;
	return 1;
}

int main(int argc, char **argv)
{
	struct cachepeer_config cfg = { .size = sizeof(cfg) };
	struct fetch *slots;
	int n = 16, opt, i, more = 1, ret;

	while ((opt = getopt(argc, argv, "n:k:")) != -1) {
		if (opt == 'n')
			n = atoi(optarg);
		else if (opt == 'k')
			cfg.key = optarg;
		else
			return 2;
	}
	if (argc - optind != 2 || n < 1) {
		fputs("usage: cpfetch [-n INFLIGHT] [-k NAME:FILE] SEEDS OUTDIR < KEYS\n", stderr);
		return 2;
	}
	cfg.seeds = argv[optind];
	outdir = argv[optind + 1];
	if (!cfg.key)
		cfg.flags |= CACHEPEER_CFG_ENV_KEY;	/* CACHEPEER_KEY, as cachepeerctl */
	ret = cachepeer_open(&cp, &cfg);
	if (ret) {
		fprintf(stderr, "cpfetch: %s: %s\n", cfg.seeds, strerror(-ret));
		return 1;
	}
	slots = calloc(n, sizeof(*slots));
	if (!slots)
		return 1;
	while (more || inflight) {
		/* Keep n in flight: refill every free slot, then let the library work. */
		for (i = 0; i < n && more; i++)
			if (!slots[i].busy)
				more = start(&slots[i]);
		if (!inflight)
			continue;
		ret = cachepeer_run(cp, -1);
		if (ret < 0) {
			fprintf(stderr, "cpfetch: %s\n", strerror(-ret));
			failed = 1;
			break;
		}
	}
	cachepeer_close(cp);
	free(slots);
	return failed;
}
