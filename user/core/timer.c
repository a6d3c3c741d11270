// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdlib.h>

#include "timer.h"

int tw_init(struct twheel *tw, uint32_t nodes, uint32_t nslots, uint64_t now_ms)
{
	if (!nslots || (nslots & (nslots - 1)) || nslots < 64)
		return -1;
	tw->slot = calloc(nslots, sizeof(*tw->slot));
	tw->next = calloc((size_t)nodes + 1, sizeof(*tw->next));
	tw->prev = calloc((size_t)nodes + 1, sizeof(*tw->prev));
	tw->when = calloc((size_t)nodes + 1, sizeof(*tw->when));
	tw->occupied = calloc(nslots / 64, sizeof(*tw->occupied));
	tw->nslots = nslots;
	tw->nodes = nodes;
	tw->count = 0;
	tw->cur = now_ms;
	if (!tw->slot || !tw->next || !tw->prev || !tw->when || !tw->occupied) {
		tw_free(tw);
		return -1;
	}
	return 0;
}

void tw_free(struct twheel *tw)
{
	free(tw->slot);
	free(tw->next);
	free(tw->prev);
	free(tw->when);
	free(tw->occupied);
	tw->slot = tw->next = tw->prev = NULL;
	tw->when = tw->occupied = NULL;
}

static uint32_t slot_of(const struct twheel *tw, uint64_t ms)
{
	return (uint32_t)(ms & (tw->nslots - 1));
}

static void unlink_node(struct twheel *tw, uint32_t id)
{
	uint32_t s = slot_of(tw, tw->when[id]);

	if (tw->prev[id])
		tw->next[tw->prev[id]] = tw->next[id];
	else
		tw->slot[s] = tw->next[id];
	if (tw->next[id])
		tw->prev[tw->next[id]] = tw->prev[id];
	if (!tw->slot[s])
		tw->occupied[s / 64] &= ~(1ull << (s % 64));
	tw->when[id] = 0;
	tw->count--;
}

void tw_cancel(struct twheel *tw, uint32_t id)
{
	if (tw->when[id])
		unlink_node(tw, id);
}

void tw_schedule(struct twheel *tw, uint32_t id, uint64_t when_ms)
{
	uint32_t s;

	tw_cancel(tw, id);
	if (!when_ms)
		when_ms = 1; /* 0 marks "not scheduled" */
	/* Already past the processed time: revisit from there, so it fires
	 * on the next run (slots in between hold only later deadlines). */
	if (when_ms < tw->cur)
		tw->cur = when_ms;
	s = slot_of(tw, when_ms);
	tw->when[id] = when_ms;
	tw->prev[id] = 0;
	tw->next[id] = tw->slot[s];
	if (tw->slot[s])
		tw->prev[tw->slot[s]] = id;
	tw->slot[s] = id;
	tw->occupied[s / 64] |= 1ull << (s % 64);
	tw->count++;
}

uint32_t tw_expire(struct twheel *tw, uint64_t now_ms, uint32_t *out,
		   uint32_t max)
{
	uint32_t n = 0, id, next;

	/* One revolution visits every slot: older slots need no visit. */
	if (now_ms >= tw->nslots && tw->cur < now_ms - tw->nslots + 1)
		tw->cur = now_ms - tw->nslots + 1;
	while (tw->cur <= now_ms) {
		uint32_t s = slot_of(tw, tw->cur);

		for (id = tw->slot[s]; id; id = next) {
			next = tw->next[id];
			if (tw->when[id] > now_ms)
				continue;
			if (n == max)
				return n;
			unlink_node(tw, id);
			out[n++] = id;
		}
		tw->cur++;
	}
	return n;
}

uint64_t tw_sleep_ms(const struct twheel *tw, uint64_t now_ms, uint64_t cap_ms)
{
	uint64_t t = tw->cur, end, i;
	uint32_t s;

	if (!tw->count)
		return cap_ms;
	/* Unprocessed time a revolution or more behind: run now. */
	if (now_ms >= t + tw->nslots)
		return 0;
	end = cap_ms > UINT64_MAX - now_ms ? UINT64_MAX : now_ms + cap_ms;
	for (i = 0; i < tw->nslots && t + i <= end; i++) {
		s = slot_of(tw, t + i);
		if (!(s % 64) && !tw->occupied[s / 64] &&
		    i + 64 <= tw->nslots) {
			i += 63; /* a whole empty bitmap word */
			continue;
		}
		if (tw->occupied[s / 64] & (1ull << (s % 64)))
			return t + i <= now_ms ? 0 : t + i - now_ms;
	}
	return cap_ms;
}
