/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Ordinary kernel sockets, served by one epoll thread:
 *  - the service port, for clients XDP never sees (a process on the node
 *    calling its own address or 127.0.0.1): answered by the same HTTP code
 *    path (http_feed) as the AF_XDP workers;
 *  - --metrics-listen: /metrics (Prometheus), /healthz, /readyz.
 * Bounded: a fixed number of connections, buffers only while in use.
 */
#ifndef XREDIR_LISTENER_H
#define XREDIR_LISTENER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "http.h"
#include "proxy.h"
#include "rules.h"
#include "targets.h"

#define LISTENER_MAX_CONNS 256

struct lconn;

struct listener_cfg {
	uint16_t port; /* service port, 0: none */
	const char *metrics_listen; /* "ADDR:PORT", NULL: none */
	const struct http_limits *lim;
	const struct proxy_cfg *proxy;
	const struct xr_maps *maps;
	uint32_t idle_ms;
	uint32_t header_ms;
	bool log_clients; /* client addresses in the access log */
	const volatile bool *stop;
	const volatile bool *drain; /* refuse new clients, close idle ones */
};

struct listener {
	struct listener_cfg cfg;
	int epfd;
	int service_fd;
	int metrics_fd;
	struct lconn *conns; /* LISTENER_MAX_CONNS */
	struct target_cache targets;
	uint64_t responses[HTTP_STATUS_SLOTS];
	char date[HTTP_DATE_LEN];
	pthread_t thread;
	bool running;
	bool draining;
	volatile bool drained; /* draining, and no service client is left */
};

/* Whether s is a usable --metrics-listen address ("ADDR:PORT"). */
int listener_check_address(const char *s);
int listener_start(struct listener *l, const struct listener_cfg *cfg);
void listener_join(struct listener *l);

#endif /* XREDIR_LISTENER_H */
