// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xredird's flags (user/options.c): one case per kind of flag, the
 * defaults, the environment, bad values (a clear error, exit code 2) and
 * the --help text made from the table, and the --doc output (man page
 * items, completion word lists) made from the same table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defaults.h"
#include "doc.h"
#include "options.h"
#include "source.h"
#include "test.h"
#include "version.h"

static struct options o;
static char out_text[16384], err_text[4096];

/* Parses xredird ARGS... (NULL-terminated); out and err captured. */
static int run_argv(const char *const *args)
{
	char *argv[64];
	FILE *out = fmemopen(out_text, sizeof(out_text), "w");
	FILE *err = fmemopen(err_text, sizeof(err_text), "w");
	int argc = 0, rc;

	argv[argc++] = (char *)"xredird";
	while (*args && argc < 63)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	memset(out_text, 0, sizeof(out_text));
	memset(err_text, 0, sizeof(err_text));
	rc = options_parse(&o, argc, argv, out, err);
	fclose(out);
	fclose(err);
	return rc;
}

#define RUN(...) run_argv((const char *const[]){ __VA_ARGS__, NULL })

/* Bad input: exit code 2, and err is exactly want. */
#define CHECK_BAD(want, ...)                                             \
	do {                                                             \
		CHECK_EQ(RUN(__VA_ARGS__), 2);                           \
		CHECK(!strcmp(err_text, want));                          \
		if (strcmp(err_text, want))                              \
			fprintf(stderr, "  got: %s  want: %s", err_text, \
				want);                                   \
	} while (0)

static void clean_env(void)
{
	unsetenv("MATCH_IP");
	unsetenv(XR_BPFFS_ENV);
}

TEST(options_defaults)
{
	clean_env();
	CHECK_EQ(options_init(&o), 0);
	CHECK_EQ(RUN("--iface", "eth0"), OPTS_RUN);
	CHECK(!strcmp(o.ifname, "eth0"));
	CHECK_EQ(o.tcp.port, XR_DEFAULT_PORT);
	CHECK_EQ(o.tcp.max_flows, 65536);
	CHECK_EQ(o.tcp.idle_timeout_ms, 60000);
	CHECK_EQ(o.tcp.header_timeout_ms, 10000);
	CHECK_EQ(o.grace_ms, 5000);
	CHECK_EQ(o.withdraw_ms, 0);
	CHECK_EQ(o.coalesce_us, 20);
	CHECK_EQ(o.ring_size, 4096);
	CHECK(o.lazy_acks);
	CHECK_EQ(o.busy_poll_us, 0);
	CHECK_EQ(o.queues, 0);
	CHECK_EQ(o.xdp_mode, XR_XDP_AUTO);
	CHECK_EQ(o.bind_mode, XSK_BIND_AUTO);
	CHECK_EQ(o.log_level, LOG_INFO);
	CHECK(!o.log_json && !o.log_clients && !o.lim.registry_v2_ping);
	CHECK_EQ(o.proxy.header, PROXY_XFF);
	CHECK_EQ(o.proxy.n_trusted, 0);
	CHECK_EQ(o.lim.n_methods, 0);
	CHECK_EQ(o.n_match, 0);
	CHECK(!strcmp(o.bpffs, XR_DEFAULT_BPFFS));
	CHECK(!o.config_path && !o.default_target && !o.rewrite_target &&
	      !o.metrics_listen);
	CHECK_EQ(out_text[0], 0);
	CHECK_EQ(err_text[0], 0);
}

/* The table itself: unique names, ranges that fit their fields. */
TEST(options_table)
{
	size_t i, j;

	for (i = 0; i < opt_count; i++) {
		const struct opt_def *d = &opt_table[i];
		uint64_t top = d->kind == OPT_SECONDS ? d->max * 1000 : d->max;

		for (j = 0; j < i; j++) {
			CHECK(strcmp(d->name, opt_table[j].name));
			CHECK(!d->short_name ||
			      d->short_name != opt_table[j].short_name);
		}
		CHECK(d->help || d->kind == OPT_CHOICE);
		CHECK(!d->meta == (d->kind == OPT_BOOL || d->kind == OPT_HELP ||
				   d->kind == OPT_VERSION));
		if (d->kind == OPT_UINT || d->kind == OPT_SECONDS) {
			CHECK(d->min <= d->max);
			CHECK(d->size == 8 || top < 1ull << (8 * d->size));
		}
		if (d->kind == OPT_SECONDS)
			CHECK_EQ(d->size, 4);
		if (d->kind == OPT_FUNC)
			CHECK(d->parse);
		if (d->kind == OPT_CHOICE)
			CHECK(d->choices && d->choices[0]);
	}
}

