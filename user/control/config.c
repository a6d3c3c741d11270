// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"

#define MAX_TOKENS 5

static int fail(struct cfg_error *err, uint32_t line, const char *fmt, ...)
{
	va_list ap;
	char *p;

	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	/* The message quotes the file: no control bytes reach a log. */
	for (p = err->msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -1;
}

bool xr_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (!n || n >= XR_TARGET_NAME_MAX || !isalnum((unsigned char)name[0]))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' &&
		    name[i] != '-' && name[i] != '.')
			return false;
	return true;
}

int xr_status_parse(const char *s, uint16_t *out)
{
	static const char *const ok[] = { "301", "302", "303", "307", "308" };
	unsigned int i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (!strcmp(s, ok[i])) {
			*out = (uint16_t)atoi(s);
			return 0;
		}
	}
	return -1;
}

int xr_url_check(const char *url, char *why, size_t len)
{
	struct http_target t;
	size_t i, n = strlen(url);

	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
		snprintf(why, len, "must start with http:// or https://");
		return -1;
	}
	if (n >= XR_TARGET_URL_MAX) {
		snprintf(why, len, "is %zu bytes long; the limit is %d", n,
			 XR_TARGET_URL_MAX - 1);
		return -1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)url[i];

		if (c <= 0x20 || c >= 0x7f) {
			snprintf(
				why, len,
				"contains byte 0x%02x at offset %zu, which may "
				"not appear in a Location header",
				c, i);
			return -1;
		}
		if (strchr("\"<>\\^`{|}#?", c)) {
			snprintf(why, len,
				 "contains '%c' at offset %zu; a target is "
				 "scheme://host[:port][/path-prefix]",
				 c, i);
			return -1;
		}
	}
	if (http_target_init(&t, url, n, 302)) {
		snprintf(why, len,
			 "has no valid host[:port] (a target is "
			 "scheme://host[:port][/path-prefix], no user@)");
		return -1;
	}
	return 0;
}

/*
 * Splits line at whitespace; a word starting with '#' starts a comment
 * (a '#' inside a word is part of it, so a URL with one is rejected, not
 * silently cut). Returns the count.
 */
static int tokenize(char *line, char **tok, int max)
{
	int n = 0;

	for (char *p = strtok(line, " \t\r"); p; p = strtok(NULL, " \t\r")) {
		if (*p == '#')
			break;
		if (n == max)
			return max + 1;
		tok[n++] = p;
	}
	return n;
}

static int parse_target(struct cfg_target *t, const char *name, const char *url,
			const char *status, uint32_t line,
			struct cfg_error *err)
{
	char why[160];

	memset(t, 0, sizeof(*t));
	if (xr_url_check(url, why, sizeof(why)))
		return fail(err, line, "target URL '%s' %s", url, why);
	t->status = 302;
	if (status && xr_status_parse(status, &t->status))
		return fail(err, line,
			    "status '%s' must be 301, 302, 303, 307 or 308",
			    status);
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->url, sizeof(t->url), "%s", url);
	t->line = line;
	return 0;
}

const struct cfg_target *xr_config_target(const struct xr_config *cfg,
					  const char *name)
{
	uint32_t i;

	if (!strcmp(name, "default"))
		return cfg->has_default ? &cfg->deflt : NULL;
	for (i = 0; i < cfg->n_targets; i++)
		if (!strcmp(cfg->targets[i].name, name))
			return &cfg->targets[i];
	return NULL;
}

static int add_target(struct xr_config *cfg, char **tok, int n, uint32_t line,
		      struct cfg_error *err)
{
	const struct cfg_target *dup;
	struct cfg_target t, *grown;

