// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The fast path of the request-head parser: one pass over the head wrk,
 * curl and browsers send, with no per-field dispatch. Anything it does
 * not recognise, including every error and every incomplete head, is
 * declined, so it never has to agree with the strict parser on a refusal.
 */
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "http_chars.h"
#include "http_fast.h"

/* Four bytes of b folded to lower case, as one little-endian word. */
static inline uint32_t lower4(const uint8_t *b)
{
	uint32_t w;

	memcpy(&w, b, 4);
	return w | 0x20202020u;
}

#define WORD4(a, b, c, d)                                           \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | \
	 (uint32_t)(d) << 24)

/* A compare folded with 0x20 against a lower-case literal, exactly as
 * http_parse.c's span_is, so both parsers read a name or value alike. */
static bool folded_is(const uint8_t *p, size_t len, const char *lit)
{
	size_t i;

	if (len != strlen(lit))
		return false;
	for (i = 0; i < len && (p[i] | 0x20) == (uint8_t)lit[i]; i++)
		;
	return i == len;
}

/*
 * "Connection: keep-alive", what browsers send: on HTTP/1.1 the strict
 * parser notes it and changes nothing, so the fast path may take it.
 */
static bool keep_alive(const uint8_t *name, size_t nlen, const uint8_t *v,
		       size_t vlen)
{
	while (vlen && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	return folded_is(name, nlen, "connection") &&
	       folded_is(v, vlen, "keep-alive");
}

/*
 * Whether a field name is one the strict parser acts on (other than Host):
 * those heads are its to judge. Folding with 0x20 is exact here as in
 * http_parse.c: names are tokens.
 */
static bool name_special(const uint8_t *n, size_t len)
{
	static const char *const names[] = {
		"expect",	  "x-real-ip",	     "connection",
		"content-length", "x-forwarded-for", "transfer-encoding"
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (folded_is(n, len, names[i]))
			return true;
	return false;
}

#if defined(__SSE2__)
/*
 * Which of the 16 bytes at b are Host bytes (C_HOST), one bit each: the
 * printable ASCII range less the printable bytes that are not Host bytes,
 * ten compares for 16 bytes where the table costs three instructions a
 * byte. test_http_fast holds it to http_cclass for every byte in every
 * lane.
 */
static inline uint32_t host_mask16(const uint8_t *b)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)b);
	__m128i even = _mm_and_si128(x, _mm_set1_epi8((char)0xfe));
	__m128i ok = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(0x20)),
				   _mm_cmplt_epi8(x, _mm_set1_epi8(0x7f)));
	/* " # / < > ? @ \ ^ ` { | } */
	__m128i bad = _mm_or_si128(_mm_cmpeq_epi8(even, _mm_set1_epi8(0x22)),
				   _mm_cmpeq_epi8(even, _mm_set1_epi8(0x3e)));

	bad = _mm_or_si128(bad, _mm_cmpeq_epi8(even, _mm_set1_epi8(0x7c)));
	bad = _mm_or_si128(bad, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x2f)));
	bad = _mm_or_si128(bad, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x3c)));
	bad = _mm_or_si128(bad, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x40)));
	bad = _mm_or_si128(bad, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x5c)));
	bad = _mm_or_si128(bad, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x5e)));
	bad = _mm_or_si128(bad, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x60)));
	bad = _mm_or_si128(bad, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7b)));
	return (uint32_t)_mm_movemask_epi8(_mm_andnot_si128(bad, ok));
}
#endif

/* The end of a run of Host bytes from p: 16 bytes a step where SSE2 is,
 * then four bytes a step while the classes ANDed together allow it, then
 * byte by byte. */
static inline size_t host_end(const uint8_t *b, size_t p, size_t len)
{
#if defined(__SSE2__)
	for (; p + 16 <= len; p += 16) {
		uint32_t other = ~host_mask16(b + p) & 0xffff;

		if (other)
			return p + (size_t)__builtin_ctz(other);
	}
#endif
	while (p + 4 <= len &&
	       (http_cclass[b[p]] & http_cclass[b[p + 1]] &
		http_cclass[b[p + 2]] & http_cclass[b[p + 3]] & C_HOST))
		p += 4;
	while (p < len && (http_cclass[b[p]] & C_HOST))
		p++;
	return p;
}

