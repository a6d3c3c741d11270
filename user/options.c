// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xredird's flags: the table, and the parser and --help text made from it
 * (the model is xdp-tools' option tables).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "defaults.h"
#include "doc.h"
#include "listener.h"
#include "options.h"
#include "version.h"

#define HELP_COL 28 /* where the help text starts */
#define HELP_WIDTH 80
#define LONG_ONLY 256 /* getopt_long's value of a flag without a short name */

static const char *const xdp_modes[] = { "auto", "native", "skb", NULL };
static const char *const bind_modes[] = { "auto", "zerocopy", "copy", NULL };
static const char *const ip_headers[] = { "X-Forwarded-For", "X-Real-IP",
					  NULL };
static const char *const log_formats[] = { "text", "json", NULL };
static const char *const off_on[] = { "off", "on", NULL };
static const char *const auto_on_off[] = { "auto", "on", "off", NULL };
static const char *const doc_formats[] = { "man", "bash", NULL };

static int parse_url(struct options *o, const struct opt_def *d,
		     const char *arg, FILE *err);
static int parse_match(struct options *o, const struct opt_def *d,
		       const char *arg, FILE *err);
static int parse_trusted(struct options *o, const struct opt_def *d,
			 const char *arg, FILE *err);
static int parse_vip(struct options *o, const struct opt_def *d,
		     const char *arg, FILE *err);
static int parse_listen(struct options *o, const struct opt_def *d,
			const char *arg, FILE *err);
static int parse_methods(struct options *o, const struct opt_def *d,
			 const char *arg, FILE *err);
static int parse_tls_cert(struct options *o, const struct opt_def *d,
			  const char *arg, FILE *err);
static int parse_tls_key(struct options *o, const struct opt_def *d,
			 const char *arg, FILE *err);
static int parse_ring_size(struct options *o, const struct opt_def *d,
			   const char *arg, FILE *err);

/*
 * One entry per flag: long name, short name (0: none), argument name (NULL:
 * takes none), kind, destination field, help text, then what the kind
 * needs (see struct opt_def).
 */
#define DEFINE_OPTION(lname, sname, metavar, kind_, dst, text, ...)       \
	{                                                                 \
		.name = lname, .short_name = sname, .meta = metavar,      \
		.kind = kind_, .off = offsetof(struct options, dst),      \
		.size = sizeof(((struct options *)0)->dst), .help = text, \
		__VA_ARGS__                                               \
	}

/* In --help's order. */
const struct opt_def opt_table[] = {
	DEFINE_OPTION("iface", 'i', "IFACE", OPT_STRING, ifname,
		      "interface to serve on; 'auto': the one of the default "
		      "route",
		      .required = true),
	DEFINE_OPTION("port", 'p', "N", OPT_UINT, tcp.port, "service TCP port",
		      .min = 1, .max = 65535, .want = "a port 1..65535"),
	DEFINE_OPTION("tls-port", 0, "N", OPT_UINT, tcp.tls_port,
		      "HTTPS port, beside the plain one", .min = 1,
		      .max = 65535, .want = "a port 1..65535",
		      .show_def = "443 once a certificate is given"),
	DEFINE_OPTION("tls-cert", 0, "FILE", OPT_FUNC, tls,
		      "certificate chain (PEM, leaf first), chosen by SNI; "
		      "the first is the default",
		      .parse = parse_tls_cert, .repeat = true),
	DEFINE_OPTION("tls-key", 0, "FILE", OPT_FUNC, tls,
		      "private key (PEM) of the --tls-cert before it",
		      .parse = parse_tls_key, .repeat = true),
	DEFINE_OPTION("tls-ticket-key-file", 0, "FILE", OPT_STRING,
		      tls_ticket_key_file,
		      "secret (>= 32 bytes) for session tickets: servers "
		      "sharing it resume each other's sessions",
		      .show_def = "a random secret per start"),
	DEFINE_OPTION("vip", 0, "ADDR", OPT_FUNC, vips,
		      "also answer on this service address (e.g. one on lo), "
		      "beside the interface's own; 'any': every address",
		      .parse = parse_vip, .repeat = true),
	DEFINE_OPTION("config", 'c', "FILE", OPT_STRING, config_path,
		      "targets and rules; reloaded on change and SIGHUP"),
	DEFINE_OPTION("check-config", 't', NULL, OPT_BOOL, check_config,
		      "check the --config file as a reload would and exit "
		      "(0: valid, 2: invalid, 1: unreadable); needs no "
		      "--iface, root or bpffs"),
	DEFINE_OPTION("default-target", 0, "URL", OPT_FUNC, default_target,
		      "where unmatched clients go", .parse = parse_url,
		      .show_def = DEFAULT_TARGET),
	DEFINE_OPTION("match-ip", 0, "ADDR[/LEN]", OPT_FUNC, match,
		      "send this client to --rewrite-target",
		      .parse = parse_match, .env = "MATCH_IP", .repeat = true),
	DEFINE_OPTION("rewrite-target", 0, "URL", OPT_FUNC, rewrite_target,
		      "target for --match-ip", .parse = parse_url,
		      .show_def = DEFAULT_REWRITE),
	DEFINE_OPTION("trust-proxy", 0, "LIST", OPT_FUNC, proxy,
		      "CIDRs of proxies whose client-address header is "
		      "believed",
		      .parse = parse_trusted),
	DEFINE_OPTION("client-ip-header", 0, "H", OPT_CHOICE, proxy.header,
		      "the proxies' header with the client's address",
		      .choices = ip_headers),
	DEFINE_OPTION("registry-v2-ping", 0, NULL, OPT_BOOL,
		      lim.registry_v2_ping,
		      "answer GET/HEAD /v2/ with 200 (registry API probe)"),
	DEFINE_OPTION("metrics-listen", 0, "A:P", OPT_FUNC, metrics_listen,
		      "serve /metrics, /healthz, /readyz on ADDR:PORT",
		      .parse = parse_listen),
	DEFINE_OPTION("methods", 0, "LIST", OPT_FUNC, lim,
		      "answer only these methods, others 405 (e.g. GET,HEAD)",
		      .parse = parse_methods),
	DEFINE_OPTION("queues", 'q', "N", OPT_UINT, queues,
		      "serve the first N receive queues", .min = 1,
		      .max = XR_MAX_QUEUES, .show_def = "all"),
	DEFINE_OPTION("xdp-mode", 0, "MODE", OPT_CHOICE, xdp_mode, NULL,
		      .choices = xdp_modes),
	DEFINE_OPTION("bind-mode", 0, "MODE", OPT_CHOICE, bind_mode, NULL,
		      .choices = bind_modes),
	DEFINE_OPTION("coalesce-us", 0, "USEC", OPT_UINT, coalesce_us,
		      "while traffic is dense (a frame per USEC), look at "
		      "the rings every USEC instead of being woken per "
		      "packet; 0: off",
		      .min = 0, .max = 1000, .unit = "microseconds",
		      .def = "20"),
	DEFINE_OPTION("ring-size", 0, "N", OPT_FUNC, ring_size,
		      "descriptors in each AF_XDP ring of a queue (a power "
		      "of two); the queue's buffer holds 2N frames: a "
		      "burst beyond N waiting frames is dropped by the kernel "
		      "(xredir_queue_rx_ring_full_total)",
		      .parse = parse_ring_size, .min = XSK_RING_MIN,
		      .max = XSK_RING_MAX, .def = "4096"),
	DEFINE_OPTION("lazy-acks", 0, "on|off", OPT_CHOICE, lazy_acks,
		      "bare ACKs, and FINs that answer ours, wait for the "
		      "worker's next pass in a ring that does not wake it (at "
		      "most 100 ms), instead of waking it each",
		      .choices = off_on, .def = "on", .want = "on or off"),
	DEFINE_OPTION("xdp-synack", 0, "auto|on|off", OPT_CHOICE, xdp_synack,
		      "answer SYNs in the XDP program, without waking a "
		      "worker; auto: on, but for a veth in native mode (its "
		      "peer receives them only with an XDP program of its "
		      "own)",
		      .choices = auto_on_off, .def = "auto",
		      .want = "auto, on or off"),
	DEFINE_OPTION("busy-poll", 0, "USEC", OPT_UINT, busy_poll_us,
		      "after traffic, poll the rings (and the NIC) for USEC "
		      "before sleeping: lower latency, more CPU",
		      .min = 0, .max = 1000000, .unit = "microseconds"),
	DEFINE_OPTION("max-flows", 0, "N", OPT_UINT, tcp.max_flows,
		      "flow table size per queue", .min = 1, .max = 1u << 24),
	DEFINE_OPTION("max-tls-flows", 0, "N", OPT_UINT, tcp.tls_flows,
		      "TLS sessions per queue", .min = 4, .max = 1u << 22),
	DEFINE_OPTION("max-tls-handshakes", 0, "N", OPT_UINT,
		      tcp.tls_handshakes,
		      "TLS handshakes in progress per queue", .min = 4,
		      .max = 1u << 20),
	DEFINE_OPTION("max-flows-per-source", 0, "N", OPT_UINT,
		      tcp.max_flows_per_source,
		      "connections per client (IPv4 address, IPv6 /64) and "
		      "queue, 0: no limit",
		      .min = 0, .max = 1u << 24),
	DEFINE_OPTION("send-timeout", 0, "SEC", OPT_SECONDS,
		      tcp.send_timeout_ms,
		      "reset a connection whose response makes no progress",
		      .min = 1, .max = 3600),
	DEFINE_OPTION("idle-timeout", 0, "SEC", OPT_SECONDS,
		      tcp.idle_timeout_ms, "close idle keep-alive connections",
		      .min = 1, .max = 86400),
	DEFINE_OPTION("header-timeout", 0, "SEC", OPT_SECONDS,
		      tcp.header_timeout_ms,
		      "close connections with an incomplete head", .min = 1,
		      .max = 3600),
	DEFINE_OPTION("cookie-secret-file", 0, "FILE", OPT_STRING,
		      cookie_secret_file,
		      "SYN-cookie secret, 32 hex digits (openssl rand -hex "
		      "16): nodes sharing it finish each other's handshakes; "
		      "default: random per start"),
	DEFINE_OPTION("grace", 0, "SEC", OPT_SECONDS, grace_ms,
		      "on SIGTERM, finish open connections for up to SEC; a "
		      "second signal stops at once",
		      .min = 0, .max = 3600, .def = "5"),
	DEFINE_OPTION("withdraw-wait", 0, "SEC", OPT_SECONDS, withdraw_ms,
		      "on SIGTERM, before the drain: still serving, every "
		      "response closing its connection; after 0.5 s not ready "
		      "(/readyz 503: the announcer withdraws the route), "
		      "until /readyz has said so and no new connection has "
		      "come for 0.3 s; for up to SEC in all; 0: drain at once",
		      .min = 0, .max = 600, .def = "0"),
	DEFINE_OPTION("bpffs", 0, "DIR", OPT_STRING, bpffs,
		      "bpffs mount for pins", .def = XR_DEFAULT_BPFFS,
		      .env = XR_BPFFS_ENV),
	DEFINE_OPTION("log-level", 0, "LEVEL", OPT_CHOICE, log_level, NULL,
		      .choices = log_level_names, .def = "info",
		      .want = "error, warn, info or debug"),
	DEFINE_OPTION("log-format", 0, "FMT", OPT_CHOICE, log_json, NULL,
		      .choices = log_formats),
	DEFINE_OPTION("log-clients", 0, NULL, OPT_BOOL, log_clients,
		      "client addresses in the access log (debug level)"),
	{ .name = "help",
	  .short_name = 'h',
	  .kind = OPT_HELP,
	  .help = "this text" },
	{ .name = "version", .kind = OPT_VERSION, .help = "print the version" },
	{ .name = "doc",
	  .meta = "FORMAT",
	  .kind = OPT_DOC,
	  .choices = doc_formats,
	  .help = "print this reference for the man page (man: roff) or the "
		  "shell completion (bash: word lists) and exit" },
};

#define N_OPTS (sizeof(opt_table) / sizeof(opt_table[0]))
const size_t opt_count = N_OPTS;

static const char blurb[] =
	"Answers HTTP on a TCP port with redirects chosen by client address,\n"
	"from user space over AF_XDP (the kernel's TCP stack never sees the "
	"port).\n";

/* Errors go to err; NULL (the table's defaults) keeps them quiet. */
__attribute__((format(printf, 2, 3))) static void say(FILE *err,
						      const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
}

static int bad_value(FILE *err, const struct opt_def *d, const char *value,
		     const char *want)
{
	say(err, "xredird: invalid value '%s' for --%s: %s\n", value, d->name,
	    want);
	return -1;
}

static void *field(struct options *o, const struct opt_def *d)
{
	return (char *)o + d->off;
}

static void store_uint(void *dst, size_t size, uint64_t v)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	if (size == 1)
		memcpy(dst, &u8, 1);
	else if (size == 2)
		memcpy(dst, &u16, 2);
	else if (size == 4)
		memcpy(dst, &u32, 4);
	else
		memcpy(dst, &v, sizeof(v));
}

