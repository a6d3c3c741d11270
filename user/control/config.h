/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The configuration file: plain, line-oriented, diff-friendly (one rule
 * per line), suitable for a Kubernetes ConfigMap.
 *
 *   # comment
 *   default URL [STATUS]          the default target (unmatched clients)
 *   target NAME URL [STATUS]      a named target; STATUS 301|302|303|307|308
 *   rule CIDR NAME                clients in CIDR go to target NAME
 *   vip ADDR                      also a service address (as --vip; "any":
 *                                 every destination address)
 *
 * A file is validated whole: any error rejects it, with its line number.
 * `xredirctl rule load` takes files of rule lines only.
 */
#ifndef XREDIR_CONFIG_H
#define XREDIR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "target_table.h"
#include "tls.h"
#include "vip.h"

#define CFG_LINE_MAX 1024

struct cfg_target {
	char name[XR_TARGET_NAME_MAX];
	char url[XR_TARGET_URL_MAX];
	uint16_t status;
	uint32_t line;
};

struct cfg_rule {
	struct xr_cidr cidr;
	char target[XR_TARGET_NAME_MAX];
	uint32_t line; /* 0: set by a flag (xr_config_set_rule) */
};

/* A `tls CERT KEY` line: absolute paths, after the flags' pairs. */
#define XR_TLS_PATH_MAX 256
struct cfg_tls {
	char cert[XR_TLS_PATH_MAX];
	char key[XR_TLS_PATH_MAX];
	uint32_t line;
};

struct xr_config {
	bool has_default;
	struct cfg_target deflt; /* name "default" */
	struct cfg_target *targets;
	uint32_t n_targets;
	struct cfg_rule *rules;
	uint32_t n_rules;
	uint32_t cap_rules;
	struct cfg_tls tls[TLS_MAX_PAIRS];
	uint32_t n_tls;
	struct xr_vip_set vips; /* origin XR_VIP_FROM_CONFIG */
	uint32_t *vip_lines; /* the line of each of vips.v, in order */
	uint32_t vip_any_line; /* 0: no "vip any" */
};

struct cfg_error {
	uint32_t line; /* 0: not tied to a line */
	char msg[200];
};

enum cfg_mode {
	CFG_FULL, /* default, target and rule lines */
	CFG_RULES_ONLY, /* rule lines only (rule load) */
};

/* Files are read whole, and must be smaller than this. */
#define XR_FILE_MAX (64u << 20)

/*
 * The whole file, NUL-terminated (the NUL not counted in *len), for the
 * caller to free; NULL with errno set on failure (EFBIG: XR_FILE_MAX or
 * more).
 */
char *xr_read_file(const char *path, size_t *len);
int xr_config_parse(const char *buf, size_t len, enum cfg_mode mode,
		    struct xr_config *cfg, struct cfg_error *err);
int xr_config_load(const char *path, enum cfg_mode mode, struct xr_config *cfg,
		   struct cfg_error *err);
void xr_config_free(struct xr_config *cfg);
const struct cfg_target *xr_config_target(const struct xr_config *cfg,
					  const char *name);

/* Adds or replaces a target / a rule (for flags layered over a file). */
int xr_config_set_target(struct xr_config *cfg, const char *name,
			 const char *url, uint16_t status);
int xr_config_set_rule(struct xr_config *cfg, const struct xr_cidr *c,
		       const char *target);

/* Checks a target URL; on error, why says what is wrong with it. */
int xr_url_check(const char *url, char *why, size_t len);
/* Checks a target name: 1..31 of [A-Za-z0-9_.-], starting alphanumeric. */
bool xr_name_ok(const char *name);
int xr_status_parse(const char *s, uint16_t *out);

#endif /* XREDIR_CONFIG_H */
