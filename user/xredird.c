// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xredird: attach the XDP program to an interface, open one AF_XDP socket
 * and worker per receive queue, and answer HTTP on the service port with
 * redirects until SIGINT or SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loader.h"
#include "log.h"
#include "rules.h"
#include "worker.h"

#define DEFAULT_TARGET "https://k8s.gcr.io"
#define DEFAULT_REWRITE "https://registry-1.docker.io"
#define REWRITE_NAME "rewrite"
#define DEFAULT_NAME "default"
#define MAX_MATCH_IPS 16

struct options {
	const char *ifname;
	const char *bpffs;
	const char *default_target;
	const char *rewrite_target;
	const char *match_ip[MAX_MATCH_IPS];
	uint32_t n_match_ip;
	uint32_t queues; /* 0: all */
	enum xr_xdp_mode xdp_mode;
	enum xsk_bind_mode bind_mode;
	struct tcp_config tcp;
	struct http_limits lim;
};

static volatile bool stop;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: xredird --iface IFACE [options]\n"
		"\n"
		"Answers HTTP on a TCP port with redirects chosen by client address,\n"
		"from user space over AF_XDP (the kernel's TCP stack never sees the port).\n"
		"\n"
		"  -i, --iface IFACE         interface to serve on (required)\n"
		"  -p, --port N              service TCP port (default 10000)\n"
		"      --default-target URL  where unmatched clients go (default " DEFAULT_TARGET
		")\n"
		"      --match-ip ADDR[/LEN] send this client to --rewrite-target (env MATCH_IP;\n"
		"                            may be repeated)\n"
		"      --rewrite-target URL  target for --match-ip (default " DEFAULT_REWRITE
		")\n"
		"  -q, --queues N            serve the first N receive queues (default: all)\n"
		"      --xdp-mode MODE       auto|native|skb (default auto)\n"
		"      --bind-mode MODE      auto|zerocopy|copy (default auto)\n"
		"      --max-flows N         flow table size per queue (default 65536)\n"
		"      --idle-timeout SEC    close idle keep-alive connections (default 60)\n"
		"      --header-timeout SEC  close connections with an incomplete head (default 10)\n"
		"      --methods LIST        answer only these methods, others 405 (e.g. GET,HEAD)\n"
		"      --bpffs DIR           bpffs mount for pins (default $XREDIR_BPFFS or " XR_DEFAULT_BPFFS
		")\n"
		"      --log-level LEVEL     error|warn|info|debug (default info)\n"
		"      --log-format FMT      text|json (default text)\n"
		"  -h, --help                this text\n");
}

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

static int bad_value(const char *flag, const char *value, const char *want)
{
	fprintf(stderr, "xredird: invalid value '%s' for %s: %s\n", value, flag,
		want);
	return -1;
}

enum long_only {
	OPT_DEFAULT_TARGET = 256,
	OPT_MATCH_IP,
	OPT_REWRITE_TARGET,
	OPT_XDP_MODE,
	OPT_BIND_MODE,
	OPT_MAX_FLOWS,
	OPT_IDLE_TIMEOUT,
	OPT_HEADER_TIMEOUT,
	OPT_METHODS,
	OPT_BPFFS,
	OPT_LOG_LEVEL,
	OPT_LOG_FORMAT,
};

