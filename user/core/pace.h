/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * When a worker that found its rings empty naps for a moment and looks
 * again, rather than sleeping until the kernel wakes it for the next
 * packet. A nap costs a timer and two context switches whether or not a
 * frame arrives meanwhile; a wake-up costs about as much (on a veth, on
 * the sender's core) for each pass it starts. Napping pays only while a
 * nap can expect a frame: the worker naps while frames arrived at least
 * one per nap length over the last window, and for at most PACE_NAPS naps
 * without a frame. The rate is the senders', the same whether the worker
 * naps or is woken, so the choice does not feed back on itself. Pure: the
 * caller gives the clock and the counts.
 */
#ifndef XREDIR_PACE_H
#define XREDIR_PACE_H

#include <stdbool.h>
#include <stdint.h>

#define PACE_WINDOW_NS 1000000ull /* the rate is judged every millisecond */
#define PACE_NAPS 5 /* naps in a row without a frame before sleeping */

struct pace {
	uint64_t nap_ns; /* length of a nap; 0: never nap */
	uint64_t window_at; /* when the current window began */
	uint64_t frames; /* frames found since window_at */
	uint64_t last_frame_at; /* the last pass that found a frame */
	bool dense; /* the last window had a frame per nap_ns or more */
};

/* A pace for naps of nap_ns (0: always sleep), starting sparse at now. */
void pace_init(struct pace *p, uint64_t nap_ns, uint64_t now);

/* A pass over the rings at now found n frames. */
void pace_pass(struct pace *p, uint64_t now, uint32_t n);

/* After a pass that found nothing, at now: nap (true) or sleep (false). */
bool pace_nap(const struct pace *p, uint64_t now);

#endif /* XREDIR_PACE_H */
