// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the response builders (http_response.h): the exact bytes of
 * redirects and errors, their lengths against the room given, escaping,
 * targets, dates and reasons.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "http_corpus.h"
#include "http_test.h"
#include "test.h"

TEST(format_date)
{
	char d[HTTP_DATE_LEN + 1];

	d[HTTP_DATE_LEN] = 0;
	http_format_date(d, 0);
	CHECK(!strcmp(d, "Thu, 01 Jan 1970 00:00:00 GMT"));
	http_format_date(d, 784111777);
	CHECK(!strcmp(d, "Sun, 06 Nov 1994 08:49:37 GMT"));
	http_format_date(d, 951782400);
	CHECK(!strcmp(d, "Tue, 29 Feb 2000 00:00:00 GMT"));
	http_format_date(d, 4102444799);
	CHECK(!strcmp(d, "Thu, 31 Dec 2099 23:59:59 GMT"));
	CHECK_EQ(d[HTTP_DATE_LEN], 0);
}

TEST(reasons)
{
	CHECK(!strcmp(http_reason(301), "Moved Permanently"));
	CHECK(!strcmp(http_reason(302), "Found"));
	CHECK(!strcmp(http_reason(303), "See Other"));
	CHECK(!strcmp(http_reason(307), "Temporary Redirect"));
	CHECK(!strcmp(http_reason(308), "Permanent Redirect"));
	CHECK(!strcmp(http_reason(400), "Bad Request"));
	CHECK(!strcmp(http_reason(413), "Content Too Large"));
	CHECK(!strcmp(http_reason(505), "HTTP Version Not Supported"));
}

/* Writes the redirect for request text s to target url; returns its length. */
static uint32_t redirect_for(uint8_t *out, uint32_t cap, const char *url,
			     int status, const char *s, bool keep_alive)
{
	struct http_request req;
	struct http_target t;

	init_target(&t, url, status);
	if (parse_str(s, &req) != HTTP_OK)
		return 0;
	return http_write_redirect(out, cap, &t, &req, keep_alive, TEST_DATE);
}

/* The exact bytes of a redirect with the given status, location, body. */
static int expected_redirect(char *buf, size_t cap, int status,
			     const char *location, const char *body_href,
			     bool keep_alive, bool head)
{
	char body[4096];
	int blen;

	blen = snprintf(body, sizeof(body), "<a href=\"%s\">%s</a>.\n",
			body_href, http_reason(status));
	return snprintf(buf, cap,
			"HTTP/1.1 %d %s\r\nLocation: %s\r\n"
			"Content-Type: text/html; charset=utf-8\r\n"
			"Content-Length: %d\r\nDate: %s\r\n"
			"Connection: %s\r\n\r\n%s",
			status, http_reason(status), location, blen, TEST_DATE,
			keep_alive ? "keep-alive" : "close", head ? "" : body);
}

#define CHECK_BYTES(got, got_len, want, want_len)                       \
	do {                                                            \
		CHECK_EQ(got_len, want_len);                            \
		if ((uint32_t)(got_len) == (uint32_t)(want_len))        \
			CHECK_MEM(got, want, want_len);                 \
		else                                                    \
			fprintf(stderr, "  got: %.*s\n  want: %.*s\n",  \
				(int)(got_len), (const char *)(got),    \
				(int)(want_len), (const char *)(want)); \
	} while (0)

TEST(redirect_exact_bytes)
{
	static const char want[] =
		"HTTP/1.1 302 Found\r\n"
		"Location: https://k8s.gcr.io/v2/x/manifests/1?y=z\r\n"
		"Content-Type: text/html; charset=utf-8\r\n"
		"Content-Length: 61\r\n"
		"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
		"Connection: keep-alive\r\n\r\n"
		"<a href=\"https://k8s.gcr.io/v2/x/manifests/1?y=z\">Found</a>.\n";
	uint8_t out[1024];
	uint32_t n;

	n = redirect_for(
		out, sizeof(out), "https://k8s.gcr.io", 302,
		"GET /v2/x/manifests/1?y=z HTTP/1.1\r\nHost: x\r\n\r\n", true);
	CHECK_BYTES(out, n, want, sizeof(want) - 1);
}

