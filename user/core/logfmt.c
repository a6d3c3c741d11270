// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>

#include "logfmt.h"
#include "utf8.h"

/* A cut value ends with this; a cut line has the marker field. */
#define ELLIPSIS "..."
#define ELLIPSIS_LEN 3
#define MARK_KEY "truncated"

struct w {
	char *buf;
	size_t pos;
	size_t end; /* content stops here: room after it for "}", "\n", NUL */
	size_t keep; /* room kept before end for the marker field */
	bool json, first, cut;
};

static bool fits(const struct w *w, size_t n)
{
	return w->pos + n + w->keep <= w->end;
}

/* Callers check fits() first. */
static void put(struct w *w, const char *s, size_t n)
{
	memcpy(w->buf + w->pos, s, n);
	w->pos += n;
}

/* How a byte sequence is written inside quotes: one escape, one
 * well-formed UTF-8 character, or (a byte that starts none) \u00XX.
 * Returns the bytes of s it covers; *out holds the output. */
static size_t unit(const char *s, size_t n, char out[8], size_t *len)
{
	unsigned char c = (unsigned char)s[0];
	size_t u;

	if (c == '"' || c == '\\') {
		out[0] = '\\';
		out[1] = (char)c;
		*len = 2;
		return 1;
	}
	if (c == '\n' || c == '\r' || c == '\t') {
		out[0] = '\\';
		out[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		*len = 2;
		return 1;
	}
	u = utf8_len((const unsigned char *)s, n);
	if (c < 0x20 || c == 0x7f || !u) {
		snprintf(out, 8, "\\u%04x", c);
		*len = 6;
		return 1;
	}
	memcpy(out, s, u);
	*len = u;
	return u;
}

/* Whether text may show s without quotes: well-formed UTF-8, and none of
 * the bytes that would end or confuse a bare value. */
static bool bare(const char *s, size_t n)
{
	size_t i, u;

	if (!n)
		return false;
	for (i = 0; i < n; i += u) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
			return false;
		u = utf8_len((const unsigned char *)s + i, n - i);
		if (!u)
			return false;
	}
	return true;
}

/* The separator and key before a value: ,"key": in JSON, " key=" in
 * text (no separator before the first). */
static size_t key_len(const struct w *w, const char *k)
{
	return strlen(k) + (w->json ? 3 : 1) + !w->first;
}

static void put_key(struct w *w, const char *k)
{
	if (w->json) {
		put(w, w->first ? "\"" : ",\"", w->first ? 1 : 2);
		put(w, k, strlen(k));
		put(w, "\":", 2);
	} else {
		if (!w->first)
			put(w, " ", 1);
		put(w, k, strlen(k));
		put(w, "=", 1);
	}
}

/*
 * A string field: what fits of its value, whole characters and escapes
 * only, "..." after a cut one (longer than LOG_STR_MAX, or than the
 * line). Returns false, writing nothing, if not even the key with a cut
 * value fits.
 */
static bool string_field(struct w *w, const char *k, const char *s)
{
	size_t n = strnlen(s, LOG_STR_MAX + 1), i = 0, back, ulen, used;
	bool long_ = n > LOG_STR_MAX, quote;
	char out[8];

	if (long_) {
		/* Cut before the character s[LOG_STR_MAX] belongs to. */
		n = LOG_STR_MAX;
		for (back = 0;
		     back < 3 && n && ((unsigned char)s[n] & 0xc0) == 0x80;
		     back++)
			n--;
	}
	quote = w->json || !bare(s, n);
	if (!fits(w, key_len(w, k) + ELLIPSIS_LEN + (quote ? 2 : 0)))
		return false;
	put_key(w, k);
	if (quote)
		put(w, "\"", 1);
	while (i < n) {
		used = unit(s + i, n - i, out, &ulen);
		/* After this unit: the closing quote, and "..." unless it
		 * is the last of a value that is not cut. */
		if (!fits(w,
			  ulen + (quote ? 1 : 0) +
				  (i + used < n || long_ ? ELLIPSIS_LEN : 0)))
			break;
		put(w, out, ulen);
		i += used;
	}
	if (i < n || long_)
		put(w, ELLIPSIS, ELLIPSIS_LEN);
	if (i < n)
		w->cut = true;
	if (quote)
		put(w, "\"", 1);
	return true;
}

/* Once a field is cut or left out, the fields after it are left out. */
static void field(struct w *w, const struct log_field *f)
{
	char num[32];
	size_t n;

	if (w->cut)
		return;
	switch (f->kind) {
	case LOG_K_INT:
		n = (size_t)snprintf(num, sizeof(num), "%lld", f->v.i);
		break;
	case LOG_K_UINT:
		n = (size_t)snprintf(num, sizeof(num), "%llu", f->v.u);
		break;
	case LOG_K_BOOL:
		n = strlen(strcpy(num, f->v.b ? "true" : "false"));
		break;
	default:
		if (string_field(w, f->key, f->v.s ? f->v.s : ""))
			w->first = false;
		else
			w->cut = true;
		return;
	}
	if (!fits(w, key_len(w, f->key) + n)) {
		w->cut = true;
		return;
	}
	put_key(w, f->key);
	put(w, num, n);
	w->first = false;
}

static size_t render(struct w *w, const struct log_field *head,
		     const struct log_field *f, size_t n)
{
	size_t i;

	w->pos = 0;
	w->first = true;
	w->cut = false;
	if (w->json)
		put(w, "{", 1);
	for (i = 0; i < 3; i++)
		field(w, &head[i]);
	for (i = 0; i < n; i++)
		field(w, &f[i]);
	if (w->cut && w->keep) {
		struct log_field mark = LOG_BOOL(MARK_KEY, true);

		w->keep = 0;
		w->cut = false;
		field(w, &mark);
		w->cut = true;
	}
	if (w->json)
		w->buf[w->pos++] = '}';
	w->buf[w->pos++] = '\n';
	w->buf[w->pos] = 0;
	return w->pos;
}

size_t log_format(char *buf, size_t len, bool json, const char *ts,
		  const char *level, const char *msg, const struct log_field *f,
		  size_t n)
{
	const struct log_field head[3] = { LOG_STR("ts", ts),
					   LOG_STR("level", level),
					   LOG_STR("msg", msg) };
	struct w w = { buf, 0, 0, 0, json, true, false };

	/* The least line: "{}" in JSON, then "\n" and the NUL. */
	if (len < (json ? 4u : 2u)) {
		if (len)
			buf[0] = 0;
		return 0;
	}
	w.end = len - 2 - (json ? 1 : 0);
	render(&w, head, f, n);
	if (!w.cut)
		return w.pos;
	/* Cut: again, with room kept for the marker (if the line has it). */
	w.keep = strlen(MARK_KEY) + (json ? 8 : 6);
	if (w.keep > w.end - (json ? 1 : 0))
		w.keep = 0;
	return render(&w, head, f, n);
}
