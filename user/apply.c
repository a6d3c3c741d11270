// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"

static int fail(struct cfg_error *err, uint32_t line, const char *msg,
		const char *arg)
{
	err->line = line;
	snprintf(err->msg, sizeof(err->msg), msg, arg);
	return -1;
}

static int write_targets(struct xr_maps *m, const struct xr_config *cfg,
			 struct cfg_error *err)
{
	uint32_t i;

	if (cfg->has_default)
		xr_target_write(m, XR_TARGET_DEFAULT, "default", cfg->deflt.url,
				cfg->deflt.status);
	for (i = 0; i < cfg->n_targets; i++) {
		const struct cfg_target *t = &cfg->targets[i];
		int idx = xr_target_find(m, t->name);

		if (idx < 0)
			idx = xr_target_free_slot(m);
		if (idx < 0)
			return fail(err, t->line,
				    "no free target slot for '%s'", t->name);
		xr_target_write(m, (uint32_t)idx, t->name, t->url, t->status);
	}
	return 0;
}

int xr_rules_resolve(const struct xr_maps *m, const struct xr_config *cfg,
		     struct xr_rule **out, struct cfg_error *err)
{
	struct xr_rule *rules = calloc(cfg->n_rules + 1, sizeof(*rules));
	uint32_t i;

	*out = NULL;
	if (!rules)
		return fail(err, 0, "%s", "out of memory");
	for (i = 0; i < cfg->n_rules; i++) {
		int idx = xr_target_find(m, cfg->rules[i].target);

		if (idx < 0) {
			free(rules);
			return fail(err, cfg->rules[i].line,
				    "unknown target '%s'",
				    cfg->rules[i].target);
		}
		rules[i].cidr = cfg->rules[i].cidr;
		rules[i].target = (uint32_t)idx;
	}
	*out = rules;
	return 0;
}

/* Removes named targets the config does not mention (never the default). */
static void drop_stale_targets(struct xr_maps *m, const struct xr_config *cfg)
{
	int i;

	for (i = 1; i < XR_MAX_TARGETS; i++)
		if (m->targets[i].name[0] &&
		    !xr_config_target(cfg, m->targets[i].name))
			xr_target_clear(m, (uint32_t)i);
}

int xr_config_apply(struct xr_maps *m, const struct xr_config *cfg,
		    struct cfg_error *err)
{
	struct xr_rule *rules;
	int ret;

	if (write_targets(m, cfg, err) || xr_rules_resolve(m, cfg, &rules, err))
		return -1;
	ret = xr_rules_replace(m, rules, cfg->n_rules);
	free(rules);
	if (ret)
		return fail(err, 0, "updating the rule maps: %s",
			    strerror(-ret));
	drop_stale_targets(m, cfg);
	return 0;
}