	if (n < 3 || n > 4)
		return fail(err, line, "expected: target NAME URL [STATUS]");
	if (!xr_name_ok(tok[1]) || !strcmp(tok[1], "default"))
		return fail(err, line,
			    "target name '%s' must be 1-31 of A-Z a-z 0-9 _ . -"
			    " starting with a letter or digit, not 'default'",
			    tok[1]);
	dup = xr_config_target(cfg, tok[1]);
	if (dup)
		return fail(err, line, "target '%s' already defined at line %u",
			    tok[1], dup->line);
	if (cfg->n_targets == XR_MAX_TARGETS - 1)
		return fail(err, line, "more than %d targets",
			    XR_MAX_TARGETS - 1);
	if (parse_target(&t, tok[1], tok[2], n == 4 ? tok[3] : NULL, line, err))
		return -1;
	grown = realloc(cfg->targets, (cfg->n_targets + 1) * sizeof(t));
	if (!grown)
		return fail(err, line, "out of memory");
	cfg->targets = grown;
	cfg->targets[cfg->n_targets++] = t;
	return 0;
}

static int add_rule(struct xr_config *cfg, char **tok, int n, uint32_t line,
		    struct cfg_error *err)
{
	struct cfg_rule *r;
	char why[160];

	if (n != 3)
		return fail(err, line, "expected: rule CIDR TARGET");
	if (cfg->n_rules == cfg->cap_rules) {
		uint32_t cap = cfg->cap_rules ? cfg->cap_rules * 2 : 256;

		r = realloc(cfg->rules, cap * sizeof(*r));
		if (!r)
			return fail(err, line, "out of memory");
		cfg->rules = r;
		cfg->cap_rules = cap;
	}
	r = &cfg->rules[cfg->n_rules];
	memset(r, 0, sizeof(*r));
	if (xr_cidr_parse(tok[1], &r->cidr, why, sizeof(why)))
		return fail(err, line, "%s", why);
	if (!xr_name_ok(tok[2]))
		return fail(err, line, "'%s' is not a valid target name",
			    tok[2]);
	snprintf(r->target, sizeof(r->target), "%s", tok[2]);
	r->line = line;
	cfg->n_rules++;
	return 0;
}

static int add_tls(struct xr_config *cfg, char **tok, int n, uint32_t line,
		   struct cfg_error *err)
{
	struct cfg_tls *t = &cfg->tls[cfg->n_tls];
	int i;

	if (n != 3)
		return fail(err, line, "expected: tls CERT_FILE KEY_FILE");
	if (cfg->n_tls == TLS_MAX_PAIRS)
		return fail(err, line, "more than %d tls lines", TLS_MAX_PAIRS);
	for (i = 1; i < 3; i++) {
		if (tok[i][0] != '/')
			return fail(err, line, "'%s': give an absolute path",
				    tok[i]);
		if (strlen(tok[i]) >= XR_TLS_PATH_MAX)
			return fail(err, line, "a path longer than %d bytes",
				    XR_TLS_PATH_MAX - 1);
	}
	snprintf(t->cert, sizeof(t->cert), "%s", tok[1]);
	snprintf(t->key, sizeof(t->key), "%s", tok[2]);
	t->line = line;
	cfg->n_tls++;
	return 0;
}

static int add_vip(struct xr_config *cfg, char **tok, int n, uint32_t line,
		   struct cfg_error *err)
{
	struct xr_vip v;
	uint32_t *lines, i;
	char why[160];

	if (n != 2)
		return fail(err, line, "expected: vip ADDR");
	if (xr_vip_is_any(tok[1])) {
		if (cfg->vip_any_line)
			return fail(err, line, "vip any already set at line %u",
				    cfg->vip_any_line);
		cfg->vip_any_line = line;
		return 0;
	}
	if (xr_vip_parse(tok[1], &v, why, sizeof(why)))
		return fail(err, line, "%s", why);
	v.origin = XR_VIP_FROM_CONFIG;
	for (i = 0; i < cfg->vips.n; i++)
		if (cfg->vips.v[i].family == v.family &&
		    !memcmp(cfg->vips.v[i].addr, v.addr, sizeof(v.addr)))
			return fail(err, line, "vip %s already set at line %u",
				    tok[1], cfg->vip_lines[i]);
	if (cfg->vips.n == 2 * XR_MAX_VIPS)
		return fail(err, line, "more than %d vip lines",
			    2 * XR_MAX_VIPS);
	lines = realloc(cfg->vip_lines, (cfg->vips.n + 1) * sizeof(*lines));
	if (!lines)
		return fail(err, line, "out of memory");
	cfg->vip_lines = lines;
	lines[cfg->vips.n] = line;
	if (xr_vip_set_add(&cfg->vips, &v) < 0)
		return fail(err, line, "out of memory");
	return 0;
}

