/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A hashed timing wheel of millisecond slots over node ids 1..n (flow
 * indices). Each node is in at most one slot; scheduling and cancelling are
 * O(1). Deadlines beyond one revolution stay in their slot and are skipped
 * until due, so any deadline works. No allocation after init.
 */
#ifndef XREDIR_TIMER_H
#define XREDIR_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct twheel {
	uint32_t *slot; /* head node of each slot, 0: empty */
	uint32_t *next, *prev; /* per node */
	uint64_t *when; /* per node deadline (ms), 0: not scheduled */
	uint64_t *occupied; /* bitmap of non-empty slots */
	uint32_t nslots; /* a power of two */
	uint32_t nodes;
	uint32_t count;
	uint64_t cur; /* next millisecond to process */
};

int tw_init(struct twheel *tw, uint32_t nodes, uint32_t nslots,
	    uint64_t now_ms);
void tw_free(struct twheel *tw);
/* (Re)schedules id at when_ms; a time already past fires on the next run. */
void tw_schedule(struct twheel *tw, uint32_t id, uint64_t when_ms);
void tw_cancel(struct twheel *tw, uint32_t id);

static inline uint64_t tw_when(const struct twheel *tw, uint32_t id)
{
	return tw->when[id];
}

/*
 * Unlinks and returns up to max nodes whose deadline is <= now_ms. Call
 * again while it returns max: more may be due.
 */
uint32_t tw_expire(struct twheel *tw, uint64_t now_ms, uint32_t *out,
		   uint32_t max);
/* Milliseconds until the earliest occupied slot (capped at cap_ms); 0 if
 * a deadline is already due. A slot may hold only later deadlines, so the
 * answer can be early, never late. */
uint64_t tw_sleep_ms(const struct twheel *tw, uint64_t now_ms, uint64_t cap_ms);

#endif /* XREDIR_TIMER_H */
