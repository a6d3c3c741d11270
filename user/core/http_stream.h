/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The per-connection HTTP stream logic shared by every transport:
 * pipelining, partial heads, body discard, and stopping when the output
 * has no room. Pure code over buffers: no sockets, no allocation.
 */
#ifndef XREDIR_HTTP_STREAM_H
#define XREDIR_HTTP_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "http_parse.h"
#include "http_response.h"

/* Per-connection stream state; zero-initialised at connection start. */
struct http_conn {
	uint32_t head_len; /* bytes of a partial head held by the transport */
	uint32_t limit_at; /* head length at which to check the limits again */
	uint64_t body_left; /* body bytes still to discard */
	uint8_t closing; /* a response closed the connection: drop input */
	uint8_t pad[7];
};

/* Where responses go: a contiguous buffer with room for cap bytes. */
struct http_out {
	uint8_t *buf;
	uint32_t cap;
	uint32_t len;
};

/* Chooses the target for a request (rules, trusted proxy headers). */
typedef const struct http_target *(*http_resolve_fn)(
	void *ctx, const struct http_request *req);

struct http_env {
	const struct http_limits *lim;
	const char *date; /* HTTP_DATE_LEN bytes, refreshed once a second */
	http_resolve_fn resolve;
	void *ctx;
	uint64_t *responses; /* per status slot, NULL: not counted */
	bool close_all; /* shutting down: every response closes */
	/* Called after each response when set (an access log). */
	void (*on_response)(void *ctx, const struct http_request *req,
			    int status);
};

struct http_feed {
	uint32_t consumed; /* bytes of data processed (answered or discarded) */
	uint32_t pending; /* bytes after them to hold as a partial head */
	uint16_t responses;
	bool blocked; /* stopped: out had no room for the next response */
	bool closed; /* the last response closes the connection */
};

/*
 * Feeds in-order stream bytes and writes the responses to out while they
 * fit. head holds conn->head_len bytes of a partial head from earlier calls
 * (capacity http_head_cap()); new bytes are appended to it, and count as
 * consumed, until it is complete. On return the caller keeps `consumed`
 * bytes as done; if `pending` is non-zero, the `pending` bytes after them
 * start a request head that is incomplete (valid so far): the caller copies
 * them into a head buffer and sets conn->head_len to their count. When the
 * feed is blocked, bytes beyond consumed + pending were not taken and must
 * be offered again (the TCP engine leaves them unacknowledged).
 */
struct http_feed http_feed(struct http_conn *conn, const struct http_env *env,
			   uint8_t *head, const uint8_t *data, uint32_t len,
			   struct http_out *out);

/*
 * Keeps a feed's pending bytes as the connection's partial head, in the
 * caller's head buffer (http_head_cap() bytes). Returns len, or 0 when
 * there is no buffer (the bytes stay unconsumed, to be offered again).
 */
uint32_t http_keep_pending(struct http_conn *conn, uint8_t *head,
			   const uint8_t *pending, uint32_t len);

#endif /* XREDIR_HTTP_STREAM_H */