static uint64_t load_uint(const void *src, size_t size)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t v;

	if (size == 1) {
		memcpy(&u8, src, 1);
		return u8;
	}
	if (size == 2) {
		memcpy(&u16, src, 2);
		return u16;
	}
	if (size == 4) {
		memcpy(&u32, src, 4);
		return u32;
	}
	memcpy(&v, src, sizeof(v));
	return v;
}

/* Decimal digits only: no sign, no base prefix. */
static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_value(struct options *o, const struct opt_def *d,
		       const char *arg, FILE *err)
{
	const char *unit = d->kind == OPT_SECONDS ? "seconds" : d->unit;
	char want[64];
	uint64_t v;
	int i;

	switch (d->kind) {
	case OPT_STRING:
		*(const char **)field(o, d) = arg;
		return 0;
	case OPT_UINT:
	case OPT_SECONDS:
		if (!parse_uint(arg, d->max, &v) && v >= d->min) {
			store_uint(field(o, d), d->size,
				   d->kind == OPT_SECONDS ? v * 1000 : v);
			return 0;
		}
		if (d->want)
			return bad_value(err, d, arg, d->want);
		snprintf(want, sizeof(want), "%llu..%llu%s%s",
			 (unsigned long long)d->min, (unsigned long long)d->max,
			 unit ? " " : "", unit ? unit : "");
		return bad_value(err, d, arg, want);
	case OPT_CHOICE:
		for (i = 0; d->choices[i]; i++) {
			if (!strcmp(arg, d->choices[i])) {
				store_uint(field(o, d), d->size, (uint64_t)i);
				return 0;
			}
		}
		return bad_value(err, d, arg,
				 d->want ? d->want :
					   "see --help for the choices");
	case OPT_BOOL:
		*(bool *)field(o, d) = true;
		return 0;
	case OPT_FUNC:
		return d->parse(o, d, arg, err);
	case OPT_HELP:
	case OPT_VERSION:
	case OPT_DOC:
		break;
	}
	return -1;
}

