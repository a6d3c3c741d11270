// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xredirctl: change the rules and targets of a running (or stopped) xredir
 * instance through its pinned maps, and read its status and counters.
 *
 * Exit status: 0 success, 1 the operation failed (pins missing, permission,
 * table full, lock), 2 bad usage or input.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"
#include "apply.h"
#include "check.h"
#include "config.h"
#include "defaults.h"
#include "doc.h"
#include "json.h"
#include "loader.h"
#include "rules.h"
#include "stats.h"
#include "version.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2

struct ctl {
	const char *bpffs;
	const char *iface;
	const char *pin_dir_opt;
	char pin_dir[PATH_MAX];
	bool json;
	struct xr_maps maps;
	bool maps_open;
	int lock;
};

struct command {
	const char *name;
	const char *sub; /* NULL: no subcommand word */
	int (*run)(struct ctl *c, int argc, char **argv);
	const char *usage;
	const char *help;
};

static int err_usage(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static int err_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Messages quote what the user typed: control bytes are shown escaped,
 * never sent to the terminal. */
static void report(const char *fmt, va_list ap)
{
	char msg[1024];
	const char *p;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fputs("xredirctl: ", stderr);
	for (p = msg; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch < 0x20 || ch == 0x7f)
			fprintf(stderr, "\\x%02x", ch);
		else
			fputc(ch, stderr);
	}
	fputc('\n', stderr);
}

static int err_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

static int err_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(fmt, ap);
	va_end(ap);
	return EXIT_FAIL;
}

/* Instance and maps */

/* With neither --iface nor --pin-dir: the only instance, if just one. */
static int find_instance(struct ctl *c)
{
	char base[PATH_MAX - 300], found[256] = "";
	struct dirent *de;
	int n = 0;
	DIR *dir;

	snprintf(base, sizeof(base), "%s/" XR_PIN_BASE, c->bpffs);
	dir = opendir(base);
	if (!dir && (errno == EACCES || errno == EPERM))
		return err_fail("permission denied reading %s: run as root",
				base);
	if (!dir)
		return err_fail("no xredir instance under %s (is xredird "
				"running? point --bpffs at its bpffs)",
				base);
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		if (!n)
			snprintf(found, sizeof(found), "%s", de->d_name);
		else if (strlen(found) + strlen(de->d_name) + 3 < sizeof(found))
			strcat(strcat(found, ", "), de->d_name);
		n++;
	}
	closedir(dir);
	if (!n)
		return err_fail("no xredir instance under %s (is xredird "
				"running?)",
				base);
	if (n > 1)
		return err_usage("several instances (%s): choose one with "
				 "--iface",
				 found);
	if (snprintf(c->pin_dir, sizeof(c->pin_dir), "%s/%.255s", base,
		     found) >= (int)sizeof(c->pin_dir))
		return err_fail("pin directory path too long");
	return 0;
}

/* Maps of another build's layout are refused before they are mapped
 * with this one's. Returns EXIT_FAIL if refused, 0, or -errno when the
 * control map cannot be read (xr_maps_open then says why). */
static int check_abi(const struct ctl *c)
{
	uint8_t ctl[4096];
	char why[PATH_MAX + 256];
	size_t len = 0;
	int err = xr_ctl_read(c->pin_dir, ctl, sizeof(ctl), &len);

	if (err == -EPROTO)
		return err_fail("%s/" XR_MAP_CTL " is not an xredir control "
				"map",
				c->pin_dir);
	if (err)
		return err;
	if (xr_abi_check(ctl, len, c->pin_dir, why, sizeof(why)))
		return err_fail("%s", why);
	return 0;
}

/* Opened by the commands once their arguments are checked: bad input is
 * reported as such even where no instance runs. */
static int open_maps(struct ctl *c)
{
	int err;

	if (c->maps_open)
		return 0;
	if (c->pin_dir_opt)
		snprintf(c->pin_dir, sizeof(c->pin_dir), "%s", c->pin_dir_opt);
	else if (c->iface)
		xr_pin_dir(c->pin_dir, sizeof(c->pin_dir), c->bpffs, c->iface);
	else if ((err = find_instance(c)))
		return err;
	err = check_abi(c);
	if (err > 0)
		return err;
	if (!err)
		err = xr_maps_open(&c->maps, c->pin_dir);
	c->maps_open = !err;
	if (!err)
		return 0;
	if (err == -ENOENT)
		return err_fail("no xredir pins at %s (start xredird there, or "
				"check --iface/--bpffs)",
				c->pin_dir);
	if (err == -EPERM || err == -EACCES)
		return err_fail("permission denied opening the maps in %s: run "
				"as root (or with CAP_BPF and access to the "
				"directory)",
				c->pin_dir);
	return err_fail("cannot open the maps in %s: %s", c->pin_dir,
			strerror(-err));
}

/* Writers open the maps and take the pin directory's lock: one change at a
 * time. */
static bool daemon_alive(const struct xr_status *st)
{
	time_t now = time(NULL);

	return st->pid && (!kill((pid_t)st->pid, 0) || errno == EPERM) &&
	       now - (time_t)st->heartbeat_unix < 10;
}

static int lock_maps(struct ctl *c)
{
	char why[PATH_MAX + 64];

	int torn, err;

	err = open_maps(c);
	if (err)
		return err;
	c->lock = xr_lock(c->pin_dir, XREDIRCTL_LOCK_WAIT_MS, why, sizeof(why));
	if (c->lock >= 0) {
		torn = xr_targets_repair(&c->maps);
		if (torn >= 0)
			fprintf(stderr,
				"xredirctl: a previous change to the targets "
				"died half-way; repaired (%d torn target%s "
				"cleared)\n",
				torn, torn == 1 ? "" : "s");
		if (!daemon_alive(c->maps.status))
			fprintf(stderr,
				"xredirctl: note: xredird is not running; "
				"its next start replaces the rules, targets "
				"and service addresses with its flags and "
				"config file\n");
		return 0;
	}
	if (c->lock == -ETIMEDOUT)
		return err_fail("%s is locked by another change (waited %d s)",
				c->pin_dir, XREDIRCTL_LOCK_WAIT_MS / 1000);
	return err_fail("cannot lock %s: %s", c->pin_dir, why);
}

static const char *target_name(const struct xr_maps *m, uint32_t idx)
{
	if (idx < XR_MAX_TARGETS && m->targets[idx].name[0])
		return m->targets[idx].name;
	return "default";
}

