/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The request duration histogram's buckets: powers of four nanoseconds,
 * from 2^10 ns (about 1 us) to 2^30 ns (about 1 s), then +Inf. A bucket
 * holds the durations up to and including its upper bound, as Prometheus'
 * le ("less or equal") says. It is found by the highest bit set of ns - 1
 * (clz), not by floating point: it is on the request path. Buckets are not
 * cumulative here; /metrics adds them.
 */
#ifndef XREDIR_LATENCY_H
#define XREDIR_LATENCY_H

#include <stdint.h>

#define LATENCY_FIRST_BITS 10 /* bucket 0: up to 2^10 ns */
#define LATENCY_FINITE 11 /* upper bounds 2^10, 2^12, ... 2^30 ns */
#define LATENCY_BUCKETS (LATENCY_FINITE + 1) /* and +Inf */

/* The bucket of a duration of ns nanoseconds: 4^k ns itself is in the
 * bucket whose bound it is, so the bits counted are those of ns - 1 (0
 * stays 0, in bucket 0). */
static inline unsigned int latency_bucket(uint64_t ns)
{
	uint64_t below = ns - (ns != 0);
	unsigned int bits = 64 - (unsigned int)__builtin_clzll(below | 1);
	unsigned int b = bits <= LATENCY_FIRST_BITS ?
				 0 :
				 (bits - LATENCY_FIRST_BITS + 1) / 2;

	return b < LATENCY_FINITE ? b : LATENCY_FINITE;
}

/* Bucket b's upper bound in nanoseconds (b < LATENCY_FINITE). */
static inline uint64_t latency_bound_ns(unsigned int b)
{
	return 1ull << (LATENCY_FIRST_BITS + 2 * b);
}

#endif /* XREDIR_LATENCY_H */
