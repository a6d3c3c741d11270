// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdlib.h>

#include "reserve.h"
#include "bufpool.h"

int bufpool_init(struct bufpool *bp, uint32_t size, uint32_t count)
{
	size_t bytes = (size_t)size * count;
	uint32_t i;

	bp->mem = NULL;
	bp->next = calloc((size_t)count + 1, sizeof(*bp->next));
	if (!bp->next || !size || !count)
		goto fail;
	bp->mem = reserve(bytes);
	if (!bp->mem)
		goto fail;
	for (i = 1; i < count; i++)
		bp->next[i] = i + 1;
	bp->size = size;
	bp->count = count;
	bp->free_head = 1;
	bp->used = 0;
	return 0;
fail:
	free(bp->next);
	bp->next = NULL;
	return -1;
}

void bufpool_free(struct bufpool *bp)
{
	if (bp->mem)
		unreserve(bp->mem, (size_t)bp->size * bp->count);
	free(bp->next);
	bp->mem = NULL;
	bp->next = NULL;
}

uint32_t bufpool_get(struct bufpool *bp)
{
	uint32_t idx = bp->free_head;

	if (!idx)
		return 0;
	bp->free_head = bp->next[idx];
	bp->used++;
	return idx;
}

void bufpool_put(struct bufpool *bp, uint32_t idx)
{
	bp->next[idx] = bp->free_head;
	bp->free_head = idx;
	bp->used--;
}