static int target_or_fail(const struct ctl *c, const char *name)
{
	int idx = xr_target_find(&c->maps, name);
	char list[512] = "";
	int i;

	if (idx >= 0)
		return idx;
	for (i = 0; i < XR_MAX_TARGETS; i++) {
		const char *n = c->maps.targets[i].name;

		if (n[0] && strlen(list) + strlen(n) + 3 < sizeof(list))
			strcat(strcat(list, *list ? ", " : ""), n);
	}
	err_usage("unknown target '%s' (targets: %s; add one with: xredirctl "
		  "target set NAME URL)",
		  name, list);
	return -1;
}

static int cmp_rules(const void *a, const void *b)
{
	const struct xr_rule *x = a, *y = b;

	if (x->cidr.family != y->cidr.family)
		return x->cidr.family - y->cidr.family;
	return memcmp(&x->cidr.addr, &y->cidr.addr, 16) ?:
		       x->cidr.prefixlen - y->cidr.prefixlen;
}

static int dump_rules(const struct ctl *c, struct xr_rule **rules)
{
	int n = xr_rules_dump(&c->maps, rules);

	if (n < 0)
		err_fail("reading the rules: %s", strerror(-n));
	else
		qsort(*rules, (size_t)n, sizeof(**rules), cmp_rules);
	return n;
}

static int map_full(const struct xr_cidr *cidr, int err)
{
	if (err == -E2BIG || err == -ENOSPC || err == -ENOMEM)
		return err_fail("rule table full: at most %d IPv%u rules",
				XR_MAX_RULES, cidr->family);
	return err_fail("updating the rule maps: %s", strerror(-err));
}

/* Commands: target */

static int target_name_arg(const char *name)
{
	if (xr_name_ok(name))
		return 0;
	return err_usage("target name '%s': use 1-31 of A-Z a-z 0-9 _ . - "
			 "starting with a letter or digit",
			 name);
}

static int cmd_target_list(struct ctl *c, int argc, char **argv)
{
	if (argc > 1)
		return err_usage("unexpected argument '%s'", argv[1]);
	uint32_t uses[XR_MAX_TARGETS] = { 0 };
	struct xr_target t[XR_MAX_TARGETS];
	struct xr_rule *rules;
	bool first = true;
	uint32_t seq;
	int n, i;

	if ((n = open_maps(c)))
		return n;
	n = dump_rules(c, &rules);
	if (n < 0)
		return EXIT_FAIL;
	for (i = 0; i < n; i++)
		if (rules[i].target < XR_MAX_TARGETS)
			uses[rules[i].target]++;
	free(rules);
	if (xr_targets_snapshot(&c->maps, t, &seq, XR_SNAPSHOT_TRIES))
		return err_fail("the targets are being changed, or a change "
				"died half-way (any target or rule change "
				"repairs that): try again");
	if (c->json)
		putchar('[');
	else
		printf("%-20s %-6s %-6s %s\n", "NAME", "STATUS", "RULES",
		       "URL");
	for (i = 0; i < XR_MAX_TARGETS; i++) {
		char url[XR_TARGET_URL_MAX + 1];

		if (!t[i].name[0])
			continue;
		snprintf(url, sizeof(url), "%.*s", t[i].url_len, t[i].url);
		if (c->json) {
			printf("%s{\"name\":", first ? "" : ",");
			json_str(t[i].name);
			printf(",\"url\":");
			json_str(url);
			printf(",\"status\":%u,\"rules\":%u}", t[i].status,
			       uses[i]);
		} else {
			printf("%-20s %-6u %-6u %s\n", t[i].name, t[i].status,
			       uses[i], url);
		}
		first = false;
	}
	if (c->json)
		puts("]");
	return 0;
}

static int cmd_target_set(struct ctl *c, int argc, char **argv)
{
	uint16_t status = 302;
	char why[160];
	int idx, opt, ret;

	static const struct option opts[] = {
		{ "status", required_argument, NULL, 's' }, { NULL, 0, NULL, 0 }
	};

	optind = 1;
	opterr = 0; /* our own messages */
	while ((opt = getopt_long(argc, argv, "s:", opts, NULL)) != -1) {
		if (opt != 's' && optopt == 's')
			return err_usage("target set: --status needs a value");
		if (opt != 's')
			return err_usage(
				"target set: unknown option '%s' (usage: "
				"target set NAME URL [--status N])",
				argv[optind - 1]);
		if (xr_status_parse(optarg, &status))
			return err_usage("--status %s: must be 301, 302, 303, "
					 "307 or 308",
					 optarg);
	}
	if (argc - optind != 2)
		return err_usage("usage: target set NAME URL [--status N]");
	if (target_name_arg(argv[optind]))
		return EXIT_USAGE;
	if (xr_url_check(argv[optind + 1], why, sizeof(why)))
		return err_usage("URL '%s' %s", argv[optind + 1], why);
	if ((ret = lock_maps(c)))
		return ret;
	idx = !strcmp(argv[optind], "default") ?
		      XR_TARGET_DEFAULT :
		      xr_target_find(&c->maps, argv[optind]);
	if (idx < 0)
		idx = xr_target_free_slot(&c->maps);
	if (idx < 0)
		return err_fail("target table full (%d targets)",
				XR_MAX_TARGETS);
	xr_target_write(&c->maps, (uint32_t)idx, argv[optind], argv[optind + 1],
			status);
	return 0;
}

static int cmd_target_del(struct ctl *c, int argc, char **argv)
{
	struct xr_rule *rules;
	int idx, n, i, used = 0;
	char example[64] = "";

	if (argc != 2)
		return err_usage("usage: target del NAME");
	if (!strcmp(argv[1], "default"))
		return err_usage("the default target cannot be deleted (change "
				 "it with: target set default URL)");
	if (target_name_arg(argv[1]))
		return EXIT_USAGE;
	if ((n = lock_maps(c)))
		return n;
	idx = target_or_fail(c, argv[1]);
	if (idx < 0)
		return EXIT_USAGE;
	n = dump_rules(c, &rules);
	if (n < 0)
		return EXIT_FAIL;
	for (i = 0; i < n; i++) {
		if (rules[i].target != (uint32_t)idx)
			continue;
		if (!used++)
			xr_cidr_format(&rules[i].cidr, example,
				       sizeof(example));
	}
	free(rules);
	if (used)
		return err_fail("target '%s' is used by %d rule%s (e.g. %s): "
				"delete or change them first",
				argv[1], used, used == 1 ? "" : "s", example);
	xr_target_clear(&c->maps, (uint32_t)idx);
	return 0;
}

