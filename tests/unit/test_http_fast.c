// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the HTTP fast path (http_fast.h): over the whole corpus,
 * every prefix and a head with bytes after it, it gives exactly the strict
 * parser's answer or declines; and it does take the heads it is for.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "http_chars.h"
#include "http_corpus.h"
#include "http_test.h"
#include "test.h"

/* Fast and strict on buf; returns whether the fast path took it. */
static bool agree(const uint8_t *buf, size_t len, const struct http_limits *lim)
{
	struct http_request fast, strict;
	int ret;

	memset(&fast, 0xa5, sizeof(fast));
	ret = http_parse_fast(buf, len, lim, &fast);
	if (ret == HTTP_FAST_DECLINE)
		return false;
	CHECK_EQ(ret, HTTP_OK);
	CHECK_EQ(http_parse_head(buf, len, lim, &strict), HTTP_OK);
	CHECK(http_req_same(&fast, &strict));
	return true;
}

TEST(fast_agrees_with_strict_on_corpus)
{
	uint32_t taken = 0, n;
	size_t i;

	for (i = 0; i < HTTP_CORPUS_LEN; i++) {
		const struct http_corpus_entry *e = &http_corpus[i];
		const uint8_t *raw = (const uint8_t *)e->raw;
		int before = test_failures;
		struct http_limits lim;

		corpus_limits(&lim, e->limits);
		taken += agree(raw, e->len, &lim);
		/* every prefix: incomplete heads are the strict parser's */
		for (n = 0; n < e->len && n < 512; n++)
			agree(raw, n, &lim);
		if (test_failures != before)
			fprintf(stderr, "  in corpus entry %s\n", e->name);
	}
	/* the corpus has plain GET and HEAD requests: the path is used */
	CHECK(taken >= 10);
}

/* Tight limits: the fast path must decline where the strict one refuses. */
TEST(fast_agrees_with_strict_at_limits)
{
	static const char head[] = "GET /abc HTTP/1.1\r\nHost: a.b\r\n"
				   "User-Agent: x\r\n\r\n";
	const uint8_t *raw = (const uint8_t *)head;
	struct http_limits lim;
	uint32_t v;

	for (v = 0; v < 40; v++) {
		http_limits_default(&lim);
		lim.max_request_line = v;
		agree(raw, sizeof(head) - 1, &lim);
		http_limits_default(&lim);
		lim.max_header_bytes = v;
		agree(raw, sizeof(head) - 1, &lim);
		http_limits_default(&lim);
		lim.max_fields = v % 4;
		agree(raw, sizeof(head) - 1, &lim);
	}
}

TEST(fast_takes_common_heads)
{
	static const char *const heads[] = {
		"GET / HTTP/1.1\r\nHost: 10.77.0.1:10000\r\n\r\n",
		"HEAD /a<b?q=1&r='2' HTTP/1.1\r\nhOST:\t[::1]:80\r\n\r\n",
		"GET /x HTTP/1.1\r\nUser-Agent: curl/8.0 \r\nHost: a\r\n"
		"Accept: */*\r\n\r\nGET / HTTP/1.1\r\n",
		"GET /v2/ HTTP/1.1\r\nHost: r.io\r\n\r\n",
		"GET /b HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive \r\n\r\n",
	};
	struct http_request req;
	struct http_limits lim;
	size_t i;

	http_limits_default(&lim);
	lim.registry_v2_ping = true;
	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		const uint8_t *raw = (const uint8_t *)heads[i];

		CHECK(agree(raw, strlen(heads[i]), &lim));
	}
	CHECK_EQ(http_parse_fast((const uint8_t *)heads[1], strlen(heads[1]),
				 &lim, &req),
		 HTTP_OK);
	CHECK_EQ(req.flags, HTTP_REQ_HEAD);
	CHECK_EQ(req.path_escapes, 1);
	CHECK_EQ(req.path_html, 3);
}

/*
 * Every byte value at every offset of a Host value, through the 16-byte
 * scan and the byte-wise tail after it: taken exactly when the byte is a
 * Host byte, and then as the strict parser reads it.
 */
TEST(fast_host_bytes_match_the_class_table)
{
	static const char pre[] = "GET / HTTP/1.1\r\nHost: ";
	uint8_t head[sizeof(pre) - 1 + 24 + 4];
	struct http_limits lim;
	size_t at = sizeof(pre) - 1, k;
	int c, bad = 0;

	http_limits_default(&lim);
	memcpy(head, pre, at);
	memcpy(head + at + 24, "\r\n\r\n", 4);
	for (c = 0; c < 256; c++)
		for (k = 0; k < 24; k++) {
			if (!k && (c == ' ' || c == '\t'))
				continue; /* leading whitespace, not the value */
			memset(head + at, 'a', 24);
			head[at + k] = (uint8_t)c;
			if (agree(head, sizeof(head), &lim) !=
			    !!(http_cclass[c] & C_HOST))
				bad++;
		}
	CHECK_EQ(bad, 0);
}

/* What the strict parser acts on is declined, even when valid. */
TEST(fast_declines_what_strict_judges)
{
	static const char *const heads[] = {
		"GET / HTTP/1.0\r\nHost: a\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close"
		"\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a \r\n\r\n",
		"GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
		"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n",
	};
	struct http_request req;
	struct http_limits lim;
	size_t i;

	http_limits_default(&lim);
	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
		CHECK_EQ(http_parse_fast((const uint8_t *)heads[i],
					 strlen(heads[i]), &lim, &req),
			 HTTP_FAST_DECLINE);
	/* an allow list is the strict parser's to apply */
	REQUIRE(!http_limits_set_methods(&lim, "GET"));
	CHECK_EQ(http_parse_fast((const uint8_t *)"GET / HTTP/1.1\r\nHost: a"
						  "\r\n\r\n",
				 27, &lim, &req),
		 HTTP_FAST_DECLINE);
}