TEST(options_string)
{
	clean_env();
	CHECK_EQ(RUN("-i", "a", "--config", "/etc/x.conf", "--iface=b"),
		 OPTS_RUN);
	CHECK(!strcmp(o.ifname, "b")); /* the last one given */
	CHECK(!strcmp(o.config_path, "/etc/x.conf"));
	CHECK_EQ(RUN("-ieth1", "-c", "f"), OPTS_RUN);
	CHECK(!strcmp(o.ifname, "eth1"));
	/* Unambiguous abbreviations, as getopt_long takes them. */
	CHECK_EQ(RUN("--ifa", "x", "--bpf", "/b"), OPTS_RUN);
	CHECK(!strcmp(o.ifname, "x") && !strcmp(o.bpffs, "/b"));
}

TEST(options_numbers)
{
	clean_env();
	CHECK_EQ(RUN("-i", "x", "--port", "8080", "-q", "64", "--max-flows",
		     "16777216", "--busy-poll", "1000000", "--coalesce-us",
		     "0"),
		 OPTS_RUN);
	CHECK_EQ(o.tcp.port, 8080);
	CHECK_EQ(o.queues, 64);
	CHECK_EQ(o.tcp.max_flows, 1u << 24);
	CHECK_EQ(o.busy_poll_us, 1000000);
	CHECK_EQ(o.coalesce_us, 0);
	CHECK_EQ(RUN("-i", "x", "-p1"), OPTS_RUN);
	CHECK_EQ(o.tcp.port, 1);
	CHECK_BAD("xredird: invalid value '0' for --port: a port 1..65535\n"
		  "Try 'xredird --help'.\n",
		  "-i", "x", "--port", "0");
	CHECK_BAD("xredird: invalid value '65536' for --port: a port "
		  "1..65535\nTry 'xredird --help'.\n",
		  "-i", "x", "-p", "65536");
	CHECK_BAD("xredird: invalid value '-1' for --port: a port 1..65535\n"
		  "Try 'xredird --help'.\n",
		  "-p", "-1");
	CHECK_BAD("xredird: invalid value '+5' for --port: a port 1..65535\n"
		  "Try 'xredird --help'.\n",
		  "-p", "+5");
	CHECK_BAD("xredird: invalid value '' for --port: a port 1..65535\n"
		  "Try 'xredird --help'.\n",
		  "--port=");
	CHECK_BAD("xredird: invalid value '0x10' for --port: a port "
		  "1..65535\nTry 'xredird --help'.\n",
		  "-p", "0x10");
	CHECK_BAD("xredird: invalid value '99999999999999999999999' for "
		  "--port: a port 1..65535\nTry 'xredird --help'.\n",
		  "-p", "99999999999999999999999");
	CHECK_BAD("xredird: invalid value '65' for --queues: 1..64\n"
		  "Try 'xredird --help'.\n",
		  "-q", "65");
	CHECK_BAD("xredird: invalid value '0' for --max-flows: 1..16777216\n"
		  "Try 'xredird --help'.\n",
		  "--max-flows", "0");
	CHECK_BAD("xredird: invalid value '1000001' for --busy-poll: "
		  "0..1000000 microseconds\nTry 'xredird --help'.\n",
		  "--busy-poll", "1000001");
	CHECK_BAD("xredird: invalid value '1001' for --coalesce-us: 0..1000 "
		  "microseconds\nTry 'xredird --help'.\n",
		  "--coalesce-us", "1001");
	CHECK_EQ(RUN("-i", "x", "--lazy-acks", "off"), OPTS_RUN);
	CHECK(!o.lazy_acks);
	CHECK_EQ(RUN("-i", "x", "--lazy-acks", "on"), OPTS_RUN);
	CHECK(o.lazy_acks);
	CHECK_BAD("xredird: invalid value 'yes' for --lazy-acks: on or off\n"
		  "Try 'xredird --help'.\n",
		  "--lazy-acks", "yes");
	CHECK_EQ(RUN("-i", "x", "--ring-size", "512"), OPTS_RUN);
	CHECK_EQ(o.ring_size, 512);
	CHECK_EQ(RUN("-i", "x", "--ring-size", "16384"), OPTS_RUN);
	CHECK_EQ(o.ring_size, 16384);
	CHECK_BAD("xredird: invalid value '3000' for --ring-size: a power of "
		  "two 512..16384\nTry 'xredird --help'.\n",
		  "--ring-size", "3000");
	CHECK_BAD("xredird: invalid value '256' for --ring-size: a power of "
		  "two 512..16384\nTry 'xredird --help'.\n",
		  "--ring-size", "256");
	CHECK_BAD("xredird: invalid value '32768' for --ring-size: a power "
		  "of two 512..16384\nTry 'xredird --help'.\n",
		  "--ring-size", "32768");
	CHECK_BAD("xredird: invalid value '4k' for --ring-size: a power of "
		  "two 512..16384\nTry 'xredird --help'.\n",
		  "--ring-size", "4k");
}

