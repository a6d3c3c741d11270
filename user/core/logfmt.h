/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A log line from typed fields, as key=value text or as a JSON object:
 * numbers stay numbers, strings are quoted and escaped where needed. Pure
 * (user/io/log.c adds the time and writes it out), so unit-tested.
 */
#ifndef XREDIR_LOGFMT_H
#define XREDIR_LOGFMT_H

#include <stdbool.h>
#include <stddef.h>

enum log_kind { LOG_K_STR, LOG_K_INT, LOG_K_UINT, LOG_K_BOOL };

struct log_field {
	const char *key; /* [a-z_]+, written as it is */
	enum log_kind kind;
	union {
		const char *s; /* NULL: written as an empty string */
		long long i;
		unsigned long long u;
		bool b;
	} v;
};

#define LOG_STR(k, x) ((struct log_field){ (k), LOG_K_STR, { .s = (x) } })
#define LOG_INT(k, x) \
	((struct log_field){ (k), LOG_K_INT, { .i = (long long)(x) } })
#define LOG_UINT(k, x)       \
	((struct log_field){ \
		(k), LOG_K_UINT, { .u = (unsigned long long)(x) } })
#define LOG_BOOL(k, x) ((struct log_field){ (k), LOG_K_BOOL, { .b = (x) } })

/* Strings longer than this are cut (between characters, then "..."): a
 * line stays bounded. */
#define LOG_STR_MAX 1024
/* Room for any line: the fixed part, and every string escaped at worst. */
#define LOG_LINE_MAX 16384

/*
 * Writes "ts=TS level=LEVEL msg=MSG k=v..." or {"ts":..,"level":..,
 * "msg":..,"k":v,...}, then a newline, into buf (NUL-terminated); returns
 * the length. The line is always valid UTF-8 (bytes that are not are
 * escaped as \u00XX), and in JSON one whole object. A line longer than
 * len is cut inside a string value (between characters, then "...") or
 * between fields; the fields after the cut are left out and a
 * truncated=true field says so. A len under 4 (JSON) or 2 (text) gets an
 * empty string.
 */
size_t log_format(char *buf, size_t len, bool json, const char *ts,
		  const char *level, const char *msg, const struct log_field *f,
		  size_t n);

#endif /* XREDIR_LOGFMT_H */
