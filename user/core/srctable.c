// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>

#include "reserve.h"
#include "srctable.h"

int src_table_init(struct src_table *t, uint32_t max,
		   const struct siphash_key *key)
{
	uint32_t nbuckets = 1;

	memset(t, 0, sizeof(*t));
	if (!max || max >= (1u << 30))
		return -1;
	while (nbuckets < max)
		nbuckets <<= 1;
	t->src = reserve(((size_t)max + 1) * sizeof(*t->src));
	if (!t->src)
		return -1;
	t->buckets = calloc(nbuckets, sizeof(*t->buckets));
	if (!t->buckets) {
		src_table_free(t);
		return -1;
	}
	t->mask = nbuckets - 1;
	t->fresh = 1;
	t->max = max;
	t->key = *key;
	return 0;
}

void src_table_free(struct src_table *t)
{
	unreserve(t->src, ((size_t)t->max + 1) * sizeof(*t->src));
	free(t->buckets);
	t->src = NULL;
	t->buckets = NULL;
}

static uint32_t *bucket_of(struct src_table *t, const struct source_key *k)
{
	return &t->buckets[siphash24(&t->key, k, sizeof(*k)) & t->mask];
}

uint32_t src_get(struct src_table *t, const struct source_key *k)
{
	uint32_t *bucket = bucket_of(t, k), idx = *bucket;
	struct src_entry *s;

	for (; idx; idx = t->src[idx].hnext)
		if (source_eq(&t->src[idx].key, k))
			return idx;
	idx = t->free_head;
	if (idx)
		t->free_head = t->src[idx].hnext;
	else if (t->fresh <= t->max)
		idx = t->fresh++;
	else
		return SRC_NONE;
	s = &t->src[idx];
	memset(s, 0, sizeof(*s));
	s->key = *k;
	s->hnext = *bucket;
	*bucket = idx;
	t->count++;
	return idx;
}

void src_put_if_unused(struct src_table *t, uint32_t idx)
{
	struct src_entry *s = &t->src[idx];
	uint32_t *link;

	if (s->flows)
		return;
	link = bucket_of(t, &s->key);
	while (*link && *link != idx)
		link = &t->src[*link].hnext;
	if (*link)
		*link = s->hnext;
	memset(s, 0, sizeof(*s));
	s->hnext = t->free_head;
	t->free_head = idx;
	t->count--;
}

void src_buf_add(struct src_table *t, uint32_t idx, enum src_pool p)
{
	if (++t->src[idx].bufs[p] == SRC_LIGHT_BUFS)
		t->heavy[p]++;
}

void src_buf_sub(struct src_table *t, uint32_t idx, enum src_pool p)
{
	if (t->src[idx].bufs[p]-- == SRC_LIGHT_BUFS)
		t->heavy[p]--;
}

/*
 * A scan of the entries in use, kept off the request path: it runs only
 * to reclaim a buffer, and only while a heavy source exists, so each one
 * is followed by a reclaim that takes a buffer from the heavy.
 */
uint32_t src_heaviest(const struct src_table *t, enum src_pool p)
{
	uint32_t i, best = SRC_NONE;

	if (!t->heavy[p])
		return SRC_NONE;
	for (i = 1; i < t->fresh; i++)
		if (t->src[i].flows &&
		    (!best || t->src[i].bufs[p] > t->src[best].bufs[p]))
			best = i;
	return best;
}
