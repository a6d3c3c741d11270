// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stddef.h>

#include "cookie.h"

/* The XDP program builds this layout by hand (bpf/xredir.bpf.c). */
_Static_assert(sizeof(struct flow_key) == COOKIE_KEY_LEN &&
		       offsetof(struct flow_key, daddr) == COOKIE_KEY_DADDR &&
		       offsetof(struct flow_key, sport) == COOKIE_KEY_SPORT &&
		       offsetof(struct flow_key, dport) == COOKIE_KEY_DPORT &&
		       offsetof(struct flow_key, family) == COOKIE_KEY_FAMILY,
	       "a cookie hashes the flow key as laid out here");

const uint16_t cookie_mss_table[8] = COOKIE_MSS_TABLE;

uint32_t cookie_mark(const struct siphash_key *k, const struct flow_key *key,
		     uint32_t counter)
{
	return xr_cookie_mark(k->k0, k->k1, (const uint8_t *)key, counter);
}

uint32_t cookie_make(const struct siphash_key *k, const struct flow_key *key,
		     uint32_t client_isn, uint16_t mss, uint64_t now_s,
		     uint16_t *mss_out)
{
	uint32_t idx = xr_cookie_mss_index(mss);

	if (mss_out)
		*mss_out = cookie_mss_table[idx];
	return xr_cookie_make(k->k0, k->k1, (const uint8_t *)key, client_isn,
			      idx, cookie_counter(now_s));
}

uint16_t cookie_check(const struct siphash_key *k, const struct flow_key *key,
		      uint32_t client_isn, uint32_t cookie, uint64_t now_s)
{
	uint32_t now = cookie_counter(now_s);
	uint32_t idx = cookie & 7;
	uint32_t age = (now - (cookie >> 3)) & 0x1f;
	uint32_t made = now - age;
	const uint8_t *kb = (const uint8_t *)key;

	if (age > COOKIE_MAX_AGE)
		return 0;
	if (xr_cookie_mark(k->k0, k->k1, kb, made) !=
		    (cookie & COOKIE_MARK_MASK) ||
	    xr_cookie_hash(k->k0, k->k1, kb, client_isn, made, idx) !=
		    ((cookie >> 8) & 0x1f))
		return 0;
	return cookie_mss_table[idx];
}
