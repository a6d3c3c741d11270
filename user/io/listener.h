/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Ordinary kernel sockets, served by one epoll thread:
 *  - the service port, for clients XDP never sees (a process on the node
 *    calling its own address or 127.0.0.1): answered by the same HTTP code
 *    path (http_feed) as the AF_XDP workers;
 *  - --metrics-listen: /metrics (Prometheus), /healthz, /readyz.
 * Bounded: two fixed pools of slots (the service port's cannot take the
 * probes'), a cap per source in each, absolute header deadlines, buffers
 * only while in use.
 */
#ifndef XREDIR_LISTENER_H
#define XREDIR_LISTENER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "certs.h"
#include "http.h"
#include "proxy.h"
#include "rules.h"
#include "slots.h"
#include "resolve.h"

/*
 * Service port slots: XDP takes the port's traffic, so these serve
 * processes on the node (and what reaches the kernel while a queue has no
 * socket): a few hundred at most. 1024 leaves room for twice the default
 * per-source cap, so one busy source never fills it, at ~150 bytes per
 * idle slot (file descriptors: see listener_start).
 */
#define LISTENER_SERVICE_SLOTS 1024
/*
 * Metrics slots: probes (a new connection each, from the node's address)
 * and scrapes (Prometheus, one at a time per target) need a handful. 8 per
 * source covers a source's concurrent probes and scrapes; a source at its
 * cap, or any newcomer to a full pool, displaces the longest waiting
 * connection, so a probe always gets a slot.
 */
#define LISTENER_METRICS_SLOTS 32
#define LISTENER_METRICS_PER_SOURCE 8

enum lpool_id { LP_SERVICE, LP_METRICS, LP_COUNT };

struct lconn;

struct lpool {
	uint32_t n;
	struct slot_policy policy;
	struct slot *slots; /* n: what admission needs */
	struct lconn *conns; /* n */
};

/* The listener's counters (not in the pinned maps: /metrics adds them). */
struct listener_stats {
	uint64_t responses[HTTP_STATUS_SLOTS]; /* service port, by status */
	uint64_t refused[LP_COUNT][SLOT_REASONS]; /* closed unanswered */
};

struct listener_cfg {
	uint16_t port; /* service port, 0: none */
	uint16_t tls_port; /* its TLS twin, 0: none */
	struct certs *certs; /* with tls_port */
	const char *metrics_listen; /* "ADDR:PORT", NULL: none */
	const struct http_limits *lim;
	const struct proxy_cfg *proxy;
	const struct xr_maps *maps;
	uint32_t idle_ms;
	uint32_t header_ms; /* from accept or a head's first byte, absolute */
	uint32_t max_flows_per_source; /* service port, per source; 0: none */
	bool log_clients; /* client addresses in the access log */
	const volatile bool *stop;
	const volatile bool *drain; /* refuse new clients, close idle ones */
};

struct listener {
	struct listener_cfg cfg;
	int epfd;
	int service_fd;
	int tls_fd;
	int metrics_fd;
	struct lpool pools[LP_COUNT];
	struct target_cache targets; /* its hits: local redirects by target */
	struct listener_stats stats;
	char date[HTTP_DATE_LEN];
	pthread_t thread;
	bool running;
	bool draining;
	volatile bool drained; /* draining, and no service client is left */
	/* /readyz answered "not ready": an announcer has seen it withdrawn */
	volatile uint64_t not_ready_answers;
};

/* Whether s is a usable --metrics-listen address ("ADDR:PORT"). */
int listener_check_address(const char *s);
int listener_start(struct listener *l, const struct listener_cfg *cfg);
void listener_join(struct listener *l);

#endif /* XREDIR_LISTENER_H */
