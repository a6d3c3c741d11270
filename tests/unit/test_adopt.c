// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of adoption (adopt.h): a genuine segment of a connection the
 * fleet opened is recognised from its ack, in the epoch it opened in and
 * the next, up to ADOPT_MAX_SENT bytes sent; not later, not further, not
 * under another secret; and blind acks pass at the 2^-12 bound.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adopt.h"
#include "cookie.h"
#include "packet.h"
#include "rng.h"
#include "test.h"

static const struct siphash_key secret = { 0x243f6a8885a308d3ull,
					   0x13198a2e03707344ull };

#define PERIOD (1ull << COOKIE_PERIOD_SHIFT)
#define EPOCH (PERIOD << COOKIE_EPOCH_SHIFT) /* seconds */
#define NOW0 (1700000000ull + 17)

static void random_key(struct flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = rnd() & 1 ? 4 : 6;
	rnd_fill(k->saddr, k->family == 4 ? 4 : 16);
	rnd_fill(k->daddr, k->family == 4 ? 4 : 16);
	k->sport = (uint16_t)rnd();
	k->dport = htons(rnd() & 1 ? 80 : 10000);
}

/* The ISN a node gave a connection opened at made (seconds). */
static uint32_t genuine_isn(const struct flow_key *k, uint64_t made)
{
	return cookie_make(&secret, k, (uint32_t)rnd(),
			   (uint16_t)rnd_below(1500), made, NULL);
}

static bool ok_at(const struct siphash_key *s, const struct flow_key *k,
		  uint32_t ack, uint64_t now, uint32_t *mark)
{
	return adopt_ack_ok(s, k, ack, now, mark);
}

static const uint32_t sent_ok[] = { 0, 1, 300, ADOPT_MAX_SENT - 1 };

/*
 * Bytes sent 0, 1, 300 and the most guaranteed: adopted in the epoch the
 * connection opened in and the next, with the ISN's mark; not after.
 * Another epoch's mark fits a given ack by chance (2^-13 each), for all
 * four byte counts of a connection at once: in the next epoch, the mark
 * found may be that one, and two epochs on, the ack may still pass. Both
 * are blind-chance events, allowed a few connections' worth (expected:
 * 500 * 2^-13 of the 500 connections, each counting up to 8 checks).
 */
#define CHANCE_MAX 24
TEST(genuine_acks_adopted_in_two_epochs)
{
	int i, refused = 0, other_mark = 0, late = 0;
	unsigned int j;

	rng_seed(1);
	for (i = 0; i < 500; i++) {
		struct flow_key k;
		uint64_t made = NOW0 + rnd_below(1u << 24);
		uint64_t start = made - made % EPOCH; /* its epoch's start */
		uint32_t isn, mark;

		random_key(&k);
		isn = genuine_isn(&k, made);
		for (j = 0; j < sizeof(sent_ok) / sizeof(sent_ok[0]); j++) {
			uint32_t ack = isn + 1 + sent_ok[j];
			const uint64_t at[] = { made, start + EPOCH - 1,
						made + EPOCH,
						start + 2 * EPOCH - 1 };
			unsigned int t;

			for (t = 0; t < 4; t++) {
				mark = 0;
				if (!ok_at(&secret, &k, ack, at[t], &mark))
					refused++;
				else if (mark != (isn & COOKIE_MARK_MASK))
					other_mark++;
			}
			/* The epoch after: too old. */
			if (ok_at(&secret, &k, ack, start + 2 * EPOCH, &mark) ||
			    ok_at(&secret, &k, ack, made + 2 * EPOCH, &mark))
				late++;
		}
	}
	CHECK_EQ(refused, 0);
	CHECK(other_mark <= CHANCE_MAX);
	CHECK(late <= CHANCE_MAX);
	if (other_mark || late)
		fprintf(stderr,
			"by chance: another epoch's mark %d, late accepted %d "
			"(of 8000 and 4000 checks)\n",
			other_mark, late);
}

/* Past the window: 2^19 bytes and more are never adopted; between
 * ADOPT_MAX_SENT and 2^19 it depends on the ISN's low 13 bits. */
TEST(bytes_sent_beyond_the_window_refused)
{
	static const uint32_t sent_bad[] = {
		ADOPT_WINDOW, ADOPT_WINDOW + 1, ADOPT_WINDOW + 12345,
		1u << 20,     1u << 24,		1u << 31
	};
	int i, accepted = 0, edge = 0;
	unsigned int j;

	rng_seed(2);
	for (i = 0; i < 500; i++) {
		struct flow_key k;
		uint64_t made = NOW0 + rnd_below(1u << 24);
		uint32_t isn, mark, low;

		random_key(&k);
		isn = genuine_isn(&k, made);
		low = isn & ~COOKIE_MARK_MASK;
		for (j = 0; j < sizeof(sent_bad) / sizeof(sent_bad[0]); j++)
			if (ok_at(&secret, &k, isn + 1 + sent_bad[j], made,
				  &mark))
				accepted++;
		/* The exact edge: the last byte count in, the first out. */
		if (!ok_at(&secret, &k, isn + 1 + (ADOPT_WINDOW - 1 - low),
			   made, &mark) ||
		    ok_at(&secret, &k, isn + 1 + (ADOPT_WINDOW - low), made,
			  &mark))
			edge++;
	}
	CHECK_EQ(accepted, 0);
	CHECK_EQ(edge, 0);
}

/* Another secret: refused but for the blind chance (2^-12 a connection,
 * for its 4 byte counts at once: 500 * 2 * 2^-12 connections expected). */
