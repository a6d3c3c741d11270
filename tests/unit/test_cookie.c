// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the SYN cookies (cookie.h): the MSS round trip, the bit
 * layout (the fleet mark in bits 31..13), and rejection of any other
 * tuple, bit, age or secret, across the counter's wraparound; another
 * client ISN or MSS index passes only the 5-bit hash, at its 1/32 odds.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cookie.h"
#include "flow.h"
#include "siphash.h"
#include "rng.h"
#include "test.h"

static const struct siphash_key cookie_secret = { 0x243f6a8885a308d3ull,
						  0x13198a2e03707344ull };

static void key_v4(struct flow_key *k, const char *s, const char *d,
		   uint16_t sport, uint16_t dport)
{
	memset(k, 0, sizeof(*k));
	if (inet_pton(AF_INET, s, k->saddr) != 1 ||
	    inet_pton(AF_INET, d, k->daddr) != 1)
		abort();
	k->sport = htons(sport);
	k->dport = htons(dport);
	k->family = 4;
}

static void key_v6(struct flow_key *k, const char *s, const char *d,
		   uint16_t sport, uint16_t dport)
{
	memset(k, 0, sizeof(*k));
	if (inet_pton(AF_INET6, s, k->saddr) != 1 ||
	    inet_pton(AF_INET6, d, k->daddr) != 1)
		abort();
	k->sport = htons(sport);
	k->dport = htons(dport);
	k->family = 6;
}

static void cookie_keys(struct flow_key keys[2])
{
	key_v4(&keys[0], "192.0.2.1", "198.51.100.2", 40000, 80);
	key_v6(&keys[1], "2001:db8::1", "2001:db8:0:1::2", 51234, 80);
}

/* A fixed "now": well past zero, not at a period boundary. */
#define COOKIE_NOW (1700000000ull + 17)
#define PERIOD (1ull << COOKIE_PERIOD_SHIFT)

TEST(cookie_roundtrip_mss)
{
	static const struct {
		uint16_t mss, want;
	} cases[] = {
		{ 1460, 1460 },
		{ 1500, 1460 },
		{ 65535, 1460 },
		{ 1459, 1440 },
		{ 1440, 1440 },
		{ 1400, 1360 },
		{ 1360, 1360 },
		{ 1300, 1220 },
		{ 1220, 1220 },
		{ 1219, 1024 },
		{ 1024, 1024 },
		{ 600, 536 },
		{ 536, 536 },
		{ 535, 216 },
		{ 216, 216 },
		{ 215, 48 },
		{ 64, 48 },
		{ 48, 48 },
		/* Below the smallest entry: the smallest, not an error. */
		{ 47, 48 },
		{ 1, 48 },
		{ 0, 48 },
	};
	struct flow_key keys[2];
	unsigned int i, f;

	cookie_keys(keys);
	CHECK_EQ(cookie_mss_table[0], 48); /* Linux's tcp_min_snd_mss */
	for (i = 1; i < 8; i++)
		CHECK(cookie_mss_table[i] > cookie_mss_table[i - 1]);
	for (f = 0; f < 2; f++) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			uint16_t out = 0xdead;
			uint32_t isn = 0x9abcdef0u + i, c;

			c = cookie_make(&cookie_secret, &keys[f], isn,
					cases[i].mss, COOKIE_NOW, &out);
			CHECK_EQ(out, cases[i].want);
			CHECK_EQ(cookie_mss_table[c & 7], cases[i].want);
			CHECK_EQ(cookie_check(&cookie_secret, &keys[f], isn, c,
					      COOKIE_NOW),
				 cases[i].want);
			/* Later in the same period and in the next. */
			CHECK_EQ(cookie_check(&cookie_secret, &keys[f], isn, c,
					      COOKIE_NOW + 40),
				 cases[i].want);
			CHECK_EQ(cookie_check(&cookie_secret, &keys[f], isn, c,
					      COOKIE_NOW + PERIOD),
				 cases[i].want);
			/* The same inputs make the same cookie; NULL is ok. */
			CHECK_EQ(cookie_make(&cookie_secret, &keys[f], isn,
					     cases[i].mss, COOKIE_NOW, NULL),
				 c);
		}
	}
}

