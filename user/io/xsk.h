/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The AF_XDP shell of one receive queue: UMEM, the four rings, and frame
 * accounting. Every UMEM frame is in exactly one place: the free stack,
 * the fill ring (or the kernel's RX path), the caller's hands between
 * xsk_rx and xsk_frame_free, the pending TX batch, or the TX/completion
 * rings. Nothing here knows about TCP.
 */
#ifndef XREDIR_XSK_H
#define XREDIR_XSK_H

#include <stdbool.h>
#include <stdint.h>
#include <xdp/xsk.h>

#define XSK_TX_BATCH 64
/* --ring-size's bounds: each ring's descriptors, a power of two. */
#define XSK_RING_MIN 512
#define XSK_RING_MAX 16384

enum xsk_bind_mode { XSK_BIND_AUTO, XSK_BIND_ZEROCOPY, XSK_BIND_COPY };

struct xsk_port_cfg {
	const char *ifname;
	uint32_t queue;
	uint32_t frames; /* UMEM frames, a power of two */
	uint32_t frame_size; /* 2048 or 4096 */
	uint32_t ring_size; /* each of the four rings */
	enum xsk_bind_mode bind;
	int xsks_map_fd;
	uint32_t busy_poll_us; /* 0: off; else SO_BUSY_POLL for the NIC's NAPI */
};

struct xsk_port_stats {
	uint64_t rx;
	uint64_t tx;
	uint64_t tx_ring_full; /* frames dropped: TX ring had no room */
	uint64_t fill_short; /* refills that found too few free frames */
	uint64_t kicks;
	/* The kernel's own counters of the socket (XDP_STATISTICS): frames
	 * it dropped before the worker saw them, descriptors it refused. */
	uint64_t rx_dropped; /* no free frame in the fill ring, or too long */
	uint64_t rx_ring_full; /* the RX ring full: the worker behind */
	uint64_t fill_empty; /* times it found the fill ring empty */
	uint64_t tx_invalid; /* TX descriptors it refused */
};

struct xsk_port {
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	uint8_t *area;
	uint64_t *free_stack;
	uint32_t nfree;
	uint32_t frames;
	uint32_t frame_size;
	uint32_t ring_size;
	uint32_t npend;
	uint64_t pend_addr[XSK_TX_BATCH];
	uint32_t pend_len[XSK_TX_BATCH];
	bool zerocopy;
	struct xsk_port_stats stats;
};

struct xsk_rx_frame {
	uint8_t *data;
	uint32_t len;
	uint64_t addr;
};

int xsk_port_open(struct xsk_port *p, const struct xsk_port_cfg *cfg);
void xsk_port_close(struct xsk_port *p);
int xsk_port_fd(const struct xsk_port *p);

/* Takes up to max received frames; each must go back via xsk_frame_free. */
uint32_t xsk_rx(struct xsk_port *p, struct xsk_rx_frame *out, uint32_t max);
void xsk_frame_free(struct xsk_port *p, uint64_t addr);

/* A frame for transmission, NULL if none is free. */
uint8_t *xsk_tx_alloc(struct xsk_port *p);
/* Queues a frame from xsk_tx_alloc; flushed when the batch fills. */
void xsk_tx_send(struct xsk_port *p, uint8_t *frame, uint32_t len);
/* Submits queued frames, kicks the kernel if it asks, recycles
 * completions and refills the fill ring. */
void xsk_flush(struct xsk_port *p);
/* Reads the kernel's counters into p->stats (a syscall: for exports, not
 * for every pass); they stay as they were if it cannot. */
void xsk_read_kernel_stats(struct xsk_port *p);

#endif /* XREDIR_XSK_H */