TEST(options_seconds)
{
	clean_env();
	CHECK_EQ(RUN("-i", "x", "--idle-timeout", "86400", "--header-timeout",
		     "1", "--grace", "0"),
		 OPTS_RUN);
	CHECK_EQ(o.tcp.idle_timeout_ms, 86400000);
	CHECK_EQ(o.tcp.header_timeout_ms, 1000);
	CHECK_EQ(o.grace_ms, 0);
	CHECK_BAD("xredird: invalid value '0' for --idle-timeout: 1..86400 "
		  "seconds\nTry 'xredird --help'.\n",
		  "--idle-timeout", "0");
	CHECK_BAD("xredird: invalid value '3601' for --header-timeout: "
		  "1..3600 seconds\nTry 'xredird --help'.\n",
		  "--header-timeout", "3601");
	CHECK_BAD("xredird: invalid value '1.5' for --grace: 0..3600 "
		  "seconds\nTry 'xredird --help'.\n",
		  "--grace", "1.5");
	CHECK_EQ(RUN("-i", "x", "--withdraw-wait", "3"), OPTS_RUN);
	CHECK_EQ(o.withdraw_ms, 3000);
	CHECK_BAD("xredird: invalid value '601' for --withdraw-wait: 0..600 "
		  "seconds\nTry 'xredird --help'.\n",
		  "--withdraw-wait", "601");
}

TEST(options_fairness)
{
	clean_env();
	CHECK_EQ(RUN("-i", "x"), OPTS_RUN);
	CHECK_EQ(o.tcp.max_flows_per_source, SOURCE_MAX_FLOWS_DEFAULT);
	CHECK_EQ(o.tcp.send_timeout_ms, 60000);
	CHECK_EQ(RUN("-i", "x", "--max-flows-per-source", "0", "--send-timeout",
		     "5"),
		 OPTS_RUN);
	CHECK_EQ(o.tcp.max_flows_per_source, 0);
	CHECK_EQ(o.tcp.send_timeout_ms, 5000);
	CHECK_BAD("xredird: invalid value '0' for --send-timeout: 1..3600 "
		  "seconds\nTry 'xredird --help'.\n",
		  "--send-timeout", "0");
	CHECK_EQ(RUN("-i", "x", "--max-flows-per-source", "-1"), 2);
}

TEST(options_choices)
{
	clean_env();
	CHECK_EQ(RUN("-i", "x", "--xdp-mode", "skb", "--bind-mode", "copy",
		     "--log-level", "debug", "--log-format", "json",
		     "--client-ip-header", "X-Real-IP"),
		 OPTS_RUN);
	CHECK_EQ(o.xdp_mode, XR_XDP_SKB);
	CHECK_EQ(o.bind_mode, XSK_BIND_COPY);
	CHECK_EQ(o.log_level, LOG_DEBUG);
	CHECK(o.log_json);
	CHECK_EQ(o.proxy.header, PROXY_REAL_IP);
	CHECK_EQ(RUN("-i", "x", "--xdp-mode", "native", "--log-level", "error",
		     "--log-format", "text"),
		 OPTS_RUN);
	CHECK_EQ(o.xdp_mode, XR_XDP_NATIVE);
	CHECK_EQ(o.log_level, LOG_ERROR);
	CHECK(!o.log_json);
	CHECK_BAD("xredird: invalid value 'Forwarded' for --client-ip-header: "
		  "see --help for the choices\nTry 'xredird --help'.\n",
		  "--client-ip-header", "Forwarded");
	CHECK_BAD("xredird: invalid value 'SKB' for --xdp-mode: see --help "
		  "for the choices\nTry 'xredird --help'.\n",
		  "--xdp-mode", "SKB");
	CHECK_BAD("xredird: invalid value 'trace' for --log-level: error, "
		  "warn, info or debug\nTry 'xredird --help'.\n",
		  "--log-level", "trace");
}

