// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "adopt.h"
#include "http_fast.h"
#include "packet.h"

bool adopt_ack_ok(const struct siphash_key *k, const struct flow_key *key,
		  uint32_t ack, uint64_t now_s, uint32_t *mark)
{
	uint32_t counter = cookie_counter(now_s), m, i;

	for (i = 0; i < ADOPT_EPOCHS; i++) {
		/* A counter of each epoch back; it wraps with the counter. */
		m = cookie_mark(k, key, counter - (i << COOKIE_EPOCH_SHIFT));
		if (adopt_mark_fits(m, ack)) {
			*mark = m;
			return true;
		}
	}
	return false;
}

bool adopt_head_ok(const uint8_t *payload, uint32_t len,
		   const struct http_limits *lim)
{
	struct http_request req;

	return http_parse(payload, len, lim, &req) == HTTP_OK;
}

enum adopt_verdict adopt_judge(const struct siphash_key *k,
			       const struct flow_key *key, uint8_t flags,
			       uint32_t ack, const uint8_t *payload,
			       uint32_t len, const struct http_limits *lim,
			       uint64_t now_s, uint32_t *mark)
{
	if ((flags & (TCP_ACK | TCP_SYN | TCP_RST | TCP_FIN)) != TCP_ACK ||
	    !len)
		return ADOPT_NOT_DATA;
	if (!adopt_ack_ok(k, key, ack, now_s, mark))
		return ADOPT_BAD_ACK;
	if (!adopt_head_ok(payload, len, lim))
		return ADOPT_NO_HEAD;
	return ADOPT_OK;
}
