/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Applying a parsed configuration to the pinned maps: staged, then written. */
#ifndef XREDIR_APPLY_H
#define XREDIR_APPLY_H

#include "config.h"
#include "rules.h"

/*
 * Works out, on a copy, what applying cfg to the live targets gives: table
 * (XR_MAX_TARGETS entries: the default and the file's targets written, new
 * names in slots free now, names the file drops removed) and its rules
 * resolved against table (*rules malloc'd). Changes nothing; returns 0, or
 * -1 with err filled (no free slot, unknown target). Pure (stage.c).
 */
int xr_config_stage(const struct xr_target *live, const struct xr_config *cfg,
		    struct xr_target *table, struct xr_rule **rules,
		    struct cfg_error *err);

/*
 * Makes the maps hold exactly cfg, all or nothing: staged first, then new
 * and changed targets written, the rules swapped in whole, and targets it
 * no longer names removed; a failure leaves the maps as they were.
 * Caller holds the pin dir lock.
 */
int xr_config_apply(struct xr_maps *m, const struct xr_config *cfg,
		    struct cfg_error *err);

/* Resolves rule target names against the live targets (rule load). */
int xr_rules_resolve(const struct xr_maps *m, const struct xr_config *cfg,
		     struct xr_rule **out, struct cfg_error *err);

#endif /* XREDIR_APPLY_H */
