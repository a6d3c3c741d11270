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
 */
#ifndef XREDIR_LIVE_H
#define XREDIR_LIVE_H

#include <linux/types.h>
#include "conn_tag.h"

#define XR_LIVE_SLOTS (1u << 16)

static inline __u32 xr_live_slot(__u32 tag)
{
	return (tag >> 8) & (XR_LIVE_SLOTS - 1);
}

#endif /* XREDIR_LIVE_H */
