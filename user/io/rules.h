/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The pinned maps through the bpf syscall: opening them, the writers'
 * lock, rules (two pairs of LPM tries, one active) and counters. The
 * targets, a mmapped array, are target_table.h's. Used by xredirctl and
 * the daemon alike. Writers hold the pin directory's lock (xr_lock).
 */
#ifndef XREDIR_RULES_H
#define XREDIR_RULES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "target_table.h"
#include "vip.h"

/* Opens the pinned maps in pin_dir; returns -errno (-ENOENT: no pins). */
int xr_maps_open(struct xr_maps *m, const char *pin_dir);
void xr_maps_close(struct xr_maps *m);
/* The control map's value as pinned in pin_dir, whatever its size (up to
 * cap bytes; *len the map's): what abi.h checks before the maps are
 * opened with this build's layout. Returns 0 or -errno. */
int xr_ctl_read(const char *pin_dir, void *buf, size_t cap, size_t *len);

/* Serialises writers: an exclusive flock on the pin directory, which
 * must pass xr_pin_dir_trusted (else anyone could hold it). Waits up to
 * timeout_ms; returns the fd to pass to xr_unlock, or -errno with why
 * filled. */
int xr_lock(const char *pin_dir, int timeout_ms, char *why, size_t len);
void xr_unlock(int fd);

/* Rules in the active set. */
/* origin: XR_RULE_ORIGIN(), shown by `rule list`. */
int xr_rule_add(struct xr_maps *m, const struct xr_cidr *c, uint32_t target,
		uint32_t origin);
int xr_rule_del(struct xr_maps *m, const struct xr_cidr *c);
/* The target an address gets from the active rule set (as XDP does). */
uint32_t xr_rule_lookup(const struct xr_maps *m, uint8_t family,
			const uint8_t *addr, bool *matched);
/* All rules of the active set; *out is malloc'd. Returns the count or
 * -errno. */
int xr_rules_dump(const struct xr_maps *m, struct xr_rule **out);
/*
 * Replaces the whole rule set atomically: fills the inactive pair of
 * tries, then flips active_set, so each lookup sees the old set or the new
 * one. Returns 0 or -errno (-E2BIG: more rules than a trie holds).
 */
int xr_rules_replace(struct xr_maps *m, const struct xr_rule *rules,
		     uint32_t n);

/*
 * Service addresses. add: -EEXIST if there; del: -ENOENT if not. dump
 * fills *out (sorted; free it with xr_vip_set_free). replace makes the
 * maps hold exactly set, adding before removing.
 */
int xr_vip_add(struct xr_maps *m, const struct xr_vip *v);
int xr_vip_del(struct xr_maps *m, const struct xr_vip *v);
/* Who added v: 0, or -ENOENT if it is no service address. */
int xr_vip_get(const struct xr_maps *m, const struct xr_vip *v,
	       uint32_t *origin);
int xr_vips_dump(const struct xr_maps *m, struct xr_vip_set *out);
int xr_vips_replace(struct xr_maps *m, const struct xr_vip_set *set);

/* Sum of the XDP program's per-CPU counters. */
int xr_counters_read(const struct xr_maps *m, uint64_t out[XR_CNT_MAX]);

/* A counter's name: the metrics label, and `xredirctl stats` as xdp_NAME. */
const char *xr_counter_name(enum xr_counter c);
/* What the XDP program did in the workers' stead, of the responder
 * counter idx (enum tcp_stat): the SYNs it answered (bpf/synack.h),
 * which the workers never see. */
uint64_t xr_xdp_share(const uint64_t xdp[XR_CNT_MAX], unsigned int idx);

#endif /* XREDIR_RULES_H */
