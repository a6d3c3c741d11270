/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Admission to a fixed pool of connection slots (the kernel-socket
 * listener's): a cap per source, and for a pool that must always take a
 * newcomer (health probes), which connection gives up its slot. Pure: the
 * caller closes what it is told to.
 */
#ifndef XREDIR_SLOTS_H
#define XREDIR_SLOTS_H

#include <stdbool.h>
#include <stdint.h>

#include "source.h"

/* Why a connection was refused or closed unanswered. */
enum slot_reason {
	SLOT_PER_SOURCE, /* its source held its cap: refused, or (evicting
			  * pool) that source's longest-waiting one closed */
	SLOT_POOL_FULL, /* every slot taken: refused */
	SLOT_EVICTED, /* every slot taken: the longest-waiting one closed */
	SLOT_HEADER_TIMEOUT, /* no complete request head by its deadline */
	SLOT_REASONS,
};

/* Metric label of a reason ("per_source", ...). */
const char *slot_reason_name(unsigned int r);

/* What a slot's connection is doing, in eviction order (first goes first). */
enum slot_state {
	SLOT_NEW, /* accepted, no request completed yet */
	SLOT_IDLE, /* answered, waiting for its next request */
	SLOT_ANSWERING, /* a complete request is being answered */
};

struct slot {
	struct source_key src;
	bool used;
	uint8_t state; /* enum slot_state */
	uint64_t since; /* ms: accepted, or entered its state */
};

struct slot_policy {
	uint32_t per_source; /* slots one source may hold; 0: no cap */
	bool evict; /* when full, make room rather than refuse */
};

struct slot_choice {
	int32_t slot; /* the newcomer's slot; -1: refuse it */
	bool evict; /* close the slot's connection first */
	enum slot_reason reason; /* of a refusal or an eviction */
};

/*
 * Where a newcomer from src goes among the n slots. At its source's cap it
 * is refused, or, when p->evict, takes the slot of that source's first
 * connection in eviction order (state, then the longest in it): one source
 * only ever displaces itself. Else a free slot; if none, refused, or, when
 * p->evict, the first connection of the whole pool in eviction order.
 */
struct slot_choice slot_admit(const struct slot *s, uint32_t n,
			      const struct slot_policy *p,
			      const struct source_key *src);

#endif /* XREDIR_SLOTS_H */
