// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * loadgen: an HTTP/1.1 load generator over AF_XDP.
 *
 * It runs in the client namespace on the client veth. loadgen.bpf.c steers
 * the server's segments to the generator's source ports into one AF_XDP
 * socket per queue; one thread per socket runs a TCP client-lite for its
 * share of the connections: the handshake (SYN with MSS only: no window
 * scaling, SACK or timestamps), keep-alive requests of wrk's shape with the
 * ACK piggybacked, or one request per connection (--close), and checks
 * every response: a status line, 302, a Location header, Content-Length and
 * all of the body, across any segmentation. In-order data only: a segment
 * ahead of the expected sequence is dropped with a duplicate ACK; our data
 * is resent from the oldest unacknowledged byte after a timeout (the bytes
 * are a function of the sequence number, so nothing is buffered).
 *
 * RX and TX are batched; one sendto kick per batch (the kernel sends at
 * most 32 frames per kick in copy mode, so a kick is repeated while it
 * says EAGAIN); the rings are busy-polled.
 *
 * Modes: keepalive (default), close, hold (open, one request each, then
 * stay idle: for memory measurements), raw (64-byte UDP frames as fast as
 * possible: the veth ceiling), synflood (SYNs from random ports).
 * Other commands: --attach-drop IFACE (loadgen_drop on IFACE, stays after
 * exit), --drop-count IFACE (frames it dropped so far).
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <xdp/xsk.h>

#include "csum.h"
#include "loadgen_shared.h"

#define FRAME_SIZE 2048
#define RING_SIZE 4096 /* TX and completion rings, TX frames */
/* RX frames (the fill and RX rings' size): a kernel server may answer
 * each pipelined request with its own segment, all at once. */
#define RX_FRAMES_MIN 8192
#define NFRAMES (o.rx_frames + RING_SIZE)
#define RX_BATCH 512
#define KICK_RETRIES 256
#define MAX_SRC 64
#define HCAP 16384 /* response head buffer, allocated when first needed */
#define OUR_MSS 1460
#define OUR_WIN 65535
#define NO_CONN UINT32_MAX
#define XDP_MAX_TX_SKB_BUDGET_OPT 9 /* linux/if_xdp.h from 6.17 */

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

enum mode { M_KEEPALIVE, M_CLOSE, M_HOLD, M_RAW, M_SYNFLOOD };
static const char *const mode_names[] = { "keepalive", "close", "hold", "raw",
					  "synflood" };
enum idle { IDLE_BUSY, IDLE_YIELD, IDLE_POLL };
enum phase { PH_WARMUP, PH_MEASURE, PH_STOP, PH_EXIT };

/* Errors: each one a response or connection that went wrong. */
#define ERRORS(X)                                                          \
	X(bad_status, "status other than 302")                             \
	X(no_location, "302 without Location")                             \
	X(no_length, "no Content-Length (or Transfer-Encoding)")           \
	X(bad_head, "malformed status line or header")                     \
	X(head_too_long, "response head over 16 KiB")                      \
	X(unsolicited, "response bytes with no request outstanding")       \
	X(reset, "connection reset by the server")                         \
	X(refused, "handshake answered with RST")                          \
	X(server_close, "server closed a keep-alive connection")           \
	X(closed_early, "server FIN before the response was complete")     \
	X(no_fin, "no server FIN after a Connection: close response")      \
	X(timeout, "response not complete within --timeout")               \
	X(connect_timeout, "handshake not complete after retransmissions") \
	X(rtx_giveup, "data unacknowledged after retransmissions")         \
	X(bad_csum, "IPv4 or TCP checksum wrong")                          \
	X(malformed, "truncated or inconsistent headers")

#define E_ENUM(n, d) E_##n,
enum { ERRORS(E_ENUM) E_MAX };
#define E_NAME(n, d) #n,
static const char *const err_names[] = { ERRORS(E_NAME) };

/* Counters that are not errors. */
#define COUNTERS(X)                                                              \
	X(requests_sent)                                                         \
	X(responses)                                                             \
	X(responses_ok)                                                          \
	X(bytes_rx)                                                              \
	X(connects)                                                              \
	X(established)                                                           \
	X(closes) /* close mode: FIN handshake completed */                      \
	X(resets_sent)                                                           \
	X(rx_frames)                                                             \
	X(tx_frames)                                                             \
	X(rx_unknown) /* for no connection of ours (late, after a reset) */      \
	X(csum_partial) /* kernel-sent: TCP checksum left to an offload */       \
	X(rto) /* retransmission timeouts */                                     \
	X(rtx_segments)                                                          \
	X(ooo_rx) /* segments ahead of rcv_nxt, dropped */                       \
	X(dup_rx) /* segments entirely old */                                    \
	X(pure_acks)                                                             \
	X(window_stalls) /* a request waited for the server's window */          \
	X(tx_pool_empty)                                                         \
	X(kicks)                                                                 \
	X(kick_eagain)                                                           \
	X(kick_errors)                                                           \
	X(raw_tx) /* raw and synflood modes: frames completed */                 \
	X(rx_after_stop) /* frames received after the final resets */            \
	X(late_fin_acks) /* close: our FIN acknowledged after more than 50 ms */ \
	X(idle_ns) /* time in loop iterations that found nothing to do */        \
	X(stale_acks) /* a SYN answered by an older connection's ACK */

#define C_ENUM(n) C_##n,
enum { COUNTERS(C_ENUM) C_MAX };
#define C_NAME(n) #n,
static const char *const cnt_names[] = { COUNTERS(C_NAME) };

/* Latency histogram: 16 sub-buckets per power of two of nanoseconds. */
#define H_SUB 16
#define H_BUCKETS (64 * H_SUB)

struct hist {
	uint64_t n, max;
	uint64_t b[H_BUCKETS];
};

static uint32_t hist_idx(uint64_t v)
{
	uint32_t lg;

	if (v < H_SUB)
		return (uint32_t)v;
	lg = 63 - (uint32_t)__builtin_clzll(v); /* >= 4 */
	return (lg - 3) * H_SUB + (uint32_t)((v >> (lg - 4)) & (H_SUB - 1));
}

static uint64_t hist_val(uint32_t i)
{
	uint32_t lg = i / H_SUB + 3, sub = i % H_SUB;

	if (i < H_SUB)
		return i;
	/* Middle of the bucket. */
	return ((uint64_t)(H_SUB + sub) << (lg - 4)) +
	       ((uint64_t)1 << (lg - 4)) / 2;
}

static void hist_add(struct hist *h, uint64_t v)
{
	h->b[hist_idx(v)]++;
	h->n++;
	if (v > h->max)
		h->max = v;
}

static uint64_t hist_pct(const struct hist *h, double p)
{
	uint64_t want = (uint64_t)((double)h->n * p), seen = 0;
	uint32_t i;

	if (!h->n)
		return 0;
	if (want >= h->n)
		want = h->n - 1;
	for (i = 0; i < H_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > want)
			return hist_val(i) < h->max ? hist_val(i) : h->max;
	}
	return h->max;
}

/* Options */

static struct opts {
	const char *iface;
	uint32_t queue, nqueues;
	int cpus[LG_MAX_QUEUES];
	int ncpus;
	struct in_addr dst;
	uint16_t port;
	uint8_t dst_mac[6], src_mac[6];
	bool have_mac;
	struct in_addr src[MAX_SRC];
	int nsrc;
	uint16_t port_lo, port_hi;
	uint32_t conns, depth;
	double duration, warmup, drain;
	enum mode mode;
	enum idle idle;
	const char *path;
	const char *bpf_obj;
	const char *ready_file;
	uint32_t rto_ms, timeout_ms, max_retries, syn_window;
	uint32_t raw_len;
	uint32_t tx_budget;
	uint32_t hold_requests;
	uint32_t rx_frames;
	bool json, strict_csum, no_csum_check, debug;
	int interval;
} o = {
	.nqueues = 1,
	.port = 10000,
	.port_lo = 1024,
	.port_hi = 32767,
	.conns = 64,
	.depth = 1,
	.duration = 10,
	.warmup = 1,
	.drain = 1,
	.path = "/",
	.rto_ms = 200,
	.timeout_ms = 5000,
	.max_retries = 8,
	.syn_window = 256,
	.raw_len = 64,
	.tx_budget = 256,
	.hold_requests = 1,
	.rx_frames = 0, /* auto: room for every response segment in flight */
};

static volatile int phase = PH_WARMUP;

static __attribute__((noreturn, format(printf, 1, 2))) void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static bool seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

/* The request stream: the request repeated, so that any stream offset has
 * a segment's worth of bytes after it. */
static uint8_t *pattern;
static uint32_t req_len, pattern_len;

/* Connections */

enum cstate { CS_CLOSED, CS_SYN_SENT, CS_ESTAB, CS_LAST_ACK };

#define CF_INQ 0x01 /* in the output queue */
#define CF_ACKNOW 0x02 /* send an ACK now (pure if nothing else goes) */
#define CF_SYN 0x04 /* the SYN is to be sent */
#define CF_FIN_SENT 0x08
#define CF_PEER_FIN 0x10
#define CF_HELD 0x20 /* hold mode: first response received */
#define CF_SEND_FIN 0x40
#define CF_CONNQ 0x80 /* in the connect queue */

struct conn {
	uint8_t state;
	uint8_t flags;
	uint8_t ip; /* index into o.src */
	uint8_t retries;
	uint16_t sport; /* host order */
	uint16_t snd_wnd;
	uint16_t mss;
	uint16_t hlen; /* bytes in the head buffer */
	uint32_t isn, snd_una, snd_nxt; /* snd_nxt: next new data byte */
	uint32_t rcv_nxt, rcv_acked;
	uint32_t inflight; /* requests sent, response not complete */
	uint32_t snd_end; /* end of the queued request bytes */
	uint32_t body_left; /* of the response being received, in body */
	uint32_t nsent, ndone; /* requests sent/answered on this connection */
	uint32_t rto_ms;
	uint8_t in_body;
	uint8_t status_ok;
	uint64_t rto_at, ack_at, resp_at; /* deadlines (ns), 0: none */
	uint64_t fin_at;
	uint8_t fin_rtx;
};

struct thr {
	int id;
	uint32_t queue;
	int cpu;
	pthread_t th;

	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	uint8_t *area;
	int fd;
	uint64_t *txfree;
	uint32_t ntxfree;
	uint64_t *pend_addr;
	uint32_t *pend_len;
	uint32_t npend;
	uint64_t *stash; /* received frames for the fill ring */
	uint32_t nstash;

