/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The engine fuzzer's input language, shared with gen_seeds.c (which
 * writes inputs in it while a real TLS client talks through them): the
 * TCP engine fed a sequence of operations decoded from the input, with a
 * fake clock. Raw frames reach the parsers; crafted frames (valid
 * checksums, sequence numbers relative to what the engine expects) reach
 * the deep states: handshakes, data, FIN, RST, timers, TLS records.
 * Invariants are checked after every step; any violation aborts.
 *
 * An operation: op < 200 a crafted segment (conn, flags, mode, fields;
 * mode 1|2: sequence and ACK relative to what the engine expects, 4: zero
 * window, 8: a canned request, 64: a payload of up to 1400 bytes from the
 * input, 16: up to 63, 32: advance our sequence), op < 230 a raw frame,
 * else the clock moves.
 */
#ifndef XREDIR_ENGINE_OPS_H
#define XREDIR_ENGINE_OPS_H

#include <assert.h>
#include <stdlib.h>

#include "engine_harness.h"
#include "fuzz_tls.h"

/* 0-3 plain (3 on an 802.1Q VLAN), 4 and 5 (IPv4, IPv6) on the TLS port
 * (4 on an 802.1ad one). */
#define NCONN 6
#define FZ_TLS_PORT 10443

struct fz {
	const uint8_t *p;
	size_t n;
};

static uint8_t take(struct fz *f)
{
	uint8_t b;

	if (!f->n)
		return 0;
	b = *f->p++;
	f->n--;
	return b;
}

static uint32_t take32(struct fz *f)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++)
		v = v << 8 | take(f);
	return v;
}

static struct harness h;
static struct h_conn conns[NCONN];

/* The destination port of a frame the engine built (it must parse). */
static uint16_t dest_port(const uint8_t *b, uint32_t len)
{
	uint32_t off = 14;

	if (len > 14 && XR_ETH_IS_VLAN(b[12] << 8 | b[13]))
		off += 4;
	if (len < off + 1)
		return 0;
	off += (b[off] >> 4) == 4 ? (b[off] & 15) * 4u : 40;
	return len < off + 4 ? 0 : (uint16_t)(b[off + 2] << 8 | b[off + 3]);
}

/*
 * Every frame the engine emits must parse with valid checksums; those to
 * our clients tell them the server's next sequence number.
 */
static void learn(void)
{
	uint32_t i, k;
	struct pkt p;

	for (i = 0; i < h.nout; i++) {
		uint16_t port = dest_port(h.out[i].buf, h.out[i].len);

		assert(!pkt_parse(&p, h.out[i].buf, h.out[i].len, port, 0));
		for (k = 0; k < NCONN; k++) {
			struct h_conn *c = &conns[k];

			if (c->cport != port || p.key.family != c->family ||
			    memcmp(p.key.saddr, c->saddr, 16))
				continue;
			if (p.flags & TCP_SYN)
				c->rcv = p.seq + 1;
			else if (!(p.flags & TCP_RST))
				c->rcv = p.seq + p.payload_len +
					 !!(p.flags & TCP_FIN);
		}
	}
}

static void check_invariants(void)
{
	const struct tcp_engine *e = &h.e;

	assert(e->ft.count <= e->cfg.max_flows);
	assert(h.live == e->ft.count); /* the XDP program's live table */
	assert(e->sndpool.used <= e->ft.count);
	assert(e->headpool.used <= e->ft.count);
	assert(e->tw.count <= e->ft.count);
	assert(e->tlspool.used <= e->ft.count);
	assert(e->hspool.used <= e->tlspool.used);
}

static void crafted(struct fz *f)
{
	static const char *const reqs[] = {
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /a?b HTTP/1.0\r\n\r\n",
		"HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
		"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n",
		"\x16\x03\x01\x02\x00",
	};
	uint8_t sel = take(f), flags = take(f), mode = take(f);
	struct h_conn *c = &conns[sel % NCONN];
	uint8_t buf[H_FRAME], payload[1400];
	uint32_t seq, ack, len = 0, n;

	flags &= TCP_FIN | TCP_SYN | TCP_RST | TCP_PSH | TCP_ACK;
	seq = (mode & 1) ? c->snd + (int8_t)take(f) : take32(f);
	ack = (mode & 2) ? c->rcv + (int8_t)take(f) : take32(f);
	c->win = (mode & 4) ? 0 : (uint16_t)(take(f) << 8 | 0xff);
	if (mode & 8) {
		const char *r =
			reqs[take(f) % (sizeof(reqs) / sizeof(reqs[0]))];
		uint32_t off = take(f) % (uint32_t)strlen(r);

		len = (uint32_t)strlen(r) - off;
		memcpy(payload, r + off, len);
	} else if (mode & 64) {
		/* Up to a full segment: TLS records (see gen_seeds.c). */
		len = (uint32_t)take(f) << 8;
		len = (len | take(f)) % (sizeof(payload) + 1);
		for (n = 0; n < len && f->n; n++)
			payload[n] = take(f);
		len = n;
	} else if (mode & 16) {
		len = take(f) % 64;
		for (n = 0; n < len; n++)
			payload[n] = take(f);
	}
	n = h_frame(c, buf, seq, ack, flags, payload, len);
	h_input(&h, buf, n, take(f) & 1);
	if (mode & 32)
		c->snd = seq + len + !!(flags & (TCP_SYN | TCP_FIN));
	learn();
}

static void raw(struct fz *f)
{
	uint8_t buf[H_FRAME];
	uint32_t len = take(f) * 4u, i;

	for (i = 0; i < len && f->n; i++)
		buf[i] = take(f);
	h_input(&h, buf, i, TCP_TARGET_NONE);
	learn();
}

/* A fresh engine like the fuzzer's: small tables (to reach "table full"
 * too), the TLS port served, the server's randomness restarted. */
static void fz_begin(void)
{
	static struct tls_server *srv;
	int i;

	if (!srv)
		srv = fz_tls_server();
	fz_rand_restart();
	memset(&h, 0, sizeof(h));
	h_config(&h);
	h.cfg.max_flows = 3;
	h.cfg.send_buffers = 2;
	h.cfg.head_buffers = 2;
	h.cfg.tls_port = FZ_TLS_PORT;
	h.cfg.tls_flows = 2;
	h.cfg.tls_handshakes = 1;
	if (h_start(&h))
		abort();
	tcp_set_tls(&h.e, srv);
	for (i = 0; i < NCONN; i++) {
		h_conn_init(&conns[i], i & 1 ? 6 : 4, (uint16_t)(40000 + i));
		if (i == 3 || i == 4)
			conns[i].vlan_tpid = i == 3 ? ETH_P_8021Q :
						      ETH_P_8021AD;
		if (i >= 4)
			conns[i].port = FZ_TLS_PORT;
	}
}

/* One operation. */
static void fz_step(struct fz *f)
{
	uint8_t op = take(f);

	if (op < 200)
		crafted(f);
	else if (op < 230)
		raw(f);
	else
		h_advance(&h, (uint64_t)take(f) * (op & 1 ? 1000 : 10));
	learn();
	check_invariants();
}

/* Long after: every flow must have been freed by timers. */
static void fz_end(void)
{
	int i;

	for (i = 0; i < 10; i++)
		h_advance(&h, 300000);
	assert(h.e.ft.count == 0);
	assert(h.e.sndpool.used == 0 && h.e.headpool.used == 0);
	assert(h.e.tlspool.used == 0 && h.e.hspool.used == 0);
	tcp_engine_free(&h.e);
}

#endif /* XREDIR_ENGINE_OPS_H */
