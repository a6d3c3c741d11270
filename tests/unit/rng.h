/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Deterministic pseudo-random numbers (splitmix64) for reproducible tests. */
#ifndef XREDIR_TEST_RNG_H
#define XREDIR_TEST_RNG_H

#include <stddef.h>
#include <stdint.h>

static uint64_t rng_state;

static inline void rng_seed(uint64_t seed)
{
	rng_state = seed;
}

static inline uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static inline void rnd_fill(void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)rnd();
}

#endif