TEST(cookie_layout)
{
	struct flow_key keys[2];
	uint64_t now;
	uint32_t c;

	cookie_keys(keys);
	for (now = 0; now < 80 * PERIOD; now += 7) {
		c = cookie_make(&cookie_secret, &keys[now & 1], (uint32_t)now,
				1024, now, NULL);
		CHECK_EQ((c >> 3) & 0x1f, (now >> COOKIE_PERIOD_SHIFT) & 0x1f);
		CHECK_EQ(c & 7, 3);
		/* The fleet mark: the 4-tuple's in the epoch, nothing else. */
		CHECK_EQ(c & COOKIE_MARK_MASK,
			 cookie_mark(&cookie_secret, &keys[now & 1],
				     cookie_counter(now)));
	}
}

/* The mark is one per 4-tuple and epoch (4 periods), whatever the client
 * ISN and MSS; it changes with the epoch, the tuple and the secret. */
TEST(cookie_mark_per_tuple_and_epoch)
{
	static const struct siphash_key other = { 1, 2 };
	struct flow_key keys[2];
	uint64_t epoch0 =
		(COOKIE_NOW >> (COOKIE_PERIOD_SHIFT + COOKIE_EPOCH_SHIFT))
		<< (COOKIE_PERIOD_SHIFT + COOKIE_EPOCH_SHIFT);
	uint64_t span = PERIOD << COOKIE_EPOCH_SHIFT, t;
	uint32_t m0, m1, c;
	int i;

	cookie_keys(keys);
	m0 = cookie_mark(&cookie_secret, &keys[0], cookie_counter(epoch0));
	CHECK_EQ(m0 & ~COOKIE_MARK_MASK, 0);
	for (t = epoch0; t < epoch0 + span; t += 5) {
		c = cookie_make(&cookie_secret, &keys[0], (uint32_t)(t * 7919),
				(uint16_t)(t % 1500), t, NULL);
		CHECK_EQ(c & COOKIE_MARK_MASK, m0);
	}
	m1 = cookie_mark(&cookie_secret, &keys[0],
			 cookie_counter(epoch0 + span));
	CHECK(m1 != m0);
	CHECK(cookie_mark(&cookie_secret, &keys[1], cookie_counter(epoch0)) !=
	      m0);
	CHECK(cookie_mark(&other, &keys[0], cookie_counter(epoch0)) != m0);
	/* 19 bits that vary: over 64 epochs, every bit seen as 0 and 1. */
	{
		uint32_t ones = 0, zeros = 0;

		for (i = 0; i < 64; i++) {
			uint32_t m =
				cookie_mark(&cookie_secret, &keys[1],
					    (uint32_t)i << COOKIE_EPOCH_SHIFT);

			ones |= m;
			zeros |= ~m;
		}
		CHECK_EQ(ones, COOKIE_MARK_MASK);
		CHECK_EQ(zeros & COOKIE_MARK_MASK, COOKIE_MARK_MASK);
	}
}

/* A cookie checked against any other 4-tuple fails. */
TEST(cookie_rejects_other_tuple)
{
	struct flow_key keys[2], k;
	unsigned int f, byte, bit;
	uint32_t isn = 0x11223344, c;
	int accepted = 0;

	cookie_keys(keys);
	for (f = 0; f < 2; f++) {
		c = cookie_make(&cookie_secret, &keys[f], isn, 1460, COOKIE_NOW,
				NULL);
		REQUIRE(cookie_check(&cookie_secret, &keys[f], isn, c,
				     COOKIE_NOW) == 1460);

		k = keys[f];
		k.saddr[3] ^= 1;
		CHECK_EQ(cookie_check(&cookie_secret, &k, isn, c, COOKIE_NOW),
			 0);
		k = keys[f];
		k.daddr[f ? 15 : 3] ^= 0x80;
		CHECK_EQ(cookie_check(&cookie_secret, &k, isn, c, COOKIE_NOW),
			 0);
		k = keys[f];
		k.sport = htons(ntohs(k.sport) + 1);
		CHECK_EQ(cookie_check(&cookie_secret, &k, isn, c, COOKIE_NOW),
			 0);
		k = keys[f];
		k.dport = htons(443);
		CHECK_EQ(cookie_check(&cookie_secret, &k, isn, c, COOKIE_NOW),
			 0);
		k = keys[f];
		k.family = f ? 4 : 6;
		CHECK_EQ(cookie_check(&cookie_secret, &k, isn, c, COOKIE_NOW),
			 0);
		/* Source and destination swapped. */
		k = keys[f];
		memcpy(k.saddr, keys[f].daddr, 16);
		memcpy(k.daddr, keys[f].saddr, 16);
		k.sport = keys[f].dport;
		k.dport = keys[f].sport;
		CHECK_EQ(cookie_check(&cookie_secret, &k, isn, c, COOKIE_NOW),
			 0);
		/* Every single bit of the key. */
		for (byte = 0; byte < sizeof(k); byte++) {
			for (bit = 0; bit < 8; bit++) {
				k = keys[f];
				((uint8_t *)&k)[byte] ^= (uint8_t)(1 << bit);
				if (cookie_check(&cookie_secret, &k, isn, c,
						 COOKIE_NOW))
					accepted++;
			}
		}
	}
	CHECK_EQ(accepted, 0);
}

