/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The closing table, shared by the XDP program and the workers: a tag per
 * slot for the connections xredird has sent its FIN on. The peer's bare
 * FIN on such a connection answers ours, and nobody waits for what we
 * send back, so it may wait in the ACK ring; any other bare FIN (a client
 * that half-closes and waits for our FIN) wakes the worker. A worker
 * writes the tag when it sends its FIN; the XDP program reads it, and
 * clears it when the FIN goes to the ring. A lost or colliding tag costs
 * a wake-up, or a wait of at most the worker's longest sleep: never a
 * wrong answer. A slot is 64 bits wide because the kernel lays an array
 * map's values out 8 bytes apart, and a worker writes it through a
 * mapping.
 */
#ifndef XREDIR_CLOSING_H
#define XREDIR_CLOSING_H

#include <linux/types.h>

#define XR_CLOSING_SLOTS (1u << 15)

static inline __u32 xr_closing_mix(__u32 h, __u32 w)
{
	h = (h ^ w) * 0x9e3779b1u;
	return h ^ (h >> 16);
}

/* The tag of a connection, from its segments' addresses (16 bytes each,
 * an IPv4 address then zeros) and ports (network order); never 0. */
static inline __u32 xr_closing_tag(const __u8 *saddr, const __u8 *daddr,
				   __u16 sport, __u16 dport)
{
	__u32 h = (__u32)sport << 16 | dport, w;
	int i;

	for (i = 0; i < 16; i += 4) {
		__builtin_memcpy(&w, saddr + i, 4);
		h = xr_closing_mix(h, w);
		__builtin_memcpy(&w, daddr + i, 4);
		h = xr_closing_mix(h, w);
	}
	return h | 1;
}

static inline __u32 xr_closing_slot(__u32 tag)
{
	return (tag >> 16) & (XR_CLOSING_SLOTS - 1);
}

#endif /* XREDIR_CLOSING_H */
