// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Writes the HTTP corpus (tests/unit/http_corpus.h) as JSON on stdout, for
 * the end-to-end conformance tests (tests/e2e/conformance.py). Byte strings
 * (raw, path, location) are base64, so NULs and bytes >= 0x80 survive.
 *
 *   (built by tests/e2e/conformance.sh, with the include path of the
 *   Makefile's USER_INC)
 *
 * {"count": N, "entries": [{"name": ..., "raw_b64": ..., "len": ...,
 *   "tail": ..., "limits": "default"|"get_head"|"v2_ping", "expect": ...,
 *   "expect_name": "ok"|"incomplete"|"error", "flags": ...,
 *   "flag_names": [...], "path_b64": ..., "location_b64": ...,
 *   "content_length": ..., "keeps_open": true|false}, ...]}
 */
#include <stdio.h>
#include <string.h>

#include "http_corpus.h"
#include "json.h"

static void b64(const uint8_t *p, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	putchar('"');
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 |
			     p[i + 2];

		putchar(tab[v >> 18 & 63]);
		putchar(tab[v >> 12 & 63]);
		putchar(tab[v >> 6 & 63]);
		putchar(tab[v & 63]);
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;

		printf("%c%c==", tab[v >> 18 & 63], tab[v >> 12 & 63]);
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;

		printf("%c%c%c=", tab[v >> 18 & 63], tab[v >> 12 & 63],
		       tab[v >> 6 & 63]);
	}
	putchar('"');
}

static const char *limits_name(enum http_corpus_limits l)
{
	switch (l) {
	case HTTP_CORPUS_LIM_DEFAULT:
		return "default";
	case HTTP_CORPUS_LIM_GET_HEAD:
		return "get_head";
	case HTTP_CORPUS_LIM_V2_PING:
		return "v2_ping";
	}
	return "unknown";
}

static void flag_names(uint8_t f)
{
	static const struct {
		uint8_t bit;
		const char *name;
	} names[] = {
		{ HTTP_REQ_HEAD, "head" },
		{ HTTP_REQ_CLOSE, "close" },
		{ HTTP_REQ_CHUNKED, "chunked" },
		{ HTTP_REQ_CONTINUE, "continue" },
		{ HTTP_REQ_V2_PING, "v2_ping" },
	};
	size_t i;
	int n = 0;

	putchar('[');
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (f & names[i].bit)
			printf("%s\"%s\"", n++ ? ", " : "", names[i].name);
	putchar(']');
}

int main(void)
{
	size_t i;

	printf("{\"count\": %zu, \"entries\": [\n", HTTP_CORPUS_LEN);
	for (i = 0; i < HTTP_CORPUS_LEN; i++) {
		const struct http_corpus_entry *e = &http_corpus[i];
		const char *loc = e->location ? e->location : "";
		const char *path = e->path ? e->path : "";

		printf("{\"name\": ");
		json_str(e->name);
		printf(", \"raw_b64\": ");
		b64((const uint8_t *)e->raw, e->len);
		printf(", \"len\": %u, \"tail\": %u, \"limits\": \"%s\"",
		       e->len, e->tail, limits_name(e->limits));
		printf(", \"expect\": %d, \"expect_name\": \"%s\"", e->expect,
		       e->expect == HTTP_OK	    ? "ok" :
		       e->expect == HTTP_INCOMPLETE ? "incomplete" :
						      "error");
		printf(", \"flags\": %u, \"flag_names\": ", e->flags);
		flag_names(e->flags);
		printf(", \"path_b64\": ");
		b64((const uint8_t *)path, strlen(path));
		printf(", \"location_b64\": ");
		b64((const uint8_t *)loc, strlen(loc));
		printf(", \"content_length\": %llu, \"keeps_open\": %s}%s\n",
		       (unsigned long long)e->content_length,
		       e->keeps_open ? "true" : "false",
		       i + 1 < HTTP_CORPUS_LEN ? "," : "");
	}
	printf("]}\n");
	return ferror(stdout) ? 1 : 0;
}
