// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <linux/if_xdp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "xsk.h"

static uint64_t frame_base(const struct xsk_port *p, uint64_t addr)
{
	return addr - addr % p->frame_size;
}

void xsk_frame_free(struct xsk_port *p, uint64_t addr)
{
	p->free_stack[p->nfree++] = frame_base(p, addr);
}

#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9 /* linux/if_xdp.h from 6.17 */
#endif

/*
 * Copy mode sends at most 32 frames per kick unless told otherwise (6.17
 * and later): let one kick drain a whole TX ring. Older kernels refuse the
 * option; kick() loops instead.
 */
static void raise_tx_budget(struct xsk_port *p)
{
	uint32_t budget = p->ring_size;

	setsockopt(xsk_socket__fd(p->xsk), SOL_XDP, XDP_MAX_TX_SKB_BUDGET,
		   &budget, sizeof(budget));
}

/*
 * With --busy-poll, the socket's own syscalls (poll, sendto) run the
 * NIC's NAPI instead of waiting for its interrupt (SO_PREFER_BUSY_POLL).
 * Best effort: a device without NAPI (veth) or an older kernel ignores
 * or refuses them, and the worker's spinning on the rings still applies.
 */
static void set_busy_poll(struct xsk_port *p, const struct xsk_port_cfg *cfg)
{
	int fd = xsk_socket__fd(p->xsk), on = 1, us = (int)cfg->busy_poll_us;
	int budget = XSK_TX_BATCH;

	if (!us)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &on, sizeof(on)) ||
	    setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof(us)) ||
	    setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget,
		       sizeof(budget)))
		log_warn("xsk_busy_poll_refused", LOG_UINT("queue", cfg->queue),
			 LOG_STR("err", strerror(errno)),
			 LOG_STR("spinning", "only_rings"));
}

static int bind_socket(struct xsk_port *p, const struct xsk_port_cfg *cfg,
		       uint16_t mode_flag)
{
	struct xsk_socket_config sc = {
		.rx_size = cfg->ring_size,
		.tx_size = cfg->ring_size,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_USE_NEED_WAKEUP | mode_flag,
	};

	return xsk_socket__create(&p->xsk, cfg->ifname, cfg->queue, p->umem,
				  &p->rx, &p->tx, &sc);
}

static int open_socket(struct xsk_port *p, const struct xsk_port_cfg *cfg)
{
	int err;

	if (cfg->bind != XSK_BIND_COPY) {
		err = bind_socket(p, cfg, XDP_ZEROCOPY);
		if (!err) {
			p->zerocopy = true;
			return 0;
		}
		if (cfg->bind == XSK_BIND_ZEROCOPY)
			return err;
		log_info("xsk_zerocopy_unavailable",
			 LOG_STR("iface", cfg->ifname),
			 LOG_UINT("queue", cfg->queue),
			 LOG_STR("err", strerror(-err)),
			 LOG_STR("fallback", "copy"));
	}
	err = bind_socket(p, cfg, XDP_COPY);
	if (!err)
		raise_tx_budget(p);
	return err;
}

/* Every frame starts free; the first refill() fills the fill ring. */
static void free_all_frames(struct xsk_port *p)
{
	uint32_t i;

	for (i = p->frames; i > 0; i--)
		p->free_stack[p->nfree++] = (uint64_t)(i - 1) * p->frame_size;
}

int xsk_port_open(struct xsk_port *p, const struct xsk_port_cfg *cfg)
{
	struct xsk_umem_config uc = {
		.fill_size = cfg->ring_size,
		.comp_size = cfg->ring_size,
		.frame_size = cfg->frame_size,
		.frame_headroom = 0,
	};
	size_t bytes = (size_t)cfg->frames * cfg->frame_size;
	int err;

	memset(p, 0, sizeof(*p));
	p->frames = cfg->frames;
	p->frame_size = cfg->frame_size;
	p->ring_size = cfg->ring_size;
	p->free_stack = calloc(cfg->frames, sizeof(*p->free_stack));
	p->area = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (!p->free_stack || p->area == MAP_FAILED) {
		p->area = NULL;
		xsk_port_close(p);
		return -ENOMEM;
	}
	err = xsk_umem__create(&p->umem, p->area, bytes, &p->fill, &p->comp,
			       &uc);
	if (err) {
		xsk_port_close(p);
		return err;
	}
	err = open_socket(p, cfg);
	if (!err) {
		set_busy_poll(p, cfg);
		err = xsk_socket__update_xskmap(p->xsk, cfg->xsks_map_fd);
	}
	if (err) {
		xsk_port_close(p);
		return err;
	}
	free_all_frames(p);
	xsk_flush(p);
	return 0;
}