/*
 * The client ISN is bound by the 5-bit hash (the mark cannot depend on
 * it): another ISN passes at 1/32 odds, not more, and not never (which
 * would mean the ISN is not bound at all).
 */
#define OTHER_TRIES (1u << 15)
TEST(cookie_binds_isn_by_5_bits)
{
	struct flow_key keys[2];
	unsigned int f, i, accepted;
	uint32_t isn = 0xfffffff0u, c, other;

	cookie_keys(keys);
	rng_seed(5);
	for (f = 0; f < 2; f++) {
		c = cookie_make(&cookie_secret, &keys[f], isn, 536, COOKIE_NOW,
				NULL);
		REQUIRE(cookie_check(&cookie_secret, &keys[f], isn, c,
				     COOKIE_NOW) == 536);
		accepted = 0;
		for (i = 0; i < OTHER_TRIES; i++) {
			other = (uint32_t)rnd();
			if (other != isn &&
			    cookie_check(&cookie_secret, &keys[f], other, c,
					 COOKIE_NOW))
				accepted++;
		}
		fprintf(stderr, "other ISNs accepted: %u of %u (1/32: %u)\n",
			accepted, OTHER_TRIES, OTHER_TRIES / 32);
		CHECK(accepted >= OTHER_TRIES / 32 * 3 / 4);
		CHECK(accepted <= OTHER_TRIES / 32 * 5 / 4);
	}
}

/*
 * Flipping any one of bits 31..8 (the mark, the 5-bit hash) invalidates
 * a cookie. A flip in the counter or MSS index (bits 7..0) that still
 * reads as a valid age in the same epoch is caught by the 5-bit hash:
 * at most 1/32 pass (12.5 of 400 expected; up to 32 allowed).
 */
TEST(cookie_rejects_bit_flips)
{
	struct flow_key keys[2];
	int accepted[32] = { 0 }, bit, i;

	cookie_keys(keys);
	rng_seed(4);
	for (i = 0; i < 400; i++) {
		const struct flow_key *k = &keys[i & 1];
		uint32_t isn = (uint32_t)rnd(), c;
		uint64_t now = COOKIE_NOW + rnd_below(1u << 20);
		uint16_t mss = (uint16_t)rnd_below(1600);
		uint16_t want;

		c = cookie_make(&cookie_secret, k, isn, mss, now, &want);
		/* Checked at the same time and at the oldest accepted age. */
		if (i & 2)
			now += COOKIE_MAX_AGE << COOKIE_PERIOD_SHIFT;
		REQUIRE(cookie_check(&cookie_secret, k, isn, c, now) == want);
		for (bit = 0; bit < 32; bit++)
			if (cookie_check(&cookie_secret, k, isn,
					 c ^ (1u << bit), now))
				accepted[bit]++;
	}
	for (bit = 0; bit < 32; bit++) {
		if (accepted[bit])
			fprintf(stderr,
				"bit %d flipped was accepted %d times\n", bit,
				accepted[bit]);
		if (bit >= 8)
			CHECK_EQ(accepted[bit], 0);
		else
			CHECK(accepted[bit] <= 32);
	}
}

