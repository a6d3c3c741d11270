/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* A configuration staged on a copy of the targets before it is applied. */
#ifndef XREDIR_STAGE_H
#define XREDIR_STAGE_H

#include "config.h"
#include "target_table.h"

/*
 * Works out, on a copy, what applying cfg to the live targets gives: table
 * (XR_MAX_TARGETS entries: the default and the file's targets written, new
 * names in slots free now, names the file drops removed) and its rules
 * resolved against table (*rules malloc'd). Changes nothing; returns 0, or
 * -1 with err filled (no free slot, unknown target).
 */
int xr_config_stage(const struct xr_target *live, const struct xr_config *cfg,
		    struct xr_target *table, struct xr_rule **rules,
		    struct cfg_error *err);

#endif /* XREDIR_STAGE_H */
