/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Checking a config file before applying it (xredirctl config check,
 * xredird --check-config), the way xredird's (re)load takes it.
 */
#ifndef XREDIR_CHECK_H
#define XREDIR_CHECK_H

#include <stdio.h>

#include "config.h"

/* Exit codes (of several files, the highest). */
#define XR_CHECK_OK 0
#define XR_CHECK_UNREADABLE 1
#define XR_CHECK_INVALID 2

/*
 * A file's content, as a (re)load would take it: parsed whole (CFG_FULL),
 * then staged on an empty target table. Returns 0 with cfg filled (for
 * the caller to free), or -1 with err filled.
 */
int xr_config_check(const char *buf, size_t len, struct xr_config *cfg,
		    struct cfg_error *err);
/*
 * Reads and checks the file at path, writing one line on out:
 *   FILE: ok (default URL, N targets, M rules)
 *   FILE:LINE: message    (FILE: message when not tied to a line)
 *   FILE: cannot read: reason
 * Returns its XR_CHECK_*.
 */
int xr_config_check_file(const char *path, FILE *out);
/* Loads the `tls` lines' pairs as a daemon would; -1 with the line of
 * the first pair refused. */
int xr_config_check_tls(const struct xr_config *cfg, struct cfg_error *err);

#endif /* XREDIR_CHECK_H */
