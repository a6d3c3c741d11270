// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "pace.h"

void pace_init(struct pace *p, uint64_t nap_ns, uint64_t now)
{
	*p = (struct pace){ .nap_ns = nap_ns, .window_at = now };
}

void pace_pass(struct pace *p, uint64_t now, uint32_t n)
{
	uint64_t span = now - p->window_at;

	p->frames += n;
	if (n)
		p->last_frame_at = now;
	if (span < PACE_WINDOW_NS)
		return;
	/* Judged over the time that really passed: after a long sleep the
	 * few frames that woke the worker do not make a dense window. */
	p->dense = p->nap_ns && p->frames * p->nap_ns >= span;
	p->frames = 0;
	p->window_at = now;
}

bool pace_nap(const struct pace *p, uint64_t now)
{
	return p->dense && now - p->last_frame_at < PACE_NAPS * p->nap_ns;
}
