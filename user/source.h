/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What counts as one client for the per-source limits: an IPv4 address, or
 * an IPv6 /64 (one subscriber's or host's prefix: an attacker holding a /64
 * can send from 2^64 addresses, so finer keys would limit nothing).
 */
#ifndef XREDIR_SOURCE_H
#define XREDIR_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Default connections per source (engine and kernel-socket listener). */
#define SOURCE_MAX_FLOWS_DEFAULT 512

struct source_key {
	uint8_t family; /* 4 or 6 */
	uint8_t addr[8]; /* IPv4: 4 bytes then zeros; IPv6: the /64 */
};

/* The source of a peer address (IPv4 in the first 4 bytes of addr). */
static inline struct source_key source_of(uint8_t family, const uint8_t *addr)
{
	struct source_key k = { .family = family };

	memcpy(k.addr, addr, family == 4 ? 4 : 8);
	return k;
}

static inline bool source_eq(const struct source_key *a,
			     const struct source_key *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, 8);
}

#endif /* XREDIR_SOURCE_H */
