/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The control plane's view of the pinned maps: targets (a mmapped array
 * under a sequence lock), rules (two pairs of LPM tries, one active), and
 * the counters. Used by xredirctl and by the daemon's config loader.
 */
#ifndef XREDIR_RULES_H
#define XREDIR_RULES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xredir_shared.h"

struct xr_cidr {
	uint8_t family; /* 4 or 6 */
	uint8_t prefixlen;
	uint8_t addr[16]; /* network order, host bits zero */
};

struct xr_maps {
	int rules4[2];
	int rules6[2];
	int ctl_fd;
	int targets_fd;
	int counters_fd;
	struct xr_ctl *ctl; /* mmapped */
	struct xr_target *targets; /* mmapped, XR_MAX_TARGETS entries */
	bool owned; /* fds opened here (from pins), closed by xr_maps_close */
};

/* Opens the pinned maps in pin_dir; returns -errno. */
int xr_maps_open(struct xr_maps *m, const char *pin_dir);
void xr_maps_close(struct xr_maps *m);

/*
 * Parses "a.b.c.d[/n]" or "x::y[/n]" (no prefix: a host). Host bits set
 * below the prefix are an error; err says which address was meant.
 */
int xr_cidr_parse(const char *s, struct xr_cidr *out, char *err, size_t len);
void xr_cidr_format(const struct xr_cidr *c, char *out, size_t len);

/* Targets. */
int xr_target_find(const struct xr_maps *m, const char *name);
/* Writes slot idx under the sequence lock; url must pass http_target_init. */
void xr_target_write(struct xr_maps *m, uint32_t idx, const char *name,
		     const char *url, uint16_t status);
void xr_target_clear(struct xr_maps *m, uint32_t idx);
/* Copies all targets consistently (retries while a writer is active). */
uint32_t xr_targets_snapshot(const struct xr_maps *m, struct xr_target *out);

/* Rules in the active set. */
int xr_rule_add(struct xr_maps *m, const struct xr_cidr *c, uint32_t target);
int xr_rule_del(struct xr_maps *m, const struct xr_cidr *c);
/* The target an address gets from the active rule set. */
uint32_t xr_rule_lookup(const struct xr_maps *m, uint8_t family,
			const uint8_t *addr, bool *matched);

#endif /* XREDIR_RULES_H */