static int parse_url(struct options *o, const struct opt_def *d,
		     const char *arg, FILE *err)
{
	char why[160];

	if (xr_url_check(arg, why, sizeof(why))) {
		say(err, "xredird: --%s: '%s' %s\n", d->name, arg, why);
		return -1;
	}
	*(const char **)field(o, d) = arg;
	return 0;
}

static int parse_match(struct options *o, const struct opt_def *d,
		       const char *arg, FILE *err)
{
	char why[200];

	if (o->n_match == MAX_MATCH_IPS) {
		snprintf(why, sizeof(why), "at most %d of them", MAX_MATCH_IPS);
		return bad_value(err, d, arg, why);
	}
	if (xr_cidr_parse(arg, &o->match[o->n_match], why, sizeof(why))) {
		say(err, "xredird: --%s: %s\n", d->name, why);
		return -1;
	}
	o->n_match++;
	return 0;
}

static int parse_vip(struct options *o, const struct opt_def *d,
		     const char *arg, FILE *err)
{
	char why[200];
	uint32_t i;

	if (xr_vip_is_any(arg)) {
		o->vip_any = true;
		return 0;
	}
	if (o->n_vips == MAX_VIP_FLAGS) {
		snprintf(why, sizeof(why),
			 "at most %d of them (more: "
			 "xredirctl vip add)",
			 MAX_VIP_FLAGS);
		return bad_value(err, d, arg, why);
	}
	if (xr_vip_parse(arg, &o->vips[o->n_vips], why, sizeof(why))) {
		say(err, "xredird: --%s: %s\n", d->name, why);
		return -1;
	}
	o->vips[o->n_vips].origin = XR_VIP_FROM_FLAG;
	for (i = 0; i < o->n_vips; i++)
		if (o->vips[i].family == o->vips[o->n_vips].family &&
		    !memcmp(o->vips[i].addr, o->vips[o->n_vips].addr, 16))
			return 0; /* named twice: once is enough */
	o->n_vips++;
	return 0;
}

