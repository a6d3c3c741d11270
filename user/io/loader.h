/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Loading the XDP program: the skeleton with its maps pinned under
 * <bpffs>/xredir/<iface>/ (reused if already there, so rules survive a
 * restart), attached through libxdp's dispatcher so other XDP programs can
 * share the interface.
 */
#ifndef XREDIR_LOADER_H
#define XREDIR_LOADER_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <xdp/libxdp.h>

#include "xredir_shared.h"

enum xr_xdp_mode { XR_XDP_AUTO, XR_XDP_NATIVE, XR_XDP_SKB };

struct xr_loader_cfg {
	const char *ifname;
	const char *bpffs; /* bpffs mount point */
	enum xr_xdp_mode mode;
	uint16_t port;
	uint16_t tls_port; /* 0: none */
	uint64_t flows; /* flows all queues can hold: sizes xr_live */
};

struct xr_bpf {
	struct xredir_bpf *skel;
	struct xdp_program *prog;
	int ifindex;
	enum xdp_attach_mode attached_mode;
	bool dispatcher; /* attached through libxdp's dispatcher */
	char pin_dir[PATH_MAX];
	int xsks_fd;
	int acks_fd; /* the queues' ACK rings (xr_acks) */
	__u64 *closing; /* xr_closing, mapped (bpf/closing.h) */
	__u64 *live; /* xr_live, mapped (bpf/live.h) */
	__u32 live_slots;
	struct xr_synack_conf *synack; /* xr_synack, mapped (bpf/synack.h) */
};

/* Builds <bpffs>/xredir/<ifname>; returns -1 if it does not fit. */
int xr_pin_dir(char *out, size_t size, const char *bpffs, const char *ifname);

/* Routes libbpf and libxdp messages to our log, at debug level. */
void xr_quiet_libs(void);
int xr_bpf_load(struct xr_bpf *b, const struct xr_loader_cfg *cfg);
void xr_bpf_unload(struct xr_bpf *b);
const char *xr_xdp_mode_name(enum xdp_attach_mode mode);

#endif /* XREDIR_LOADER_H */