	struct conn *c;
	uint32_t nconns;
	uint64_t *timer_at; /* per connection: earliest deadline, 0: none */
	uint64_t *ts; /* per connection: depth send times */
	uint8_t **hbuf; /* per connection: NULL or HCAP bytes */
	uint32_t *by_port; /* [ip][port] -> connection */
	uint32_t *sendq, nsendq;
	uint32_t *connq, cq_head, cq_tail; /* connections waiting to connect */
	uint32_t connecting;
	uint32_t port_lo, port_n, port_cursor; /* this thread's port slice */
	uint32_t held;
	uint64_t now, next_scan;
	uint64_t syn_seq; /* synflood: a pseudo-random sequence */
	bool measuring;

	uint64_t cnt[C_MAX];
	uint64_t err[E_MAX];
	struct hist lat;
};

static struct thr *thr;
static int nthr;

#define CNT(t, name) ((t)->cnt[C_##name]++)
#define ERR(t, name) ((t)->err[E_##name]++)

static uint64_t isn_clock(void)
{
	/* RFC 6528-like: a clock of 256 ns ticks (it wraps in 18 minutes),
	 * so a port reused within a server's TIME-WAIT (60 s) starts ahead
	 * of the last connection's sequence space, and the server takes the
	 * SYN. */
	return now_ns() >> 8;
}

/* Frames */

/* Takes sent frames back from the completion ring; returns how many. */
static uint32_t reap(struct thr *t)
{
	uint32_t idx, n, i;

	n = xsk_ring_cons__peek(&t->comp, RING_SIZE, &idx);
	for (i = 0; i < n; i++)
		t->txfree[t->ntxfree++] =
			*xsk_ring_cons__comp_addr(&t->comp, idx + i);
	if (n)
		xsk_ring_cons__release(&t->comp, n);
	return n;
}

static uint8_t *frame_alloc(struct thr *t, uint64_t *addr)
{
	if (!t->ntxfree) {
		reap(t);
		if (!t->ntxfree) {
			CNT(t, tx_pool_empty);
			return NULL;
		}
	}
	*addr = t->txfree[--t->ntxfree];
	return t->area + *addr;
}

static void frame_queue(struct thr *t, uint64_t addr, uint32_t len)
{
	t->pend_addr[t->npend] = addr;
	t->pend_len[t->npend++] = len;
	CNT(t, tx_frames);
}

static bool tx_ring_empty(const struct thr *t)
{
	return __atomic_load_n(t->tx.consumer, __ATOMIC_ACQUIRE) ==
	       *t->tx.producer;
}

/* Copy mode sends at most 32 frames per kick and says EAGAIN while more
 * wait; kick until the ring is empty. */
