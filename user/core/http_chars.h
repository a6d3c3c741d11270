/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Byte classes of the HTTP grammar, private to the HTTP files. One table
 * for the parser and the response builders, so that the bytes the parser
 * counts as needing escapes are the bytes the builders escape.
 */
#ifndef XREDIR_HTTP_CHARS_H
#define XREDIR_HTTP_CHARS_H

#include <stdint.h>

enum char_class {
	C_TCHAR = 0x01, /* token character (method, field name) */
	C_TARGET = 0x02, /* may appear in a request-target (raw) */
	C_ENCODE = 0x04, /* percent-encoded when copied to Location */
	C_VALUE = 0x08, /* field-value character (VCHAR, obs-text, SP, HTAB) */
	C_HOST = 0x10, /* may appear in a Host value */
	C_HTML = 0x20, /* escaped in the HTML body */
};

/* Classes of every byte; filled before main() (http_parse.c). */
extern uint8_t http_cclass[256];

#endif /* XREDIR_HTTP_CHARS_H */
