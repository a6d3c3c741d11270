// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>

#include "reserve.h"
#include "flow.h"

int flow_table_init(struct flow_table *ft, uint32_t max, uint64_t seed)
{
	uint32_t nbuckets = 1;

	memset(ft, 0, sizeof(*ft));
	if (!max || max >= (1u << 30))
		return -1;
	while (nbuckets < max)
		nbuckets <<= 1;
	ft->flows = reserve(((size_t)max + 1) * sizeof(struct flow));
	if (!ft->flows)
		return -1;
	ft->buckets = calloc(nbuckets, sizeof(*ft->buckets));
	if (!ft->buckets) {
		flow_table_free(ft);
		return -1;
	}
	ft->free_head = FLOW_NONE;
	ft->fresh = 1;
	ft->mask = nbuckets - 1;
	ft->max = max;
	ft->seed = seed;
	return 0;
}

void flow_table_free(struct flow_table *ft)
{
	unreserve(ft->flows, ((size_t)ft->max + 1) * sizeof(struct flow));
	free(ft->buckets);
	ft->flows = NULL;
	ft->buckets = NULL;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

/*
 * A seeded multiplicative hash: flows exist only after a completed
 * handshake, so an attacker cannot fill a chain without real connections,
 * and the random seed keeps the bucket of a tuple unpredictable.
 */
uint32_t flow_hash(const struct flow_table *ft, const struct flow_key *key)
{
	uint64_t w[5], h = ft->seed;
	int i;

	memcpy(w, key, sizeof(w));
	/* IPv4 addresses fill the first 4 bytes of each 16: two words hold
	 * everything (the rest is zero). */
	if (key->family == 4)
		return (uint32_t)mix(mix(h, (w[0] & 0xffffffff) | w[2] << 32),
				     w[4]);
	for (i = 0; i < 5; i++)
		h = mix(h, w[i]);
	return (uint32_t)(h ^ (h >> 32));
}

static bool key_eq(const struct flow_key *a, const struct flow_key *b)
{
	return !memcmp(a, b, sizeof(*a));
}

struct flow *flow_lookup(struct flow_table *ft, const struct flow_key *key,
			 uint32_t hash)
{
	uint32_t idx = ft->buckets[hash & ft->mask];

	while (idx) {
		struct flow *f = &ft->flows[idx];

		if (key_eq(&f->key, key))
			return f;
		idx = f->hnext;
	}
	return NULL;
}

struct flow *flow_insert(struct flow_table *ft, const struct flow_key *key,
			 uint32_t hash)
{
	uint32_t idx = ft->free_head, *bucket = &ft->buckets[hash & ft->mask];
	struct flow *f;

	if (idx) {
		ft->free_head = ft->flows[idx].hnext;
	} else if (ft->fresh <= ft->max) {
		idx = ft->fresh++; /* never used: keeps untouched pages out */
	} else {
		return NULL;
	}
	f = &ft->flows[idx];
	memset(f, 0, sizeof(*f));
	f->key = *key;
	f->hnext = *bucket;
	*bucket = idx;
	ft->count++;
	return f;
}

void flow_delete(struct flow_table *ft, struct flow *f)
{
	uint32_t idx = flow_index(ft, f);
	uint32_t *link = &ft->buckets[flow_hash(ft, &f->key) & ft->mask];

	while (*link && *link != idx)
		link = &ft->flows[*link].hnext;
	if (*link)
		*link = f->hnext;
	memset(f, 0, sizeof(*f));
	f->hnext = ft->free_head;
	ft->free_head = idx;
	ft->count--;
}

/* The README states the bytes per flow; keep the entry within them. */
_Static_assert(sizeof(struct flow) <= 248, "struct flow grew: update README");
