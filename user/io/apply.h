/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Applying a parsed configuration to the pinned maps: staged, then written. */
#ifndef XREDIR_APPLY_H
#define XREDIR_APPLY_H

#include "config.h"
#include "rules.h"
#include "stage.h"

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
