// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the request-head parser (http_parse.h) against the corpus
 * in http_corpus.h: every entry, its prefixes, the bytes after it; the
 * request's fields, configured limits and method lists.
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

static uint32_t head_len_of(const struct http_corpus_entry *e)
{
	return e->len - e->tail;
}

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
