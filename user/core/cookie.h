/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * SYN cookies: the initial sequence number of a SYN-ACK encodes everything
 * needed to accept the handshake's final ACK, so no state exists for a SYN.
 *
 *   bits 31..8  SipHash-2-4(secret; 4-tuple, client ISN, time counter, MSS
 *               index), truncated to 24 bits
 *   bits  7..3  time counter (64 s periods), low 5 bits
 *   bits  2..0  index into the MSS table
 *
 * A cookie is accepted for up to COOKIE_MAX_AGE periods after it was made.
 */
#ifndef XREDIR_COOKIE_H
#define XREDIR_COOKIE_H

#include <stdint.h>

#include "flow.h"
#include "siphash.h"

#define COOKIE_PERIOD_SHIFT 6 /* 64 s */
#define COOKIE_MAX_AGE 2

/* MSS values a cookie can carry; a peer gets the largest <= its own. */
extern const uint16_t cookie_mss_table[8];

uint32_t cookie_make(const struct siphash_key *k, const struct flow_key *key,
		     uint32_t client_isn, uint16_t mss, uint64_t now_s,
		     uint16_t *mss_out);
/* Returns the MSS the cookie encodes, or 0 if it is not valid now. */
uint16_t cookie_check(const struct siphash_key *k, const struct flow_key *key,
		      uint32_t client_isn, uint32_t cookie, uint64_t now_s);

#endif /* XREDIR_COOKIE_H */