/* Commands: rule */

static int parse_cidr_arg(const char *s, struct xr_cidr *cidr)
{
	char err[160];

	if (xr_cidr_parse(s, cidr, err, sizeof(err)))
		return err_usage("%s", err);
	return 0;
}

static int cmd_rule_add(struct ctl *c, int argc, char **argv)
{
	struct xr_cidr cidr;
	int idx, err;

	if (argc != 3)
		return err_usage("usage: rule add CIDR TARGET");
	if (parse_cidr_arg(argv[1], &cidr))
		return EXIT_USAGE;
	if (target_name_arg(argv[2]))
		return EXIT_USAGE;
	if ((err = lock_maps(c)))
		return err;
	idx = target_or_fail(c, argv[2]);
	if (idx < 0)
		return EXIT_USAGE;
	err = xr_rule_add(&c->maps, &cidr, (uint32_t)idx,
			  XR_RULE_ORIGIN(XR_RULE_FROM_CTL, 0));
	return err ? map_full(&cidr, err) : 0;
}

static int cmd_rule_del(struct ctl *c, int argc, char **argv)
{
	struct xr_cidr cidr;
	int err;

	if (argc != 2)
		return err_usage("usage: rule del CIDR");
	if (parse_cidr_arg(argv[1], &cidr))
		return EXIT_USAGE;
	if ((err = lock_maps(c)))
		return err;
	err = xr_rule_del(&c->maps, &cidr);
	if (err == -ENOENT)
		return err_fail("no rule for %s", argv[1]);
	return err ? err_fail("deleting %s: %s", argv[1], strerror(-err)) : 0;
}

static int cmd_rule_list(struct ctl *c, int argc, char **argv)
{
	if (argc > 1)
		return err_usage("unexpected argument '%s'", argv[1]);
	struct xr_rule *rules;
	char cidr[64], origin[32];
	int n, i;

	if ((n = open_maps(c)))
		return n;
	n = dump_rules(c, &rules);
	if (n < 0)
		return EXIT_FAIL;
	if (c->json)
		putchar('[');
	for (i = 0; i < n; i++) {
		xr_cidr_format(&rules[i].cidr, cidr, sizeof(cidr));
		xr_rule_origin_format(rules[i].origin, origin, sizeof(origin));
		if (c->json) {
			printf("%s{\"cidr\":\"%s\",\"target\":", i ? "," : "",
			       cidr);
			json_str(target_name(&c->maps, rules[i].target));
			printf(",\"origin\":\"%s\"}", origin);
		} else {
			printf("%-44s %-31s %s\n", cidr,
			       target_name(&c->maps, rules[i].target), origin);
		}
	}
	if (c->json)
		puts("]");
	free(rules);
	return 0;
}

/* The user-space longest-prefix table of the active rules, for "via". */
static int rule_table(struct ctl *c, struct cidr_table *t)
{
	struct xr_rule *rules;
	int n, i;

	if ((n = open_maps(c)))
		return n;
	n = dump_rules(c, &rules);
	if (n < 0)
		return EXIT_FAIL;
	if (cidr_table_init(t, (uint32_t)n + 1)) {
		free(rules);
		return err_fail("out of memory");
	}
	for (i = 0; i < n; i++)
		cidr_table_add(t, &rules[i].cidr, rules[i].target);
	free(rules);
	return 0;
}

static void print_lookup(const struct ctl *c, const struct cidr_table *t,
			 const char *addr_text, uint8_t family,
			 const uint8_t *addr, bool batch)
{
	const struct xr_target *tgt;
	struct xr_cidr via;
	uint32_t idx, via_val;
	char via_text[64] = "";
	bool matched, in_table;

	idx = xr_rule_lookup(&c->maps, family, addr, &matched);
	in_table = cidr_table_lookup(t, family, addr, &via, &via_val);
	if (in_table)
		xr_cidr_format(&via, via_text, sizeof(via_text));
	tgt = &c->maps.targets[idx < XR_MAX_TARGETS ? idx : 0];
	if (batch) {
		printf("%s %s %s\n", addr_text, target_name(&c->maps, idx),
		       matched ? via_text : "-");
	} else if (c->json) {
		printf("{\"address\":\"%s\",\"target\":", addr_text);
		json_str(target_name(&c->maps, idx));
		printf(",\"url\":\"%.*s\",\"rule\":", tgt->url_len, tgt->url);
		if (matched)
			printf("\"%s\"}\n", via_text);
		else
			puts("null}");
	} else {
		printf("%s -> %s (%.*s) via %s\n", addr_text,
		       target_name(&c->maps, idx), tgt->url_len, tgt->url,
		       matched ? via_text : "the default (no rule matches)");
	}
}

static int lookup_batch(struct ctl *c, const struct cidr_table *t,
			const char *path)
{
	FILE *in = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL;
	size_t cap = 0;
	uint8_t family, addr[16];
	int lineno = 0, bad = 0;

	if (!in)
		return err_fail("cannot open %s: %s", path, strerror(errno));
	while (getline(&line, &cap, in) >= 0) {
		line[strcspn(line, " \t\r\n")] = 0;
		lineno++;
		if (!line[0] || line[0] == '#')
			continue;
		if (xr_addr_parse(line, &family, addr)) {
			fprintf(stderr,
				"xredirctl: %s:%d: '%s' is not an IP "
				"address\n",
				path, lineno, line);
			bad = 1;
			continue;
		}
		print_lookup(c, t, line, family, addr, true);
	}
	free(line);
	if (in != stdin)
		fclose(in);
	return bad ? EXIT_USAGE : 0;
}

