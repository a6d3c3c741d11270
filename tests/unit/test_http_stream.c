// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of http_feed (http_stream.h), driven the way a transport
 * drives it: pipelining, partial heads split anywhere, body discard,
 * blocking on output room, and the corpus fed in steps.
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

/* Bytes past this many in a corpus entry are dribbled in larger steps. */
#define DRIBBLE_BYTE_LIMIT 4096

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