static const struct option long_opts[] = {
	{ "iface", required_argument, NULL, 'i' },
	{ "port", required_argument, NULL, 'p' },
	{ "queues", required_argument, NULL, 'q' },
	{ "default-target", required_argument, NULL, OPT_DEFAULT_TARGET },
	{ "match-ip", required_argument, NULL, OPT_MATCH_IP },
	{ "rewrite-target", required_argument, NULL, OPT_REWRITE_TARGET },
	{ "xdp-mode", required_argument, NULL, OPT_XDP_MODE },
	{ "bind-mode", required_argument, NULL, OPT_BIND_MODE },
	{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT },
	{ "methods", required_argument, NULL, OPT_METHODS },
	{ "bpffs", required_argument, NULL, OPT_BPFFS },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_mode(const char *flag, const char *v, const char *const *names,
		      int *out)
{
	int i;

	for (i = 0; names[i]; i++) {
		if (!strcmp(v, names[i])) {
			*out = i;
			return 0;
		}
	}
	return bad_value(flag, v, "see --help for the choices");
}

static int parse_option(struct options *o, int c, const char *arg)
{
	static const char *const xdp_modes[] = { "auto", "native", "skb",
						 NULL };
	static const char *const bind_modes[] = { "auto", "zerocopy", "copy",
						  NULL };
	enum log_level level;
	struct xr_cidr cidr;
	char err[160];
	uint64_t v;
	int mode;

	switch (c) {
	case 'i':
		o->ifname = arg;
		return 0;
	case 'p':
		if (parse_uint(arg, 65535, &v) || !v)
			return bad_value("--port", arg, "a port 1..65535");
		o->tcp.port = (uint16_t)v;
		return 0;
	case 'q':
		if (parse_uint(arg, 64, &v) || !v)
			return bad_value("--queues", arg, "1..64");
		o->queues = (uint32_t)v;
		return 0;
	case OPT_DEFAULT_TARGET:
		o->default_target = arg;
		return 0;
	case OPT_MATCH_IP:
		if (o->n_match_ip == MAX_MATCH_IPS)
			return bad_value("--match-ip", arg,
					 "at most 16 of them");
		if (xr_cidr_parse(arg, &cidr, err, sizeof(err))) {
			fprintf(stderr, "xredird: --match-ip: %s\n", err);
			return -1;
		}
		o->match_ip[o->n_match_ip++] = arg;
		return 0;
	case OPT_REWRITE_TARGET:
		o->rewrite_target = arg;
		return 0;
	case OPT_XDP_MODE:
		if (parse_mode("--xdp-mode", arg, xdp_modes, &mode))
			return -1;
		o->xdp_mode = (enum xr_xdp_mode)mode;
		return 0;
	case OPT_BIND_MODE:
		if (parse_mode("--bind-mode", arg, bind_modes, &mode))
			return -1;
		o->bind_mode = (enum xsk_bind_mode)mode;
		return 0;
	case OPT_MAX_FLOWS:
		if (parse_uint(arg, 1u << 24, &v) || !v)
			return bad_value("--max-flows", arg, "1..16777216");
		o->tcp.max_flows = (uint32_t)v;
		return 0;
	case OPT_IDLE_TIMEOUT:
		if (parse_uint(arg, 86400, &v) || !v)
			return bad_value("--idle-timeout", arg,
					 "1..86400 seconds");
		o->tcp.idle_timeout_ms = (uint32_t)v * 1000;
		return 0;
	case OPT_HEADER_TIMEOUT:
		if (parse_uint(arg, 3600, &v) || !v)
			return bad_value("--header-timeout", arg,
					 "1..3600 seconds");
		o->tcp.header_timeout_ms = (uint32_t)v * 1000;
		return 0;
	case OPT_METHODS:
		if (http_limits_set_methods(&o->lim, arg))
			return bad_value("--methods", arg,
					 "comma-separated method names");
		return 0;
	case OPT_BPFFS:
		o->bpffs = arg;
		return 0;
	case OPT_LOG_LEVEL:
		if (log_parse_level(arg, &level))
			return bad_value("--log-level", arg,
					 "error, warn, info or debug");
		log_setup(level, false);
		return 0;
	case OPT_LOG_FORMAT:
		if (strcmp(arg, "text") && strcmp(arg, "json"))
			return bad_value("--log-format", arg, "text or json");
		log_setup(LOG_INFO, !strcmp(arg, "json"));
		return 0;
	}
	return -1;
}

static int parse_args(struct options *o, int argc, char **argv)
{
	int c;

	memset(o, 0, sizeof(*o));
	tcp_config_default(&o->tcp);
	http_limits_default(&o->lim);
	o->bpffs = getenv("XREDIR_BPFFS") ? getenv("XREDIR_BPFFS") :
					    XR_DEFAULT_BPFFS;
	if (getenv("MATCH_IP") && *getenv("MATCH_IP") &&
	    parse_option(o, OPT_MATCH_IP, getenv("MATCH_IP")))
		return -1;
	while ((c = getopt_long(argc, argv, "i:p:q:h", long_opts, NULL)) !=
	       -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (c == '?' || parse_option(o, c, optarg)) {
			fprintf(stderr, "Try 'xredird --help'.\n");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xredird: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	if (!o->ifname) {
		fprintf(stderr, "xredird: --iface is required\n");
		return -1;
	}
	return 0;
}

/* The number of receive queues, from ethtool; 1 if it cannot tell. */
static uint32_t rx_queue_count(const char *ifname)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr;
	uint32_t n = 1;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		return 1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ch;
	if (!ioctl(fd, SIOCETHTOOL, &ifr)) {
		n = ch.combined_count + ch.rx_count;
		if (!n)
			n = 1;
	}
	close(fd);
	return n;
}

static int check_url(const char *flag, const char *url)
{
	struct http_target t;

	if (strlen(url) >= XR_TARGET_URL_MAX ||
	    http_target_init(&t, url, strlen(url), 302))
		return bad_value(flag, url,
				 "an http(s)://host[:port][/prefix] URL of "
				 "header-safe bytes, shorter than 256");
	return 0;
}

/*
 * Targets and rules live in pinned maps and survive restarts; flags given
 * on the command line take precedence over what the pins hold.
 */
static int apply_targets(struct xr_maps *m, const struct options *o)
{
	const char *def = o->default_target ? o->default_target :
					      DEFAULT_TARGET;
	const char *rew = o->rewrite_target ? o->rewrite_target :
					      DEFAULT_REWRITE;
	struct xr_cidr cidr;
	char err[160];
	uint32_t i;
	int idx;

	if (o->default_target || !m->targets[XR_TARGET_DEFAULT].name[0])
		xr_target_write(m, XR_TARGET_DEFAULT, DEFAULT_NAME, def, 302);
	idx = xr_target_find(m, REWRITE_NAME);
	if (idx < 0)
		idx = 1;
	if (o->rewrite_target || !m->targets[idx].name[0])
		xr_target_write(m, (uint32_t)idx, REWRITE_NAME, rew, 302);
	for (i = 0; i < o->n_match_ip; i++) {
		if (xr_cidr_parse(o->match_ip[i], &cidr, err, sizeof(err))) {
			fprintf(stderr, "xredird: --match-ip: %s\n", err);
			return -1;
		}
		if (xr_rule_add(m, &cidr, (uint32_t)idx)) {
			log_err("rule_add_failed", " cidr=%s err=\"%s\"",
				o->match_ip[i], strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int start_workers(struct worker *w, uint32_t n, const struct options *o,
			 const struct xr_bpf *b, const struct xr_maps *m,
			 const struct siphash_key *secret)
{
	uint32_t q;

	for (q = 0; q < n; q++) {
		struct worker_cfg cfg = {
			.queue = q,
			.xsk = { .ifname = o->ifname,
				 .queue = q,
				 .frames = 4096,
				 .frame_size = 2048,
				 .ring_size = 2048,
				 .bind = o->bind_mode,
				 .xsks_map_fd = b->xsks_fd },
			.tcp = o->tcp,
			.lim = &o->lim,
			.secret = secret,
			.maps = m,
			.stop = &stop,
		};

		if (worker_start(&w[q], &cfg))
			return -1;
	}
	return 0;
}

static int interface_mtu(const char *ifname)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), mtu = 1500;

	if (fd < 0)
		return mtu;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (!ioctl(fd, SIOCGIFMTU, &ifr))
		mtu = ifr.ifr_mtu;
	close(fd);
	return mtu;
}

/* Signals are blocked in every thread; the main thread takes them here. */
static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, set, NULL);
}

static void wait_for_signal(void)
{
	sigset_t set;
	int sig;

	block_signals(&set);
	while (sigwait(&set, &sig))
		;
	log_info("signal", " sig=%s", sig == SIGINT ? "INT" : "TERM");
}

static int run(struct options *o)
{
	struct xr_loader_cfg lc = { o->ifname, o->bpffs, o->xdp_mode,
				    o->tcp.port };
	uint32_t nq = rx_queue_count(o->ifname), q;
	struct siphash_key secret;
	struct worker *workers;
	struct xr_maps maps;
	struct xr_bpf bpf;
	int ret = 1;

	if (o->queues && o->queues < nq)
		nq = o->queues;
	o->tcp.mtu = (uint16_t)interface_mtu(o->ifname);
	if (getrandom(&secret, sizeof(secret), 0) != sizeof(secret)) {
		log_err("getrandom_failed", " err=\"%s\"", strerror(errno));
		return 1;
	}
	/* libxdp keeps its dispatcher state in the same bpffs as our pins. */
	setenv("LIBXDP_BPFFS", o->bpffs, 0);
	xr_quiet_libs();
	if (xr_bpf_load(&bpf, &lc))
		return 1;
	if (xr_maps_open(&maps, bpf.pin_dir)) {
		log_err("pins_open_failed", " dir=%s err=\"%s\"", bpf.pin_dir,
			strerror(errno));
		goto out_unload;
	}
	maps.ctl->abi_version = XR_ABI_VERSION;
	if (apply_targets(&maps, o))
		goto out_maps;
	workers = calloc(nq, sizeof(*workers));
	if (!workers)
		goto out_maps;
	if (!start_workers(workers, nq, o, &bpf, &maps, &secret)) {
		log_info("serving",
			 " iface=%s port=%u queues=%u xdp_mode=%s "
			 "pins=%s",
			 o->ifname, o->tcp.port, nq,
			 xr_xdp_mode_name(bpf.attached_mode), bpf.pin_dir);
		wait_for_signal();
		ret = 0;
	}
	stop = true;
	for (q = 0; q < nq; q++)
		worker_join(&workers[q]);
	free(workers);
out_maps:
	xr_maps_close(&maps);
out_unload:
	xr_bpf_unload(&bpf);
	log_info("stopped", " iface=%s", o->ifname);
	return ret;
}

int main(int argc, char **argv)
{
	struct options o;
	sigset_t set;

	if (parse_args(&o, argc, argv))
		return 2;
	if (check_url("--default-target",
		      o.default_target ? o.default_target : DEFAULT_TARGET) ||
	    check_url("--rewrite-target",
		      o.rewrite_target ? o.rewrite_target : DEFAULT_REWRITE))
		return 2;
	block_signals(&set);
	signal(SIGPIPE, SIG_IGN);
	return run(&o);
}