static int cmd_rule_lookup(struct ctl *c, int argc, char **argv)
{
	uint8_t family, addr[16];
	struct cidr_table t;
	int ret;

	if (argc == 3 && !strcmp(argv[1], "--batch")) {
		if ((ret = rule_table(c, &t)))
			return ret;
		ret = lookup_batch(c, &t, argv[2]);
		cidr_table_free(&t);
		return ret;
	}
	if (argc != 2)
		return err_usage(
			"usage: rule lookup ADDR | rule lookup --batch "
			"FILE|-");
	if (xr_addr_parse(argv[1], &family, addr))
		return err_usage("'%s' is not an IP address", argv[1]);
	if ((ret = rule_table(c, &t)))
		return ret;
	print_lookup(c, &t, argv[1], family, addr, false);
	cidr_table_free(&t);
	return 0;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1e3 +
	       (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static int cmd_rule_load(struct ctl *c, int argc, char **argv)
{
	struct xr_config cfg;
	struct cfg_error err;
	struct xr_rule *rules;
	struct timespec t0;
	uint32_t v6 = 0, i;
	int ret;

	if (argc != 2)
		return err_usage("usage: rule load FILE");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (xr_config_load(argv[1], CFG_RULES_ONLY, &cfg, &err))
		return err.line ? err_usage("%s:%u: %s", argv[1], err.line,
					    err.msg) :
				  err_usage("%s", err.msg);
	if ((ret = lock_maps(c))) {
		xr_config_free(&cfg);
		return ret;
	}
	if (xr_rules_resolve(&c->maps, &cfg, &rules, &err)) {
		xr_config_free(&cfg);
		return err_usage("%s:%u: %s", argv[1], err.line, err.msg);
	}
	for (i = 0; i < cfg.n_rules; i++) {
		rules[i].origin = XR_RULE_ORIGIN(XR_RULE_FROM_CTL, 0);
		v6 += cfg.rules[i].cidr.family == 6;
	}
	ret = xr_rules_replace(&c->maps, rules, cfg.n_rules);
	free(rules);
	if (ret) {
		xr_config_free(&cfg);
		return err_fail("loading the rules: %s (nothing changed)",
				strerror(-ret));
	}
	printf("loaded %u rules (%u IPv4, %u IPv6) in %.0f ms\n", cfg.n_rules,
	       cfg.n_rules - v6, v6, ms_since(&t0));
	xr_config_free(&cfg);
	return 0;
}

/* Commands: config (needs no daemon: run before any instance lookup) */

static int cmd_config_check(struct ctl *c, int argc, char **argv)
{
	int worst = XR_CHECK_OK, ret, i;

	(void)c;
	if (argc < 2)
		return err_usage("usage: config check FILE...");
	for (i = 1; i < argc; i++) {
		ret = xr_config_check_file(argv[i], stderr);
		if (ret > worst)
			worst = ret;
	}
	return worst;
}

/* Commands: match (the original single MATCH_IP) */

/* Replaces the rules pointing at "rewrite" with add (if any), at once. */
static int replace_match(struct ctl *c, const struct xr_cidr *add)
{
	struct xr_rule *rules;
	int idx, n, i, kept = 0, err;

	if ((err = lock_maps(c)))
		return err;
	idx = xr_target_find(&c->maps, REWRITE_NAME);
	if (idx < 0)
		return err_fail("no '%s' target (create it: xredirctl target "
				"set %s URL)",
				REWRITE_NAME, REWRITE_NAME);
	n = xr_rules_dump(&c->maps, &rules);
	if (n < 0)
		return err_fail("reading the rules: %s", strerror(-n));
	for (i = 0; i < n; i++)
		if (rules[i].target != (uint32_t)idx &&
		    (!add || memcmp(&rules[i].cidr, add, sizeof(*add))))
			rules[kept++] = rules[i];
	if (add) {
		struct xr_rule *grown =
			realloc(rules, (kept + 1) * sizeof(*rules));

		if (!grown) {
			free(rules);
			return err_fail("out of memory");
		}
		rules = grown;
		rules[kept].cidr = *add;
		rules[kept].origin = XR_RULE_ORIGIN(XR_RULE_FROM_CTL, 0);
		rules[kept++].target = (uint32_t)idx;
	}
	err = xr_rules_replace(&c->maps, rules, (uint32_t)kept);
	free(rules);
	if (!err)
		return 0;
	if (add)
		return map_full(add, err);
	return err_fail("updating the rule maps: %s", strerror(-err));
}

static int cmd_match_set(struct ctl *c, int argc, char **argv)
{
	struct xr_cidr cidr;

	if (argc != 2)
		return err_usage("usage: match set ADDR[/LEN]");
	if (parse_cidr_arg(argv[1], &cidr))
		return EXIT_USAGE;
	return replace_match(c, &cidr);
}

static int cmd_match_clear(struct ctl *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return err_usage("usage: match clear");
	return replace_match(c, NULL);
}

/* Commands: vip */

/* An address, or "any" (*any set): checked before any daemon lookup. */
static int vip_arg(const char *s, struct xr_vip *v, bool *any)
{
	char err[160];

	*any = xr_vip_is_any(s);
	if (*any || !xr_vip_parse(s, v, err, sizeof(err)))
		return 0;
	return err_usage("%s", err);
}

static int cmd_vip_add(struct ctl *c, int argc, char **argv)
{
	struct xr_vip v;
	bool any;
	int err;

	if (argc != 2)
		return err_usage("usage: vip add ADDR|any");
	if (vip_arg(argv[1], &v, &any))
		return EXIT_USAGE;
	if ((err = lock_maps(c)))
		return err;
	if (any) {
		c->maps.ctl->vip_any = 1;
		return 0;
	}
	v.origin = XR_VIP_FROM_CTL;
	err = xr_vip_add(&c->maps, &v);
	if (err == -EEXIST)
		return 0; /* already served: nothing to change */
	if (err == -E2BIG || err == -ENOSPC || err == -ENOMEM)
		return err_fail("service address table full: at most %d IPv%u "
				"addresses",
				XR_MAX_VIPS, v.family);
	return err ? err_fail("adding %s: %s", argv[1], strerror(-err)) : 0;
}

static int cmd_vip_del(struct ctl *c, int argc, char **argv)
{
	struct xr_vip v;
	bool any;
	int err;

	if (argc != 2)
		return err_usage("usage: vip del ADDR|any");
	if (vip_arg(argv[1], &v, &any))
		return EXIT_USAGE;
	if ((err = lock_maps(c)))
		return err;
	if (any) {
		c->maps.ctl->vip_any = 0;
		return 0;
	}
	err = xr_vip_del(&c->maps, &v);
	if (err == -ENOENT)
		return err_fail("%s is not a service address", argv[1]);
	return err ? err_fail("deleting %s: %s", argv[1], strerror(-err)) : 0;
}

static int cmd_vip_list(struct ctl *c, int argc, char **argv)
{
	if (argc > 1)
		return err_usage("unexpected argument '%s'", argv[1]);
	struct xr_vip_set set;
	char addr[64];
	uint32_t i;
	int err;

	if ((err = open_maps(c)))
		return err;
	err = xr_vips_dump(&c->maps, &set);
	if (err)
		return err_fail("reading the service addresses: %s",
				strerror(-err));
	if (c->json)
		printf("{\"any\":%s,\"addresses\":[",
		       c->maps.ctl->vip_any ? "true" : "false");
	else if (c->maps.ctl->vip_any)
		printf("%-44s %s\n", "any", "(every destination address)");
	for (i = 0; i < set.n; i++) {
		xr_vip_format(&set.v[i], addr, sizeof(addr));
		if (c->json)
			printf("%s{\"addr\":\"%s\",\"origin\":\"%s\"}",
			       i ? "," : "", addr,
			       xr_vip_origin_name(set.v[i].origin));
		else
			printf("%-44s %s\n", addr,
			       xr_vip_origin_name(set.v[i].origin));
	}
	if (c->json)
		puts("]}");
	xr_vip_set_free(&set);
	return 0;
}

/* Commands: stats, status */

static void sum_worker_stats(const struct xr_maps *m, uint32_t queues,
			     uint64_t *out)
{
	uint32_t q, i;

	memset(out, 0, WS_MAX * sizeof(*out));
	for (q = 0; q < queues && q < XR_MAX_QUEUES; q++)
		for (i = 0; i < WS_MAX; i++)
			out[i] += m->stats[q].v[i];
}

static int cmd_stats(struct ctl *c, int argc, char **argv)
{
	if (argc > 1)
		return err_usage("unexpected argument '%s'", argv[1]);
	uint64_t xdp[XR_CNT_MAX], ws[WS_MAX];
	uint32_t queues, i;
	int err = open_maps(c);

	if (err)
		return err;
	queues = c->maps.status->queues;
	if (xr_counters_read(&c->maps, xdp))
		return err_fail("reading the XDP counters failed");
	sum_worker_stats(&c->maps, queues ? queues : XR_MAX_QUEUES, ws);
	for (i = 0; i < WS_MAX; i++)
		ws[i] += xr_xdp_share(xdp, i);
	if (c->json)
		putchar('{');
	for (i = 0; i < XR_CNT_MAX; i++) {
		if (c->json)
			printf("%s\"xdp_%s\":%llu", i ? "," : "",
			       xr_counter_name(i), (unsigned long long)xdp[i]);
		else
			printf("xdp_%-20s %llu\n", xr_counter_name(i),
			       (unsigned long long)xdp[i]);
	}
	for (i = 0; i < WS_MAX; i++) {
		if (c->json)
			printf(",\"%s\":%llu", worker_stat_name(i),
			       (unsigned long long)ws[i]);
		else
			printf("%-24s %llu\n", worker_stat_name(i),
			       (unsigned long long)ws[i]);
	}
	if (c->json)
		puts("}");
	return 0;
}

/* Kernel memory charged for a map (its fdinfo's memlock line). */
static uint64_t map_memory(int fd)
{
	char path[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static const char *reload_text(const struct xr_status *st, char *buf,
			       size_t len)
{
	if (st->reload_result == XR_RELOAD_OK)
		snprintf(buf, len, "ok");
	else if (st->reload_result == XR_RELOAD_FAILED && st->reload_line)
		snprintf(buf, len, "failed: line %u: %s", st->reload_line,
			 st->reload_error);
	else if (st->reload_result == XR_RELOAD_FAILED)
		snprintf(buf, len, "failed: %s", st->reload_error);
	else
		snprintf(buf, len, "none");
	return buf;
}

/* How many rules each maker made: [XR_RULE_FROM_*], 0 for unknown.
 * Returns 0 or -errno. */
static int count_origins(struct ctl *c, unsigned int by[4])
{
	struct xr_rule *rules;
	int n, i;

	memset(by, 0, 4 * sizeof(*by));
	n = xr_rules_dump(&c->maps, &rules);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		unsigned int maker = XR_RULE_MAKER(rules[i].origin);

		by[maker < 4 ? maker : 0]++;
	}
	free(rules);
	return 0;
}

/* The certificates in force, a line each: indented, or JSON strings. */
static void tls_lines(const struct xr_status *st, bool json)
{
	char certs[sizeof(st->tls_certs) + 1];
	char *line, *save = NULL;
	int n = 0;

	memcpy(certs, st->tls_certs, sizeof(st->tls_certs));
	certs[sizeof(st->tls_certs)] = 0;
	for (line = strtok_r(certs, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (json) {
			printf("%s", n++ ? "," : "");
			json_str(line);
		} else {
			printf("  certificate %s\n", line);
		}
	}
}

/* What status shows, read once: a part that could not be read has its
 * -errno (rules_err, vips_err) and no value. */
struct status_view {
	const struct xr_status *st;
	bool alive;
	uint64_t uptime, mem;
	int targets, rules_err, vips_err;
	char reload[XR_STATUS_TEXT_MAX + 64];
	unsigned int by[4]; /* rules by maker */
	struct xr_vip_set vips;
};

static void status_json(const struct ctl *c, const struct status_view *s)
{
	const struct xr_status *st = s->st;
	char addr[64];
	uint32_t v;

	printf("{\"pin_dir\":");
	json_str(c->pin_dir);
	printf(",\"running\":%s,\"pid\":%u,\"iface\":",
	       s->alive ? "true" : "false", s->alive ? st->pid : 0);
	json_str(st->iface);
	printf(",\"port\":%u,\"xdp_mode\":\"%s\",\"bind_mode\":\"%s\","
	       "\"dispatcher\":%s,\"queues\":%u,\"ring_size\":%u,"
	       "\"xdp_synack\":%s,"
	       "\"uptime_s\":%llu,"
	       "\"rules_ipv4\":%u,\"rules_ipv6\":%u,\"targets\":%d,"
	       "\"map_memory_bytes\":%llu,\"config\":",
	       st->port, xr_xdp_mode_name(st->xdp_mode),
	       st->zerocopy ? "zerocopy" : "copy",
	       st->dispatcher ? "true" : "false", st->queues, st->ring_size,
	       st->xdp_synack ? "true" : "false", (unsigned long long)s->uptime,
	       c->maps.ctl->rules_count[0], c->maps.ctl->rules_count[1],
	       s->targets, (unsigned long long)s->mem);
	json_str(st->config_path);
	printf(",\"reload\":");
	json_str(s->reload);
	printf(",\"reload_line\":%u,\"reloads\":%u,\"rules_by_origin\":",
	       st->reload_line, st->reload_count);
	if (s->rules_err)
		printf("null");
	else
		printf("{\"config\":%u,\"flag\":%u,\"xredirctl\":%u}",
		       s->by[XR_RULE_FROM_CONFIG], s->by[XR_RULE_FROM_FLAG],
		       s->by[XR_RULE_FROM_CTL]);
	printf(",\"vip_any\":%s,\"vips\":",
	       c->maps.ctl->vip_any ? "true" : "false");
	if (s->vips_err) {
		printf("null");
	} else {
		putchar('[');
		for (v = 0; v < s->vips.n; v++) {
			xr_vip_format(&s->vips.v[v], addr, sizeof(addr));
			printf("%s\"%s\"", v ? "," : "", addr);
		}
		putchar(']');
	}
	printf(",\"tls_port\":%u,\"tls_reloads\":%u,"
	       "\"tls_reload_failures\":%u,\"tls_error\":",
	       st->tls_port, st->tls_reloads, st->tls_failures);
	json_str(st->tls_error);
	printf(",\"tls_certificates\":[");
	tls_lines(st, true);
	printf("],\"errors\":{");
	if (s->rules_err) {
		printf("\"rules\":");
		json_str(strerror(-s->rules_err));
	}
	if (s->vips_err) {
		printf("%s\"service_addresses\":", s->rules_err ? "," : "");
		json_str(strerror(-s->vips_err));
	}
	puts("}}");
}

static void status_text(const struct ctl *c, const struct status_view *s)
{
	const struct xr_status *st = s->st;
	char addr[64];
	uint32_t v;

	printf("instance:    %s\n", c->pin_dir);
	printf("daemon:      %s", s->alive ? "running" : "not running");
	if (s->alive)
		printf(" (pid %u, up %llus)", st->pid,
		       (unsigned long long)s->uptime);
	printf("\ninterface:   %s, port %u\n", st->iface, st->port);
	printf("xdp:         %s mode%s, %s sockets, %u queue%s, rings of %u, "
	       "SYNs answered %s\n",
	       xr_xdp_mode_name(st->xdp_mode),
	       st->dispatcher ? " (libxdp dispatcher)" : "",
	       st->zerocopy ? "zero-copy" : "copy-mode", st->queues,
	       st->queues == 1 ? "" : "s", st->ring_size,
	       st->xdp_synack ? "in XDP" : "by the workers");
	printf("rules:       %u IPv4, %u IPv6 (", c->maps.ctl->rules_count[0],
	       c->maps.ctl->rules_count[1]);
	if (s->rules_err)
		printf("origins unreadable: %s)\n", strerror(-s->rules_err));
	else
		printf("%u config, %u flag, %u xredirctl)\n",
		       s->by[XR_RULE_FROM_CONFIG], s->by[XR_RULE_FROM_FLAG],
		       s->by[XR_RULE_FROM_CTL]);
	printf("targets:     %d\n", s->targets);
	if (s->vips_err) {
		printf("service:     %sunreadable: %s%s\n",
		       c->maps.ctl->vip_any ? "any (" : "",
		       strerror(-s->vips_err), c->maps.ctl->vip_any ? ")" : "");
	} else {
		printf("service:     %s%u address%s",
		       c->maps.ctl->vip_any ? "any (" : "", s->vips.n,
		       s->vips.n == 1 ? "" : "es");
		for (v = 0; v < s->vips.n; v++) {
			xr_vip_format(&s->vips.v[v], addr, sizeof(addr));
			printf("%s%s", v ? ", " : ": ", addr);
		}
		printf("%s\n", c->maps.ctl->vip_any ? ")" : "");
	}
	printf("map memory:  %llu bytes\n", (unsigned long long)s->mem);
	printf("config:      %s\n", st->config_path[0] ? st->config_path : "-");
	printf("last reload: %s\n", s->reload);
	if (st->tls_port) {
		printf("tls:         port %u, %u reload%s of certificates, %u "
		       "refused%s%s\n",
		       st->tls_port, st->tls_reloads,
		       st->tls_reloads == 1 ? "" : "s", st->tls_failures,
		       st->tls_error[0] ? "; the last: " : "", st->tls_error);
		tls_lines(st, false);
	}
}

/* Prints all it can read: a part that cannot be read (the rules, the
 * service addresses) is named, in the output and on stderr, and the exit
 * status says it failed. */
static int cmd_status(struct ctl *c, int argc, char **argv)
{
	if (argc > 1)
		return err_usage("unexpected argument '%s'", argv[1]);
	struct status_view s;
	int i, ret;

	if ((ret = open_maps(c)))
		return ret;
	memset(&s, 0, sizeof(s));
	s.rules_err = count_origins(c, s.by);
	s.vips_err = xr_vips_dump(&c->maps, &s.vips);
	s.st = c->maps.status;
	s.alive = daemon_alive(s.st);
	for (i = 0; i < XR_NMAPS; i++)
		s.mem += map_memory(c->maps.fd[i]);
	for (i = 0; i < XR_MAX_TARGETS; i++)
		s.targets += !!c->maps.targets[i].name[0];
	s.uptime = s.alive ? (uint64_t)time(NULL) - s.st->started_unix : 0;
	reload_text(s.st, s.reload, sizeof(s.reload));
	(c->json ? status_json : status_text)(c, &s);
	if (!s.vips_err)
		xr_vip_set_free(&s.vips);
	fflush(stdout);
	if (s.rules_err)
		err_fail("status: reading the rules failed: %s",
			 strerror(-s.rules_err));
	if (s.vips_err)
		err_fail("status: reading the service addresses failed: %s",
			 strerror(-s.vips_err));
	return s.rules_err || s.vips_err ? EXIT_FAIL : 0;
}

static int cmd_version(struct ctl *c, int argc, char **argv)
{
	(void)c;
	if (argc > 1)
		return err_usage("unexpected argument '%s'", argv[1]);
	printf("xredirctl %s\n", xr_version);
	return 0;
}

static const struct command commands[] = {
	{ "status", NULL, cmd_status, "status [--json]",
	  "interface, modes, queues, rules, targets, service addresses, map "
	  "memory, uptime, config reload result" },
	{ "stats", NULL, cmd_stats, "stats [--json]",
	  "XDP counters (summed over CPUs) and responder counters (summed "
	  "over queues)" },
	{ "target", "list", cmd_target_list, "target list [--json]",
	  "targets with their status code and how many rules use them" },
	{ "target", "set", cmd_target_set,
	  "target set NAME URL [--status 301|302|303|307|308]",
	  "add or change a target (NAME 'default' is the default target)" },
	{ "target", "del", cmd_target_del, "target del NAME",
	  "delete a target no rule uses" },
	{ "rule", "list", cmd_rule_list, "rule list [--json]",
	  "the rules of the active set, each with its origin: config:LINE, "
	  "flag or xredirctl" },
	{ "rule", "add", cmd_rule_add, "rule add CIDR TARGET",
	  "clients in CIDR go to TARGET (replaces a rule for the same CIDR)" },
	{ "rule", "del", cmd_rule_del, "rule del CIDR", "delete a rule" },
	{ "rule", "lookup", cmd_rule_lookup,
	  "rule lookup ADDR [--json] | rule lookup --batch FILE|-",
	  "which target an address gets, and through which rule" },
	{ "rule", "load", cmd_rule_load, "rule load FILE",
	  "replace all rules at once from a file of 'rule CIDR TARGET' lines" },
	{ "config", "check", cmd_config_check, "config check FILE...",
	  "check config files as xredird's reload would (exit 0: all valid, "
	  "2: one is invalid, 1: one is unreadable)" },
	{ "match", "set", cmd_match_set, "match set ADDR[/LEN]",
	  "send ADDR to the 'rewrite' target (the original MATCH_IP)" },
	{ "match", "clear", cmd_match_clear, "match clear",
	  "remove the rules of the 'rewrite' target" },
	{ "vip", "list", cmd_vip_list, "vip list [--json]",
	  "the service addresses, each with its origin: iface, flag or "
	  "xredirctl; 'any' first if every address is served" },
	{ "vip", "add", cmd_vip_add, "vip add ADDR|any",
	  "also answer on ADDR (any: on every destination address)" },
	{ "vip", "del", cmd_vip_del, "vip del ADDR|any",
	  "stop answering on ADDR (its segments pass to the kernel); any: "
	  "back to the listed addresses only" },
	{ "version", NULL, cmd_version, "version",
	  "the version of xredirctl (as --version)" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* The options before or after the command, for --help and --doc. */
static const struct global_opt {
	char short_name;
	const char *name, *meta, *help;
	const char *const *choices; /* the values the completion offers */
} global_opts[] = {
	{ 'i', "iface", "IFACE",
	  "the instance serving IFACE (default: the only one)", NULL },
	{ 0, "pin-dir", "DIR", "the instance's pin directory", NULL },
	{ 0, "bpffs", "DIR",
	  "bpffs mount (default $" XR_BPFFS_ENV " or " XR_DEFAULT_BPFFS ")",
	  NULL },
	{ 0, "json", NULL, "JSON output where a command prints data", NULL },
	{ 'h', "help", NULL, "this text; COMMAND --help for one command",
	  NULL },
	{ 0, "version", NULL, "print the version", NULL },
	{ 0, "doc", "FORMAT",
	  "print this reference for the man page (man: roff) or the shell "
	  "completion (bash: word lists) and exit",
	  (const char *const[]){ "man", "bash", NULL } },
};

#define NGLOBALS (sizeof(global_opts) / sizeof(global_opts[0]))

static void global_left(const struct global_opt *g, char *buf, size_t len)
{
	int n;

	if (g->short_name)
		n = snprintf(buf, len, "-%c, --%s", g->short_name, g->name);
	else
		n = snprintf(buf, len, "--%s", g->name);
	if (g->meta)
		snprintf(buf + n, len - (size_t)n, " %s", g->meta);
}

static void usage(FILE *out)
{
	char left[64];
	size_t i;

	fprintf(out,
		"usage: xredirctl [--iface IFACE | --pin-dir DIR] [--bpffs DIR] "
		"[--json] COMMAND ...\n\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-54s %s\n", commands[i].usage,
			commands[i].help);
	fprintf(out, "\noptions:\n");
	for (i = 0; i < NGLOBALS; i++) {
		global_left(&global_opts[i], left, sizeof(left));
		fprintf(out, "%s%-*s%s\n",
			global_opts[i].short_name ? "  " : "      ",
			global_opts[i].short_name ? 20 : 16, left,
			global_opts[i].help);
	}
}

/* The flags a command's usage names ("--status" in "target set ..."). */
static void command_flags(FILE *out, const struct command *cmd)
{
	const char *p = cmd->usage;

	fputs("--help", out);
	while ((p = strstr(p, "--"))) {
		size_t n = strspn(p, "-abcdefghijklmnopqrstuvwxyz");

		fprintf(out, " %.*s", (int)n, p);
		p += n;
	}
}

/* --doc man: the COMMANDS then the OPTIONS items; --doc bash: the
 * completion's word lists (doc.h). */
static int doc(const char *format)
{
	char left[64];
	size_t i, j;

	if (!strcmp(format, "man")) {
		fputs(".SH COMMANDS\n", stdout);
		for (i = 0; i < NCOMMANDS; i++)
			doc_roff_item(stdout, commands[i].usage,
				      commands[i].help);
		fputs(".SH OPTIONS\n", stdout);
		for (i = 0; i < NGLOBALS; i++) {
			global_left(&global_opts[i], left, sizeof(left));
			doc_roff_item(stdout, left, global_opts[i].help);
		}
		return 0;
	}
	if (strcmp(format, "bash"))
		return err_usage("--doc: '%s' is not man or bash", format);
	fputs("_xredirctl_flags='", stdout);
	for (i = 0; i < NGLOBALS; i++) {
		if (global_opts[i].short_name)
			printf("-%c ", global_opts[i].short_name);
		printf("--%s%s", global_opts[i].name,
		       i + 1 < NGLOBALS ? " " : "'\n");
	}
	fputs("_xredirctl_value()\n{\n\tcase $1 in\n", stdout);
	for (i = 0; i < NGLOBALS; i++)
		if (global_opts[i].meta)
			doc_bash_value(stdout, global_opts[i].short_name,
				       global_opts[i].name, global_opts[i].meta,
				       global_opts[i].choices);
	fputs("\t*) return 1 ;;\n\tesac\n}\n", stdout);
	/* Its words after the command words given so far ("", "rule",
	 * "rule add"): commands, a group's subcommands, a command's flags. */
	fputs("_xredirctl_words()\n{\n\tcase $1 in\n\t'') echo '", stdout);
	for (i = 0; i < NCOMMANDS; i++)
		if (!i || strcmp(commands[i].name, commands[i - 1].name))
			printf("%s%s", i ? " " : "", commands[i].name);
	fputs("' ;;\n", stdout);
	for (i = 0; i < NCOMMANDS; i++) {
		if (commands[i].sub &&
		    (!i || strcmp(commands[i].name, commands[i - 1].name))) {
			printf("\t'%s') echo '", commands[i].name);
			for (j = i; j < NCOMMANDS &&
				    !strcmp(commands[j].name, commands[i].name);
			     j++)
				printf("%s%s", j > i ? " " : "",
				       commands[j].sub);
			fputs("' ;;\n", stdout);
		}
		printf("\t'%s%s%s') echo '", commands[i].name,
		       commands[i].sub ? " " : "",
		       commands[i].sub ? commands[i].sub : "");
		command_flags(stdout, &commands[i]);
		fputs("' ;;\n", stdout);
	}
	fputs("\tesac\n}\n", stdout);
	return 0;
}

static const struct command *find_command(int argc, char **argv, int *used)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[0], commands[i].name))
			continue;
		if (!commands[i].sub) {
			*used = 1;
			return &commands[i];
		}
		if (argc > 1 && !strcmp(argv[1], commands[i].sub)) {
			*used = 2;
			return &commands[i];
		}
	}
	return NULL;
}

static bool is_help(const char *a)
{
	return !strcmp(a, "--help") || !strcmp(a, "-h");
}

/* "rule --help": the group's commands, on stdout. */
static bool group_help(const char *group)
{
	bool any = false;
	size_t i;

	for (i = 0; i < NCOMMANDS; i++) {
		if (!commands[i].sub || strcmp(commands[i].name, group))
			continue;
		if (!any)
			printf("usage: xredirctl %s COMMAND ...\n", group);
		printf("  %-54s %s\n", commands[i].usage, commands[i].help);
		any = true;
	}
	return any;
}

/* "rule" alone, or with an unknown verb: say so, list what it has. */
static bool group_usage(const char *group, const char *verb)
{
	bool any = false;
	size_t i;

	for (i = 0; i < NCOMMANDS; i++) {
		if (!commands[i].sub || strcmp(commands[i].name, group))
			continue;
		if (!any && verb)
			err_usage("unknown command '%s %s'; %s commands:",
				  group, verb, group);
		else if (!any)
			err_usage("'%s' needs a command:", group);
		fprintf(stderr, "  xredirctl %s\n", commands[i].usage);
		any = true;
	}
	return any;
}

/* The value of a global option: "--opt=V", or "--opt V" (next arg). */
static const char **option_slot(struct ctl *c, const char *a, size_t *len)
{
	static const char *const names[] = { "--iface", "-i", "--pin-dir",
					     "--bpffs" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		*len = strlen(names[i]);
		if (strncmp(a, names[i], *len) || (a[*len] && a[*len] != '='))
			continue;
		if (i < 2)
			return &c->iface;
		return i == 2 ? &c->pin_dir_opt : &c->bpffs;
	}
	return NULL;
}

/* Pulls the global options out of argv, wherever they are. */
static int global_options(struct ctl *c, int *argc, char **argv)
{
	int i, n = 0;

	for (i = 0; i < *argc; i++) {
		const char *a = argv[i], **slot;
		size_t len;

		if (!strcmp(a, "--json")) {
			c->json = true;
			continue;
		}
		slot = option_slot(c, a, &len);
		if (!slot) {
			argv[n++] = argv[i];
			continue;
		}
		if (a[len] == '=')
			*slot = a + len + 1;
		else if (i + 1 < *argc)
			*slot = argv[++i];
		else
			return err_usage("%s needs a value", a);
		if (!**slot)
			return err_usage("%s needs a value", a);
	}
	*argc = n;
	return 0;
}

int main(int argc, char **argv)
{
	struct ctl c = { .lock = -1 };
	const struct command *cmd;
	int used = 0, ret, i;

	c.bpffs = getenv(XR_BPFFS_ENV) ? getenv(XR_BPFFS_ENV) :
					 XR_DEFAULT_BPFFS;
	argc--;
	argv++;
	if (global_options(&c, &argc, argv))
		return EXIT_USAGE;
	if (!argc || is_help(argv[0]) || !strcmp(argv[0], "help")) {
		usage(argc ? stdout : stderr);
		return argc ? 0 : EXIT_USAGE;
	}
	if (!strcmp(argv[0], "--version"))
		argv[0] = (char *)"version";
	if (!strncmp(argv[0], "--doc=", 6))
		return doc(argv[0] + 6);
	if (!strcmp(argv[0], "--doc"))
		return argc > 1 ?
			       doc(argv[1]) :
			       err_usage("--doc needs a value (man or bash)");
	cmd = find_command(argc, argv, &used);
	if (!cmd && argc > 1 && is_help(argv[1]) && group_help(argv[0]))
		return 0;
	if (!cmd && group_usage(argv[0], argc > 1 ? argv[1] : NULL))
		return EXIT_USAGE;
	if (!cmd) {
		err_usage("unknown command '%s%s%s' (see xredirctl --help)",
			  argv[0], argc > 1 ? " " : "",
			  argc > 1 ? argv[1] : "");
		return EXIT_USAGE;
	}
	for (i = used; i < argc; i++) {
		if (is_help(argv[i])) {
			printf("usage: xredirctl %s\n  %s\n", cmd->usage,
			       cmd->help);
			return 0;
		}
	}
	/* Handlers see their arguments with the verb as argv[0]. */
	ret = cmd->run(&c, argc - used + 1, argv + used - 1);
	xr_unlock(c.lock);
	if (c.maps_open)
		xr_maps_close(&c.maps);
	return ret;
}
