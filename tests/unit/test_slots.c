// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the listener's slot admission (slots.c): per-source caps,
 * refusals, and for an evicting pool which connection gives up its slot.
 * Fixed cases first, then a seeded random walk checked against the rules
 * stated in slots.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "slots.h"
#include "rng.h"
#include "test.h"

#define N 8

static struct source_key v4(uint8_t last)
{
	uint8_t a[4] = { 10, 0, 0, last };

	return source_of(4, a);
}

static struct source_key v6(uint16_t subnet, uint8_t host)
{
	uint8_t a[16] = {
		0x20,		0x01, 0x0d, 0xb8, 0, 0, (uint8_t)(subnet >> 8),
		(uint8_t)subnet
	};

	a[15] = host;
	return source_of(6, a);
}

/* Admits src at time now, as the listener does; returns the slot or -1. */
static int32_t take(struct slot *s, uint32_t n, const struct slot_policy *p,
		    struct source_key src, uint64_t now,
		    struct slot_choice *out)
{
	struct slot_choice c = slot_admit(s, n, p, &src);

	if (out)
		*out = c;
	if (c.slot >= 0)
		s[c.slot] = (struct slot){ .src = src,
					   .used = true,
					   .state = SLOT_NEW,
					   .since = now };
	return c.slot;
}

TEST(reason_names)
{
	CHECK(!strcmp(slot_reason_name(SLOT_PER_SOURCE), "per_source"));
	CHECK(!strcmp(slot_reason_name(SLOT_POOL_FULL), "pool_full"));
	CHECK(!strcmp(slot_reason_name(SLOT_EVICTED), "evicted"));
	CHECK(!strcmp(slot_reason_name(SLOT_HEADER_TIMEOUT), "header_timeout"));
	CHECK(!strcmp(slot_reason_name(SLOT_REASONS), "unknown"));
}

TEST(refusing_pool_per_source_cap)
{
	struct slot s[N] = { 0 };
	struct slot_policy p = { .per_source = 3 };
	struct slot_choice c;
	int i;

	for (i = 0; i < 3; i++)
		CHECK_EQ(take(s, N, &p, v4(1), (uint64_t)i, NULL), i);
	CHECK_EQ(take(s, N, &p, v4(1), 9, &c), -1);
	CHECK_EQ(c.reason, SLOT_PER_SOURCE);
	CHECK(!c.evict);
	/* Another source is not affected. */
	CHECK_EQ(take(s, N, &p, v4(2), 10, NULL), 3);
	/* A slot given back makes room for the source again. */
	s[1].used = false;
	CHECK_EQ(take(s, N, &p, v4(1), 11, NULL), 1);
}

TEST(refusing_pool_full)
{
	struct slot s[N] = { 0 };
	struct slot_policy p = { .per_source = 0 };
	struct slot_choice c;
	int i;

	for (i = 0; i < N; i++)
		CHECK_EQ(take(s, N, &p, v4(1), (uint64_t)i, NULL), i);
	CHECK_EQ(take(s, N, &p, v4(2), 99, &c), -1);
	CHECK_EQ(c.reason, SLOT_POOL_FULL);
	CHECK(!c.evict);
	CHECK_EQ(take(s, 0, &p, v4(2), 99, &c), -1);
	CHECK_EQ(c.reason, SLOT_POOL_FULL);
}

TEST(ipv6_source_is_the_64)
{
	struct slot s[N] = { 0 };
	struct slot_policy p = { .per_source = 2 };
	struct slot_choice c;

	CHECK(take(s, N, &p, v6(1, 1), 0, NULL) >= 0);
	CHECK(take(s, N, &p, v6(1, 2), 0, NULL) >= 0);
	/* Another host of the same /64: the same source. */
	CHECK_EQ(take(s, N, &p, v6(1, 3), 0, &c), -1);
	CHECK_EQ(c.reason, SLOT_PER_SOURCE);
	CHECK(take(s, N, &p, v6(2, 1), 0, NULL) >= 0);
}

TEST(evicting_source_displaces_only_itself)
{
	struct slot s[N] = { 0 };
	struct slot_policy p = { .per_source = 2, .evict = true };
	struct slot_choice c;

	CHECK_EQ(take(s, N, &p, v4(9), 0, NULL), 0); /* the oldest of all */
	CHECK_EQ(take(s, N, &p, v4(1), 10, NULL), 1);
	CHECK_EQ(take(s, N, &p, v4(1), 20, NULL), 2);
	CHECK_EQ(take(s, N, &p, v4(1), 30, &c), 1);
	CHECK(c.evict);
	CHECK_EQ(c.reason, SLOT_PER_SOURCE);
	CHECK_EQ(take(s, N, &p, v4(1), 40, &c), 2);
	CHECK(c.evict);
	/* Its connection that completed a request goes after its new ones. */
	s[1].state = SLOT_ANSWERING;
	CHECK_EQ(take(s, N, &p, v4(1), 50, &c), 2);
	/* The other source's connection, the oldest, stays. */
	CHECK(s[0].used && s[0].since == 0);
}