TEST(redirect_head_and_close)
{
	const char *loc = "https://k8s.gcr.io/v2/x/manifests/1?y=z";
	uint8_t out[1024];
	char want[1024];
	uint32_t n;
	int wn;

	n = redirect_for(
		out, sizeof(out), "https://k8s.gcr.io", 302,
		"HEAD /v2/x/manifests/1?y=z HTTP/1.1\r\nHost: x\r\n\r\n", true);
	wn = expected_redirect(want, sizeof(want), 302, loc, loc, true, true);
	CHECK_BYTES(out, n, want, wn);
	CHECK(header_is(out, n, "Content-Length", "61"));

	n = redirect_for(out, sizeof(out), "https://k8s.gcr.io", 302,
			 "GET /v2/x/manifests/1?y=z HTTP/1.1\r\nHost: x\r\n"
			 "Connection: close\r\n\r\n",
			 false);
	wn = expected_redirect(want, sizeof(want), 302, loc, loc, false, false);
	CHECK_BYTES(out, n, want, wn);
}

TEST(redirect_statuses)
{
	static const int statuses[] = { 301, 302, 303, 307, 308 };
	uint8_t out[1024];
	char want[1024];
	size_t i;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		uint32_t n = redirect_for(out, sizeof(out),
					  "http://h.test:8080", statuses[i],
					  "GET /a HTTP/1.1\r\nHost: x\r\n\r\n",
					  true);
		int wn = expected_redirect(want, sizeof(want), statuses[i],
					   "http://h.test:8080/a",
					   "http://h.test:8080/a", true, false);

		CHECK_BYTES(out, n, want, wn);
	}
}

TEST(redirect_html_escaping)
{
	uint8_t out[1024];
	char want[1024];
	uint32_t n;
	int wn;

	n = redirect_for(out, sizeof(out), "https://h", 302,
			 "GET /a?b=1&c='d'&e HTTP/1.1\r\nHost: x\r\n\r\n",
			 true);
	wn = expected_redirect(want, sizeof(want), 302,
			       "https://h/a?b=1&c='d'&e",
			       "https://h/a?b=1&amp;c=&#39;d&#39;&amp;e", true,
			       false);
	CHECK_BYTES(out, n, want, wn);

	/* In the target's prefix too. */
	n = redirect_for(out, sizeof(out), "https://h/x&y'z", 301,
			 "GET /p HTTP/1.1\r\nHost: x\r\n\r\n", true);
	wn = expected_redirect(want, sizeof(want), 301, "https://h/x&y'z/p",
			       "https://h/x&amp;y&#39;z/p", true, false);
	CHECK_BYTES(out, n, want, wn);
}

TEST(redirect_percent_encoding)
{
	uint8_t out[1024];
	char want[1024];
	uint32_t n;
	int wn;

	n = redirect_for(out, sizeof(out), "https://h", 302,
			 "GET /\xc3\xa9\x80\xff\"<>\\^`{|}#%41%e9 HTTP/1.1\r\n"
			 "Host: x\r\n\r\n",
			 true);
	wn = expected_redirect(
		want, sizeof(want), 302,
		"https://h/%C3%A9%80%FF%22%3C%3E%5C%5E%60%7B%7C%7D%23%41%e9",
		"https://h/%C3%A9%80%FF%22%3C%3E%5C%5E%60%7B%7C%7D%23%41%e9",
		true, false);
	CHECK_BYTES(out, n, want, wn);

	/* Encoding and HTML escaping together. */
	n = redirect_for(out, sizeof(out), "https://h", 302,
			 "GET /<&> HTTP/1.1\r\nHost: x\r\n\r\n", true);
	wn = expected_redirect(want, sizeof(want), 302, "https://h/%3C&%3E",
			       "https://h/%3C&amp;%3E", true, false);
	CHECK_BYTES(out, n, want, wn);
}

