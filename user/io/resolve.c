// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "resolve.h"
#include "rules.h"
#include "tcp.h"

const struct http_target *
target_for(struct target_cache *c, const struct xr_maps *m,
	   const struct proxy_cfg *proxy, uint8_t family, const uint8_t *addr,
	   uint32_t xdp_target, const struct http_request *req)
{
	uint8_t cfamily, caddr[16];
	uint32_t target = xdp_target;
	bool matched;

	/* Behind a trusted proxy the client is named by a header, and its
	 * rule lookup is ours to make; likewise when XDP made none. */
	if (proxy_client_addr(proxy, family, addr, req, &cfamily, caddr))
		target = xr_rule_lookup(m, cfamily, caddr, &matched);
	else if (target == TCP_TARGET_NONE)
		target = xr_rule_lookup(m, family, addr, &matched);
	if (target >= XR_MAX_TARGETS || !c->valid[target])
		target = XR_TARGET_DEFAULT;
	c->hits[target]++;
	return target_cache_get(c, target);
}
