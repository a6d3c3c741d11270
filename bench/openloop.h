/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The open loop of make bench's fixed-rate clients (rateload, tlsload
 * --rate): request i is due at start + i / rate, whatever the server does,
 * so both servers of a comparison get the same load.
 */
#ifndef XREDIR_BENCH_OPENLOOP_H
#define XREDIR_BENCH_OPENLOOP_H

#include <stdint.h>

/* How many requests are due at now_ns (the first one at start_ns). */
static inline uint64_t openloop_due(uint64_t start_ns, uint64_t now_ns,
				    double rate)
{
	return (uint64_t)((double)(now_ns - start_ns) * rate / 1e9) + 1;
}

/* When request i (counted from 0) is due. */
static inline uint64_t openloop_at(uint64_t start_ns, uint64_t i, double rate)
{
	return start_ns + (uint64_t)((double)i * 1e9 / rate);
}

#endif /* XREDIR_BENCH_OPENLOOP_H */
