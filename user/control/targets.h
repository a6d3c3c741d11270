/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A worker's private copy of the target array, refreshed only when the
 * shared sequence number moves: the request path reads targets without a
 * syscall or a lock.
 */
#ifndef XREDIR_TARGETS_H
#define XREDIR_TARGETS_H

#include <stdbool.h>
#include <stdint.h>

#include "http.h"
#include "proxy.h"
#include "target_table.h"

struct target_cache {
	uint32_t seq; /* of the copy held, or the odd one it gave up on */
	bool loaded;
	struct xr_target raw[XR_MAX_TARGETS];
	struct xr_target next[XR_MAX_TARGETS]; /* a copy being taken */
	struct http_target http[XR_MAX_TARGETS];
	bool valid[XR_MAX_TARGETS];
	struct http_target fallback; /* until a default target exists */
	/* Redirects by target (target_for), of the target raw[i].gen names:
	 * zeroed when a refresh finds the slot's gen moved. */
	uint64_t hits[XR_MAX_TARGETS];
};

/*
 * Copies the targets again if they changed; cheap when they did not.
 * While a writer is active (or died half-way, leaving the sequence odd)
 * it keeps the copy it has and tries again on the next call, without
 * waiting; only the first copy waits a little (XR_SNAPSHOT_TRIES), then
 * serves the fallback until the sequence moves.
 */
void target_cache_refresh(struct target_cache *c, const struct xr_maps *m);
/* Target idx, or the default target when idx is not a valid one. */
const struct http_target *target_cache_get(const struct target_cache *c,
					   uint32_t idx);

#endif /* XREDIR_TARGETS_H */