static void kick(struct thr *t)
{
	int i;

	for (i = 0; i < KICK_RETRIES; i++) {
		CNT(t, kicks);
		if (sendto(t->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
			return;
		if (o.debug && errno != EAGAIN)
			fprintf(stderr, "kick: %s\n", strerror(errno));
		if (errno != EAGAIN && errno != EBUSY && errno != ENOBUFS) {
			CNT(t, kick_errors);
			return;
		}
		if (errno != EAGAIN)
			CNT(t, kick_errors);
		else
			CNT(t, kick_eagain);
		reap(t);
		/* Done once the kernel has taken every descriptor. */
		if (tx_ring_empty(t))
			return;
	}
}

static void tx_submit(struct thr *t)
{
	uint32_t idx, n, i;

	if (t->npend) {
		n = xsk_ring_prod__reserve(&t->tx, t->npend, &idx);
		for (i = 0; i < n; i++) {
			struct xdp_desc *d =
				xsk_ring_prod__tx_desc(&t->tx, idx + i);

			d->addr = t->pend_addr[i];
			d->len = t->pend_len[i];
			d->options = 0;
		}
		if (n) {
			xsk_ring_prod__submit(&t->tx, n);
			if (n < t->npend) {
				memmove(t->pend_addr, t->pend_addr + n,
					(t->npend - n) * sizeof(*t->pend_addr));
				memmove(t->pend_len, t->pend_len + n,
					(t->npend - n) * sizeof(*t->pend_len));
			}
			t->npend -= n;
		}
	}
	/* Copy mode always needs the kick (need_wakeup stays set). */
	if (!tx_ring_empty(t))
		kick(t);
	reap(t);
}

/* Builds Ethernet + IPv4 + TCP (+ MSS option on a SYN) + payload. */
static uint32_t build_tcp(const struct conn *c, uint8_t *f,
			  uint32_t seq, uint32_t ack, uint8_t flags,
			  const uint8_t *data, uint32_t len)
{
	uint8_t *ip = f + 14, *tcp = ip + 20;
	uint32_t thl = (flags & F_SYN) ? 24 : 20, l4 = thl + len;
	uint16_t tot = (uint16_t)(20 + l4), c16;
	uint32_t v;
	uint64_t sum;

	memcpy(f, o.dst_mac, 6);
	memcpy(f + 6, o.src_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	ip[0] = 0x45;
	ip[1] = 0;
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[4] = ip[5] = 0; /* id */
	ip[6] = 0x40; /* DF */
	ip[7] = 0;
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	ip[10] = ip[11] = 0;
	memcpy(ip + 12, &o.src[c->ip], 4);
	memcpy(ip + 16, &o.dst, 4);
	c16 = csum_buf(ip, 20);
	memcpy(ip + 10, &c16, 2);

	tcp[0] = (uint8_t)(c->sport >> 8);
	tcp[1] = (uint8_t)c->sport;
	tcp[2] = (uint8_t)(o.port >> 8);
	tcp[3] = (uint8_t)o.port;
	v = htonl(seq);
	memcpy(tcp + 4, &v, 4);
	v = htonl((flags & F_ACK) ? ack : 0);
	memcpy(tcp + 8, &v, 4);
	tcp[12] = (uint8_t)((thl / 4) << 4);
	tcp[13] = flags;
	tcp[14] = OUR_WIN >> 8;
	tcp[15] = OUR_WIN & 0xff;
	tcp[16] = tcp[17] = 0;
	tcp[18] = tcp[19] = 0;
	if (flags & F_SYN) {
		tcp[20] = 2;
		tcp[21] = 4;
		tcp[22] = OUR_MSS >> 8;
		tcp[23] = OUR_MSS & 0xff;
	}
	if (len)
		memcpy(tcp + thl, data, len);
	sum = csum_pseudo4(ip + 12, ip + 16, IPPROTO_TCP, (uint16_t)l4);
	c16 = csum_fold(csum_add(sum, tcp, l4));
	memcpy(tcp + 16, &c16, 2);
	return 14 + 20 + l4;
}

/* Sends one segment of the connection; data comes from the request stream
 * at seq. False when no TX frame is free. */
static bool send_seg(struct thr *t, struct conn *c, uint32_t seq, uint32_t len,
		     uint8_t flags)
{
	const uint8_t *data = NULL;
	uint64_t addr;
	uint8_t *f = frame_alloc(t, &addr);

	if (!f)
		return false;
	if (len)
		data = pattern + (seq - c->isn - 1) % req_len;
	frame_queue(t, addr,
		    build_tcp(c, f, seq, c->rcv_nxt, flags, data, len));
	if (flags & F_ACK) {
		c->rcv_acked = c->rcv_nxt;
		c->flags &= (uint8_t)~CF_ACKNOW;
		c->ack_at = 0;
	}
	return true;
}

/* Timers */

static void rearm(struct thr *t, struct conn *c)
{
	uint64_t m = c->rto_at;

	if (c->ack_at && (!m || c->ack_at < m))
		m = c->ack_at;
	if (c->resp_at && (!m || c->resp_at < m))
		m = c->resp_at;
	t->timer_at[c - t->c] = m;
}

static void enqueue(struct thr *t, struct conn *c)
{
	if (c->flags & CF_INQ)
		return;
	c->flags |= CF_INQ;
	t->sendq[t->nsendq++] = (uint32_t)(c - t->c);
}

static uint32_t snd_max(const struct conn *c)
{
	return c->snd_nxt + ((c->flags & CF_FIN_SENT) ? 1 : 0);
}

/* Connection lifetime */

static uint32_t port_key(const struct conn *c)
{
	return (uint32_t)c->ip << 16 | c->sport;
}

static void conn_reset_state(struct thr *t, struct conn *c)
{
	if (c->state != CS_CLOSED) {
		t->by_port[port_key(c)] = NO_CONN;
		if (c->state == CS_SYN_SENT)
			t->connecting--;
	}
	if (c->flags & CF_HELD)
		t->held--;
	/* The queues still hold it: keep their flags. */
	c->flags &= CF_INQ | CF_CONNQ;
	c->state = CS_CLOSED;
	c->inflight = 0;
	c->hlen = 0;
	c->in_body = 0;
	c->rto_at = c->ack_at = c->resp_at = 0;
	rearm(t, c);
}

/* Back to the connect queue, unless the run is ending. */
static void conn_recycle(struct thr *t, struct conn *c)
{
	conn_reset_state(t, c);
	if (phase < PH_STOP && !(c->flags & CF_CONNQ)) {
		c->flags |= CF_CONNQ;
		t->connq[t->cq_tail++ % t->nconns] = (uint32_t)(c - t->c);
	}
}

/* Drops the connection with an RST (the server frees its state). */
static void conn_abort(struct thr *t, struct conn *c)
{
	if (c->state != CS_CLOSED &&
	    send_seg(t, c, snd_max(c), 0, F_RST | F_ACK))
		CNT(t, resets_sent);
	conn_recycle(t, c);
}

static bool conn_start(struct thr *t, struct conn *c)
{
	uint32_t tries, total = t->port_n * (uint32_t)o.nsrc;

	for (tries = 0; tries < total; tries++) {
		uint32_t i = t->port_cursor++ % total;
		uint8_t ip = (uint8_t)(i / t->port_n);
		uint16_t port = (uint16_t)(t->port_lo + i % t->port_n);

		if (t->by_port[(uint32_t)ip << 16 | port] != NO_CONN)
			continue;
		c->ip = ip;
		c->sport = port;
		t->by_port[port_key(c)] = (uint32_t)(c - t->c);
		c->isn = (uint32_t)isn_clock() + ((uint32_t)port << 16);
		c->snd_una = c->snd_nxt = c->snd_end = c->isn + 1;
		c->rcv_nxt = c->rcv_acked = 0;
		c->state = CS_SYN_SENT;
		c->flags = (uint8_t)((c->flags & (CF_INQ | CF_CONNQ)) | CF_SYN);
		c->retries = 0;
		c->rto_ms = o.rto_ms;
		c->rto_at = t->now + (uint64_t)o.rto_ms * 1000000;
		c->nsent = c->ndone = 0;
		c->mss = 536;
		rearm(t, c);
		t->connecting++;
		CNT(t, connects);
		enqueue(t, c);
		return true;
	}
	return false;
}

/* Queues k requests: their bytes follow in the stream; each one's clock
 * starts now. */
static void queue_requests(struct thr *t, struct conn *c, uint32_t k)
{
	uint32_t idx = (uint32_t)(c - t->c), i;

	if (!k)
		return;
	for (i = 0; i < k; i++)
		t->ts[(uint64_t)idx * o.depth + (c->nsent + i) % o.depth] =
			t->now;
	if (!c->inflight)
		c->resp_at = t->now + (uint64_t)o.timeout_ms * 1000000;
	c->nsent += k;
	c->inflight += k;
	c->snd_end += k * req_len;
	t->cnt[C_requests_sent] += k;
	enqueue(t, c);
}

/* Output of one connection: the SYN, new requests within the server's
 * window, our FIN, or a pure ACK. False when TX frames ran out. */
static bool output(struct thr *t, struct conn *c)
{
	bool sent = false;

	if (c->state == CS_SYN_SENT) {
		if (c->flags & CF_SYN) {
			if (!send_seg(t, c, c->isn, 0, F_SYN))
				return false;
			c->flags &= (uint8_t)~CF_SYN;
		}
		return true;
	}
	if (c->state != CS_ESTAB && c->state != CS_LAST_ACK)
		return true;
	/* The queued requests, as a byte stream: MSS-sized segments within
	 * the server's window (a request may span segments). */
	while (seq_lt(c->snd_nxt, c->snd_end) && !(c->flags & CF_FIN_SENT)) {
		uint32_t room = c->snd_una + c->snd_wnd - c->snd_nxt;
		uint32_t n = c->snd_end - c->snd_nxt;

		if ((int32_t)room <= 0) {
			CNT(t, window_stalls);
			break;
		}
		if (n > c->mss)
			n = c->mss;
		if (n > room)
			n = room;
		if (!send_seg(t, c, c->snd_nxt, n, F_ACK | F_PSH))
			return false;
		c->snd_nxt += n;
		if (!c->rto_at)
			c->rto_at = t->now + (uint64_t)c->rto_ms * 1000000;
		sent = true;
	}
	if ((c->flags & (CF_SEND_FIN | CF_FIN_SENT)) == CF_SEND_FIN &&
	    c->snd_nxt == c->snd_end) {
		if (!send_seg(t, c, c->snd_nxt, 0, F_FIN | F_ACK))
			return false;
		c->fin_at = t->now;
		c->fin_rtx = 0;
		c->flags |= CF_FIN_SENT;
		c->state = CS_LAST_ACK;
		if (!c->rto_at)
			c->rto_at = t->now + (uint64_t)c->rto_ms * 1000000;
		sent = true;
	}
	if (!sent && (c->flags & CF_ACKNOW)) {
		if (!send_seg(t, c, snd_max(c), 0, F_ACK))
			return false;
		CNT(t, pure_acks);
	}
	rearm(t, c);
	return true;
}

/* Resends from snd_una: the SYN, data, our FIN. */
static void retransmit(struct thr *t, struct conn *c)
{
	uint32_t seq = c->snd_una;

	CNT(t, rto);
	if (c->state == CS_SYN_SENT) {
		if (send_seg(t, c, c->isn, 0, F_SYN))
			CNT(t, rtx_segments);
		return;
	}
	while (seq_lt(seq, c->snd_nxt)) {
		uint32_t n = c->snd_nxt - seq;
		uint8_t fl = F_ACK | F_PSH;

		if (n > c->mss)
			n = c->mss;
		if (n > c->snd_wnd && seq != c->snd_una)
			break;
		if ((c->flags & CF_FIN_SENT) && seq + n == c->snd_nxt)
			fl |= F_FIN;
		if (!send_seg(t, c, seq, n, fl))
			return;
		CNT(t, rtx_segments);
		seq += n;
	}
	if ((c->flags & CF_FIN_SENT) && c->snd_una == c->snd_nxt &&
	    send_seg(t, c, c->snd_nxt, 0, F_FIN | F_ACK))
		CNT(t, rtx_segments);
}

static void on_timer(struct thr *t, struct conn *c)
{
	uint64_t now = t->now;

	if (c->rto_at && now >= c->rto_at) {
		if (++c->retries > o.max_retries) {
			if (c->state == CS_SYN_SENT)
				ERR(t, connect_timeout);
			else
				ERR(t, rtx_giveup);
			conn_abort(t, c);
			return;
		}
		if (o.debug)
			fprintf(stderr,
				"rto: port %u state %u flags %#x una %u nxt %u "
				"rcv_nxt %u inflight %u retries %u at %.3f s\n",
				c->sport, c->state, c->flags,
				c->snd_una - c->isn, c->snd_nxt - c->isn,
				c->rcv_nxt, c->inflight, c->retries,
				(double)(now % 1000000000000ull) / 1e9);
		c->fin_rtx = 1;
		retransmit(t, c);
		c->rto_ms = c->rto_ms * 2 > 60000 ? 60000 : c->rto_ms * 2;
		c->rto_at = now + (uint64_t)c->rto_ms * 1000000;
	}
	if (c->resp_at && now >= c->resp_at) {
		if (c->inflight)
			ERR(t, timeout);
		else
			ERR(t, no_fin);
		conn_abort(t, c);
		return;
	}
	if (c->ack_at && now >= c->ack_at) {
		c->ack_at = 0;
		c->flags |= CF_ACKNOW;
		enqueue(t, c);
	}
	rearm(t, c);
}

static void scan_timers(struct thr *t)
{
	uint32_t i;

	for (i = 0; i < t->nconns; i++)
		if (t->timer_at[i] && t->now >= t->timer_at[i])
			on_timer(t, &t->c[i]);
}

/* Responses */

static bool name_is(const uint8_t *s, const uint8_t *colon, const char *name)
{
	size_t n = strlen(name);

	return (size_t)(colon - s) == n &&
	       !strncasecmp((const char *)s, name, n);
}

enum { HEAD_INCOMPLETE = 0, HEAD_OK = 1, HEAD_ERR = -1 };

/*
 * Parses a response head at buf[0, len). On HEAD_OK: *used is the head's
 * length, *clen the body length, *ok whether it is a 302 with Location.
 * On HEAD_ERR: *err is the error.
 */
static int parse_head(const uint8_t *buf, uint32_t len, uint32_t *used,
		      uint32_t *clen, bool *is302, bool *has_loc,
		      bool *conn_close, int *err)
{
	const uint8_t *p = buf, *end = buf + len, *nl;
	bool have_len = false;

	*has_loc = false;
	*conn_close = false;
	nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl)
		return HEAD_INCOMPLETE;
	/* "HTTP/1.x DDD " */
	if (nl - p < 13 || memcmp(p, "HTTP/1.", 7) || p[nl - p - 1] != '\r' ||
	    p[8] != ' ' || p[12] != ' ' || p[9] < '1' || p[9] > '5' ||
	    p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9') {
		*err = E_bad_head;
		return HEAD_ERR;
	}
	*is302 = p[9] == '3' && p[10] == '0' && p[11] == '2';
	p = nl + 1;
	for (;;) {
		const uint8_t *colon, *v;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return HEAD_INCOMPLETE;
		if (nl == p || nl[-1] != '\r') {
			*err = E_bad_head;
			return HEAD_ERR;
		}
		if (nl == p + 1) /* the empty line */
			break;
		colon = memchr(p, ':', (size_t)(nl - p));
		if (!colon || colon == p) {
			*err = E_bad_head;
			return HEAD_ERR;
		}
		v = colon + 1;
		while (v < nl - 1 && (*v == ' ' || *v == '\t'))
			v++;
		switch (*p | 0x20) {
		case 'l':
			if (name_is(p, colon, "location") && v < nl - 1)
				*has_loc = true;
			break;
		case 'c':
			if (name_is(p, colon, "content-length")) {
				uint64_t n = 0;

				if (v == nl - 1) {
					*err = E_bad_head;
					return HEAD_ERR;
				}
				for (; v < nl - 1 && *v >= '0' && *v <= '9';
				     v++)
					n = n * 10 + (uint64_t)(*v - '0');
				if (v != nl - 1 || n > (1u << 30)) {
					*err = E_bad_head;
					return HEAD_ERR;
				}
				*clen = (uint32_t)n;
				have_len = true;
			} else if (name_is(p, colon, "connection") &&
				   nl - 1 - v == 5 &&
				   !strncasecmp((const char *)v, "close", 5)) {
				*conn_close = true;
			}
			break;
		case 't':
			if (name_is(p, colon, "transfer-encoding")) {
				*err = E_no_length;
				return HEAD_ERR;
			}
			break;
		}
		p = nl + 1;
	}
	if (!have_len) {
		*err = E_no_length;
		return HEAD_ERR;
	}
	*used = (uint32_t)(nl + 1 - buf);
	return HEAD_OK;
}

static void response_done(struct thr *t, struct conn *c)
{
	uint32_t idx = (uint32_t)(c - t->c);
	uint64_t sent = t->ts[(uint64_t)idx * o.depth + c->ndone % o.depth];

	c->ndone++;
	c->inflight--;
	CNT(t, responses);
	if (!c->status_ok) {
		ERR(t, bad_status);
	} else {
		CNT(t, responses_ok);
		if (t->measuring)
			hist_add(&t->lat, t->now - sent);
	}
	c->resp_at = c->inflight ? t->now + (uint64_t)o.timeout_ms * 1000000 :
				   0;
	if (phase >= PH_STOP)
		return;
	switch (o.mode) {
	case M_KEEPALIVE:
		queue_requests(t, c, 1);
		break;
	case M_HOLD:
		if (!(c->flags & CF_HELD)) {
			c->flags |= CF_HELD;
			t->held++;
		}
		c->ack_at = t->now + 20000000ull; /* delayed ACK */
		break;
	case M_CLOSE:
		/* The server's FIN follows; until then, a delayed ACK. */
		c->ack_at = t->now + 20000000ull;
		c->resp_at = t->now + (uint64_t)o.timeout_ms * 1000000;
		break;
	default:
		break;
	}
}

/* Response bytes in order. False if the connection was aborted. */
static bool feed(struct thr *t, struct conn *c, const uint8_t *d, uint32_t len)
{
	uint8_t **hbp = &t->hbuf[c - t->c], *hb;

	while (len) {
		if (!c->inflight) {
			ERR(t, unsolicited);
			conn_abort(t, c);
			return false;
		}
		if (!c->in_body) {
			const uint8_t *buf = d;
			uint32_t blen = len, used = 0, clen = 0, old = c->hlen;
			bool is302 = false, loc = false, cclose = false;
			int err = E_bad_head, r;

			hb = *hbp;
			if (old) {
				uint32_t n = len < HCAP - old ? len :
								HCAP - old;

				memcpy(hb + old, d, n);
				buf = hb;
				blen = old + n;
			}
			r = parse_head(buf, blen, &used, &clen, &is302, &loc,
				       &cclose, &err);
			if (r == HEAD_INCOMPLETE) {
				if (blen >= HCAP) {
					ERR(t, head_too_long);
					conn_abort(t, c);
					return false;
				}
				if (!old) {
					if (!hb && !(hb = *hbp = malloc(HCAP)))
						die("out of memory");
					memcpy(hb, d, len);
				}
				c->hlen = (uint16_t)blen;
				return true;
			}
			if (r == HEAD_ERR) {
				t->err[err]++;
				conn_abort(t, c);
				return false;
			}
			if (is302 && !loc) {
				ERR(t, no_location);
				is302 = false;
			}
			if (cclose && o.mode == M_KEEPALIVE)
				ERR(t, server_close);
			c->status_ok = is302 && loc;
			c->hlen = 0;
			used -= old; /* bytes of d that belong to the head */
			d += used;
			len -= used;
			c->body_left = clen;
			c->in_body = 1;
		}
		if (c->in_body) {
			uint32_t n = len < c->body_left ? len : c->body_left;

			c->body_left -= n;
			d += n;
			len -= n;
			if (!c->body_left) {
				c->in_body = 0;
				response_done(t, c);
				if (c->state == CS_CLOSED)
					return false;
			}
		}
	}
	return true;
}

static void on_established(struct thr *t, struct conn *c)
{
	c->state = CS_ESTAB;
	t->connecting--;
	CNT(t, established);
	c->rto_at = 0;
	c->retries = 0;
	c->rto_ms = o.rto_ms;
	if (phase < PH_STOP)
		queue_requests(t, c,
			       o.mode == M_KEEPALIVE ? o.depth :
			       o.mode == M_HOLD	     ? o.hold_requests :
						       1);
	if (o.mode == M_HOLD && !c->inflight && !(c->flags & CF_HELD)) {
		c->flags |= CF_HELD;
		t->held++;
	}
	c->flags |= CF_ACKNOW;
	enqueue(t, c);
}

static void on_segment(struct thr *t, struct conn *c, uint32_t seq,
		       uint32_t ack, uint8_t flags, uint16_t win,
		       const uint8_t *tcp, uint32_t thl, const uint8_t *pl,
		       uint32_t plen)
{
	if (c->state == CS_SYN_SENT) {
		uint32_t i;

		if ((flags & F_ACK) && ack != c->isn + 1) {
			/* Not for this SYN: the server still has an older
			 * connection of this 4-tuple (TIME-WAIT). RFC 9293:
			 * answer with <SEQ=SEG.ACK><CTL=RST> (which ends a
			 * TIME-WAIT), then send the SYN again at once. */
			if (!(flags & F_RST)) {
				uint64_t addr;
				uint8_t *f = frame_alloc(t, &addr);

				if (f) {
					frame_queue(t, addr,
						    build_tcp(c, f, ack, 0,
							      F_RST, NULL, 0));
					CNT(t, stale_acks);
					c->flags |= CF_SYN;
					enqueue(t, c);
				}
			}
			return;
		}
		if (flags & F_RST) {
			if (flags & F_ACK) {
				ERR(t, refused);
				conn_recycle(t, c);
			}
			return;
		}
		if ((flags & (F_SYN | F_ACK)) != (F_SYN | F_ACK))
			return;
		c->rcv_nxt = seq + 1;
		c->snd_una = c->isn + 1;
		c->snd_wnd = win;
		c->mss = 536;
		for (i = 20; i + 1 < thl;) {
			uint8_t kind = tcp[i], l;

			if (kind == 0)
				break;
			if (kind == 1) {
				i++;
				continue;
			}
			l = tcp[i + 1];
			if (l < 2 || i + l > thl)
				break;
			if (kind == 2 && l == 4)
				c->mss = (uint16_t)(tcp[i + 2] << 8 |
						    tcp[i + 3]);
			i += l;
		}
		if (c->mss > OUR_MSS)
			c->mss = OUR_MSS;
		if (c->mss < 64)
			c->mss = 64;
		on_established(t, c);
		rearm(t, c);
		return;
	}
	if (c->state == CS_CLOSED)
		return;
	if (flags & F_RST) {
		/* In window (no window scaling: 64 KiB at most). */
		if (seq - c->rcv_nxt <= OUR_WIN) {
			ERR(t, reset);
			conn_recycle(t, c);
		}
		return;
	}
	if (flags & F_SYN) { /* a retransmitted SYN-ACK: ACK it again */
		c->flags |= CF_ACKNOW;
		enqueue(t, c);
		return;
	}
	if (flags & F_ACK) {
		uint32_t max = snd_max(c);

		if (seq_lt(c->snd_una, ack) && seq_le(ack, max)) {
			c->snd_una = ack;
			c->retries = 0;
			c->rto_ms = o.rto_ms;
			c->rto_at = ack == max ? 0 :
						 t->now + (uint64_t)c->rto_ms *
								  1000000;
			if (c->state == CS_LAST_ACK && ack == max) {
				if (t->now - c->fin_at > 50000000)
					CNT(t, late_fin_acks);
				if (o.debug && (c->fin_rtx ||
						t->now - c->fin_at > 50000000))
					fprintf(stderr,
						"late ack: port %u after %llu us, "
						"flags %#x at %.3f s\n",
						c->sport,
						(unsigned long long)(t->now -
								     c->fin_at) /
							1000,
						flags,
						(double)(t->now %
							 1000000000000ull) /
							1e9);
				/* Our FIN is acknowledged: done. */
				CNT(t, closes);
				conn_recycle(t, c);
				return;
			}
		}
		if (seq_le(c->snd_una, ack)) {
			if (seq_lt(c->snd_nxt, c->snd_end) && win > c->snd_wnd)
				enqueue(t, c);
			c->snd_wnd = win;
		}
	}
	if (plen || (flags & F_FIN)) {
		if (seq != c->rcv_nxt) {
			uint32_t skip = c->rcv_nxt - seq;

			if (seq_lt(c->rcv_nxt, seq)) { /* a hole before it */
				CNT(t, ooo_rx);
				c->flags |= CF_ACKNOW;
				enqueue(t, c);
				rearm(t, c);
				return;
			}
			if (skip >= plen + ((flags & F_FIN) ? 1u : 0u)) {
				CNT(t, dup_rx); /* all old: ACK again */
				c->flags |= CF_ACKNOW;
				enqueue(t, c);
				rearm(t, c);
				return;
			}
			if (skip > plen) { /* only the FIN is new */
				pl += plen;
				plen = 0;
			} else {
				pl += skip;
				plen -= skip;
			}
		}
		if (plen) {
			c->rcv_nxt += plen;
			t->cnt[C_bytes_rx] += plen;
			if (!feed(t, c, pl, plen))
				return;
			if (c->in_body || c->hlen) {
				/* Part of a response: ACK it now. */
				c->flags |= CF_ACKNOW;
				enqueue(t, c);
			}
		}
		if (flags & F_FIN) {
			c->rcv_nxt++;
			c->flags |= CF_PEER_FIN | CF_ACKNOW;
			if (c->inflight || c->in_body || c->hlen) {
				ERR(t, closed_early);
				conn_abort(t, c);
				return;
			}
			if (o.mode != M_CLOSE && phase < PH_STOP) {
				ERR(t, server_close);
				conn_abort(t, c);
				return;
			}
			c->flags |= CF_SEND_FIN;
			c->resp_at = 0;
			enqueue(t, c);
		}
	}
	rearm(t, c);
}

static void rx_frame(struct thr *t, const uint8_t *f, uint32_t len)
{
	const uint8_t *ip = f + 14, *tcp;
	uint32_t ihl, tot, thl, l4, seq, ack, daddr, i;
	uint16_t sport, dport, win;
	uint64_t sum;
	struct conn *c;
	uint32_t id;
	int ipi = -1;

	CNT(t, rx_frames);
	if (len < 14 + 20 + 20 || f[12] != 0x08 || f[13] != 0x00) {
		CNT(t, rx_unknown);
		return;
	}
	ihl = (ip[0] & 0xf) * 4u;
	tot = (uint32_t)(ip[2] << 8 | ip[3]);
	if ((ip[0] >> 4) != 4 || ihl < 20 || tot > len - 14 || tot < ihl + 20) {
		ERR(t, malformed);
		return;
	}
	if (ip[9] != IPPROTO_TCP || memcmp(ip + 12, &o.dst, 4)) {
		CNT(t, rx_unknown);
		return;
	}
	tcp = ip + ihl;
	l4 = tot - ihl;
	thl = (tcp[12] >> 4) * 4u;
	if (thl < 20 || thl > l4) {
		ERR(t, malformed);
		return;
	}
	if (!o.no_csum_check) {
		if (csum_buf(ip, ihl)) {
			ERR(t, bad_csum);
			return;
		}
		sum = csum_pseudo4(ip + 12, ip + 16, IPPROTO_TCP, (uint16_t)l4);
		if (csum_fold(csum_add(sum, tcp, l4))) {
			/* A kernel sender's offloaded checksum: the field
			 * holds the pseudo-header sum only. */
			uint16_t field, partial = (uint16_t)~csum_fold(sum);

			memcpy(&field, tcp + 16, 2);
			if (o.strict_csum || field != partial) {
				ERR(t, bad_csum);
				return;
			}
			CNT(t, csum_partial);
		}
	}
	sport = (uint16_t)(tcp[0] << 8 | tcp[1]);
	dport = (uint16_t)(tcp[2] << 8 | tcp[3]);
	memcpy(&daddr, ip + 16, 4);
	for (i = 0; i < (uint32_t)o.nsrc; i++)
		if (o.src[i].s_addr == daddr) {
			ipi = (int)i;
			break;
		}
	if (sport != o.port || ipi < 0) {
		CNT(t, rx_unknown);
		return;
	}
	id = t->by_port[(uint32_t)ipi << 16 | dport];
	if (id == NO_CONN) {
		if (o.debug)
			fprintf(stderr,
				"unknown: port %u flags %#x at %.3f s\n", dport,
				tcp[13],
				(double)(now_ns() % 1000000000000ull) / 1e9);
		CNT(t, rx_unknown);
		return;
	}
	c = &t->c[id];
	memcpy(&seq, tcp + 4, 4);
	memcpy(&ack, tcp + 8, 4);
	win = (uint16_t)(tcp[14] << 8 | tcp[15]);
	on_segment(t, c, ntohl(seq), ntohl(ack), tcp[13], win, tcp, thl,
		   tcp + thl, l4 - thl);
}

/* Frames back to the fill ring. The kernel publishes the fill ring's
 * consumer after the RX ring's producer, so the room for what we just
 * received may not be visible yet: the rest waits in the stash. */
static void refill(struct thr *t)
{
	uint32_t fidx, n, i;

	if (!t->nstash)
		return;
	n = xsk_prod_nb_free(&t->fill, t->nstash);
	if (n > t->nstash)
		n = t->nstash;
	if (n)
		n = xsk_ring_prod__reserve(&t->fill, n, &fidx);
	for (i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&t->fill, fidx + i) =
			t->stash[--t->nstash];
	if (n)
		xsk_ring_prod__submit(&t->fill, n);
}

/* RX: one batch. */
static uint32_t rx_batch(struct thr *t)
{
	uint32_t idx, n, i;

	n = xsk_ring_cons__peek(&t->rx, RX_BATCH, &idx);
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d =
			xsk_ring_cons__rx_desc(&t->rx, idx + i);

		if (o.mode == M_KEEPALIVE || o.mode == M_CLOSE ||
		    o.mode == M_HOLD)
			rx_frame(t, xsk_umem__get_data(t->area, d->addr),
				 d->len);
		else
			CNT(t, rx_frames);
		t->stash[t->nstash++] = d->addr - d->addr % FRAME_SIZE;
	}
	if (n)
		xsk_ring_cons__release(&t->rx, n);
	refill(t);
	return n;
}

static void flush_output(struct thr *t)
{
	uint32_t i, j = 0;

	for (i = 0; i < t->nsendq; i++) {
		struct conn *c = &t->c[t->sendq[i]];

		c->flags &= (uint8_t)~CF_INQ;
		if (!output(t, c)) {
			/* Out of frames: keep the rest for later. */
			for (; i < t->nsendq; i++) {
				t->c[t->sendq[i]].flags |= CF_INQ;
				t->sendq[j++] = t->sendq[i];
			}
			break;
		}
	}
	t->nsendq = j;
}

static void start_connections(struct thr *t)
{
	while (t->connecting < o.syn_window && t->cq_head != t->cq_tail &&
	       phase < PH_STOP) {
		struct conn *c = &t->c[t->connq[t->cq_head % t->nconns]];

		if (!conn_start(t, c))
			break;
		c->flags &= (uint8_t)~CF_CONNQ;
		t->cq_head++;
	}
}

static void idle_wait(struct thr *t)
{
	struct pollfd pfd = { .fd = t->fd, .events = POLLIN };

	if (o.idle == IDLE_YIELD)
		sched_yield();
	else if (o.idle == IDLE_POLL)
		poll(&pfd, 1, 1);
}

static bool all_quiet(struct thr *t)
{
	uint32_t i;

	for (i = 0; i < t->nconns; i++) {
		const struct conn *c = &t->c[i];

		if (c->state == CS_SYN_SENT || c->inflight ||
		    c->state == CS_LAST_ACK)
			return false;
	}
	return true;
}

static void run_tcp(struct thr *t)
{
	uint64_t drain_until = 0;
	bool was_idle = false;
	uint32_t i;

	for (i = 0; i < t->nconns; i++) {
		t->c[i].flags |= CF_CONNQ;
		t->connq[t->cq_tail++] = i;
	}
	while (phase != PH_EXIT) {
		uint64_t prev = t->now;
		uint32_t n;

		t->now = now_ns();
		/* Time spent finding nothing to do: the generator's headroom. */
		if (was_idle)
			t->cnt[C_idle_ns] += t->now - prev;
		if (!t->measuring && phase == PH_MEASURE) {
			memset(&t->lat, 0, sizeof(t->lat));
			t->measuring = true;
		}
		if (phase == PH_STOP) {
			t->measuring = false;
			if (!drain_until)
				drain_until =
					t->now + (uint64_t)(o.drain * 1e9);
			if (t->now >= drain_until || all_quiet(t))
				break;
		}
		n = rx_batch(t);
		start_connections(t);
		if (t->now >= t->next_scan) {
			scan_timers(t);
			t->next_scan = t->now + 1000000; /* 1 ms */
		}
		if (t->nsendq)
			flush_output(t);
		if (t->npend || !tx_ring_empty(t))
			tx_submit(t);
		was_idle = !n && !t->nsendq && !t->npend;
		if (was_idle)
			idle_wait(t);
	}
	/* Reset every connection still open, so no server state is left. */
	for (i = 0; i < t->nconns; i++) {
		struct conn *c = &t->c[i];

		if (c->state != CS_CLOSED) {
			while (!send_seg(t, c, snd_max(c), 0, F_RST | F_ACK))
				tx_submit(t);
			CNT(t, resets_sent);
			conn_reset_state(t, c);
		}
		/* In batches, paced: a burst of thousands would overflow the
		 * server's receive ring, and a lost RST leaves a flow open. */
		if (t->npend >= 128) {
			tx_submit(t);
			usleep(500);
		}
	}
	for (i = 0; i < 1000 && (t->npend || !tx_ring_empty(t)); i++)
		tx_submit(t);
	/* Whatever the server still sends is counted, not left in the ring. */
	{
		uint64_t until = now_ns() + 200000000ull;

		while (now_ns() < until) {
			uint32_t before = (uint32_t)t->cnt[C_rx_frames];

			if (rx_batch(t))
				t->cnt[C_rx_after_stop] +=
					(uint32_t)t->cnt[C_rx_frames] - before;
			else
				usleep(1000);
		}
	}
}

/* Raw: prebuilt 64-byte UDP frames, as many as the TX ring takes. */
static uint32_t build_raw(uint8_t *f, uint16_t sport, uint32_t len)
{
	uint8_t *ip = f + 14, *udp = ip + 20;
	uint16_t tot = (uint16_t)(len - 14), ulen = (uint16_t)(tot - 20), c16;

	memset(f, 0, len);
	memcpy(f, o.dst_mac, 6);
	memcpy(f + 6, o.src_mac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &o.src[0], 4);
	memcpy(ip + 16, &o.dst, 4);
	c16 = csum_buf(ip, 20);
	memcpy(ip + 10, &c16, 2);
	udp[0] = (uint8_t)(sport >> 8);
	udp[1] = (uint8_t)sport;
	udp[2] = 0;
	udp[3] = 9; /* discard */
	udp[4] = (uint8_t)(ulen >> 8);
	udp[5] = (uint8_t)ulen;
	c16 = csum_fold(csum_add(
		csum_pseudo4(ip + 12, ip + 16, IPPROTO_UDP, ulen), udp, ulen));
	if (!c16)
		c16 = 0xffff;
	memcpy(udp + 6, &c16, 2);
	return len;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void run_blast(struct thr *t)
{
	uint32_t i, len = o.mode == M_RAW ? o.raw_len : 14 + 20 + 24;
	struct conn c = { 0 };

	for (i = 0; i < t->ntxfree; i++)
		if (o.mode == M_RAW)
			build_raw(t->area + t->txfree[i],
				  (uint16_t)(t->port_lo + i % t->port_n), len);
	t->syn_seq = 0x9e3779b97f4a7c15ull ^ (uint64_t)t->id ^ now_ns();
	while (phase < PH_STOP) {
		uint32_t idx, n;

		t->now = now_ns();
		if (!t->measuring && phase == PH_MEASURE)
			t->measuring = true;
		rx_batch(t);
		t->cnt[C_raw_tx] += reap(t);
		n = t->ntxfree < 256 ? t->ntxfree : 256;
		n = xsk_ring_prod__reserve(&t->tx, n, &idx);
		for (i = 0; i < n; i++) {
			struct xdp_desc *d =
				xsk_ring_prod__tx_desc(&t->tx, idx + i);
			uint64_t addr = t->txfree[--t->ntxfree];

			if (o.mode == M_SYNFLOOD) {
				uint64_t r = xorshift(&t->syn_seq);

				c.ip = (uint8_t)((r >> 40) % (uint64_t)o.nsrc);
				c.sport = (uint16_t)(t->port_lo +
						     (r >> 16) % t->port_n);
				build_tcp(&c, t->area + addr, (uint32_t)r, 0,
					  F_SYN, NULL, 0);
			}
			d->addr = addr;
			d->len = len;
			d->options = 0;
		}
		if (n) {
			xsk_ring_prod__submit(&t->tx, n);
			t->cnt[C_tx_frames] += n;
		}
		if (xsk_ring_prod__needs_wakeup(&t->tx)) {
			CNT(t, kicks);
			if (sendto(t->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0) {
				if (errno == EAGAIN)
					CNT(t, kick_eagain);
				else
					CNT(t, kick_errors);
			}
		}
	}
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;

	if (t->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(t->cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
			fprintf(stderr, "loadgen: cannot pin to CPU %d\n",
				t->cpu);
	}
	t->next_scan = now_ns();
	if (o.mode == M_RAW || o.mode == M_SYNFLOOD)
		run_blast(t);
	else
		run_tcp(t);
	return NULL;
}

/* Setup */

static void thread_init(struct thr *t, int id, uint32_t nconns,
			uint32_t port_lo, uint32_t port_n, int map_fd)
{
	struct xsk_umem_config uc = {
		.fill_size = o.rx_frames,
		.comp_size = RING_SIZE,
		.frame_size = FRAME_SIZE,
		.frame_headroom = 0,
	};
	struct xsk_socket_config sc = {
		.rx_size = o.rx_frames,
		.tx_size = RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_USE_NEED_WAKEUP | XDP_COPY,
	};
	size_t bytes = (size_t)NFRAMES * FRAME_SIZE;
	uint32_t idx, i;
	int err;

	memset(t, 0, sizeof(*t));
	t->id = id;
	t->queue = o.queue + (uint32_t)id;
	t->cpu = o.ncpus ? o.cpus[id % o.ncpus] : -1;
	t->nconns = nconns;
	t->port_lo = port_lo;
	t->port_n = port_n;
	t->area = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (t->area == MAP_FAILED)
		die("mmap umem: %s", strerror(errno));
	err = xsk_umem__create(&t->umem, t->area, bytes, &t->fill, &t->comp,
			       &uc);
	if (err)
		die("xsk_umem__create: %s", strerror(-err));
	/* A socket of an earlier run on this queue goes away asynchronously. */
	for (i = 0; i < 300; i++) {
		err = xsk_socket__create(&t->xsk, o.iface, t->queue, t->umem,
					 &t->rx, &t->tx, &sc);
		if (err != -EBUSY)
			break;
		usleep(10000);
	}
	if (err)
		die("xsk_socket__create on %s queue %u: %s", o.iface, t->queue,
		    strerror(-err));
	t->fd = xsk_socket__fd(t->xsk);
	/* Kernels from 6.17 let one kick send more than 32 frames. */
	if (o.tx_budget) {
		unsigned int b = o.tx_budget;

		if (setsockopt(t->fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET_OPT, &b,
			       sizeof(b)))
			o.tx_budget = 0; /* not supported: 32 */
	}
	err = xsk_socket__update_xskmap(t->xsk, map_fd);
	if (err)
		die("xskmap update: %s", strerror(-err));
	/* Frames [0, rx_frames) to the fill ring, the rest for TX. */
	if (xsk_ring_prod__reserve(&t->fill, o.rx_frames, &idx) != o.rx_frames)
		die("fill ring reserve");
	for (i = 0; i < o.rx_frames; i++)
		*xsk_ring_prod__fill_addr(&t->fill, idx + i) =
			(uint64_t)i * FRAME_SIZE;
	xsk_ring_prod__submit(&t->fill, o.rx_frames);
	t->txfree = calloc(NFRAMES, sizeof(*t->txfree));
	t->pend_addr = calloc(NFRAMES, sizeof(*t->pend_addr));
	t->pend_len = calloc(NFRAMES, sizeof(*t->pend_len));
	t->stash = calloc(NFRAMES, sizeof(*t->stash));
	for (i = NFRAMES; i > o.rx_frames; i--)
		t->txfree[t->ntxfree++] = (uint64_t)(i - 1) * FRAME_SIZE;

	if (!nconns)
		nconns = 1;
	t->c = calloc(nconns, sizeof(*t->c));
	t->timer_at = calloc(nconns, sizeof(*t->timer_at));
	t->ts = calloc((size_t)nconns * o.depth, sizeof(*t->ts));
	t->hbuf = calloc(nconns, sizeof(*t->hbuf));
	t->by_port = malloc((size_t)o.nsrc * 65536 * sizeof(*t->by_port));
	t->sendq = calloc(nconns, sizeof(*t->sendq));
	t->connq = calloc(nconns, sizeof(*t->connq));
	if (!t->txfree || !t->pend_addr || !t->pend_len || !t->stash || !t->c ||
	    !t->timer_at || !t->ts || !t->hbuf || !t->by_port || !t->sendq ||
	    !t->connq)
		die("out of memory");
	memset(t->by_port, 0xff, (size_t)o.nsrc * 65536 * sizeof(*t->by_port));
	/* Start each run somewhere else in the port range, so a connection
	 * a previous run left behind is not met again at once. */
	t->port_cursor =
		(uint32_t)(now_ns() / 1000) % (port_n * (uint32_t)o.nsrc);
}

static void parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5]) != 6)
		die("bad MAC address %s", s);
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
}

