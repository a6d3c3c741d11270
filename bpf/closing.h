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
#include "conn_tag.h"

#define XR_CLOSING_SLOTS (1u << 15)

static inline __u32 xr_closing_slot(__u32 tag)
{
	return (tag >> 16) & (XR_CLOSING_SLOTS - 1);
}

#endif /* XREDIR_CLOSING_H */
