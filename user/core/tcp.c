// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TCP-lite: the subset of TCP a request/response server needs, in one pass
 * per segment. What it leaves out, on purpose: window scaling, SACK and
 * timestamps (not offered in the SYN-ACK, so peers do not use them), and
 * out-of-order queueing (a segment ahead of rcv_nxt is dropped with an
 * immediate duplicate ACK, so the peer retransmits at once; only a bare
 * FIN ahead is remembered, for the data before it to complete).
 */
#include <stdlib.h>
#include <string.h>

#include "adopt.h"
#include "cookie.h"
#include "packet.h"
#include "tcp.h"
#include "xredir_shared.h"

#define TCP_STAT_NAME(name, desc) #name,
#define TCP_STAT_HELP(name, desc) desc,
const char *const tcp_stat_names[TCP_STAT_MAX] = { TCP_STATS(TCP_STAT_NAME) };
const char *const tcp_stat_help[TCP_STAT_MAX] = { TCP_STATS(TCP_STAT_HELP) };

#define STAT(e, name) ((e)->stats[TCP_STAT_##name]++)

static bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static bool seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

void tcp_config_default(struct tcp_config *c)
{
	memset(c, 0, sizeof(*c));
	c->port = XR_DEFAULT_PORT;
	c->mtu = 1500;
	c->window = 65535;
	c->max_retries = 8;
	c->frame_size = 2048;
	c->max_flows = 65536;
	c->max_flows_per_source = SOURCE_MAX_FLOWS_DEFAULT;
	c->send_buffers = 4096;
	c->send_buffer_size = 64 * 1024;
	c->head_buffers = 1024;
	c->tls_flows = 4096;
	c->tls_handshakes = 512;
	c->idle_timeout_ms = 60000;
	c->header_timeout_ms = 10000;
	c->linger_ms = 5000;
	c->send_timeout_ms = 60000; /* as nginx's send_timeout */
	c->delack_ms = 40;
	c->rto_init_ms = 1000;
	c->rto_min_ms = 200;
	c->rto_max_ms = 60000;
	c->rst_rate = 2000;
	c->adopt_rate = 2000;
	c->challenge_per_sec = 10;
}

static const struct http_target *resolve(void *ctx,
					 const struct http_request *req)
{
	struct tcp_engine *e = ctx;

	return e->target_fn(e->target_ctx, e->cur->target, &e->cur->key, req);
}

static uint16_t mss_for(uint16_t mtu, uint32_t frame_size, uint32_t l3_hdr)
{
	uint32_t mss = mtu - l3_hdr - 20;
	uint32_t fit = frame_size - PKT_HDR_MAX;

	return (uint16_t)(mss < fit ? mss : fit);
}

/* One slot per flow the table holds, at least 1024, a power of two. */
static uint32_t closed_slots(uint32_t max_flows)
{
	uint32_t n = 1024;

	while (n < max_flows && n < (1u << 24))
		n <<= 1;
	return n;
}

/*
 * The seconds that SYN cookies and fleet marks count: the wall clock's,
 * the one clock the nodes of a fleet share (each machine's monotonic clock
 * starts at its own boot, so a cookie or mark made by one node would be of
 * another time to the next).
 */
static uint64_t cookie_clock(const struct tcp_engine *e)
{
	return (uint64_t)e->unix_s;
}

/* Two slots per set, the newer first: a closed flow's record stays until
 * two flows of other 4-tuples have closed into its set after it. */
static struct closed_flow *closed_set(struct tcp_engine *e, uint32_t hash)
{
	return &e->closed[hash & e->closed_mask & ~1u];
}

/* The newest closed flow of the 4-tuple of hash, NULL if none is kept. */
static const struct closed_flow *closed_find(struct tcp_engine *e,
					     uint32_t hash)
{
	const struct closed_flow *s = closed_set(e, hash);

	if (s[0].hash == hash)
		return &s[0];
	return s[1].hash == hash ? &s[1] : NULL;
}

static void remember_closed(struct tcp_engine *e, const struct flow *f)
{
	uint32_t hash = flow_hash(&e->ft, &f->key);
	struct closed_flow *s = closed_set(e, hash);

	if (s[0].hash != hash)
		s[1] = s[0];
	s[0] = (struct closed_flow){ .hash = hash,
				     .iss = f->iss,
				     .snd_nxt = f->snd_nxt,
				     .rcv_nxt = f->rcv_nxt };
}

/* The flow closed here on the 4-tuple of hash that ack acknowledges data
 * of (our ISN to our FIN), if its slot still holds it. */
static const struct closed_flow *closed_acked(struct tcp_engine *e,
					      uint32_t hash, uint32_t ack)
{
	const struct closed_flow *c = closed_find(e, hash);

	if (!c || ack - 1 - c->iss >= c->snd_nxt - c->iss)
		return NULL;
	return c;
}

/*
 * The flow closed here that a segment whose cookie checks out belongs to,
 * or NULL:
 * a late copy of its handshake ACK or of a later segment, which
 * acknowledges what we sent it and starts where it had sent. Both
 * sequence numbers count: the fleet mark leaves a cookie 5 bits of its
 * own (cookie.h), so by the ack alone a late copy would pass 1 time in 32
 * and a new connection on the same 4-tuple, whose cookie may equal the
 * old one, would be taken for a late copy as often. Its client ISN has
 * moved on with the clock, past where the old connection ended.
 */
static const struct closed_flow *was_closed(struct tcp_engine *e, uint32_t hash,
					    uint32_t seq, uint32_t ack)
{
	const struct closed_flow *c = closed_acked(e, hash, ack);

	return c && c->rcv_nxt - seq < ADOPT_WINDOW ? c : NULL;
}

/* Whether a flow closed here is the one that ack acknowledges data of:
 * the same 4-tuple, and an ISN with the same fleet mark (adopt.h). */
static bool was_closed_mark(struct tcp_engine *e, uint32_t hash, uint32_t ack)
{
	const struct closed_flow *c = closed_find(e, hash);

	return c && c->snd_nxt != c->iss &&
	       adopt_mark_fits(c->iss & COOKIE_MARK_MASK, ack);
}

int tcp_engine_init(struct tcp_engine *e, const struct tcp_config *cfg,
		    const struct http_limits *lim,
		    const struct siphash_key *secret, const struct tcp_tx *tx,
		    tcp_target_fn target_fn, void *target_ctx, uint64_t now_ms)
{
	uint32_t ring = cfg->send_buffer_size;
	/* Its own key: the cookie secret is not reused for another job. */
	struct siphash_key src_key = { secret->k0 ^ 0x736f75726365ull,
				       ~secret->k1 };

	memset(e, 0, sizeof(*e));
	if (!ring || (ring & (ring - 1)) || cfg->mtu < 576 ||
	    cfg->frame_size < PKT_HDR_MAX + 536)
		return -1;
	e->cfg = *cfg;
	e->lim = *lim;
	e->cookie_key = *secret;
	e->tx = *tx;
	e->target_fn = target_fn;
	e->target_ctx = target_ctx;
	e->now_ms = now_ms;
	e->mss4 = mss_for(cfg->mtu, cfg->frame_size, 20);
	e->mss6 = mss_for(cfg->mtu, cfg->frame_size, 40);
	e->env = (struct http_env){ .lim = &e->lim,
				    .date = e->date,
				    .resolve = resolve,
				    .ctx = e,
				    .responses = e->responses };
	/* Buckets start full: a burst of one second's worth is allowed. */
	e->rst_rl = (struct rate_limit){ now_ms, (uint64_t)cfg->rst_rate * 1000,
					 cfg->rst_rate };
	e->adopt_rl = (struct rate_limit){ now_ms,
					   (uint64_t)cfg->adopt_rate * 1000,
					   cfg->adopt_rate };
	memset(e->date, ' ', sizeof(e->date));
	e->closed_mask = closed_slots(cfg->max_flows) - 1;
	e->closed = calloc(e->closed_mask + 1, sizeof(*e->closed));
	e->scratch = malloc(ring);
	if (!e->scratch || !e->closed ||
	    flow_table_init(&e->ft, cfg->max_flows, secret->k0 ^ secret->k1) ||
	    tw_init(&e->tw, cfg->max_flows, 4096, now_ms) ||
	    src_table_init(&e->src, cfg->max_flows, &src_key) ||
	    bufpool_init(&e->sndpool, ring, cfg->send_buffers) ||
	    bufpool_init(&e->headpool, http_head_cap(lim), cfg->head_buffers) ||
	    (cfg->tls_port &&
	     (bufpool_init(&e->tlspool, sizeof(struct tls_session *),
			   cfg->tls_flows) ||
	      bufpool_init(&e->hspool, 1, cfg->tls_handshakes)))) {
		tcp_engine_free(e);
		return -1;
	}
	return 0;
}

