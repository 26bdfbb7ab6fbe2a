// SPDX-License-Identifier: GPL-2.0
/*
 * cachepeer-bench: load generator for cachepeer, nginx and a raw TCP stream,
 * with one receive path for all three so that only the servers differ.
 *
 *   cachepeer-bench --proto cachepeer|lib|http|raw --peer ADDR:PORT
 *                   [--conns C] [--depth D] [--size BYTES] [--keys N] [--lib-conns M]
 *                   [--prefix P | --key-file FILE] [--secs S | --ops N] [--verify]
 *                   [--key NAME:FILE]
 *   cachepeer-bench --serve-raw PORT --prefix PATH [--keys N]
 *
 * cachepeer: GET of whole blocks "<prefix><i>", i < keys, D in flight per
 * connection, the connections starting spread over the keys; --key-file
 * names the keys instead, one per line (--keys is then their number); with
 * --key (or CACHEPEER_KEY), each connection HELLOs first.
 * lib: the same GETs through libcachepeer: C threads share one handle
 * pinned to the peer, each with one blocking cachepeer_get() at a time;
 * the library opens connections as its pipelines (D deep) fill, at most M
 * (default 8; --lib-conns 1 forces them all onto one). The CRC is always
 * checked.
 * http: the same blocks as "GET /<prefix><i>" with a Range header, D
 * pipelined per keep-alive connection. raw: the server streams
 * the files "<PATH><i>", i < keys, one after the other with sendfile(), and
 * each --size bytes read counts as one op (the ceiling). It streams the same
 * set of blocks as the others serve: a ceiling that cycled through fewer
 * files would read less memory and, in a TCG guest, run faster for that
 * reason alone.
 *
 * --ops N makes N requests in all (split between the connections) instead
 * of running for S seconds. A request answered with anything but OK (or,
 * with --verify, with a bad CRC) stops its connection and makes the run
 * fail (exit 1).
 *
 * Prints one line: GiB/s, ops/s, p50/p99 latency (send to last byte) and
 * whole-machine CPU seconds per GiB from /proc/stat, and the same less this
 * client's own CPU time (getrusage): what serving cost.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cachepeer/client.h>

#include "client.h"
#include "crc32c.h"

enum proto { P_CACHEPEER, P_HTTP, P_RAW, P_LIB };

static enum proto proto = P_CACHEPEER;
static const char *peer = "127.0.0.1:7000";
static const char *prefix = "bench-";
static int conns = 1, depth = 1, keys = 16, secs = 10, verify;
static unsigned long long total_ops;	/* --ops: this many in all, not secs */
static size_t size = 4 << 20;
static char **key_list;		/* --key-file: the keys, else "<prefix><i>" */
static atomic_int stop;
static struct cachepeer *lib;
static int lib_conns = 8;

struct worker {
	pthread_t thread;
	int fd;
	unsigned long long ops, bytes;
	unsigned long long quota;	/* requests to make: --ops' share, or no end */
	unsigned long long first;	/* the key it starts at */
	unsigned int *lat;	/* microseconds, one per completed op */
	size_t nlat, cap;
	int err;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Busy CPU time of the whole machine, in seconds. */
static double cpu_busy(void)
{
	unsigned long long v[10] = { 0 };
	FILE *f = fopen("/proc/stat", "r");

	if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
			 &v[3], &v[4], &v[5], &v[6], &v[7]) != 8) {
		if (f)
			fclose(f);
		return 0;
	}
	fclose(f);
	/* user nice system (idle) (iowait) irq softirq steal */
	return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU time of this process, every thread, user and system, in seconds. */