static void if_info(const char *ifname, uint8_t *mac, struct in_addr *addr)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr))
		die("%s: no hardware address: %s", ifname, strerror(errno));
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if (addr) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
		if (ioctl(fd, SIOCGIFADDR, &ifr))
			die("%s: no IPv4 address (use --src-ips)", ifname);
		*addr = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr;
	}
	close(fd);
}

static bool arp_lookup(const char *ifname, struct in_addr ip, uint8_t *mac)
{
	char line[256], ipbuf[64], hw[64], dev[64];
	unsigned int type, flags;
	bool found = false;
	FILE *f = fopen("/proc/net/arp", "r");

	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return false;
	}
	while (fgets(line, sizeof(line), f)) {
		char mask[32];

		if (sscanf(line, "%63s 0x%x 0x%x %63s %31s %63s", ipbuf, &type,
			   &flags, hw, mask, dev) != 6)
			continue;
		if (strcmp(dev, ifname) || !(flags & 0x2))
			continue;
		if (inet_addr(ipbuf) == ip.s_addr) {
			parse_mac(hw, mac);
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

/* The server's MAC from the kernel's neighbour table; a UDP datagram to
 * the discard port makes the kernel resolve it first if needed. */
static void resolve_mac(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(9),
				  .sin_addr = o.dst };
	int i, fd;

	if (arp_lookup(o.iface, o.dst, o.dst_mac))
		return;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd >= 0) {
		sendto(fd, "x", 1, 0, (struct sockaddr *)&sa, sizeof(sa));
		close(fd);
	}
	for (i = 0; i < 200; i++) {
		usleep(10000);
		if (arp_lookup(o.iface, o.dst, o.dst_mac))
			return;
	}
	die("no ARP entry for %s on %s (use --mac)", inet_ntoa(o.dst), o.iface);
}

