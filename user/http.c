// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The HTTP/1.x request path. The parser is a single pass over the head
 * that rejects at the first byte the grammar of RFC 9112 does not allow, so
 * garbage (TLS, binary noise) is refused as soon as it arrives and a head
 * that is merely incomplete is known to be valid so far.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http.h"

#define CL_MAX_DIGITS 18 /* fits in 64 bits with room to spare */

enum char_class {
	C_TCHAR = 0x01, /* token character (method, field name) */
	C_TARGET = 0x02, /* may appear in a request-target (raw) */
	C_ENCODE = 0x04, /* percent-encoded when copied to Location */
	C_VALUE = 0x08, /* field-value character (VCHAR, obs-text, SP, HTAB) */
	C_HOST = 0x10, /* may appear in a Host value */
	C_HTML = 0x20, /* escaped in the HTML body */
};

static uint8_t cclass[256];

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
/* Whether a byte of w below 0x80 is less than n (n <= 128); may flag
 * bytes above the first hit, never misses one. */
#define HAS_LESS(w, n) (((w)-ONES * (n)) & ~(w)&HIGHS)

/*
 * Skips bytes of class cls from p, eight at a time while a whole word is
 * plainly in the class (no byte below lo, no DEL), then byte by byte. The
 * byte loop is the definition; the word loop only goes faster.
 */
static inline __attribute__((always_inline)) size_t
skip_class(const uint8_t *b, size_t p, size_t len, uint8_t cls, unsigned int lo)
{
	uint64_t w, m;

	while (p + 8 <= len) {
		memcpy(&w, b + p, 8);
		m = HAS_LESS(w, lo) | HAS_LESS(w ^ (ONES * 0x7f), 1);
		if (!m) {
			p += 8;
			continue;
		}
		/* The lowest flagged byte is exact (little-endian): it ends
		 * the run unless the class allows it (HTAB in a value). */
		p += (size_t)__builtin_ctzll(m) / 8;
		if (!(cclass[b[p]] & cls))
			return p;
		p++;
	}
	while (p < len && (cclass[b[p]] & cls))
		p++;
	return p;
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

__attribute__((constructor)) static void init_classes(void)
{
	static const char tspecial[] = "!#$%&'*+-.^_`|~";
	static const char encode[] = "\"<>\\^`{|}#";
	static const char host[] = "-._~!$&'()*+,;=:[]%";
	int c;

	for (c = 0; c < 256; c++) {
		bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			     (c >= 'A' && c <= 'Z');

		if (alnum || (c && strchr(tspecial, c)))
			cclass[c] |= C_TCHAR;
		if (c > 0x20 && c != 0x7f)
			cclass[c] |= C_TARGET;
		if (c >= 0x80 || (c && strchr(encode, c)))
			cclass[c] |= C_ENCODE;
		if ((c >= 0x20 && c != 0x7f) || c == '\t')
			cclass[c] |= C_VALUE;
		if (alnum || (c && strchr(host, c)))
			cclass[c] |= C_HOST;
		if (c == '&' || c == '\'')
			cclass[c] |= C_HTML;
	}
}

void http_limits_default(struct http_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	lim->max_request_line = 8192;
	lim->max_header_bytes = 16384;
	lim->max_fields = 100;
	lim->max_body = 1 << 20;
}

int http_limits_set_methods(struct http_limits *lim, const char *list)
{
	struct http_limits tmp = *lim;
	const char *p = list;
	size_t n, alen = 0;

	tmp.n_methods = 0;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t i;

		n = comma ? (size_t)(comma - p) : strlen(p);
		if (!n || n > HTTP_MAX_METHOD_LEN ||
		    tmp.n_methods == HTTP_MAX_METHODS)
			return -1;
		for (i = 0; i < n; i++)
			if (!(cclass[(uint8_t)p[i]] & C_TCHAR))
				return -1;
		memcpy(tmp.methods[tmp.n_methods], p, n);
		tmp.methods[tmp.n_methods][n] = 0;
		tmp.method_len[tmp.n_methods++] = (uint8_t)n;
		alen += (size_t)snprintf(tmp.allow + alen,
					 sizeof(tmp.allow) - alen, "%s%.*s",
					 alen ? ", " : "", (int)n, p);
		p += n + (comma ? 1 : 0);
		if (comma && !*p)
			return -1;
	}
	if (!tmp.n_methods)
		return -1;
	*lim = tmp;
	return 0;
}

