/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* IPv4/IPv6 prefixes: parsing, printing, matching, and a longest-prefix
 * table for user-space lookups (which rule an address falls under). */
#ifndef XREDIR_CIDR_H
#define XREDIR_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xr_cidr {
	uint8_t family; /* 4 or 6 */
	uint8_t prefixlen;
	uint8_t addr[16]; /* network order, host bits zero */
};

/*
 * Parses "a.b.c.d[/n]" or "x::y[/n]" (no prefix: a host). Host bits set
 * below the prefix are an error; err says which prefix was meant.
 */
int xr_cidr_parse(const char *s, struct xr_cidr *out, char *err, size_t len);
/* Parses a plain address (no prefix). */
int xr_addr_parse(const char *s, uint8_t *family, uint8_t addr[16]);
void xr_cidr_format(const struct xr_cidr *c, char *out, size_t len);
bool xr_cidr_contains(const struct xr_cidr *c, uint8_t family,
		      const uint8_t *addr);

/* Longest-prefix match over a set of prefixes, each with a value. */
struct cidr_table {
	struct cidr_slot *slots;
	uint32_t mask; /* slots - 1 */
	uint32_t count;
	uint8_t has_len[2][129]; /* which prefix lengths exist, per family */
};

int cidr_table_init(struct cidr_table *t, uint32_t expected);
void cidr_table_free(struct cidr_table *t);
int cidr_table_add(struct cidr_table *t, const struct xr_cidr *c,
		   uint32_t value);
/* Returns true and the longest matching prefix and its value. */
bool cidr_table_lookup(const struct cidr_table *t, uint8_t family,
		       const uint8_t *addr, struct xr_cidr *match,
		       uint32_t *value);

#endif /* XREDIR_CIDR_H */
