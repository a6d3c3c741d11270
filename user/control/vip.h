/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Service addresses (VIPs): what --vip and `xredirctl vip` accept, and the
 * set a daemon starts with (the interface's addresses and --vip's, each
 * once). Pure: the maps are rules.c's, the interface's addresses iface.c's.
 */
#ifndef XREDIR_VIP_H
#define XREDIR_VIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xredir_shared.h"

struct xr_vip {
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16]; /* network order */
	uint32_t origin; /* enum xr_vip_origin */
};

/*
 * Parses a service address: one unicast host address, IPv4 or IPv6, no
 * prefix. Unspecified, multicast, IPv4 class E and broadcast addresses
 * are refused (no client connects to them). 0 or -1 with err filled.
 */
int xr_vip_parse(const char *s, struct xr_vip *out, char *err, size_t len);
/* "any" (any case): every destination address is a service address. */
bool xr_vip_is_any(const char *s);
void xr_vip_format(const struct xr_vip *v, char *out, size_t len);
/* "iface", "flag", "xredirctl", "config", or "unknown". */
const char *xr_vip_origin_name(uint32_t origin);

/* A growing set, each address once (the first origin stays). */
struct xr_vip_set {
	struct xr_vip *v;
	uint32_t n, cap;
};

/* 1 added, 0 already there, -1 out of memory. */
int xr_vip_set_add(struct xr_vip_set *s, const struct xr_vip *v);
bool xr_vip_set_has(const struct xr_vip_set *s, uint8_t family,
		    const uint8_t *addr);
/* IPv4 first, then by address: how lists show them. */
void xr_vip_set_sort(struct xr_vip_set *s);
void xr_vip_set_free(struct xr_vip_set *s);

#endif /* XREDIR_VIP_H */
