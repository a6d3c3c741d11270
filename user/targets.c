// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <string.h>

#include "targets.h"
#include "tcp.h"

/* Answers with something sane even before any target is configured. */
static const char fallback_url[] = "https://k8s.gcr.io";

void target_cache_refresh(struct target_cache *c, const struct xr_maps *m)
{
	uint32_t seq = __atomic_load_n(&m->ctl->targets_seq, __ATOMIC_ACQUIRE);
	int i;

	if (c->loaded && seq == c->seq)
		return;
	if (!c->loaded)
		http_target_init(&c->fallback, fallback_url,
				 sizeof(fallback_url) - 1, 302);
	c->seq = xr_targets_snapshot(m, c->raw);
	c->loaded = true;
	for (i = 0; i < XR_MAX_TARGETS; i++) {
		struct xr_target *t = &c->raw[i];

		c->valid[i] = t->name[0] &&
			      !http_target_init(&c->http[i], t->url, t->url_len,
						t->status);
	}
}

const struct http_target *target_cache_get(const struct target_cache *c,
					   uint32_t idx)
{
	if (idx < XR_MAX_TARGETS && c->valid[idx])
		return &c->http[idx];
	if (c->valid[XR_TARGET_DEFAULT])
		return &c->http[XR_TARGET_DEFAULT];
	return &c->fallback;
}

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
