// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ack_ring.h"
#include "xredir_shared.h"

static int take(void *ctx, void *data, size_t size)
{
	const struct xr_ack_rec *rec = data;
	struct ack_ring *r = ctx;

	if (size >= sizeof(*rec) && rec->len && rec->len <= XR_ACK_FRAME_MAX)
		r->fn(r->ctx, rec->frame, rec->len,
		      rec->at_ns + r->monotonic_offset_ns);
	/* Negative: libbpf stops after this record (consumed). */
	return ++r->taken < ACK_RING_BUDGET ? 0 : -1;
}

uint64_t timens_monotonic_offset_ns(FILE *offsets)
{
	char clock[32];
	long long s, ns;
	uint64_t off = 0;

	while (fscanf(offsets, "%31s %lld %lld", clock, &s, &ns) == 3)
		if (!strcmp(clock, "monotonic"))
			off = (uint64_t)(s * 1000000000LL + ns);
	return off;
}

/* Ours: 0 without a time namespace (or a kernel without them). */
static uint64_t monotonic_offset_ns(void)
{
	FILE *f = fopen("/proc/self/timens_offsets", "r");
	uint64_t off;

	if (!f)
		return 0;
	off = timens_monotonic_offset_ns(f);
	fclose(f);
	return off;
}

int ack_ring_open(struct ack_ring *r, int outer_fd, uint32_t queue,
		  ack_ring_fn fn, void *ctx)
{
	int err;

	memset(r, 0, sizeof(*r));
	r->fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "xr_ack_ring", 0, 0,
			       XR_ACK_RING_BYTES, NULL);
	if (r->fd < 0)
		return -errno;
	r->fn = fn;
	r->ctx = ctx;
	r->monotonic_offset_ns = monotonic_offset_ns();
	r->outer_fd = outer_fd;
	r->queue = queue;
	r->rb = ring_buffer__new(r->fd, take, r, NULL);
	if (!r->rb) {
		err = -errno;
		close(r->fd);
		return err;
	}
	if (bpf_map_update_elem(outer_fd, &queue, &r->fd, BPF_ANY)) {
		err = -errno;
		ring_buffer__free(r->rb);
		close(r->fd);
		r->rb = NULL;
		return err;
	}
	return 0;
}

uint32_t ack_ring_drain(struct ack_ring *r)
{
	if (!r->rb)
		return 0;
	r->taken = 0;
	ring_buffer__consume(r->rb);
	return r->taken;
}

void ack_ring_close(struct ack_ring *r)
{
	if (!r->rb)
		return;
	bpf_map_delete_elem(r->outer_fd, &r->queue);
	ring_buffer__free(r->rb);
	close(r->fd);
	r->rb = NULL;
}
