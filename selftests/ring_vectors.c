// SPDX-License-Identifier: GPL-2.0
/*
 * The client library's ring against ring_vectors.txt: XXH64 (published
 * values included), points per weight and key owners. cluster.sh checks
 * the kernel's ring against the same file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cp_test.h"
#include "kselftest.h"
#include "ring.h"

static char path[4096];

static FILE *open_vectors(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	snprintf(path, sizeof(path), "%.*sring_vectors.txt",
		 slash ? (int)(slash - argv0 + 1) : 0, argv0);
	return fopen(path, "r");
}

int main(int argc, char **argv)
{
	struct cp_ring r = { 0 };
	unsigned int nhash = 0, nowner = 0, npoints = 0, bad = 0, line = 0;
	char buf[512];
	FILE *f;

	ksft_print_header();
	ksft_set_plan(3);
	f = open_vectors(argv[0]);
	if (!f)
		ksft_exit_fail_msg("%s: cannot open\n", path);
	r.m = calloc(CACHEPEER_RING_MEMBERS_MAX, sizeof(*r.m));
	if (!r.m)
		ksft_exit_fail_msg("out of memory\n");

	/* Members come before the lines that need the ring. */
	while (fgets(buf, sizeof(buf), f)) {
		char a[300], b[300], c[300];
		unsigned long long seed, want;
		unsigned int w;

		line++;
		if (sscanf(buf, "member %63s %63s weight %u", a, b, &w) == 3) {
			snprintf(r.m[r.n].name, sizeof(r.m[r.n].name), "%.63s", a);
			snprintf(r.m[r.n].addr, sizeof(r.m[r.n].addr), "%.63s", b);
			r.m[r.n++].weight = w;
			if (cp_ring_build(&r))
				ksft_exit_fail_msg("out of memory\n");
		} else if (sscanf(buf, "xxh64 %llu %299s %llx", &seed, a, &want) == 3) {
			const char *key = strcmp(a, "-") ? a : "";
			unsigned long long got = cp_xxh64(key, strlen(key), seed);

			nhash++;
			if (got != want) {
				ksft_print_msg("line %u: xxh64 %016llx\n", line, got);
				bad++;
			}
		} else if (sscanf(buf, "points %63s %u", a, &w) == 2) {
			int i = cp_ring_find(&r, a);

			npoints++;
			if (i < 0 || r.m[i].points != w) {
				ksft_print_msg("line %u: %d points\n", line,
					       i < 0 ? -1 : (int)r.m[i].points);
				bad++;
			}
		} else if (sscanf(buf, "owner %299s %299s %299s", a, b, c) == 3) {
			unsigned long long h = cp_xxh64(a, strlen(a), 0);
			int o = cp_ring_owner(&r, h);

			nowner++;
			if (h != strtoull(b, NULL, 16) || o < 0 || strcmp(r.m[o].name, c)) {
				ksft_print_msg("line %u: %016llx owned by %s\n", line, h,
					       o < 0 ? "nobody" : r.m[o].name);
				bad++;
			}
		}
	}
	fclose(f);
	ksft_test_result(nhash >= 10, "%u xxh64 vectors read\n", nhash);
	ksft_test_result(npoints == r.n && nowner >= 32, "%u members, %u owner vectors read\n",
			 r.n, nowner);
	ksft_test_result(!bad, "client ring matches every vector\n");
	cp_ring_free(&r);
	ksft_finished();
}
