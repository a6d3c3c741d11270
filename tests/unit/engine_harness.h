/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Drives the TCP engine like a peer would: builds client frames, feeds
 * them with a fake clock, and collects (and parses) what the engine sends.
 */
#ifndef XREDIR_ENGINE_HARNESS_H
#define XREDIR_ENGINE_HARNESS_H

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <string.h>

#include "packet.h"
#include "tcp.h"

#define H_PORT 10000
#define H_MAX_OUT 256
#define H_FRAME 2048
/* The engine's clock at the start (ms) and the wall clock then (s): Sun, 06
 * Nov 1994 08:49:37, the Date of the tests' expected responses. */
#define H_NOW0 1000000
#define H_WALL0 784111777

struct h_out {
	uint8_t buf[H_FRAME];
	uint32_t len;
};

struct harness {
	struct tcp_engine e;
	struct tcp_config cfg;
	struct http_limits lim;
	struct http_target targets[2];
	struct h_out out[H_MAX_OUT];
	uint32_t nout;
	bool tx_exhausted; /* alloc fails while set */
	uint64_t now;
	const struct siphash_key *key; /* NULL: the harnesses' shared one */
	uint32_t live; /* flows open by the engine's live() calls */
};

/* One simulated client connection. */
struct h_conn {
	uint8_t family;
	uint8_t caddr[16], saddr[16];
	uint16_t cport;
	uint16_t port; /* the server's: H_PORT unless a test sets another */
	uint32_t isn; /* client ISN */
	uint32_t snd; /* client's next sequence */
	uint32_t rcv; /* next server sequence expected */
	uint16_t win;
	uint16_t mss;
	uint16_t vlan_tpid; /* its frames' tag, 0: untagged */
};