TEST(options_booleans)
{
	clean_env();
	CHECK_EQ(RUN("-i", "x", "--log-clients", "--registry-v2-ping"),
		 OPTS_RUN);
	CHECK(o.log_clients && o.lim.registry_v2_ping);
	CHECK_BAD("xredird: option '--log-clients' doesn't allow an argument\n"
		  "Try 'xredird --help'.\n",
		  "-i", "x", "--log-clients=yes");
	CHECK_BAD("xredird: option '--help' doesn't allow an argument\n"
		  "Try 'xredird --help'.\n",
		  "--help=1");
}

/* --vip: repeatable, each address once, 'any' a switch beside them. */
TEST(options_vip)
{
	clean_env();
	CHECK_EQ(RUN("-i", "x"), OPTS_RUN);
	CHECK_EQ(o.n_vips, 0);
	CHECK(!o.vip_any);
	CHECK_EQ(RUN("-i", "x", "--vip", "10.79.0.100", "--vip", "fd79::100",
		     "--vip", "10.79.0.100"),
		 OPTS_RUN);
	REQUIRE(o.n_vips == 2);
	CHECK_EQ(o.vips[0].family, 4);
	CHECK_EQ(o.vips[0].addr[3], 100);
	CHECK_EQ(o.vips[0].origin, XR_VIP_FROM_FLAG);
	CHECK_EQ(o.vips[1].family, 6);
	CHECK(!o.vip_any);
	CHECK_EQ(RUN("-i", "x", "--vip", "any", "--vip", "192.0.2.1"),
		 OPTS_RUN);
	CHECK(o.vip_any);
	CHECK_EQ(o.n_vips, 1);
	CHECK_BAD("xredird: --vip: '10.0.0.0/8': a service address is one "
		  "address, no prefix\nTry 'xredird --help'.\n",
		  "--vip", "10.0.0.0/8");
	CHECK_BAD("xredird: --vip: 'ff02::1' is not a unicast address: no "
		  "client connects to it\nTry 'xredird --help'.\n",
		  "--vip", "ff02::1");
}

/* --match-ip: repeatable, MATCH_IP taken first, at most 16. */
TEST(options_repeat_env)
{
	char buf[32];
	int i;

	clean_env();
	setenv("MATCH_IP", "203.0.113.7", 1);
	CHECK_EQ(RUN("-i", "x", "--match-ip", "2001:db8::/32", "--match-ip",
		     "198.51.100.0/24"),
		 OPTS_RUN);
	REQUIRE(o.n_match == 3);
	CHECK_EQ(o.match[0].family, 4);
	CHECK_EQ(o.match[0].prefixlen, 32);
	CHECK_EQ(o.match[1].family, 6);
	CHECK_EQ(o.match[1].prefixlen, 32);
	CHECK_EQ(o.match[2].prefixlen, 24);
	/* A bad MATCH_IP is refused before any flag. */
	setenv("MATCH_IP", "203.0.113.999", 1);
	CHECK_EQ(RUN("-i", "x"), 2);
	CHECK(!strncmp(err_text, "xredird: --match-ip: ", 21) &&
	      strstr(err_text, "203.0.113.999") && !strstr(err_text, "Try"));
	setenv("MATCH_IP", "", 1); /* empty: not set */
	CHECK_EQ(RUN("-i", "x"), OPTS_RUN);
	CHECK_EQ(o.n_match, 0);
	clean_env();
	{
		const char *args[40] = { "-i", "x" };
		char addrs[17][32];

		for (i = 0; i < 17; i++) {
			snprintf(addrs[i], sizeof(addrs[i]), "192.0.2.%d", i);
			args[2 + 2 * i] = "--match-ip";
			args[3 + 2 * i] = addrs[i];
		}
		args[36] = NULL;
		CHECK_EQ(run_argv(args), 2);
		snprintf(buf, sizeof(buf), "'192.0.2.16'");
		CHECK(strstr(err_text, buf) &&
		      strstr(err_text, "for --match-ip: at most 16 of them"));
		args[34] = NULL; /* 16 of them */
		CHECK_EQ(run_argv(args), OPTS_RUN);
		CHECK_EQ(o.n_match, 16);
	}
	CHECK_BAD("xredird: --match-ip: '10.0.0.1/8' has host bits set below "
		  "/8 (did you mean 10.0.0.0/8?)\nTry 'xredird --help'.\n",
		  "--match-ip", "10.0.0.1/8");
}