static int parse_tls_cert(struct options *o, const struct opt_def *d,
			  const char *arg, FILE *err)
{
	if (o->tls.n_pairs == TLS_MAX_PAIRS)
		return bad_value(err, d, arg, "too many certificates");
	if (o->tls.n_pairs && !o->tls.pairs[o->tls.n_pairs - 1].key) {
		say(err, "xredird: --tls-cert %s has no --tls-key after it\n",
		    o->tls.pairs[o->tls.n_pairs - 1].cert);
		return -1;
	}
	o->tls.pairs[o->tls.n_pairs++] = (struct tls_pair){ arg, NULL };
	return 0;
}

static int parse_tls_key(struct options *o, const struct opt_def *d,
			 const char *arg, FILE *err)
{
	struct tls_pair *p =
		o->tls.n_pairs ? &o->tls.pairs[o->tls.n_pairs - 1] : NULL;

	if (!p || p->key)
		return bad_value(err, d, arg, "a --tls-cert before it");
	p->key = arg;
	return 0;
}

static int parse_trusted(struct options *o, const struct opt_def *d,
			 const char *arg, FILE *err)
{
	char why[200];

	if (proxy_parse_trusted(field(o, d), arg, why, sizeof(why))) {
		say(err, "xredird: --%s: %s\n", d->name, why);
		return -1;
	}
	return 0;
}

