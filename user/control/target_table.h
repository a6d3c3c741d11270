/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The pinned maps as memory: their descriptors and the mmapped control
 * block, target array, status and stats (opened by rules.c), and the
 * target array's sequence lock over that memory, which is plain loads and
 * stores, so unit tests run it on an array of their own.
 */
#ifndef XREDIR_TARGET_TABLE_H
#define XREDIR_TARGET_TABLE_H

#include <limits.h>
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
	XR_VIP4,
	XR_VIP6,
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

/* One rule as stored: prefix, target index and who made it. */
struct xr_rule {
	struct xr_cidr cidr;
	uint32_t target;
	uint32_t origin; /* XR_RULE_ORIGIN() */
};

/* An origin as `rule list` shows it: "flag", "config:LINE", "xredirctl". */
void xr_rule_origin_format(uint32_t origin, char *buf, size_t len);

/*
 * Targets. Writers hold the lock; a writer that
 * finds the sequence odd (its predecessor died mid-write) clears the slot
 * left torn and makes it even again.
 */
int xr_target_find(const struct xr_maps *m, const char *name);
int xr_target_free_slot(const struct xr_maps *m);
/* The same on a copy of the array (XR_MAX_TARGETS entries). */
int xr_target_index(const struct xr_target *table, const char *name);
int xr_target_free_index(const struct xr_target *table);
/* Fills an entry of a copy (url: n bytes, cut to what fits); gen 0: the
 * writers below keep or move the live slot's own. */
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

#endif /* XREDIR_TARGET_TABLE_H */
