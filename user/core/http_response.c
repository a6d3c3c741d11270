// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The response builders. A target renders once what its redirects share;
 * each redirect then copies that, the escaped path and the fixed headers,
 * sized exactly before the first byte is written.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http_chars.h"
#include "http_response.h"

const char *http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 303:
		return "See Other";
	case 307:
		return "Temporary Redirect";
	case 308:
		return "Permanent Redirect";
	case 400:
		return "Bad Request";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 417:
		return "Expectation Failed";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 505:
		return "HTTP Version Not Supported";
	}
	return "Error";
}

void http_format_date(char *out, int64_t t)
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char tmp[64];
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 > 9999)
		memset(&tm, 0, sizeof(tm)); /* out of range: a fixed date */
	snprintf(tmp, sizeof(tmp), "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT",
		 days + 3 * tm.tm_wday, tm.tm_mday, months + 3 * tm.tm_mon,
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	memcpy(out, tmp, HTTP_DATE_LEN);
}

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

/* authority = host [ ":" port ], host a name or a bracketed IPv6 address;
 * no userinfo. Returns its length, or 0 if invalid. */
static size_t authority_len(const char *a, size_t len)
{
	size_t i = 0, digits;
	unsigned long port = 0;

	if (i < len && a[i] == '[') {
		for (i++; i < len && (a[i] == ':' || a[i] == '.' ||
				      (a[i] >= '0' && a[i] <= '9') ||
				      (a[i] >= 'a' && a[i] <= 'f') ||
				      (a[i] >= 'A' && a[i] <= 'F'));
		     i++)
			;
		if (i == len || a[i] != ']' || i == 1)
			return 0;
		i++;
	} else {
		while (i < len && host_char(a[i]))
			i++;
		if (!i)
			return 0;
	}
	if (i < len && a[i] == ':') {
		for (i++, digits = 0; i < len && a[i] >= '0' && a[i] <= '9';
		     i++, digits++)
			port = port * 10 + (unsigned long)(a[i] - '0');
		if (!digits || digits > 5 || !port || port > 65535)
			return 0;
	}
	return i == len || a[i] == '/' ? i : 0;
}

int http_target_init(struct http_target *t, const char *url, size_t len,
		     int status)
{
	size_t i, skip, html = 0;

	if (status != 301 && status != 302 && status != 303 && status != 307 &&
	    status != 308)
		return -1;
	if (len > 7 && !strncmp(url, "http://", 7))
		skip = 7;
	else if (len > 8 && !strncmp(url, "https://", 8))
		skip = 8;
	else
		return -1;
	/* A trailing slash would double the request path's leading one. */
	while (len > skip && url[len - 1] == '/')
		len--;
	if (len > UINT16_MAX || !authority_len(url + skip, len - skip))
		return -1;
	for (i = 0; i < len; i++) {
		uint8_t c = http_cclass[(uint8_t)url[i]];

		/* Only bytes a Location may carry unencoded. */
		if (!(c & C_TARGET) || (c & C_ENCODE) || url[i] == '?')
			return -1;
		html += !!(c & C_HTML);
	}
	t->url = url;
	t->url_len = (uint16_t)len;
	t->status = (uint16_t)status;
	t->url_html = (uint16_t)(html * 4);
	/* The head ends with the URL: the Location up to the path. */
	t->head_len = (uint16_t)snprintf(t->head, sizeof(t->head),
					 "HTTP/1.1 %d %s\r\nLocation: %.*s",
					 status, http_reason(status), (int)len,
					 url);
	t->tail_len = (uint16_t)snprintf(t->tail, sizeof(t->tail),
					 "\">%s</a>.\n", http_reason(status));
	t->body_fixed = (uint16_t)(sizeof("<a href=\"") - 1 + t->tail_len);
	return 0;
}

/* Appends without bounds checks: callers size the output first. */
static uint8_t *put(uint8_t *o, const void *p, size_t n)
{
	memcpy(o, p, n);
	return o + n;
}

#define PUT_LIT(o, lit) put(o, lit, sizeof(lit) - 1)

static __attribute__((noinline)) uint8_t *put_uint_long(uint8_t *o, uint64_t v)
{
	char tmp[24];
	int i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return put(o, tmp + i, sizeof(tmp) - (size_t)i);
}

/* Content-Lengths of redirects have 2 to 5 digits, most often 2: those
 * are written inline, the rest out of line. */
static inline uint8_t *put_uint(uint8_t *o, uint64_t v)
{
	if (v >= 10 && v < 100) {
		o[0] = (uint8_t)('0' + v / 10);
		o[1] = (uint8_t)('0' + v % 10);
		return o + 2;
	}
	return put_uint_long(o, v);
}

