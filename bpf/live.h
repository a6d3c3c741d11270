/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The live table, shared by the XDP program and the workers: per slot, how
 * many open connections have tags (conn_tag.h) that fall in it. A SYN whose
 * slot counts none can have no connection here, so the XDP program may
 * answer it with the SYN-ACK the engine would send (synack.h); any other
 * SYN goes to the worker, which answers one of an open connection with a
 * challenge ACK (RFC 5961 4.2). A worker adds one when it opens a flow and
 * takes one away when it frees it, atomically, as connections of several
 * queues share slots. A slot is 64 bits wide for the reason closing.h gives.
 * The daemon sizes the table before the program loads: four slots per
 * flow its queues can hold, so that even with every flow open most SYNs
 * find their slot empty (e^-1/4: 78%), from XR_LIVE_SLOTS_MIN (512 KiB) to
 * XR_LIVE_SLOTS_MAX (32 MiB).
 */
#ifndef XREDIR_LIVE_H
#define XREDIR_LIVE_H

#include <linux/types.h>
#include "conn_tag.h"

#define XR_LIVE_SLOTS_MIN (1u << 16)
#define XR_LIVE_SLOTS_MAX (1u << 22)
#define XR_LIVE_SLOTS_PER_FLOW 4

/* mask: the table's slots less one (a power of two). A tag's lowest bit
 * is always set: it is left out. */
static inline __u32 xr_live_slot(__u32 tag, __u32 mask)
{
	return (tag >> 1) & mask;
}

#endif /* XREDIR_LIVE_H */