/* $XREDIR_BPFFS, unless --bpffs. */
TEST(options_env_fallback)
{
	clean_env();
	setenv(XR_BPFFS_ENV, "/run/bpf", 1);
	CHECK_EQ(RUN("-i", "x"), OPTS_RUN);
	CHECK(!strcmp(o.bpffs, "/run/bpf"));
	CHECK_EQ(RUN("-i", "x", "--bpffs", "/mnt/bpf"), OPTS_RUN);
	CHECK(!strcmp(o.bpffs, "/mnt/bpf"));
	clean_env();
}

/* Flags with their own parser: URLs, lists, addresses. */
TEST(options_parsers)
{
	clean_env();
	CHECK_EQ(RUN("-i", "x", "--default-target", "https://a.example/p",
		     "--rewrite-target", "http://b.example:8080",
		     "--trust-proxy", "10.0.0.0/8, 192.0.2.1", "--trust-proxy",
		     "2001:db8::/32", "--methods", "GET,HEAD",
		     "--metrics-listen", "[::1]:9717"),
		 OPTS_RUN);
	CHECK(!strcmp(o.default_target, "https://a.example/p"));
	CHECK(!strcmp(o.rewrite_target, "http://b.example:8080"));
	CHECK_EQ(o.proxy.n_trusted, 3);
	CHECK_EQ(o.lim.n_methods, 2);
	CHECK(!strcmp(o.metrics_listen, "[::1]:9717"));
	CHECK_EQ(RUN("-i", "x", "--metrics-listen", "127.0.0.1:9717"),
		 OPTS_RUN);
	CHECK_EQ(RUN("-i", "x", "--default-target", "ftp://a.example"), 2);
	CHECK(!strncmp(err_text,
		       "xredird: --default-target: 'ftp://a.example' ", 45) &&
	      strstr(err_text, "\nTry 'xredird --help'.\n"));
	CHECK_EQ(RUN("-i", "x", "--rewrite-target", "https://a b"), 2);
	CHECK(!strncmp(err_text, "xredird: --rewrite-target: 'https://a b' ",
		       40));
	CHECK_EQ(RUN("-i", "x", "--trust-proxy", "10.0.0.0/33"), 2);
	CHECK(!strncmp(err_text, "xredird: --trust-proxy: ", 24));
	CHECK_BAD("xredird: --trust-proxy: an empty list of trusted proxies\n"
		  "Try 'xredird --help'.\n",
		  "--trust-proxy", "");
	CHECK_BAD("xredird: invalid value 'GET,,HEAD' for --methods: "
		  "comma-separated method names\nTry 'xredird --help'.\n",
		  "--methods", "GET,,HEAD");
	CHECK_BAD("xredird: invalid value '127.0.0.1' for --metrics-listen: "
		  "ADDR:PORT or [V6ADDR]:PORT\nTry 'xredird --help'.\n",
		  "--metrics-listen", "127.0.0.1");
	CHECK_BAD("xredird: invalid value '[::1:9717' for --metrics-listen: "
		  "ADDR:PORT or [V6ADDR]:PORT\nTry 'xredird --help'.\n",
		  "--metrics-listen", "[::1:9717");
}