static const uint8_t h_client_mac[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t h_server_mac[6] = { 2, 0, 0, 0, 0, 1 };

static inline uint8_t *h_alloc(void *ctx)
{
	struct harness *h = ctx;

	if (h->tx_exhausted || h->nout == H_MAX_OUT)
		return NULL;
	return h->out[h->nout].buf;
}

static inline void h_send(void *ctx, uint8_t *frame, uint32_t len)
{
	struct harness *h = ctx;

	(void)frame;
	h->out[h->nout++].len = len;
}

/* The live table's view (bpf/live.h): must always be the flow count. */
static inline void h_live(void *ctx, const struct flow_key *key, bool open)
{
	struct harness *h = ctx;

	(void)key;
	h->live += open ? 1 : -1;
}

static inline const struct http_target *h_target(void *ctx, uint32_t target,
						 const struct flow_key *peer,
						 const struct http_request *req)
{
	struct harness *h = ctx;

	(void)peer;
	(void)req;
	return &h->targets[target == 1 ? 1 : 0];
}

static const char h_url0[] = "https://k8s.gcr.io";
static const char h_url1[] = "https://registry-1.docker.io";

static inline void h_config(struct harness *h)
{
	tcp_config_default(&h->cfg);
	h->cfg.max_flows = 64;
	h->cfg.send_buffers = 32;
	h->cfg.head_buffers = 16;
	http_limits_default(&h->lim);
}

static inline int h_start(struct harness *h)
{
	struct siphash_key key = { 0x0123456789abcdefull,
				   0xfedcba9876543210ull };
	struct tcp_tx tx = { h_alloc, h_send, h, NULL, h_live };

	h->now = H_NOW0;
	http_target_init(&h->targets[0], h_url0, sizeof(h_url0) - 1, 302);
	http_target_init(&h->targets[1], h_url1, sizeof(h_url1) - 1, 302);
	if (tcp_engine_init(&h->e, &h->cfg, &h->lim, h->key ? h->key : &key,
			    &tx, h_target, h, h->now))
		return -1;
	tcp_set_wallclock(&h->e, H_WALL0);
	return 0;
}

static inline int h_init(struct harness *h)
{
	memset(h, 0, sizeof(*h));
	h_config(h);
	return h_start(h);
}

static inline void h_conn_init(struct h_conn *c, uint8_t family, uint16_t cport)
{
	memset(c, 0, sizeof(*c));
	c->family = family;
	if (family == 4) {
		inet_pton(AF_INET, "10.77.0.2", c->caddr);
		inet_pton(AF_INET, "10.77.0.1", c->saddr);
	} else {
		inet_pton(AF_INET6, "fd77::2", c->caddr);
		inet_pton(AF_INET6, "fd77::1", c->saddr);
	}
	c->cport = cport;
	c->port = H_PORT;
	c->isn = 0x10000000u + cport;
	c->snd = c->isn;
	c->win = 65535;
	c->mss = 1460;
}

/* Builds a client frame into buf; returns its length. */
static inline uint32_t h_frame(struct h_conn *c, uint8_t *buf, uint32_t seq,
			       uint32_t ack, uint8_t flags, const void *data,
			       uint32_t len)
{
	struct pkt_route r = {
		.src_mac = h_client_mac,
		.dst_mac = h_server_mac,
		.saddr = c->caddr,
		.daddr = c->saddr,
		.sport = htons(c->cport),
		.dport = htons(c->port),
		.vlan_tpid = c->vlan_tpid,
		.vlan_tci = 42,
		.family = c->family,
	};
	struct pkt_seg s = { .seq = seq,
			     .ack = ack,
			     .flags = flags,
			     .win = c->win,
			     .data = { data, NULL },
			     .len = { len, 0 } };

	if (flags & TCP_SYN)
		s.mss = c->mss;
	return pkt_build(buf, &r, &s);
}

static inline void h_input(struct harness *h, const uint8_t *frame,
			   uint32_t len, uint32_t target)
{
	h->nout = 0;
	tcp_input(&h->e, frame, len, target, h->now);
}

/* Sends a segment from the client at the sequence numbers given (an old
 * or a future one): the client's own stay as they are. */
static inline void h_send_at(struct harness *h, struct h_conn *c, uint32_t seq,
			     uint32_t ack, uint8_t flags, const void *data,
			     uint32_t len)
{
	uint8_t buf[H_FRAME * 8];

	h_input(h, buf, h_frame(c, buf, seq, ack, flags, data, len),
		TCP_TARGET_NONE);
}

/* Sends a segment from the client at its current sequence numbers. */
static inline void h_send_seg(struct harness *h, struct h_conn *c,
			      uint8_t flags, const void *data, uint32_t len)
{
	h_send_at(h, c, c->snd, c->rcv, flags, data, len);
	c->snd += len + !!(flags & (TCP_SYN | TCP_FIN));
}

/* Sets the engine's clock to now (ms) and the wall clock to the same
 * moment, as the worker keeps them: a later moment, or another node of a
 * fleet whose clocks agree. */
static inline void h_clock(struct harness *h, uint64_t now)
{
	h->now = now;
	tcp_set_wallclock(&h->e, H_WALL0 + (int64_t)(now - H_NOW0) / 1000);
}

static inline void h_advance(struct harness *h, uint64_t ms)
{
	h_clock(h, h->now + ms);
	h->nout = 0;
	tcp_timers(&h->e, h->now);
}

/* Parses frame i of the output as a segment to the client. */
static inline int h_parse(struct harness *h, uint32_t i, struct h_conn *c,
			  struct pkt *p)
{
	if (i >= h->nout)
		return -1;
	return pkt_parse(p, h->out[i].buf, h->out[i].len, c->cport, 0);
}

/* SYN, SYN-ACK, ACK; returns 0 when the connection is established. */
static inline int h_connect(struct harness *h, struct h_conn *c)
{
	struct pkt p;

	h_send_seg(h, c, TCP_SYN, NULL, 0);
	if (h->nout != 1 || h_parse(h, 0, c, &p) ||
	    p.flags != (TCP_SYN | TCP_ACK) || p.ack != c->snd)
		return -1;
	c->rcv = p.seq + 1;
	h_send_seg(h, c, TCP_ACK, NULL, 0);
	return h->nout ? -1 : 0;
}

/* Concatenates the payload of all output frames to the client. */
static inline uint32_t h_payload(struct harness *h, struct h_conn *c, char *out,
				 uint32_t cap)
{
	uint32_t i, n = 0;
	struct pkt p;

	for (i = 0; i < h->nout; i++) {
		if (h_parse(h, i, c, &p) || n + p.payload_len >= cap)
			continue;
		memcpy(out + n, p.payload, p.payload_len);
		n += p.payload_len;
	}
	out[n] = 0;
	return n;
}

#endif /* XREDIR_ENGINE_HARNESS_H */
