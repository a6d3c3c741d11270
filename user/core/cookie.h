/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * SYN cookies: the initial sequence number of a SYN-ACK encodes everything
 * needed to accept the handshake's final ACK, so no state exists for a SYN.
 *
 *   bits 31..13  the fleet mark: 19 bits of SipHash-2-4(secret; 4-tuple,
 *                epoch), epoch = time counter >> COOKIE_EPOCH_SHIFT
 *   bits 12..8   5 bits of SipHash-2-4(secret; 4-tuple, client ISN, time
 *                counter, MSS index)
 *   bits  7..3   time counter (64 s periods), low 5 bits
 *   bits  2..0   index into the MSS table
 *
 * A cookie is accepted for up to COOKIE_MAX_AGE periods after it was made,
 * when both hashes match: 24 bits a blind forger must guess, as before the
 * fleet mark. The mark depends on neither the client ISN nor the MSS, so
 * any node holding the secret can recognise, from its acknowledgment
 * number alone, a later segment of a connection the fleet opened
 * (adopt.h). The client ISN, the counter and the MSS index are bound by
 * the 5 bits only: a peer that saw a cookie for its own 4-tuple could
 * alter them with 1/32 odds, which gains it nothing it could not ask for
 * in a SYN.
 */
#ifndef XREDIR_COOKIE_H
#define XREDIR_COOKIE_H

#include <stdint.h>

#include "flow.h"
#include "siphash.h"
#include "syncookie.h" /* the constants and the arithmetic */

/* MSS values a cookie can carry (COOKIE_MSS_TABLE). */
extern const uint16_t cookie_mss_table[8];

/* The time counter of now_s (it wraps at 2^32 periods). */
static inline uint32_t cookie_counter(uint64_t now_s)
{
	return (uint32_t)(now_s >> COOKIE_PERIOD_SHIFT);
}

/* The fleet mark of key in the epoch of counter, in bits 31..13. */
uint32_t cookie_mark(const struct siphash_key *k, const struct flow_key *key,
		     uint32_t counter);

uint32_t cookie_make(const struct siphash_key *k, const struct flow_key *key,
		     uint32_t client_isn, uint16_t mss, uint64_t now_s,
		     uint16_t *mss_out);
/* Returns the MSS the cookie encodes, or 0 if it is not valid now. */
uint16_t cookie_check(const struct siphash_key *k, const struct flow_key *key,
		      uint32_t client_isn, uint32_t cookie, uint64_t now_s);

#endif /* XREDIR_COOKIE_H */