TEST(evicting_pool_full_order)
{
	struct slot s[4] = { 0 };
	struct slot_policy p = { .per_source = 2, .evict = true };
	struct slot_choice c;
	int i;

	for (i = 0; i < 4; i++)
		CHECK_EQ(take(s, 4, &p, v4((uint8_t)(i + 1)),
			      (uint64_t)(100 - i), NULL),
			 i);
	/* All NEW: the one waiting longest (smallest since: slot 3). */
	CHECK_EQ(take(s, 4, &p, v4(50), 200, &c), 3);
	CHECK(c.evict);
	CHECK_EQ(c.reason, SLOT_EVICTED);
	/* NEW before IDLE before ANSWERING, whatever their age. */
	s[0] = (struct slot){ v4(1), true, SLOT_ANSWERING, 1 };
	s[1] = (struct slot){ v4(2), true, SLOT_IDLE, 2 };
	s[2] = (struct slot){ v4(3), true, SLOT_NEW, 500 };
	s[3] = (struct slot){ v4(4), true, SLOT_IDLE, 3 };
	CHECK_EQ(take(s, 4, &p, v4(51), 600, &c), 2);
	CHECK_EQ(take(s, 4, &p, v4(52), 700, &c), 2);
	s[2].state = SLOT_ANSWERING;
	CHECK_EQ(take(s, 4, &p, v4(53), 800, &c), 1);
	s[1].state = SLOT_ANSWERING;
	CHECK_EQ(take(s, 4, &p, v4(54), 900, &c), 3);
	s[3].state = SLOT_ANSWERING;
	CHECK_EQ(take(s, 4, &p, v4(55), 950, &c), 0);
	CHECK_EQ(c.reason, SLOT_EVICTED);
}

/* Whether a goes before b in eviction order (slots.h). */
static bool before(const struct slot *a, const struct slot *b)
{
	return a->state != b->state ? a->state < b->state : a->since < b->since;
}

/*
 * Random arrivals (one flooding source, many others), departures and
 * state changes; every choice is checked against the stated rules.
 */
static void walk(bool evict, uint64_t seed)
{
	enum { POOL = 32, CAP = 8, STEPS = 20000 };
	struct slot s[POOL] = { 0 };
	struct slot_policy p = { .per_source = CAP, .evict = evict };
	uint32_t i, step, own, used;

	rng_seed(seed);
	for (step = 0; step < STEPS; step++) {
		uint32_t r = rnd_below(10);
		struct source_key src = r < 5 ? v4(200) :
						v4((uint8_t)rnd_below(40));
		struct slot_choice c;
		uint64_t now = step;

		if (r == 9) { /* one leaves or moves on */
			i = rnd_below(POOL);
			if (rnd_below(2)) {
				s[i].used = false;
			} else if (s[i].state < SLOT_ANSWERING) {
				s[i].state++;
				s[i].since = now;
			}
			continue;
		}
		own = used = 0;
		for (i = 0; i < POOL; i++) {
			used += s[i].used;
			own += s[i].used && source_eq(&s[i].src, &src);
		}
		c = slot_admit(s, POOL, &p, &src);
		if (c.slot < 0) {
			CHECK(!evict);
			CHECK(c.reason ==
			      (own >= CAP ? SLOT_PER_SOURCE : SLOT_POOL_FULL));
			CHECK(own >= CAP || used == POOL);
			continue;
		}
		REQUIRE((uint32_t)c.slot < POOL);
		CHECK(c.evict == s[c.slot].used);
		if (c.evict) {
			bool self = c.reason == SLOT_PER_SOURCE;

			CHECK(self || c.reason == SLOT_EVICTED);
			CHECK(self ? own >= CAP : (own < CAP && used == POOL));
			CHECK(!self || source_eq(&s[c.slot].src, &src));
			/* No candidate goes before the victim. */
			for (i = 0; i < POOL; i++)
				if (s[i].used &&
				    (!self || source_eq(&s[i].src, &src)))
					CHECK(!before(&s[i], &s[c.slot]));
		} else {
			CHECK(own < CAP);
		}
		s[c.slot] = (struct slot){ src, true, SLOT_NEW, now };
		own = 0;
		for (i = 0; i < POOL; i++)
			own += s[i].used && source_eq(&s[i].src, &src);
		CHECK(own <= CAP);
	}
}

TEST(random_walk_evicting)
{
	walk(true, 1);
	walk(true, 0xfeed);
}

TEST(random_walk_refusing)
{
	walk(false, 2);
	walk(false, 0xbeef);
}

/* The brief's case: 300 connections from one source, then a probe. */
TEST(flood_then_probe)
{
	struct slot s[32] = { 0 };
	struct slot_policy p = { .per_source = 8, .evict = true };
	uint32_t i, held = 0, evicted = 0;
	struct slot_choice c;

	for (i = 0; i < 300; i++) {
		take(s, 32, &p, v4(2), i, &c);
		evicted += c.evict;
	}
	for (i = 0; i < 32; i++)
		held += s[i].used;
	CHECK_EQ(held, 8);
	CHECK_EQ(evicted, 292);
	/* The probe from the node: a free slot, nothing closed for it. */
	CHECK(take(s, 32, &p, v4(1), 301, &c) >= 0);
	CHECK(!c.evict);
	/* Flooders from 40 sources fill the pool: a probe still gets in. */
	for (i = 0; i < 300; i++)
		take(s, 32, &p, v4((uint8_t)(100 + i % 40)), 400 + i, NULL);
	CHECK(take(s, 32, &p, v4(1), 800, &c) >= 0);
	CHECK(c.evict);
	CHECK_EQ(c.reason, SLOT_EVICTED);
}
