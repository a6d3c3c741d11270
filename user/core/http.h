/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * HTTP/1.x request path: a strict request-head parser (RFC 9112,
 * http_parse.h), the redirect and error response builders
 * (http_response.h), and the per-connection stream logic (pipelining, body
 * discard, partial heads) shared by every transport (http_stream.h).
 * Pure code over buffers: no sockets, no allocation.
 */
#ifndef XREDIR_HTTP_H
#define XREDIR_HTTP_H

#include "http_parse.h"
#include "http_fast.h"
#include "http_response.h"
#include "http_stream.h"

#endif /* XREDIR_HTTP_H */
