// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Staging a configuration: the target array and rules it would give,
 * worked out on a copy of the live targets, so that a file that fails
 * part way (no free slot, an unknown target) changes nothing. Pure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stage.h"

static int fail(struct cfg_error *err, uint32_t line, const char *msg,
		const char *arg)
{
	err->line = line;
	snprintf(err->msg, sizeof(err->msg), msg, arg);
	return -1;
}

static int resolve(const struct xr_target *table, const struct xr_config *cfg,
		   struct xr_rule **out, struct cfg_error *err)
{
	struct xr_rule *rules = calloc(cfg->n_rules + 1, sizeof(*rules));
	uint32_t i;

	*out = NULL;
	if (!rules)
		return fail(err, 0, "%s", "out of memory");
	for (i = 0; i < cfg->n_rules; i++) {
		int idx = xr_target_index(table, cfg->rules[i].target);

		if (idx < 0) {
			free(rules);
			return fail(err, cfg->rules[i].line,
				    "unknown target '%s'",
				    cfg->rules[i].target);
		}
		rules[i].cidr = cfg->rules[i].cidr;
		rules[i].target = (uint32_t)idx;
		rules[i].origin = cfg->rules[i].line ?
					  XR_RULE_ORIGIN(XR_RULE_FROM_CONFIG,
							 cfg->rules[i].line) :
					  XR_RULE_ORIGIN(XR_RULE_FROM_FLAG, 0);
	}
	*out = rules;
	return 0;
}

int xr_rules_resolve(const struct xr_maps *m, const struct xr_config *cfg,
		     struct xr_rule **out, struct cfg_error *err)
{
	return resolve(m->targets, cfg, out, err);
}

int xr_config_stage(const struct xr_target *live, const struct xr_config *cfg,
		    struct xr_target *table, struct xr_rule **rules,
		    struct cfg_error *err)
{
	const struct cfg_target *t;
	uint32_t i;
	int idx;

	*rules = NULL;
	memcpy(table, live, XR_MAX_TARGETS * sizeof(*table));
	if (cfg->has_default)
		xr_target_fill(&table[XR_TARGET_DEFAULT], "default",
			       cfg->deflt.url, strlen(cfg->deflt.url),
			       cfg->deflt.status);
	/* A new name takes a slot free now, never one of a target the file
	 * drops: the rules in force may point there until they are swapped. */
	for (i = 0; i < cfg->n_targets; i++) {
		t = &cfg->targets[i];
		idx = xr_target_index(table, t->name);
		if (idx < 0)
			idx = xr_target_free_index(table);
		if (idx < 0)
			return fail(err, t->line,
				    "no free target slot for '%s' (targets "
				    "the file drops are removed only after "
				    "its rules are in force)",
				    t->name);
		xr_target_fill(&table[idx], t->name, t->url, strlen(t->url),
			       t->status);
	}
	for (i = 1; i < XR_MAX_TARGETS; i++)
		if (table[i].name[0] && !xr_config_target(cfg, table[i].name))
			memset(&table[i], 0, sizeof(table[i]));
	return resolve(table, cfg, rules, err);
}
