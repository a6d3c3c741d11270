// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <string.h>

#include "cookie.h"

/* 48 is Linux's tcp_min_snd_mss: a peer announcing less gets 48, as there. */
const uint16_t cookie_mss_table[8] = { 48,   216,  536,	 1024,
				       1220, 1360, 1440, 1460 };

/* Tags the fleet mark's input, so that it and the per-handshake hash are
 * two independent functions of the one secret. */
#define MARK_DOMAIN 0x6b72616du /* "mark" */

uint32_t cookie_mark(const struct siphash_key *k, const struct flow_key *key,
		     uint32_t counter)
{
	struct {
		struct flow_key key;
		uint32_t epoch;
		uint32_t domain;
	} in;

	memset(&in, 0, sizeof(in));
	in.key = *key;
	in.epoch = counter >> COOKIE_EPOCH_SHIFT;
	in.domain = MARK_DOMAIN;
	return (uint32_t)(siphash24(k, &in, sizeof(in)) >>
			  (64 - COOKIE_MARK_BITS))
	       << COOKIE_MARK_SHIFT;
}

static uint32_t cookie_hash(const struct siphash_key *k,
			    const struct flow_key *key, uint32_t client_isn,
			    uint32_t counter, uint32_t mss_idx)
{
	struct {
		struct flow_key key;
		uint32_t isn;
		uint32_t counter;
		uint32_t mss_idx;
	} in;

	memset(&in, 0, sizeof(in));
	in.key = *key;
	in.isn = client_isn;
	in.counter = counter;
	in.mss_idx = mss_idx;
	return (uint32_t)siphash24(k, &in, sizeof(in)) & 0x1f;
}

uint32_t cookie_make(const struct siphash_key *k, const struct flow_key *key,
		     uint32_t client_isn, uint16_t mss, uint64_t now_s,
		     uint16_t *mss_out)
{
	uint32_t counter = cookie_counter(now_s);
	uint32_t idx = 0, i;

	for (i = 0; i < 8; i++)
		if (cookie_mss_table[i] <= mss)
			idx = i;
	if (mss_out)
		*mss_out = cookie_mss_table[idx];
	return cookie_mark(k, key, counter) |
	       cookie_hash(k, key, client_isn, counter, idx) << 8 |
	       (counter & 0x1f) << 3 | idx;
}

uint16_t cookie_check(const struct siphash_key *k, const struct flow_key *key,
		      uint32_t client_isn, uint32_t cookie, uint64_t now_s)
{
	uint32_t now = cookie_counter(now_s);
	uint32_t idx = cookie & 7;
	uint32_t age = (now - (cookie >> 3)) & 0x1f;
	uint32_t made = now - age;

	if (age > COOKIE_MAX_AGE)
		return 0;
	if (cookie_mark(k, key, made) != (cookie & COOKIE_MARK_MASK) ||
	    cookie_hash(k, key, client_isn, made, idx) !=
		    ((cookie >> 8) & 0x1f))
		return 0;
	return cookie_mss_table[idx];
}