void tcp_latency(const struct tcp_engine *e, uint64_t out[LATENCY_BUCKETS])
{
	uint64_t timed = 0;
	unsigned int b;

	for (b = 0; b < LATENCY_BUCKETS; b++) {
		out[b] = e->latency[b];
		timed += e->latency[b];
	}
	out[0] += e->stats[TCP_STAT_requests] - timed;
}

static struct tls_session *session_of(const struct tcp_engine *e,
				      const struct flow *f);

void tcp_engine_free(struct tcp_engine *e)
{
	uint32_t i;

	for (i = 1; e->ft.flows && i < e->ft.fresh; i++) {
		struct flow *f = flow_at(&e->ft, i);

		if (f->key.family && f->tls)
			tls_session_free(session_of(e, f));
	}
	free(e->scratch);
	e->scratch = NULL;
	free(e->closed);
	e->closed = NULL;
	flow_table_free(&e->ft);
	tw_free(&e->tw);
	bufpool_free(&e->sndpool);
	bufpool_free(&e->headpool);
	bufpool_free(&e->tlspool);
	bufpool_free(&e->hspool);
	src_table_free(&e->src);
	tls_server_unref(e->tls);
	e->tls = NULL;
}

void tcp_set_wallclock(struct tcp_engine *e, int64_t unix_s)
{
	http_format_date(e->date, unix_s);
	e->unix_s = unix_s;
}

void tcp_set_tls(struct tcp_engine *e, struct tls_server *srv)
{
	if (srv)
		tls_server_ref(srv);
	tls_server_unref(e->tls);
	e->tls = srv;
}

uint64_t tcp_sleep_ms(const struct tcp_engine *e, uint64_t now_ms,
		      uint64_t cap_ms)
{
	return tw_sleep_ms(&e->tw, now_ms, cap_ms);
}

static bool rate_ok(struct rate_limit *rl, uint64_t now_ms)
{
	uint64_t cap = (uint64_t)rl->rate * 1000;

	if (!rl->rate)
		return true;
	if (now_ms > rl->last_ms) {
		rl->credit += (now_ms - rl->last_ms) * rl->rate;
		if (rl->credit > cap)
			rl->credit = cap; /* a burst of at most one second */
		rl->last_ms = now_ms;
	}
	if (rl->credit < 1000)
		return false;
	rl->credit -= 1000;
	return true;
}

/* Output */

/* Inlined: once per segment sent, and as a call it saved and restored
 * registers around the one call that does the work (pkt_build). */
static inline __attribute__((always_inline)) bool
emit(struct tcp_engine *e, const struct pkt_route *r, const struct pkt_seg *s)
{
	uint8_t *buf = e->tx.alloc(e->tx.ctx);

	if (!buf) {
		STAT(e, tx_full);
		return false;
	}
	e->tx.send(e->tx.ctx, buf, pkt_build(buf, r, s));
	return true;
}

static void flow_route(const struct flow *f, struct pkt_route *r)
{
	r->src_mac = f->our_mac;
	r->dst_mac = f->peer_mac;
	r->saddr = f->key.daddr;
	r->daddr = f->key.saddr;
	r->sport = f->key.dport;
	r->dport = f->key.sport;
	r->vlan_tpid = f->vlan_tpid;
	r->vlan_tci = f->vlan_tci;
	r->family = f->key.family;
}

/*
 * The receive window: the configured one, or while input waits in a
 * backlog, the room left in it. The backlog is as large as the configured
 * window, so the right edge never moves left.
 */
static uint16_t rcv_window(const struct tcp_engine *e, const struct flow *f)
{
	uint32_t room;

	if (!f->backlog)
		return e->cfg.window;
	room = e->sndpool.size - f->backlog_len;
	return (uint16_t)(room < e->cfg.window ? room : e->cfg.window);
}

/*
 * Sends a segment of the flow: [seq, seq + len) from the ring, flags.
 * Inlined where data is sent (once per response); the other callers share
 * send_seg().
 */
static inline __attribute__((always_inline)) bool
send_data(struct tcp_engine *e, struct flow *f, uint32_t seq, uint32_t len,
	  uint8_t flags)
{
	struct pkt_seg s = { .seq = seq,
			     .ack = f->rcv_nxt,
			     .flags = flags,
			     .win = rcv_window(e, f) };
	struct pkt_route r;

	if (len) {
		uint32_t mask = e->cfg.send_buffer_size - 1;
		uint32_t off = (seq - f->snd_base) & mask;
		uint8_t *ring = bufpool_ptr(&e->sndpool, f->sndbuf);
		uint32_t first = mask + 1 - off;

		if (first > len)
			first = len;
		s.data[0] = ring + off;
		s.len[0] = first;
		s.data[1] = ring;
		s.len[1] = len - first;
		s.flags |= TCP_PSH;
	}
	flow_route(f, &r);
	if (!emit(e, &r, &s))
		return false;
	f->rcv_acked = f->rcv_nxt;
	f->rcv_wnd = s.win;
	f->ack_at = 0;
	return true;
}

static bool send_seg(struct tcp_engine *e, struct flow *f, uint32_t seq,
		     uint32_t len, uint8_t flags)
{
	return send_data(e, f, seq, len, flags);
}

/*
 * The sequence number of a bare ACK or RST: snd_nxt, unless a persist
 * probe took it past the peer's window, where the peer would discard the
 * segment unseen (RFC 9293 3.10.7.4); then the window's right edge.
 */
static uint32_t acceptable_seq(const struct flow *f)
{
	uint32_t wnd_end = f->snd_una + f->snd_wnd;

	return seq_lt(wnd_end, f->snd_nxt) ? wnd_end : f->snd_nxt;
}

static void send_ack(struct tcp_engine *e, struct flow *f)
{
	send_seg(e, f, acceptable_seq(f), 0, TCP_ACK);
}

static void arm_rtx(struct tcp_engine *e, struct flow *f)
{
	bool queued = seq_lt(f->snd_una, f->snd_end) ||
		      ((f->flags & FLOW_CLOSE) && !(f->flags & FLOW_FIN_ACKED));

	if (f->snd_una == f->snd_nxt && !queued)
		f->rtx_at = 0;
	else if (!f->rtx_at)
		f->rtx_at = e->now_ms + f->rto_ms;
	/* The send timeout runs while anything waits to be delivered,
	 * whatever the peer acknowledges, until it takes real progress
	 * (536 bytes, see ack_advance): a zero window cannot hold a ring,
	 * a trickle only at that pace and within its client's share. */
	if (!queued)
		f->stall_at = 0;
	else if (!f->stall_at && e->cfg.send_timeout_ms) {
		f->stall_at = e->now_ms + e->cfg.send_timeout_ms;
		f->stall_base = f->snd_una;
	}
}

/* Our FIN is out. Unless the peer's came first, its answering FIN may
 * wait in the ACK ring: the I/O layer is told (bpf/closing.h). */
static void fin_sent(struct tcp_engine *e, struct flow *f)
{
	f->flags |= FLOW_FIN_SENT;
	if (e->tx.closing && !(f->flags & FLOW_FIN_RCVD))
		e->tx.closing(e->tx.ctx, &f->key, true);
}

/*
 * Sends what the peer's window allows of the queued data, then our FIN if
 * closing; a pure ACK if nothing else carried one and ack_now.
 */
static void output(struct tcp_engine *e, struct flow *f, bool ack_now)
{
	bool sent = false;

	while (seq_lt(f->snd_nxt, f->snd_end)) {
		uint32_t wnd_end = f->snd_una + f->snd_wnd;
		uint32_t n = f->snd_end - f->snd_nxt;
		uint8_t flags = TCP_ACK;

		if (!seq_lt(f->snd_nxt, wnd_end))
			break;
		if (n > wnd_end - f->snd_nxt)
			n = wnd_end - f->snd_nxt;
		if (n > f->mss)
			n = f->mss;
		if ((f->flags & FLOW_CLOSE) && f->snd_nxt + n == f->snd_end)
			flags |= TCP_FIN;
		if (!send_data(e, f, f->snd_nxt, n, flags))
			break;
		if (!f->rtt_sent_at) {
			f->rtt_seq = f->snd_nxt + n;
			f->rtt_sent_at = e->now_ms;
		}
		f->snd_nxt += n;
		if (flags & TCP_FIN) {
			f->snd_nxt++;
			fin_sent(e, f);
		}
		sent = true;
	}
	if ((f->flags & (FLOW_CLOSE | FLOW_FIN_SENT)) == FLOW_CLOSE &&
	    f->snd_nxt == f->snd_end &&
	    send_seg(e, f, f->snd_end, 0, TCP_ACK | TCP_FIN)) {
		f->snd_nxt = f->snd_end + 1;
		fin_sent(e, f);
		sent = true;
	}
	if (!sent && ack_now)
		send_ack(e, f);
	arm_rtx(e, f);
}

