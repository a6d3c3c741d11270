/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The TCP-lite engine: a function of (frame, time, its own state) that
 * emits frames. SYNs are answered with SYN cookies and no state; a flow
 * exists from the validated final ACK until the connection is closed, or
 * from a request of a connection another node opened (adopt.h).
 * In-order request bytes go to the HTTP stream logic, responses leave from
 * a per-flow send ring, retransmitted on timeout.
 *
 * No sockets, threads or clocks inside: the caller passes frames and the
 * current time and supplies the TX frame buffers.
 */
#ifndef XREDIR_TCP_H
#define XREDIR_TCP_H

#include <stdint.h>

#include "bufpool.h"
#include "flow.h"
#include "http.h"
#include "latency.h"
#include "siphash.h"
#include "srctable.h"
#include "timer.h"
#include "tls.h"

#define TCP_TARGET_NONE 0xffffffffu /* no rule lookup came with a frame */

/* Frame buffers for output, owned by the caller (AF_XDP UMEM, tests). */
struct tcp_tx {
	/* A buffer of at least tcp_config.frame_size bytes, NULL if none. */
	uint8_t *(*alloc)(void *ctx);
	/* Takes ownership of a buffer from alloc, len bytes to send. */
	void (*send)(void *ctx, uint8_t *frame, uint32_t len);
	void *ctx;
	/* Optional (bpf/closing.h): our FIN went out on key's connection
	 * and the peer's is not in yet (sent), or a flow that sent its FIN
	 * is gone (!sent). */
	void (*closing)(void *ctx, const struct flow_key *key, bool sent);
	/* Optional (bpf/live.h): a flow on key's connection was opened
	 * (open) or freed (!open). */
	void (*live)(void *ctx, const struct flow_key *key, bool open);
};

/*
 * Chooses the redirect target of a request: target is the rule lookup the
 * XDP program made for the peer (TCP_TARGET_NONE if none came).
 */
typedef const struct http_target *(*tcp_target_fn)(
	void *ctx, uint32_t target, const struct flow_key *peer,
	const struct http_request *req);

struct tcp_config {
	uint16_t port;
	uint16_t tls_port; /* 0: none; needs tcp_set_tls() */
	uint32_t tls_flows; /* TLS sessions at once */
	uint32_t tls_handshakes; /* TLS handshakes in progress at once */
	uint16_t mtu;
	uint16_t window; /* receive window we advertise */
	uint8_t max_retries; /* retransmissions before RST and free */
	uint32_t frame_size; /* bytes of a TX frame buffer */
	uint32_t max_flows;
	uint32_t max_flows_per_source; /* per source (source.h), 0: none */
	uint32_t send_buffers; /* send rings in the pool */
	uint32_t send_buffer_size; /* bytes per ring, a power of two */
	uint32_t head_buffers; /* partial request heads in the pool */
	uint32_t idle_timeout_ms;
	uint32_t header_timeout_ms;
	uint32_t linger_ms; /* after our FIN, wait this long for the peer's */
	uint32_t send_timeout_ms; /* without send progress, give up; 0: never */
	uint32_t delack_ms;
	uint32_t rto_init_ms, rto_min_ms, rto_max_ms;
	uint32_t rst_rate; /* RSTs (and stateless ACKs) per second */
	uint32_t adopt_rate; /* adoptions per second, 0: unlimited */
	uint32_t challenge_per_sec; /* RFC 5961 challenge ACKs per flow */
};

void tcp_config_default(struct tcp_config *c);

#define TCP_STATS(X)                                                        \
	X(rx_frames, "frames received")                                     \
	X(rx_not_ours, "frames not TCP to the service port")                \
	X(rx_malformed, "frames with truncated or inconsistent headers")    \
	X(rx_bad_csum, "frames with a bad IP or TCP checksum")              \
	X(syn_rcvd, "SYNs received")                                        \
	X(cookies_sent, "SYN-ACKs sent with a SYN cookie")                  \
	X(cookies_ok, "final ACKs with a valid cookie")                     \
	X(cookies_bad, "ACKs of unknown flows with an invalid cookie")      \
	X(stale_handshakes,                                                 \
	  "segments of a flow closed here that passed the cookie check")    \
	X(adoptions, "flows another node opened, adopted from a request")   \
	X(adoptions_refused,                                                \
	  "data segments of unknown flows: ack not from the fleet (RST)")   \
	X(adoptions_no_head,                                                \
	  "not adopted: no complete request head at the payload's start")   \
	X(adoptions_closed, "not adopted: a flow closed here (RST)")        \
	X(adoptions_limited, "not adopted: rate limit (dropped)")           \
	X(flows_opened, "flows created")                                    \
	X(flows_closed, "flows freed")                                      \
	X(table_full, "connections refused: flow table full")               \
	X(requests, "requests answered")                                    \
	X(rst_sent, "RSTs sent")                                            \
	X(rst_limited, "RSTs not sent: rate limit")                         \
	X(rst_rcvd, "RSTs accepted")                                        \
	X(challenge_acks, "RFC 5961 challenge ACKs sent")                   \
	X(timewait_acks, "stateless ACKs of a FIN for a closed flow")       \
	X(out_of_order, "segments dropped: ahead of the expected sequence") \
	X(dup_segments, "segments that were entirely old data")             \
	X(retransmits, "retransmission timeouts")                           \
	X(fast_retransmits, "retransmissions on three duplicate ACKs")      \
	X(giveups, "flows reset after too many retransmissions")            \
	X(timeouts, "flows closed by idle, header or linger timeout")       \
	X(send_pool_empty, "input deferred: no free send ring")             \
	X(head_pool_empty, "input deferred: no free head buffer")           \
	X(tx_full, "frames not sent: no TX buffer")                         \
	X(drain_refused, "connections refused while shutting down")         \
	X(source_limited, "connections refused: per-source flow limit")     \
	X(pool_refused, "buffers refused: source over its share of a pool") \
	X(reclaimed, "flows reset to free buffers for lighter sources")     \
	X(send_timeouts, "flows reset: no send progress in send timeout")   \
	X(backlog_retries, "deferred input retried by timer")               \
	X(tls_handshakes, "TLS full handshakes completed")                  \
	X(tls_resumed, "TLS resumed handshakes completed")                  \
	X(tls_failed, "TLS connections closed by a fatal alert")            \
	X(tls_pool_empty, "input deferred: no TLS session or handshake slot")