/*
 * Case-insensitive compare with a lower-case literal of letters, digits
 * and '-'. OR-ing 0x20 folds case, and maps no other byte a token or a
 * field value can hold onto those characters, so the compare is exact.
 */
static bool span_is(const uint8_t *p, uint32_t len, const char *lit,
		    uint32_t lit_len)
{
	uint32_t i;

	if (len != lit_len)
		return false;
	for (i = 0; i < len; i++)
		if ((p[i] | 0x20) != (uint8_t)lit[i])
			return false;
	return true;
}

#define SPAN_IS(p, len, lit) span_is(p, len, lit, sizeof(lit) - 1)

/* What the header fields said, before the checks that need all of them. */
struct fields {
	uint32_t host_count;
	bool has_cl;
	uint64_t cl;
	bool te_seen;
	bool te_unknown;
	bool te_chunked_last;
	uint32_t te_chunked_count;
	bool conn_close;
	bool conn_keep_alive;
	bool expect_continue;
	bool expect_other;
};

/* Calls fn for every element of a comma-separated list, trimmed of OWS. */
static int for_each_element(const uint8_t *p, uint32_t len,
			    int (*fn)(const uint8_t *e, uint32_t n, void *arg),
			    void *arg)
{
	uint32_t i = 0, start, end;
	int ret;

	while (i <= len) {
		start = i;
		while (i < len && p[i] != ',')
			i++;
		end = i;
		while (start < end && (p[start] == ' ' || p[start] == '\t'))
			start++;
		while (end > start && (p[end - 1] == ' ' || p[end - 1] == '\t'))
			end--;
		if (end > start) {
			ret = fn(p + start, end - start, arg);
			if (ret)
				return ret;
		}
		i++;
	}
	return 0;
}

static int cl_element(const uint8_t *e, uint32_t n, void *arg)
{
	struct fields *f = arg;
	uint64_t v = 0;
	uint32_t i;

	if (n > CL_MAX_DIGITS)
		return 400;
	for (i = 0; i < n; i++) {
		if (!is_digit(e[i]))
			return 400;
		v = v * 10 + (e[i] - '0');
	}
	/* Repeated values are tolerated only when they all agree. */
	if (f->has_cl && f->cl != v)
		return 400;
	f->cl = v;
	f->has_cl = true;
	return 0;
}

/* Whether a comma-separated list has an empty element ("5,", ",5"). */
static bool has_empty_element(const uint8_t *v, uint32_t n)
{
	bool empty = true;
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (v[i] == ',') {
			if (empty)
				return true;
			empty = true;
		} else if (v[i] != ' ' && v[i] != '\t') {
			empty = false;
		}
	}
	return empty;
}

/*
 * A list of equal numbers is tolerated (RFC 9110, 8.6), but nothing looser:
 * a framing header is where request smuggling starts.
 */
static int field_content_length(struct fields *f, const uint8_t *v, uint32_t n)
{
	if (has_empty_element(v, n))
		return 400;
	return for_each_element(v, n, cl_element, f);
}

static int te_element(const uint8_t *e, uint32_t n, void *arg)
{
	struct fields *f = arg;
	uint32_t i = 0, j;

	/* transfer-coding = token *( OWS ";" OWS transfer-parameter ) */
	while (i < n && (cclass[e[i]] & C_TCHAR))
		i++;
	for (j = i; j < n && (e[j] == ' ' || e[j] == '\t'); j++)
		;
	if (!i || (j < n && e[j] != ';'))
		return 400;
	if (SPAN_IS(e, i, "chunked")) {
		if (j < n)
			return 400; /* chunked takes no parameters */
		f->te_chunked_count++;
		f->te_chunked_last = true;
		return 0;
	}
	f->te_chunked_last = false;
	if (!SPAN_IS(e, i, "gzip") && !SPAN_IS(e, i, "x-gzip") &&
	    !SPAN_IS(e, i, "deflate") && !SPAN_IS(e, i, "compress") &&
	    !SPAN_IS(e, i, "x-compress"))
		f->te_unknown = true;
	return 0;
}

