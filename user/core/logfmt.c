// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>

#include "logfmt.h"

struct w {
	char *buf;
	size_t len, pos; /* pos <= len - 2: room for "\n" and the NUL */
};

static void put(struct w *w, const char *s, size_t n)
{
	size_t room = w->len - 2 - w->pos;

	if (n > room)
		n = room;
	memcpy(w->buf + w->pos, s, n);
	w->pos += n;
}

static void puts_(struct w *w, const char *s)
{
	put(w, s, strlen(s));
}

/* Whether text may show s without quotes. */
static bool bare(const char *s, size_t n)
{
	size_t i;

	if (!n)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
			return false;
	}
	return true;
}

/* s quoted, with JSON's escapes (text uses the same). */
static void quoted(struct w *w, const char *s, size_t n)
{
	char esc[8];
	size_t i;

	put(w, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(w, esc, 2);
		} else if (c == '\n') {
			put(w, "\\n", 2);
		} else if (c == '\r') {
			put(w, "\\r", 2);
		} else if (c == '\t') {
			put(w, "\\t", 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(w, esc, 6);
		} else {
			put(w, (const char *)&s[i], 1);
		}
	}
	put(w, "\"", 1);
}

static void value(struct w *w, bool json, const struct log_field *f)
{
	char num[32];
	const char *s;
	size_t n;

	switch (f->kind) {
	case LOG_K_INT:
		snprintf(num, sizeof(num), "%lld", f->v.i);
		puts_(w, num);
		return;
	case LOG_K_UINT:
		snprintf(num, sizeof(num), "%llu", f->v.u);
		puts_(w, num);
		return;
	case LOG_K_BOOL:
		puts_(w, f->v.b ? "true" : "false");
		return;
	case LOG_K_STR:
		break;
	}
	s = f->v.s ? f->v.s : "";
	n = strnlen(s, LOG_STR_MAX);
	if (!json && bare(s, n))
		put(w, s, n);
	else
		quoted(w, s, n);
}

static void field(struct w *w, bool json, bool first, const struct log_field *f)
{
	if (json) {
		puts_(w, first ? "\"" : ",\"");
		puts_(w, f->key);
		puts_(w, "\":");
	} else {
		puts_(w, first ? "" : " ");
		puts_(w, f->key);
		puts_(w, "=");
	}
	value(w, json, f);
}

size_t log_format(char *buf, size_t len, bool json, const char *ts,
		  const char *level, const char *msg, const struct log_field *f,
		  size_t n)
{
	struct log_field head[3] = { LOG_STR("ts", ts), LOG_STR("level", level),
				     LOG_STR("msg", msg) };
	struct w w = { buf, len, 0 };
	size_t i;

	if (len < 2) {
		if (len)
			buf[0] = 0;
		return 0;
	}
	if (json)
		puts_(&w, "{");
	for (i = 0; i < 3; i++)
		field(&w, json, !i, &head[i]);
	for (i = 0; i < n; i++)
		field(&w, json, false, &f[i]);
	if (json)
		puts_(&w, "}");
	buf[w.pos++] = '\n';
	buf[w.pos] = 0;
	return w.pos;
}