/* What getopt_long refuses, said the way it says it. */
TEST(options_command_line)
{
	clean_env();
	CHECK_BAD("xredird: unrecognized option '--bogus'\n"
		  "Try 'xredird --help'.\n",
		  "-i", "x", "--bogus");
	CHECK_BAD("xredird: unrecognized option '--bogus=1'\n"
		  "Try 'xredird --help'.\n",
		  "--bogus=1", "-i", "x");
	CHECK_BAD("xredird: invalid option -- 'z'\nTry 'xredird --help'.\n",
		  "-i", "x", "-z");
	CHECK_BAD("xredird: option '--port' requires an argument\n"
		  "Try 'xredird --help'.\n",
		  "-i", "x", "--port");
	CHECK_BAD("xredird: option '--port' requires an argument\n"
		  "Try 'xredird --help'.\n",
		  "-i", "x", "--po");
	CHECK_BAD("xredird: option requires an argument -- 'p'\n"
		  "Try 'xredird --help'.\n",
		  "-i", "x", "-p");
	CHECK_BAD("xredird: option '--log' is ambiguous; possibilities: "
		  "'--log-level' '--log-format' '--log-clients'\n"
		  "Try 'xredird --help'.\n",
		  "-i", "x", "--log");
	CHECK_BAD("xredird: unexpected argument 'eth0'\n", "-i", "x", "eth0");
	CHECK_BAD("xredird: --iface is required\n", "--port", "80");
	/* Options after a positional one are still checked first. */
	CHECK_BAD("xredird: invalid value '0' for --port: a port 1..65535\n"
		  "Try 'xredird --help'.\n",
		  "-i", "x", "eth0", "--port", "0");
}

/* --check-config: checks --config's file only, so needs no --iface. */
TEST(options_check_config)
{
	clean_env();
	CHECK_EQ(RUN("--check-config", "--config", "x.conf"), OPTS_RUN);
	CHECK(o.check_config);
	CHECK(o.config_path && !strcmp(o.config_path, "x.conf"));
	CHECK_EQ(RUN("-t", "-c", "x.conf"), OPTS_RUN);
	CHECK(o.check_config);
	CHECK_EQ(RUN("-i", "x", "-c", "x.conf"), OPTS_RUN);
	CHECK(!o.check_config);
	CHECK_BAD("xredird: --check-config needs --config FILE\n", "-t");
	CHECK_BAD("xredird: --check-config needs --config FILE\n", "-i", "x",
		  "--check-config");
}

/* --help: exit 0, after checking what came before it. */
TEST(options_help)
{
	static const char *const flags[] = { "-i, --iface IFACE",
					     "-p, --port N",
					     "-c, --config FILE",
					     "-t, --check-config",
					     "--default-target URL",
					     "--match-ip ADDR[/LEN]",
					     "--rewrite-target URL",
					     "--trust-proxy LIST",
					     "--client-ip-header H",
					     "--registry-v2-ping",
					     "--metrics-listen A:P",
					     "--methods LIST",
					     "-q, --queues N",
					     "--xdp-mode MODE",
					     "--bind-mode MODE",
					     "--coalesce-us USEC",
					     "--busy-poll USEC",
					     "--max-flows N",
					     "--idle-timeout SEC",
					     "--header-timeout SEC",
					     "--grace SEC",
					     "--bpffs DIR",
					     "--log-level LEVEL",
					     "--log-format FMT",
					     "--log-clients",
					     "-h, --help",
					     NULL };
	char line[128];
	const char *p;
	size_t i;

	clean_env();
	CHECK_EQ(RUN("--help"), 0);
	CHECK_EQ(err_text[0], 0);
	CHECK(!strncmp(out_text, "usage: xredird --iface IFACE [options]\n",
		       39));
	/* Each flag of the table starts a line, with its argument. */
	for (i = 0; i < opt_count; i++) {
		const struct opt_def *d = &opt_table[i];

		snprintf(line, sizeof(line), "\n  %c%c%s--%s%s%s",
			 d->short_name ? '-' : ' ',
			 d->short_name ? d->short_name : ' ',
			 d->short_name ? ", " : "  ", d->name,
			 d->meta ? " " : "", d->meta ? d->meta : "");
		CHECK(strstr(out_text, line));
	}
	/* And the flags xredird has always had (deployments use them). */
	for (i = 0; flags[i]; i++) {
		snprintf(line, sizeof(line), "%s%s ",
			 flags[i][1] == '-' ? "      " : "  ", flags[i]);
		CHECK(strstr(out_text, line));
	}
	/* Defaults from the value in force, never split over lines. */
	CHECK(strstr(out_text, "service TCP port (default 10000)\n"));
	CHECK(strstr(out_text, "(default 5)\n"));
	CHECK(strstr(out_text, "(default 65536)\n"));
	CHECK(strstr(out_text, "(default 60)\n"));
	CHECK(strstr(out_text, "auto|native|skb (default auto)\n"));
	CHECK(strstr(out_text, "error|warn|info|debug (default info)\n"));
	CHECK(strstr(out_text, "(default " DEFAULT_TARGET ")\n"));
	CHECK(strstr(out_text, "(default all)\n"));
	CHECK(strstr(out_text, "(env MATCH_IP;") &&
	      strstr(out_text, "may be repeated)\n"));
	CHECK(strstr(out_text, "(default $" XR_BPFFS_ENV " or"));
	/* No line wider than 80 columns. */
	for (p = out_text; *p; p += strcspn(p, "\n") + 1)
		CHECK(strcspn(p, "\n") <= 80);
	/* The environment does not change the defaults shown. */
	setenv(XR_BPFFS_ENV, "/elsewhere", 1);
	CHECK_EQ(RUN("-h"), 0);
	CHECK(!strstr(out_text, "/elsewhere"));
	clean_env();
	/* Flags before --help are checked, as deployments rely on. */
	CHECK_EQ(RUN("--port", "80", "--grace", "30", "--help"), 0);
	CHECK_BAD("xredird: invalid value '0' for --port: a port 1..65535\n"
		  "Try 'xredird --help'.\n",
		  "--port", "0", "--help");
	CHECK_EQ(out_text[0], 0);
}

