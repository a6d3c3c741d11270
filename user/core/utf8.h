/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * UTF-8 well-formedness (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF), for output that must be valid text: log lines
 * (logfmt.c) and JSON (json.h) escape the bytes that are not.
 */
#ifndef XREDIR_UTF8_H
#define XREDIR_UTF8_H

#include <stddef.h>

/* The length of the well-formed sequence s starts with (n bytes there,
 * n >= 1), or 0 if s[0] starts none. */
static inline size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c < 0xc2 || c > 0xf4)
		return 0; /* a continuation, an overlong lead, or too high */
	len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xf0 && s[1] < 0x90))
		return 0; /* overlong */
	if ((c == 0xed && s[1] > 0x9f) || (c == 0xf4 && s[1] > 0x8f))
		return 0; /* a surrogate, or above U+10FFFF */
	return len;
}

#endif /* XREDIR_UTF8_H */
