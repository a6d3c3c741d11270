// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the timing wheel (timer.h): order, exact times, reschedule,
 * cancel, chunked expiry, time jumps, sleep lengths, and random schedules
 * against a simple reference model driven by a seeded pseudo-random
 * generator.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "timer.h"
#include "rng.h"
#include "test.h"

TEST(timer_init_limits)
{
	struct twheel tw;

	CHECK(tw_init(&tw, 10, 0, 0) != 0);
	CHECK(tw_init(&tw, 10, 32, 0) != 0);
	CHECK(tw_init(&tw, 10, 100, 0) != 0);
	CHECK(tw_init(&tw, 10, 65, 0) != 0);
	REQUIRE(tw_init(&tw, 10, 64, 0) == 0);
	CHECK_EQ(tw.count, 0);
	tw_free(&tw);
	REQUIRE(tw_init(&tw, 10, 1u << 16, 12345) == 0);
	CHECK_EQ(tw.cur, 12345);
	tw_free(&tw);
}

TEST(timer_basic_order)
{
	struct twheel tw;
	uint32_t out[8];
	const uint64_t t0 = 1000;

	REQUIRE(tw_init(&tw, 100, 64, t0) == 0);
	tw_schedule(&tw, 1, t0 + 5);
	tw_schedule(&tw, 2, t0 + 3);
	tw_schedule(&tw, 3, t0 + 10);
	tw_schedule(&tw, 100, t0 + 10);
	CHECK_EQ(tw.count, 4);
	CHECK_EQ(tw_when(&tw, 1), t0 + 5);
	CHECK_EQ(tw_expire(&tw, t0 + 2, out, 8), 0);
	CHECK_EQ(tw_expire(&tw, t0 + 3, out, 8), 1);
	CHECK_EQ(out[0], 2);
	CHECK_EQ(tw_when(&tw, 2), 0);
	CHECK_EQ(tw_expire(&tw, t0 + 4, out, 8), 0);
	/* Several due in one call come out in deadline order. */
	REQUIRE(tw_expire(&tw, t0 + 10, out, 8) == 3);
	CHECK_EQ(out[0], 1);
	CHECK((out[1] == 3 && out[2] == 100) || (out[1] == 100 && out[2] == 3));
	CHECK_EQ(tw.count, 0);
	CHECK_EQ(tw_expire(&tw, t0 + 1000, out, 8), 0);
	tw_free(&tw);
}

/*
 * Stepping one millisecond at a time, each node fires exactly on time,
 * including deadlines several revolutions away.
 */
static void timer_exact_run(uint32_t nslots)
{
	uint32_t nodes = 3 * nslots / 5 + 2, id, n, i;
	const uint64_t t0 = 5000;
	uint64_t span = 3 * (uint64_t)nslots + 7, now;
	uint64_t *want = calloc((size_t)nodes + 1, sizeof(*want));
	uint32_t out[16];
	struct twheel tw;
	int early = 0, late = 0, fired = 0;

	if (!want)
		abort();
	REQUIRE(tw_init(&tw, nodes, nslots, t0) == 0);
	rng_seed(nslots);
	for (id = 1; id <= nodes; id++) {
		want[id] = t0 + rnd_below((uint32_t)span);
		tw_schedule(&tw, id, want[id]);
	}
	for (now = t0; now <= t0 + span; now++) {
		do {
			n = tw_expire(&tw, now, out, 16);
			for (i = 0; i < n; i++) {
				id = out[i];
				if (want[id] > now)
					early++;
				else if (want[id] < now)
					late++;
				want[id] = 0;
				fired++;
			}
		} while (n == 16 && fired <= (int)nodes);
	}
	CHECK_EQ(early, 0);
	CHECK_EQ(late, 0);
	CHECK_EQ(fired, nodes);
	CHECK_EQ(tw.count, 0);
	tw_free(&tw);
	free(want);
}

TEST(timer_exact_times)
{
	timer_exact_run(64);
	timer_exact_run(4096);
}

/*
 * Called at irregular times, a node fires at the first call at or after
 * its deadline, and never before.
 */
