/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The responder counters each worker exports to its slot of the pinned
 * xr_stats map: the engine's counters, then gauges, then the AF_XDP
 * socket's counters. The daemon writes them; xredirctl and /metrics read
 * them by these names.
 */
#ifndef XREDIR_STATS_H
#define XREDIR_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp.h"
#include "xredir_shared.h"

enum worker_stat {
	WS_FLOWS_OPEN = TCP_STAT_MAX, /* gauge */
	WS_SEND_RINGS_USED, /* gauge */
	WS_HEAD_BUFFERS_USED, /* gauge */
	WS_SOURCES, /* gauge */
	WS_TLS_SESSIONS, /* gauge */
	WS_XSK_RX,
	WS_XSK_TX,
	WS_XSK_TX_RING_FULL,
	WS_XSK_FILL_SHORT,
	WS_XSK_KICKS,
	WS_XSK_RX_DROPPED,
	WS_XSK_RX_RING_FULL,
	WS_XSK_FILL_EMPTY,
	WS_XSK_TX_INVALID, /* the last of the socket's: metrics.c per_queue() */
	WS_RESPONSES, /* first of HTTP_STATUS_SLOTS: responses by status */
	WS_MAX = WS_RESPONSES + HTTP_STATUS_SLOTS,
};

_Static_assert(WS_MAX <= XR_WORKER_STATS_MAX, "xr_worker_stats too small");
_Static_assert(XR_LATENCY_BUCKETS == LATENCY_BUCKETS,
	       "xr_worker_stats.latency is not the engine's histogram");

const char *worker_stat_name(unsigned int idx);
const char *worker_stat_help(unsigned int idx);
bool worker_stat_is_gauge(unsigned int idx);

#endif /* XREDIR_STATS_H */
