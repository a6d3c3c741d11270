/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Output validity checks for the unit tests: a tiny JSON checker (RFC
 * 8259), enough for log lines and json_str() (objects of strings, numbers
 * and booleans), well-formed UTF-8, and logfmt's text lines.
 */
#ifndef XREDIR_TEST_JSON_CHECK_H
#define XREDIR_TEST_JSON_CHECK_H

#include <stdbool.h>
#include <string.h>

#include "utf8.h"

/* Each returns the position after what it read, or NULL. */
static inline const char *ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static inline const char *json_string(const char *p)
{
	size_t u;

	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		unsigned char c = (unsigned char)*p;

		if (!c || c < 0x20)
			return NULL;
		if (c == '\\') {
			p++;
			if (*p == 'u') {
				int i;

				for (i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF",
						    p[i]) ||
					    !p[i])
						return NULL;
				p += 5;
			} else if (*p && strchr("\"\\/bfnrt", *p)) {
				p++;
			} else {
				return NULL;
			}
			continue;
		}
		u = utf8_len((const unsigned char *)p, strlen(p));
		if (!u)
			return NULL;
		p += u;
	}
	return p + 1;
}

static inline const char *json_number(const char *p)
{
	const char *start;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (*p == '.') {
		start = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == start)
			return NULL;
	}
	return p;
}

static inline const char *json_value(const char *p)
{
	p = ws(p);
	if (*p == '"')
		return json_string(p);
	if (!strncmp(p, "true", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	return json_number(p);
}

/* Whether line is one JSON object then "\n", and nothing else. */
static inline bool json_line_valid(const char *line)
{
	const char *p = ws(line);

	if (*p++ != '{')
		return false;
	p = ws(p);
	if (*p != '}') {
		for (;;) {
			p = json_string(ws(p));
			if (!p)
				return false;
			p = ws(p);
			if (*p++ != ':')
				return false;
			p = json_value(p);
			if (!p)
				return false;
			p = ws(p);
			if (*p == '}')
				break;
			if (*p++ != ',')
				return false;
		}
	}
	return !strcmp(p + 1, "\n");
}

/* Whether s is well-formed UTF-8 throughout. */
static inline bool utf8_valid(const char *s)
{
	size_t n = strlen(s), i, u;

	for (i = 0; i < n; i += u) {
		u = utf8_len((const unsigned char *)s + i, n - i);
		if (!u)
			return false;
	}
	return true;
}

/* Whether a text line is key=value pairs separated by one space, each
 * value bare (no space, quote, '=', backslash or control byte) or a
 * quoted string with JSON's escapes, then "\n" (a buffer too small for
 * any field holds only that). */
static inline bool text_line_valid(const char *line)
{
	const char *p = line;

	if (!utf8_valid(line))
		return false;
	if (!strcmp(line, "\n"))
		return true;
	for (;;) {
		if (!(*p >= 'a' && *p <= 'z'))
			return false;
		while ((*p >= 'a' && *p <= 'z') || *p == '_')
			p++;
		if (*p++ != '=')
			return false;
		if (*p == '"') {
			p = json_string(p);
			if (!p)
				return false;
		} else {
			const char *v = p;

			while ((unsigned char)*p > ' ' && *p != '"' &&
			       *p != '=' && *p != '\\' && *p != 0x7f)
				p++;
			if (p == v)
				return false;
		}
		if (*p == '\n')
			return !p[1];
		if (*p++ != ' ')
			return false;
	}
}

#endif /* XREDIR_TEST_JSON_CHECK_H */