/* Sends [seq, seq + n) again, with our FIN if the data ends there. */
static bool resend_seg(struct tcp_engine *e, struct flow *f, uint32_t seq,
		       uint32_t n)
{
	uint8_t flags = TCP_ACK;

	if ((f->flags & FLOW_FIN_SENT) && seq + n == f->snd_end &&
	    f->snd_nxt == f->snd_end + 1)
		flags |= TCP_FIN;
	return send_seg(e, f, seq, n, flags);
}

/*
 * Sends unacknowledged data again from snd_una: one segment, or (after a
 * timeout, all=true) everything in flight the peer's window allows.
 * snd_nxt never moves back, so a late ACK of data sent before stays valid.
 * With nothing in flight and a zero window, sends one new byte instead:
 * the persist probe.
 */
static void resend(struct tcp_engine *e, struct flow *f, bool all)
{
	uint32_t seq = f->snd_una, end, wnd_end, n;

	if (f->snd_una == f->snd_nxt) {
		if (seq_lt(f->snd_nxt, f->snd_end) &&
		    send_seg(e, f, f->snd_nxt, 1, TCP_ACK))
			f->snd_nxt++;
		return;
	}
	f->rtt_sent_at = 0; /* Karn: no samples from retransmissions */
	end = seq_lt(f->snd_end, f->snd_nxt) ? f->snd_end : f->snd_nxt;
	wnd_end = f->snd_una + (f->snd_wnd ? f->snd_wnd : 1);
	do {
		n = end - seq;
		if (n > f->mss)
			n = f->mss;
		if (seq_lt(wnd_end, seq + n) && seq != f->snd_una)
			break;
		if (!resend_seg(e, f, seq, n))
			break;
		seq += n;
	} while (all && seq_lt(seq, end));
}

/* Flow lifetime */

#define BACKLOG_RETRY_MS 10

static uint32_t ring_used(const struct flow *f);

static bool is_tls(const struct tcp_engine *e, const struct flow *f)
{
	return e->cfg.tls_port && f->key.dport == htons(e->cfg.tls_port);
}

static struct tls_session *session_of(const struct tcp_engine *e,
				      const struct flow *f)
{
	return f->tls ? *(struct tls_session **)bufpool_ptr(&e->tlspool,
							    f->tls) :
			NULL;
}

/* Out of line: the plain-HTTP test before it is inlined in every caller. */
static __attribute__((noinline)) bool tls_deferred(const struct tcp_engine *e,
						   const struct flow *f)
{
	return tls_held(session_of(e, f));
}

/* Requests decrypted and not answered wait in the session, as the
 * backlog's do: both are input deferred. */
static inline bool deferred(const struct tcp_engine *e, const struct flow *f)
{
	return f->backlog_len || (f->tls && tls_deferred(e, f));
}

/* The flow's next deadline on the timer wheel. Inlined: run for every
 * segment, and most of it is loads of fields the caller has at hand. */
static inline __attribute__((always_inline)) void schedule(struct tcp_engine *e,
							   struct flow *f)
{
	uint32_t id = flow_index(&e->ft, f);
	uint64_t when = f->expire_at, cur = tw_when(&e->tw, id);

	if (f->rtx_at && f->rtx_at < when)
		when = f->rtx_at;
	if (f->ack_at && f->ack_at < when)
		when = f->ack_at;
	if (f->stall_at && f->stall_at < when)
		when = f->stall_at;
	/* Deferred input with nothing in flight waits for a free buffer,
	 * not for an ACK: retry it soon, then less and less often. */
	if (deferred(e, f) && !ring_used(f)) {
		uint32_t shift = f->backlog_tries < 6 ? f->backlog_tries : 6;
		uint64_t retry =
			e->now_ms + ((uint64_t)BACKLOG_RETRY_MS << shift);

		if (retry < when)
			when = retry;
	}
	/* Lazy: a later deadline is found when the earlier one fires. */
	if (!cur || when < cur)
		tw_schedule(&e->tw, id, when);
}

/*
 * Fairness between sources. No source may hold more than a quarter of a
 * pool, and the last eighth of each pool goes only to sources holding
 * little: one client (or a few) that stops reading fills its share, not
 * the pool, and a newcomer is served from the reserve. When even that is
 * gone, the flow of the heaviest source that has held a buffer longest is
 * reset to free one (reclaimed).
 */
#define POOL_SHARE_DIV 4
#define POOL_RESERVE_DIV 8

static struct bufpool *pool_of(struct tcp_engine *e, enum src_pool p)
{
	switch (p) {
	case SRC_POOL_SEND:
		return &e->sndpool;
	case SRC_POOL_HEAD:
		return &e->headpool;
	case SRC_POOL_TLS:
		return &e->tlspool;
	default:
		return &e->hspool;
	}
}

static uint32_t pool_share(const struct bufpool *bp)
{
	uint32_t share = bp->count / POOL_SHARE_DIV;

	return share > SRC_LIGHT_BUFS ? share : SRC_LIGHT_BUFS;
}

static void buf_put(struct tcp_engine *e, struct flow *f, enum src_pool p,
		    uint32_t idx)
{
	bufpool_put(pool_of(e, p), idx);
	src_buf_sub(&e->src, f->src, p);
}

static void source_link(struct tcp_engine *e, struct flow *f, uint32_t src)
{
	struct src_entry *s = src_at(&e->src, src);
	uint32_t idx = flow_index(&e->ft, f);

	f->src = src;
	f->src_older = s->newest;
	if (s->newest)
		flow_at(&e->ft, s->newest)->src_newer = idx;
	else
		s->oldest = idx;
	s->newest = idx;
	s->flows++;
}

static void source_unlink(struct tcp_engine *e, struct flow *f)
{
	struct src_entry *s = src_at(&e->src, f->src);

	if (f->src_older)
		flow_at(&e->ft, f->src_older)->src_newer = f->src_newer;
	else
		s->oldest = f->src_newer;
	if (f->src_newer)
		flow_at(&e->ft, f->src_newer)->src_older = f->src_older;
	else
		s->newest = f->src_older;
	s->flows--;
	src_put_if_unused(&e->src, f->src);
}

static void tls_release(struct tcp_engine *e, struct flow *f)
{
	if (f->tls_hs) {
		buf_put(e, f, SRC_POOL_HANDSHAKE, f->tls_hs);
		f->tls_hs = 0;
	}
}

/* The session and its slots go back: closed, or closing with nothing
 * left to encrypt (our FIN needs no TLS). */
static void tls_end(struct tcp_engine *e, struct flow *f)
{
	if (f->tls) {
		tls_session_free(session_of(e, f));
		buf_put(e, f, SRC_POOL_TLS, f->tls);
		f->tls = 0;
	}
	tls_release(e, f);
}

static void flow_free(struct tcp_engine *e, struct flow *f)
{
	if (f->sndbuf)
		buf_put(e, f, SRC_POOL_SEND, f->sndbuf);
	if (f->rcvbuf)
		buf_put(e, f, SRC_POOL_HEAD, f->rcvbuf);
	if (f->backlog)
		buf_put(e, f, SRC_POOL_SEND, f->backlog);
	tls_end(e, f);
	source_unlink(e, f);
	tw_cancel(&e->tw, flow_index(&e->ft, f));
	/* A tag whose answering FIN never came through the ring goes too:
	 * a later connection on the 4-tuple must not find it. */
	if (e->tx.closing && (f->flags & FLOW_FIN_SENT))
		e->tx.closing(e->tx.ctx, &f->key, false);
	if (e->tx.live)
		e->tx.live(e->tx.ctx, &f->key, false);
	remember_closed(e, f);
	flow_delete(&e->ft, f);
	STAT(e, flows_closed);
}

/*
 * A peer takes an RST only at exactly its next expected sequence number
 * (RFC 5961 3.2; elsewhere in its window it answers with a challenge ACK,
 * which no flow here would answer): where what is in flight ends, if it
 * had it all (snd_nxt, or the window's edge after a persist probe), or
 * where it begins, if it had none of it (a lost FIN, a peer gone quiet).
 * When the two differ, both go: the other is dropped or challenged.
 */
static void flow_reset(struct tcp_engine *e, struct flow *f)
{
	uint32_t end = acceptable_seq(f);
	bool sent = send_seg(e, f, end, 0, TCP_RST | TCP_ACK);

	if (f->snd_una != end)
		sent |= send_seg(e, f, f->snd_una, 0, TCP_RST | TCP_ACK);
	if (sent)
		STAT(e, rst_sent);
	flow_free(e, f);
}

static bool holds(const struct flow *f, enum src_pool p)
{
	switch (p) {
	case SRC_POOL_SEND:
		return f->sndbuf || f->backlog;
	case SRC_POOL_HEAD:
		return f->rcvbuf;
	case SRC_POOL_TLS:
		return f->tls;
	default:
		return f->tls_hs;
	}
}

/* Resets the oldest flow, other than f, holding a buffer of pool p of the
 * heaviest source, if one is not light. Returns whether one was reset. */
