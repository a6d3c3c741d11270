// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Checking config files without a daemon: the parser and the staging a
 * (re)load does, on an empty target table instead of the maps.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "stage.h"

int xr_config_check(const char *buf, size_t len, struct xr_config *cfg,
		    struct cfg_error *err)
{
	static const struct xr_target empty[XR_MAX_TARGETS];
	struct xr_target *table;
	struct xr_rule *rules;
	int ret;

	if (xr_config_parse(buf, len, CFG_FULL, cfg, err))
		return -1;
	table = malloc(XR_MAX_TARGETS * sizeof(*table));
	if (!table) {
		err->line = 0;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		xr_config_free(cfg);
		return -1;
	}
	ret = xr_config_stage(empty, cfg, table, &rules, err);
	free(rules);
	free(table);
	if (!ret)
		ret = xr_config_check_tls(cfg, err);
	if (ret)
		xr_config_free(cfg);
	return ret;
}

int xr_config_check_tls(const struct xr_config *cfg, struct cfg_error *err)
{
	struct tls_config tc = { .n_pairs = 0 };
	struct tls_server *srv;
	uint32_t i;

	/* One more pair each time: the first set refused names its line. */
	for (i = 0; i < cfg->n_tls; i++) {
		tc.pairs[tc.n_pairs++] =
			(struct tls_pair){ cfg->tls[i].cert, cfg->tls[i].key };
		srv = tls_server_new(&tc, err->msg, sizeof(err->msg));
		if (!srv) {
			err->line = cfg->tls[i].line;
			return -1;
		}
		tls_server_unref(srv);
	}
	return 0;
}

int xr_config_check_file(const char *path, FILE *out)
{
	struct cfg_error err = { 0, "" };
	struct xr_config cfg;
	size_t len = 0;
	char *buf = xr_read_file(path, &len);

	if (!buf) {
		fprintf(out, "%s: cannot read: %s\n", path, strerror(errno));
		return XR_CHECK_UNREADABLE;
	}
	if (xr_config_check(buf, len, &cfg, &err)) {
		free(buf);
		if (err.line)
			fprintf(out, "%s:%u: %s\n", path, err.line, err.msg);
		else
			fprintf(out, "%s: %s\n", path, err.msg);
		return XR_CHECK_INVALID;
	}
	free(buf);
	fprintf(out,
		"%s: ok (default %s, %u targets, %u rules, %u TLS pairs)\n",
		path, cfg.has_default ? cfg.deflt.url : "from the flags",
		cfg.n_targets, cfg.n_rules, cfg.n_tls);
	xr_config_free(&cfg);
	return XR_CHECK_OK;
}
