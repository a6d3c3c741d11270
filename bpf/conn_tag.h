/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A connection's tag, from its segments' addresses and ports: what the
 * tables the workers share with the XDP program (closing.h, live.h) are
 * indexed and matched by. Never 0.
 */
#ifndef XREDIR_CONN_TAG_H
#define XREDIR_CONN_TAG_H

#include <linux/types.h>

static inline __u32 xr_conn_mix(__u32 h, __u32 w)
{
	h = (h ^ w) * 0x9e3779b1u;
	return h ^ (h >> 16);
}

/* Addresses are 16 bytes each (an IPv4 address then zeros), ports in
 * network order, as a client's segments carry them. */
static inline __u32 xr_conn_tag(const __u8 *saddr, const __u8 *daddr,
				__u16 sport, __u16 dport)
{
	__u32 h = (__u32)sport << 16 | dport, w;
	int i;

	for (i = 0; i < 16; i += 4) {
		__builtin_memcpy(&w, saddr + i, 4);
		h = xr_conn_mix(h, w);
		__builtin_memcpy(&w, daddr + i, 4);
		h = xr_conn_mix(h, w);
	}
	return h | 1;
}

#endif /* XREDIR_CONN_TAG_H */
