/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * JSON output shared by xredirctl and the test tools (tests/pcap/pcapcheck.c,
 * tests/e2e/export_corpus.c); header-only, so each just includes it.
 */
#ifndef XREDIR_JSON_H
#define XREDIR_JSON_H

#include <stdio.h>
#include <string.h>

#include "utf8.h"

/* s as a JSON string on stdout: quotes, backslashes and control bytes
 * escaped, well-formed UTF-8 as it is, any other byte as \u00XX (the
 * output is always valid JSON). */
static inline void json_str(const char *s)
{
	size_t n = strlen(s), u;

	putchar('"');
	for (; *s; s += u, n -= u) {
		unsigned char c = (unsigned char)*s;

		u = utf8_len((const unsigned char *)s, n);
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || !u)
			printf("\\u%04x", c);
		else
			fwrite(s, 1, u, stdout);
		if (!u)
			u = 1;
	}
	putchar('"');
}

#endif /* XREDIR_JSON_H */