static uint32_t uint_len(uint64_t v)
{
	uint32_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static const char hex[] = "0123456789ABCDEF";

/* The request path as it appears in Location: unsafe bytes %-encoded. */
static uint8_t *put_path(uint8_t *o, const struct http_request *req)
{
	uint32_t i;

	if (req->path_slash)
		*o++ = '/';
	if (!req->path_escapes)
		return put(o, req->path.p, req->path.len);
	for (i = 0; i < req->path.len; i++) {
		uint8_t c = req->path.p[i];

		if (http_cclass[c] & C_ENCODE) {
			*o++ = '%';
			*o++ = (uint8_t)hex[c >> 4];
			*o++ = (uint8_t)hex[c & 15];
		} else {
			*o++ = c;
		}
	}
	return o;
}

/* Copies src, escaping the characters a URI may hold but HTML may not. */
static uint8_t *put_html(uint8_t *o, const uint8_t *src, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (src[i] == '&')
			o = PUT_LIT(o, "&amp;");
		else if (src[i] == '\'')
			o = PUT_LIT(o, "&#39;");
		else
			*o++ = src[i];
	}
	return o;
}

#define BODY_OPEN "<a href=\""
#define CT_HTML "text/html; charset=utf-8"
#define CT_TEXT "text/plain; charset=utf-8"

static uint32_t location_len(const struct http_target *t,
			     const struct http_request *req)
{
	return t->url_len + req->path_slash + req->path.len +
	       2 * req->path_escapes;
}

#define STATUS_LINE_LEN(reason) \
	(sizeof("HTTP/1.1 000 \r\n") - 1 + strlen(reason))
#define KEEP_ALIVE "keep-alive"
#define CLOSE "close"

/* Bytes of the fixed part of a response: everything but variable fields. */
static uint32_t common_len(const char *reason, const char *ctype, uint32_t blen,
			   bool keep_alive)
{
	return (uint32_t)(STATUS_LINE_LEN(reason) +
			  sizeof("Content-Type: \r\n") - 1 + strlen(ctype) +
			  sizeof("Content-Length: \r\n") - 1 + uint_len(blen) +
			  sizeof("Date: \r\n") - 1 + HTTP_DATE_LEN +
			  sizeof("Connection: \r\n\r\n") - 1 +
			  (keep_alive ? sizeof(KEEP_ALIVE) : sizeof(CLOSE)) -
			  1);
}

static uint8_t *put_status(uint8_t *o, int status, const char *reason)
{
	o = PUT_LIT(o, "HTTP/1.1 ");
	o = put_uint(o, (uint64_t)status);
	*o++ = ' ';
	o = put(o, reason, strlen(reason));
	return PUT_LIT(o, "\r\n");
}

static uint8_t *put_common(uint8_t *o, const char *ctype, uint32_t blen,
			   bool keep_alive, const char *date)
{
	o = PUT_LIT(o, "Content-Type: ");
	o = put(o, ctype, strlen(ctype));
	o = PUT_LIT(o, "\r\nContent-Length: ");
	o = put_uint(o, blen);
	o = PUT_LIT(o, "\r\nDate: ");
	o = put(o, date, HTTP_DATE_LEN);
	o = PUT_LIT(o, "\r\nConnection: ");
	if (keep_alive)
		o = PUT_LIT(o, KEEP_ALIVE);
	else
		o = PUT_LIT(o, CLOSE);
	return PUT_LIT(o, "\r\n\r\n");
}

#define CT_CL_HTML "\r\nContent-Type: " CT_HTML "\r\nContent-Length: "
#define DATE_HDR "\r\nDate: "
#define CONN_KA "\r\nConnection: " KEEP_ALIVE "\r\n\r\n"
#define CONN_CLOSE "\r\nConnection: " CLOSE "\r\n\r\n"
#define LIT_LEN(lit) ((uint32_t)sizeof(lit) - 1)

static uint32_t redirect_body_len(const struct http_target *t,
				  const struct http_request *req,
				  uint32_t loc_len)
{
	return t->body_fixed + loc_len + t->url_html + 4 * req->path_html;
}

static uint32_t redirect_len(const struct http_target *t,
			     const struct http_request *req, bool keep_alive,
			     uint32_t loc, uint32_t blen)
{
	return t->head_len + (loc - t->url_len) + LIT_LEN(CT_CL_HTML) +
	       uint_len(blen) + LIT_LEN(DATE_HDR) + HTTP_DATE_LEN +
	       (keep_alive ? LIT_LEN(CONN_KA) : LIT_LEN(CONN_CLOSE)) +
	       (req->flags & HTTP_REQ_HEAD ? 0 : blen);
}

uint32_t http_redirect_len(const struct http_target *t,
			   const struct http_request *req, bool keep_alive)
{
	uint32_t loc = location_len(t, req);

	return redirect_len(t, req, keep_alive, loc,
			    redirect_body_len(t, req, loc));
}

