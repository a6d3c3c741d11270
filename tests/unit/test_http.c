// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the HTTP layer: the request-head parser against the corpus
 * in http_corpus.h, the response builders, and http_feed, the stream logic
 * (pipelining, partial heads, body discard, blocking on output room).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "test.h"
#include "http_corpus.h"

#define TEST_DATE "Sun, 06 Nov 1994 08:49:37 GMT"
#define TEST_URL "http://t.test"

/* Bytes past this many in a corpus entry are dribbled in larger steps. */
#define DRIBBLE_BYTE_LIMIT 4096

static void corpus_limits(struct http_limits *lim,
			  enum http_corpus_limits which)
{
	http_limits_default(lim);
	switch (which) {
	case HTTP_CORPUS_LIM_DEFAULT:
		break;
	case HTTP_CORPUS_LIM_GET_HEAD:
		if (http_limits_set_methods(lim, "GET,HEAD"))
			abort();
		break;
	case HTTP_CORPUS_LIM_V2_PING:
		lim->registry_v2_ping = true;
		break;
	}
}

static uint32_t head_len_of(const struct http_corpus_entry *e)
{
	return e->len - e->tail;
}

/* Parses a NUL-free string with the default limits. */
static int parse_str(const char *s, struct http_request *req)
{
	struct http_limits lim;

	http_limits_default(&lim);
	return http_parse_head((const uint8_t *)s, strlen(s), &lim, req);
}

static void init_target(struct http_target *t, const char *url, int status)
{
	if (http_target_init(t, url, strlen(url), status))
		abort();
}

/* Finds "\r\nName: " in the head of a response; returns the value. */
static bool find_header(const uint8_t *resp, uint32_t len, const char *name,
			const uint8_t **value, uint32_t *vlen)
{
	const uint8_t *end = memmem(resp, len, "\r\n\r\n", 4);
	size_t nlen = strlen(name);
	const uint8_t *p = resp;

	if (!end)
		return false;
	while ((p = memmem(p, (size_t)(end - p), "\r\n", 2)) && p < end) {
		const uint8_t *eol;

		p += 2;
		if ((size_t)(end - p) < nlen + 2 || memcmp(p, name, nlen) ||
		    memcmp(p + nlen, ": ", 2))
			continue;
		p += nlen + 2;
		eol = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
		*value = p;
		*vlen = (uint32_t)(eol - p);
		return true;
	}
	return false;
}

/* Whether header `name` of a response has exactly the value `want`. */
static bool header_is(const uint8_t *resp, uint32_t len, const char *name,
		      const char *want)
{
	const uint8_t *v;
	uint32_t n;

	return find_header(resp, len, name, &v, &n) && n == strlen(want) &&
	       !memcmp(v, want, n);
}

/* One response read back from an output buffer. */
struct resp {
	int status;
	char location[512];
	uint64_t content_length;
	bool close;
	bool v2_api_header;
	uint32_t body_len;
};

/*
 * Splits out into responses. A body follows the head unless the next bytes
 * start another response (HEAD) or the buffer ends. Returns the count, or
 * -1 if the bytes are not a sequence of well-formed responses.
 */
