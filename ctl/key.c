// SPDX-License-Identifier: GPL-2.0
/*
 * Keys: key add/del/list, genkey, and the secrets behind them (a file's
 * bytes less one trailing newline, for keys and the cluster key alike).
 */

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "client.h"
#include "ctl.h"
#include "nl.h"

const char * const role_names[] = { "none", "read", "write", "member", NULL };

/* A secret from path: 0, -EINVAL if its length is out of range, -errno. */
int read_key_file(const char *path, unsigned char *key, size_t *len)
{
	struct cp_key k;
	char spec[4200];
	int ret;

	/* The client library's reader, under a name it does not look at. */
	if (snprintf(spec, sizeof(spec), "x:%s", path) >= (int)sizeof(spec))
		return -ENAMETOOLONG;
	ret = cp_key_load(spec, &k);
	if (ret)
		return ret;
	memcpy(key, k.secret, k.len);
	*len = k.len;
	return 0;
}

/*
 * The key every connection this process makes HELLOs with: spec
 * (NAME:FILE), else the environment's CACHEPEER_KEY, else none.
 */
void use_key(const struct subcommand *cmd, const char *spec)
{
	static struct cp_key k;
	int ret = cp_key_load(spec, &k);

	if (ret == 1)
		return;
	if (ret == -EINVAL)
		usage_error(cmd, "a key is NAME:FILE, FILE holding %d-%d bytes",
			    CACHEPEER_SECRET_MIN, CACHEPEER_SECRET_MAX);
	if (ret)
		fail("key '%s': %s", spec ? spec : getenv("CACHEPEER_KEY"), strerror(-ret));
	cp_client_use_key(&k);
}

/* A connection to peer failed: exits, with the status that says why. */
void fail_connect(const char *what, const char *peer, int err)
{
	if (err == -EACCES)
		fail_with(EXIT_DENIED, "%s: %s refused access (wrong key, or none: --key)",
			  what, peer);
	if (err == -EKEYREJECTED)
		fail_with(EXIT_DENIED, "%s: %s could not prove the key: not the node it claims",
			  what, peer);
	fail_with(EXIT_CONN, "%s: cannot connect to %s: %s", what, peer, strerror(-err));
}

/* A fingerprint as printed: 2 * FPR_LEN hex digits and a NUL into out. */
void fpr_hex(const unsigned char *fpr, char *out)
{
	int i;

	for (i = 0; i < FPR_LEN; i++)
		sprintf(out + 2 * i, "%02x", fpr[i]);
}

static const struct {
	const char *verb;
	int operands;
	const char *usage;
} key_verbs[] = {
	{ "list", 0, "list" },
	{ "add", 2, "add NAME --role read|write FILE" },
	{ "del", 1, "del NAME" },
};

static void print_keys(const struct cp_key_entry *e, unsigned int n)
{
	unsigned int i;

	if (opt_json)
		printf("[");
	else if (n)
		printf("%-32s %-6s %-16s %5s\n", "NAME", "ROLE", "FINGERPRINT", "CONNS");
	else
		printf("no keys\n");
	for (i = 0; i < n; i++) {
		char fpr[2 * FPR_LEN + 1];

		static_assert(sizeof(e[i].fpr) == FPR_LEN, "fingerprint length");
		fpr_hex(e[i].fpr, fpr);
		if (!opt_json) {
			printf("%-32s %-6s %-16s %5u%s\n", e[i].name,
			       e[i].role <= CACHEPEER_ROLE_MAX ? role_names[e[i].role] : "?", fpr,
			       e[i].conns, e[i].next < 0 ? "" : e[i].next ? "  (next cluster key)" :
			       "  (cluster key)");
			continue;
		}
		printf("%s{\"name\":", i ? "," : "");
		json_string(stdout, e[i].name);
		printf(",\"role\":\"%s\",\"fingerprint\":\"%s\",",
		       e[i].role <= CACHEPEER_ROLE_MAX ? role_names[e[i].role] : "?", fpr);
		json_u64(stdout, "conns", e[i].conns, "");
		if (e[i].next >= 0)
			printf(",\"cluster_key\":\"%s\"", e[i].next ? "next" : "current");
		printf("}");
	}
	if (opt_json)
		printf("]\n");
}

int cmd_key(const struct subcommand *cmd, int argc, char **argv)
{
	struct cp_key_entry e[2 + CACHEPEER_KEYS_MAX];
	unsigned char secret[CACHEPEER_SECRET_MAX];
	int role = -1, n, ret;
	bool role_given = false;
	const struct opt opts[] = {
		OPT("role", OPT_CHOICE, &role, .given = &role_given, .choices = role_names),
		{ 0 }
	};
	const char *verb, *name = NULL;
	unsigned int count;
	struct cp_nl *nl;
	size_t len = 0, v;
	char **args;

	n = parse_cmdline(cmd, argc, argv, opts, &args);
	verb = n ? args[0] : "list";
	args += !!n;
	n -= !!n;
	for (v = 0; v < ARRAY_SIZE(key_verbs) && strcmp(verb, key_verbs[v].verb); v++)
		;
	if (v == ARRAY_SIZE(key_verbs))
		usage_error(cmd, "unknown key command '%s'", verb);
	if (n != key_verbs[v].operands || role_given != !strcmp(verb, "add"))
		usage_error(cmd, "expected '%s'", key_verbs[v].usage);
	if (role_given && role != CACHEPEER_ROLE_READ && role != CACHEPEER_ROLE_WRITE)
		usage_error(cmd, "a key's role is read or write (the cluster key is a member's)");
	if (n) {
		name = args[0];
		if (!*name || strlen(name) > CACHEPEER_NAME_MAX)
			usage_error(cmd, "key name '%s' must be 1-%d bytes", name,
				    CACHEPEER_NAME_MAX);
	}
	if (!strcmp(verb, "add")) {
		ret = read_key_file(args[1], secret, &len);
		if (ret == -EINVAL)
			usage_error(cmd, "key file '%s' must hold %d-%d bytes", args[1],
				    CACHEPEER_SECRET_MIN, CACHEPEER_SECRET_MAX);
		if (ret)
			fail("key add: key file '%s': %s", args[1], strerror(-ret));
	}
	nl = open_nl();
	if (!strcmp(verb, "add"))
		ret = cp_nl_key_add(nl, name, role, secret, len);
	else if (!strcmp(verb, "del"))
		ret = cp_nl_key_del(nl, name);
	else
		ret = cp_nl_key_list(nl, e, ARRAY_SIZE(e), &count);
	if (ret) {
		char what[16];

		snprintf(what, sizeof(what), "key %s", verb);
		nl_fail(nl, what, ret);
	}
	cp_nl_close(nl);
	if (!strcmp(verb, "list"))
		print_keys(e, count);
	return EXIT_OK;
}

/* 32 random bytes in base64, one line: a secret for a key file. */
int cmd_genkey(const struct subcommand *cmd, int argc, char **argv)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char raw[33];		/* 32 bytes, and one of padding */
	char out[45];
	int i, o = 0;

	no_operands(cmd, argc, argv);
	if (getrandom(raw, 32, 0) != 32)
		fail("genkey: no random bytes: %s", strerror(errno));
	raw[32] = 0;
	for (i = 0; i < 33; i += 3) {
		unsigned int v = raw[i] << 16 | raw[i + 1] << 8 | raw[i + 2];

		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
		out[o++] = b64[v & 63];
	}
	/* 32 bytes are 43 characters and one '=' of padding. */
	out[43] = '=';
	out[44] = '\0';
	printf("%s\n", out);
	return EXIT_OK;
}
