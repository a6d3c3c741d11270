// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: the HTTP fast path against the strict parser. On any
 * input, under limits the first byte picks, the fast path declines or
 * gives exactly the strict parser's answer (http_fast.h's contract).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "http_test.h"

/* The first byte: which corpus limits, and tight limits on top. */
static void pick_limits(struct http_limits *lim, uint8_t b)
{
	corpus_limits(lim, (enum http_corpus_limits)(b % 3));
	if (b & 0x04)
		lim->max_request_line = 16 + (b >> 5);
	if (b & 0x08)
		lim->max_header_bytes = 20 + (b >> 5);
	if (b & 0x10)
		lim->max_fields = b >> 6;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request fast, strict;
	struct http_limits lim;
	uint8_t *buf;
	int ret;

	if (size < 1)
		return 0;
	pick_limits(&lim, data[0]);
	/* An exact-size copy: a read past the end is an ASan error. */
	buf = malloc(size - 1 ? size - 1 : 1);
	assert(buf);
	memcpy(buf, data + 1, size - 1);
	memset(&fast, 0x5a, sizeof(fast));
	ret = http_parse_fast(buf, size - 1, &lim, &fast);
	if (ret != HTTP_FAST_DECLINE) {
		assert(ret == HTTP_OK);
		assert(http_parse_head(buf, size - 1, &lim, &strict) ==
		       HTTP_OK);
		assert(http_req_same(&fast, &strict));
	}
	free(buf);
	return 0;
}
