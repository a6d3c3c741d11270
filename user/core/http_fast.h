/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The HTTP fast path for the common head (GET or HEAD, origin-form target,
 * HTTP/1.1, one Host, Connection: keep-alive, fields the parser ignores).
 * Contract: it returns HTTP_OK with req exactly as http_parse_head() would
 * fill it, or HTTP_FAST_DECLINE, and then only the strict parser judges.
 */
#ifndef XREDIR_HTTP_FAST_H
#define XREDIR_HTTP_FAST_H

#include "http_parse.h"

#define HTTP_FAST_DECLINE (-1)

int http_parse_fast(const uint8_t *buf, size_t len,
		    const struct http_limits *lim, struct http_request *req);

/* The fast path, else the strict parser: what the transports call. */
static inline int http_parse(const uint8_t *buf, size_t len,
			     const struct http_limits *lim,
			     struct http_request *req)
{
	if (http_parse_fast(buf, len, lim, req) == HTTP_OK)
		return HTTP_OK;
	return http_parse_head(buf, len, lim, req);
}

#endif /* XREDIR_HTTP_FAST_H */
