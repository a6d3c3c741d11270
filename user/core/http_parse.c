// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The HTTP/1.x request-head parser. A single pass over the head that
 * rejects at the first byte the grammar of RFC 9112 does not allow, so
 * garbage (TLS, binary noise) is refused as soon as it arrives and a head
 * that is merely incomplete is known to be valid so far.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http_chars.h"
#include "http_parse.h"

#define CL_MAX_DIGITS 18 /* fits in 64 bits with room to spare */

uint8_t http_cclass[256];

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
		if (!(http_cclass[b[p]] & cls))
			return p;
		p++;
	}
	while (p < len && (http_cclass[b[p]] & cls))
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
			http_cclass[c] |= C_TCHAR;
		if (c > 0x20 && c != 0x7f)
			http_cclass[c] |= C_TARGET;
		if (c >= 0x80 || (c && strchr(encode, c)))
			http_cclass[c] |= C_ENCODE;
		if ((c >= 0x20 && c != 0x7f) || c == '\t')
			http_cclass[c] |= C_VALUE;
		if (alnum || (c && strchr(host, c)))
			http_cclass[c] |= C_HOST;
		if (c == '&' || c == '\'')
			http_cclass[c] |= C_HTML;
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
			if (!(http_cclass[(uint8_t)p[i]] & C_TCHAR))
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
	while (i < n && (http_cclass[e[i]] & C_TCHAR))
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
		all &= http_cclass[v[i]] & http_cclass[v[i + 1]] &
		       http_cclass[v[i + 2]] & http_cclass[v[i + 3]];
	for (; i < n; i++)
		all &= http_cclass[v[i]];
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

static bool is_v2_ping(const struct http_request *req)
{
	const struct http_span *p = &req->path;

	if (!http_method_is(&req->method, "GET") &&
	    !http_method_is(&req->method, "HEAD"))
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

	if (http_method_is(&req->method, "HEAD"))
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
			if (!(http_cclass[t[i]] & C_HOST) || t[i] == '%')
				return 400;
		if (i == skip)
			return 400; /* no host */
		req->path = (struct http_span){ t + i, n - i };
		req->path_slash = i == n || t[i] == '?';
	}
	for (i = 0; i < req->path.len; i++) {
		uint8_t c = http_cclass[req->path.p[i]];

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

	for (m = p; p < len && (http_cclass[buf[p]] & C_TCHAR); p++)
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

	for (n = p; p < len && (http_cclass[buf[p]] & C_TCHAR); p++)
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
