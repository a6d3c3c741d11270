/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The engine's per-source accounting: for every source (source.h) that
 * holds a flow, how many flows and pool buffers it holds, and its flows in
 * the order they opened. Entries live exactly as long as their flows (a
 * buffer always belongs to a flow), so max_flows entries always suffice.
 * Preallocated, keyed by SipHash: addresses are chosen by the peer.
 */
#ifndef XREDIR_SRCTABLE_H
#define XREDIR_SRCTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "siphash.h"
#include "source.h"

#define SRC_NONE 0u
/* A source holding fewer buffers of a pool is light there. */
#define SRC_LIGHT_BUFS 4

/* The pools whose buffers are counted per source. */
enum src_pool {
	SRC_POOL_SEND,
	SRC_POOL_HEAD,
	SRC_POOL_TLS, /* TLS sessions */
	SRC_POOL_HANDSHAKE, /* TLS handshakes in progress */
	SRC_POOLS
};

struct src_entry {
	struct source_key key;
	uint32_t hnext; /* hash chain, or free list */
	uint32_t flows;
	uint32_t bufs[SRC_POOLS];
	uint32_t oldest, newest; /* flow indices: the list of its flows */
};

struct src_table {
	struct src_entry *src; /* max + 1 entries, [0] unused */
	uint32_t *buckets;
	uint32_t mask;
	uint32_t free_head;
	uint32_t fresh; /* lowest index never handed out */
	uint32_t count;
	uint32_t max;
	uint32_t heavy[SRC_POOLS]; /* sources holding SRC_LIGHT_BUFS or more */
	struct siphash_key key;
};

int src_table_init(struct src_table *t, uint32_t max,
		   const struct siphash_key *key);
void src_table_free(struct src_table *t);
/* The entry of k, created with zero counts if new; SRC_NONE when full. */
uint32_t src_get(struct src_table *t, const struct source_key *k);
/* Frees the entry if it holds no flow (and so no buffer). */
void src_put_if_unused(struct src_table *t, uint32_t idx);
/* Counts one more or one fewer buffer of pool p for idx. */
void src_buf_add(struct src_table *t, uint32_t idx, enum src_pool p);
void src_buf_sub(struct src_table *t, uint32_t idx, enum src_pool p);
/* The source holding the most buffers of pool p, if one is not light
 * (SRC_NONE otherwise, at once). */
uint32_t src_heaviest(const struct src_table *t, enum src_pool p);
/* Whether the source holds few enough buffers of pool p to be light. */
static inline bool src_light(const struct src_table *t, uint32_t idx,
			     enum src_pool p)
{
	return t->src[idx].bufs[p] < SRC_LIGHT_BUFS;
}

static inline struct src_entry *src_at(struct src_table *t, uint32_t idx)
{
	return &t->src[idx];
}

#endif /* XREDIR_SRCTABLE_H */
