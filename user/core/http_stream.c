// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The per-connection stream logic: requests parsed from in-order bytes,
 * answered in order while the output has room, bodies discarded, and a
 * partial head handed back to the transport to hold.
 */
#include <string.h>

#include "http_fast.h"
#include "http_stream.h"

#define STATUS_FIRST 200
#define STATUS_LAST 505
/* Slot + 1 by status - STATUS_FIRST, 0: not counted. A table, not a
 * switch: one load per response instead of a compare tree. A status added
 * to HTTP_STATUSES outside the range does not compile. */
#define HTTP_STATUS_ENTRY(code) [code - STATUS_FIRST] = HTTP_STATUS_##code + 1,
static const uint8_t status_slots[STATUS_LAST - STATUS_FIRST + 1] = {
	HTTP_STATUSES(HTTP_STATUS_ENTRY)
};

static int status_slot(int status)
{
	if (status < STATUS_FIRST || status > STATUS_LAST)
		return -1;
	return status_slots[status - STATUS_FIRST] - 1;
}

static void count(const struct http_env *env, int status)
{
	int slot = status_slot(status);

	if (env->responses && slot >= 0)
		env->responses[slot]++;
}

/*
 * Answers one parsed request into out. Returns the status sent, or 0 if
 * out lacks room (out is then unchanged).
 */
static int respond(const struct http_env *env, const struct http_request *req,
		   bool keep_alive, struct http_out *out)
{
	uint32_t room = out->cap - out->len, n;
	const struct http_target *t;

	if (req->flags & HTTP_REQ_V2_PING) {
		n = http_write_v2_ping(out->buf + out->len, room, keep_alive,
				       req->flags & HTTP_REQ_HEAD, env->date);
		if (!n)
			return 0;
		out->len += n;
		return 200;
	}
	t = env->resolve(env->ctx, req);
	n = http_write_redirect(out->buf + out->len, room, t, req, keep_alive,
				env->date);
	if (!n)
		return 0;
	out->len += n;
	return t->status;
}

/* Applies the outcome of one parsed head; false when blocked on room. */
static bool answer(struct http_conn *conn, const struct http_env *env,
		   const struct http_request *req, int status,
		   struct http_feed *r, struct http_out *out)
{
	bool keep_alive;
	uint32_t n;

	if (status != HTTP_OK) {
		/* req->method is set once the request line got that far. */
		n = http_write_error_for(out->buf + out->len,
					 out->cap - out->len, status, env->lim,
					 env->date,
					 http_method_is(&req->method, "HEAD"));
		if (!n)
			return false;
		out->len += n;
		conn->closing = 1;
	} else {
		keep_alive = !(req->flags & HTTP_REQ_CLOSE) && !env->close_all;
		status = respond(env, req, keep_alive, out);
		if (!status)
			return false;
		if (keep_alive)
			conn->body_left = req->content_length;
		else
			conn->closing = 1;
	}
	count(env, status);
	if (env->on_response)
		env->on_response(env->ctx, req, status);
	r->responses++;
	r->closed = conn->closing;
	return true;
}

/* Bytes that are never valid in a request head (CTLs other than HT, CR,
 * LF, and DEL): their arrival is an error whatever comes next. */
static bool has_forbidden(const uint8_t *p, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\r' &&
		     p[i] != '\n') ||
		    p[i] == 0x7f)
			return true;
	return false;
}

#define REPARSE_SMALL 512 /* a head this short is cheap to parse again */

/*
 * Whether appending n bytes to a partial head of old bytes calls for
 * parsing it again from the start. Parsing on every segment would cost
 * O(n^2) for a head sent a byte at a time; parsing only when a line
 * starts or completes bounds it to two parses per line (of at most
 * max_fields + 2 lines),
 * while short heads, forbidden bytes and limits are caught at once.
 */
static bool must_reparse(const struct http_conn *conn, const uint8_t *head,
			 uint32_t old, uint32_t n)
{
	return old + n <= REPARSE_SMALL || old + n >= conn->limit_at ||
	       head[old - 1] == '\n' || memchr(head + old, '\n', n) ||
	       has_forbidden(head + old, n);
}

/*
 * A partial head is buffered: append what fits of data and parse again.
 * Returns how many bytes of data were used, or -1 when blocked.
 */
static long feed_buffered(struct http_conn *conn, const struct http_env *env,
			  uint8_t *head, const uint8_t *data, uint32_t len,
			  struct http_feed *r, struct http_out *out)
{
	uint32_t cap = http_head_cap(env->lim), old = conn->head_len;
	uint32_t n = old < cap ? cap - old : 0;
	struct http_request req;
	int status;

	if (n > len)
		n = len;
	memcpy(head + old, data, n);
	if (!must_reparse(conn, head, old, n)) {
		conn->head_len = old + n;
		return n;
	}
	status = http_parse(head, old + n, env->lim, &req);
	if (status == HTTP_INCOMPLETE) {
		if (old + n < cap) {
			conn->head_len = old + n;
			conn->limit_at = req.limit_at;
			return n;
		}
		status = 431; /* cannot happen within the limits */
	}
	if (!answer(conn, env, &req, status, r, out))
		return -1;
	conn->head_len = 0;
	return status == HTTP_OK ? (long)(req.head_len - old) : len;
}

struct http_feed http_feed(struct http_conn *conn, const struct http_env *env,
			   uint8_t *head, const uint8_t *data, uint32_t len,
			   struct http_out *out)
{
	struct http_feed r = { 0 };
	struct http_request req;
	uint32_t pos = 0;
	int status;
	long used;

	while (pos < len) {
		if (conn->closing) {
			pos = len; /* lingering: input is read and dropped */
			break;
		}
		if (conn->body_left) {
			uint32_t n = len - pos;

			if (n > conn->body_left)
				n = (uint32_t)conn->body_left;
			conn->body_left -= n;
			pos += n;
			continue;
		}
		if (conn->head_len) {
			used = feed_buffered(conn, env, head, data + pos,
					     len - pos, &r, out);
			if (used < 0) {
				r.blocked = true;
				break;
			}
			pos += (uint32_t)used;
			continue;
		}
		status = http_parse(data + pos, len - pos, env->lim, &req);
		if (status == HTTP_INCOMPLETE &&
		    len - pos <= http_head_cap(env->lim)) {
			r.pending = len - pos;
			conn->limit_at = req.limit_at;
			break;
		}
		if (status == HTTP_INCOMPLETE)
			status = 431; /* cannot happen within the limits */
		if (!answer(conn, env, &req, status, &r, out)) {
			r.blocked = true;
			break;
		}
		pos += status == HTTP_OK ? req.head_len : len - pos;
	}
	r.consumed = pos;
	return r;
}

uint32_t http_keep_pending(struct http_conn *conn, uint8_t *head,
			   const uint8_t *pending, uint32_t len)
{
	if (!head)
		return 0;
	memcpy(head, pending, len);
	conn->head_len = len;
	return len;
}