static bool reclaim(struct tcp_engine *e, const struct flow *f, enum src_pool p)
{
	uint32_t victim = src_heaviest(&e->src, p), idx;

	if (!victim)
		return false;
	for (idx = src_at(&e->src, victim)->oldest; idx;) {
		struct flow *g = flow_at(&e->ft, idx);

		if (g != f && holds(g, p)) {
			STAT(e, reclaimed);
			flow_reset(e, g);
			return true;
		}
		idx = g->src_newer;
	}
	return false;
}

static void note_limited(struct tcp_engine *e, uint32_t src)
{
	e->limited = src_at(&e->src, src)->key;
	e->limited_count++;
}

/* A buffer of pool p for f, if its source may have one; 0 if not. */
static uint32_t buf_get(struct tcp_engine *e, struct flow *f, enum src_pool p)
{
	struct bufpool *bp = pool_of(e, p);
	uint32_t held = src_at(&e->src, f->src)->bufs[p], idx;
	bool light = src_light(&e->src, f->src, p);

	if (held >= pool_share(bp) ||
	    (!light && bp->count - bp->used <= bp->count / POOL_RESERVE_DIV)) {
		STAT(e, pool_refused);
		note_limited(e, f->src);
		return 0;
	}
	idx = bufpool_get(bp);
	if (!idx && light && reclaim(e, f, p))
		idx = bufpool_get(bp);
	if (idx)
		src_buf_add(&e->src, f->src, p);
	return idx;
}

/* Bytes queued and not yet acknowledged (the FIN aside). */
static uint32_t ring_used(const struct flow *f)
{
	return seq_lt(f->snd_una, f->snd_end) ? f->snd_end - f->snd_una : 0;
}

static void ring_release_if_empty(struct tcp_engine *e, struct flow *f)
{
	if (f->sndbuf && !ring_used(f)) {
		buf_put(e, f, SRC_POOL_SEND, f->sndbuf);
		f->sndbuf = 0;
	}
}

/*
 * A ring emptied by an ACK goes back to the pool when the segment that
 * brought the ACK is done (flow_input), not at once: that segment usually
 * brings the next request too, whose response would take a ring again.
 * Meanwhile the ring is idle: held, nothing in it. Taking it again is
 * judged as buf_get would judge it once put back, with the same checks
 * and counts, and the pool's free list would have handed back this very
 * ring (last in, first out).
 */
static bool ring_readmit(struct tcp_engine *e, struct flow *f)
{
	const struct bufpool *bp = &e->sndpool;
	uint32_t held = src_at(&e->src, f->src)->bufs[SRC_POOL_SEND] - 1;
	bool light = held < SRC_LIGHT_BUFS;

	if (held < pool_share(bp) &&
	    (light ||
	     bp->count - (bp->used - 1) > bp->count / POOL_RESERVE_DIV))
		return true;
	ring_release_if_empty(e, f);
	STAT(e, pool_refused);
	note_limited(e, f->src);
	return false;
}

static bool ring_acquire(struct tcp_engine *e, struct flow *f)
{
	if (f->sndbuf && ring_used(f))
		return true;
	if (f->sndbuf ? !ring_readmit(e, f) :
			!(f->sndbuf = buf_get(e, f, SRC_POOL_SEND))) {
		STAT(e, send_pool_empty);
		return false;
	}
	f->snd_base = f->snd_end;
	return true;
}

static void ring_append(struct tcp_engine *e, struct flow *f,
			const uint8_t *data, uint32_t len)
{
	uint32_t mask = e->cfg.send_buffer_size - 1;
	uint32_t off = (f->snd_end - f->snd_base) & mask;
	uint8_t *ring = bufpool_ptr(&e->sndpool, f->sndbuf);
	uint32_t first = mask + 1 - off;

	if (first > len)
		first = len;
	memcpy(ring + off, data, first);
	memcpy(ring, data + first, len - first);
	f->snd_end += len;
}

/* A close we begin (idle timeout, drain): the peer gets our close_notify
 * before the FIN, as RFC 8446 (6.1) asks, when a send ring is free (never
 * one reclaimed from another flow for it). */
static void tls_goodbye(struct tcp_engine *e, struct flow *f)
{
	struct http_out out = { e->scratch, TLS_RECORD_SLACK, 0 };

	if (f->tls && (f->sndbuf || e->sndpool.used < e->sndpool.count) &&
	    ring_acquire(e, f)) {
		if (e->cfg.send_buffer_size - ring_used(f) >= out.cap &&
		    tls_close_notify(session_of(e, f), &out))
			ring_append(e, f, e->scratch, out.len);
		ring_release_if_empty(e, f);
	}
	tls_end(e, f);
}

/* RFC 6298 estimator in integer ms, from one RTT sample. */
static void rtt_sample(struct tcp_engine *e, struct flow *f, uint32_t rtt)
{
	uint32_t rto;

	if (!f->srtt_ms8) {
		f->srtt_ms8 = rtt * 8 + 1;
		f->rttvar_ms4 = rtt * 2;
	} else {
		int32_t err = (int32_t)rtt - (f->srtt_ms8 >> 3);
		int32_t abs_err = err < 0 ? -err : err;

		f->srtt_ms8 = (uint32_t)((int32_t)f->srtt_ms8 + err);
		f->rttvar_ms4 = (uint32_t)((int32_t)f->rttvar_ms4 + abs_err -
					   (int32_t)(f->rttvar_ms4 >> 2));
	}
	rto = (f->srtt_ms8 >> 3) + f->rttvar_ms4;
	if (rto < e->cfg.rto_min_ms)
		rto = e->cfg.rto_min_ms;
	if (rto > e->cfg.rto_max_ms)
		rto = e->cfg.rto_max_ms;
	f->rto_ms = rto;
}

static void ack_advance(struct tcp_engine *e, struct flow *f, uint32_t ack)
{
	if (f->rtt_sent_at && seq_le(f->rtt_seq, ack)) {
		uint64_t rtt = e->now_ms - f->rtt_sent_at;

		rtt_sample(e, f, rtt > 60000 ? 60000 : (uint32_t)rtt);
		f->rtt_sent_at = 0;
	}
	/* Progress that restarts the send timeout: everything delivered, or
	 * a minimum segment's worth (RFC 9293) since it started. */
	if (!seq_lt(ack, f->snd_end) || ack - f->stall_base >= 536)
		f->stall_at = 0;
	f->snd_una = ack;
	f->dupacks = 0;
	/* NewReno: an ACK short of the recovery point means the next
	 * segment was lost too; send it now rather than after a timeout. */
	if (f->flags & FLOW_RECOVERY) {
		if (seq_lt(ack, f->recover))
			resend(e, f, false);
		else
			f->flags &= (uint8_t)~FLOW_RECOVERY;
	}
	if ((f->flags & FLOW_FIN_SENT) && ack == f->snd_end + 1) {
		/* Half-closed: wait a while for the peer's FIN. */
		f->flags |= FLOW_FIN_ACKED;
		f->flags &= (uint8_t)~FLOW_HEAD_TIMER;
		f->expire_at = e->now_ms + e->cfg.linger_ms;
	}
	f->retries = 0;
	f->rtx_at = 0;
	/* An emptied ring stays until the segment is done: ring_readmit. */
}

/* Input */

/* What a segment asks of us once processed. */
enum ack_need { ACK_NONE, ACK_DELAYED, ACK_NOW, ACK_RESEND };

/* At the end of feed(), after the stream took data: so also where a flow
 * stops being FLOW_UNCONFIRMED, at no cost on the way of a request (data
 * that feed() does not reach is held in a backlog, or dropped while we
 * close: restart_unconfirmed() checks both). */
static void head_timer(struct tcp_engine *e, struct flow *f)
{
	/* A TLS handshake or a partial record counts as a head. */
	if (f->http.head_len || (f->tls && tls_waiting(session_of(e, f)))) {
		/* From the head's first byte on, not reset by each segment:
		 * a slow sender cannot keep the connection forever. */
		if (!(f->flags & FLOW_HEAD_TIMER)) {
			f->flags = (uint8_t)((f->flags | FLOW_HEAD_TIMER) &
					     ~FLOW_UNCONFIRMED);
			f->expire_at = e->now_ms + e->cfg.header_timeout_ms;
		}
	} else {
		f->flags &= (uint8_t) ~(FLOW_HEAD_TIMER | FLOW_UNCONFIRMED);
		f->expire_at = e->now_ms + e->cfg.idle_timeout_ms;
	}
}

/* Moves the HTTP stream's bytes that need keeping into a head buffer. */
static uint32_t keep_pending(struct tcp_engine *e, struct flow *f,
			     const uint8_t *data, uint32_t len)
{
	if (!f->rcvbuf)
		f->rcvbuf = buf_get(e, f, SRC_POOL_HEAD);
	if (!f->rcvbuf) {
		STAT(e, head_pool_empty);
		e->refused = SRC_POOL_HEAD;
		return 0;
	}
	return http_keep_pending(&f->http, bufpool_ptr(&e->headpool, f->rcvbuf),
				 data, len);
}

