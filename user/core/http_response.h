/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The responses xredir sends: redirects to a pre-rendered target, errors,
 * and the registry /v2/ answer. Each builder writes into a caller's buffer
 * and returns the length written, or 0 (nothing written) if cap is too
 * small.
 */
#ifndef XREDIR_HTTP_RESPONSE_H
#define XREDIR_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_parse.h"

#define HTTP_DATE_LEN 29 /* "Sun, 06 Nov 1994 08:49:37 GMT" */

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

uint32_t http_redirect_len(const struct http_target *t,
			   const struct http_request *req, bool keep_alive);
uint32_t http_write_redirect(uint8_t *out, uint32_t cap,
			     const struct http_target *t,
			     const struct http_request *req, bool keep_alive,
			     const char *date);
uint32_t http_write_error(uint8_t *out, uint32_t cap, int status,
			  const struct http_limits *lim, const char *date);
/* As http_write_error; head: headers only (RFC 9110, 9.3.2). */
uint32_t http_write_error_for(uint8_t *out, uint32_t cap, int status,
			      const struct http_limits *lim, const char *date,
			      bool head);
/* 200 to a registry's /v2/ probe; head: headers only. */
uint32_t http_write_v2_ping(uint8_t *out, uint32_t cap, bool keep_alive,
			    bool head, const char *date);
/* Formats t (seconds since the epoch) as an IMF-fixdate, 29 bytes. */
void http_format_date(char *out, int64_t t);
const char *http_reason(int status);

#endif /* XREDIR_HTTP_RESPONSE_H */