TEST(redirect_absolute_form)
{
	uint8_t out[1024];
	char want[1024];
	uint32_t n;
	int wn;

	n = redirect_for(out, sizeof(out), "https://h/base", 307,
			 "GET http://x.test?q=1 HTTP/1.1\r\nHost: x\r\n\r\n",
			 true);
	wn = expected_redirect(want, sizeof(want), 307, "https://h/base/?q=1",
			       "https://h/base/?q=1", true, false);
	CHECK_BYTES(out, n, want, wn);

	n = redirect_for(out, sizeof(out), "https://h", 308,
			 "GET HTTPS://x.test HTTP/1.1\r\nHost: x\r\n\r\n",
			 true);
	wn = expected_redirect(want, sizeof(want), 308, "https://h/",
			       "https://h/", true, false);
	CHECK_BYTES(out, n, want, wn);
}

/* Length, exact fit, one byte short: for every valid corpus request. */
TEST(redirect_len_and_cap)
{
	static const char *const urls[] = { "http://t", "https://h.test/pre&'",
					    "https://[::1]:8443" };
	size_t i, u;

	for (i = 0; i < HTTP_CORPUS_LEN; i++) {
		const struct http_corpus_entry *e = &http_corpus[i];
		struct http_request req;
		struct http_limits lim;

		if (e->expect != HTTP_OK)
			continue;
		corpus_limits(&lim, e->limits);
		if (http_parse_head((const uint8_t *)e->raw, e->len, &lim,
				    &req) != HTTP_OK)
			continue;
		for (u = 0; u < sizeof(urls) / sizeof(urls[0]); u++) {
			int before = test_failures, ka;
			struct http_target t;

			init_target(&t, urls[u], 301 + (int)u);
			for (ka = 0; ka < 2; ka++) {
				uint32_t len = http_redirect_len(&t, &req, ka);
				/* Exactly len bytes: ASan sees any overrun. */
				uint8_t *out = malloc(len);

				REQUIRE(out);
				CHECK_EQ(http_write_redirect(out, len, &t, &req,
							     ka, TEST_DATE),
					 len);
				CHECK_EQ(http_write_redirect(out, len - 1, &t,
							     &req, ka,
							     TEST_DATE),
					 0);
				free(out);
			}
			if (test_failures != before)
				fprintf(stderr, "  in corpus entry %s\n",
					e->name);
		}
	}
}

TEST(redirect_body_length_matches_header)
{
	uint8_t out[1024];
	const uint8_t *body;
	struct resp r[2];
	uint32_t n;

	n = redirect_for(out, sizeof(out), "https://h/x&y", 302,
			 "GET /\xe9&'\" HTTP/1.1\r\nHost: x\r\n\r\n", true);
	REQUIRE(n > 0);
	REQUIRE(read_responses(out, n, r, 2) == 1);
	body = (const uint8_t *)memmem(out, n, "\r\n\r\n", 4) + 4;
	CHECK_EQ(r[0].content_length, (uint32_t)(out + n - body));
	CHECK_EQ(r[0].body_len, r[0].content_length);
}

