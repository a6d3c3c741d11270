// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * make bench-engine: the TCP-lite engine and the HTTP path fed in-process,
 * no I/O. Keep-alive connections each send the request wrk sends; every
 * request segment also acknowledges the previous response, as wrk's
 * kernel does. The frames are recorded from one run and replayed into a
 * fresh engine (same secret, same clock, so the same sequence numbers),
 * which is what gets measured: time per request, or under callgrind the
 * instructions of replay() per request.
 *
 * usage: bench_engine [--requests N] [--conns N] [--json]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "engine_harness.h"

#define WRK_REQUEST "GET / HTTP/1.1\r\nHost: 10.77.0.1:10000\r\n\r\n"

struct frames {
	uint8_t *data;
	uint32_t *off, *len;
	uint32_t n, cap;
	size_t bytes, bytes_cap;
};

static struct harness h;
static uint8_t sink[H_FRAME];
static uint64_t sent;

/* The replay's TX: one buffer, reused; only counted. */
static uint8_t *sink_alloc(void *ctx)
{
	(void)ctx;
	return sink;
}

static void sink_send(void *ctx, uint8_t *frame, uint32_t len)
{
	(void)ctx;
	(void)frame;
	(void)len;
	sent++;
}

static void record(struct frames *f, const uint8_t *p, uint32_t len)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 4096;
		f->off = realloc(f->off, f->cap * sizeof(*f->off));
		f->len = realloc(f->len, f->cap * sizeof(*f->len));
	}
	if (f->bytes + len > f->bytes_cap) {
		f->bytes_cap = f->bytes_cap ? f->bytes_cap * 2 : 1 << 20;
		f->data = realloc(f->data, f->bytes_cap);
	}
	if (!f->off || !f->len || !f->data) {
		fprintf(stderr, "bench_engine: out of memory\n");
		exit(1);
	}
	memcpy(f->data + f->bytes, p, len);
	f->off[f->n] = (uint32_t)f->bytes;
	f->len[f->n++] = len;
	f->bytes += len;
}

/* Sends one client segment into the recording engine and keeps it. */
static void step(struct frames *f, struct h_conn *c, uint8_t flags,
		 const char *data, uint32_t len)
{
	uint8_t buf[H_FRAME];
	uint32_t n = h_frame(c, buf, c->snd, c->rcv, flags, data, len), i;
	struct pkt p;

	record(f, buf, n);
	h_input(&h, buf, n, 0);
	c->snd += len + !!(flags & (TCP_SYN | TCP_FIN));
	for (i = 0; i < h.nout; i++) {
		if (h_parse(&h, i, c, &p))
			continue;
		if (p.flags & TCP_SYN)
			c->rcv = p.seq + 1;
		else
			c->rcv = p.seq + p.payload_len;
	}
}

static int make_frames(struct frames *f, uint32_t conns, uint32_t requests,
		       uint32_t *setup)
{
	static const char req[] = WRK_REQUEST;
	struct h_conn *c = calloc(conns, sizeof(*c));
	uint32_t i;

	memset(&h, 0, sizeof(h));
	h_config(&h);
	tcp_config_default(&h.cfg); /* the daemon's sizes, not the tests' */
	if (!c || h_start(&h))
		return -1;
	for (i = 0; i < conns; i++) {
		h_conn_init(&c[i], 4, (uint16_t)(20000 + i));
		step(f, &c[i], TCP_SYN, NULL, 0);
		step(f, &c[i], TCP_ACK, NULL, 0);
	}
	*setup = f->n;
	for (i = 0; i < requests; i++)
		step(f, &c[i % conns], TCP_ACK | TCP_PSH, req, sizeof(req) - 1);
	if (h.e.stats[TCP_STAT_requests] != requests) {
		fprintf(stderr, "bench_engine: recording answered %llu of %u\n",
			(unsigned long long)h.e.stats[TCP_STAT_requests],
			requests);
		return -1;
	}
	tcp_engine_free(&h.e);
	free(c);
	return 0;
}

/* The measured part: every recorded frame into a fresh engine. */
__attribute__((noinline)) void replay(const struct frames *f, uint32_t from,
				      uint32_t to)
{
	uint32_t i;

	for (i = from; i < to; i++)
		tcp_input(&h.e, f->data + f->off[i], f->len[i], 0, h.now);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	uint32_t requests = 200000, conns = 50, setup;
	struct frames f = { 0 };
	struct siphash_key key = { 0x0123456789abcdefull,
				   0xfedcba9876543210ull };
	struct tcp_tx tx = { sink_alloc, sink_send, NULL, NULL, NULL };
	bool json = false;
	double t0, ns;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--requests") && i + 1 < argc)
			requests = (uint32_t)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--conns") && i + 1 < argc)
			conns = (uint32_t)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--json"))
			json = true;
	}
	if (!requests || !conns || make_frames(&f, conns, requests, &setup))
		return 1;
	/* A fresh engine, as the recording one started. */
	if (tcp_engine_init(&h.e, &h.cfg, &h.lim, &key, &tx, h_target, &h,
			    h.now))
		return 1;
	tcp_set_wallclock(&h.e, 784111777);
	replay(&f, 0, setup);
	t0 = now_ns();
	replay(&f, setup, f.n);
	ns = (now_ns() - t0) / requests;
	if (h.e.stats[TCP_STAT_requests] != requests) {
		fprintf(stderr, "bench_engine: replay answered %llu of %u\n",
			(unsigned long long)h.e.stats[TCP_STAT_requests],
			requests);
		return 1;
	}
	if (json)
		printf("{\"requests\":%u,\"conns\":%u,\"ns_per_request\":%.1f,"
		       "\"frames_out\":%llu}\n",
		       requests, conns, ns, (unsigned long long)sent);
	else
		printf("%u keep-alive requests on %u connections: %.1f ns per "
		       "request (%.2f M requests/s on one core)\n",
		       requests, conns, ns, 1e3 / ns);
	tcp_engine_free(&h.e);
	return 0;
}