static double cpu_self(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int dial(void)
{
	struct cp_client c;

	return cp_client_connect(&c, peer) ? -1 : c.fd;
}

/*
 * The one receive path. Heads (a cachepeer header, an HTTP response head)
 * and small bodies come out of a 64 KiB buffer filled by large reads, so
 * pipelined answers cost few syscalls whoever sends them; a large body is
 * read straight into place, 1 MiB at a time.
 */
struct rbuf {
	int fd;
	size_t head, tail;
	char data[64 << 10];
};

static int rb_fill(struct rbuf *rb)
{
	ssize_t r;

	if (rb->head) {
		memmove(rb->data, rb->data + rb->head, rb->tail - rb->head);
		rb->tail -= rb->head;
		rb->head = 0;
	}
	if (rb->tail == sizeof(rb->data))
		return -1;
	r = read(rb->fd, rb->data + rb->tail, sizeof(rb->data) - rb->tail);
	if (r <= 0)
		return -1;
	rb->tail += r;
	return 0;
}

static int rb_read(struct rbuf *rb, void *dst, size_t n)
{
	char *p = dst;

	while (n) {
		size_t k = rb->tail - rb->head;
		ssize_t r;

		if (k) {
			k = k < n ? k : n;
			memcpy(p, rb->data + rb->head, k);
			rb->head += k;
		} else if (n >= sizeof(rb->data)) {
			r = read(rb->fd, p, n < (1 << 20) ? n : (1 << 20));
			if (r <= 0)
				return -1;
			k = r;
		} else {
			if (rb_fill(rb))
				return -1;
			continue;
		}
		p += k;
		n -= k;
	}
	return 0;
}

static int send_req(struct worker *w, unsigned long long i)
{
	char key[CACHEPEER_KEY_MAX + 1], req[CACHEPEER_KEY_MAX + 128];
	unsigned long long k = (w->first + i) % keys;
	int klen = key_list ? snprintf(key, sizeof(key), "%s", key_list[k]) :
			      snprintf(key, sizeof(key), "%s%llu", prefix, k);

	if (proto == P_CACHEPEER) {
		struct cp_client c = { .fd = w->fd };
		struct cp_msg m = { .op = CACHEPEER_OP_GET, .id = i, .key = key,
				    .key_len = klen };

		return cp_client_send(&c, &m);
	}
	klen = snprintf(req, sizeof(req),
			"GET /%s HTTP/1.1\r\nHost: bench\r\nRange: bytes=0-%zu\r\n\r\n", key,
			size - 1);
	return send(w->fd, req, klen, MSG_NOSIGNAL) == klen ? 0 : -1;
}

/*
 * One HTTP response head off the buffer; returns its body length. Anything
 * but 200 or 206 is an error, never a fast empty answer.
 */
static long long http_head(struct rbuf *rb)
{
	char head[1024], *end, *cl;
	size_t n;
	int status;

	while (!(end = memmem(rb->data + rb->head, rb->tail - rb->head, "\r\n\r\n", 4)))
		if (rb_fill(rb))
			return -1;
	n = end + 4 - (rb->data + rb->head);
	if (n >= sizeof(head))
		return -1;
	memcpy(head, rb->data + rb->head, n);
	head[n] = '\0';
	rb->head += n;
	if (sscanf(head, "HTTP/1.1 %d", &status) != 1 || (status != 200 && status != 206))
		return -1;
	cl = strcasestr(head, "\r\nContent-Length:");
	return cl ? atoll(cl + 17) : -1;
}

/*
 * One whole answer into buf: its length, and for cachepeer its id (HTTP
 * answers come in order, so *id is left alone).
 */
static int recv_resp(struct rbuf *rb, char *buf, unsigned long long *id, long long *len)
{
	if (proto == P_CACHEPEER) {
		struct cachepeer_resp h;
		struct cp_resp r;

		if (rb_read(rb, &h, sizeof(h)) || cp_resp_decode(&h, &r) ||
		    r.status != CACHEPEER_S_OK || r.data_len > size)
			return -1;
		*len = r.data_len;
		*id = r.id;
		if (rb_read(rb, buf, *len))
			return -1;
		return verify && crc32c(0, buf, *len) != r.crc ? -1 : 0;
	}
	*len = http_head(rb);
	return *len < 0 || *len > (long long)size || rb_read(rb, buf, *len) ? -1 : 0;
}

static void record(struct worker *w, double t0)
{
	if (w->nlat == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 4096;
		w->lat = realloc(w->lat, w->cap * sizeof(*w->lat));
	}
	w->lat[w->nlat++] = (now() - t0) * 1e6;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	/* Send times by request id; answers may come back in any order. */
	size_t slots = (size_t)depth * 64;
	double *sent = calloc(slots, sizeof(*sent));
	char *buf = malloc(size);
	struct rbuf *rb = malloc(sizeof(*rb));
	unsigned long long next = 0, done = 0, id;
	long long len;

	w->fd = dial();
	if (w->fd < 0 || !buf || !sent || !rb)
		goto fail;
	*rb = (struct rbuf){ .fd = w->fd };
	if (proto == P_RAW) {
		while (!stop && !rb_read(rb, buf, size)) {
			w->ops++;
			w->bytes += size;
		}
		goto out;
	}
	/*
	 * One request alone first. nginx turns on TCP_NODELAY only when a
	 * connection goes idle between requests, which a pipeline kept full
	 * from the start never does: Nagle would then hold its answers for the
	 * client's delayed ACKs, and the baseline would be a fraction of what
	 * nginx can do.
	 */
	if (send_req(w, 0) || recv_resp(rb, buf, &id, &len))
		goto fail;
	w->ops++;
	w->bytes += len;
	for (next = done = 1; next <= (unsigned long long)depth && next < w->quota; next++) {
		sent[next % slots] = now();
		if (send_req(w, next))
			goto fail;
	}
	while (!stop && done < w->quota) {
		id = done;
		if (recv_resp(rb, buf, &id, &len))
			goto fail;
		record(w, sent[id % slots]);
		done++;
		w->ops++;
		w->bytes += len;
		if (next >= w->quota)
			continue;
		sent[next % slots] = now();
		if (send_req(w, next++))
			goto fail;
	}
out:
	free(rb);
	free(buf);
	free(sent);
	return NULL;
fail:
	/* After stop, a read the shutdown cut short is no error. */
	w->err = !stop;
	goto out;
}

/* --proto lib: blocking GETs on the shared handle, one at a time. */
static void *run_lib(void *arg)
{
	struct worker *w = arg;
	char key[CACHEPEER_KEY_MAX + 1], *buf = malloc(size);
	unsigned long long i;

	if (!buf) {
		w->err = 1;
		return NULL;
	}
	for (i = 0; !stop && i < w->quota; i++) {
		unsigned long long k = (w->first + i) % keys;
		int klen = key_list ? snprintf(key, sizeof(key), "%s", key_list[k]) :
				      snprintf(key, sizeof(key), "%s%llu", prefix, k);
		double t0 = now();
		ssize_t n = cachepeer_get(lib, key, klen, 0, 0, buf, size);

		if (n < 0) {
			w->err = 1;
			break;
		}
		record(w, t0);
		w->ops++;
		w->bytes += n;
	}
	free(buf);
	return NULL;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

/* The ceiling: stream the blocks in turn with sendfile(), no protocol. */
static int serve_raw(int port, const char *path)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0);
	int *file = calloc(keys, sizeof(*file));
	off_t *len = calloc(keys, sizeof(*len));
	char name[4096];
	struct stat st;
	int k;

	for (k = 0; file && len && k < keys; k++) {
		snprintf(name, sizeof(name), "%s%d", path, k);
		file[k] = open(name, O_RDONLY);
		if (file[k] < 0 || fstat(file[k], &st)) {
			perror(name);
			return 1;
		}
		len[k] = st.st_size;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (!file || !len || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 128)) {
		perror("cachepeer-bench: serve-raw");
		return 1;
	}
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		if (fork() == 0) {
			for (k = 0;; k = (k + 1) % keys) {
				off_t off = 0;

				while (off < len[k])
					if (sendfile(fd, file[k], &off, len[k] - off) <= 0)
						_exit(0);
			}
		}
		close(fd);
	}
}

