/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* SipHash-2-4 (Aumasson and Bernstein), a keyed PRF for short inputs. */
#ifndef XREDIR_SIPHASH_H
#define XREDIR_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct siphash_key {
	uint64_t k0, k1;
};

uint64_t siphash24(const struct siphash_key *key, const void *data, size_t len);

#endif /* XREDIR_SIPHASH_H */