/* Expect is a list (RFC 9110, 10.1.1): empty elements mean nothing. */
static int expect_element(const uint8_t *e, uint32_t n, void *arg)
{
	struct fields *f = arg;

	if (SPAN_IS(e, n, "100-continue"))
		f->expect_continue = true;
	else
		f->expect_other = true;
	return 0;
}

static int conn_element(const uint8_t *e, uint32_t n, void *arg)
{
	struct fields *f = arg;

	if (SPAN_IS(e, n, "close"))
		f->conn_close = true;
	else if (SPAN_IS(e, n, "keep-alive"))
		f->conn_keep_alive = true;
	return 0;
}

static int field_host(struct fields *f, const uint8_t *v, uint32_t n)
{
	uint8_t all = C_HOST;
	uint32_t i = 0;

	f->host_count++;
	/* Classes ANDed together, no branch per byte: one check at the end. */
	for (; i + 4 <= n; i += 4)
		all &= cclass[v[i]] & cclass[v[i + 1]] & cclass[v[i + 2]] &
		       cclass[v[i + 3]];
	for (; i < n; i++)
		all &= cclass[v[i]];
	return all & C_HOST ? 0 : 400;
}

/* Dispatches one header field line by name; unknown fields are ignored. */
static int field(struct http_request *req, struct fields *f,
		 const uint8_t *name, uint32_t nlen, const uint8_t *v,
		 uint32_t vlen)
{
	switch (nlen) {
	case 4:
		if (SPAN_IS(name, nlen, "host"))
			return field_host(f, v, vlen);
		break;
	case 6:
		if (SPAN_IS(name, nlen, "expect"))
			return for_each_element(v, vlen, expect_element, f);
		break;
	case 9:
		if (SPAN_IS(name, nlen, "x-real-ip")) {
			req->real_ip = (struct http_span){ v, vlen };
			if (req->n_real_ip < UINT8_MAX)
				req->n_real_ip++;
		}
		break;
	case 10:
		if (SPAN_IS(name, nlen, "connection"))
			return for_each_element(v, vlen, conn_element, f);
		break;
	case 14:
		if (SPAN_IS(name, nlen, "content-length"))
			return field_content_length(f, v, vlen);
		break;
	case 15:
		if (SPAN_IS(name, nlen, "x-forwarded-for")) {
			if (req->n_forwarded_for < HTTP_MAX_XFF)
				req->forwarded_for[req->n_forwarded_for] =
					(struct http_span){ v, vlen };
			if (req->n_forwarded_for < UINT8_MAX)
				req->n_forwarded_for++;
		}
		break;
	case 17:
		if (SPAN_IS(name, nlen, "transfer-encoding")) {
			f->te_seen = true;
			return for_each_element(v, vlen, te_element, f);
		}
		break;
	}
	return 0;
}

static bool method_allowed(const struct http_limits *lim,
			   const struct http_span *m)
{
	int i;

	if (!lim->n_methods)
		return true;
	for (i = 0; i < lim->n_methods; i++)
		if (lim->method_len[i] == m->len &&
		    !memcmp(lim->methods[i], m->p, m->len))
			return true;
	return false;
}

static bool method_is(const struct http_span *m, const char *lit)
{
	size_t n = strlen(lit);

	return m->len == n && !memcmp(m->p, lit, n);
}

static bool is_v2_ping(const struct http_request *req)
{
	const struct http_span *p = &req->path;

	if (!method_is(&req->method, "GET") && !method_is(&req->method, "HEAD"))
		return false;
	return !req->path_slash && p->len >= 3 && p->len <= 4 &&
	       !memcmp(p->p, "/v2/", p->len);
}

