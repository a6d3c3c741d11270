// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <string.h>

#include "defaults.h"
#include "targets.h"
#include "tcp.h"

/* Answers with something sane even before any target is configured. */
static const char fallback_url[] = DEFAULT_TARGET;

void target_cache_refresh(struct target_cache *c, const struct xr_maps *m)
{
	uint32_t seq = __atomic_load_n(&m->ctl->targets_seq, __ATOMIC_ACQUIRE);
	int i;

	if (c->loaded && seq == c->seq)
		return;
	if (!c->loaded)
		http_target_init(&c->fallback, fallback_url,
				 sizeof(fallback_url) - 1, 302);
	if (xr_targets_snapshot(m, c->next, &seq,
				c->loaded ? 1 : XR_SNAPSHOT_TRIES)) {
		/* No copy yet: the fallback, until the sequence moves. */
		if (!c->loaded)
			c->seq = seq;
		c->loaded = true;
		return;
	}
	for (i = 0; i < XR_MAX_TARGETS; i++)
		if (c->next[i].gen != c->raw[i].gen)
			c->hits[i] = 0; /* another target: its count starts */
	memcpy(c->raw, c->next, sizeof(c->raw));
	c->seq = seq;
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
