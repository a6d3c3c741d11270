/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * JSON output shared by xredirctl and the test tools (tests/pcap/pcapcheck.c,
 * tests/e2e/export_corpus.c); header-only, so each just includes it.
 */
#ifndef XREDIR_JSON_H
#define XREDIR_JSON_H

#include <stdio.h>

/* s as a JSON string on stdout: quotes, backslashes and control bytes
 * escaped, other bytes (UTF-8 included) as they are. */
static inline void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

#endif /* XREDIR_JSON_H */