/* Requests answered in the clock tick their head began in (most, as a
 * caller reads its clock once per batch) cost only the comparison in
 * feed(); it charges the others here one by one. */
__attribute__((noinline, cold)) static void latency_add(struct tcp_engine *e,
							uint64_t ns, uint32_t n)
{
	e->latency[latency_bucket(ns)] += n;
	e->latency_sum_ns += ns * n;
}

/* Where the TLS layer keeps a partial request head: the flow's head
 * buffer, as for plain HTTP. */
static uint32_t tls_keep(void *ctx, const uint8_t *data, uint32_t len)
{
	struct tcp_engine *e = ctx;

	return keep_pending(e, e->cur, data, len);
}

static uint8_t *tls_head_buf(void *ctx)
{
	struct tcp_engine *e = ctx;

	return bufpool_ptr(&e->headpool, e->cur->rcvbuf);
}

/* A session for a connection's first bytes, within the pools' shares: a
 * ClientHello flood holds handshake slots, not the established sessions'
 * CPU or memory. Returns false (input deferred) when refused. */
static bool tls_start(struct tcp_engine *e, struct flow *f)
{
	struct tls_session *s;

	f->tls_hs = buf_get(e, f, SRC_POOL_HANDSHAKE);
	if (!f->tls_hs) {
		e->refused = SRC_POOL_HANDSHAKE;
		goto refused;
	}
	f->tls = buf_get(e, f, SRC_POOL_TLS);
	s = f->tls ? tls_session_new(e->tls) : NULL;
	if (!s) {
		if (f->tls)
			buf_put(e, f, SRC_POOL_TLS, f->tls);
		f->tls = 0;
		tls_release(e, f);
		e->refused = SRC_POOL_TLS;
		goto refused;
	}
	*(struct tls_session **)bufpool_ptr(&e->tlspool, f->tls) = s;
	return true;
refused:
	STAT(e, tls_pool_empty);
	return false;
}

/* The TLS twin of http_feed: ciphertext in and out, plaintext to HTTP. */
static struct http_feed feed_tls(struct tcp_engine *e, struct flow *f,
				 const uint8_t *data, uint32_t len,
				 struct http_out *out)
{
	const struct tls_head head = { tls_keep, tls_head_buf, e };
	struct http_feed none = { 0 };
	struct tls_session *s;
	struct tls_feed r;

	if (!f->tls && !tls_start(e, f))
		return none;
	s = session_of(e, f);
	r = tls_feed(s, &f->http, &e->env, &head, data, len, out, e->unix_s);
	switch (r.event) {
	case TLS_EV_HANDSHAKE:
		STAT(e, tls_handshakes);
		tls_release(e, f);
		break;
	case TLS_EV_RESUMED:
		STAT(e, tls_resumed);
		tls_release(e, f);
		break;
	case TLS_EV_FAILED:
		STAT(e, tls_failed);
		/* The alert is queued: the session is done, as at a close. */
		/* fall through */
	case TLS_EV_CLOSED:
		f->http.closing = 1;
		tls_end(e, f);
		break;
	case TLS_EV_NONE:
		break;
	}
	return r.http;
}

/*
 * Hands in-order bytes to HTTP while their responses fit in the send
 * ring. Returns how many bytes it took (answered, discarded, or kept as a
 * partial head).
 */
static uint32_t feed(struct tcp_engine *e, struct flow *f, const uint8_t *data,
		     uint32_t len)
{
	uint32_t size = e->cfg.send_buffer_size, off, room;
	struct http_out out = { e->scratch, 0, 0 };
	struct http_feed r;
	uint8_t *head = NULL;
	uint32_t taken;

	if (f->http.closing)
		return len; /* closing: read and drop */
	if (!ring_acquire(e, f))
		return 0;
	room = size - ring_used(f);
	off = (f->snd_end - f->snd_base) & (size - 1);
	/* Responses go straight into the ring unless its free space wraps. */
	if (off + room <= size)
		out.buf = bufpool_ptr(&e->sndpool, f->sndbuf) + off;
	out.cap = room;
	if (f->http.head_len)
		head = bufpool_ptr(&e->headpool, f->rcvbuf);
	e->cur = f;
	if (is_tls(e, f)) {
		r = feed_tls(e, f, data, len, &out);
		taken = r.consumed;
	} else {
		r = http_feed(&f->http, &e->env, head, data, len, &out);
		taken = r.consumed;
		if (r.pending)
			taken += keep_pending(e, f, data + r.consumed,
					      r.pending);
	}
	if (!f->http.head_len && f->rcvbuf) {
		buf_put(e, f, SRC_POOL_HEAD, f->rcvbuf);
		f->rcvbuf = 0;
	}
	if (!out.len)
		ring_release_if_empty(e, f);
	else if (out.buf == e->scratch)
		ring_append(e, f, e->scratch, out.len);
	else
		f->snd_end += out.len;
	e->stats[TCP_STAT_requests] += r.responses;
	/* Only the first response waited since head_at_ns: the heads behind
	 * it are answered in this pass, and the next one (pending, or left
	 * unread) is timed from now. The others count as 0 (tcp_latency). */
	if (r.responses) {
		if (e->clock_ns != f->head_at_ns) {
			latency_add(e, e->clock_ns - f->head_at_ns, 1);
			f->head_at_ns = e->clock_ns;
		}
		f->flags |= FLOW_SERVED;
	}
	if (r.closed)
		f->flags |= FLOW_CLOSE;
	head_timer(e, f);
	return taken;
}

/*
 * Input the send ring had no room to answer waits in a backlog (as large
 * as the window we advertise, so whatever the peer may send fits), and the
 * window shrinks as it fills: a client that pipelines faster than it reads
 * is held back by flow control instead of by retransmissions.
 */
static uint32_t backlog_add(struct tcp_engine *e, struct flow *f,
			    const uint8_t *data, uint32_t len)
{
	uint8_t *b;
	uint32_t room;

	if (!f->backlog) {
		ring_release_if_empty(e, f); /* counted free first, as it is */
		f->backlog = buf_get(e, f, SRC_POOL_SEND);
		if (!f->backlog) {
			STAT(e, send_pool_empty);
			return 0;
		}
		f->backlog_start = f->backlog_len = 0;
	}
	b = bufpool_ptr(&e->sndpool, f->backlog);
	if (f->backlog_start + f->backlog_len + len > e->sndpool.size) {
		memmove(b, b + f->backlog_start, f->backlog_len);
		f->backlog_start = 0;
	}
	room = e->sndpool.size - f->backlog_len;
	if (len > room)
		len = room;
	memcpy(b + f->backlog_start + f->backlog_len, data, len);
	f->backlog_len += len;
	return len;
}

/* Feeds the backlog as far as the send ring allows; frees it when empty. */
/* The peer's FIN is in: read and drop anything else, close after the
 * responses queued. */
static void close_after_fin(struct flow *f)
{
	f->flags |= FLOW_CLOSE;
	f->http.closing = 1;
}

/*
 * Feeds the backlog as far as the send ring allows; frees it when empty
 * (then a FIN that came behind it closes). Returns whether it made
 * progress.
 */
static bool backlog_drain(struct tcp_engine *e, struct flow *f)
{
	uint32_t taken, before = f->backlog_len;
	bool held = f->tls && tls_held(session_of(e, f));
	uint8_t *b;

	if (held && !f->backlog_len)
		feed(e, f, NULL, 0); /* requests the session holds */
	while (f->backlog_len) {
		b = bufpool_ptr(&e->sndpool, f->backlog);
		taken = feed(e, f, b + f->backlog_start, f->backlog_len);
		if (!taken)
			break;
		f->backlog_start += taken;
		f->backlog_len -= taken;
	}
	if (f->backlog && !f->backlog_len) {
		buf_put(e, f, SRC_POOL_SEND, f->backlog);
		f->backlog = 0;
	}
	if ((f->flags & FLOW_FIN_RCVD) && !deferred(e, f))
		close_after_fin(f);
	if (f->backlog_len == before &&
	    (!held || (f->tls && tls_held(session_of(e, f)))))
		return false;
	f->backlog_tries = 0;
	return true;
}

/* Takes in-order bytes: to HTTP, or behind earlier ones in the backlog.
 * rcv_nxt advances over what was taken; the rest the peer sends again. */
