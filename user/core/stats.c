// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "stats.h"

static const char *const extra_names[] = {
	"flows_open",	  "send_rings_used",  "head_buffers_used",
	"sources",	  "tls_sessions",     "xsk_rx",
	"xsk_tx",	  "xsk_tx_ring_full", "xsk_fill_short",
	"xsk_kicks",	  "xsk_rx_dropped",   "xsk_rx_ring_full",
	"xsk_fill_empty", "xsk_tx_invalid",
};

static const char *const extra_help[] = {
	"flows in the table",
	"send rings in use",
	"partial-head buffers in use",
	"client sources (IPv4 address, IPv6 /64) holding flows",
	"TLS sessions held (handshaking or established)",
	"frames received on the AF_XDP socket",
	"frames sent on the AF_XDP socket",
	"frames dropped: TX ring full",
	"refills of the fill ring that found no free frame",
	"TX wakeups (sendto) issued",
	"frames the kernel dropped: no free frame in the fill ring, or too long",
	"frames the kernel dropped: RX ring full (the worker behind)",
	"times the kernel found the fill ring empty",
	"TX descriptors the kernel refused",
};

_Static_assert(sizeof(extra_names) / sizeof(extra_names[0]) ==
		       WS_RESPONSES - TCP_STAT_MAX,
	       "a worker stat without a name");

#define STATUS_NAME(code) "responses_" #code,
static const char *const status_names[HTTP_STATUS_SLOTS] = { HTTP_STATUSES(
	STATUS_NAME) };

const char *worker_stat_name(unsigned int idx)
{
	if (idx < TCP_STAT_MAX)
		return tcp_stat_names[idx];
	if (idx < WS_RESPONSES)
		return extra_names[idx - TCP_STAT_MAX];
	return idx < WS_MAX ? status_names[idx - WS_RESPONSES] : "";
}

const char *worker_stat_help(unsigned int idx)
{
	if (idx < TCP_STAT_MAX)
		return tcp_stat_help[idx];
	if (idx < WS_RESPONSES)
		return extra_help[idx - TCP_STAT_MAX];
	return idx < WS_MAX ? "responses with this status code" : "";
}

bool worker_stat_is_gauge(unsigned int idx)
{
	return idx >= WS_FLOWS_OPEN && idx <= WS_TLS_SESSIONS;
}
