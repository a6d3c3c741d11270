/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The control plane's view of the pinned maps: targets (a mmapped array
 * under a sequence lock), rules (two pairs of LPM tries, one active), the
 * daemon's status and counters. Used by xredirctl and the daemon alike.
 * Writers hold the pin directory's lock (xr_lock).
 */
#ifndef XREDIR_RULES_H
#define XREDIR_RULES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "xredir_shared.h"

enum xr_map_id {
	XR_RULES4_A,
	XR_RULES4_B,
	XR_RULES6_A,
	XR_RULES6_B,
	XR_CTL,
	XR_TARGETS,
	XR_COUNTERS,
	XR_STATUS,
	XR_STATS,
	XR_NMAPS,
};

struct xr_maps {
	int fd[XR_NMAPS];
	struct xr_ctl *ctl; /* mmapped */
	struct xr_target *targets; /* mmapped, XR_MAX_TARGETS entries */
	struct xr_status *status; /* mmapped */
	struct xr_worker_stats *stats; /* mmapped, XR_MAX_QUEUES entries */
	char pin_dir[PATH_MAX];
};

/* Opens the pinned maps in pin_dir; returns -errno (-ENOENT: no pins). */
int xr_maps_open(struct xr_maps *m, const char *pin_dir);
void xr_maps_close(struct xr_maps *m);

/* Serialises writers: an exclusive flock on the pin directory, which
 * must pass xr_pin_dir_trusted (else anyone could hold it). Waits up to
 * timeout_ms; returns the fd to pass to xr_unlock, or -errno with why
 * filled. */
int xr_lock(const char *pin_dir, int timeout_ms, char *why, size_t len);
void xr_unlock(int fd);

/*
 * Targets (user/target_table.c). Writers hold the lock; a writer that
 * finds the sequence odd (its predecessor died mid-write) clears the slot
 * left torn and makes it even again.
 */
int xr_target_find(const struct xr_maps *m, const char *name);
int xr_target_free_slot(const struct xr_maps *m);
/* The same on a copy of the array (XR_MAX_TARGETS entries). */
int xr_target_index(const struct xr_target *table, const char *name);
int xr_target_free_index(const struct xr_target *table);
/* Fills an entry of a copy (url: n bytes, cut to what fits). */
void xr_target_fill(struct xr_target *t, const char *name, const char *url,
		    size_t n, uint16_t status);
/* Writes slot idx under the sequence lock; url must pass xr_url_check. */
void xr_target_write(struct xr_maps *m, uint32_t idx, const char *name,
		     const char *url, uint16_t status);
void xr_target_clear(struct xr_maps *m, uint32_t idx);
/* Makes the array equal table, in one pass of the sequence lock (readers
 * see all of it or none); each named entry must be a valid target. */
void xr_targets_store(struct xr_maps *m, const struct xr_target *table);
/* Repairs what a dead writer left: -1 if the sequence was even (nothing
 * to do), else the number of torn slots cleared. */
int xr_targets_repair(struct xr_maps *m);
/*
 * Copies all targets consistently into out and their sequence into *seq.
 * A writer is active while the sequence is odd: tries at most `tries`
 * times, 10 us apart, then returns -EBUSY (out is then undefined: keep
 * the last good copy). A writer that dies half-way leaves it odd until
 * the next writer repairs it, so readers must not wait for ever.
 */
#define XR_SNAPSHOT_TRIES 100
int xr_targets_snapshot(const struct xr_maps *m, struct xr_target *out,
			uint32_t *seq, int tries);

/* One rule as stored: prefix and target index. */
struct xr_rule {
	struct xr_cidr cidr;
	uint32_t target;
};

/* Rules in the active set. */
int xr_rule_add(struct xr_maps *m, const struct xr_cidr *c, uint32_t target);
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

/* Sum of the XDP program's per-CPU counters. */
int xr_counters_read(const struct xr_maps *m, uint64_t out[XR_CNT_MAX]);

/* A counter's name: the metrics label, and `xredirctl stats` as xdp_NAME. */
const char *xr_counter_name(enum xr_counter c);

#endif /* XREDIR_RULES_H */
