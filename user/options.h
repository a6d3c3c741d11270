/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xredird's command line. One table (opt_table in options.c) gives each
 * flag its name, argument, help text, default and destination in struct
 * options; the --help text and getopt_long's table are made from it.
 * Pure: it reads the environment of the flags that have a variable and
 * writes only to the FILE*s it is given.
 *
 * Adding a flag: its field (here, or in an engine struct embedded here)
 * and one DEFINE_OPTION entry in opt_table, e.g.
 *
 *   DEFINE_OPTION("send-timeout", 0, "SEC", OPT_SECONDS,
 *                 tcp.send_timeout_ms, "give up on a stalled client",
 *                 .min = 1, .max = 3600),
 *
 * --help shows the default the field holds after options_init(): the
 * engine's (tcp_config_default), or the entry's .def.
 */
#ifndef XREDIR_OPTIONS_H
#define XREDIR_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cidr.h"
#include "http.h"
#include "loader.h"
#include "log.h"
#include "proxy.h"
#include "tcp.h"
#include "vip.h"
#include "xsk.h"

#define MAX_MATCH_IPS 16
#define MAX_VIP_FLAGS 64

/* options_parse(): go on and serve; else it returns the exit code. */
#define OPTS_RUN (-1)
/* The exit code for bad flags or values. */
#define OPTS_EXIT_USAGE 2

/* --xdp-synack: whether the XDP program answers bare SYNs (bpf/synack.h). */
enum xdp_synack_mode { XDP_SYNACK_AUTO, XDP_SYNACK_ON, XDP_SYNACK_OFF };

struct options {
	const char *ifname;
	const char *bpffs;
	const char *config_path;
	const char *default_target; /* NULL: not given (DEFAULT_TARGET) */
	const char *rewrite_target; /* NULL: not given (DEFAULT_REWRITE) */
	const char *metrics_listen;
	const char *cookie_secret_file; /* NULL: a random secret per start */
	struct tls_config tls; /* certificate pairs; the secret is read later */
	const char *tls_ticket_key_file; /* NULL: a random secret per start */
	struct xr_cidr match[MAX_MATCH_IPS];
	uint32_t n_match;
	struct xr_vip vips[MAX_VIP_FLAGS]; /* --vip, beside the interface's */
	uint32_t n_vips;
	bool vip_any; /* --vip any: every destination address */
	uint32_t queues; /* 0: all */
	uint32_t grace_ms; /* SIGTERM: time to finish open connections */
	uint32_t withdraw_ms; /* SIGTERM: time to be withdrawn, before grace */
	uint32_t busy_poll_us; /* 0: sleep in poll() as soon as idle */
	uint32_t coalesce_us; /* nap between passes while traffic flows */
	uint32_t ring_size; /* each AF_XDP ring; the UMEM holds twice as many */
	bool lazy_acks; /* bare ACKs, FINs through a ring that does not wake */
	enum xdp_synack_mode xdp_synack;
	enum xr_xdp_mode xdp_mode;
	enum xsk_bind_mode bind_mode;
	enum log_level log_level;
	bool log_json;
	bool log_clients;
	bool check_config; /* check config_path and exit, nothing else */
	struct tcp_config tcp;
	struct http_limits lim;
	struct proxy_cfg proxy;
};

enum opt_kind {
	OPT_STRING, /* const char *: the argument itself */
	OPT_UINT, /* an unsigned field of any size, min..max */
	OPT_SECONDS, /* a uint32_t of milliseconds, given in seconds min..max */
	OPT_CHOICE, /* an enum or bool field: the argument's index in choices */
	OPT_BOOL, /* a bool field, set by the flag (no argument) */
	OPT_FUNC, /* parse() checks and stores the argument */
	OPT_HELP, /* prints the --help text */
	OPT_VERSION, /* prints the version */
	OPT_DOC, /* prints the table for the man page or the completion */
};

struct opt_def {
	const char *name; /* long name, without the dashes */
	char short_name; /* 0: none */
	const char *meta; /* the argument's name in --help; NULL: takes none */
	const char *help;
	enum opt_kind kind;
	size_t off, size; /* the destination in struct options */
	uint64_t min, max; /* OPT_UINT, OPT_SECONDS */
	const char *unit; /* OPT_UINT: named in the range's error */
	const char *const *choices; /* OPT_CHOICE, OPT_DOC: NULL-terminated */
	/* OPT_FUNC: 0, or -1 after saying why on err (which may be NULL). */
	int (*parse)(struct options *o, const struct opt_def *d,
		     const char *arg, FILE *err);
	/* Parsed as if given first; NULL: the field's initial value (zero,
	 * or the engine's default). */
	const char *def;
	const char *show_def; /* --help's default, when not the field's value */
	const char *env; /* a variable, taken as if given before the flags */
	const char *want; /* a bad value's error, when not the range */
	bool required;
	bool repeat; /* each use adds to the others (parse keeps them all) */
};

extern const struct opt_def opt_table[];
extern const size_t opt_count;

/* The defaults, environment aside; -1 if the table has a bad default. */
int options_init(struct options *o);
void options_usage(FILE *out);
/* The table in FORMAT, "man" (the OPTIONS items, roff) or "bash" (the
 * completion's word lists, see doc.h); -1 for another FORMAT. */
int options_doc(FILE *out, const char *format);
/*
 * Fills o from the environment and argv (getopt_long: argv is permuted).
 * Returns OPTS_RUN, or the exit code: 0 after printing --help,
 * --version or --doc on out,
 * OPTS_EXIT_USAGE after saying on err what is wrong.
 */
int options_parse(struct options *o, int argc, char **argv, FILE *out,
		  FILE *err);

#endif /* XREDIR_OPTIONS_H */