/* Checks that need every field; sets the request's connection semantics. */
static int finish(struct http_request *req, const struct fields *f,
		  const struct http_limits *lim)
{
	if (f->host_count > 1 || (req->minor == 1 && !f->host_count))
		return 400;
	if (f->te_seen) {
		if (f->has_cl || req->minor == 0)
			return 400;
		if (f->te_unknown)
			return 501;
		if (!f->te_chunked_last || f->te_chunked_count != 1)
			return 400;
		req->flags |= HTTP_REQ_CHUNKED;
	}
	if (f->has_cl) {
		if (f->cl > lim->max_body)
			return 413;
		req->content_length = f->cl;
	}
	/* HTTP/1.0 has no Expect semantics (RFC 9110, 10.1.1): ignore it. */
	if (req->minor == 1 && f->expect_other)
		return 417;
	if (req->minor == 1 && f->expect_continue)
		req->flags |= HTTP_REQ_CONTINUE;
	if (!method_allowed(lim, &req->method))
		return 405;

	if (method_is(&req->method, "HEAD"))
		req->flags |= HTTP_REQ_HEAD;
	if (f->conn_close || (req->minor == 0 && !f->conn_keep_alive))
		req->flags |= HTTP_REQ_CLOSE;
	/*
	 * A body we will not read makes the rest of the stream ambiguous:
	 * chunked (never decoded here), or one the client may withhold after
	 * a final answer to Expect: 100-continue. Close after responding.
	 */
	if ((req->flags & HTTP_REQ_CHUNKED) ||
	    ((req->flags & HTTP_REQ_CONTINUE) && req->content_length))
		req->flags |= HTTP_REQ_CLOSE;
	if (lim->registry_v2_ping && is_v2_ping(req))
		req->flags |= HTTP_REQ_V2_PING;
	return HTTP_OK;
}

/*
 * Splits the request-target into the path to redirect to: origin-form as
 * is, absolute-form (http or https) without scheme and authority.
 */
static int target_path(struct http_request *req, const uint8_t *t, uint32_t n)
{
	uint32_t i, skip;

	if (t[0] == '/') {
		req->path = (struct http_span){ t, n };
	} else {
		if (n > 7 && !strncasecmp((const char *)t, "http://", 7))
			skip = 7;
		else if (n > 8 && !strncasecmp((const char *)t, "https://", 8))
			skip = 8;
		else
			return 400; /* asterisk-, authority-form, or junk */
		for (i = skip; i < n && t[i] != '/' && t[i] != '?'; i++)
			if (!(cclass[t[i]] & C_HOST) || t[i] == '%')
				return 400;
		if (i == skip)
			return 400; /* no host */
		req->path = (struct http_span){ t + i, n - i };
		req->path_slash = i == n || t[i] == '?';
	}
	for (i = 0; i < req->path.len; i++) {
		uint8_t c = cclass[req->path.p[i]];

		req->path_escapes += !!(c & C_ENCODE);
		req->path_html += !!(c & C_HTML);
	}
	return 0;
}

/* Where the parse stopped, to tell "incomplete" from "too long". */
struct scan {
	uint32_t line_start; /* start of the request line */
	uint32_t fields_start; /* start of the header section, 0: not yet */
};

/*
 * The head ends before it is complete: fine, unless what arrived already
 * exceeds a limit. A CR at the very end may end a line and does not count.
 */
static int incomplete(const struct scan *s, const uint8_t *buf, size_t len,
		      const struct http_limits *lim)
{
	size_t n = len - (len && buf[len - 1] == '\r');

	if (!s->fields_start) {
		if (n - s->line_start > lim->max_request_line)
			return 414;
	} else if (n - s->fields_start > lim->max_header_bytes) {
		return 431;
	}
	return HTTP_INCOMPLETE;
}

