// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * confcheck FILE...: validates xredir config files with the daemon's own
 * parser (user/control/config.c), the way xredird reads them on (re)load: the
 * whole file, xr_config_parse(..., CFG_FULL, ...). Prints one line per file:
 *   FILE: ok (default URL, N targets, M rules)
 *   FILE:LINE: error message        (exit status 1)
 * Used by tests/deploy/run.sh on the ConfigMap's xredir.conf.
 *
 * Build: see tests/deploy/run.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n;
	char *buf, *grown;

	if (!f)
		return NULL;
	buf = malloc(cap);
	*len = 0;
	while (buf && (n = fread(buf + *len, 1, cap - *len, f)) > 0) {
		*len += n;
		if (*len == cap) {
			grown = cap < (64u << 20) ? realloc(buf, cap * 2) :
						    NULL;
			if (!grown) {
				free(buf);
				buf = NULL;
				errno = EFBIG;
				break;
			}
			buf = grown;
			cap *= 2;
		}
	}
	if (buf && ferror(f)) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int check(const char *path)
{
	struct cfg_error err;
	struct xr_config cfg;
	size_t len = 0;
	char *buf = slurp(path, &len);

	if (!buf) {
		printf("%s: cannot read: %s\n", path, strerror(errno));
		return 1;
	}
	if (xr_config_parse(buf, len, CFG_FULL, &cfg, &err)) {
		if (err.line)
			printf("%s:%u: %s\n", path, err.line, err.msg);
		else
			printf("%s: %s\n", path, err.msg);
		free(buf);
		return 1;
	}
	printf("%s: ok (default %s, %u targets, %u rules)\n", path,
	       cfg.has_default ? cfg.deflt.url : "from the flags",
	       cfg.n_targets, cfg.n_rules);
	xr_config_free(&cfg);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int i, bad = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: confcheck FILE...\n");
		return 2;
	}
	for (i = 1; i < argc; i++)
		bad |= check(argv[i]);
	return bad;
}
