/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The flow table: fixed-size entries in one preallocated array, hashed by
 * 4-tuple with chaining through entry indices. Bounded by max_flows; no
 * allocation after init. Index 0 is never used, so 0 means "none".
 */
#ifndef XREDIR_FLOW_H
#define XREDIR_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "http.h"

#define FLOW_NONE 0u

/* Connection state, as flags: closing is the only part with states. */
#define FLOW_FIN_RCVD 0x01 /* the peer's FIN is in rcv_nxt */
#define FLOW_CLOSE 0x02 /* send our FIN after the queued data */
#define FLOW_FIN_SENT 0x04 /* our FIN is in snd_nxt */
#define FLOW_FIN_ACKED 0x08
#define FLOW_UNCONFIRMED 0x10 /* opened by a bare ACK, nothing delivered */
#define FLOW_HEAD_TIMER 0x20 /* expire_at is the header timeout */
#define FLOW_RECOVERY 0x40 /* resending lost data until snd_una >= recover */
#define FLOW_SERVED 0x80 /* at least one response was queued */

/* A connection's 4-tuple as seen from the client: s* is the peer. */
struct flow_key {
	uint8_t saddr[16]; /* IPv4 uses the first 4 bytes, the rest zero */
	uint8_t daddr[16];
	uint16_t sport; /* network byte order */
	uint16_t dport;
	uint8_t family; /* 4 or 6 */
	uint8_t pad[3];
};

/*
 * One TCP connection. Sequence numbers are ours (snd_*) and the peer's
 * (rcv_nxt). Send data lives in a ring buffer from the engine's pool,
 * indexed by sequence number; a partial request head in a head buffer;
 * input that arrived while responses could not be queued in a backlog.
 */
struct flow {
	struct flow_key key;
	uint8_t peer_mac[6];
	uint8_t our_mac[6];
	uint16_t vlan_tpid; /* the peer's tag (as pkt), 0: untagged */
	uint16_t vlan_tci; /* host order */
	uint8_t flags; /* FLOW_* */
	uint8_t retries;
	uint16_t mss; /* peer's MSS, clamped to ours */
	uint16_t snd_wnd; /* peer's receive window (unscaled) */

	uint32_t snd_una; /* oldest unacknowledged sequence */
	uint32_t snd_nxt; /* next sequence to send */
	uint32_t snd_end; /* end of queued data (a FIN takes one more) */
	uint32_t rcv_nxt; /* next sequence expected from the peer */
	uint32_t rcv_acked; /* rcv_nxt as last acknowledged */

	uint32_t sndbuf; /* bufpool index of the send ring, 0: none */
	uint32_t rcvbuf; /* bufpool index of a partial head, 0: none */
	uint32_t snd_base; /* sequence number at ring offset 0 */
	uint32_t target; /* rule-chosen target of the latest request */
	uint32_t backlog; /* bufpool index of unprocessed input, 0: none */
	uint32_t backlog_start; /* offset of its first unprocessed byte */
	uint32_t backlog_len; /* unprocessed bytes */
	uint32_t recover; /* snd_nxt when loss recovery began */
	uint32_t iss; /* our ISN: the SYN cookie; adopted: its fleet mark */
	uint16_t rcv_wnd; /* receive window last advertised */
	uint16_t max_snd_wnd; /* largest window the peer advertised */
	uint8_t dupacks; /* duplicate ACKs in a row */
	uint8_t backlog_tries; /* retries of a stuck backlog, for backoff */
	uint16_t fin_gap; /* a FIN seen this far ahead of rcv_nxt, 0: none */
	uint32_t src; /* srctable entry of the peer's source */
	uint32_t src_older, src_newer; /* its flows, by age */
	uint32_t stall_base; /* snd_una when send progress was last seen */
	uint64_t stall_at; /* give up unless progress by then (ms), 0: none */

	uint32_t hnext; /* hash chain */
	uint32_t rto_ms; /* current retransmission timeout */
	uint64_t rtx_at; /* retransmission deadline (ms), 0: none */
	uint64_t expire_at; /* idle/header/linger deadline (ms) */
	uint64_t ack_at; /* delayed ACK deadline (ms), 0: none */
	uint64_t rtt_sent_at; /* when rtt_seq was sent (ms), 0: none */
	uint32_t rtt_seq; /* sequence whose ACK gives an RTT sample */
	uint32_t srtt_ms8; /* smoothed RTT, ms * 8 (RFC 6298) */
	uint32_t rttvar_ms4; /* RTT variance, ms * 4 */
	uint16_t challenge_sec; /* low bits of the second counted in: */
	uint16_t challenges; /* RFC 5961 challenge ACKs sent that second */
	uint64_t head_at_ns; /* the engine's clock_ns when the head began */
	uint32_t tls; /* tlspool index of the TLS session, 0: none */
	uint32_t tls_hs; /* handshake pool index while it runs, 0: none */
	struct http_conn http;
};

struct flow_table {
	struct flow *flows; /* max + 1 entries, [0] unused */
	uint32_t *buckets; /* heads of hash chains */
	uint32_t mask; /* buckets - 1 */
	uint32_t free_head; /* free list through hnext */
	uint32_t fresh; /* lowest index never handed out */
	uint32_t count;
	uint32_t max;
	uint64_t seed;
};

int flow_table_init(struct flow_table *ft, uint32_t max, uint64_t seed);
void flow_table_free(struct flow_table *ft);
uint32_t flow_hash(const struct flow_table *ft, const struct flow_key *key);
struct flow *flow_lookup(struct flow_table *ft, const struct flow_key *key,
			 uint32_t hash);
/* Returns a zeroed entry holding key, or NULL when the table is full. */
struct flow *flow_insert(struct flow_table *ft, const struct flow_key *key,
			 uint32_t hash);
void flow_delete(struct flow_table *ft, struct flow *f);

static inline uint32_t flow_index(const struct flow_table *ft,
				  const struct flow *f)
{
	return (uint32_t)(f - ft->flows);
}

static inline struct flow *flow_at(struct flow_table *ft, uint32_t idx)
{
	return &ft->flows[idx];
}

#endif /* XREDIR_FLOW_H */