/* "HTTP/d.d"; with fewer than 8 bytes, whether they could still be one. */
static int version(const uint8_t *p, size_t avail, struct http_request *req)
{
	static const char proto[] = "HTTP/d.d";
	size_t i;

	if (avail >= 8 && !memcmp(p, "HTTP/1.", 7) && is_digit(p[7])) {
		req->minor = p[7] == '0' ? 0 : 1;
		return HTTP_OK;
	}
	for (i = 0; i < avail && i < 8; i++) {
		if (proto[i] == 'd' ? !is_digit(p[i]) : p[i] != proto[i])
			return 400;
	}
	if (avail < 8)
		return HTTP_INCOMPLETE;
	if (p[5] != '1')
		return 505;
	req->minor = p[7] == '0' ? 0 : 1;
	return HTTP_OK;
}

static int request_line(const uint8_t *buf, size_t len, struct scan *s,
			const struct http_limits *lim, struct http_request *req,
			size_t *pos)
{
	size_t p = *pos, m, t;
	int ret;

	/* RFC 9112, 2.2: ignore a few empty lines before the request-line. */
	while (p + 1 < len && buf[p] == '\r' && buf[p + 1] == '\n')
		p += 2;
	if (p > HTTP_MAX_LEADING)
		return 400;
	s->line_start = (uint32_t)p;
	if (p + 1 == len && buf[p] == '\r')
		return HTTP_INCOMPLETE;

	for (m = p; p < len && (cclass[buf[p]] & C_TCHAR); p++)
		if (p - m >= HTTP_MAX_METHOD_LEN)
			return 501;
	if (p == len)
		return incomplete(s, buf, len, lim);
	if (buf[p] != ' ' || p == m)
		return 400;
	req->method = (struct http_span){ buf + m, (uint32_t)(p - m) };

	t = ++p;
	p = skip_class(buf, p, len, C_TARGET, 0x21);
	if (p == len)
		return incomplete(s, buf, len, lim);
	if (buf[p] != ' ' || p == t)
		return 400;

	ret = version(buf + p + 1, len - p - 1, req);
	if (ret == HTTP_INCOMPLETE)
		return incomplete(s, buf, len, lim);
	if (ret != HTTP_OK)
		return ret;
	p += 9;
	if (p == len || (p + 1 == len && buf[p] == '\r'))
		return incomplete(s, buf, len, lim);
	if (buf[p] != '\r' || buf[p + 1] != '\n')
		return 400;
	if (p - s->line_start > lim->max_request_line)
		return 414;
	ret = target_path(req, buf + t, (uint32_t)(p - 9 - t));
	if (ret)
		return ret;
	*pos = p + 2;
	s->fields_start = (uint32_t)*pos;
	return HTTP_OK;
}

/* One field line at *pos; returns HTTP_OK, HTTP_INCOMPLETE or a status. */
static int field_line(const uint8_t *buf, size_t len, const struct scan *s,
		      const struct http_limits *lim, struct http_request *req,
		      struct fields *f, size_t *pos)
{
	size_t p = *pos, n, colon, v, e;

	for (n = p; p < len && (cclass[buf[p]] & C_TCHAR); p++)
		;
	if (p == len)
		return incomplete(s, buf, len, lim);
	/* No whitespace before the colon (a request smuggling vector). */
	if (buf[p] != ':' || p == n)
		return 400;
	colon = p;
	for (p++; p < len && (buf[p] == ' ' || buf[p] == '\t'); p++)
		;
	v = p;
	p = skip_class(buf, p, len, C_VALUE, 0x20);
	if (p == len || (p + 1 == len && buf[p] == '\r'))
		return incomplete(s, buf, len, lim);
	/* Anything but CRLF here is a bare CR, bare LF, NUL or control. */
	if (buf[p] != '\r' || buf[p + 1] != '\n')
		return 400;
	for (e = p; e > v && (buf[e - 1] == ' ' || buf[e - 1] == '\t'); e--)
		;
	*pos = p + 2;
	if (*pos - s->fields_start > lim->max_header_bytes)
		return 431;
	return field(req, f, buf + n, (uint32_t)(colon - n), buf + v,
		     (uint32_t)(e - v));
}