#define TCP_STAT_ENUM(name, desc) TCP_STAT_##name,
enum tcp_stat { TCP_STATS(TCP_STAT_ENUM) TCP_STAT_MAX };
#undef TCP_STAT_ENUM

extern const char *const tcp_stat_names[TCP_STAT_MAX];
extern const char *const tcp_stat_help[TCP_STAT_MAX];

struct rate_limit {
	uint64_t last_ms;
	uint64_t credit; /* thousandths of a token */
	uint32_t rate;
};

/* What remains of a closed flow to know its late segments by; an unused
 * slot is all zero (snd_nxt == iss: nothing sent, which no flow is). */
struct closed_flow {
	uint32_t hash; /* of its 4-tuple */
	uint32_t iss, snd_nxt, rcv_nxt;
};

struct tcp_engine {
	struct tcp_config cfg;
	struct http_limits lim;
	struct http_env env;
	struct flow_table ft;
	struct twheel tw;
	struct bufpool sndpool;
	struct bufpool headpool;
	/* TLS sessions (a pointer each) and handshake slots (no data):
	 * pools so that the per-source shares hold for them too. */
	struct bufpool tlspool, hspool;
	struct tls_server *tls; /* certificates for new sessions, or NULL */
	int64_t unix_s;
	struct src_table src; /* flows and buffers held, per source */
	struct siphash_key cookie_key;
	struct rate_limit rst_rl, adopt_rl;
	/*
	 * Connections closed within the cookie lifetime, by 4-tuple hash:
	 * their cookie is still valid, so a late copy of their handshake ACK
	 * or of a later segment must not open the connection again.
	 * Direct-mapped, newest wins: bounded, and a lost entry only brings
	 * back the (rare) reopening it guards against.
	 */
	struct closed_flow *closed;
	uint32_t closed_mask;
	struct tcp_tx tx;
	tcp_target_fn target_fn;
	void *target_ctx;
	struct flow *cur; /* flow whose input is being fed to HTTP */
	/* The last feed was refused a buffer of this pool (SRC_POOLS: no). */
	enum src_pool refused;
	uint8_t *scratch; /* responses are built here, then queued */
	uint16_t mss4, mss6; /* ours, from the MTU and frame size */
	uint64_t now_ms;
	char date[HTTP_DATE_LEN];
	bool draining; /* shutting down: no new connections */
	/* The source refused most recently (a flow or a buffer), for the
	 * I/O shell to name in its log: the core does no I/O. */
	struct source_key limited;
	uint64_t limited_count;
	uint64_t stats[TCP_STAT_MAX];
	uint64_t responses[HTTP_STATUS_SLOTS]; /* by status */
	/* Request durations: the caller's clock (ns, set before input; the
	 * core reads none), then the requests that took time on it from a
	 * head's first byte in to its response queued, by bucket
	 * (latency.h), and their sum; the others (stats[requests] minus
	 * these) took none: tcp_latency() gives the whole histogram. */
	uint64_t clock_ns;
	uint64_t latency[LATENCY_BUCKETS];
	uint64_t latency_sum_ns;
};

int tcp_engine_init(struct tcp_engine *e, const struct tcp_config *cfg,
		    const struct http_limits *lim,
		    const struct siphash_key *secret, const struct tcp_tx *tx,
		    tcp_target_fn target_fn, void *target_ctx, uint64_t now_ms);
void tcp_engine_free(struct tcp_engine *e);
/* The request duration histogram, by bucket (not cumulative). */
void tcp_latency(const struct tcp_engine *e, uint64_t out[LATENCY_BUCKETS]);

/* The wall clock (seconds since the epoch): the Date header's, TLS
 * tickets', and the time SYN cookies and fleet marks count. */
void tcp_set_wallclock(struct tcp_engine *e, int64_t unix_s);
/* The certificates for new TLS sessions (a reference is taken; sessions
 * keep the one they began with). */
void tcp_set_tls(struct tcp_engine *e, struct tls_server *srv);

/* One received frame; target comes from the XDP metadata. */
void tcp_input(struct tcp_engine *e, const uint8_t *frame, uint32_t len,
	       uint32_t target, uint64_t now_ms);

/* Runs due timers (retransmission, delayed ACK, timeouts). */
void tcp_timers(struct tcp_engine *e, uint64_t now_ms);

/*
 * Starts a graceful shutdown: new connections are refused (RST), idle ones
 * closed now, and busy ones after their current response. The caller
 * keeps running the engine until no flow is left or its grace time ends.
 */
void tcp_drain(struct tcp_engine *e, uint64_t now_ms);

/* How long the caller may sleep before tcp_timers has work. */
uint64_t tcp_sleep_ms(const struct tcp_engine *e, uint64_t now_ms,
		      uint64_t cap_ms);

#endif /* XREDIR_TCP_H */
