/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A worker's redirect count by target slot, with the gen of the target it
 * counts for, published in the pinned stats map (struct xr_worker_stats)
 * under a sequence per slot: odd while the worker writes the pair. The
 * worker writes it once per stats period and only when it changed; the
 * request path only increments its private count.
 */
#ifndef XREDIR_TARGET_COUNT_H
#define XREDIR_TARGET_COUNT_H

#include <stdbool.h>
#include <stdint.h>

#include "xredir_shared.h"

/* Readers retry a slot being written this many times: the write is three
 * stores, so only a writer that died half-way keeps it odd. */
#define TARGET_COUNT_TRIES 1000

/* The worker (the slot's only writer) publishes count n for gen. A slot
 * left odd by a writer that died stays odd until this write completes. */
static inline void target_count_publish(struct xr_worker_stats *s,
					uint32_t slot, uint32_t gen, uint64_t n)
{
	uint32_t odd = s->target_seq[slot] | 1;

	if (s->target_requests[slot] == n && s->target_gen[slot] == gen &&
	    !(s->target_seq[slot] & 1))
		return;
	__atomic_store_n(&s->target_seq[slot], odd, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE); /* odd before the pair */
	__atomic_store_n(&s->target_requests[slot], n, __ATOMIC_RELAXED);
	__atomic_store_n(&s->target_gen[slot], gen, __ATOMIC_RELAXED);
	__atomic_store_n(&s->target_seq[slot], odd + 1, __ATOMIC_RELEASE);
}

/* A consistent (gen, count) of the slot; false if a writer kept it busy
 * through every try. */
static inline bool target_count_read(const struct xr_worker_stats *s,
				     uint32_t slot, uint32_t *gen, uint64_t *n)
{
	uint32_t seq;
	int tries;

	for (tries = 0; tries < TARGET_COUNT_TRIES; tries++) {
		seq = __atomic_load_n(&s->target_seq[slot], __ATOMIC_ACQUIRE);
		if (seq & 1)
			continue;
		*n = __atomic_load_n(&s->target_requests[slot],
				     __ATOMIC_RELAXED);
		*gen = __atomic_load_n(&s->target_gen[slot], __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE); /* the pair first */
		if (__atomic_load_n(&s->target_seq[slot], __ATOMIC_RELAXED) ==
		    seq)
			return true;
	}
	return false;
}

#endif /* XREDIR_TARGET_COUNT_H */