TEST(target_init)
{
	static const struct {
		const char *url;
		int status;
	} bad[] = {
		{ "ftp://h", 302 },
		{ "file:///h", 302 },
		{ "http:/h", 302 },
		{ "//h", 302 },
		{ "h", 302 },
		{ "", 302 },
		{ "http://", 302 },
		{ "https://", 302 },
		{ "http:///", 302 },
		{ "http:///x", 302 },
		{ "http://h/a b", 302 },
		{ "http://h/\xc3\xa9", 302 },
		{ "http://h/\"", 302 },
		{ "http://h/<", 302 },
		{ "http://h/#f", 302 },
		{ "http://h/{}", 302 },
		{ "http://h/?q", 302 },
		{ "http://h?q", 302 },
		{ "http://h/a\r\nX: y", 302 },
		{ "http://h/a\n", 302 },
		{ "http://h/a\r", 302 },
		{ "http://h/\t", 302 },
		{ "http://h/\x7f", 302 },
		{ "http://h", 200 },
		{ "http://h", 304 },
		{ "http://h", 300 },
		{ "http://h", 404 },
		{ "http://h", 0 },
		{ "http://h", -302 },
		{ "http://h", 302 + 65536 },
	};
	static const int good[] = { 301, 302, 303, 307, 308 };
	struct http_target t;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = http_target_init(&t, bad[i].url, strlen(bad[i].url),
					   bad[i].status);

		CHECK_EQ(ret, -1);
		if (ret != -1)
			fprintf(stderr, "  for \"%s\" %d\n", bad[i].url,
				bad[i].status);
	}
	/* Embedded NUL within the given length. */
	CHECK_EQ(http_target_init(&t, "http://h\0x", 10, 302), -1);

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK_EQ(http_target_init(&t, "https://h", 9, good[i]), 0);
		CHECK_EQ(t.status, good[i]);
	}
	REQUIRE(http_target_init(&t, "https://h.test/", 15, 302) == 0);
	CHECK_EQ(t.url_len, 14);
	CHECK_MEM(t.url, "https://h.test", 14);
	REQUIRE(http_target_init(&t, "http://h.test/p///", 18, 302) == 0);
	CHECK_EQ(t.url_len, 15);
	REQUIRE(http_target_init(&t, "http://h:80/a%20b;c=d", 21, 301) == 0);
	CHECK_EQ(t.url_len, 21);
	/* len, not the terminating NUL, delimits the URL. */
	REQUIRE(http_target_init(&t, "https://h.test/xyz", 14, 302) == 0);
	CHECK_EQ(t.url_len, 14);
}

TEST(error_responses)
{
	static const int statuses[] = { 400, 405, 413, 414, 417, 431, 501, 505 };
	struct http_limits lim;
	uint8_t out[1024];
	size_t i;

	http_limits_default(&lim);
	REQUIRE(http_limits_set_methods(&lim, "GET,HEAD") == 0);
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		int before = test_failures, st = statuses[i];
		const char *reason = http_reason(st);
		char line[128], body[128], clen[16];
		const uint8_t *v, *b;
		uint32_t n, vlen;
		uint8_t *tight;

		n = http_write_error(out, sizeof(out), st, &lim, TEST_DATE);
		REQUIRE(n > 0);
		snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", st, reason);
		CHECK(!memcmp(out, line, strlen(line)));
		CHECK(find_header(out, n, "Content-Type", &v, &vlen) &&
		      vlen >= 10 && !memcmp(v, "text/plain", 10));
		snprintf(body, sizeof(body), "%s\n", reason);
		snprintf(clen, sizeof(clen), "%zu", strlen(body));
		CHECK(header_is(out, n, "Content-Length", clen));
		CHECK(header_is(out, n, "Connection", "close"));
		CHECK(header_is(out, n, "Date", TEST_DATE));
		CHECK_EQ(st == 405, header_is(out, n, "Allow", "GET, HEAD"));
		b = memmem(out, n, "\r\n\r\n", 4);
		REQUIRE(b);
		b += 4;
		CHECK_EQ(out + n - b, strlen(body));
		CHECK(!memcmp(b, body, strlen(body)));

		tight = malloc(n);
		REQUIRE(tight);
		CHECK_EQ(http_write_error(tight, n, st, &lim, TEST_DATE), n);
		CHECK_EQ(http_write_error(tight, n - 1, st, &lim, TEST_DATE),
			 0);
		free(tight);
		if (test_failures != before)
			fprintf(stderr, "  for status %d: %.*s\n", st, (int)n,
				out);
	}
}

TEST(error_response_exact_bytes)
{
	static const char want[] = "HTTP/1.1 400 Bad Request\r\n"
				   "Content-Type: text/plain; charset=utf-8\r\n"
				   "Content-Length: 12\r\n"
				   "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
				   "Connection: close\r\n\r\n"
				   "Bad Request\n";
	struct http_limits lim;
	uint8_t out[512];
	uint32_t n;

	http_limits_default(&lim);
	n = http_write_error(out, sizeof(out), 400, &lim, TEST_DATE);
	CHECK_BYTES(out, n, want, sizeof(want) - 1);
}
