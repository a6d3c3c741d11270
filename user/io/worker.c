// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "closing.h"
#include "live.h"
#include "log.h"
#include "stats.h"
#include "target_count.h"
#include "worker.h"

#define POLL_CAP_MS 100 /* also bounds how long a stop request waits */
#define STATS_EVERY_MS 100
#define LIMITED_LOG_EVERY_MS 1000

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

uint64_t worker_now_ms(void)
{
	return now_ns() / 1000000;
}

/*
 * What the worker does when a pass found no frame: with --busy-poll, right
 * after traffic, look again at once for busy_poll_ns, each empty look also
 * running the NIC's NAPI from here (SO_BUSY_POLL; a device without NAPI
 * returns at once); else, while traffic is dense (pace.h), nap
 * --coalesce-us and look again, so that the frames arriving meanwhile are
 * taken in one pass and the kernel does not wake the worker for each (on a
 * veth the sender's core pays those wake-ups). Otherwise sleep in poll()
 * until the kernel wakes it or a timer is due.
 */
static void idle_wait(struct worker *w, struct pollfd *pfd, uint64_t now)
{
	if (now - w->pace.last_frame_at < w->busy_poll_ns) {
		recvfrom(pfd->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		return;
	}
	if (pace_nap(&w->pace, now)) {
		struct timespec nap = { 0, (long)w->pace.nap_ns };

		nanosleep(&nap, NULL);
		return;
	}
	poll(pfd, 1, (int)tcp_sleep_ms(&w->engine, now / 1000000, POLL_CAP_MS));
}

static uint8_t *tx_alloc(void *ctx)
{
	struct worker *w = ctx;

	return xsk_tx_alloc(&w->port);
}

static void tx_send(void *ctx, uint8_t *frame, uint32_t len)
{
	struct worker *w = ctx;

	xsk_tx_send(&w->port, frame, len);
}

/* Our FIN is out: the peer's bare FIN that answers it may wait in the
 * ACK ring (bpf/closing.h). Once the flow is gone, its tag goes, unless
 * another connection's took the slot since. */
static void closing(void *ctx, const struct flow_key *key, bool sent)
{
	struct worker *w = ctx;
	__u64 tag, *slot;

	if (!w->closing)
		return;
	tag = xr_conn_tag(key->saddr, key->daddr, key->sport, key->dport);
	slot = &w->closing[xr_closing_slot((__u32)tag)];
	if (sent)
		__atomic_store_n(slot, tag, __ATOMIC_RELAXED);
	else
		__atomic_compare_exchange_n(slot, &tag, 0, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* A flow opened or freed: its slot of the live table counts it, so that
 * the XDP program leaves SYNs of open connections to us (bpf/live.h).
 * Set only while SYNs are answered in XDP. */
static void live(void *ctx, const struct flow_key *key, bool open)
{
	struct worker *w = ctx;
	__u32 tag;

	tag = xr_conn_tag(key->saddr, key->daddr, key->sport, key->dport);
	__atomic_add_fetch(&w->live[xr_live_slot(tag, w->live_mask)],
			   open ? 1 : (__u64)-1, __ATOMIC_RELAXED);
}

static const struct http_target *resolve_target(void *ctx, uint32_t target,
						const struct flow_key *peer,
						const struct http_request *req)
{
	struct worker *w = ctx;

	return target_for(&w->targets, w->maps, w->proxy, peer->family,
			  peer->saddr, target, req);
}

/* The debug-level access log (the engine is the HTTP context). */
static void access_log(void *ctx, const struct http_request *req, int status)
{
	struct tcp_engine *e = ctx;
	struct worker *w = e->target_ctx;

	log_access("xdp", req, status, e->cur->key.family,
		   w->log_clients ? e->cur->key.saddr : NULL);
}

/*
 * A bare ACK or FIN from the ACK ring, at the time it came (its RTT sample is
 * not the worker's sleep), kept between the engine's last clock and this
 * pass's so that the engine's clock never goes back.
 */
static void ack_input(void *ctx, const uint8_t *frame, uint32_t len,
		      uint64_t at_ns)
{
	struct worker *w = ctx;
	uint64_t at = at_ns / 1000000;

	if (at < w->engine.now_ms)
		at = w->engine.now_ms;
	if (at > w->pass_ms)
		at = w->pass_ms;
	tcp_input(&w->engine, frame, len, TCP_TARGET_NONE, at);
}

/* The rule lookup the XDP program left in front of the frame, if any. */
static uint32_t take_meta(const struct xsk_rx_frame *f)
{
	struct xr_meta *meta = (struct xr_meta *)(f->data - sizeof(*meta));
	uint32_t target = TCP_TARGET_NONE;

	if (meta->magic == XR_META_MAGIC)
		target = meta->target;
	meta->magic = 0; /* the frame is reused: no stale metadata */
	return target;
}

/* Publishes this worker's counters to its slot of the pinned stats map. */
static void export_stats(struct worker *w)
{
	const struct tcp_engine *e = &w->engine;
	const struct xsk_port_stats *x = &w->port.stats;
	uint64_t lat[LATENCY_BUCKETS];
	__u64 *v = w->stats->v;
	int i;

	xsk_read_kernel_stats(&w->port);
	for (i = 0; i < TCP_STAT_MAX; i++)
		v[i] = e->stats[i];
	v[WS_FLOWS_OPEN] = e->ft.count;
	v[WS_SEND_RINGS_USED] = e->sndpool.used;
	v[WS_HEAD_BUFFERS_USED] = e->headpool.used;
	v[WS_SOURCES] = e->src.count;
	v[WS_TLS_SESSIONS] = e->tlspool.used;
	v[WS_XSK_RX] = x->rx;
	v[WS_XSK_TX] = x->tx;
	v[WS_XSK_TX_RING_FULL] = x->tx_ring_full;
	v[WS_XSK_FILL_SHORT] = x->fill_short;
	v[WS_XSK_KICKS] = x->kicks;
	v[WS_XSK_RX_DROPPED] = x->rx_dropped;
	v[WS_XSK_RX_RING_FULL] = x->rx_ring_full;
	v[WS_XSK_FILL_EMPTY] = x->fill_empty;
	v[WS_XSK_TX_INVALID] = x->tx_invalid;
	for (i = 0; i < HTTP_STATUS_SLOTS; i++)
		v[WS_RESPONSES + i] = e->responses[i];
	tcp_latency(e, lat);
	for (i = 0; i < LATENCY_BUCKETS; i++)
		w->stats->latency[i] = lat[i];
	w->stats->latency_sum_ns = e->latency_sum_ns;
	for (i = 0; i < XR_MAX_TARGETS; i++)
		target_count_publish(w->stats, (uint32_t)i,
				     w->targets.raw[i].gen, w->targets.hits[i]);
}

/* Names a source that was refused something, at most once a second: an
 * operator sees who is limited without a label per client. */
static void log_limited(struct worker *w, uint64_t now)
{
	const struct tcp_engine *e = &w->engine;
	char src[SOURCE_STR_LEN];

	if (e->limited_count == w->limited_seen ||
	    now - w->limited_logged_at < LIMITED_LOG_EVERY_MS)
		return;
	log_warn("source_limited", LOG_UINT("queue", w->queue),
		 LOG_STR("source", source_str(&e->limited, src)),
		 LOG_UINT("refusals", (e->limited_count - w->limited_seen)));
	w->limited_seen = e->limited_count;
	w->limited_logged_at = now;
}

/*
 * Shutting down: refuse new connections and close idle ones, again every
 * stats period as busy ones go idle. The worker keeps serving (refusals
 * included) until the main thread stops it; it only says when it has
 * nothing left to finish.
 */
static void drain(struct worker *w, uint64_t now)
{
	if (!*w->drain) {
		/* Being withdrawn: keep-alive clients are told to reconnect
		 * (through the router, to a node still announced). */
		w->engine.env.close_all = w->close_all && *w->close_all;
		return;
	}
	if (!w->engine.draining || now - w->stats_at >= STATS_EVERY_MS)
		tcp_drain(&w->engine, now);
	w->drained = !w->engine.ft.count;
}

static void *worker_main(void *arg)
{
	struct xsk_rx_frame rx[WORKER_RX_BATCH];
	struct worker *w = arg;
	struct pollfd pfd = { .fd = xsk_port_fd(&w->port), .events = POLLIN };
	time_t wall = 0;
	uint32_t n, acks, i;

	/* Naps of a few microseconds, not the default 50 us of timer slack
	 * (this thread's own setting). */
	if (w->pace.nap_ns)
		prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);

	while (!*w->stop) {
		/* One clock read per pass: the pass's start stands for all. */
		uint64_t ns = now_ns(), now = ns / 1000000;
		time_t t = time(NULL);

		if (t != wall) {
			tcp_set_wallclock(&w->engine, t);
			wall = t;
		}
		w->engine.clock_ns = ns; /* request durations, in the core */
		if (w->certs && certs_current(w->certs) != w->engine.tls)
			tcp_set_tls(&w->engine, certs_current(w->certs));
		target_cache_refresh(&w->targets, w->maps);
		drain(w, now);
		w->pass_ms = now;
		acks = ack_ring_drain(&w->acks);
		n = xsk_rx(&w->port, rx, WORKER_RX_BATCH);
		for (i = 0; i < n; i++) {
			tcp_input(&w->engine, rx[i].data, rx[i].len,
				  take_meta(&rx[i]), now);
			xsk_frame_free(&w->port, rx[i].addr);
		}
		tcp_timers(&w->engine, now);
		xsk_flush(&w->port);
		if (now - w->stats_at >= STATS_EVERY_MS) {
			w->stats_at = now;
			export_stats(w);
			log_limited(w, now);
		}
		pace_pass(&w->pace, ns, n + acks);
		/* A drain that used its budget left ACKs behind: no sleep. */
		if (!n && acks < ACK_RING_BUDGET)
			idle_wait(w, &pfd, ns);
	}
	export_stats(w);
	return NULL;
}

/*
 * The queue may still be bound for a moment by the socket of a daemon that
 * just exited (the kernel releases it after the process is gone): EBUSY is
 * retried for up to a second.
 */
#define XSK_BUSY_RETRIES 20
#define XSK_BUSY_WAIT_US 50000

static int open_port(struct worker *w, const struct worker_cfg *cfg)
{
	int err, tries = 0;

	while ((err = xsk_port_open(&w->port, &cfg->xsk)) == -EBUSY &&
	       ++tries <= XSK_BUSY_RETRIES)
		usleep(XSK_BUSY_WAIT_US);
	if (tries && !err)
		log_info("xsk_busy_retried", LOG_UINT("queue", cfg->queue),
			 LOG_INT("waited_ms", tries * XSK_BUSY_WAIT_US / 1000));
	return err;
}

int worker_start(struct worker *w, const struct worker_cfg *cfg)
{
	struct tcp_tx tx = { tx_alloc, tx_send, w, closing,
			     cfg->live ? live : NULL };
	int err;

	memset(w, 0, sizeof(*w));
	w->queue = cfg->queue;
	w->busy_poll_ns = (uint64_t)cfg->xsk.busy_poll_us * 1000;
	pace_init(&w->pace, (uint64_t)cfg->coalesce_us * 1000, now_ns());
	w->maps = cfg->maps;
	w->proxy = cfg->proxy;
	w->stats = &cfg->maps->stats[cfg->queue];
	w->stop = cfg->stop;
	w->drain = cfg->drain;
	w->close_all = cfg->close_all;
	w->live = cfg->live;
	w->live_mask = cfg->live_mask;
	err = open_port(w, cfg);
	if (err) {
		log_err("xsk_open_failed", LOG_UINT("queue", cfg->queue),
			LOG_STR("err", strerror(-err)));
		return err;
	}
	if (tcp_engine_init(&w->engine, cfg->tcp, cfg->lim, cfg->secret, &tx,
			    resolve_target, w, worker_now_ms())) {
		log_err("engine_init_failed", LOG_UINT("queue", cfg->queue));
		xsk_port_close(&w->port);
		return -ENOMEM;
	}
	target_cache_refresh(&w->targets, w->maps);
	if (cfg->acks_fd >= 0) {
		err = ack_ring_open(&w->acks, cfg->acks_fd, cfg->queue,
				    ack_input, w);
		if (err)
			log_warn("ack_ring_failed",
				 LOG_UINT("queue", cfg->queue),
				 LOG_STR("err", strerror(-err)),
				 LOG_STR("fallback", "acks_to_socket"));
		else
			w->closing = cfg->closing;
	}
	w->certs = cfg->certs;
	if (w->certs)
		tcp_set_tls(&w->engine, certs_current(w->certs));
	w->log_clients = cfg->log_clients;
	if (log_enabled(LOG_DEBUG))
		w->engine.env.on_response = access_log;
	err = pthread_create(&w->thread, NULL, worker_main, w);
	if (err) {
		ack_ring_close(&w->acks);
		tcp_engine_free(&w->engine);
		xsk_port_close(&w->port);
		return -err;
	}
	w->running = true;
	log_info("worker_started", LOG_UINT("queue", cfg->queue),
		 LOG_STR("bind", w->port.zerocopy ? "zerocopy" : "copy"));
	return 0;
}

void worker_join(struct worker *w)
{
	if (!w->running)
		return;
	pthread_join(w->thread, NULL);
	ack_ring_close(&w->acks);
	tcp_engine_free(&w->engine);
	xsk_port_close(&w->port);
	w->running = false;
}
