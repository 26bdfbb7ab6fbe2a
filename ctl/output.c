// SPDX-License-Identifier: GPL-2.0
/*
 * Values in and out: the one way every command reads sizes, counts and
 * durations, and writes sizes and JSON.
 */

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ctl.h"

/* Plain decimal digits; no sign, no base prefix, no suffix. */
static int parse_digits(const char *s, const char **end, unsigned long long *out)
{
	unsigned long long v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (~0ULL - (*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (*p - '0');
	}
	*end = p;
	*out = v;
	return 0;
}

/* A count: "100000", "010" (ten); never a suffix. */
int parse_count(const char *s, unsigned long long *out)
{
	const char *end;
	int ret = parse_digits(s, &end, out);

	return ret ?: *end ? -EINVAL : 0;
}

/* "4194304", "4M", "4MiB", "512k", "1G": a byte count; K/M/G/T are powers of 1024. */
int parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v;
	const char *end;
	int shift, ret;

	ret = parse_digits(s, &end, &v);
	if (ret)
		return ret;
	switch (*end) {
	case '\0':
		*out = v;
		return 0;
	case 'k': case 'K':
		shift = 10;
		break;
	case 'm': case 'M':
		shift = 20;
		break;
	case 'g': case 'G':
		shift = 30;
		break;
	case 't': case 'T':
		shift = 40;
		break;
	default:
		return -EINVAL;
	}
	end++;
	if (*end && strcasecmp(end, "iB") && strcasecmp(end, "B"))
		return -EINVAL;
	if (v > (~0ULL >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

/*
 * A duration into milliseconds: "30s", "500ms", "2m", "1h", "1d"; a bare
 * number counts in unit_ms.
 */
int parse_duration(const char *s, unsigned long long unit_ms, unsigned long long *out)
{
	static const struct {
		const char *suffix;
		unsigned long long ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 }, { "h", 3600 * 1000 },
		{ "d", 24 * 3600 * 1000 },
	};
	unsigned long long v, mul = unit_ms;
	const char *end;
	size_t i;
	int ret;

	ret = parse_digits(s, &end, &v);
	if (ret)
		return ret;
	if (*end) {
		for (i = 0; i < ARRAY_SIZE(units); i++)
			if (!strcmp(end, units[i].suffix))
				break;
		if (i == ARRAY_SIZE(units))
			return -EINVAL;
		mul = units[i].ms;
	}
	if (v > ~0ULL / mul)
		return -ERANGE;
	*out = v * mul;
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

/* "name":value followed by sep. */
void json_u64(FILE *f, const char *name, unsigned long long v, const char *sep)
{
	json_string(f, name);
	fprintf(f, ":%llu%s", v, sep);
}

/* Seconds on the monotonic clock. */
double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}