static int parse_line(struct xr_config *cfg, char *line, uint32_t lineno,
		      enum cfg_mode mode, struct cfg_error *err)
{
	char *tok[MAX_TOKENS];
	int n = tokenize(line, tok, MAX_TOKENS);

	if (!n)
		return 0;
	if (n > MAX_TOKENS)
		return fail(err, lineno, "too many words");
	if (!strcmp(tok[0], "rule"))
		return add_rule(cfg, tok, n, lineno, err);
	if (mode == CFG_RULES_ONLY)
		return fail(err, lineno,
			    "'%s' line in a rules file (only 'rule CIDR "
			    "TARGET' lines belong there)",
			    tok[0]);
	if (!strcmp(tok[0], "target"))
		return add_target(cfg, tok, n, lineno, err);
	if (!strcmp(tok[0], "tls"))
		return add_tls(cfg, tok, n, lineno, err);
	if (!strcmp(tok[0], "vip"))
		return add_vip(cfg, tok, n, lineno, err);
	if (!strcmp(tok[0], "default")) {
		if (n < 2 || n > 3)
			return fail(err, lineno,
				    "expected: default URL [STATUS]");
		if (cfg->has_default)
			return fail(err, lineno,
				    "default already set at line %u",
				    cfg->deflt.line);
		cfg->has_default = true;
		return parse_target(&cfg->deflt, "default", tok[1],
				    n == 3 ? tok[2] : NULL, lineno, err);
	}
	return fail(err, lineno,
		    "unknown directive '%s' (expected default, target, rule, "
		    "tls or vip)",
		    tok[0]);
}

static int cmp_rule(const void *a, const void *b)
{
	const struct cfg_rule *x = a, *y = b;
	int c = memcmp(&x->cidr, &y->cidr, sizeof(x->cidr));

	return c ? c : (int)x->line - (int)y->line;
}

/* After all lines: duplicates, unknown targets, per-family limits. */
static int check_rules(struct xr_config *cfg, enum cfg_mode mode,
		       struct cfg_error *err)
{
	uint32_t i, count[2] = { 0, 0 };
	struct cfg_rule *sorted;

	for (i = 0; i < cfg->n_rules; i++) {
		const struct cfg_rule *r = &cfg->rules[i];

		if (mode == CFG_FULL && !xr_config_target(cfg, r->target))
			return fail(err, r->line, "unknown target '%s'",
				    r->target);
		if (++count[r->cidr.family == 6] > XR_MAX_RULES)
			return fail(err, r->line, "more than %d IPv%u rules",
				    XR_MAX_RULES, r->cidr.family);
	}
	if (!cfg->n_rules)
		return 0;
	sorted = malloc(cfg->n_rules * sizeof(*sorted));
	if (!sorted)
		return fail(err, 0, "out of memory");
	memcpy(sorted, cfg->rules, cfg->n_rules * sizeof(*sorted));
	qsort(sorted, cfg->n_rules, sizeof(*sorted), cmp_rule);
	for (i = 1; i < cfg->n_rules; i++) {
		if (!memcmp(&sorted[i].cidr, &sorted[i - 1].cidr,
			    sizeof(sorted[i].cidr))) {
			char c[64];

			xr_cidr_format(&sorted[i].cidr, c, sizeof(c));
			fail(err, sorted[i].line,
			     "duplicate rule for %s (first at line %u)", c,
			     sorted[i - 1].line);
			free(sorted);
			return -1;
		}
	}
	free(sorted);
	return 0;
}

int xr_config_parse(const char *buf, size_t len, enum cfg_mode mode,
		    struct xr_config *cfg, struct cfg_error *err)
{
	char line[CFG_LINE_MAX + 1];
	uint32_t lineno = 0;
	size_t pos = 0;