static void parse_src_ips(const char *arg)
{
	char *s = strdup(arg), *tok, *save = NULL;

	o.nsrc = 0;
	for (tok = strtok_r(s, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *plus = strchr(tok, '+');
		uint32_t n = 1, i, base;
		struct in_addr a;

		if (plus) {
			*plus = 0;
			n = (uint32_t)atoi(plus + 1) + 1;
		}
		if (!inet_aton(tok, &a))
			die("bad address %s", tok);
		base = ntohl(a.s_addr);
		for (i = 0; i < n; i++) {
			if (o.nsrc == MAX_SRC)
				die("at most %d source addresses", MAX_SRC);
			o.src[o.nsrc++].s_addr = htonl(base + i);
		}
	}
	free(s);
}

static void parse_cpus(const char *arg)
{
	char *s = strdup(arg), *tok, *save = NULL;

	for (tok = strtok_r(s, ",", &save); tok && o.ncpus < LG_MAX_QUEUES;
	     tok = strtok_r(NULL, ",", &save))
		o.cpus[o.ncpus++] = atoi(tok);
	free(s);
}

static const char *default_obj(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	char *slash;

	if (n <= 0)
		return "loadgen.bpf.o";
	path[n] = 0;
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "loadgen.bpf.o");
	return path;
}