static void deliver(struct tcp_engine *e, struct flow *f, const uint8_t *data,
		    uint32_t len)
{
	uint32_t taken = 0;

	e->refused = SRC_POOLS;
	if (!deferred(e, f) && !f->http.head_len)
		f->head_at_ns = e->clock_ns; /* a new head's first byte */
	if (!f->backlog_len)
		taken = feed(e, f, data, len);
	/* A partial head refused to a client that is not light in heads is
	 * not acknowledged: it sends it again, at its cost, instead of
	 * parking it in a backlog that the retry timer would keep trying. */
	if (e->refused != SRC_POOLS &&
	    !src_light(&e->src, f->src, e->refused)) {
		f->rcv_nxt += taken;
		return;
	}
	if (taken < len)
		taken += backlog_add(e, f, data + taken, len - taken);
	f->rcv_nxt += taken;
}

/* A bare FIN that overtook the last data (the ACK ring is read before the
 * socket, or the network reordered them) is kept, if in the window: that
 * data, when it comes, completes it. */
static __attribute__((noinline, cold)) bool keep_fin_ahead(struct flow *f,
							   uint32_t seq)
{
	if (seq - f->rcv_nxt > f->rcv_wnd || (f->flags & FLOW_FIN_RCVD))
		return false;
	f->fin_gap = (uint16_t)(seq - f->rcv_nxt);
	return true;
}

/* In-order data moves a FIN kept ahead of it: whether it reached the FIN.
 * Data past a kept FIN means that FIN was not the end. */
static __attribute__((noinline, cold)) bool
kept_fin_reached(struct flow *f, uint32_t took, uint32_t len)
{
	bool reached = took == f->fin_gap && took == len;

	f->fin_gap = took < f->fin_gap ? (uint16_t)(f->fin_gap - took) : 0;
	return reached;
}

/*
 * A flow opened by a bare ACK took its start from a cookie that binds the
 * client's ISN by 5 bits, so one such ACK in 32 sent from past the
 * client's data (its handshake ACK and request lost) opens it there.
 * Until data arrives, data from before that start whose SEQ validates as
 * ISN + 1 (by the same 5 bits) is where the stream truly begins: when it
 * is not a keep-alive probe's byte at rcv_nxt - 1, lies within the window
 * our SYN-ACK offered, comes from a peer that has seen only that SYN-ACK,
 * and the stream has neither a FIN nor bytes held in a backlog, nor are we
 * closing.
 */
static __attribute__((noinline, cold)) bool
restart_unconfirmed(struct tcp_engine *e, struct flow *f, const struct pkt *p)
{
	uint32_t skip = f->rcv_nxt - p->seq;

	if (!p->payload_len || skip < 2 || skip > e->cfg.window ||
	    p->ack != f->iss + 1 || (f->flags & (FLOW_CLOSE | FLOW_FIN_RCVD)) ||
	    f->backlog_len || f->http.closing ||
	    !cookie_check(&e->cookie_key, &f->key, p->seq - 1, f->iss,
			  cookie_clock(e)))
		return false;
	f->rcv_nxt = f->rcv_acked = p->seq;
	f->fin_gap = 0; /* it was counted from the old start */
	return true;
}

static enum ack_need receive(struct tcp_engine *e, struct flow *f,
			     const struct pkt *p)
{
	const uint8_t *data = p->payload;
	uint32_t len = p->payload_len, seq = p->seq, before;
	bool fin = p->flags & TCP_FIN;

	if (!len && !fin) {
		/* A keep-alive probe (SEQ = RCV.NXT - 1) wants an ACK. */
		return seq_lt(seq, f->rcv_nxt) ? ACK_NOW : ACK_NONE;
	}
	if (seq_lt(seq, f->rcv_nxt)) {
		uint32_t skip = f->rcv_nxt - seq;

		if (__builtin_expect(f->flags & FLOW_UNCONFIRMED, 0) &&
		    restart_unconfirmed(e, f, p))
			skip = 0;
		if (skip > len || (skip == len && !fin)) {
			/* All old: a request sent again means the peer
			 * missed our answer, so answer again now. */
			STAT(e, dup_segments);
			if (len && f->snd_una != f->snd_nxt)
				return ACK_RESEND;
			return ACK_NOW;
		}
		data += skip;
		len -= skip;
	} else if (seq_lt(f->rcv_nxt, seq)) {
		STAT(e, out_of_order);
		return fin && !len && keep_fin_ahead(f, seq) ? ACK_NONE :
							       ACK_NOW;
	}
	if (f->flags & FLOW_FIN_RCVD)
		return ACK_NOW;
	before = f->rcv_nxt;
	if (len)
		deliver(e, f, data, len);
	if (__builtin_expect(f->fin_gap != 0, 0) &&
	    kept_fin_reached(f, f->rcv_nxt - before, len))
		fin = true;
	if (f->rcv_nxt - before != len)
		return ACK_NOW; /* took only part: say so at once */
	if (fin) {
		f->fin_gap = 0;
		f->rcv_nxt++;
		f->flags |= FLOW_FIN_RCVD;
		/* Requests still in the backlog were acknowledged: they are
		 * answered first (backlog_drain closes after them). */
		if (!deferred(e, f))
			close_after_fin(f);
		return ACK_NOW;
	}
	/* Every second full segment is acknowledged at once (RFC 9293). */
	if (f->rcv_nxt - f->rcv_acked >= 2u * f->mss)
		return ACK_NOW;
	return ACK_DELAYED;
}

/* RFC 5961: challenge ACKs, limited per flow and not globally. */
static void challenge_ack(struct tcp_engine *e, struct flow *f)
{
	uint16_t sec = (uint16_t)(e->now_ms / 1000);

	if (f->challenge_sec != sec) {
		f->challenge_sec = sec;
		f->challenges = 0;
	}
	if (f->challenges >= e->cfg.challenge_per_sec)
		return;
	f->challenges++;
	STAT(e, challenge_acks);
	send_ack(e, f);
}

/* Returns false if the RST freed the flow. */
static bool rst_input(struct tcp_engine *e, struct flow *f, const struct pkt *p)
{
	if (p->seq == f->rcv_nxt) {
		STAT(e, rst_rcvd);
		flow_free(e, f);
		return false;
	}
	/* In the window we advertised (RFC 5961 3.2): challenge. */
	if (seq_lt(f->rcv_nxt, p->seq) &&
	    seq_lt(p->seq, f->rcv_nxt + f->rcv_wnd))
		challenge_ack(e, f);
	return true;
}

/* RFC 5681: same ACK, no data, same window, data outstanding. */
static bool is_dupack(const struct flow *f, const struct pkt *p)
{
	return p->ack == f->snd_una && f->snd_una != f->snd_nxt &&
	       !p->payload_len && !(p->flags & (TCP_SYN | TCP_FIN)) &&
	       p->win == f->snd_wnd;
}

/* The third duplicate ACK: the segment at snd_una was lost (fast
 * retransmit); partial ACKs then drive the rest (see ack_advance). */
static void dupack(struct tcp_engine *e, struct flow *f)
{
	if (++f->dupacks != 3 || (f->flags & FLOW_RECOVERY))
		return;
	STAT(e, fast_retransmits);
	f->flags |= FLOW_RECOVERY;
	f->recover = f->snd_nxt;
	resend(e, f, false);
}

/* Whether the window grew enough since we last said, to tell the peer
 * (it may be waiting on a zero window). */
static bool window_opened(const struct tcp_engine *e, const struct flow *f)
{
	uint32_t now = rcv_window(e, f), mss = f->mss;

	return now > f->rcv_wnd &&
	       (f->rcv_wnd < mss || now - f->rcv_wnd >= 2 * mss);
}

/* What readopt() did with a segment. */
enum readopt { READOPT_NO, READOPT_DONE, READOPT_DROPPED };

/*
 * An ack past all we sent: ECMP moved the connection away and back, and
 * the node it went to adopted and served it (adopt()). The ACK of our last
 * response may have gone there too (with the next request): what we sent
 * is acknowledged by this ack as well. If nothing else is pending here
 * (queued unsent, half-received, closing) and the segment is what adopt()
 * takes (a request head, an ack in the window of this flow's fleet mark,
 * data at or after ours), the flow takes its sequence numbers as adopt()
 * would; anything else is an unacceptable ack (RFC 5961 5.2). A blind
 * segment passes at most at the odds of a 2^19 window in 2^32, the bound
 * of adopt.h.
 */
static enum readopt readopt(struct tcp_engine *e, struct flow *f,
			    const struct pkt *p)
{
	if (is_tls(e, f) || !seq_lt(f->snd_nxt, p->ack) ||
	    f->snd_nxt != f->snd_end ||
	    (f->flags & (FLOW_FIN_RCVD | FLOW_CLOSE)) || f->http.head_len ||
	    f->http.body_left || deferred(e, f) ||
	    (p->flags & (TCP_FIN | TCP_SYN | TCP_RST)) ||
	    seq_lt(p->seq, f->rcv_nxt) ||
	    !adopt_mark_fits(f->iss & COOKIE_MARK_MASK, p->ack) ||
	    !adopt_head_ok(p->payload, p->payload_len, &e->lim))
		return READOPT_NO;
	if (!rate_ok(&e->adopt_rl, e->now_ms)) {
		STAT(e, adoptions_limited);
		return READOPT_DROPPED;
	}
	STAT(e, adoptions);
	f->rcv_nxt = f->rcv_acked = p->seq;
	f->fin_gap = 0;
	f->snd_una = f->snd_nxt = f->snd_end = p->ack;
	ring_release_if_empty(e, f);
	f->rtt_sent_at = 0;
	f->rtx_at = 0;
	f->stall_at = 0;
	f->retries = 0;
	f->dupacks = 0;
	f->flags &= (uint8_t)~FLOW_RECOVERY;
	return READOPT_DONE;
}