/* --key-file: one key per line; returns how many, or -1. */
static int read_keys(const char *path)
{
	char line[CACHEPEER_KEY_MAX + 2];
	FILE *f = fopen(path, "r");
	int n = 0, cap = 0;
	char **more;
	size_t len;

	if (!f) {
		perror(path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		len = strcspn(line, "\n");
		if (!len || len > CACHEPEER_KEY_MAX)
			continue;
		line[len] = 0;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			more = realloc(key_list, cap * sizeof(*key_list));
			if (!more)
				break;
			key_list = more;
		}
		key_list[n] = strdup(line);
		if (!key_list[n])
			break;
		n++;
	}
	if (!feof(f))
		n = -1;		/* no memory: not a partial list */
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "proto", required_argument, NULL, 'P' },
		{ "peer", required_argument, NULL, 'p' },
		{ "conns", required_argument, NULL, 'c' },
		{ "depth", required_argument, NULL, 'd' },
		{ "size", required_argument, NULL, 's' },
		{ "keys", required_argument, NULL, 'k' },
		{ "prefix", required_argument, NULL, 'x' },
		{ "secs", required_argument, NULL, 't' },
		{ "verify", no_argument, NULL, 'v' },
		{ "serve-raw", required_argument, NULL, 'S' },
		{ "key", required_argument, NULL, 'K' },
		{ "ops", required_argument, NULL, 'o' },
		{ "key-file", required_argument, NULL, 'f' },
		{ "lib-conns", required_argument, NULL, 'L' },
		{ }
	};
	static struct cp_key key;
	const char *key_spec = NULL;
	unsigned long long ops = 0, bytes = 0;
	struct worker *w;
	unsigned int *all;
	size_t nall = 0, i;
	double t0, t1, c0, c1, s0, s1, gib;
	int c, raw_port = 0, err = 0, nlist = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'P':
			proto = !strcmp(optarg, "http") ? P_HTTP :
				!strcmp(optarg, "raw") ? P_RAW :
				!strcmp(optarg, "lib") ? P_LIB : P_CACHEPEER;
			break;
		case 'p':
			peer = optarg;
			break;
		case 'c':
			conns = atoi(optarg);
			break;
		case 'd':
			depth = atoi(optarg);
			break;
		case 's':
			size = strtoull(optarg, NULL, 0);
			break;
		case 'k':
			keys = atoi(optarg);
			break;
		case 'x':
			prefix = optarg;
			break;
		case 't':
			secs = atoi(optarg);
			break;
		case 'v':
			verify = 1;
			break;
		case 'S':
			raw_port = atoi(optarg);
			break;
		case 'K':
			key_spec = optarg;
			break;
		case 'o':
			total_ops = strtoull(optarg, NULL, 0);
			break;
		case 'L':
			lib_conns = atoi(optarg);
			break;
		case 'f':
			nlist = read_keys(optarg);
			if (nlist < 1)
				return 2;
			break;
		default:
			fprintf(stderr, "usage: see the comment at the top of the source\n");
			return 2;
		}
	}
	/* The list's keys, whatever --keys said. */
	if (key_list)
		keys = nlist;
	if (raw_port)
		return keys < 1 ? 2 : serve_raw(raw_port, prefix);
	err = cp_key_load(key_spec, &key);
	if (err < 0) {
		fprintf(stderr, "cachepeer-bench: key: %s\n", strerror(-err));
		return 2;
	}
	if (!err)
		cp_client_use_key(&key);
	err = 0;
	if (conns < 1 || depth < 1 || !size || keys < 1 || secs < 1 || lib_conns < 1)
		return 2;
	if (proto == P_LIB) {
		struct cachepeer_config cfg = {
			.size = sizeof(cfg), .seeds = peer, .key = key_spec,
			.flags = CACHEPEER_CFG_PIN | CACHEPEER_CFG_ENV_KEY,
			.max_conns = lib_conns, .depth = depth,
		};

		err = cachepeer_open(&lib, &cfg);
		if (err) {
			fprintf(stderr, "cachepeer-bench: %s: %s\n", peer, strerror(-err));
			return 1;
		}
	}

	w = calloc(conns, sizeof(*w));
	c0 = cpu_busy();
	s0 = cpu_self();
	t0 = now();
	for (c = 0; c < conns; c++) {
		/*
		 * Connections start spread over the keys, not in step: in
		 * step they would ask for one block at once, which a node
		 * that coalesces fetches would answer with one.
		 */
		w[c].first = (unsigned long long)c * keys / conns;
		/* The first connections take what does not divide evenly. */
		w[c].quota = total_ops ? total_ops / conns + (c < (int)(total_ops % conns)) :
			     ~0ULL;
		pthread_create(&w[c].thread, NULL, proto == P_LIB ? run_lib : run, &w[c]);
	}
	if (total_ops) {
		for (c = 0; c < conns; c++)
			pthread_join(w[c].thread, NULL);
	} else {
		sleep(secs);
	}
	stop = 1;
	t1 = now();
	c1 = cpu_busy();
	s1 = cpu_self();
	for (c = 0; c < conns; c++) {
		if (!total_ops) {
			if (proto != P_LIB)
				shutdown(w[c].fd, SHUT_RDWR);
			pthread_join(w[c].thread, NULL);
		}
		ops += w[c].ops;
		bytes += w[c].bytes;
		nall += w[c].nlat;
		err |= w[c].err;
	}
	all = malloc((nall + 1) * sizeof(*all));
	for (nall = 0, c = 0; c < conns; c++)
		for (i = 0; i < w[c].nlat; i++)
			all[nall++] = w[c].lat[i];
	qsort(all, nall, sizeof(*all), cmp_uint);
	gib = bytes / (double)(1ULL << 30);
	printf("proto=%s conns=%d depth=%d size=%zu secs=%.1f ",
	       proto == P_HTTP ? "http" : proto == P_RAW ? "raw" : proto == P_LIB ? "lib" :
	       "cachepeer", conns, depth, size, t1 - t0);
	if (lib) {
		struct cachepeer_stats st;

		cachepeer_get_stats(lib, &st, sizeof(st));
		printf("lib_conns=%llu frames_per_write=%.2f ", (unsigned long long)st.conns_opened,
		       st.writes ? (double)st.frames / st.writes : 0);
		cachepeer_close(lib);
	}
	printf("gib_s=%.3f ops_s=%.0f p50_us=%u p99_us=%u cpu_s_per_gib=%.3f",
	       gib / (t1 - t0), ops / (t1 - t0), nall ? all[nall / 2] : 0,
	       nall ? all[nall * 99 / 100] : 0, gib ? (c1 - c0) / gib : 0);
	/* The machine's, less this client's own: what serving cost. */
	printf(" server_cpu_s_per_gib=%.3f ops=%llu errors=%d\n",
	       gib ? (c1 - c0 - (s1 - s0)) / gib : 0, ops, err);
	return ops && !err ? 0 : 1;
}