static struct bpf_object *open_obj(void)
{
	struct bpf_object *obj;
	int err;

	obj = bpf_object__open_file(o.bpf_obj ? o.bpf_obj : default_obj(),
				    NULL);
	if (!obj)
		die("cannot open BPF object %s: %s",
		    o.bpf_obj ? o.bpf_obj : default_obj(), strerror(errno));
	err = bpf_object__load(obj);
	if (err)
		die("cannot load BPF object: %s", strerror(-err));
	return obj;
}

/* --attach-drop: loadgen_drop on IFACE in native mode; it stays attached
 * after we exit (until `ip link set dev IFACE xdp off`). */
static int attach_drop(const char *ifname)
{
	struct bpf_object *obj = open_obj();
	struct bpf_program *p =
		bpf_object__find_program_by_name(obj, "loadgen_drop");
	int ifindex = (int)if_nametoindex(ifname), err;

	if (!p || !ifindex)
		die("no program or no interface %s", ifname);
	err = bpf_xdp_attach(ifindex, bpf_program__fd(p), XDP_FLAGS_DRV_MODE,
			     NULL);
	if (err)
		die("attach to %s: %s", ifname, strerror(-err));
	return 0;
}

/* One counter of a per-CPU array map, summed over the CPUs; 0 if absent. */
static uint64_t percpu_sum(int map_fd, uint32_t key)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	uint64_t *v = calloc((size_t)(ncpu > 0 ? ncpu : 1), sizeof(*v)), total = 0;

	if (v && ncpu > 0 && !bpf_map_lookup_elem(map_fd, &key, v))
		for (i = 0; i < ncpu; i++)
			total += v[i];
	free(v);
	return total;
}

/* --drop-count: the frames loadgen_drop on IFACE has dropped. */
static int drop_count(const char *ifname)
{
	int ifindex = (int)if_nametoindex(ifname), fd, mfd;
	struct bpf_prog_info info;
	uint32_t prog_id = 0, ids[16], len = sizeof(info), k;

	if (!ifindex ||
	    bpf_xdp_query_id(ifindex, XDP_FLAGS_DRV_MODE, &prog_id) || !prog_id)
		die("no XDP program on %s", ifname);
	fd = bpf_prog_get_fd_by_id(prog_id);
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = 16;
	info.map_ids = (uint64_t)(uintptr_t)ids;
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		die("prog info: %s", strerror(errno));
	for (k = 0; k < info.nr_map_ids && k < 16; k++) {
		struct bpf_map_info mi;
		uint32_t mlen = sizeof(mi);

		memset(&mi, 0, sizeof(mi));
		mfd = bpf_map_get_fd_by_id(ids[k]);
		if (mfd < 0 || bpf_obj_get_info_by_fd(mfd, &mi, &mlen))
			continue;
		if (strcmp(mi.name, "lg_counters"))
			continue;
		printf("%llu\n", (unsigned long long)percpu_sum(
					  mfd, LG_CNT_DROPPED));
		return 0;
	}
	die("loadgen_drop's counters not found on %s", ifname);
}

static void on_signal(int sig)
{
	(void)sig;
	if (phase < PH_STOP)
		phase = PH_STOP;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: loadgen --iface IFACE --dst ADDR [options]\n"
		"       loadgen --attach-drop IFACE | --drop-count IFACE\n"
		"  -i, --iface IFACE      client interface (AF_XDP copy mode)\n"
		"  -d, --dst ADDR         server IPv4 address\n"
		"  -p, --port N           server port (10000)\n"
		"      --mac MAC          server MAC (default: the ARP table)\n"
		"      --src-ips LIST     source addresses, a,b or a+N (iface's)\n"
		"      --ports LO-HI      source ports (1024-32767)\n"
		"  -q, --queue Q          first queue (0)\n"
		"      --queues N         queues, one thread and socket each (1)\n"
		"      --cpus LIST        CPU of each thread, e.g. 0,1\n"
		"  -c, --conns N          connections (64)\n"
		"  -D, --depth D          requests outstanding per connection (1)\n"
		"  -t, --duration SEC     measured time (10)\n"
		"      --warmup SEC       before measuring (1)\n"
		"      --drain SEC        wait for outstanding responses (1)\n"
		"      --keepalive | --close | --hold | --raw | --syn-flood\n"
		"      --path PATH        request path (/)\n"
		"      --rto-ms N         first retransmission timeout (200)\n"
		"      --timeout-ms N     response timeout (5000)\n"
		"      --syn-window N     handshakes in flight per thread (256)\n"
		"      --raw-len N        raw frame length (64)\n"
		"      --tx-budget N      frames per kick (256; 0: kernel's 32)\n"
		"      --rx-frames N      RX frames per queue, a power of two (auto:\n"
		"                         2 x connections x depth, at least 8192)\n"
		"      --idle busy|yield|poll  when nothing to do (busy)\n"
		"      --ready-file PATH  hold: created when every connection holds\n"
		"      --hold-requests 0|1  hold: requests per connection (1)\n"
		"      --strict-csum      count kernel partial checksums as errors\n"
		"      --no-csum-check    do not verify checksums\n"
		"      --bpf-obj PATH     loadgen.bpf.o (next to the binary)\n"
		"      --interval SEC     progress lines on stderr\n"
		"      --debug            log retransmissions, late and unknown segments\n"
		"      --json             JSON result on stdout\n");
	exit(2);
}