TEST(other_secret_refused)
{
	const struct siphash_key other = { secret.k0 ^ 1, secret.k1 };
	const struct siphash_key zero = { 0, 0 };
	int i, accepted = 0;
	unsigned int j;

	rng_seed(3);
	for (i = 0; i < 500; i++) {
		struct flow_key k;
		uint64_t made = NOW0 + rnd_below(1u << 24);
		uint32_t isn, mark;

		random_key(&k);
		isn = genuine_isn(&k, made);
		for (j = 0; j < sizeof(sent_ok) / sizeof(sent_ok[0]); j++) {
			if (ok_at(&other, &k, isn + 1 + sent_ok[j], made,
				  &mark))
				accepted++;
			if (ok_at(&zero, &k, isn + 1 + sent_ok[j], made, &mark))
				accepted++;
		}
	}
	if (accepted)
		fprintf(stderr, "another secret, by chance: %d of 4000\n",
			accepted);
	CHECK(accepted <= CHANCE_MAX);
}

/* The epoch is the cookie counter's, which wraps at 2^32 periods: a
 * connection opened in the last epoch before the wrap is adopted in the
 * first after it. */
TEST(epoch_wraps_with_the_counter)
{
	uint64_t made = (0xffffffffull << COOKIE_PERIOD_SHIFT) + 3;
	uint64_t after = 0x100000000ull << COOKIE_PERIOD_SHIFT;
	struct flow_key k;
	uint32_t isn, mark;

	rng_seed(4);
	random_key(&k);
	isn = genuine_isn(&k, made);
	CHECK(ok_at(&secret, &k, isn + 1 + 1000, made, &mark));
	CHECK(ok_at(&secret, &k, isn + 1 + 1000, after + 5, &mark));
	CHECK_EQ(mark, isn & COOKIE_MARK_MASK);
	CHECK(!ok_at(&secret, &k, isn + 1 + 1000, after + EPOCH, &mark));
}

/* What a segment must be: ACK, no SYN, RST or FIN, a payload that starts
 * with a complete request head. */
TEST(judge_needs_a_data_segment_with_a_complete_head)
{
	static const char full[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char piped[] =
		"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHo";
	static const char partial[] = "GET /a HTTP/1.1\r\nHost: x\r\n";
	static const char middle[] = "st: x\r\n\r\n";
	static const char body[] = "{\"a\": 1}\r\n\r\n";
	struct http_limits lim;
	struct flow_key k;
	uint32_t isn, ack, mark;
	const uint8_t *u;

	http_limits_default(&lim);
	rng_seed(6);
	random_key(&k);
	isn = genuine_isn(&k, NOW0);
	ack = isn + 1 + 4321;
#define JUDGE(fl, a, s)                                                    \
	(u = (const uint8_t *)(s),                                         \
	 adopt_judge(&secret, &k, (fl), (a), u, sizeof(s) - 1, &lim, NOW0, \
		     &mark))
	CHECK_EQ(JUDGE(TCP_ACK, ack, full), ADOPT_OK);
	CHECK_EQ(mark, isn & COOKIE_MARK_MASK);
	CHECK_EQ(JUDGE(TCP_ACK | TCP_PSH, ack, full), ADOPT_OK);
	CHECK_EQ(JUDGE(TCP_ACK | TCP_PSH, ack, piped), ADOPT_OK);
	CHECK_EQ(JUDGE(TCP_ACK, ack, partial), ADOPT_NO_HEAD);
	CHECK_EQ(JUDGE(TCP_ACK, ack, middle), ADOPT_NO_HEAD);
	CHECK_EQ(JUDGE(TCP_ACK, ack, body), ADOPT_NO_HEAD);
	CHECK_EQ(JUDGE(TCP_ACK, ack + ADOPT_WINDOW, full), ADOPT_BAD_ACK);
	CHECK_EQ(JUDGE(TCP_ACK | TCP_FIN, ack, full), ADOPT_NOT_DATA);
	CHECK_EQ(JUDGE(TCP_ACK | TCP_RST, ack, full), ADOPT_NOT_DATA);
	CHECK_EQ(JUDGE(TCP_ACK | TCP_SYN, ack, full), ADOPT_NOT_DATA);
	CHECK_EQ(JUDGE(TCP_PSH, ack, full), ADOPT_NOT_DATA);
	CHECK_EQ(JUDGE(TCP_ACK, ack, ""), ADOPT_NOT_DATA);
#undef JUDGE
}

/*
 * Blind acks: 2^22 random acks for random 4-tuples at random times. Each
 * passes with probability at most 2 * 2^19 / 2^32 = 2^-12 (adopt.h), so
 * about 2^10 = 1024 are expected (a binomial: sd 32). Asserted within
 * 0.7x and 1.3x of that: more would break the bound, far fewer would
 * mean the check is not what adopt.h says.
 */
#define BLIND_TRIES (1u << 22)
TEST(blind_acks_within_the_bound)
{
	uint32_t i, accepted = 0, mark, expect = BLIND_TRIES >> 12;

	rng_seed(7);
	for (i = 0; i < BLIND_TRIES; i++) {
		struct flow_key k;

		random_key(&k);
		if (ok_at(&secret, &k, (uint32_t)rnd(),
			  NOW0 + rnd_below(1u << 30), &mark))
			accepted++;
	}
	fprintf(stderr,
		"blind acks adopted: %u of %u (%.3g; bound 2^-12 = %.3g, "
		"%u expected)\n",
		accepted, BLIND_TRIES, (double)accepted / BLIND_TRIES,
		1.0 / 4096, expect);
	CHECK(accepted <= expect * 13 / 10);
	CHECK(accepted >= expect * 7 / 10);
}
