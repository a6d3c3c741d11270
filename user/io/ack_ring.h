/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A queue's ACK ring: the BPF ring buffer in which the XDP program leaves
 * bare ACKs and FINs without waking the worker (bpf/xredir_shared.h,
 * XR_ACK_FRAME_MAX). The worker drains it at the start of every pass,
 * before the frames of its AF_XDP socket, so an ACK that arrived first is
 * taken first and one waiting there still stops a retransmission: timers
 * fire later in the same pass.
 */
#ifndef XREDIR_ACK_RING_H
#define XREDIR_ACK_RING_H

#include <stdint.h>
#include <stdio.h>

/* At most this many ACKs per pass: a flood of them must not keep the
 * worker from its socket, its timers and its stop flag. */
#define ACK_RING_BUDGET 256

/* at_ns: when the ACK came (this process's CLOCK_MONOTONIC), for its RTT
 * sample. */
typedef void (*ack_ring_fn)(void *ctx, const uint8_t *frame, uint32_t len,
			    uint64_t at_ns);

struct ack_ring {
	struct ring_buffer *rb; /* NULL: no ring (off, or not made) */
	int fd;
	int outer_fd; /* xr_acks, which holds it at key queue */
	uint32_t queue;
	ack_ring_fn fn;
	void *ctx;
	uint64_t monotonic_offset_ns; /* ours less the kernel's (time ns) */
	uint32_t taken; /* in the current drain */
};

/* Makes queue's ring and puts it in the XDP program's xr_acks (outer_fd):
 * from then on its bare ACKs go there. Returns 0 or -errno. */
int ack_ring_open(struct ack_ring *r, int outer_fd, uint32_t queue,
		  ack_ring_fn fn, void *ctx);
/* Hands the waiting ACKs to fn, at most ACK_RING_BUDGET; returns how
 * many (the budget: more may wait). */
uint32_t ack_ring_drain(struct ack_ring *r);
/*
 * How far a CLOCK_MONOTONIC is from the kernel's, which the XDP program
 * stamps records with, read from a /proc/PID/timens_offsets stream: the
 * offset of a time namespace (a container may have one), modulo 2^64 as it
 * may be negative; 0 without a monotonic line.
 */
uint64_t timens_monotonic_offset_ns(FILE *offsets);
/* Takes the ring out of xr_acks (its ACKs go to the socket again) and
 * frees it. */
void ack_ring_close(struct ack_ring *r);

#endif /* XREDIR_ACK_RING_H */