/*
 * A field line other than Host at p, up to its CR: returns where the CR
 * should be, or 0 to decline. Out of line: the wrk head has none, and the
 * hot loop keeps its registers.
 */
static __attribute__((noinline)) size_t other_field(const uint8_t *buf,
						    size_t p, size_t len)
{
	size_t n, v;

	for (n = p; p < len && (http_cclass[buf[p]] & C_TCHAR); p++)
		;
	if (p == len || buf[p] != ':' || p == n)
		return 0;
	for (v = p + 1; v < len && (http_cclass[buf[v]] & C_VALUE); v++)
		;
	if (name_special(buf + n, p - n) &&
	    !keep_alive(buf + n, p - n, buf + p + 1, v - p - 1))
		return 0;
	return v;
}

int http_parse_fast(const uint8_t *buf, size_t len,
		    const struct http_limits *lim, struct http_request *req)
{
	size_t p, t, fields;
	uint32_t esc = 0, html = 0, nfields = 0, hosts = 0;
	uint8_t flags;

	if (len < 16 || lim->n_methods)
		return HTTP_FAST_DECLINE;
	if (!memcmp(buf, "GET /", 5)) {
		t = 4;
		flags = 0;
	} else if (!memcmp(buf, "HEAD /", 6)) {
		t = 5;
		flags = HTTP_REQ_HEAD;
	} else {
		return HTTP_FAST_DECLINE;
	}
	for (p = t; p < len; p++) {
		uint8_t c = http_cclass[buf[p]];

		if (!(c & C_TARGET))
			break;
		esc += !!(c & C_ENCODE);
		html += !!(c & C_HTML);
	}
	/* " HTTP/1.1\r\n", and the request line within its limit */
	if (len - p < 11 || memcmp(buf + p, " HTTP/1.1\r\n", 11) ||
	    p + 9 > lim->max_request_line)
		return HTTP_FAST_DECLINE;
	fields = p = p + 11;
	for (;;) {
		if (p + 1 >= len)
			return HTTP_FAST_DECLINE;
		if (buf[p] == '\r') {
			if (buf[p + 1] != '\n')
				return HTTP_FAST_DECLINE;
			p += 2;
			break;
		}
		if (++nfields > lim->max_fields)
			return HTTP_FAST_DECLINE;
		if (p + 5 < len &&
		    lower4(buf + p) == WORD4('h', 'o', 's', 't') &&
		    buf[p + 4] == ':') {
			/* Host: OWS, host bytes, CRLF (no trailing OWS) */
			for (p += 5;
			     p < len && (buf[p] == ' ' || buf[p] == '\t'); p++)
				;
			p = host_end(buf, p, len);
			hosts++;
		} else {
			p = other_field(buf, p, len);
			if (!p)
				return HTTP_FAST_DECLINE;
		}
		if (p + 1 >= len || buf[p] != '\r' || buf[p + 1] != '\n' ||
		    p + 2 - fields > lim->max_header_bytes)
			return HTTP_FAST_DECLINE;
		p += 2;
	}
	if (hosts != 1)
		return HTTP_FAST_DECLINE;
	req->method = (struct http_span){ buf, (uint32_t)t - 1 };
	req->path = (struct http_span){ buf + t, (uint32_t)(fields - 11 - t) };
	req->path_slash = false;
	req->path_escapes = esc;
	req->path_html = html;
	req->minor = 1;
	req->content_length = 0;
	req->n_forwarded_for = req->n_real_ip = 0;
	req->head_len = (uint32_t)p;
	req->limit_at = 0;
	if (lim->registry_v2_ping && req->path.len >= 3 && req->path.len <= 4 &&
	    !memcmp(req->path.p, "/v2/", req->path.len))
		flags |= HTTP_REQ_V2_PING;
	req->flags = flags;
	return HTTP_OK;
}
