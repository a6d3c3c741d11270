/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A pool of equal-sized buffers with a LIFO free list (a freed buffer is
 * the next one handed out, still warm in cache). The memory is reserved up
 * front and only touched pages become resident. Index 0 means "none".
 */
#ifndef XREDIR_BUFPOOL_H
#define XREDIR_BUFPOOL_H

#include <stdint.h>

struct bufpool {
	uint8_t *mem;
	uint32_t *next; /* free list links */
	uint32_t size; /* bytes per buffer */
	uint32_t count;
	uint32_t free_head;
	uint32_t used;
};

int bufpool_init(struct bufpool *bp, uint32_t size, uint32_t count);
void bufpool_free(struct bufpool *bp);
uint32_t bufpool_get(struct bufpool *bp); /* 0 when exhausted */
void bufpool_put(struct bufpool *bp, uint32_t idx);

static inline uint8_t *bufpool_ptr(const struct bufpool *bp, uint32_t idx)
{
	return bp->mem + (uint64_t)(idx - 1) * bp->size;
}

#endif /* XREDIR_BUFPOOL_H */