static void flow_input(struct tcp_engine *e, struct flow *f,
		       const struct pkt *p, uint32_t target)
{
	enum ack_need need;

	if (target != TCP_TARGET_NONE)
		f->target = target;
	if (p->flags & TCP_RST) {
		if (rst_input(e, f, p))
			schedule(e, f);
		return;
	}
	if (p->flags & TCP_SYN) {
		challenge_ack(e, f);
		return;
	}
	if (!(p->flags & TCP_ACK))
		return;
	/* RFC 5961 5.2: an ACK of data never sent, or older than any window
	 * the peer could have seen, is dropped with a (limited) ACK. */
	if (seq_lt(f->snd_nxt, p->ack) ||
	    seq_lt(p->ack, f->snd_una - f->max_snd_wnd)) {
		switch (readopt(e, f, p)) {
		case READOPT_NO:
			challenge_ack(e, f);
			return;
		case READOPT_DROPPED:
			return;
		case READOPT_DONE:
			break;
		}
	}
	if (seq_lt(f->snd_una, p->ack))
		ack_advance(e, f, p->ack);
	else if (is_dupack(f, p))
		dupack(e, f);
	if (seq_le(f->snd_una, p->ack)) {
		f->snd_wnd = p->win;
		if (p->win > f->max_snd_wnd)
			f->max_snd_wnd = p->win;
	}
	if (deferred(e, f))
		backlog_drain(e, f); /* the ACK may have made room */
	need = receive(e, f, p);
	if (need != ACK_NOW && window_opened(e, f))
		need = ACK_NOW; /* a window update */
	if ((f->flags & (FLOW_FIN_RCVD | FLOW_FIN_ACKED)) ==
	    (FLOW_FIN_RCVD | FLOW_FIN_ACKED)) {
		/* Done both ways. A retransmitted FIN later is answered
		 * without state (see unknown_flow()). */
		if (need != ACK_NONE)
			send_ack(e, f);
		flow_free(e, f);
		return;
	}
	if (need == ACK_RESEND)
		resend(e, f, false);
	if (f->tls && f->http.closing && !deferred(e, f))
		tls_end(e, f);
	output(e, f, need == ACK_NOW);
	if (need == ACK_DELAYED && f->rcv_acked != f->rcv_nxt && !f->ack_at)
		f->ack_at = e->now_ms + e->cfg.delack_ms;
	ring_release_if_empty(e, f); /* emptied by this ACK, not refilled */
	schedule(e, f);
}

/* Segments without a flow */

/* An RST for a segment without a flow (RFC 9293 3.10.7.1). */
static void send_rst(struct tcp_engine *e, const struct pkt *p)
{
	struct pkt_seg s = { .win = 0 };
	struct pkt_route r;

	if (p->flags & TCP_ACK) {
		s.seq = p->ack;
		s.flags = TCP_RST;
	} else {
		s.ack = p->seq + p->payload_len + !!(p->flags & TCP_SYN) +
			!!(p->flags & TCP_FIN);
		s.flags = TCP_RST | TCP_ACK;
	}
	pkt_reply_route(p, &r);
	if (emit(e, &r, &s))
		STAT(e, rst_sent);
}

static void reply_rst(struct tcp_engine *e, const struct pkt *p)
{
	if (!rate_ok(&e->rst_rl, e->now_ms)) {
		STAT(e, rst_limited);
		return;
	}
	send_rst(e, p);
}

/*
 * Draining: a SYN gets an RST instead of a SYN-ACK, one for one as SYN-ACKs
 * are sent, not under the RST limit: a refusal dropped would cost its
 * client a one-second SYN retransmission.
 */
static void refuse_syn(struct tcp_engine *e, const struct pkt *p)
{
	STAT(e, drain_refused);
	send_rst(e, p);
}

static void reply_synack(struct tcp_engine *e, const struct pkt *p)
{
	uint16_t ours = p->key.family == 4 ? e->mss4 : e->mss6;
	uint16_t peer = p->mss ? p->mss : XR_PEER_MSS(p->key.family);
	struct pkt_seg s = { .ack = p->seq + 1,
			     .flags = TCP_SYN | TCP_ACK,
			     .win = e->cfg.window,
			     .mss = ours };
	struct pkt_route r;

	STAT(e, syn_rcvd);
	/* Data on a SYN is not acknowledged: the peer sends it again. */
	s.seq = cookie_make(&e->cookie_key, &p->key, p->seq,
			    peer < ours ? peer : ours, cookie_clock(e), NULL);
	pkt_reply_route(p, &r);
	if (emit(e, &r, &s))
		STAT(e, cookies_sent);
}

/*
 * A FIN for a flow we no longer have: we freed it after both FINs, so this
 * is the peer retransmitting its FIN because our ACK was lost. The ACK it
 * needs is computable from the segment alone, which is why xredird keeps
 * no TIME-WAIT state: seq = its ACK (our FIN + 1), ack = its FIN + 1.
 */
static void reply_timewait_ack(struct tcp_engine *e, const struct pkt *p)
{
	struct pkt_seg s = { .seq = p->ack,
			     .ack = p->seq + p->payload_len + 1,
			     .flags = TCP_ACK,
			     .win = e->cfg.window };
	struct pkt_route r;

	if (!rate_ok(&e->rst_rl, e->now_ms)) {
		STAT(e, rst_limited);
		return;
	}
	pkt_reply_route(p, &r);
	if (emit(e, &r, &s))
		STAT(e, timewait_acks);
}

/*
 * A FIN without a flow gets the ACK computed from it, unless it brings
 * data that the flow closed here (c, NULL if no record) is not known to
 * have received: that data was never read, and the peer must not take it
 * as delivered (an RST, RFC 1122 4.2.2.13, as from a stack whose socket
 * was closed).
 */
static void reply_fin(struct tcp_engine *e, const struct pkt *p,
		      const struct closed_flow *c)
{
	if (p->payload_len &&
	    (!c || seq_lt(c->rcv_nxt, p->seq + p->payload_len)))
		reply_rst(e, p);
	else
		reply_timewait_ack(e, p);
}

static struct flow *flow_open(struct tcp_engine *e, const struct pkt *p,
			      uint32_t hash, uint16_t mss)
{
	uint16_t ours = p->key.family == 4 ? e->mss4 : e->mss6;
	struct source_key k = source_of(p->key.family, p->key.saddr);
	uint32_t src = src_get(&e->src, &k);
	struct flow *f;

	if (src && e->cfg.max_flows_per_source &&
	    src_at(&e->src, src)->flows >= e->cfg.max_flows_per_source) {
		STAT(e, source_limited);
		note_limited(e, src);
		return NULL;
	}
	f = src ? flow_insert(&e->ft, &p->key, hash) : NULL;
	if (!f) {
		if (src)
			src_put_if_unused(&e->src, src);
		STAT(e, table_full);
		return NULL;
	}
	source_link(e, f, src);
	STAT(e, flows_opened);
	if (e->tx.live)
		e->tx.live(e->tx.ctx, &f->key, true);
	memcpy(f->peer_mac, p->peer_mac, 6);
	memcpy(f->our_mac, p->our_mac, 6);
	f->vlan_tpid = p->vlan_tpid;
	f->vlan_tci = p->vlan_tci;
	f->mss = mss < ours ? mss : ours;
	f->snd_una = f->snd_nxt = f->snd_end = p->ack;
	f->iss = p->ack - 1;
	f->rcv_nxt = f->rcv_acked = p->seq;
	f->snd_wnd = f->max_snd_wnd = p->win;
	f->rcv_wnd = e->cfg.window; /* what the SYN-ACK advertised */
	f->rto_ms = e->cfg.rto_init_ms;
	f->target = TCP_TARGET_NONE;
	f->expire_at = e->now_ms + e->cfg.idle_timeout_ms;
	return f;
}

/*
 * A data segment of a connection another node of the fleet opened, moved
 * here by ECMP (adopt.h): the flow is rebuilt from it and its request
 * answered. What the segment cannot tell is taken conservatively: the
 * smallest MSS a peer may assume (RFC 9293 3.7.1), the peer's window as
 * sent (window scaling is never offered: the same on every node), ours as
 * every node's SYN-ACK advertised it. Returns false when the segment gets
 * the RST an unknown flow gets; a rate-limited one is dropped instead
 * (its retransmission may be adopted). Never on the TLS port: the
 * session's keys are gone with the node that held them.
 */
