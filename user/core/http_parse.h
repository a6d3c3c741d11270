/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A strict HTTP/1.x request-head parser (RFC 9112): one pass over a
 * buffer, no allocation, no copies; the request points into the buffer.
 */
#ifndef XREDIR_HTTP_PARSE_H
#define XREDIR_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* Whether span m holds exactly the string lit (a method, case-sensitive). */
static inline bool http_method_is(const struct http_span *m, const char *lit)
{
	size_t n = strlen(lit);

	return m->len == n && !memcmp(m->p, lit, n);
}

#endif /* XREDIR_HTTP_PARSE_H */
