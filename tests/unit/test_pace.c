// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the worker's nap-or-sleep choice (pace.c): the threshold
 * of one frame per nap, the limit of naps without a frame, and a worker
 * simulated against senders at fixed rates, counting its naps and its
 * wake-ups per frame.
 */
#include <stdint.h>

#include "pace.h"
#include "test.h"

#define US 1000ull
#define NAP (20 * US)

/* Frames every `every` ns for `span` ns from *now, one pass each. */
static void traffic(struct pace *p, uint64_t *now, uint64_t every,
		    uint64_t span)
{
	uint64_t end = *now + span;

	for (; *now < end; *now += every)
		pace_pass(p, *now, 1);
}

TEST(never_naps_when_off)
{
	struct pace p;
	uint64_t now = 0;

	pace_init(&p, 0, now);
	traffic(&p, &now, 1 * US, 5 * PACE_WINDOW_NS);
	pace_pass(&p, now, 0);
	CHECK(!pace_nap(&p, now));
}

TEST(starts_sparse)
{
	struct pace p;

	pace_init(&p, NAP, 7);
	pace_pass(&p, 8, 64);
	CHECK(!pace_nap(&p, 9));
}

TEST(one_frame_per_nap_is_dense_and_fewer_is_not)
{
	struct pace p;
	uint64_t now = 0;

	pace_init(&p, NAP, now);
	traffic(&p, &now, NAP, 3 * PACE_WINDOW_NS);
	CHECK(p.dense);
	CHECK(pace_nap(&p, now));
	pace_init(&p, NAP, now);
	traffic(&p, &now, NAP + NAP / 10, 3 * PACE_WINDOW_NS);
	CHECK(!p.dense);
	CHECK(!pace_nap(&p, now));
}

TEST(dense_traffic_naps_then_sleeps_after_empty_naps)
{
	struct pace p;
	uint64_t now = 0;
	int naps = 0;

	pace_init(&p, NAP, now);
	traffic(&p, &now, 5 * US, 2 * PACE_WINDOW_NS);
	while (pace_nap(&p, now) && naps < 100) {
		naps++;
		now += NAP;
		pace_pass(&p, now, 0);
	}
	CHECK_EQ(naps, PACE_NAPS);
}

/* The few frames that wake a sleeping worker after a quiet second are
 * not dense traffic, whatever the window held before the quiet. */
TEST(a_wake_after_quiet_is_sparse)
{
	struct pace p;
	uint64_t now = 0;

	pace_init(&p, NAP, now);
	traffic(&p, &now, 2 * US, 2 * PACE_WINDOW_NS);
	CHECK(p.dense);
	now += 1000 * PACE_WINDOW_NS;
	pace_pass(&p, now, 3);
	CHECK(!p.dense);
	CHECK(!pace_nap(&p, now + 1));
}

struct sim {
	uint64_t frames, naps, wakes;
};

/*
 * A worker against senders of `burst` frames at once every `every` ns for
 * a second: each pass takes what arrived; an empty pass naps NAP or sleeps
 * until the next frames wake it.
 */
static struct sim simulate(uint64_t every, uint32_t burst)
{
	struct sim s = { 0 };
	struct pace p;
	uint64_t now = 0, next = 0, end = 1000 * PACE_WINDOW_NS;

	pace_init(&p, NAP, now);
	while (now < end) {
		uint32_t n = 0;

		for (; next <= now; next += every)
			n += burst;
		s.frames += n;
		pace_pass(&p, now, n);
		if (n) {
			now += 500; /* the pass's own work */
		} else if (pace_nap(&p, now)) {
			s.naps++;
			now += NAP;
		} else {
			s.wakes++;
			now = next;
		}
	}
	return s;
}

/* 10,000 frames/s, even in pairs: woken for each, no nap. 200,000/s:
 * naps that each take several frames, and no wake-up once the first
 * window showed the rate. */
TEST(sparse_senders_wake_it_dense_ones_do_not)
{
	struct sim sparse = simulate(100 * US, 1),
		   pairs = simulate(200 * US, 2);
	struct sim dense = simulate(5 * US, 1);

	CHECK(sparse.frames >= 9999);
	CHECK(pairs.naps <= 10);
	CHECK(pairs.wakes >= pairs.frames / 2 - 1);
	CHECK(sparse.wakes >= sparse.frames - 2);
	CHECK(sparse.naps <= 10);
	CHECK(dense.frames >= 199999);
	CHECK(dense.wakes <= PACE_WINDOW_NS / (5 * US) + 1);
	CHECK(dense.naps * 3 <= dense.frames);
}
