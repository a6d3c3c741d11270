// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "slots.h"

const char *slot_reason_name(unsigned int r)
{
	static const char *const names[SLOT_REASONS] = {
		[SLOT_PER_SOURCE] = "per_source",
		[SLOT_POOL_FULL] = "pool_full",
		[SLOT_EVICTED] = "evicted",
		[SLOT_HEADER_TIMEOUT] = "header_timeout",
	};

	return r < SLOT_REASONS ? names[r] : "unknown";
}

/* Whether a goes before b in eviction order. */
static bool evicts_before(const struct slot *a, const struct slot *b)
{
	if (a->state != b->state)
		return a->state < b->state;
	return a->since < b->since;
}

struct slot_choice slot_admit(const struct slot *s, uint32_t n,
			      const struct slot_policy *p,
			      const struct source_key *src)
{
	struct slot_choice c = { .slot = -1 };
	int32_t free_slot = -1, oldest = -1, oldest_own = -1;
	uint32_t i, own = 0;

	for (i = 0; i < n; i++) {
		if (!s[i].used) {
			if (free_slot < 0)
				free_slot = (int32_t)i;
			continue;
		}
		if (oldest < 0 || evicts_before(&s[i], &s[oldest]))
			oldest = (int32_t)i;
		if (!source_eq(&s[i].src, src))
			continue;
		own++;
		if (oldest_own < 0 || evicts_before(&s[i], &s[oldest_own]))
			oldest_own = (int32_t)i;
	}
	if (p->per_source && own >= p->per_source) {
		c.reason = SLOT_PER_SOURCE;
		if (p->evict) {
			c.slot = oldest_own;
			c.evict = true;
		}
	} else if (free_slot >= 0) {
		c.slot = free_slot;
	} else if (p->evict && oldest >= 0) {
		c.slot = oldest;
		c.evict = true;
		c.reason = SLOT_EVICTED;
	} else {
		c.reason = SLOT_POOL_FULL;
	}
	return c;
}