	memset(cfg, 0, sizeof(*cfg));
	memset(err, 0, sizeof(*err));
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;

		lineno++;
		/* A CRLF line's CR is not part of its length. */
		if (n == CFG_LINE_MAX + 1 && buf[pos + n - 1] == '\r')
			n--;
		if (n > CFG_LINE_MAX || memchr(buf + pos, 0, n)) {
			fail(err, lineno,
			     n > CFG_LINE_MAX ? "line longer than %d bytes" :
						"NUL byte in line",
			     CFG_LINE_MAX);
			goto bad;
		}
		memcpy(line, buf + pos, n);
		line[n] = 0;
		if (parse_line(cfg, line, lineno, mode, err))
			goto bad;
		pos = nl ? (size_t)(nl - buf) + 1 : len;
	}
	if (!check_rules(cfg, mode, err))
		return 0;
bad:
	xr_config_free(cfg);
	return -1;
}

char *xr_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, n = 0, got;
	char *buf = NULL, *grown;
	int err = 0;

	if (!f)
		return NULL;
	/* fread until a short read: pipes and /proc files have no size. */
	for (;;) {
		if (n == cap && cap >= XR_FILE_MAX) {
			err = EFBIG;
			break;
		}
		if (!buf || n == cap) {
			cap = buf ? cap * 2 : cap;
			grown = realloc(buf, cap + 1);
			if (!grown) {
				err = ENOMEM;
				break;
			}
			buf = grown;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n < cap) {
			if (ferror(f))
				err = errno ? errno : EIO;
			break;
		}
	}
	fclose(f);
	if (err) {
		free(buf);
		errno = err;
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

int xr_config_load(const char *path, enum cfg_mode mode, struct xr_config *cfg,
		   struct cfg_error *err)
{
	size_t len;
	char *buf;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	buf = xr_read_file(path, &len);
	if (!buf && (errno == EFBIG || errno == ENOMEM))
		return fail(err, 0, "%s: too large or out of memory", path);
	if (!buf)
		return fail(err, 0, "cannot open %s: %s", path,
			    strerror(errno));
	ret = xr_config_parse(buf, len, mode, cfg, err);
	free(buf);
	return ret;
}

void xr_config_free(struct xr_config *cfg)
{
	free(cfg->targets);
	free(cfg->rules);
	xr_vip_set_free(&cfg->vips);
	free(cfg->vip_lines);
	memset(cfg, 0, sizeof(*cfg));
}

int xr_config_set_target(struct xr_config *cfg, const char *name,
			 const char *url, uint16_t status)
{
	struct cfg_target *t = (struct cfg_target *)xr_config_target(cfg, name);

	if (!strcmp(name, "default")) {
		cfg->has_default = true;
		t = &cfg->deflt;
	} else if (!t) {
		t = realloc(cfg->targets, (cfg->n_targets + 1) * sizeof(*t));
		if (!t)
			return -1;
		cfg->targets = t;
		t = &cfg->targets[cfg->n_targets++];
	}
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->url, sizeof(t->url), "%s", url);
	t->status = status;
	return 0;
}

int xr_config_set_rule(struct xr_config *cfg, const struct xr_cidr *c,
		       const char *target)
{
	struct cfg_rule *r;
	uint32_t i;

	for (i = 0; i < cfg->n_rules; i++) {
		if (!memcmp(&cfg->rules[i].cidr, c, sizeof(*c))) {
			snprintf(cfg->rules[i].target,
				 sizeof(cfg->rules[i].target), "%s", target);
			cfg->rules[i].line = 0;
			return 0;
		}
	}
	r = realloc(cfg->rules, (cfg->n_rules + 1) * sizeof(*r));
	if (!r)
		return -1;
	cfg->rules = r;
	cfg->cap_rules = cfg->n_rules + 1;
	r = &cfg->rules[cfg->n_rules++];
	memset(r, 0, sizeof(*r));
	r->cidr = *c;
	snprintf(r->target, sizeof(r->target), "%s", target);
	return 0;
}
