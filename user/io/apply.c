// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"

int xr_config_apply(struct xr_maps *m, const struct xr_config *cfg,
		    struct cfg_error *err)
{
	struct xr_target *live, *table, *step;
	struct xr_rule *rules;
	int i, ret = -1;

	live = calloc(3 * XR_MAX_TARGETS, sizeof(*live));
	if (!live) {
		err->line = 0;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -1;
	}
	table = live + XR_MAX_TARGETS;
	step = table + XR_MAX_TARGETS;
	/* Writers hold the lock: the array is not changing under us. */
	memcpy(live, m->targets, XR_MAX_TARGETS * sizeof(*live));
	if (xr_config_stage(live, cfg, table, &rules, err))
		goto out;
	/* New and changed targets first; those the file drops stay until no
	 * rule in force points at them. */
	for (i = 0; i < XR_MAX_TARGETS; i++)
		step[i] = table[i].name[0] ? table[i] : live[i];
	xr_targets_store(m, step);
	ret = xr_rules_replace(m, rules, cfg->n_rules);
	free(rules);
	if (ret) {
		xr_targets_store(m, live);
		err->line = 0;
		snprintf(err->msg, sizeof(err->msg),
			 "updating the rule maps: %s", strerror(-ret));
		ret = -1;
		goto out;
	}
	xr_targets_store(m, table);
out:
	free(live);
	return ret;
}
