/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Client address -> target, for the AF_XDP workers and the kernel-socket
 * listener alike: the rule lookup reads the pinned LPM maps, so this sits
 * in the I/O shell, outside the pure target cache.
 */
#ifndef XREDIR_RESOLVE_H
#define XREDIR_RESOLVE_H

#include "targets.h"

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

#endif /* XREDIR_RESOLVE_H */
