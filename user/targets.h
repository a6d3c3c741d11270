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
#include "rules.h"

struct target_cache {
	uint32_t seq;
	bool loaded;
	struct xr_target raw[XR_MAX_TARGETS];
	struct http_target http[XR_MAX_TARGETS];
	bool valid[XR_MAX_TARGETS];
	struct http_target fallback; /* until a default target exists */
	uint64_t hits[XR_MAX_TARGETS]; /* redirects by target (target_for) */
};

/* Copies the targets again if they changed; cheap when they did not. */
void target_cache_refresh(struct target_cache *c, const struct xr_maps *m);
/* Target idx, or the default target when idx is not a valid one. */
const struct http_target *target_cache_get(const struct target_cache *c,
					   uint32_t idx);

/*
 * The one client-to-target mapping: the client a trusted proxy's header
 * names, else the peer (family, addr), whose rule lookup the XDP program
 * may have made already (xdp_target; TCP_TARGET_NONE if not); a target not
 * defined becomes the default. Counted in c->hits.
 */
const struct http_target *
target_for(struct target_cache *c, const struct xr_maps *m,
	   const struct proxy_cfg *proxy, uint8_t family, const uint8_t *addr,
	   uint32_t xdp_target, const struct http_request *req);

#endif /* XREDIR_TARGETS_H */