static int parse_ring_size(struct options *o, const struct opt_def *d,
			   const char *arg, FILE *err)
{
	char want[64];
	uint64_t v;

	if (!parse_uint(arg, d->max, &v) && v >= d->min && !(v & (v - 1))) {
		store_uint(field(o, d), d->size, v);
		return 0;
	}
	snprintf(want, sizeof(want), "a power of two %llu..%llu",
		 (unsigned long long)d->min, (unsigned long long)d->max);
	return bad_value(err, d, arg, want);
}

static int parse_listen(struct options *o, const struct opt_def *d,
			const char *arg, FILE *err)
{
	if (listener_check_address(arg))
		return bad_value(err, d, arg, "ADDR:PORT or [V6ADDR]:PORT");
	*(const char **)field(o, d) = arg;
	return 0;
}

static int parse_methods(struct options *o, const struct opt_def *d,
			 const char *arg, FILE *err)
{
	if (http_limits_set_methods(field(o, d), arg))
		return bad_value(err, d, arg, "comma-separated method names");
	return 0;
}

int options_init(struct options *o)
{
	size_t i;
	int ret = 0;

	memset(o, 0, sizeof(*o));
	tcp_config_default(&o->tcp);
	http_limits_default(&o->lim);
	for (i = 0; i < N_OPTS; i++)
		if (opt_table[i].def &&
		    parse_value(o, &opt_table[i], opt_table[i].def, NULL))
			ret = -1;
	return ret;
}