static int read_responses(const uint8_t *buf, uint32_t len, struct resp *r,
			  int max)
{
	uint32_t pos = 0;
	int n = 0;

	while (pos < len) {
		const uint8_t *p = buf + pos, *end, *v;
		uint32_t rest = len - pos, hlen, vlen;
		struct resp *x = &r[n];
		char num[24];

		if (n == max || rest < 13 || memcmp(p, "HTTP/1.1 ", 9))
			return -1;
		end = memmem(p, rest, "\r\n\r\n", 4);
		if (!end)
			return -1;
		hlen = (uint32_t)(end + 4 - p);
		memset(x, 0, sizeof(*x));
		x->status =
			(p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
		if (find_header(p, hlen, "Location", &v, &vlen) &&
		    vlen < sizeof(x->location))
			memcpy(x->location, v, vlen);
		if (!find_header(p, hlen, "Content-Length", &v, &vlen) ||
		    vlen >= sizeof(num))
			return -1;
		memcpy(num, v, vlen);
		num[vlen] = 0;
		x->content_length = strtoull(num, NULL, 10);
		if (!find_header(p, hlen, "Connection", &v, &vlen))
			return -1;
		x->close = vlen == 5 && !memcmp(v, "close", 5);
		x->v2_api_header = find_header(
			p, hlen, "Docker-Distribution-Api-Version", &v, &vlen);
		pos += hlen;
		rest = len - pos;
		if (rest &&
		    !(rest >= 9 && !memcmp(buf + pos, "HTTP/1.1 ", 9))) {
			if (rest < x->content_length)
				return -1;
			x->body_len = (uint32_t)x->content_length;
			pos += x->body_len;
		}
		n++;
	}
	return n;
}

/*
 * Part A: the parser against the corpus.
 */

TEST(corpus_is_large_and_consistent)
{
	size_t i, j;

	CHECK(HTTP_CORPUS_LEN >= 170);
	for (i = 0; i < HTTP_CORPUS_LEN; i++) {
		const struct http_corpus_entry *e = &http_corpus[i];
		int before = test_failures;
		const char *c;

		REQUIRE(e->name && *e->name && e->raw);
		for (c = e->name; *c; c++)
			CHECK((*c >= 'a' && *c <= 'z') ||
			      (*c >= '0' && *c <= '9') || *c == '_');
		for (j = 0; j < i; j++)
			CHECK(strcmp(e->name, http_corpus[j].name));
		CHECK(e->tail < e->len || !e->len);
		if (e->expect == HTTP_OK) {
			CHECK(e->path && e->location);
			CHECK_EQ(e->keeps_open, !(e->flags & HTTP_REQ_CLOSE));
		} else {
			CHECK_EQ(e->tail, 0);
			CHECK_EQ(e->keeps_open, e->expect == HTTP_INCOMPLETE);
		}
		if (test_failures != before)
			fprintf(stderr, "  in corpus entry %s\n", e->name);
	}
}

/* Checks the Location a redirect for req carries. */
static void check_location(const struct http_corpus_entry *e,
			   const struct http_request *req)
{
	static uint8_t out[65536];
	struct http_target t;
	const uint8_t *v;
	uint32_t n, vlen;
	char want[20000];

	init_target(&t, TEST_URL, 302);
	n = http_write_redirect(out, sizeof(out), &t, req, true, TEST_DATE);
	REQUIRE(n > 0);
	snprintf(want, sizeof(want), "%s%s", TEST_URL, e->location);
	REQUIRE(find_header(out, n, "Location", &v, &vlen));
	CHECK_EQ(vlen, strlen(want));
	if (vlen == strlen(want))
		CHECK_MEM(v, want, vlen);
}

TEST(corpus_parse)
{
	size_t i;

	for (i = 0; i < HTTP_CORPUS_LEN; i++) {
		const struct http_corpus_entry *e = &http_corpus[i];
		const uint8_t *raw = (const uint8_t *)e->raw;
		int before = test_failures, ret;
		struct http_request req;
		struct http_limits lim;

		corpus_limits(&lim, e->limits);
		ret = http_parse_head(raw, e->len, &lim, &req);
		CHECK_EQ(ret, e->expect);
		if (ret == HTTP_OK && e->expect == HTTP_OK) {
			CHECK_EQ(req.head_len, head_len_of(e));
			CHECK_EQ(req.flags, e->flags);
			CHECK_EQ(req.content_length, e->content_length);
			CHECK_EQ(req.path.len, strlen(e->path));
			if (req.path.len == strlen(e->path))
				CHECK_MEM(req.path.p, e->path, req.path.len);
			check_location(e, &req);
			/* The head alone parses the same way. */
			CHECK_EQ(http_parse_head(raw, head_len_of(e), &lim,
						 &req),
				 HTTP_OK);
			CHECK_EQ(req.head_len, head_len_of(e));
		}
		if (test_failures != before)
			fprintf(stderr, "  in corpus entry %s (returned %d)\n",
				e->name, ret);
	}
}

static bool span_inside(const struct http_span *s, const uint8_t *buf,
			size_t len)
{
	return !s->len || (s->p >= buf && s->p + s->len <= buf + len);
}

/*
 * Whatever the outcome, the spans the access log prints (method, path)
 * are empty or point into the parsed bytes, even over a request struct
 * full of garbage: a head refused before its target left the path of
 * whatever the stack held (a crash in the debug access log).
 */
TEST(corpus_failed_parses_leave_no_stale_spans)
{
	size_t i;

	for (i = 0; i < HTTP_CORPUS_LEN; i++) {
		const struct http_corpus_entry *e = &http_corpus[i];
		const uint8_t *raw = (const uint8_t *)e->raw;
		int before = test_failures;
		struct http_request req;
		struct http_limits lim;

		corpus_limits(&lim, e->limits);
		memset(&req, 0xa5, sizeof(req));
		http_parse_head(raw, e->len, &lim, &req);
		CHECK(span_inside(&req.method, raw, e->len));
		CHECK(span_inside(&req.path, raw, e->len));
		if (test_failures != before)
			fprintf(stderr, "  in corpus entry %s\n", e->name);
	}
}

/*
 * Which prefixes of a corpus entry to parse: all of a short one; of a
 * long one the start, the end, every prefix ending near a CR or LF (where
 * the parser changes state), and a sample of the rest.
 */
static bool prefix_wanted(const struct http_corpus_entry *e, uint32_t n,
			  uint32_t end)
{
	uint32_t i;

	if (end <= 2048 || n < 1024 || n + 64 >= end || n % 61 == 0)
		return true;
	for (i = n >= 2 ? n - 2 : 0; i <= n + 1 && i < e->len; i++)
		if (e->raw[i] == '\r' || e->raw[i] == '\n')
			return true;
	return false;
}

/*
 * Every strict prefix of a valid head (or of an incomplete one) is
 * incomplete: a head is never refused because of where a segment ended.
 */
TEST(corpus_prefixes_of_valid_heads_are_incomplete)
{
	size_t i;

	for (i = 0; i < HTTP_CORPUS_LEN; i++) {
		const struct http_corpus_entry *e = &http_corpus[i];
		uint32_t n, end, bad = 0, bad_at = 0;
		struct http_request req;
		struct http_limits lim;
		int ret, bad_ret = 0;

		if (e->expect != HTTP_OK && e->expect != HTTP_INCOMPLETE)
			continue;
		end = e->expect == HTTP_OK ? head_len_of(e) : e->len;
		corpus_limits(&lim, e->limits);
		for (n = 0; n < end; n++) {
			if (!prefix_wanted(e, n, end))
				continue;
			ret = http_parse_head((const uint8_t *)e->raw, n, &lim,
					      &req);
			if (ret != HTTP_INCOMPLETE && !bad++) {
				bad_at = n;
				bad_ret = ret;
			}
		}
		CHECK_EQ(bad, 0);
		if (bad)
			fprintf(stderr,
				"  in corpus entry %s: %u prefixes not "
				"incomplete, first: %u of %u bytes -> %d\n",
				e->name, bad, bad_at, end, bad_ret);
	}
}

/* No prefix of a refused request is accepted. */
TEST(corpus_prefixes_of_refused_heads_never_ok)
{
	size_t i;

	for (i = 0; i < HTTP_CORPUS_LEN; i++) {
		const struct http_corpus_entry *e = &http_corpus[i];
		struct http_request req;
		struct http_limits lim;
		uint32_t n, ok = 0;

		if (e->expect == HTTP_OK || e->expect == HTTP_INCOMPLETE)
			continue;
		corpus_limits(&lim, e->limits);
		for (n = 0; n <= e->len; n++)
			if (prefix_wanted(e, n, e->len))
				ok += http_parse_head((const uint8_t *)e->raw,
						      n, &lim, &req) == HTTP_OK;
		CHECK_EQ(ok, 0);
		if (ok)
			fprintf(stderr, "  in corpus entry %s\n", e->name);
	}
}

/* What follows a valid head (pipelined junk) does not change its parse. */
TEST(corpus_bytes_after_head_ignored)
{
	static const char junk[] = "\x16\x03\x01\0\r\n \r\n\r\nGET";
	static uint8_t buf[32768];
	size_t i;

	for (i = 0; i < HTTP_CORPUS_LEN; i++) {
		const struct http_corpus_entry *e = &http_corpus[i];
		uint32_t hl = head_len_of(e);
		struct http_request req;
		struct http_limits lim;
		int ret;

		if (e->expect != HTTP_OK)
			continue;
		REQUIRE(hl + sizeof(junk) <= sizeof(buf));
		memcpy(buf, e->raw, hl);
		memcpy(buf + hl, junk, sizeof(junk) - 1);
		corpus_limits(&lim, e->limits);
		ret = http_parse_head(buf, hl + sizeof(junk) - 1, &lim, &req);
		CHECK_EQ(ret, HTTP_OK);
		CHECK_EQ(req.head_len, hl);
		CHECK_EQ(req.flags, e->flags);
		if (ret != HTTP_OK || req.head_len != hl)
			fprintf(stderr, "  in corpus entry %s\n", e->name);
	}
}

TEST(parse_request_fields)
{
	struct http_request req;

	REQUIRE(parse_str("PATCH /p?q HTTP/1.0\r\n\r\n", &req) == HTTP_OK);
	CHECK_EQ(req.method.len, 5);
	CHECK_MEM(req.method.p, "PATCH", 5);
	CHECK_EQ(req.minor, 0);
	CHECK(!req.path_slash);

	REQUIRE(parse_str("GET / HTTP/1.7\r\nHost: x\r\n\r\n", &req) ==
		HTTP_OK);
	CHECK_EQ(req.minor, 1);

	REQUIRE(parse_str("GET http://h?q HTTP/1.1\r\nHost: x\r\n\r\n", &req) ==
		HTTP_OK);
	CHECK(req.path_slash);
	CHECK_EQ(req.path.len, 2);
	CHECK_MEM(req.path.p, "?q", 2);

	REQUIRE(parse_str("GET http://h HTTP/1.1\r\nHost: x\r\n\r\n", &req) ==
		HTTP_OK);
	CHECK(req.path_slash);
	CHECK_EQ(req.path.len, 0);

	REQUIRE(parse_str("GET http://h/ HTTP/1.1\r\nHost: x\r\n\r\n", &req) ==
		HTTP_OK);
	CHECK(!req.path_slash);
}

TEST(parse_proxy_headers_all_lines_kept)
{
	struct http_request req;

	REQUIRE(parse_str("GET / HTTP/1.1\r\nHost: x\r\n"
			  "X-Forwarded-For: 192.0.2.1\r\n"
			  "x-forwarded-for:  198.51.100.2, 203.0.113.3 \r\n"
			  "X-Real-IP: 192.0.2.9\r\nX-REAL-IP:\t203.0.113.4\r\n"
			  "\r\n",
			  &req) == HTTP_OK);
	CHECK_EQ(req.n_forwarded_for, 2);
	CHECK_EQ(req.forwarded_for[0].len, strlen("192.0.2.1"));
	CHECK_MEM(req.forwarded_for[0].p, "192.0.2.1",
		  req.forwarded_for[0].len);
	CHECK_EQ(req.forwarded_for[1].len, strlen("198.51.100.2, 203.0.113.3"));
	CHECK_MEM(req.forwarded_for[1].p, "198.51.100.2, 203.0.113.3",
		  req.forwarded_for[1].len);
	CHECK_EQ(req.n_real_ip, 2);
	CHECK_EQ(req.real_ip.len, strlen("203.0.113.4"));
	CHECK_MEM(req.real_ip.p, "203.0.113.4", req.real_ip.len);

	REQUIRE(parse_str("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &req) ==
		HTTP_OK);
	CHECK_EQ(req.n_forwarded_for, 0);
	CHECK_EQ(req.n_real_ip, 0);
}

/* Parses a NUL-free string with the given limits. */
static int parse_lim(const char *s, const struct http_limits *lim,
		     struct http_request *req)
{
	return http_parse_head((const uint8_t *)s, strlen(s), lim, req);
}

/* The limits are the configured ones, not built-in constants. */
TEST(parse_custom_limits)
{
	struct http_request req;
	struct http_limits lim;

	http_limits_default(&lim);
	lim.max_request_line = 20; /* "GET /123456 HTTP/1.1" */
	CHECK_EQ(parse_lim("GET /123456 HTTP/1.1\r\nHost: x\r\n\r\n", &lim,
			   &req),
		 HTTP_OK);
	CHECK_EQ(parse_lim("GET /1234567 HTTP/1.1\r\nHost: x\r\n\r\n", &lim,
			   &req),
		 414);
	CHECK_EQ(parse_lim("GET /123456 HTTP/1.1", &lim, &req),
		 HTTP_INCOMPLETE);
	CHECK_EQ(parse_lim("GET /1234567 HTTP/1.1", &lim, &req), 414);

	http_limits_default(&lim);
	lim.max_header_bytes = 20; /* "Host: x\r\n" "X: 123456\r\n" */
	CHECK_EQ(parse_lim("GET / HTTP/1.1\r\nHost: x\r\nX: 123456\r\n\r\n",
			   &lim, &req),
		 HTTP_OK);
	CHECK_EQ(parse_lim("GET / HTTP/1.1\r\nHost: x\r\nX: 1234567\r\n\r\n",
			   &lim, &req),
		 431);
	CHECK_EQ(parse_lim("GET / HTTP/1.1\r\nHost: x\r\nX: 123456", &lim,
			   &req),
		 HTTP_INCOMPLETE);
	CHECK_EQ(parse_lim("GET / HTTP/1.1\r\nHost: x\r\nX: 12345678", &lim,
			   &req),
		 HTTP_INCOMPLETE);
	CHECK_EQ(parse_lim("GET / HTTP/1.1\r\nHost: x\r\nX: 123456789", &lim,
			   &req),
		 431);

	http_limits_default(&lim);
	lim.max_fields = 2;
	CHECK_EQ(parse_lim("GET / HTTP/1.1\r\nHost: x\r\nX: 1\r\n\r\n", &lim,
			   &req),
		 HTTP_OK);
	CHECK_EQ(parse_lim("GET / HTTP/1.1\r\nHost: x\r\nX: 1\r\nY: 2\r\n\r\n",
			   &lim, &req),
		 431);

	http_limits_default(&lim);
	lim.max_body = 10;
	CHECK_EQ(parse_lim("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n"
			   "\r\n",
			   &lim, &req),
		 HTTP_OK);
	CHECK_EQ(req.content_length, 10);
	CHECK_EQ(parse_lim("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n"
			   "\r\n",
			   &lim, &req),
		 413);
}

TEST(methods_list_parsing)
{
	static const char *const bad[] = {
		"",
		"GET,",
		",GET",
		"G ET",
		"GET,,HEAD",
		"GET;HEAD",
		"GET, HEAD",
		"GET\t",
		"G\x80T",
		"UPDATEREDIRECTREFS",
		"GET,UPDATEREDIRECTREFS",
		/* 17 entries, one more than HTTP_MAX_METHODS */
		"A,B,C,D,E,F,G,H,I,J,K,L,M,N,O,P,Q",
	};
	struct http_limits lim, before;
	size_t i;

	http_limits_default(&lim);
	REQUIRE(http_limits_set_methods(&lim, "GET,HEAD") == 0);
	CHECK_EQ(lim.n_methods, 2);
	CHECK(!strcmp(lim.allow, "GET, HEAD"));
	before = lim;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(http_limits_set_methods(&lim, bad[i]), -1);
		CHECK(!memcmp(&lim, &before, sizeof(lim)));
		if (memcmp(&lim, &before, sizeof(lim)))
			fprintf(stderr, "  after list \"%s\"\n", bad[i]);
	}
	REQUIRE(http_limits_set_methods(&lim, "UPDATEREDIRECTREF") == 0);
	CHECK_EQ(lim.n_methods, 1);
	CHECK(!strcmp(lim.allow, "UPDATEREDIRECTREF"));
	REQUIRE(http_limits_set_methods(
			&lim, "A,B,C,D,E,F,G,H,I,J,K,L,M,N,O,POST") == 0);
	CHECK_EQ(lim.n_methods, 16);
	CHECK(!strcmp(lim.allow, "A, B, C, D, E, F, G, H, I, J, K, L, M, N, "
				 "O, POST"));
}

TEST(methods_405_lists_allowed)
{
	struct http_limits lim;
	struct http_request req;
	uint8_t out[512];
	uint32_t n;
	int ret;

	http_limits_default(&lim);
	REQUIRE(http_limits_set_methods(&lim, "GET,HEAD") == 0);
	ret = parse_lim("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
			"\r\n",
			&lim, &req);
	CHECK_EQ(ret, 405);
	ret = parse_lim("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &lim, &req);
	CHECK_EQ(ret, HTTP_OK);
	n = http_write_error(out, sizeof(out), 405, &lim, TEST_DATE);
	REQUIRE(n > 0);
	CHECK(!memcmp(out, "HTTP/1.1 405 Method Not Allowed\r\n", 33));
	CHECK(header_is(out, n, "Allow", "GET, HEAD"));
}

/*
 * Part B: the response builders.
 */

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

/*
 * Part C: http_feed, driven the way a transport drives it.
 */

struct stream {
	struct http_limits lim;
	struct http_target target;
	struct http_env env;
	struct http_conn conn;
	uint8_t *head;
	uint32_t head_cap;
	struct http_out out;
	uint32_t responses; /* counted from http_feed's reports */
	bool closed;
	bool overflow; /* pending exceeded the head buffer */
};

static const struct http_target *fixed_target(void *ctx,
					      const struct http_request *req)
{
	(void)req;
	return ctx;
}

static void stream_init(struct stream *s, enum http_corpus_limits which,
			uint32_t out_cap)
{
	memset(s, 0, sizeof(*s));
	corpus_limits(&s->lim, which);
	init_target(&s->target, TEST_URL, 302);
	s->env = (struct http_env){ .lim = &s->lim,
				    .date = TEST_DATE,
				    .resolve = fixed_target,
				    .ctx = &s->target };
	s->head_cap = http_head_cap(&s->lim);
	/* Exactly the documented capacity: ASan catches any overrun. */
	s->head = malloc(s->head_cap);
	s->out.buf = malloc(out_cap ? out_cap : 1);
	s->out.cap = out_cap;
	if (!s->head || !s->out.buf)
		abort();
}

static void stream_free(struct stream *s)
{
	free(s->head);
	free(s->out.buf);
}

/* One http_feed call, then the head buffer protocol of http.h. */
static struct http_feed stream_feed(struct stream *s, const void *data,
				    uint32_t len)
{
	struct http_feed r;

	r = http_feed(&s->conn, &s->env, s->head, data, len, &s->out);
	CHECK(r.consumed <= len && r.pending <= len - r.consumed);
	CHECK(!r.blocked || !r.pending);
	CHECK(!r.closed || !r.pending);
	s->responses += r.responses;
	if (r.responses)
		s->closed = r.closed;
	if (r.pending) {
		CHECK_EQ(s->conn.head_len, 0);
		CHECK(r.pending <= s->head_cap);
		s->conn.head_len = r.pending;
		if (r.pending > s->head_cap) {
			s->overflow = true;
			fprintf(stderr, "  pending %u > head cap %u\n",
				r.pending, s->head_cap);
			s->conn.head_len = s->head_cap;
		}
		memcpy(s->head, (const uint8_t *)data + r.consumed,
		       s->conn.head_len);
	}
	return r;
}

/* Feeds all of data in steps of `step` bytes; the output never blocks. */
static void stream_send(struct stream *s, const void *data, uint32_t len,
			uint32_t step)
{
	uint32_t pos = 0;

	while (pos < len) {
		uint32_t n = len - pos < step ? len - pos : step;
		struct http_feed r =
			stream_feed(s, (const uint8_t *)data + pos, n);

		CHECK(!r.blocked);
		CHECK_EQ(r.consumed + r.pending, n);
		if (r.blocked || r.consumed + r.pending != n)
			return;
		pos += n;
	}
}

static int stream_responses(struct stream *s, struct resp *r, int max)
{
	return read_responses(s->out.buf, s->out.len, r, max);
}

TEST(feed_pipelined_50)
{
	static struct resp r[64];
	char buf[4096], want[64];
	struct http_feed f;
	struct stream s;
	uint32_t len = 0;
	int i;

	for (i = 0; i < 50; i++)
		len += (uint32_t)snprintf(buf + len, sizeof(buf) - len,
					  "GET /r/%d?i=%d HTTP/1.1\r\n"
					  "Host: x\r\n\r\n",
					  i, i);
	stream_init(&s, HTTP_CORPUS_LIM_DEFAULT, 65536);
	f = stream_feed(&s, buf, len);
	CHECK_EQ(f.responses, 50);
	CHECK_EQ(f.consumed, len);
	CHECK_EQ(f.pending, 0);
	CHECK(!f.blocked && !f.closed);
	REQUIRE(stream_responses(&s, r, 64) == 50);
	for (i = 0; i < 50; i++) {
		snprintf(want, sizeof(want), TEST_URL "/r/%d?i=%d", i, i);
		CHECK_EQ(r[i].status, 302);
		CHECK(!strcmp(r[i].location, want));
		CHECK(!r[i].close);
		CHECK_EQ(r[i].body_len, r[i].content_length);
	}
	stream_free(&s);
}

TEST(feed_split_in_three)
{
	static const char req[] = "GET /split?a=b HTTP/1.1\r\nHost: x.test\r\n"
				  "User-Agent: t\r\n\r\n";
	const uint32_t len = sizeof(req) - 1;
	uint32_t i, j, bad = 0;

	for (i = 1; i < len; i++) {
		for (j = i + 1; j < len; j++) {
			int before = test_failures;
			struct http_feed f1, f2, f3;
			struct resp r[2];
			struct stream s;

			stream_init(&s, HTTP_CORPUS_LIM_DEFAULT, 4096);
			f1 = stream_feed(&s, req, i);
			f2 = stream_feed(&s, req + i, j - i);
			f3 = stream_feed(&s, req + j, len - j);
			CHECK_EQ(f1.responses + f2.responses, 0);
			CHECK_EQ(f1.consumed + f1.pending, i);
			CHECK_EQ(f2.consumed + f2.pending, j - i);
			CHECK_EQ(f3.responses, 1);
			CHECK_EQ(f3.consumed, len - j);
			CHECK_EQ(f3.pending, 0);
			CHECK(!f3.closed);
			CHECK(stream_responses(&s, r, 2) == 1 &&
			      !strcmp(r[0].location, TEST_URL "/split?a=b"));
			CHECK_EQ(s.conn.head_len, 0);
			stream_free(&s);
			if (test_failures != before && !bad++)
				fprintf(stderr, "  split at %u, %u\n", i, j);
		}
	}
}

/* Two pipelined requests, split anywhere in three: two answers, in order. */
TEST(feed_split_pipelined_in_three)
{
	static const char req[] = "GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
				  "HEAD /two HTTP/1.1\r\nHost: x\r\n\r\n";
	const uint32_t len = sizeof(req) - 1;
	uint32_t i, j, bad = 0;

	for (i = 1; i < len; i++) {
		for (j = i + 1; j < len; j++) {
			int before = test_failures;
			struct resp r[3];
			struct stream s;

			stream_init(&s, HTTP_CORPUS_LIM_DEFAULT, 4096);
			stream_feed(&s, req, i);
			stream_feed(&s, req + i, j - i);
			stream_feed(&s, req + j, len - j);
			CHECK_EQ(s.responses, 2);
			CHECK(stream_responses(&s, r, 3) == 2 &&
			      !strcmp(r[0].location, TEST_URL "/one") &&
			      r[0].body_len && !r[1].body_len &&
			      !strcmp(r[1].location, TEST_URL "/two"));
			stream_free(&s);
			if (test_failures != before && !bad++)
				fprintf(stderr, "  split at %u, %u\n", i, j);
		}
	}
}

TEST(feed_body_discarded)
{
	/* A body that is itself a request must not be answered. */
	static const char req[] = "POST /a HTTP/1.1\r\nHost: x\r\n"
				  "Content-Length: 28\r\n\r\n"
				  "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
				  "GET /c HTTP/1.1\r\nHost: x\r\n\r\n";
	const uint32_t len = sizeof(req) - 1;
	uint32_t step, i, bad = 0;

	for (step = 1; step <= len; step++) {
		int before = test_failures;
		struct resp r[3];
		struct stream s;

		stream_init(&s, HTTP_CORPUS_LIM_DEFAULT, 4096);
		stream_send(&s, req, len, step);
		CHECK_EQ(s.responses, 2);
		CHECK(stream_responses(&s, r, 3) == 2 &&
		      !strcmp(r[0].location, TEST_URL "/a") &&
		      !strcmp(r[1].location, TEST_URL "/c"));
		CHECK_EQ(s.conn.body_left, 0);
		stream_free(&s);
		if (test_failures != before && !bad++)
			fprintf(stderr, "  in steps of %u\n", step);
	}
	/* Split once anywhere. */
	for (i = 1; i < len; i++) {
		int before = test_failures;
		struct resp r[3];
		struct stream s;

		stream_init(&s, HTTP_CORPUS_LIM_DEFAULT, 4096);
		stream_send(&s, req, i, len);
		stream_send(&s, req + i, len - i, len);
		CHECK(stream_responses(&s, r, 3) == 2 &&
		      !strcmp(r[0].location, TEST_URL "/a") &&
		      !strcmp(r[1].location, TEST_URL "/c"));
		stream_free(&s);
		if (test_failures != before && !bad++)
			fprintf(stderr, "  split at %u\n", i);
	}
}

TEST(feed_large_body_discarded)
{
	static const char head[] = "PUT /big HTTP/1.1\r\nHost: x\r\n"
				   "Content-Length: 1048576\r\n\r\n";
	static const char next[] = "GET /after HTTP/1.1\r\nHost: x\r\n\r\n";
	uint8_t *chunk = malloc(65536);
	struct http_feed f;
	struct resp r[3];
	struct stream s;
	int i;

	REQUIRE(chunk);
	memset(chunk, 'G', 65536); /* not a request, whatever it looks like */
	stream_init(&s, HTTP_CORPUS_LIM_DEFAULT, 4096);
	stream_send(&s, head, sizeof(head) - 1, 4096);
	CHECK_EQ(s.responses, 1);
	CHECK_EQ(s.conn.body_left, 1048576);
	for (i = 0; i < 16; i++) {
		f = stream_feed(&s, chunk, 65536);
		CHECK_EQ(f.consumed, 65536);
		CHECK_EQ(f.responses, 0);
	}
	CHECK_EQ(s.conn.body_left, 0);
	stream_send(&s, next, sizeof(next) - 1, 4096);
	CHECK(stream_responses(&s, r, 3) == 2 &&
	      !strcmp(r[1].location, TEST_URL "/after"));
	stream_free(&s);
	free(chunk);
}

TEST(feed_close_drops_rest)
{
	static const char *const closing[] = {
		"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /a HTTP/1.0\r\n\r\n",
		"PUT /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
		"Content-Length: 3\r\n\r\n",
		"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
		"\r\n",
	};
	static const char more[] = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
				   "\x16\x03\x01garbage\0\r\n\r\n";
	size_t i;

	for (i = 0; i < sizeof(closing) / sizeof(closing[0]); i++) {
		char buf[512];
		uint32_t len = (uint32_t)snprintf(buf, sizeof(buf), "%s%s",
						  closing[i], "abc");
		int before = test_failures;
		struct http_feed f;
		struct resp r[3];
		struct stream s;

		REQUIRE(len + sizeof(more) - 1 <= sizeof(buf));
		memcpy(buf + len, more, sizeof(more) - 1);
		len += sizeof(more) - 1;
		stream_init(&s, HTTP_CORPUS_LIM_DEFAULT, 4096);
		f = stream_feed(&s, buf, len);
		CHECK_EQ(f.responses, 1);
		CHECK(f.closed);
		CHECK_EQ(f.consumed, len);
		CHECK_EQ(f.pending, 0);
		f = stream_feed(&s, more, sizeof(more) - 1);
		CHECK_EQ(f.responses, 0);
		CHECK_EQ(f.consumed, sizeof(more) - 1);
		CHECK(stream_responses(&s, r, 3) == 1 && r[0].close &&
		      !strcmp(r[0].location, TEST_URL "/a"));
		stream_free(&s);
		if (test_failures != before)
			fprintf(stderr, "  for %s\n", closing[i]);
	}
}

TEST(feed_error_answers_once)
{
	static const char garbage[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc"
				      "\x03\x03 GET / HTTP/1.1\r\n\r\n";
	static const char mid[] =
		"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
		"GET /b HTTP/1.1\r\nHost: x\r\nBad\0: x\r\n\r\n"
		"GET /c HTTP/1.1\r\nHost: x\r\n\r\n";
	const uint32_t glen = sizeof(garbage) - 1;
	struct http_feed f;
	struct resp r[4];
	struct stream s;
	uint32_t i;

	stream_init(&s, HTTP_CORPUS_LIM_DEFAULT, 4096);
	f = stream_feed(&s, garbage, glen);
	CHECK_EQ(f.responses, 1);
	CHECK(f.closed);
	CHECK_EQ(f.consumed, glen);
	f = stream_feed(&s, garbage, glen);
	CHECK_EQ(f.responses, 0);
	CHECK_EQ(f.consumed, glen);
	CHECK(stream_responses(&s, r, 4) == 1 && r[0].status == 400 &&
	      r[0].close);
	stream_free(&s);

	/* Dribbled: still one answer. */
	stream_init(&s, HTTP_CORPUS_LIM_DEFAULT, 4096);
	for (i = 0; i < glen; i++)
		stream_feed(&s, garbage + i, 1);
	for (i = 0; i < glen; i++)
		stream_feed(&s, garbage + i, 1);
	CHECK_EQ(s.responses, 1);
	CHECK(stream_responses(&s, r, 4) == 1 && r[0].status == 400);
	stream_free(&s);

	/* An error in the middle of a pipeline ends it. */
	stream_init(&s, HTTP_CORPUS_LIM_DEFAULT, 4096);
	f = stream_feed(&s, mid, sizeof(mid) - 1);
	CHECK_EQ(f.responses, 2);
	CHECK(f.closed);
	CHECK_EQ(f.consumed, sizeof(mid) - 1);
	CHECK(stream_responses(&s, r, 4) == 2 && r[0].status == 302 &&
	      !r[0].close && r[1].status == 400 && r[1].close);
	stream_free(&s);
}

/* Feeds entry e in steps; checks the answers against the corpus. */
static void feed_corpus_entry(const struct http_corpus_entry *e, uint32_t step)
{
	uint32_t want_responses = 0;
	int before = test_failures, n;
	struct resp r[4];
	struct stream s;

	stream_init(&s, e->limits, 65536);
	if (step == 1 && e->len > DRIBBLE_BYTE_LIMIT) {
		/* One byte at a time where it matters, then 61-byte steps. */
		stream_send(&s, e->raw, DRIBBLE_BYTE_LIMIT, 1);
		stream_send(&s, e->raw + DRIBBLE_BYTE_LIMIT,
			    e->len - DRIBBLE_BYTE_LIMIT, 61);
	} else {
		stream_send(&s, e->raw, e->len, step);
	}
	if (e->expect == HTTP_OK) {
		/* A tail longer than the body is a pipelined request. */
		want_responses = 1 + (!(e->flags & HTTP_REQ_CLOSE) &&
				      e->tail > e->content_length);
	} else if (e->expect != HTTP_INCOMPLETE) {
		want_responses = 1;
	}
	CHECK_EQ(s.responses, want_responses);
	CHECK(!s.overflow);
	n = stream_responses(&s, r, 4);
	CHECK_EQ(n, (int)want_responses);
	if (n >= 1 && e->expect == HTTP_OK) {
		char want[20000];

		snprintf(want, sizeof(want), "%s%s", TEST_URL, e->location);
		if (e->flags & HTTP_REQ_V2_PING) {
			CHECK_EQ(r[0].status, 200);
			CHECK(r[0].v2_api_header);
			CHECK_EQ(r[0].content_length, 2); /* "{}" */
		} else {
			CHECK_EQ(r[0].status, 302);
			CHECK(!strcmp(r[0].location, want) ||
			      strlen(want) >= sizeof(r[0].location));
			CHECK_EQ(!r[0].body_len, !!(e->flags & HTTP_REQ_HEAD));
		}
		CHECK_EQ(r[0].close, !e->keeps_open);
		CHECK_EQ(s.closed, !e->keeps_open);
	} else if (n >= 1) {
		CHECK_EQ(r[0].status, e->expect);
		CHECK(r[0].close && s.closed);
	} else if (e->expect == HTTP_INCOMPLETE) {
		CHECK_EQ(s.conn.head_len, e->len);
	}
	if (test_failures != before)
		fprintf(stderr,
			"  in corpus entry %s fed in steps of %u: %u responses,"
			" first status %d\n",
			e->name, step, s.responses, n > 0 ? r[0].status : 0);
	stream_free(&s);
}

TEST(feed_corpus_whole)
{
	size_t i;

	for (i = 0; i < HTTP_CORPUS_LEN; i++)
		feed_corpus_entry(&http_corpus[i], UINT32_MAX);
}

TEST(feed_corpus_dribbled)
{
	size_t i;

	for (i = 0; i < HTTP_CORPUS_LEN; i++)
		feed_corpus_entry(&http_corpus[i], 1);
}

TEST(feed_corpus_in_steps_of_7)
{
	size_t i;

	for (i = 0; i < HTTP_CORPUS_LEN; i++)
		feed_corpus_entry(&http_corpus[i], 7);
}

TEST(feed_dribble_one_byte)
{
	static const char req[] = "GET /drip HTTP/1.1\r\nHost: x\r\n"
				  "Accept: */*\r\n\r\n";
	const uint32_t len = sizeof(req) - 1;
	struct resp r[2];
	struct stream s;
	uint32_t i;

	stream_init(&s, HTTP_CORPUS_LIM_DEFAULT, 4096);
	for (i = 0; i < len; i++) {
		struct http_feed f = stream_feed(&s, req + i, 1);

		CHECK_EQ(f.consumed + f.pending, 1);
		CHECK_EQ(f.responses, i == len - 1);
		CHECK_EQ(s.conn.head_len, i == len - 1 ? 0 : i + 1);
	}
	CHECK(stream_responses(&s, r, 2) == 1 &&
	      !strcmp(r[0].location, TEST_URL "/drip"));
	stream_free(&s);
}

/* Dribbles data (steps of step bytes); expects exactly one error status. */
static void check_dribbled_error(const char *what, const uint8_t *data,
				 uint32_t len, uint32_t step, int status)
{
	int before = test_failures;
	struct resp r[2];
	struct stream s;

	stream_init(&s, HTTP_CORPUS_LIM_DEFAULT, 4096);
	stream_send(&s, data, len, step);
	CHECK_EQ(s.responses, 1);
	CHECK(s.closed);
	CHECK(!s.overflow);
	CHECK(stream_responses(&s, r, 2) == 1 && r[0].status == status &&
	      r[0].close);
	stream_free(&s);
	if (test_failures != before)
		fprintf(stderr, "  for %s in steps of %u\n", what, step);
}

TEST(feed_dribble_over_limits)
{
	const uint32_t size = 40000;
	uint8_t *buf = malloc(size);
	uint32_t n;

	REQUIRE(buf);
	/* A request line that never ends. */
	memset(buf, 'a', size);
	memcpy(buf, "GET /", 5);
	check_dribbled_error("endless request line", buf, size, 1, 414);
	check_dribbled_error("endless request line", buf, size, 1000, 414);

	/* A header section that never ends: one long field. */
	n = (uint32_t)snprintf((char *)buf, size,
			       "GET / HTTP/1.1\r\nHost: x\r\nX-Long: ");
	memset(buf + n, 'b', size - n);
	check_dribbled_error("endless field", buf, size, 1, 431);
	check_dribbled_error("endless field", buf, size, 333, 431);

	/* Many short fields. */
	n = (uint32_t)snprintf((char *)buf, size,
			       "GET / HTTP/1.1\r\nHost: x\r\n");
	while (n + 8 < size) {
		memcpy(buf + n, "X: 1\r\n", 6);
		n += 6;
	}
	check_dribbled_error("too many fields", buf, n, 1, 431);
	check_dribbled_error("too many fields", buf, n, 5, 431);

	/* Long fields, each within limits, too many bytes together. */
	n = (uint32_t)snprintf((char *)buf, size,
			       "GET / HTTP/1.1\r\nHost: x\r\n");
	while (n + 1100 < size) {
		memcpy(buf + n, "X: ", 3);
		memset(buf + n + 3, 'c', 1000);
		memcpy(buf + n + 1003, "\r\n", 2);
		n += 1005;
	}
	check_dribbled_error("long header section", buf, n, 1, 431);
	check_dribbled_error("long header section", buf, n, 4096, 431);
	free(buf);
}

/* A head at both limits is valid, however the transport splits it. */
TEST(feed_head_at_limits_split)
{
	const struct http_corpus_entry *e = NULL;
	uint32_t cuts[] = { 100, 8190, 8193, 12000, 24000, 24577 };
	size_t i;

	for (i = 0; i < HTTP_CORPUS_LEN; i++)
		if (!strcmp(http_corpus[i].name,
			    "request_line_and_header_section_at_limits"))
			e = &http_corpus[i];
	REQUIRE(e && e->len == 8192 + 2 + 16384 + 2);
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		int before = test_failures, n;
		struct resp r[2];
		struct stream s;

		stream_init(&s, HTTP_CORPUS_LIM_DEFAULT, 32768);
		stream_send(&s, e->raw, cuts[i], e->len);
		stream_send(&s, e->raw + cuts[i], e->len - cuts[i], e->len);
		CHECK_EQ(s.responses, 1);
		CHECK(!s.overflow);
		n = stream_responses(&s, r, 2);
		CHECK(n == 1 && r[0].status == 302);
		if (test_failures != before)
			fprintf(stderr,
				"  cut at %u: %d responses, status %d\n",
				cuts[i], n, n > 0 ? r[0].status : 0);
		stream_free(&s);
	}
}

/* A partial head handed to the transport always fits the head buffer. */
TEST(feed_pending_fits_head_buffer)
{
	static const char crlfs[] = "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";
	const struct http_corpus_entry *e = NULL;
	static uint8_t buf[65536];
	struct http_feed f;
	struct stream s;
	size_t i;

	for (i = 0; i < HTTP_CORPUS_LEN; i++)
		if (!strcmp(http_corpus[i].name,
			    "request_line_and_header_section_at_limits"))
			e = &http_corpus[i];
	REQUIRE(e);
	/* The whole head but its final CRLF. */
	stream_init(&s, HTTP_CORPUS_LIM_DEFAULT, 32768);
	f = stream_feed(&s, e->raw, e->len - 2);
	CHECK_EQ(f.responses, 0);
	CHECK(f.pending <= s.head_cap);
	stream_free(&s);

	/* Empty lines before the request line add to it. */
	memcpy(buf, crlfs, sizeof(crlfs) - 1);
	memcpy(buf + sizeof(crlfs) - 1, e->raw, e->len - 2);
	stream_init(&s, HTTP_CORPUS_LIM_DEFAULT, 32768);
	f = stream_feed(&s, buf, (uint32_t)(sizeof(crlfs) - 1 + e->len - 2));
	CHECK(f.responses == 1 || f.pending <= s.head_cap);
	stream_free(&s);
}

TEST(feed_blocked_on_output)
{
	static const char one[] = "GET /p0 HTTP/1.1\r\nHost: x\r\n\r\n";
	const uint32_t rlen = sizeof(one) - 1;
	char buf[512], want[64];
	uint32_t len = 0, resp_len, pos = 0, got = 0;
	struct resp r[8];
	struct stream s;
	int i, rounds = 0;

	for (i = 0; i < 5; i++)
		len += (uint32_t)snprintf(
			buf + len, sizeof(buf) - len,
			"GET /p%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
	/* The size of one response, from an unconstrained stream. */
	stream_init(&s, HTTP_CORPUS_LIM_DEFAULT, 4096);
	stream_send(&s, one, rlen, rlen);
	resp_len = s.out.len;
	stream_free(&s);
	REQUIRE(resp_len > 0);

	/* Room for two and a half responses at a time. */
	stream_init(&s, HTTP_CORPUS_LIM_DEFAULT, resp_len * 5 / 2);
	while (pos < len && rounds++ < 10) {
		struct http_feed f = stream_feed(&s, buf + pos, len - pos);
		int n = stream_responses(&s, r, 8), k;

		if (pos == 0) {
			CHECK_EQ(f.responses, 2);
			CHECK(f.blocked);
			CHECK_EQ(f.consumed, 2 * rlen);
			CHECK_EQ(f.pending, 0);
		}
		CHECK_EQ(n, f.responses);
		for (k = 0; k < n; k++) {
			snprintf(want, sizeof(want), TEST_URL "/p%u", got++);
			CHECK(!strcmp(r[k].location, want));
		}
		pos += f.consumed;
		s.out.len = 0; /* the transport sent it */
	}
	CHECK_EQ(got, 5);
	CHECK_EQ(pos, len);
	stream_free(&s);
}

TEST(feed_blocked_on_buffered_head)
{
	static const char req[] = "GET /late HTTP/1.1\r\nHost: x\r\n\r\n";
	const uint32_t cut = 10, len = sizeof(req) - 1;
	struct http_feed f;
	struct resp r[2];
	struct stream s;
	uint32_t cap;

	stream_init(&s, HTTP_CORPUS_LIM_DEFAULT, 4096);
	cap = s.out.cap;
	f = stream_feed(&s, req, cut);
	CHECK_EQ(f.pending, cut);
	s.out.cap = 20; /* no room for the answer */
	f = stream_feed(&s, req + cut, len - cut);
	CHECK(f.blocked);
	CHECK_EQ(f.responses, 0);
	CHECK_EQ(f.consumed, 0);
	CHECK_EQ(s.out.len, 0);
	CHECK_EQ(s.conn.head_len, cut);
	s.out.cap = cap;
	f = stream_feed(&s, req + cut, len - cut);
	CHECK(!f.blocked);
	CHECK_EQ(f.responses, 1);
	CHECK_EQ(f.consumed, len - cut);
	CHECK(stream_responses(&s, r, 2) == 1 &&
	      !strcmp(r[0].location, TEST_URL "/late"));
	stream_free(&s);
}

TEST(feed_blocked_on_error)
{
	static const char bad[] = "GET / HTTP/1.1\r\nHost: a b\r\n\r\n";
	struct http_feed f;
	struct resp r[2];
	struct stream s;

	stream_init(&s, HTTP_CORPUS_LIM_DEFAULT, 4096);
	s.out.cap = 40;
	f = stream_feed(&s, bad, sizeof(bad) - 1);
	CHECK(f.blocked);
	CHECK_EQ(f.responses, 0);
	CHECK_EQ(f.consumed, 0);
	CHECK(!s.conn.closing);
	s.out.cap = 4096;
	f = stream_feed(&s, bad, sizeof(bad) - 1);
	CHECK_EQ(f.responses, 1);
	CHECK(f.closed);
	CHECK(stream_responses(&s, r, 2) == 1 && r[0].status == 400);
	stream_free(&s);
}

TEST(feed_v2_ping)
{
	static const char req[] = "GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n"
				  "HEAD /v2 HTTP/1.1\r\nHost: x\r\n\r\n"
				  "GET /v2/x HTTP/1.1\r\nHost: x\r\n"
				  "Connection: close\r\n\r\n";
	struct resp r[4];
	struct stream s;

	stream_init(&s, HTTP_CORPUS_LIM_V2_PING, 4096);
	stream_send(&s, req, sizeof(req) - 1, 4096);
	REQUIRE(stream_responses(&s, r, 4) == 3);
	CHECK(r[0].status == 200 && r[0].v2_api_header &&
	      r[0].content_length == 2 && !r[0].close && !r[0].location[0]);
	CHECK(r[1].status == 200 && r[1].v2_api_header && !r[1].close);
	CHECK(r[2].status == 302 && r[2].close &&
	      !strcmp(r[2].location, TEST_URL "/v2/x"));
	CHECK(header_is(s.out.buf, s.out.len, "Docker-Distribution-Api-Version",
			"registry/2.0"));
	stream_free(&s);
}

/*
 * Bytes that make a buffered partial head invalid are refused when they
 * arrive, with the status the parser gives the whole, not held until a
 * line end that may never come.
 */
TEST(feed_refuses_invalid_bytes_after_valid_prefix)
{
	static const struct {
		const char *first;
		const char *second;
		uint32_t second_len;
	} cases[] = {
		{ "GET /", "\x16\x03\x01\x02\x00", 5 },
		{ "G", "ET /a\0b", 7 },
		{ "GE", "TTTTTTTTTTTTTTTTTTTTTTTT", 24 },
		{ "GET / HTTP/1.1\r\n", "Host : x", 8 },
		{ "GET / HTTP/1.1\r\nHost: x\r\n", "X-A: \x01", 6 },
		{ "GET / HTTP/1.1\r\nHost: x\r\n", "\rX", 2 },
		{ "GET / HTTP/2", ".0", 2 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t flen = (uint32_t)strlen(cases[i].first);
		int before = test_failures, want, n;
		struct http_request req;
		struct http_feed f;
		uint8_t whole[128];
		struct resp r[2];
		struct stream s;

		memcpy(whole, cases[i].first, flen);
		memcpy(whole + flen, cases[i].second, cases[i].second_len);
		stream_init(&s, HTTP_CORPUS_LIM_DEFAULT, 4096);
		want = http_parse_head(whole, flen + cases[i].second_len,
				       &s.lim, &req);
		CHECK(want >= 400);
		f = stream_feed(&s, cases[i].first, flen);
		CHECK_EQ(f.pending, flen);
		f = stream_feed(&s, cases[i].second, cases[i].second_len);
		CHECK_EQ(f.responses, 1);
		CHECK(f.closed);
		n = stream_responses(&s, r, 2);
		CHECK(n == 1 && r[0].status == want);
		if (test_failures != before)
			fprintf(stderr,
				"  case %zu: want %d, got %d responses\n", i,
				want, n);
		stream_free(&s);
	}
}

/* The empty line before a request may be split anywhere, too. */
TEST(feed_leading_crlf_split)
{
	static const char req[] = "\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n";
	struct resp r[2];
	struct stream s;

	stream_init(&s, HTTP_CORPUS_LIM_DEFAULT, 4096);
	stream_send(&s, req, 1, 1);
	stream_send(&s, req + 1, sizeof(req) - 2, 4096);
	CHECK_EQ(s.responses, 1);
	CHECK(stream_responses(&s, r, 2) == 1 && r[0].status == 302 &&
	      !strcmp(r[0].location, TEST_URL "/x"));
	stream_free(&s);

	/* After a body, on a kept-alive connection. */
	stream_init(&s, HTTP_CORPUS_LIM_DEFAULT, 4096);
	stream_send(&s,
		    "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n"
		    "ab\r",
		    51, 4096);
	stream_send(&s, req + 1, sizeof(req) - 2, 4096);
	CHECK_EQ(s.responses, 2);
	CHECK(stream_responses(&s, r, 2) == 2 && r[1].status == 302 &&
	      !strcmp(r[1].location, TEST_URL "/x"));
	stream_free(&s);
}

/* RFC 9110, 9.3.2: a response to HEAD has no content, errors included. */
TEST(head_error_responses_have_no_body)
{
	static const char *const reqs[] = {
		"HEAD / HTTP/1.1\r\n\r\n", /* 400: no Host */
		"HEAD / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n",
		"HEAD / HTTP/1.1\r\nHost: x\r\nExpect: foo\r\n\r\n",
	};
	static const char url[] = "https://k8s.gcr.io";
	struct http_target t;
	struct http_limits lim;
	uint8_t out[4096];
	size_t i;

	http_limits_default(&lim);
	http_target_init(&t, url, sizeof(url) - 1, 302);
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		struct http_conn conn = { 0 };
		struct http_out o = { out, sizeof(out), 0 };
		struct http_env env = { .lim = &lim,
					.date = TEST_DATE,
					.ctx = &t };
		struct http_feed r;
		const char *end;

		r = http_feed(&conn, &env, NULL, (const uint8_t *)reqs[i],
			      (uint32_t)strlen(reqs[i]), &o);
		CHECK_EQ(r.responses, 1);
		CHECK(r.closed);
		end = memmem(out, o.len, "\r\n\r\n", 4);
		REQUIRE(end != NULL);
		/* Headers end the response: Content-Length but no body. */
		CHECK_EQ((const uint8_t *)end + 4 - out, o.len);
		CHECK(memmem(out, o.len, "Content-Length: ", 16) != NULL);
	}
}