/* Accepted exactly while the period counter is at most MAX_AGE newer. */
TEST(cookie_age_window)
{
	struct flow_key keys[2];
	uint64_t base = COOKIE_NOW - (COOKIE_NOW % PERIOD), r, d;
	int wrong = 0;

	cookie_keys(keys);
	for (r = 0; r < PERIOD; r += 3) {
		uint64_t made = base + r;
		uint32_t c = cookie_make(&cookie_secret, &keys[r & 1],
					 (uint32_t)r, 1220, made, NULL);

		for (d = 0; d < (COOKIE_MAX_AGE + 2) * PERIOD; d++) {
			uint64_t now = made + d;
			uint64_t age = (now >> COOKIE_PERIOD_SHIFT) -
				       (made >> COOKIE_PERIOD_SHIFT);
			uint16_t got = cookie_check(&cookie_secret,
						    &keys[r & 1], (uint32_t)r,
						    c, now);

			if (got != (age <= COOKIE_MAX_AGE ? 1220 : 0))
				wrong++;
		}
		CHECK_EQ(cookie_check(&cookie_secret, &keys[r & 1], (uint32_t)r,
				      c,
				      made + (COOKIE_MAX_AGE
					      << COOKIE_PERIOD_SHIFT)),
			 1220);
		CHECK_EQ(cookie_check(&cookie_secret, &keys[r & 1], (uint32_t)r,
				      c,
				      made + ((COOKIE_MAX_AGE + 1)
					      << COOKIE_PERIOD_SHIFT)),
			 0);
	}
	CHECK_EQ(wrong, 0);
}

/* Cookies made later than now, or exactly 32 periods earlier, fail. */
TEST(cookie_rejects_future_and_aliased)
{
	struct flow_key keys[2];
	uint32_t isn = 0x5555aaaa, c;
	uint64_t k;
	int accepted = 0;

	cookie_keys(keys);
	c = cookie_make(&cookie_secret, &keys[0], isn, 1460, COOKIE_NOW, NULL);
	CHECK_EQ(cookie_check(&cookie_secret, &keys[0], isn, c,
			      COOKIE_NOW - PERIOD),
		 0);
	/*
	 * From 1..40 periods in the future, including 30 and 31 where the
	 * 5-bit age looks like 2 and 1.
	 */
	for (k = 1; k <= 40; k++)
		if (cookie_check(&cookie_secret, &keys[0], isn, c,
				 COOKIE_NOW - k * PERIOD))
			accepted++;
	/* From 32, 33, 34, 64 periods ago: the 5-bit age looks young. */
	for (k = 32; k <= 34; k++)
		if (cookie_check(&cookie_secret, &keys[0], isn, c,
				 COOKIE_NOW + k * PERIOD))
			accepted++;
	if (cookie_check(&cookie_secret, &keys[0], isn, c,
			 COOKIE_NOW + 64 * PERIOD))
		accepted++;
	CHECK_EQ(accepted, 0);
}

/* Another MSS index passes only the 5-bit hash: 1/32 of the tries. */
#define MSS_TRIES 4096u
TEST(cookie_binds_mss_index_by_5_bits)
{
	struct flow_key keys[2];
	uint32_t c, idx, other, i, tries = 0, accepted = 0;

	cookie_keys(keys);
	for (i = 0; i < MSS_TRIES; i++) {
		idx = i & 7;
		c = cookie_make(&cookie_secret, &keys[i & 1], 77 + i,
				cookie_mss_table[idx], COOKIE_NOW, NULL);
		REQUIRE((c & 7) == idx);
		REQUIRE(cookie_check(&cookie_secret, &keys[i & 1], 77 + i, c,
				     COOKIE_NOW) == cookie_mss_table[idx]);
		for (other = 0; other < 8; other++) {
			if (other == idx)
				continue;
			tries++;
			if (cookie_check(&cookie_secret, &keys[i & 1], 77 + i,
					 (c & ~7u) | other, COOKIE_NOW))
				accepted++;
		}
	}
	fprintf(stderr, "other MSS indices accepted: %u of %u (1/32: %u)\n",
		accepted, tries, tries / 32);
	CHECK(accepted >= tries / 32 * 3 / 4);
	CHECK(accepted <= tries / 32 * 5 / 4);
}

