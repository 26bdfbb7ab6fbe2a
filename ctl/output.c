// SPDX-License-Identifier: GPL-2.0
/* Output helpers shared by the subcommands. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <linux/cachepeer.h>

#include "ctl.h"

/* Write s as a JSON string literal (RFC 8259 escaping). */
void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* "4194304", "4M", "4MiB", "512k": a byte count; K/M/G are powers of 1024. */
int parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K':
		shift = 10;
		break;
	case 'm': case 'M':
		shift = 20;
		break;
	case 'g': case 'G':
		shift = 30;
		break;
	case '\0':
		break;
	default:
		return -EINVAL;
	}
	if (shift) {
		end++;
		if (*end && strcasecmp(end, "iB") && strcasecmp(end, "B"))
			return -EINVAL;
	}
	if (v > (~0ULL >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

const char *fmt_size(unsigned long long v, char *buf, size_t len)
{
	static const char * const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = v;
	int i = 0;

	while (d >= 1024 && i < 4) {
		d /= 1024;
		i++;
	}
	if (i)
		snprintf(buf, len, "%.1f %s", d, units[i]);
	else
		snprintf(buf, len, "%llu B", v);
	return buf;
}

/* "name":value followed by sep. */
void json_u64(const char *name, unsigned long long v, const char *sep)
{
	json_string(stdout, name);
	printf(":%llu%s", v, sep);
}

const char * const op_names[CACHEPEER_OP_MAX + 1] = {
	[CACHEPEER_OP_GET] = "get", [CACHEPEER_OP_PUT] = "put", [CACHEPEER_OP_STAT] = "stat",
	[CACHEPEER_OP_DEL] = "del", [CACHEPEER_OP_PING] = "ping",
	[CACHEPEER_OP_RING_GET] = "ring_get", [CACHEPEER_OP_RING_PUSH] = "ring_push",
};

/* Seconds on the monotonic clock. */
double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}
