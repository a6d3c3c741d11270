/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Adoption: taking over a connection another node of the fleet opened,
 * from one of its segments, when ECMP moves it here (a node added,
 * removed or restarted). Pure code: the caller passes the time.
 *
 * Every server ISN carries the fleet mark (cookie.h): bits 31..13 are 19
 * bits of SipHash(secret; 4-tuple, epoch of 256 s), which any node holding
 * the secret computes. A connection opened in epoch e has ISN = M(e) | low,
 * low < 2^13, and once the fleet has sent it n bytes its client
 * acknowledges ack = ISN + 1 + n, so
 *
 *     (ack - 1 - M(e)) mod 2^32 = low + n < 2^19  whenever  n < ADOPT_MAX_SENT
 *
 * The check accepts that for the current epoch and the previous one: a
 * connection is adoptable until 256 to 512 s after it opened (depending on
 * where in its epoch it began) and while the fleet has sent it fewer than
 * 2^19 - 2^13 = 516,096 bytes.
 *
 * Bound: an ack the sender does not know the mark for is, to it, a guess
 * among 2^32 values, of which each of the two epochs accepts 2^19: the
 * chance that a blind segment passes is at most 2 * 2^19 / 2^32 = 2^-12.
 * The engine also requires a complete request head at the start of the
 * payload, rate-limits adoptions, and counts each against the flow limits
 * of a new connection.
 */
#ifndef XREDIR_ADOPT_H
#define XREDIR_ADOPT_H

#include <stdbool.h>
#include <stdint.h>

#include "cookie.h"
#include "flow.h"
#include "http_parse.h"
#include "siphash.h"

#define ADOPT_WINDOW (1u << COOKIE_MARK_BITS) /* ack - 1 - mark below this */
#define ADOPT_MAX_SENT (ADOPT_WINDOW - (1u << COOKIE_MARK_SHIFT))
#define ADOPT_EPOCHS 2 /* the current and the previous one */

/* What adopt_judge() says of a segment of an unknown flow. */
enum adopt_verdict {
	ADOPT_NOT_DATA, /* not a data segment: ACK without SYN, RST or FIN */
	ADOPT_BAD_ACK, /* its ack acknowledges nothing the fleet sent */
	ADOPT_NO_HEAD, /* its payload does not begin with a complete head */
	ADOPT_OK,
};

/* Whether ack acknowledges data of a connection whose ISN bears mark. */
static inline bool adopt_mark_fits(uint32_t mark, uint32_t ack)
{
	return ack - 1 - mark < ADOPT_WINDOW;
}

/*
 * Whether ack acknowledges data of a connection the fleet opened on key
 * in the current or the previous epoch at now_s; if so, its mark goes to
 * *mark (bits 31..13 of the ISN, the rest zero).
 */
bool adopt_ack_ok(const struct siphash_key *k, const struct flow_key *key,
		  uint32_t ack, uint64_t now_s, uint32_t *mark);

/* Whether payload begins with a complete, valid request head. */
bool adopt_head_ok(const uint8_t *payload, uint32_t len,
		   const struct http_limits *lim);

/*
 * Judges a segment of key for which no flow exists (TCP flags, its ack,
 * its payload): ADOPT_OK if it may open the flow at its sequence numbers.
 * The payload must hold a complete, valid request head from its first
 * byte: a segment from the middle of a head or body cannot be told from
 * a head's start, so it is not guessed at.
 */
enum adopt_verdict adopt_judge(const struct siphash_key *k,
			       const struct flow_key *key, uint8_t flags,
			       uint32_t ack, const uint8_t *payload,
			       uint32_t len, const struct http_limits *lim,
			       uint64_t now_s, uint32_t *mark);

#endif /* XREDIR_ADOPT_H */