/* --version: the build's version on out, exit 0, no --iface needed. */
TEST(options_version)
{
	char want[128];

	clean_env();
	snprintf(want, sizeof(want), "xredird %s\n", xr_version);
	CHECK_EQ(RUN("--version"), 0);
	CHECK(!strcmp(out_text, want));
	CHECK_EQ(err_text[0], 0);
	CHECK(xr_version[0] && xr_commit[0]);
	CHECK_EQ(RUN("--version=1"), 2);
}

/* --doc man: one roff item per flag with --help's text; --doc bash: every
 * flag, and the values of those that take one. */
TEST(options_doc)
{
	char want[128];
	const char *p;
	size_t i, items = 0;

	clean_env();
	CHECK_EQ(RUN("--doc", "man"), 0);
	CHECK_EQ(err_text[0], 0);
	for (p = out_text; (p = strstr(p, ".TP\n")); p++)
		items++;
	CHECK_EQ(items, opt_count);
	for (i = 0; i < opt_count; i++) {
		snprintf(want, sizeof(want), "\\fB\\-\\-%s\\fR",
			 opt_table[i].name);
		CHECK(strstr(out_text, want));
	}
	CHECK(strstr(out_text, "\\fB\\-i\\fR, \\fB\\-\\-iface\\fR "
			       "\\fIIFACE\\fR\n"));
	CHECK(strstr(out_text, "\nservice TCP port (default 10000)\n"));
	CHECK(strstr(out_text, "check the \\-\\-config file"));

	CHECK_EQ(RUN("--doc=bash"), 0);
	CHECK(!strncmp(out_text, "_xredird_flags='-i --iface -p --port ", 37));
	for (i = 0; i < opt_count; i++) {
		snprintf(want, sizeof(want), " --%s%c", opt_table[i].name,
			 i + 1 < opt_count ? ' ' : '\'');
		CHECK(strstr(out_text, want));
	}
	CHECK(strstr(out_text, "\t--xdp-mode) echo 'auto native skb' ;;\n"));
	CHECK(strstr(out_text, "\t-c|--config) echo '@FILE' ;;\n"));
	CHECK(!strstr(out_text, "--log-clients)"));

	CHECK_BAD("xredird: invalid value 'pdf' for --doc: man or bash\n"
		  "Try 'xredird --help'.\n",
		  "--doc", "pdf");
}

/* roff: flags bold with escaped minus signs, metavariables italic, a
 * backslash and a leading dot escaped. */
TEST(doc_roff_item)
{
	static const char want[] =
		".TP\n\\fBrule\\fR \\fBlookup\\fR \\fB\\-\\-batch\\fR "
		"\\fIFILE\\fR|\\- [\\fIADDR\\fR]\n\\&.a b\\ec \\-\\-d\n";
	FILE *f = fmemopen(out_text, sizeof(out_text), "w");

	memset(out_text, 0, sizeof(out_text));
	doc_roff_item(f, "rule lookup --batch FILE|- [ADDR]", ".a b\\c --d");
	fclose(f);
	CHECK(!strcmp(out_text, want));
	if (strcmp(out_text, want))
		fprintf(stderr, "  got: %s  want: %s", out_text, want);
}