/*
 * The hot path of every redirect: the target's pre-rendered head, the
 * path, the fixed headers, the body. Literal-sized copies compile to a few
 * moves; nothing is measured with strlen.
 */
uint32_t http_write_redirect(uint8_t *out, uint32_t cap,
			     const struct http_target *t,
			     const struct http_request *req, bool keep_alive,
			     const char *date)
{
	uint32_t loc_len = location_len(t, req);
	uint32_t blen = redirect_body_len(t, req, loc_len);
	uint8_t *o = out, *loc;

	if (redirect_len(t, req, keep_alive, loc_len, blen) > cap)
		return 0;
	o = put(o, t->head, t->head_len);
	loc = o - t->url_len;
	o = put_path(o, req);
	o = PUT_LIT(o, CT_CL_HTML);
	o = put_uint(o, blen);
	o = PUT_LIT(o, DATE_HDR);
	o = put(o, date, HTTP_DATE_LEN);
	if (keep_alive)
		o = PUT_LIT(o, CONN_KA);
	else
		o = PUT_LIT(o, CONN_CLOSE);
	if (req->flags & HTTP_REQ_HEAD)
		return (uint32_t)(o - out);
	o = PUT_LIT(o, BODY_OPEN);
	if (t->url_html || req->path_html)
		o = put_html(o, loc, loc_len);
	else
		o = put(o, loc, loc_len);
	o = put(o, t->tail, t->tail_len);
	return (uint32_t)(o - out);
}

/* A HEAD request gets its headers only (RFC 9110, 9.3.2: no content in
 * a response to HEAD, errors included). */
uint32_t http_write_error_for(uint8_t *out, uint32_t cap, int status,
			      const struct http_limits *lim, const char *date,
			      bool head)
{
	const char *reason = http_reason(status);
	uint32_t blen = (uint32_t)strlen(reason) + 1;
	uint32_t allow = 0, n;
	uint8_t *o = out;

	if (status == 405)
		allow = (uint32_t)(sizeof("Allow: \r\n") - 1 +
				   strlen(lim->allow));
	n = common_len(reason, CT_TEXT, blen, false) + allow +
	    (head ? 0 : blen);
	if (n > cap)
		return 0;
	o = put_status(o, status, reason);
	if (allow) {
		o = PUT_LIT(o, "Allow: ");
		o = put(o, lim->allow, strlen(lim->allow));
		o = PUT_LIT(o, "\r\n");
	}
	o = put_common(o, CT_TEXT, blen, false, date);
	if (head)
		return (uint32_t)(o - out);
	o = put(o, reason, blen - 1);
	*o++ = '\n';
	return (uint32_t)(o - out);
}

uint32_t http_write_error(uint8_t *out, uint32_t cap, int status,
			  const struct http_limits *lim, const char *date)
{
	return http_write_error_for(out, cap, status, lim, date, false);
}

#define V2_PING_RESPONSE_HEAD                               \
	"HTTP/1.1 200 OK\r\n"                               \
	"Docker-Distribution-Api-Version: registry/2.0\r\n" \
	"Content-Type: application/json\r\n"                \
	"Content-Length: 2\r\n"                             \
	"Date: "

#define V2_PING_BODY "{}" /* what a registry answers GET /v2/ with */

static uint32_t v2_ping_len(bool keep_alive, bool head)
{
	return (uint32_t)(sizeof(V2_PING_RESPONSE_HEAD) - 1 + HTTP_DATE_LEN +
			  (head ? 0 : sizeof(V2_PING_BODY) - 1) +
			  sizeof("\r\nConnection: \r\n\r\n") - 1 +
			  (keep_alive ? sizeof(KEEP_ALIVE) : sizeof(CLOSE)) -
			  1);
}

uint32_t http_write_v2_ping(uint8_t *out, uint32_t cap, bool keep_alive,
			    bool head, const char *date)
{
	uint8_t *o;

	if (v2_ping_len(keep_alive, head) > cap)
		return 0;
	o = PUT_LIT(out, V2_PING_RESPONSE_HEAD);
	o = put(o, date, HTTP_DATE_LEN);
	o = PUT_LIT(o, "\r\nConnection: ");
	if (keep_alive)
		o = PUT_LIT(o, KEEP_ALIVE);
	else
		o = PUT_LIT(o, CLOSE);
	o = PUT_LIT(o, "\r\n\r\n");
	if (!head)
		o = PUT_LIT(o, V2_PING_BODY);
	return (uint32_t)(o - out);
}

#define HTTP_STATUS_CODE(code) code,
const uint16_t http_status_codes[HTTP_STATUS_SLOTS] = { HTTP_STATUSES(
	HTTP_STATUS_CODE) };
