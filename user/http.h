/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * HTTP/1.x request path: a strict request-head parser (RFC 9112), the
 * redirect and error response builders, and the per-connection stream
 * logic (pipelining, body discard, partial heads) shared by every transport.
 * Pure code over buffers: no sockets, no allocation.
 */
#ifndef XREDIR_HTTP_H
#define XREDIR_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_DATE_LEN 29 /* "Sun, 06 Nov 1994 08:49:37 GMT" */
#define HTTP_MAX_METHOD_LEN 17 /* UPDATEREDIRECTREF, the longest registered */
#define HTTP_MAX_METHODS 16 /* entries of an allow list */
#define HTTP_MAX_LEADING 8 /* bytes of empty lines accepted before a request */
#define HTTP_MAX_XFF 4 /* X-Forwarded-For field lines kept */

/* Parser outcomes that are not an HTTP status. */
#define HTTP_OK 0
#define HTTP_INCOMPLETE 1

struct http_limits {
	uint32_t max_request_line; /* longer: 414 */
	uint32_t max_header_bytes; /* header section, longer: 431 */
	uint32_t max_fields; /* more: 431 */
	uint64_t max_body; /* Content-Length above it: 413 */
	/* Allowed methods (--methods); none listed: every method. */
	uint8_t n_methods;
	uint8_t method_len[HTTP_MAX_METHODS];
	char methods[HTTP_MAX_METHODS][HTTP_MAX_METHOD_LEN + 1];
	char allow[HTTP_MAX_METHODS *
		   (HTTP_MAX_METHOD_LEN + 2)]; /* "GET, HEAD" */
	bool registry_v2_ping; /* answer /v2/ with 200 instead of redirecting */
};

void http_limits_default(struct http_limits *lim);
/* Parses "GET,HEAD"; returns -1 and leaves lim unchanged on a bad list. */
int http_limits_set_methods(struct http_limits *lim, const char *list);
/*
 * Bytes a transport must be able to hold for one partial head: the largest
 * valid head (leading empty lines, request line and its CRLF, header
 * section, final CRLF).
 */
static inline uint32_t http_head_cap(const struct http_limits *lim)
{
	return HTTP_MAX_LEADING + lim->max_request_line + 2 +
	       lim->max_header_bytes + 2;
}

/* A byte range of the head. */
struct http_span {
	const uint8_t *p;
	uint32_t len;
};

#define HTTP_REQ_HEAD 0x01 /* HEAD: headers only */
#define HTTP_REQ_CLOSE 0x02 /* the connection closes after the response */
#define HTTP_REQ_CHUNKED 0x04 /* chunked body: never read, so close */
#define HTTP_REQ_CONTINUE 0x08 /* Expect: 100-continue */
#define HTTP_REQ_V2_PING 0x10 /* registry /v2/ probe */

struct http_request {
	struct http_span method;
	struct http_span path; /* path and query to redirect to */
	bool path_slash; /* absolute-form without a path: prepend "/" */
	uint32_t path_escapes; /* bytes of path that are percent-encoded */
	uint32_t path_html; /* bytes of path that are HTML-escaped in the body */
	uint8_t minor; /* HTTP/1.minor */
	uint8_t flags;
	uint64_t content_length;
	/* X-Forwarded-For field lines in order (one list when combined) */
	struct http_span forwarded_for[HTTP_MAX_XFF];
	uint8_t n_forwarded_for; /* lines seen, may exceed HTTP_MAX_XFF */
	uint8_t n_real_ip; /* X-Real-IP lines seen */
	struct http_span real_ip; /* X-Real-IP, last field line */
	uint32_t head_len; /* bytes of the head, final empty line included */
	uint32_t limit_at; /* incomplete: length at which a limit may be hit */
};

/*
 * Parses the request head at buf. Returns HTTP_OK with req filled and
 * req->head_len set, HTTP_INCOMPLETE when buf ends before the head does
 * (and everything so far is valid and within limits), or the status code
 * of the error response to send (400, 413, 414, 417, 431, 501, 505).
 */
int http_parse_head(const uint8_t *buf, size_t len,
		    const struct http_limits *lim, struct http_request *req);

/* A redirect target, as the response builder needs it. */
#define HTTP_TARGET_HEAD_MAX 320

/*
 * A redirect target, with the parts of its responses that never change
 * rendered once: the status line and "Location: " up to the path, and the
 * end of the body.
 */
struct http_target {
	const char *url; /* scheme://host[:port][/prefix] */
	uint16_t url_len;
	uint16_t status; /* 301, 302, 303, 307, 308 */
	uint16_t url_html; /* extra bytes when HTML-escaped */
	uint16_t head_len;
	uint16_t tail_len;
	uint16_t body_fixed; /* body bytes besides the location */
	char head[HTTP_TARGET_HEAD_MAX]; /* "HTTP/1.1 302 Found\r\nLocation: URL" */
	char tail[32]; /* "\">Found</a>.\n" */
};

/* Fills t for url; returns -1 if url is not a valid redirect prefix. */
int http_target_init(struct http_target *t, const char *url, size_t len,
		     int status);

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

/* Status codes xredir answers with, for per-status counters. */
#define HTTP_STATUSES(X) \
	X(200)           \
	X(301)           \
	X(302)           \
	X(303)           \
	X(307) X(308) X(400) X(405) X(413) X(414) X(417) X(431) X(501) X(505)
#define HTTP_STATUS_ENUM(code) HTTP_STATUS_##code,
enum http_status_slot { HTTP_STATUSES(HTTP_STATUS_ENUM) HTTP_STATUS_SLOTS };
#undef HTTP_STATUS_ENUM

extern const uint16_t http_status_codes[HTTP_STATUS_SLOTS];

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

/* Response builders; return the length written, or 0 if cap is too small. */
uint32_t http_redirect_len(const struct http_target *t,
			   const struct http_request *req, bool keep_alive);
uint32_t http_write_redirect(uint8_t *out, uint32_t cap,
			     const struct http_target *t,
			     const struct http_request *req, bool keep_alive,
			     const char *date);
uint32_t http_write_error(uint8_t *out, uint32_t cap, int status,
			  const struct http_limits *lim, const char *date);
/* Formats t (seconds since the epoch) as an IMF-fixdate, 29 bytes. */
void http_format_date(char *out, int64_t t);
const char *http_reason(int status);

#endif /* XREDIR_HTTP_H */