void xsk_port_close(struct xsk_port *p)
{
	if (p->xsk)
		xsk_socket__delete(p->xsk);
	if (p->umem)
		xsk_umem__delete(p->umem);
	if (p->area)
		munmap(p->area, (size_t)p->frames * p->frame_size);
	free(p->free_stack);
	memset(p, 0, sizeof(*p));
}

int xsk_port_fd(const struct xsk_port *p)
{
	return xsk_socket__fd(p->xsk);
}

uint32_t xsk_rx(struct xsk_port *p, struct xsk_rx_frame *out, uint32_t max)
{
	uint32_t idx, n, i;

	n = xsk_ring_cons__peek(&p->rx, max, &idx);
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d =
			xsk_ring_cons__rx_desc(&p->rx, idx + i);

		out[i].addr = d->addr;
		out[i].len = d->len;
		out[i].data = xsk_umem__get_data(p->area, d->addr);
	}
	if (n)
		xsk_ring_cons__release(&p->rx, n);
	p->stats.rx += n;
	return n;
}

uint8_t *xsk_tx_alloc(struct xsk_port *p)
{
	/* Keep some frames back so RX can always be refilled. */
	if (p->nfree <= XSK_TX_BATCH)
		return NULL;
	return p->area + p->free_stack[--p->nfree];
}

static void complete(struct xsk_port *p)
{
	uint32_t idx, n, i;

	n = xsk_ring_cons__peek(&p->comp, p->frames, &idx);
	for (i = 0; i < n; i++)
		xsk_frame_free(p, *xsk_ring_cons__comp_addr(&p->comp, idx + i));
	if (n)
		xsk_ring_cons__release(&p->comp, n);
}

/*
 * Copy mode says EAGAIN while frames are left in the TX ring (its per-kick
 * budget ran out, or the completion ring is full): reap completions and
 * kick again, so that nothing waits in the ring while the worker sleeps.
 * Bounded by the ring's size.
 */
static void kick(struct xsk_port *p)
{
	uint32_t rounds = p->ring_size / 32 + 1;
	int fd = xsk_socket__fd(p->xsk);

	do {
		p->stats.kicks++;
		if (sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
			return;
		if (errno != EAGAIN && errno != EBUSY)
			return;
		complete(p);
	} while (rounds--);
}

static void submit(struct xsk_port *p)
{
	uint32_t idx, n, i;

	if (!p->npend)
		return;
	n = xsk_ring_prod__reserve(&p->tx, p->npend, &idx);
	for (i = 0; i < n; i++) {
		struct xdp_desc *d = xsk_ring_prod__tx_desc(&p->tx, idx + i);

		d->addr = p->pend_addr[i];
		d->len = p->pend_len[i];
		d->options = 0;
	}
	if (n)
		xsk_ring_prod__submit(&p->tx, n);
	/* No room in the TX ring: the frames go back; TCP resends data. */
	for (i = n; i < p->npend; i++)
		xsk_frame_free(p, p->pend_addr[i]);
	p->stats.tx += n;
	p->stats.tx_ring_full += p->npend - n;
	p->npend = 0;
	if (n && xsk_ring_prod__needs_wakeup(&p->tx))
		kick(p);
}

void xsk_tx_send(struct xsk_port *p, uint8_t *frame, uint32_t len)
{
	if (p->npend == XSK_TX_BATCH)
		submit(p);
	p->pend_addr[p->npend] = (uint64_t)(frame - p->area);
	p->pend_len[p->npend++] = len;
}

static void refill(struct xsk_port *p)
{
	uint32_t want = xsk_prod_nb_free(&p->fill, p->frames), idx, i;

	if (!want)
		return; /* the fill ring is full */
	/* Leave the TX reserve alone. */
	if (want + XSK_TX_BATCH * 2 > p->nfree) {
		p->stats.fill_short++;
		want = p->nfree > XSK_TX_BATCH * 2 ?
			       p->nfree - XSK_TX_BATCH * 2 :
			       0;
		if (!want)
			return;
	}
	want = xsk_ring_prod__reserve(&p->fill, want, &idx);
	for (i = 0; i < want; i++)
		*xsk_ring_prod__fill_addr(&p->fill, idx + i) =
			p->free_stack[--p->nfree];
	xsk_ring_prod__submit(&p->fill, want);
}

void xsk_flush(struct xsk_port *p)
{
	submit(p);
	complete(p);
	refill(p);
}

void xsk_read_kernel_stats(struct xsk_port *p)
{
	struct xdp_statistics st;
	socklen_t len = sizeof(st);

	if (getsockopt(xsk_socket__fd(p->xsk), SOL_XDP, XDP_STATISTICS, &st,
		       &len) ||
	    len < sizeof(st))
		return;
	p->stats.rx_dropped = st.rx_dropped;
	p->stats.rx_ring_full = st.rx_ring_full;
	p->stats.fill_empty = st.rx_fill_ring_empty_descs;
	p->stats.tx_invalid = st.tx_invalid_descs;
}
