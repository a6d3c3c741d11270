/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What counts as one client for the per-source limits: an IPv4 address, or
 * an IPv6 /64 (one subscriber's or host's prefix: an attacker holding a /64
 * can send from 2^64 addresses, so finer keys would limit nothing).
 */
#ifndef XREDIR_SOURCE_H
#define XREDIR_SOURCE_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
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

#define SOURCE_STR_LEN (INET6_ADDRSTRLEN + 4)

/* "192.0.2.1" or "2001:db8::/64", for logs. */
static inline const char *source_str(const struct source_key *k, char *buf)
{
	uint8_t a[16] = { 0 };

	memcpy(a, k->addr, 8);
	inet_ntop(k->family == 4 ? AF_INET : AF_INET6, a, buf, SOURCE_STR_LEN);
	if (k->family == 6)
		strcat(buf, "/64");
	return buf;
}

#endif /* XREDIR_SOURCE_H */