static bool adopt(struct tcp_engine *e, const struct pkt *p, uint32_t hash,
		  uint32_t target)
{
	struct flow *f;
	uint32_t mark;

	if (e->cfg.tls_port && p->key.dport == htons(e->cfg.tls_port))
		return false;
	switch (adopt_judge(&e->cookie_key, &p->key, p->flags, p->ack,
			    p->payload, p->payload_len, &e->lim,
			    cookie_clock(e), &mark)) {
	case ADOPT_NOT_DATA:
		return false;
	case ADOPT_BAD_ACK:
		STAT(e, adoptions_refused);
		return false;
	case ADOPT_NO_HEAD:
		STAT(e, adoptions_no_head);
		return false;
	case ADOPT_OK:
		break;
	}
	/* Closed here (both FINs, an RST): it stays closed. */
	if (was_closed_mark(e, hash, p->ack)) {
		STAT(e, adoptions_closed);
		return false;
	}
	if (!rate_ok(&e->adopt_rl, e->now_ms)) {
		STAT(e, adoptions_limited);
		return true;
	}
	f = flow_open(e, p, hash, XR_PEER_MSS(p->key.family));
	if (!f)
		return false;
	/* Its ISN is known to the mark: what was_closed_mark() needs. */
	f->iss = mark;
	STAT(e, adoptions);
	flow_input(e, f, p, target);
	return true;
}

static void unknown_flow(struct tcp_engine *e, const struct pkt *p,
			 uint32_t hash, uint32_t target)
{
	uint8_t fl = p->flags;
	const struct closed_flow *closed;
	struct flow *f;
	uint16_t mss;

	if (fl & TCP_RST)
		return;
	/* Shutting down: no new handshakes (a clean refusal: the client
	 * tries another node); one already answered completes. */
	if (e->draining && (fl & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		refuse_syn(e, p);
		return;
	}
	if ((fl & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		reply_synack(e, p);
		return;
	}
	if ((fl & (TCP_SYN | TCP_ACK)) != TCP_ACK) {
		reply_rst(e, p);
		return;
	}
	mss = cookie_check(&e->cookie_key, &p->key, p->seq - 1, p->ack - 1,
			   cookie_clock(e));
	if (!mss) {
		STAT(e, cookies_bad);
		if (fl & TCP_FIN)
			reply_fin(e, p, closed_acked(e, hash, p->ack));
		else if (p->payload_len && !adopt(e, p, hash, target))
			reply_rst(e, p);
		/*
		 * A bare ACK is not refused: it may come from a connection
		 * whose handshake ACK and first data were lost (its sequence
		 * number has moved past the one the cookie is checked with).
		 * Its next data segment, resent from ISN + 1, validates.
		 */
		return;
	}
	closed = was_closed(e, hash, p->seq, p->ack);
	if (closed) {
		/*
		 * A segment of a flow closed here, answered as when the
		 * cookie fails, whatever the chance that let it pass: a FIN
		 * as reply_fin() says, data with the RST adopt() would give
		 * it, as the peer may still be sending (our RST lost, or the
		 * linger over before its FIN: RFC 1122 4.2.2.13); a bare
		 * ACK, not.
		 */
		STAT(e, stale_handshakes);
		if (fl & TCP_FIN)
			reply_fin(e, p, closed);
		else if (p->payload_len)
			reply_rst(e, p);
		return;
	}
	STAT(e, cookies_ok);
	f = flow_open(e, p, hash, mss);
	if (!f) {
		reply_rst(e, p);
		return;
	}
	if (!p->payload_len && !(fl & TCP_FIN))
		f->flags |= FLOW_UNCONFIRMED;
	flow_input(e, f, p, target);
}

void tcp_input(struct tcp_engine *e, const uint8_t *frame, uint32_t len,
	       uint32_t target, uint64_t now_ms)
{
	struct flow *f;
	struct pkt p;
	uint32_t hash;
	int ret;

	e->now_ms = now_ms;
	STAT(e, rx_frames);
	ret = pkt_parse(&p, frame, len, e->cfg.port, e->cfg.tls_port);
	if (ret) {
		if (ret == PKT_NOT_OURS)
			STAT(e, rx_not_ours);
		else if (ret == PKT_BAD_CSUM)
			STAT(e, rx_bad_csum);
		else
			STAT(e, rx_malformed);
		return;
	}
	hash = flow_hash(&e->ft, &p.key);
	f = flow_lookup(&e->ft, &p.key, hash);
	if (f)
		flow_input(e, f, &p, target);
	else
		unknown_flow(e, &p, hash, target);
}

/* Timers */

/* Returns false if the flow was freed. */
static bool retransmit(struct tcp_engine *e, struct flow *f)
{
	if (++f->retries > e->cfg.max_retries) {
		STAT(e, giveups);
		flow_reset(e, f);
		return false;
	}
	STAT(e, retransmits);
	f->rto_ms = f->rto_ms * 2 < e->cfg.rto_max_ms ? f->rto_ms * 2 :
							e->cfg.rto_max_ms;
	f->rtx_at = 0;
	f->flags &= (uint8_t)~FLOW_RECOVERY;
	resend(e, f, true);
	arm_rtx(e, f);
	return true;
}

/* Idle or header timeout: close. After our FIN, the linger time is up. */
static bool expire(struct tcp_engine *e, struct flow *f)
{
	/*
	 * Not idle while our data or our FIN is unacknowledged:
	 * retransmission decides, and gives up with an RST after
	 * max_retries or at the send timeout. The linger waits for the
	 * peer's FIN once ours is acknowledged; ended sooner, a lost FIN
	 * could never reach a peer that waits for the answer to a request
	 * it sent meanwhile (read, dropped and acknowledged).
	 */
	if (f->snd_una != f->snd_nxt) {
		f->expire_at = e->now_ms + e->cfg.idle_timeout_ms;
		return true;
	}
	STAT(e, timeouts);
	if (f->flags & FLOW_FIN_SENT) {
		flow_free(e, f);
		return false;
	}
	f->flags |= FLOW_CLOSE;
	f->flags &= (uint8_t)~FLOW_HEAD_TIMER;
	f->http.closing = 1;
	tls_goodbye(e, f);
	f->expire_at = e->now_ms + e->cfg.linger_ms;
	output(e, f, false);
	return true;
}

static void flow_timers(struct tcp_engine *e, struct flow *f)
{
	uint64_t now = e->now_ms;

	if (f->ack_at && f->ack_at <= now) {
		f->ack_at = 0;
		if (f->rcv_acked != f->rcv_nxt)
			send_ack(e, f);
	}
	if (f->stall_at && f->stall_at <= now) {
		STAT(e, send_timeouts);
		flow_reset(e, f);
		return;
	}
	if (f->rtx_at && f->rtx_at <= now && !retransmit(e, f))
		return;
	if (f->expire_at <= now && !expire(e, f))
		return;
	if (deferred(e, f) && !ring_used(f)) {
		STAT(e, backlog_retries);
		if (!backlog_drain(e, f) && f->backlog_tries < UINT8_MAX)
			f->backlog_tries++;
		output(e, f, window_opened(e, f));
	}
	schedule(e, f);
}

void tcp_timers(struct tcp_engine *e, uint64_t now_ms)
{
	uint32_t ids[64], n, i;

	e->now_ms = now_ms;
	do {
		n = tw_expire(&e->tw, now_ms, ids, 64);
		for (i = 0; i < n; i++) {
			struct flow *f = flow_at(&e->ft, ids[i]);

			/* Freed by an earlier one of the batch (reclaimed). */
			if (f->key.family)
				flow_timers(e, f);
		}
	} while (n == 64);
}

void tcp_drain(struct tcp_engine *e, uint64_t now_ms)
{
	uint32_t i;

	e->now_ms = now_ms;
	e->draining = true;
	e->env.close_all = true;
	for (i = 1; i < e->ft.fresh; i++) {
		struct flow *f = flow_at(&e->ft, i);

		/*
		 * A flow is in use if it has a key; idle if it was answered
		 * and waits with nothing in flight or half-received. One not
		 * yet answered may have its first request on the wire: it
		 * gets that answered (with Connection: close) instead.
		 */
		if (!f->key.family ||
		    (f->flags & (FLOW_CLOSE | FLOW_SERVED)) != FLOW_SERVED ||
		    f->http.head_len || deferred(e, f) ||
		    (f->tls && tls_waiting(session_of(e, f))) ||
		    f->snd_una != f->snd_end)
			continue;
		f->flags |= FLOW_CLOSE;
		f->http.closing = 1;
		tls_goodbye(e, f);
		f->expire_at = now_ms + e->cfg.linger_ms;
		output(e, f, false);
		schedule(e, f);
	}
}
