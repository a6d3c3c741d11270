// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The ACK ring's clock offset (user/io/ack_ring.c): the monotonic line of
 * /proc/PID/timens_offsets, as the kernel writes it, read from memory.
 */
#include <stdio.h>
#include <string.h>

#include "ack_ring.h"
#include "test.h"

static uint64_t offset_of(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	uint64_t off;

	if (!f)
		return 0xdead;
	off = timens_monotonic_offset_ns(f);
	fclose(f);
	return off;
}

TEST(no_time_namespace_is_zero)
{
	CHECK_EQ(offset_of("monotonic           0         0\n"
			   "boottime            0         0\n"),
		 0);
}

TEST(a_namespace_days_ahead)
{
	CHECK_EQ(offset_of("monotonic      864000       250\n"
			   "boottime            7         0\n"),
		 864000ull * 1000000000ull + 250);
}

/* Behind, 5.5 s as the kernel writes it (nanoseconds never negative): the
 * offset wraps, and adding it still subtracts. */
TEST(a_namespace_behind_wraps)
{
	uint64_t off = offset_of("boottime 0 0\nmonotonic -6 500000000\n");

	CHECK_EQ(off, (uint64_t)-5500000000ll);
	CHECK_EQ(6000000000ull + off, 500000000ull);
}

TEST(no_monotonic_line_or_garbage_is_zero)
{
	CHECK_EQ(offset_of(""), 0);
	CHECK_EQ(offset_of("boottime 3 0\n"), 0);
	CHECK_EQ(offset_of("monotonic x y\n"), 0);
}
