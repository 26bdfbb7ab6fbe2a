// SPDX-License-Identifier: GPL-2.0
/*
 * cp_raw: one block request, or N of them back to back on one connection
 * (sent as one burst), as the wire carries it: no routing, no redirect followed, flags as given.
 * For tests that need what cachepeerctl does not do on purpose.
 *
 *   cp_raw [-n N] [-l] [-x] [-w] ADDR get|put|del|stat KEY [FILE]
 *
 * -l sets CACHEPEER_F_LOCAL. put sends FILE with its CRC (-x: with a CRC of
 * 0, which a node must refuse as CORRUPT unless FILE's CRC is 0); get with FILE
 * checks that every answer's data is FILE's bytes. HELLOs with the key in
 * CACHEPEER_KEY, if set. Prints a line per answer, in the order they come:
 * the status, and for REDIRECT the address. Exits 1 if a transport, CRC or
 * data check fails, 2 on bad usage. -w holds the connection open once it is
 * made (and the HELLO done): it prints "port N" (its local port) and sends
 * nothing until standard input ends, for tests of what keeps a connection.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

static void *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n = -1;

	if (f && !fseek(f, 0, SEEK_END))
		n = ftell(f);
	if (n < 0 || fseek(f, 0, SEEK_SET)) {
		if (f)
			fclose(f);
		return NULL;
	}
	buf = malloc(n ? n : 1);
	if (buf && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	static const char * const ops[] = {
		[CACHEPEER_OP_GET] = "get", [CACHEPEER_OP_PUT] = "put",
		[CACHEPEER_OP_STAT] = "stat", [CACHEPEER_OP_DEL] = "del",
	};
	struct cp_key key;
	struct cp_msg m = { 0 };
	struct cp_client c;
	size_t file_len = 0;
	char *file = NULL;
	int n = 1, i, c_opt, err, bad_crc = 0, one = 1, zero = 0, hold = 0;

	while ((c_opt = getopt(argc, argv, "n:lxw")) != -1) {
		if (c_opt == 'n')
			n = atoi(optarg);
		else if (c_opt == 'l')
			m.flags |= CACHEPEER_F_LOCAL;
		else if (c_opt == 'x')
			bad_crc = 1;
		else if (c_opt == 'w')
			hold = 1;
		else
			return 2;
	}
	if (argc - optind < 3 || argc - optind > 4 || n < 1 || n > 500)
		return 2;
	for (i = CACHEPEER_OP_GET; i <= CACHEPEER_OP_DEL; i++)
		if (!strcmp(argv[optind + 1], ops[i]))
			m.op = i;
	if (!m.op)
		return 2;
	m.key = argv[optind + 2];
	m.key_len = strlen(m.key);
	if (argc - optind == 4) {
		file = read_file(argv[optind + 3], &file_len);
		if (!file) {
			perror(argv[optind + 3]);
			return 1;
		}
	}
	if (m.op == CACHEPEER_OP_PUT) {
		if (!file)
			return 2;
		m.payload = file;
		m.payload_len = file_len;
		/* The header's CRC field stays 0 without with_crc. */
		if (bad_crc)
			m.flags |= CACHEPEER_F_CRC;
		else
			m.with_crc = 1;
	}
	if (!cp_key_load(NULL, &key))
		cp_client_use_key(&key);
	err = cp_client_connect(&c, argv[optind]);
	if (!err && hold) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char b;

		getsockname(c.fd, (struct sockaddr *)&ss, &len);
		printf("port %u\n", ntohs(((struct sockaddr_in *)&ss)->sin_port));
		fflush(stdout);
		while (read(0, &b, 1) > 0)
			;
	}
	/*
	 * Corked, N requests leave as one burst: the node has them all
	 * before it can have answered the first (tests of what requests
	 * under way share rely on that).
	 */
	if (!err && n > 1)
		setsockopt(c.fd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
	for (i = 0; !err && i < n; i++) {
		m.id = i + 1;
		err = cp_client_send(&c, &m);
	}
	if (!err && n > 1)
		setsockopt(c.fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero));
	for (i = 0; !err && i < n; i++) {
		struct cp_resp r;
		char *data;

		err = cp_client_recv_hdr(&c, &r);
		data = err ? NULL : malloc(r.data_len + 1);
		if (!err && !data)
			err = -ENOMEM;
		err = err ?: cp_client_recv_data(&c, &r, data);
		if (err)
			break;
		data[r.data_len] = '\0';
		if (r.status == CACHEPEER_S_REDIRECT)
			printf("redirect %s\n", data);
		else
			printf("%s\n", cp_status_name(r.status));
		if (m.op == CACHEPEER_OP_GET && file && r.status == CACHEPEER_S_OK &&
		    (r.data_len != file_len || memcmp(data, file, file_len))) {
			fprintf(stderr, "cp_raw: answer %llu: data differs from %s\n",
				(unsigned long long)r.id, argv[optind + 3]);
			err = -EBADMSG;
		}
		free(data);
	}
	if (err)
		fprintf(stderr, "cp_raw: %s\n", strerror(-err));
	free(file);
	return err ? 1 : 0;
}
