// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the buffer pool (bufpool.h): limits, exhaustion, LIFO
 * reuse, buffer placement, and random operations against a simple
 * reference model driven by a seeded pseudo-random generator.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bufpool.h"
#include "rng.h"
#include "test.h"

TEST(bufpool_init_limits)
{
	struct bufpool bp;

	CHECK(bufpool_init(&bp, 0, 10) != 0);
	CHECK(bufpool_init(&bp, 10, 0) != 0);
	REQUIRE(bufpool_init(&bp, 1, 1) == 0);
	CHECK_EQ(bufpool_get(&bp), 1);
	CHECK_EQ(bufpool_get(&bp), 0);
	bufpool_free(&bp);
	CHECK(bp.mem == NULL);
}

TEST(bufpool_exhaust)
{
	enum { SIZE = 2048, COUNT = 300 };
	struct bufpool bp;
	bool seen[COUNT + 1] = { false };
	uint32_t i, idx;

	REQUIRE(bufpool_init(&bp, SIZE, COUNT) == 0);
	for (i = 0; i < COUNT; i++) {
		idx = bufpool_get(&bp);
		REQUIRE(idx >= 1 && idx <= COUNT);
		CHECK(!seen[idx]);
		seen[idx] = true;
		CHECK_EQ(bp.used, i + 1);
	}
	CHECK_EQ(bufpool_get(&bp), 0);
	CHECK_EQ(bufpool_get(&bp), 0);
	CHECK_EQ(bp.used, COUNT);
	/* One back, one out again, then exhausted again. */
	bufpool_put(&bp, 42);
	CHECK_EQ(bp.used, COUNT - 1);
	CHECK_EQ(bufpool_get(&bp), 42);
	CHECK_EQ(bufpool_get(&bp), 0);
	for (i = 1; i <= COUNT; i++)
		bufpool_put(&bp, i);
	CHECK_EQ(bp.used, 0);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < COUNT; i++) {
		idx = bufpool_get(&bp);
		REQUIRE(idx >= 1 && idx <= COUNT);
		CHECK(!seen[idx]);
		seen[idx] = true;
	}
	CHECK_EQ(bufpool_get(&bp), 0);
	bufpool_free(&bp);
}

TEST(bufpool_lifo)
{
	struct bufpool bp;
	uint32_t a, b, c;

	REQUIRE(bufpool_init(&bp, 64, 8) == 0);
	a = bufpool_get(&bp);
	b = bufpool_get(&bp);
	c = bufpool_get(&bp);
	CHECK(a && b && c && a != b && b != c && a != c);
	bufpool_put(&bp, b);
	bufpool_put(&bp, a);
	CHECK_EQ(bufpool_get(&bp), a);
	CHECK_EQ(bufpool_get(&bp), b);
	bufpool_put(&bp, c);
	CHECK_EQ(bufpool_get(&bp), c);
	CHECK_EQ(bp.used, 3);
	bufpool_free(&bp);
}

/* Buffers lie within the area, do not overlap, and can be written whole. */
TEST(bufpool_buffers)
{
	static const uint32_t sizes[] = { 1, 7, 64, 1500, 4096, 65536 };
	unsigned int s;

	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint32_t size = sizes[s], count = 64, i, j, *idx;
		struct bufpool bp;
		int bad = 0;

		idx = calloc(count, sizeof(*idx));
		if (!idx)
			abort();
		REQUIRE(bufpool_init(&bp, size, count) == 0);
		for (i = 0; i < count; i++) {
			uint8_t *p;

			idx[i] = bufpool_get(&bp);
			REQUIRE(idx[i] != 0);
			p = bufpool_ptr(&bp, idx[i]);
			if (p < bp.mem ||
			    p + size > bp.mem + (size_t)size * count ||
			    (size_t)(p - bp.mem) % size)
				bad++;
			memset(p, (int)(i * 7 + 1), size);
		}
		for (i = 0; i < count; i++) {
			uint8_t *p = bufpool_ptr(&bp, idx[i]);

			for (j = 0; j < size; j++)
				if (p[j] != (uint8_t)(i * 7 + 1))
					bad++;
		}
		CHECK_EQ(bad, 0);
		CHECK(bufpool_ptr(&bp, 1) == bp.mem);
		CHECK(bufpool_ptr(&bp, count) + size ==
		      bp.mem + (size_t)size * count);
		bufpool_free(&bp);
		free(idx);
	}
}

TEST(bufpool_random_vs_reference)
{
	enum { COUNT = 50 };
	/* The model: the free list as a stack, 1 on top at first. */
	uint32_t used[COUNT], nused = 0, freel[COUNT], nfree = COUNT, i;
	struct bufpool bp;
	int op, bad = 0;

	for (i = 0; i < COUNT; i++)
		freel[i] = COUNT - i;
	REQUIRE(bufpool_init(&bp, 32, COUNT) == 0);
	rng_seed(31);
	for (op = 0; op < 100000; op++) {
		if (rnd_below(2) && nused) {
			uint32_t idx;

			i = rnd_below(nused);
			idx = used[i];
			used[i] = used[--nused];
			freel[nfree++] = idx;
			bufpool_put(&bp, idx);
			memset(bufpool_ptr(&bp, idx), 0xdd, 32);
		} else {
			uint32_t idx = bufpool_get(&bp);

			if (!nfree) {
				bad += idx != 0;
				continue;
			}
			if (idx != freel[--nfree]) {
				bad++;
				break;
			}
			used[nused++] = idx;
			memset(bufpool_ptr(&bp, idx), (int)idx, 32);
		}
		if (bp.used != nused)
			bad++;
	}
	for (i = 0; i < nused; i++) {
		uint8_t *p = bufpool_ptr(&bp, used[i]);

		if (p[0] != (uint8_t)used[i] || p[31] != (uint8_t)used[i])
			bad++;
	}
	CHECK_EQ(bad, 0);
	bufpool_free(&bp);
}