/* Where a partial head would first exceed a limit. */
static uint32_t next_limit(const struct scan *s, const struct http_limits *lim)
{
	if (!s->fields_start)
		return s->line_start + lim->max_request_line + 1;
	return s->fields_start + lim->max_header_bytes + 1;
}

static int parse_head(const uint8_t *buf, size_t len,
		      const struct http_limits *lim, struct http_request *req,
		      struct scan *s)
{
	uint32_t nfields = 0;
	struct fields f;
	size_t pos = 0;
	int ret;

	memset(&f, 0, sizeof(f));
	ret = request_line(buf, len, s, lim, req, &pos);
	if (ret != HTTP_OK)
		return ret;
	for (;;) {
		if (pos == len || (pos + 1 == len && buf[pos] == '\r'))
			return incomplete(s, buf, len, lim);
		if (buf[pos] == '\r') {
			if (buf[pos + 1] != '\n')
				return 400;
			pos += 2;
			break;
		}
		/* A line starting with whitespace is obs-fold. */
		if (buf[pos] == ' ' || buf[pos] == '\t' || buf[pos] == '\n')
			return 400;
		if (++nfields > lim->max_fields)
			return 431;
		ret = field_line(buf, len, s, lim, req, &f, &pos);
		if (ret != HTTP_OK)
			return ret;
	}
	req->head_len = (uint32_t)pos;
	return finish(req, &f, lim);
}

int http_parse_head(const uint8_t *buf, size_t len,
		    const struct http_limits *lim, struct http_request *req)
{
	struct scan s = { 0, 0 };
	int ret;

	/* Fields a parse may not reach; the rest is set as it goes. */
	req->method = (struct http_span){ NULL, 0 };
	req->path = (struct http_span){ NULL, 0 };
	req->path_slash = false;
	req->path_escapes = req->path_html = 0;
	req->flags = 0;
	req->content_length = 0;
	req->n_forwarded_for = req->n_real_ip = 0;
	req->head_len = req->limit_at = 0;
	ret = parse_head(buf, len, lim, req, &s);
	if (ret == HTTP_INCOMPLETE)
		req->limit_at = next_limit(&s, lim);
	return ret;
}

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
		uint8_t c = cclass[(uint8_t)url[i]];

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

static uint8_t *put_uint(uint8_t *o, uint64_t v)
{
	char tmp[24];
	int i = sizeof(tmp);

	/* Content-Lengths of redirects have 2 to 5 digits. */
	if (v >= 10 && v < 100) {
		o[0] = (uint8_t)('0' + v / 10);
		o[1] = (uint8_t)('0' + v % 10);
		return o + 2;
	}
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return put(o, tmp + i, sizeof(tmp) - (size_t)i);
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

		if (cclass[c] & C_ENCODE) {
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

/* An error response; a HEAD request gets its headers only (RFC 9110,
 * 9.3.2: no content in a response to HEAD, errors included). */
static uint32_t write_error(uint8_t *out, uint32_t cap, int status,
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
	return write_error(out, cap, status, lim, date, false);
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

static uint32_t write_v2_ping(uint8_t *out, bool keep_alive, bool head,
			      const char *date)
{
	uint8_t *o = PUT_LIT(out, V2_PING_RESPONSE_HEAD);

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

#define HTTP_STATUS_CASE(code) \
	case code:             \
		return HTTP_STATUS_##code;

static int status_slot(int status)
{
	switch (status) {
		HTTP_STATUSES(HTTP_STATUS_CASE)
	}
	return -1;
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
		bool head = req->flags & HTTP_REQ_HEAD;

		if (v2_ping_len(keep_alive, head) > room)
			return 0;
		out->len += write_v2_ping(out->buf + out->len, keep_alive, head,
					  env->date);
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
		n = write_error(out->buf + out->len, out->cap - out->len,
				status, env->lim, env->date,
				method_is(&req->method, "HEAD"));
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
	status = http_parse_head(head, old + n, env->lim, &req);
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
		status = http_parse_head(data + pos, len - pos, env->lim, &req);
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
