// SPDX-License-Identifier: GPL-2.0
/* Output helpers shared by the subcommands. */

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