/* Results */

struct totals {
	uint64_t cnt[C_MAX], err[E_MAX];
};

static void sum_totals(struct totals *tt)
{
	int i, k;

	memset(tt, 0, sizeof(*tt));
	for (i = 0; i < nthr; i++) {
		for (k = 0; k < C_MAX; k++)
			tt->cnt[k] += __atomic_load_n(&thr[i].cnt[k],
						      __ATOMIC_RELAXED);
		for (k = 0; k < E_MAX; k++)
			tt->err[k] += __atomic_load_n(&thr[i].err[k],
						      __ATOMIC_RELAXED);
	}
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "iface", 1, 0, 'i' },
		{ "dst", 1, 0, 'd' },
		{ "port", 1, 0, 'p' },
		{ "mac", 1, 0, 'M' },
		{ "src-ips", 1, 0, 'S' },
		{ "ports", 1, 0, 'P' },
		{ "queue", 1, 0, 'q' },
		{ "queues", 1, 0, 'Q' },
		{ "cpus", 1, 0, 'C' },
		{ "conns", 1, 0, 'c' },
		{ "depth", 1, 0, 'D' },
		{ "duration", 1, 0, 't' },
		{ "warmup", 1, 0, 'w' },
		{ "drain", 1, 0, 'W' },
		{ "keepalive", 0, 0, 'K' },
		{ "close", 0, 0, 'X' },
		{ "hold", 0, 0, 'H' },
		{ "raw", 0, 0, 'R' },
		{ "syn-flood", 0, 0, 'F' },
		{ "path", 1, 0, 'u' },
		{ "rto-ms", 1, 0, 'r' },
		{ "timeout-ms", 1, 0, 'T' },
		{ "syn-window", 1, 0, 'y' },
		{ "raw-len", 1, 0, 'L' },
		{ "idle", 1, 0, 'I' },
		{ "ready-file", 1, 0, 'Y' },
		{ "strict-csum", 0, 0, 's' },
		{ "no-csum-check", 0, 0, 'n' },
		{ "bpf-obj", 1, 0, 'b' },
		{ "interval", 1, 0, 'v' },
		{ "json", 0, 0, 'j' },
		{ "attach-drop", 1, 0, 'A' },
		{ "drop-count", 1, 0, 'N' },
		{ "help", 0, 0, 'h' },
		{ "tx-budget", 1, 0, 'B' },
		{ "debug", 0, 0, 'g' },
		{ "hold-requests", 1, 0, 'G' },
		{ "rx-frames", 1, 0, 'Z' },
		{ 0, 0, 0, 0 },
	};
	const char *mac_arg = NULL, *src_arg = NULL;
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_link *link = NULL;
	struct lg_cfg cfg;
	struct totals t0, t1, tend;
	struct rusage ru0, ru1;
	struct hist lat;
	uint64_t start, t_meas = 0, t_end = 0;
	uint32_t key = 0, per, extra, port_n, pslice;
	int ch, i, k, ifindex, map_fd, err;
	bool netlink_attached = false, ready = false;
	double meas_s;
	uint64_t xdp_cnt[LG_CNT_MAX] = { 0 };

	while ((ch = getopt_long(argc, argv, "i:d:p:q:c:D:t:jh", lo, NULL)) !=
	       -1) {
		switch (ch) {
		case 'i':
			o.iface = optarg;
			break;
		case 'd':
			if (!inet_aton(optarg, &o.dst))
				die("bad --dst %s", optarg);
			break;
		case 'p':
			o.port = (uint16_t)atoi(optarg);
			break;
		case 'M':
			mac_arg = optarg;
			break;
		case 'S':
			src_arg = optarg;
			break;
		case 'P': {
			unsigned int a, b;

			if (sscanf(optarg, "%u-%u", &a, &b) != 2 || a < 1 ||
			    b > 65535 || a > b)
				die("bad --ports %s", optarg);
			o.port_lo = (uint16_t)a;
			o.port_hi = (uint16_t)b;
			break;
		}
		case 'q':
			o.queue = (uint32_t)atoi(optarg);
			break;
		case 'Q':
			o.nqueues = (uint32_t)atoi(optarg);
			break;
		case 'C':
			parse_cpus(optarg);
			break;
		case 'c':
			o.conns = (uint32_t)atoi(optarg);
			break;
		case 'D':
			o.depth = (uint32_t)atoi(optarg);
			break;
		case 't':
			o.duration = atof(optarg);
			break;
		case 'w':
			o.warmup = atof(optarg);
			break;
		case 'W':
			o.drain = atof(optarg);
			break;
		case 'K':
			o.mode = M_KEEPALIVE;
			break;
		case 'X':
			o.mode = M_CLOSE;
			break;
		case 'H':
			o.mode = M_HOLD;
			break;
		case 'R':
			o.mode = M_RAW;
			break;
		case 'F':
			o.mode = M_SYNFLOOD;
			break;
		case 'u':
			o.path = optarg;
			break;
		case 'r':
			o.rto_ms = (uint32_t)atoi(optarg);
			break;
		case 'T':
			o.timeout_ms = (uint32_t)atoi(optarg);
			break;
		case 'y':
			o.syn_window = (uint32_t)atoi(optarg);
			break;
		case 'L':
			o.raw_len = (uint32_t)atoi(optarg);
			break;
		case 'I':
			if (!strcmp(optarg, "busy"))
				o.idle = IDLE_BUSY;
			else if (!strcmp(optarg, "yield"))
				o.idle = IDLE_YIELD;
			else if (!strcmp(optarg, "poll"))
				o.idle = IDLE_POLL;
			else
				usage();
			break;
		case 'Y':
			o.ready_file = optarg;
			break;
		case 's':
			o.strict_csum = true;
			break;
		case 'n':
			o.no_csum_check = true;
			break;
		case 'b':
			o.bpf_obj = optarg;
			break;
		case 'v':
			o.interval = atoi(optarg);
			break;
		case 'j':
			o.json = true;
			break;
		case 'B':
			o.tx_budget = (uint32_t)atoi(optarg);
			break;
		case 'g':
			o.debug = true;
			break;
		case 'G':
			o.hold_requests = atoi(optarg) ? 1 : 0;
			break;
		case 'Z':
			o.rx_frames = (uint32_t)atoi(optarg);
			break;
		case 'A':
			return attach_drop(optarg);
		case 'N':
			return drop_count(optarg);
		default:
			usage();
		}
	}
	if (!o.iface || !o.dst.s_addr)
		usage();
	if (!o.nqueues || o.nqueues > LG_MAX_QUEUES || !o.depth ||
	    o.depth > 1024 || (o.mode <= M_HOLD && !o.conns))
		die("bad --queues, --depth or --conns");
	if (o.raw_len < 60 || o.raw_len > FRAME_SIZE)
		die("bad --raw-len");
	if (o.mode == M_CLOSE || o.mode == M_HOLD)
		o.depth = 1;
	if (!o.rx_frames) {
		uint64_t need = 2ull * (o.conns / o.nqueues + 1) * o.depth;

		o.rx_frames = RX_FRAMES_MIN;
		while (o.rx_frames < need && o.rx_frames < 65536)
			o.rx_frames *= 2;
	}
	if (o.rx_frames < 256 || (o.rx_frames & (o.rx_frames - 1)))
		die("--rx-frames: a power of two, at least 256");
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);

	if_info(o.iface, o.src_mac, src_arg ? NULL : &o.src[0]);
	if (src_arg)
		parse_src_ips(src_arg);
	else
		o.nsrc = 1;
	if (mac_arg)
		parse_mac(mac_arg, o.dst_mac);
	else
		resolve_mac();

	/* The request stream. */
	{
		static char req[16384];
		uint32_t reps, r;

		snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: %s:%u\r\n%s\r\n", o.path,
			 inet_ntoa(o.dst), o.port,
			 o.mode == M_CLOSE ? "Connection: close\r\n" : "");
		req_len = (uint32_t)strlen(req);
		reps = (OUR_MSS + 2 * req_len) / req_len + 1;
		pattern_len = reps * req_len;
		pattern = malloc(pattern_len);
		for (r = 0; r < reps; r++)
			memcpy(pattern + r * req_len, req, req_len);
	}

	obj = open_obj();
	prog = bpf_object__find_program_by_name(obj, "loadgen_xdp");
	map_fd = bpf_object__find_map_fd_by_name(obj, "lg_xsks");
	cfg = (struct lg_cfg){ .port = o.port,
			       .lo = o.port_lo,
			       .hi = o.port_hi };
	if (!prog || map_fd < 0 ||
	    bpf_map_update_elem(bpf_object__find_map_fd_by_name(obj, "lg_cfg"),
				&key, &cfg, 0))
		die("BPF object: program or maps missing");
	ifindex = (int)if_nametoindex(o.iface);
	if (!ifindex)
		die("no interface %s", o.iface);

	nthr = (int)o.nqueues;
	thr = calloc((size_t)nthr, sizeof(*thr));
	port_n = (uint32_t)o.port_hi - o.port_lo + 1;
	pslice = port_n / (uint32_t)nthr;
	per = o.conns / (uint32_t)nthr;
	extra = o.conns % (uint32_t)nthr;
	if (o.mode <= M_HOLD && per + 1 > pslice * (uint32_t)o.nsrc)
		die("%u connections per thread need more ports or --src-ips",
		    per + 1);
	for (i = 0; i < nthr; i++)
		thread_init(&thr[i], i, per + ((uint32_t)i < extra ? 1 : 0),
			    o.port_lo + (uint32_t)i * pslice, pslice, map_fd);

	/* A BPF link detaches by itself when we exit, however we exit. */
	link = bpf_program__attach_xdp(prog, ifindex);
	if (!link) {
		err = bpf_xdp_attach(ifindex, bpf_program__fd(prog),
				     XDP_FLAGS_DRV_MODE, NULL);
		if (err)
			die("attach XDP to %s: %s", o.iface, strerror(-err));
		netlink_attached = true;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	start = now_ns();
	sum_totals(&t0);
	getrusage(RUSAGE_SELF, &ru0);
	for (i = 0; i < nthr; i++)
		if (pthread_create(&thr[i].th, NULL, thread_main, &thr[i]))
			die("pthread_create");
	if (o.warmup <= 0) {
		phase = PH_MEASURE;
		t_meas = start;
	}
	{
		uint64_t last_print = start;
		struct totals prev = t0;

		while (phase < PH_STOP) {
			uint64_t now;

			usleep(2000);
			now = now_ns();
			if (phase == PH_WARMUP &&
			    now - start >= (uint64_t)(o.warmup * 1e9)) {
				sum_totals(&t0);
				getrusage(RUSAGE_SELF, &ru0);
				t_meas = now_ns();
				phase = PH_MEASURE;
				continue;
			}
			if (phase == PH_MEASURE &&
			    now - t_meas >= (uint64_t)(o.duration * 1e9))
				break;
			if (o.mode == M_HOLD && !ready) {
				uint32_t held = 0;

				for (i = 0; i < nthr; i++)
					held += __atomic_load_n(
						&thr[i].held, __ATOMIC_RELAXED);
				if (held == o.conns) {
					ready = true;
					fprintf(stderr,
						"loadgen: %u connections held "
						"after %.2f s\n",
						held,
						(double)(now - start) / 1e9);
					if (o.ready_file) {
						FILE *f = fopen(o.ready_file,
								"w");

						if (f) {
							fprintf(f, "%u\n",
								held);
							fclose(f);
						}
					}
				}
			}
			if (o.interval &&
			    now - last_print >=
				    (uint64_t)o.interval * 1000000000ull) {
				struct totals cur;
				uint64_t e = 0;

				sum_totals(&cur);
				for (k = 0; k < E_MAX; k++)
					e += cur.err[k];
				fprintf(stderr,
					"loadgen: %6.1f s  %10.0f resp/s  %10.0f "
					"tx/s  errors %llu  rto %llu\n",
					(double)(now - start) / 1e9,
					(double)(cur.cnt[C_responses_ok] -
						 prev.cnt[C_responses_ok]) *
						1e9 /
						(double)(now - last_print),
					(double)(cur.cnt[C_raw_tx] +
						 cur.cnt[C_tx_frames] -
						 prev.cnt[C_raw_tx] -
						 prev.cnt[C_tx_frames]) *
						1e9 /
						(double)(now - last_print),
					(unsigned long long)e,
					(unsigned long long)cur.cnt[C_rto]);
				prev = cur;
				last_print = now;
			}
		}
	}
	if (!t_meas) { /* interrupted during warm-up */
		sum_totals(&t0);
		t_meas = now_ns();
	}
	sum_totals(&t1);
	getrusage(RUSAGE_SELF, &ru1);
	t_end = now_ns();
	phase = PH_STOP;
	for (i = 0; i < nthr; i++) {
		/* Raw modes stop at once; TCP modes drain then reset. */
		pthread_join(thr[i].th, NULL);
	}
	phase = PH_EXIT;
	sum_totals(&tend);

	{
		int cfd = bpf_object__find_map_fd_by_name(obj, "lg_counters");

		for (k = 0; k < LG_CNT_MAX && cfd >= 0; k++)
			xdp_cnt[k] = percpu_sum(cfd, (uint32_t)k);
	}
	if (link)
		bpf_link__destroy(link);
	else if (netlink_attached)
		bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);

	memset(&lat, 0, sizeof(lat));
	for (i = 0; i < nthr; i++) {
		for (k = 0; k < H_BUCKETS; k++)
			lat.b[k] += thr[i].lat.b[k];
		lat.n += thr[i].lat.n;
		if (thr[i].lat.max > lat.max)
			lat.max = thr[i].lat.max;
	}
	meas_s = (double)(t_end - t_meas) / 1e9;
	{
		uint64_t ok = t1.cnt[C_responses_ok] - t0.cnt[C_responses_ok];
		uint64_t raw = t1.cnt[C_raw_tx] - t0.cnt[C_raw_tx];
		uint64_t etot = 0;
		struct xdp_statistics xs;
		socklen_t xl;
		uint64_t xs_rx_dropped = 0, xs_rx_full = 0, xs_fill_empty = 0;
		uint64_t xs_tx_invalid = 0;
		struct rusage ru2;
		double cpu_total;
		double cpu_user = tv_s(ru1.ru_utime) - tv_s(ru0.ru_utime);
		double cpu_sys = tv_s(ru1.ru_stime) - tv_s(ru0.ru_stime);

		getrusage(RUSAGE_SELF, &ru2);
		cpu_total = tv_s(ru2.ru_utime) + tv_s(ru2.ru_stime);
		for (k = 0; k < E_MAX; k++)
			etot += tend.err[k];
		for (i = 0; i < nthr; i++) {
			xl = sizeof(xs);
			int gr = getsockopt(thr[i].fd, SOL_XDP, XDP_STATISTICS,
					    &xs, &xl);

			if (!gr) {
				xs_rx_dropped += xs.rx_dropped;
				xs_rx_full += xs.rx_ring_full;
				xs_fill_empty += xs.rx_fill_ring_empty_descs;
				xs_tx_invalid += xs.tx_invalid_descs;
			}
		}
		if (o.json) {
			printf("{\"mode\":\"%s\",\"iface\":\"%s\",\"dst\":\"%s:%u\","
			       "\"queues\":%u,\"conns\":%u,\"depth\":%u,"
			       "\"src_ips\":%d,\"tx_budget\":%u,\"duration_s\":%.3f,",
			       mode_names[o.mode], o.iface, inet_ntoa(o.dst),
			       o.port, o.nqueues, o.conns, o.depth, o.nsrc,
			       o.tx_budget ? o.tx_budget : 32, meas_s);
			printf("\"gen_idle_pct\":%.1f,",
			       100.0 *
				       (double)(t1.cnt[C_idle_ns] -
						t0.cnt[C_idle_ns]) /
				       (meas_s * 1e9 * nthr));
			printf("\"rate\":%.1f,\"requests\":%llu,",
			       o.mode == M_RAW || o.mode == M_SYNFLOOD ?
				       (double)raw / meas_s :
				       (double)ok / meas_s,
			       (unsigned long long)(o.mode == M_RAW ||
								    o.mode ==
									    M_SYNFLOOD ?
							    raw :
							    ok));
			printf("\"errors\":%llu,\"error_kinds\":{",
			       (unsigned long long)etot);
			for (k = 0; k < E_MAX; k++)
				printf("%s\"%s\":%llu", k ? "," : "",
				       err_names[k],
				       (unsigned long long)tend.err[k]);
			printf("},\"latency_us\":{\"samples\":%llu,\"p50\":%.1f,"
			       "\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,"
			       "\"max\":%.1f},",
			       (unsigned long long)lat.n,
			       (double)hist_pct(&lat, 0.50) / 1e3,
			       (double)hist_pct(&lat, 0.90) / 1e3,
			       (double)hist_pct(&lat, 0.99) / 1e3,
			       (double)hist_pct(&lat, 0.999) / 1e3,
			       (double)lat.max / 1e3);
			printf("\"totals\":{");
			for (k = 0; k < C_MAX; k++)
				printf("%s\"%s\":%llu", k ? "," : "",
				       cnt_names[k],
				       (unsigned long long)tend.cnt[k]);
			printf("},\"xsk\":{\"rx_dropped\":%llu,\"rx_ring_full\":%llu,"
			       "\"rx_fill_ring_empty\":%llu,\"tx_invalid\":%llu},",
			       (unsigned long long)xs_rx_dropped,
			       (unsigned long long)xs_rx_full,
			       (unsigned long long)xs_fill_empty,
			       (unsigned long long)xs_tx_invalid);
			printf("\"xdp\":{\"redirected\":%llu,\"passed\":%llu,"
			       "\"no_socket\":%llu},",
			       (unsigned long long)xdp_cnt[LG_CNT_REDIRECTED],
			       (unsigned long long)xdp_cnt[LG_CNT_PASSED],
			       (unsigned long long)xdp_cnt[LG_CNT_NO_SOCKET]);
			printf("\"cpu_s\":{\"user\":%.3f,\"sys\":%.3f,"
			       "\"total\":%.3f}}\n",
			       cpu_user, cpu_sys, cpu_total);
		} else {
			if (o.mode == M_RAW || o.mode == M_SYNFLOOD)
				printf("%s: %.0f frames/s (%llu in %.2f s)\n",
				       mode_names[o.mode], (double)raw / meas_s,
				       (unsigned long long)raw, meas_s);
			else
				printf("%s: %.0f requests/s (%llu in %.2f s), "
				       "latency p50 %.1f us p99 %.1f us\n",
				       mode_names[o.mode], (double)ok / meas_s,
				       (unsigned long long)ok, meas_s,
				       (double)hist_pct(&lat, 0.5) / 1e3,
				       (double)hist_pct(&lat, 0.99) / 1e3);
			printf("errors: %llu", (unsigned long long)etot);
			for (k = 0; k < E_MAX; k++)
				if (tend.err[k])
					printf("  %s=%llu", err_names[k],
					       (unsigned long long)tend.err[k]);
			printf("\ntotals:");
			for (k = 0; k < C_MAX; k++)
				if (tend.cnt[k])
					printf(" %s=%llu", cnt_names[k],
					       (unsigned long long)tend.cnt[k]);
			printf("\nxdp: redirected=%llu passed=%llu no_socket=%llu",
			       (unsigned long long)xdp_cnt[LG_CNT_REDIRECTED],
			       (unsigned long long)xdp_cnt[LG_CNT_PASSED],
			       (unsigned long long)xdp_cnt[LG_CNT_NO_SOCKET]);
			printf("\nxsk: rx_dropped=%llu rx_ring_full=%llu "
			       "fill_empty=%llu tx_invalid=%llu  cpu: user %.2f s "
			       "sys %.2f s\n",
			       (unsigned long long)xs_rx_dropped,
			       (unsigned long long)xs_rx_full,
			       (unsigned long long)xs_fill_empty,
			       (unsigned long long)xs_tx_invalid, cpu_user,
			       cpu_sys);
		}
	}
	for (i = 0; i < nthr; i++) {
		xsk_socket__delete(thr[i].xsk);
		xsk_umem__delete(thr[i].umem);
	}
	bpf_object__close(obj);
	return 0;
}