/* The default --help shows, in buf; NULL if it shows none. */
static const char *default_text(const struct opt_def *d,
				const struct options *o, char *buf, size_t len)
{
	const void *src = (const char *)o + d->off;
	uint64_t v;

	if (d->show_def)
		return d->show_def;
	switch (d->kind) {
	case OPT_STRING:
		return *(const char *const *)src;
	case OPT_UINT:
	case OPT_SECONDS:
		v = load_uint(src, d->size);
		snprintf(buf, len, "%llu",
			 (unsigned long long)(d->kind == OPT_SECONDS ?
						      v / 1000 :
						      v));
		return buf;
	case OPT_CHOICE:
		return d->choices[load_uint(src, d->size)];
	default:
		return NULL;
	}
}

/*
 * text from column col, wrapped at HELP_WIDTH, continued at HELP_COL; a
 * word opening a parenthesis keeps the next one ("(default 10)").
 */
static void print_wrapped(FILE *out, const char *text, size_t col)
{
	const char *p = text;

	while (*p) {
		size_t n = strcspn(p, " ");

		if (*p == '(' && p[n] == ' ')
			n += 1 + strcspn(p + n + 1, " ");

		if (col > HELP_COL && col + 1 + n > HELP_WIDTH) {
			fprintf(out, "\n%*s", HELP_COL, "");
			col = HELP_COL;
		} else if (col > HELP_COL) {
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%.*s", (int)n, p);
		col += n;
		p += n;
		while (*p == ' ')
			p++;
	}
	fputc('\n', out);
}

/* Appends to buf: "s" the first time, "; s" after. */
static void extra(char *buf, size_t len, bool *first, const char *s)
{
	size_t used = strlen(buf);

	snprintf(buf + used, len - used, "%s%s", *first ? " (" : "; ", s);
	*first = false;
}

/* A flag's left column ("-i, --iface IFACE") and its help text, with its
 * choices, default, variable and repeatability: --help and the man page
 * both show this. */
static void describe(const struct opt_def *d, const struct options *defaults,
		     char *left, size_t left_len, char *text, size_t text_len)
{
	char num[24], def[160];
	const char *dv = default_text(d, defaults, num, sizeof(num));
	bool first = true;
	int n, i;

	if (d->short_name)
		n = snprintf(left, left_len, "-%c, --%s", d->short_name,
			     d->name);
	else
		n = snprintf(left, left_len, "--%s", d->name);
	if (d->meta)
		snprintf(left + n, left_len - (size_t)n, " %s", d->meta);
	text[0] = 0;
	if (d->choices) {
		if (d->help)
			snprintf(text, text_len, "%s: ", d->help);
		for (i = 0; d->choices[i]; i++)
			snprintf(text + strlen(text), text_len - strlen(text),
				 "%s%s", i ? "|" : "", d->choices[i]);
	} else if (d->help) {
		snprintf(text, text_len, "%s", d->help);
	}
	if (d->required)
		extra(text, text_len, &first, "required");
	if (dv) {
		snprintf(def, sizeof(def), "default %s%s%s", d->env ? "$" : "",
			 d->env ? d->env : "", d->env ? " or " : "");
		snprintf(def + strlen(def), sizeof(def) - strlen(def), "%s",
			 dv);
		extra(text, text_len, &first, def);
	} else if (d->env) {
		snprintf(def, sizeof(def), "env %s", d->env);
		extra(text, text_len, &first, def);
	}
	if (d->repeat)
		extra(text, text_len, &first, "may be repeated");
	if (!first)
		snprintf(text + strlen(text), text_len - strlen(text), ")");
}

static void usage_line(FILE *out, const struct opt_def *d,
		       const struct options *defaults)
{
	char left[64], text[512];
	int n;

	describe(d, defaults, left, sizeof(left), text, sizeof(text));
	n = fprintf(out, "%s%s", d->short_name ? "  " : "      ", left);
	if (n < HELP_COL)
		fprintf(out, "%*s", HELP_COL - n, "");
	else
		fprintf(out, "\n%*s", HELP_COL, "");
	print_wrapped(out, text, HELP_COL);
}

void options_usage(FILE *out)
{
	struct options defaults;
	size_t i;

	options_init(&defaults);
	fprintf(out, "usage: xredird");
	for (i = 0; i < N_OPTS; i++)
		if (opt_table[i].required)
			fprintf(out, " --%s %s", opt_table[i].name,
				opt_table[i].meta);
	fprintf(out, " [options]\n\n%s\n", blurb);
	for (i = 0; i < N_OPTS; i++)
		usage_line(out, &opt_table[i], &defaults);
}

int options_doc(FILE *out, const char *format)
{
	struct options defaults;
	char left[64], text[512];
	size_t i;

	options_init(&defaults);
	if (!strcmp(format, "man")) {
		for (i = 0; i < N_OPTS; i++) {
			describe(&opt_table[i], &defaults, left, sizeof(left),
				 text, sizeof(text));
			doc_roff_item(out, left, text);
		}
		return 0;
	}
	if (strcmp(format, "bash"))
		return -1;
	fputs("_xredird_flags='", out);
	for (i = 0; i < N_OPTS; i++) {
		if (opt_table[i].short_name)
			fprintf(out, "-%c ", opt_table[i].short_name);
		fprintf(out, "--%s%s", opt_table[i].name,
			i + 1 < N_OPTS ? " " : "'\n");
	}
	fputs("_xredird_value()\n{\n\tcase $1 in\n", out);
	for (i = 0; i < N_OPTS; i++)
		if (opt_table[i].meta)
			doc_bash_value(out, opt_table[i].short_name,
				       opt_table[i].name, opt_table[i].meta,
				       opt_table[i].choices);
	fputs("\t*) return 1 ;;\n\tesac\n}\n", out);
	return 0;
}

static const struct opt_def *by_val(int val)
{
	size_t i;

	for (i = 0; i < N_OPTS; i++)
		if ((opt_table[i].short_name ?: LONG_ONLY + (int)i) == val)
			return &opt_table[i];
	return NULL;
}

/*
 * getopt_long's own messages, on err: it is told to keep quiet (opterr)
 * so that everything goes where the caller says.
 */
static void getopt_error(FILE *err, int c, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	const struct opt_def *d = by_val(optopt);
	size_t i, len = strcspn(arg, "="), n = 0;

	if (c == ':' && !strncmp(arg, "--", 2)) {
		say(err, "xredird: option '--%s' requires an argument\n",
		    d ? d->name : arg);
	} else if (c == ':') {
		say(err, "xredird: option requires an argument -- '%c'\n",
		    optopt);
	} else if (d) {
		/* Only a long flag given "=VALUE" fails with a known value. */
		say(err, "xredird: option '--%s' doesn't allow an argument\n",
		    d->name);
	} else if (optopt) {
		say(err, "xredird: invalid option -- '%c'\n", optopt);
	} else {
		for (i = 0; len > 2 && i < N_OPTS; i++)
			n += !strncmp(opt_table[i].name, arg + 2, len - 2);
		if (n < 2) {
			say(err, "xredird: unrecognized option '%s'\n", arg);
			return;
		}
		say(err, "xredird: option '%.*s' is ambiguous; possibilities:",
		    (int)len, arg);
		for (i = 0; i < N_OPTS; i++)
			if (!strncmp(opt_table[i].name, arg + 2, len - 2))
				say(err, " '--%s'", opt_table[i].name);
		say(err, "\n");
	}
}

int options_parse(struct options *o, int argc, char **argv, FILE *out,
		  FILE *err)
{
	struct option longs[N_OPTS + 1];
	char shorts[2 * N_OPTS + 2], *s = shorts;
	bool given[N_OPTS] = { false };
	const struct opt_def *d;
	size_t i;
	int c;

	if (options_init(o)) {
		say(err, "xredird: a default in the option table is refused\n");
		return OPTS_EXIT_USAGE;
	}
	for (i = 0; i < N_OPTS; i++) {
		const char *v = opt_table[i].env ? getenv(opt_table[i].env) :
						   NULL;

		if (v && *v) {
			if (parse_value(o, &opt_table[i], v, err))
				return OPTS_EXIT_USAGE;
			given[i] = true;
		}
	}
	*s++ = ':'; /* a missing argument returns ':' */
	for (i = 0; i < N_OPTS; i++) {
		d = &opt_table[i];
		longs[i] = (struct option){
			d->name, d->meta ? required_argument : no_argument,
			NULL, d->short_name ?: LONG_ONLY + (int)i
		};
		if (d->short_name) {
			*s++ = d->short_name;
			if (d->meta)
				*s++ = ':';
		}
	}
	longs[N_OPTS] = (struct option){ NULL, 0, NULL, 0 };
	*s = 0;
	optind = 0; /* a full restart, for each call */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		d = c == '?' || c == ':' ? NULL : by_val(c);
		if (!d) {
			getopt_error(err, c, argv);
			say(err, "Try 'xredird --help'.\n");
			return OPTS_EXIT_USAGE;
		}
		if (d->kind == OPT_HELP) {
			options_usage(out);
			return 0;
		}
		if (d->kind == OPT_VERSION) {
			fprintf(out, "xredird %s\n", xr_version);
			return 0;
		}
		if (d->kind == OPT_DOC) {
			if (!options_doc(out, optarg))
				return 0;
			bad_value(err, d, optarg, "man or bash");
			say(err, "Try 'xredird --help'.\n");
			return OPTS_EXIT_USAGE;
		}
		if (parse_value(o, d, optarg, err)) {
			say(err, "Try 'xredird --help'.\n");
			return OPTS_EXIT_USAGE;
		}
		given[d - opt_table] = true;
	}
	if (optind < argc) {
		say(err, "xredird: unexpected argument '%s'\n", argv[optind]);
		return OPTS_EXIT_USAGE;
	}
	if (o->tls.n_pairs && !o->tls.pairs[o->tls.n_pairs - 1].key) {
		say(err, "xredird: --tls-cert %s has no --tls-key after it\n",
		    o->tls.pairs[o->tls.n_pairs - 1].cert);
		return OPTS_EXIT_USAGE;
	}
	if (o->tls.n_pairs && !o->tcp.tls_port)
		o->tcp.tls_port = XR_DEFAULT_TLS_PORT;
	/* A config file's tls lines count too: known at start. */
	if (o->tcp.tls_port && !o->tls.n_pairs && !o->config_path) {
		say(err, "xredird: --tls-port needs --tls-cert and --tls-key "
			 "(or tls lines in --config)\n");
		return OPTS_EXIT_USAGE;
	}
	if (o->tcp.tls_port && o->tcp.tls_port == o->tcp.port) {
		say(err, "xredird: --tls-port %u is the plain --port too\n",
		    o->tcp.tls_port);
		return OPTS_EXIT_USAGE;
	}
	if (o->check_config && !o->config_path) {
		say(err, "xredird: --check-config needs --config FILE\n");
		return OPTS_EXIT_USAGE;
	}
	for (i = 0; i < N_OPTS && !o->check_config; i++) {
		if (opt_table[i].required && !given[i]) {
			say(err, "xredird: --%s is required\n",
			    opt_table[i].name);
			return OPTS_EXIT_USAGE;
		}
	}
	return OPTS_RUN;
}
