/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One worker per receive queue: its AF_XDP socket, its own TCP engine
 * (flows never move between queues) and its copy of the targets, driven by
 * one thread that batches RX, timers and TX.
 */
#ifndef XREDIR_WORKER_H
#define XREDIR_WORKER_H

#include <pthread.h>
#include <stdbool.h>

#include "certs.h"
#include "pace.h"
#include "proxy.h"
#include "rules.h"
#include "resolve.h"
#include "tcp.h"
#include "ack_ring.h"
#include "xsk.h"

#define WORKER_RX_BATCH 64

struct worker_cfg {
	uint32_t queue;
	struct xsk_port_cfg xsk;
	const struct tcp_config *tcp;
	const struct http_limits *lim;
	const struct siphash_key *secret;
	const struct xr_maps *maps;
	const struct proxy_cfg *proxy;
	struct certs *certs; /* the TLS port's certificates, NULL: none */
	bool log_clients; /* client addresses in the access log */
	uint32_t coalesce_us; /* --coalesce-us; at most 1000 */
	int acks_fd; /* xr_acks, to put this queue's ACK ring in; -1: none */
	__u64 *closing; /* xr_closing (bpf/closing.h); NULL: FINs wake */
	__u64 *live; /* xr_live (bpf/live.h); NULL: not kept (SYNs not
		      * answered in XDP) */
	__u32 live_mask; /* its slots less one */
	const volatile bool *stop; /* stop now */
	const volatile bool *drain; /* refuse new connections, close idle */
	const volatile bool *close_all; /* being withdrawn: responses close */
};

struct worker {
	uint32_t queue;
	uint64_t busy_poll_ns; /* spin this long after the last frame */
	struct pace pace; /* when to nap, and the last pass with a frame */
	struct xsk_port port;
	struct ack_ring acks; /* bare ACKs and FINs that did not wake us */
	__u64 *closing; /* the closing table's tags, NULL: none */
	__u64 *live; /* the live table's counts, NULL: none */
	__u32 live_mask;
	uint64_t pass_ms; /* the current pass's clock */
	struct tcp_engine engine;
	struct target_cache targets;
	const struct xr_maps *maps;
	const struct proxy_cfg *proxy;
	struct certs *certs;
	struct xr_worker_stats *stats; /* this queue's slot in xr_stats */
	uint64_t stats_at; /* when they were last exported (ms) */
	uint64_t limited_seen; /* engine.limited_count when last logged */
	uint64_t limited_logged_at; /* ms */
	bool log_clients;
	const volatile bool *stop;
	const volatile bool *drain;
	const volatile bool *close_all;
	pthread_t thread;
	bool running;
	volatile bool drained; /* draining, and no connection is left */
};

int worker_start(struct worker *w, const struct worker_cfg *cfg);
/* Monotonic milliseconds, the clock of drain deadlines. */
uint64_t worker_now_ms(void);
void worker_join(struct worker *w);

#endif /* XREDIR_WORKER_H */
