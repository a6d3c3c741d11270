/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the HTTP unit tests share: the corpus limits, a parse of a plain
 * string, a target, and a reader of the responses a builder or http_feed
 * wrote.
 */
#ifndef XREDIR_HTTP_TEST_H
#define XREDIR_HTTP_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "http_corpus.h"

#define TEST_DATE "Sun, 06 Nov 1994 08:49:37 GMT"
#define TEST_URL "http://t.test"

static inline void corpus_limits(struct http_limits *lim,
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

/* Parses a NUL-free string with the default limits. */
static inline int parse_str(const char *s, struct http_request *req)
{
	struct http_limits lim;

	http_limits_default(&lim);
	return http_parse_head((const uint8_t *)s, strlen(s), &lim, req);
}

/*
 * Whether two parses of the same bytes filled a request alike: every field
 * the strict parser sets on HTTP_OK (spans by position, not content).
 */
static inline bool http_req_same(const struct http_request *a,
				 const struct http_request *b)
{
	uint8_t i;

	if (a->method.p != b->method.p || a->method.len != b->method.len ||
	    a->path.p != b->path.p || a->path.len != b->path.len ||
	    a->path_slash != b->path_slash ||
	    a->path_escapes != b->path_escapes ||
	    a->path_html != b->path_html || a->minor != b->minor ||
	    a->flags != b->flags || a->content_length != b->content_length ||
	    a->n_forwarded_for != b->n_forwarded_for ||
	    a->n_real_ip != b->n_real_ip || a->head_len != b->head_len ||
	    a->limit_at != b->limit_at)
		return false;
	for (i = 0; i < a->n_forwarded_for && i < HTTP_MAX_XFF; i++)
		if (a->forwarded_for[i].p != b->forwarded_for[i].p ||
		    a->forwarded_for[i].len != b->forwarded_for[i].len)
			return false;
	return !a->n_real_ip || (a->real_ip.p == b->real_ip.p &&
				 a->real_ip.len == b->real_ip.len);
}

static inline void init_target(struct http_target *t, const char *url,
			       int status)
{
	if (http_target_init(t, url, strlen(url), status))
		abort();
}

/* Finds "\r\nName: " in the head of a response; returns the value. */
static inline bool find_header(const uint8_t *resp, uint32_t len,
			       const char *name, const uint8_t **value,
			       uint32_t *vlen)
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
static inline bool header_is(const uint8_t *resp, uint32_t len,
			     const char *name, const char *want)
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
static inline int read_responses(const uint8_t *buf, uint32_t len,
				 struct resp *r, int max)
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

#endif /* XREDIR_HTTP_TEST_H */
