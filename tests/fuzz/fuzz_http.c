// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: the HTTP request path (http_feed, so the parser,
 * body handling, partial heads and the response builders) fed the input
 * split at fuzzer-chosen points, as a transport would. Checks what every
 * output must satisfy whatever the input: whole responses, a Location
 * without control bytes, nothing after a response that closed.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static const char url[] = "https://k8s.gcr.io/prefix";
static struct http_target target;
static struct http_limits lim;
static uint8_t head[HTTP_MAX_LEADING + 8192 + 2 + 16384 + 2];
static uint8_t out_buf[1 << 17];

static const struct http_target *resolve(void *ctx,
					 const struct http_request *req)
{
	(void)ctx;
	(void)req;
	return &target;
}

/* As the access log does: read the method and path of every answer, so
 * the sanitizers see a span that does not point into the input. */
static volatile uint8_t span_sum;

static void on_response(void *ctx, const struct http_request *req, int status)
{
	uint32_t i;

	(void)ctx;
	(void)status;
	for (i = 0; i < req->method.len; i++)
		span_sum += req->method.p[i];
	for (i = 0; i < req->path.len; i++)
		span_sum += req->path.p[i];
}

/* Each response: status line, headers, empty line, Content-Length body. */
static void check_output(const uint8_t *o, uint32_t len, uint32_t responses,
			 bool closed)
{
	uint32_t pos = 0, seen = 0;

	while (pos < len) {
		const char *end = memmem(o + pos, len - pos, "\r\n\r\n", 4);
		const char *cl, *loc;
		uint32_t hlen, body;

		assert(!memcmp(o + pos, "HTTP/1.1 ", 9));
		assert(end);
		hlen = (uint32_t)(end - (const char *)o) - pos + 4;
		cl = memmem(o + pos, hlen, "Content-Length: ", 16);
		assert(cl);
		body = (uint32_t)strtoul(cl + 16, NULL, 10);
		loc = memmem(o + pos, hlen, "\r\nLocation: ", 12);
		if (loc) {
			const char *eol = memmem(loc + 2, hlen, "\r\n", 2);
			const char *c;

			for (c = loc + 12; c < eol; c++)
				assert((uint8_t)*c > 0x20 &&
				       (uint8_t)*c < 0x7f);
		}
		/* A HEAD response has the length but no body; our bodies
		 * never start like a status line, so the next one tells. */
		pos += hlen;
		if (pos + 9 <= len && !memcmp(o + pos, "HTTP/1.1 ", 9))
			body = 0;
		if (pos == len)
			body = 0;
		assert(pos + body <= len);
		pos += body;
		seen++;
	}
	assert(seen == responses || closed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_env env = { .lim = &lim,
				.date = "Sun, 06 Nov 1994 08:49:37 GMT",
				.resolve = resolve,
				.on_response = on_response };
	struct http_out out = { out_buf, sizeof(out_buf), 0 };
	struct http_conn conn;
	uint32_t responses = 0, pos = 0;
	bool closed = false;
	uint8_t split;

	if (!target.url) {
		http_limits_default(&lim);
		lim.registry_v2_ping = true;
		http_target_init(&target, url, sizeof(url) - 1, 302);
	}
	if (size < 1)
		return 0;
	split = data[0];
	data++;
	size--;
	memset(&conn, 0, sizeof(conn));
	while (pos < size) {
		uint32_t chunk =
			split ? 1u + (uint32_t)((pos * 7 + split) % split) :
				(uint32_t)(size - pos);
		struct http_feed r;

		if (chunk > size - pos)
			chunk = (uint32_t)(size - pos);
		r = http_feed(&conn, &env, head, data + pos, chunk, &out);
		assert(!r.blocked);
		assert(r.consumed + r.pending <= chunk);
		assert(!closed || !r.responses); /* nothing after a close */
		responses += r.responses;
		closed = closed || r.closed;
		if (r.pending) {
			assert(r.pending <= sizeof(head));
			memcpy(head, data + pos + r.consumed, r.pending);
			conn.head_len = r.pending;
		}
		assert(conn.head_len <= http_head_cap(&lim));
		pos += r.consumed + r.pending;
		assert(r.consumed + r.pending == chunk);
	}
	check_output(out_buf, out.len, responses, closed);
	return 0;
}