TEST(timer_irregular_calls)
{
	const uint32_t nodes = 500;
	uint64_t want[501], now = 777, last = 776;
	uint32_t out[600], n, i, id;
	struct twheel tw;
	int bad = 0, fired = 0;

	REQUIRE(tw_init(&tw, nodes, 64, now) == 0);
	rng_seed(15);
	for (id = 1; id <= nodes; id++) {
		want[id] = now + rnd_below(1000);
		tw_schedule(&tw, id, want[id]);
	}
	while (fired < (int)nodes && now < 5000) {
		now += rnd_below(3) ? rnd_below(10) : rnd_below(150);
		n = tw_expire(&tw, now, out, 600);
		for (i = 0; i < n; i++) {
			id = out[i];
			/* Due, and not due at the previous call. */
			if (!want[id] || want[id] > now || want[id] <= last)
				bad++;
			want[id] = 0;
			fired++;
		}
		for (id = 1; id <= nodes; id++)
			if (want[id] && want[id] <= now)
				bad++;
		last = now;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(fired, nodes);
	tw_free(&tw);
}

TEST(timer_reschedule_moves)
{
	struct twheel tw;
	uint32_t out[4];

	REQUIRE(tw_init(&tw, 8, 64, 100) == 0);
	tw_schedule(&tw, 1, 110);
	tw_schedule(&tw, 2, 110);
	tw_schedule(&tw, 1, 120); /* later */
	CHECK_EQ(tw.count, 2);
	CHECK_EQ(tw_when(&tw, 1), 120);
	REQUIRE(tw_expire(&tw, 115, out, 4) == 1);
	CHECK_EQ(out[0], 2);
	tw_schedule(&tw, 1, 116); /* earlier */
	CHECK_EQ(tw.count, 1);
	CHECK_EQ(tw_expire(&tw, 115, out, 4), 0);
	REQUIRE(tw_expire(&tw, 116, out, 4) == 1);
	CHECK_EQ(out[0], 1);
	CHECK_EQ(tw_expire(&tw, 200, out, 4), 0);
	/* To the same slot, one revolution later, and back. */
	tw_schedule(&tw, 3, 210);
	tw_schedule(&tw, 3, 210 + 64);
	CHECK_EQ(tw.count, 1);
	CHECK_EQ(tw_expire(&tw, 210 + 63, out, 4), 0);
	REQUIRE(tw_expire(&tw, 210 + 64, out, 4) == 1);
	CHECK_EQ(out[0], 3);
	tw_schedule(&tw, 3, 300 + 64);
	tw_schedule(&tw, 3, 300);
	REQUIRE(tw_expire(&tw, 300, out, 4) == 1);
	CHECK_EQ(tw_expire(&tw, 400, out, 4), 0);
	/* Rescheduling a node in the middle of a slot's list. */
	tw_schedule(&tw, 4, 500);
	tw_schedule(&tw, 5, 500);
	tw_schedule(&tw, 6, 500);
	tw_schedule(&tw, 5, 501);
	CHECK_EQ(tw.count, 3);
	REQUIRE(tw_expire(&tw, 500, out, 4) == 2);
	CHECK((out[0] == 4 && out[1] == 6) || (out[0] == 6 && out[1] == 4));
	REQUIRE(tw_expire(&tw, 501, out, 4) == 1);
	CHECK_EQ(out[0], 5);
	CHECK_EQ(tw.count, 0);
	tw_free(&tw);
}

TEST(timer_cancel)
{
	struct twheel tw;
	uint32_t out[8], id;

	REQUIRE(tw_init(&tw, 8, 64, 0) == 0);
	for (id = 1; id <= 6; id++)
		tw_schedule(&tw, id, 50);
	tw_cancel(&tw, 1); /* the tail of the slot's list */
	tw_cancel(&tw, 6); /* the head */
	tw_cancel(&tw, 3); /* the middle */
	CHECK_EQ(tw.count, 3);
	CHECK_EQ(tw_when(&tw, 3), 0);
	tw_cancel(&tw, 3); /* not scheduled: nothing happens */
	tw_cancel(&tw, 7);
	CHECK_EQ(tw.count, 3);
	REQUIRE(tw_expire(&tw, 1000, out, 8) == 3);
	CHECK(out[0] != 1 && out[0] != 3 && out[0] != 6);
	CHECK(out[1] != 1 && out[1] != 3 && out[1] != 6);
	CHECK(out[2] != 1 && out[2] != 3 && out[2] != 6);
	/* Cancelled everywhere: an empty wheel sleeps the full cap. */
	tw_schedule(&tw, 2, 1100);
	tw_cancel(&tw, 2);
	CHECK_EQ(tw.count, 0);
	CHECK_EQ(tw_sleep_ms(&tw, 1000, 500), 500);
	CHECK_EQ(tw_expire(&tw, 5000, out, 8), 0);
	/* A cancelled node can be scheduled again. */
	tw_schedule(&tw, 2, 5010);
	REQUIRE(tw_expire(&tw, 5010, out, 8) == 1);
	CHECK_EQ(out[0], 2);
	tw_free(&tw);
}

TEST(timer_expire_chunks)
{
	struct twheel tw;
	uint32_t out[7], id, n, total = 0, calls = 0;
	bool seen[201] = { false };
	int bad = 0;

	REQUIRE(tw_init(&tw, 200, 64, 0) == 0);
	/* 150 due over a few slots, 50 not due sharing the same slots. */
	for (id = 1; id <= 150; id++)
		tw_schedule(&tw, id, 10 + id % 4);
	for (id = 151; id <= 200; id++)
		tw_schedule(&tw, id, 10 + id % 4 + 64 * (1 + id % 3));
	do {
		n = tw_expire(&tw, 20, out, 7);
		calls++;
		for (id = 0; id < n; id++) {
			if (out[id] < 1 || out[id] > 150 || seen[out[id]])
				bad++;
			else
				seen[out[id]] = true;
		}
		total += n;
	} while (n == 7 && calls < 1000);
	CHECK_EQ(bad, 0);
	CHECK_EQ(total, 150);
	CHECK_EQ(calls, 150 / 7 + 1);
	CHECK_EQ(tw.count, 50);
	/* Exactly max due: max, then 0. */
	for (id = 1; id <= 7; id++)
		tw_schedule(&tw, id, 30);
	CHECK_EQ(tw_expire(&tw, 30, out, 7), 7);
	CHECK_EQ(tw_expire(&tw, 30, out, 7), 0);
	/* max 1, across slots and a time jump. */
	for (id = 1; id <= 5; id++)
		tw_schedule(&tw, id, 40 + id * 30);
	total = 0;
	while (tw_expire(&tw, 10000, out, 1) == 1 && total < 1000)
		total++;
	CHECK_EQ(total, 55); /* and the 50 later ones */
	CHECK_EQ(tw.count, 0);
	tw_free(&tw);
}

/* Time jumps further than a revolution fire everything due at once. */
TEST(timer_time_jump)
{
	static const uint64_t jumps[] = { 63,  64,   65,     127,
					  128, 1000, 100000, 1ull << 40 };
	uint32_t out[16], n, i, id;
	unsigned int j;

	for (j = 0; j < sizeof(jumps) / sizeof(jumps[0]); j++) {
		struct twheel tw;
		uint64_t t0 = 2000, now = t0 + jumps[j];
		bool seen[11] = { false };
		int bad = 0, fired = 0, calls = 0;

		REQUIRE(tw_init(&tw, 10, 64, t0) == 0);
		for (id = 1; id <= 10; id++)
			tw_schedule(&tw, id, t0 + 1 + (id * id * 7) % 400);
		do {
			n = tw_expire(&tw, now, out, 3);
			for (i = 0; i < n; i++) {
				if (tw_when(&tw, out[i]))
					bad++;
				seen[out[i]] = true;
			}
		} while (n == 3 && ++calls < 100);
		for (id = 1; id <= 10; id++) {
			uint64_t w = t0 + 1 + (id * id * 7) % 400;

			if (seen[id] != (w <= now))
				bad++;
			fired += seen[id];
		}
		CHECK_EQ(bad, 0);
		CHECK_EQ(tw.count, 10 - fired);
		/* New deadlines after the jump work normally. */
		for (id = 1; id <= 10; id++)
			tw_cancel(&tw, id);
		tw_schedule(&tw, 1, now + 5);
		tw_schedule(&tw, 2, now + 64 + 5);
		CHECK_EQ(tw_sleep_ms(&tw, now, 1000), 5);
		CHECK_EQ(tw_expire(&tw, now + 4, out, 16), 0);
		REQUIRE(tw_expire(&tw, now + 5, out, 16) == 1);
		CHECK_EQ(out[0], 1);
		CHECK_EQ(tw_when(&tw, 2), now + 69);
		CHECK_EQ(tw_sleep_ms(&tw, now + 5, 1000), 64);
		CHECK_EQ(tw_expire(&tw, now + 68, out, 16), 0);
		CHECK_EQ(tw_expire(&tw, now + 69, out, 16), 1);
		tw_free(&tw);
	}
}

/*
 * A deadline already past keeps its time and fires on the next run (the
 * wheel goes back to it rather than moving it).
 */
TEST(timer_past_deadline_fires_on_next_run)
{
	struct twheel tw;
	uint32_t out[4];

	REQUIRE(tw_init(&tw, 4, 64, 1000) == 0);
	tw_schedule(&tw, 1, 10);
	CHECK_EQ(tw_when(&tw, 1), 10);
	REQUIRE(tw_expire(&tw, 1000, out, 4) == 1);
	CHECK_EQ(out[0], 1);
	CHECK_EQ(tw_expire(&tw, 1005, out, 4), 0);
	tw_schedule(&tw, 2, 900);
	CHECK_EQ(tw_when(&tw, 2), 900);
	REQUIRE(tw_expire(&tw, 1006, out, 4) == 1);
	CHECK_EQ(out[0], 2);
	tw_free(&tw);
	/* Deadline 0 is not "unscheduled". */
	REQUIRE(tw_init(&tw, 4, 64, 0) == 0);
	tw_schedule(&tw, 3, 0);
	CHECK(tw_when(&tw, 3) != 0);
	CHECK_EQ(tw.count, 1);
	REQUIRE(tw_expire(&tw, 1, out, 4) == 1);
	CHECK_EQ(out[0], 3);
	tw_free(&tw);
}

/*
 * timer.h: "a time already past fires on the next run". After a run at
 * now, a node scheduled at or before now must fire on the next run, even
 * one at the same millisecond.
 */
TEST(timer_past_deadline_fires_next_run)
{
	struct twheel tw;
	uint32_t out[4];

	REQUIRE(tw_init(&tw, 4, 64, 1000) == 0);
	CHECK_EQ(tw_expire(&tw, 1000, out, 4), 0);
	tw_schedule(&tw, 1, 990);
	tw_schedule(&tw, 2, 1000);
	CHECK_EQ(tw_expire(&tw, 1000, out, 4), 2);
	tw_free(&tw);
}

TEST(timer_sleep_ms)
{
	struct twheel tw;
	uint32_t out[4];
	uint64_t d, now = 100000;
	int bad = 0;

	REQUIRE(tw_init(&tw, 4, 4096, now) == 0);
	CHECK_EQ(tw_sleep_ms(&tw, now, 250), 250);
	CHECK_EQ(tw_expire(&tw, now, out, 4), 0);
	/*
	 * Exact for every offset within a revolution, across bitmap words,
	 * with the cap respected.
	 */
	for (d = 1; d < 4096; d += d < 300 ? 1 : 37) {
		tw_schedule(&tw, 1, now + d);
		if (tw_sleep_ms(&tw, now, 5000) != d)
			bad++;
		if (tw_sleep_ms(&tw, now, d) != d)
			bad++;
		if (d > 1 && tw_sleep_ms(&tw, now, d - 1) != d - 1)
			bad++;
		if (tw_sleep_ms(&tw, now, 0) != 0)
			bad++;
	}
	CHECK_EQ(bad, 0);
	/* The earliest of several. */
	tw_schedule(&tw, 1, now + 900);
	tw_schedule(&tw, 2, now + 70);
	tw_schedule(&tw, 3, now + 129);
	CHECK_EQ(tw_sleep_ms(&tw, now, 1000), 70);
	tw_cancel(&tw, 2);
	CHECK_EQ(tw_sleep_ms(&tw, now, 1000), 129);
	tw_free(&tw);

	/* Beyond a revolution: a lower bound, never later than due. */
	REQUIRE(tw_init(&tw, 4, 64, now) == 0);
	CHECK_EQ(tw_expire(&tw, now, out, 4), 0);
	tw_schedule(&tw, 1, now + 3 * 64 + 5);
	d = tw_sleep_ms(&tw, now, 1000);
	CHECK(d >= 1 && d <= 3 * 64 + 5);
	tw_schedule(&tw, 1, now + 64);
	CHECK_EQ(tw_sleep_ms(&tw, now, 1000), 64);
	tw_free(&tw);
	/* Something due now (not yet expired) means no sleep. */
	REQUIRE(tw_init(&tw, 4, 64, now) == 0);
	tw_schedule(&tw, 2, now);
	CHECK_EQ(tw_sleep_ms(&tw, now, 1000), 0);
	tw_schedule(&tw, 2, now + 1);
	CHECK_EQ(tw_sleep_ms(&tw, now, 1000), 1);
	tw_free(&tw);
}

/*
 * After a run at t, a node due at t + 2 and a look at t + 10 (before the
 * next run): it is overdue, so the sleep must be 0, not the distance to
 * its slot on the wheel's next revolution.
 */
TEST(timer_sleep_ms_overdue)
{
	struct twheel tw;
	uint32_t out[4];
	const uint64_t t = 5000;

	REQUIRE(tw_init(&tw, 4, 64, t) == 0);
	CHECK_EQ(tw_expire(&tw, t, out, 4), 0);
	tw_schedule(&tw, 1, t + 2);
	CHECK_EQ(tw_sleep_ms(&tw, t, 1000), 2);
	CHECK_EQ(tw_sleep_ms(&tw, t + 1, 1000), 1);
	CHECK_EQ(tw_sleep_ms(&tw, t + 2, 1000), 0);
	CHECK_EQ(tw_sleep_ms(&tw, t + 10, 1000), 0);
	CHECK_EQ(tw_sleep_ms(&tw, t + 100, 1000), 0);
	tw_free(&tw);
}

/* A cap meaning "no cap" must not hide a pending deadline. */
TEST(timer_sleep_ms_huge_cap)
{
	struct twheel tw;
	const uint64_t t = 5000;

	REQUIRE(tw_init(&tw, 4, 64, t) == 0);
	tw_schedule(&tw, 1, t + 5);
	CHECK_EQ(tw_sleep_ms(&tw, t, 1ull << 62), 5);
	CHECK_EQ(tw_sleep_ms(&tw, t, UINT64_MAX), 5);
	tw_free(&tw);
}

/*
 * Random schedules, cancels, time steps and chunked expiry against a
 * reference: req is the deadline asked for, eff the latest the wheel may
 * treat it as (a past deadline moved up to the wheel's position, 0 to 1).
 * Nothing fires before req; after a run at now nothing with eff <= now is
 * left; the sleep is exactly the distance to the earliest occupied slot.
 */
static void timer_random_run(uint32_t nslots, uint64_t t0, uint64_t seed)
{
	enum { NODES = 300, STEPS = 20000 };
	uint64_t req[NODES + 1] = { 0 }, eff[NODES + 1] = { 0 };
	uint64_t now = t0, cur = t0;
	uint32_t out[8], n, i, id, count = 0;
	struct twheel tw;
	int step, bad_early = 0, bad_missed = 0, bad_when = 0, bad_sleep = 0;
	int bad_count = 0;

	REQUIRE(tw_init(&tw, NODES, nslots, t0) == 0);
	rng_seed(seed);
	for (step = 0; step < STEPS; step++) {
		uint32_t ops = rnd_below(6), k;

		for (k = 0; k < ops; k++) {
			uint64_t when;
			uint32_t r = rnd_below(10);

			id = 1 + rnd_below(NODES);
			if (r < 2) {
				tw_cancel(&tw, id);
				if (eff[id])
					count--;
				eff[id] = 0;
				continue;
			}
			if (r == 2)
				when = now > 50 ? now - rnd_below(50) :
						  rnd_below(50);
			else if (r == 3)
				when = now + rnd_below(20 * nslots);
			else
				when = now + rnd_below(3 * nslots / 2);
			tw_schedule(&tw, id, when);
			if (!eff[id])
				count++;
			req[id] = when;
			eff[id] = when < cur ? cur : when;
			if (!eff[id])
				eff[id] = 1;
		}
		if (tw.count != count)
			bad_count++;
		now += rnd_below(8) ? rnd_below(4) :
		       rnd_below(2) ? rnd_below(3 * nslots) :
				      0;
		do {
			uint32_t max = 1 + rnd_below(8);

			n = tw_expire(&tw, now, out, max);
			for (i = 0; i < n; i++) {
				id = out[i];
				if (!eff[id] || req[id] > now)
					bad_early++;
				else
					count--;
				eff[id] = 0;
			}
			if (n < max || bad_early > NODES)
				break;
		} while (1);
		if (cur < now + 1)
			cur = now + 1;
		{
			uint64_t cap = 1 + rnd_below(3 * nslots), want = cap;
			uint64_t earliest = UINT64_MAX, got, w;

			for (id = 1; id <= NODES; id++) {
				uint64_t d;

				w = tw_when(&tw, id);
				if (!eff[id]) {
					bad_when += w != 0;
					continue;
				}
				if (eff[id] <= now)
					bad_missed++;
				if (w != eff[id] && w != req[id])
					bad_when++;
				d = ((w - now - 1) & (nslots - 1)) + 1;
				if (d < want)
					want = d;
				if (eff[id] < earliest)
					earliest = eff[id];
			}
			got = tw_sleep_ms(&tw, now, cap);
			if (got != want ||
			    (earliest != UINT64_MAX && got > earliest - now))
				bad_sleep++;
		}
		if (tw.count != count)
			bad_count++;
	}
	CHECK_EQ(bad_early, 0);
	CHECK_EQ(bad_missed, 0);
	CHECK_EQ(bad_when, 0);
	CHECK_EQ(bad_sleep, 0);
	CHECK_EQ(bad_count, 0);
	tw_free(&tw);
}

TEST(timer_random_vs_reference)
{
	timer_random_run(64, 1000, 21);
	timer_random_run(64, 0, 22);
	timer_random_run(4096, 123456789, 23);
	timer_random_run(128, 3, 24);
}