TEST(cookie_rejects_other_secret)
{
	struct flow_key keys[2];
	struct siphash_key other;
	uint32_t isn = 123456789, c;
	int bit, accepted = 0;

	cookie_keys(keys);
	c = cookie_make(&cookie_secret, &keys[1], isn, 1460, COOKIE_NOW, NULL);
	REQUIRE(cookie_check(&cookie_secret, &keys[1], isn, c, COOKIE_NOW) ==
		1460);
	for (bit = 0; bit < 128; bit++) {
		other = cookie_secret;
		if (bit < 64)
			other.k0 ^= 1ull << bit;
		else
			other.k1 ^= 1ull << (bit - 64);
		if (cookie_check(&other, &keys[1], isn, c, COOKIE_NOW))
			accepted++;
	}
	CHECK_EQ(accepted, 0);
	other.k0 = other.k1 = 0;
	CHECK_EQ(cookie_check(&other, &keys[1], isn, c, COOKIE_NOW), 0);
}

/* The 5-bit time field (and the 32-bit counter) wrap around. */
TEST(cookie_counter_wraparound)
{
	static const uint64_t wraps[] = { 1, 2, 3, 1000, 1ull << 27 };
	struct flow_key keys[2];
	unsigned int i;
	uint64_t j;

	cookie_keys(keys);
	for (i = 0; i < sizeof(wraps) / sizeof(wraps[0]); i++) {
		uint64_t edge = (wraps[i] * 32) << COOKIE_PERIOD_SHIFT;

		/* Made in the last periods before the edge. */
		for (j = 1; j <= 3; j++) {
			uint64_t made = edge - j * PERIOD + 5;
			uint32_t isn = (uint32_t)(i * 10 + j), c;
			uint64_t d;

			c = cookie_make(&cookie_secret, &keys[j & 1], isn, 1360,
					made, NULL);
			CHECK_EQ((c >> 3) & 0x1f, 32 - j);
			for (d = 0; d <= COOKIE_MAX_AGE + 2; d++)
				CHECK_EQ(cookie_check(&cookie_secret,
						      &keys[j & 1], isn, c,
						      made + d * PERIOD),
					 d <= COOKIE_MAX_AGE ? 1360 : 0);
		}
	}
	/* The counter itself (now_s >> 6) wraps at 2^32 periods. */
	{
		uint64_t made = (0xffffffffull << COOKIE_PERIOD_SHIFT) + 1;
		uint32_t c = cookie_make(&cookie_secret, &keys[0], 9, 1460,
					 made, NULL);

		CHECK_EQ(cookie_check(&cookie_secret, &keys[0], 9, c, made),
			 1460);
		CHECK_EQ(cookie_check(&cookie_secret, &keys[0], 9, c,
				      made + PERIOD),
			 1460);
		CHECK_EQ(cookie_check(&cookie_secret, &keys[0], 9, c,
				      made + 2 * PERIOD),
			 1460);
		CHECK_EQ(cookie_check(&cookie_secret, &keys[0], 9, c,
				      made + 3 * PERIOD),
			 0);
	}
}

/*
 * The shared arithmetic (bpf/syncookie.h, which the XDP program runs too)
 * is SipHash-2-4 of the key as laid out, then the 32-bit fields: the
 * reference siphash24() over the same bytes gives the same mark and hash.
 */
TEST(cookie_is_reference_siphash_of_the_key)
{
	struct {
		struct flow_key key;
		uint32_t x[3];
	} in;
	struct flow_key keys[2];
	uint32_t i, j, counter, isn, idx;

	rng_seed(7);
	cookie_keys(keys);
	for (i = 0; i < 2000; i++) {
		j = i & 1;
		counter = (uint32_t)rnd();
		isn = (uint32_t)rnd();
		idx = i % 8;
		keys[j].sport = (uint16_t)rnd();
		memset(&in, 0, sizeof(in));
		in.key = keys[j];
		in.x[0] = counter >> COOKIE_EPOCH_SHIFT;
		in.x[1] = COOKIE_MARK_DOMAIN;
		CHECK_EQ(cookie_mark(&cookie_secret, &keys[j], counter),
			 (uint32_t)(siphash24(&cookie_secret, &in, 48) >>
				    (64 - COOKIE_MARK_BITS))
				 << COOKIE_MARK_SHIFT);
		in.x[0] = isn;
		in.x[1] = counter;
		in.x[2] = idx;
		CHECK_EQ(xr_cookie_hash(cookie_secret.k0, cookie_secret.k1,
					(const uint8_t *)&keys[j], isn, counter,
					idx),
			 (uint32_t)siphash24(&cookie_secret, &in, 52) & 0x1f);
	}
}
