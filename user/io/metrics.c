// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "listener.h"
#include "metrics.h"
#include "stats.h"
#include "target_count.h"
#include "version.h"

struct out {
	char *buf;
	size_t len, pos;
	uint64_t xdp[XR_CNT_MAX]; /* the XDP program's counters, or zeros */
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o,
						      const char *fmt, ...)
{
	size_t room = o->pos < o->len ? o->len - o->pos : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->buf + (room ? o->pos : 0), room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

static void head(struct out *o, const char *name, const char *type,
		 const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static uint32_t queues(const struct xr_maps *m)
{
	uint32_t q = m->status->queues;

	return q && q <= XR_MAX_QUEUES ? q : 1;
}

static uint64_t sum(const struct xr_maps *m, unsigned int idx)
{
	uint64_t v = 0;
	uint32_t q;

	for (q = 0; q < queues(m); q++)
		v += m->stats[q].v[idx];
	return v;
}

/*
 * A responder counter over all queues, with what the XDP program did in
 * the workers' stead: the SYNs it answered (bpf/synack.h).
 */
static uint64_t engine_sum(const struct out *o, const struct xr_maps *m,
			   unsigned int idx)
{
	return sum(m, idx) + xr_xdp_share(o->xdp, idx);
}

/*
 * The counters that mean something was not done, one family per unit so a
 * family's sum means something: frames, connections, deferred inputs.
 * engine_metrics() leaves these out.
 */
static const struct labelled {
	unsigned int idx;
	const char *family, *label;
} labelled[] = {
	{ TCP_STAT_rx_bad_csum, "xredir_frames_dropped_total",
	  "reason=\"rx_bad_checksum\"" },
	{ TCP_STAT_rx_malformed, "xredir_frames_dropped_total",
	  "reason=\"rx_malformed\"" },
	{ TCP_STAT_out_of_order, "xredir_frames_dropped_total",
	  "reason=\"rx_out_of_order\"" },
	{ TCP_STAT_tx_full, "xredir_frames_dropped_total",
	  "reason=\"tx_no_buffer\"" },
	{ TCP_STAT_rst_limited, "xredir_frames_dropped_total",
	  "reason=\"tx_rst_rate_limit\"" },
	{ TCP_STAT_table_full, "xredir_connections_refused_total",
	  "reason=\"table_full\"" },
	{ TCP_STAT_drain_refused, "xredir_connections_refused_total",
	  "reason=\"draining\"" },
	{ TCP_STAT_source_limited, "xredir_connections_refused_total",
	  "reason=\"source_flows\"" },
	{ TCP_STAT_reclaimed, "xredir_connections_reset_total",
	  "reason=\"reclaimed\"" },
	{ TCP_STAT_send_timeouts, "xredir_connections_reset_total",
	  "reason=\"send_timeout\"" },
	{ TCP_STAT_giveups, "xredir_connections_reset_total",
	  "reason=\"retransmit_giveup\"" },
	{ TCP_STAT_send_pool_empty, "xredir_input_deferred_total",
	  "buffer=\"send\"" },
	{ TCP_STAT_head_pool_empty, "xredir_input_deferred_total",
	  "buffer=\"head\"" },
	{ TCP_STAT_tls_pool_empty, "xredir_input_deferred_total",
	  "buffer=\"tls\"" },
};

static const struct {
	const char *family, *help;
} labelled_help[] = {
	{ "xredir_frames_dropped_total",
	  "frames dropped on receipt or not sent, by reason (rx_: received, "
	  "tx_: ours)" },
	{ "xredir_connections_refused_total",
	  "connections refused at the handshake, by reason" },
	{ "xredir_connections_reset_total",
	  "established connections reset by xredir, by reason" },
	{ "xredir_input_deferred_total",
	  "segments whose input was put off (retried later) for want of a "
	  "buffer, by buffer pool" },
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static bool is_labelled(unsigned int idx)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(labelled); i++)
		if (labelled[i].idx == idx)
			return true;
	return false;
}

static void labelled_families(struct out *o, const struct xr_maps *m)
{
	size_t f, i;

	for (f = 0; f < ARRAY_LEN(labelled_help); f++) {
		head(o, labelled_help[f].family, "counter",
		     labelled_help[f].help);
		for (i = 0; i < ARRAY_LEN(labelled); i++)
			if (!strcmp(labelled[i].family,
				    labelled_help[f].family))
				put(o, "%s{%s} %llu\n", labelled[i].family,
				    labelled[i].label,
				    (unsigned long long)engine_sum(
					    o, m, labelled[i].idx));
	}
}

/* Every responder counter and gauge, summed over queues, except those a
 * labelled family shows (a sum over its labels is PromQL's to make). */
static void engine_metrics(struct out *o, const struct xr_maps *m)
{
	char name[96];
	unsigned int i;

	for (i = 0; i < WS_RESPONSES; i++) {
		bool gauge = worker_stat_is_gauge(i);

		if (i == TCP_STAT_requests)
			continue; /* xredir_requests_total{status} has them */
		if ((i >= WS_XSK_RX && i <= WS_XSK_TX_INVALID) ||
		    is_labelled(i))
			continue; /* per_queue() or labelled_families() */
		snprintf(name, sizeof(name), "xredir_%s%s", worker_stat_name(i),
			 gauge ? "" : "_total");
		head(o, name, gauge ? "gauge" : "counter", worker_stat_help(i));
		put(o, "%s %llu\n", name,
		    (unsigned long long)engine_sum(o, m, i));
	}
}

static void per_queue(struct out *o, const struct xr_maps *m)
{
	static const struct {
		unsigned int idx;
		const char *name, *help;
	} q_stats[] = {
		{ WS_XSK_RX, "xredir_queue_rx_packets_total",
		  "frames received, by queue" },
		{ WS_XSK_TX, "xredir_queue_tx_packets_total",
		  "frames sent, by queue" },
		{ WS_XSK_TX_RING_FULL, "xredir_queue_tx_ring_full_total",
		  "frames dropped because the TX ring was full, by queue" },
		{ WS_XSK_FILL_SHORT, "xredir_queue_fill_short_total",
		  "fill ring refills that found no free frame, by queue" },
		{ WS_XSK_KICKS, "xredir_queue_tx_kicks_total",
		  "TX wakeups (sendto) issued, by queue" },
		{ WS_XSK_RX_DROPPED, "xredir_queue_rx_dropped_total",
		  "frames the kernel dropped before the socket: no free frame "
		  "in the fill ring, or too long, by queue" },
		{ WS_XSK_RX_RING_FULL, "xredir_queue_rx_ring_full_total",
		  "frames the kernel dropped: RX ring full, by queue" },
		{ WS_XSK_FILL_EMPTY, "xredir_queue_fill_empty_total",
		  "times the kernel found the fill ring empty, by queue" },
		{ WS_XSK_TX_INVALID, "xredir_queue_tx_invalid_total",
		  "TX descriptors the kernel refused, by queue" },
	};
	uint32_t q;
	size_t i;

	for (i = 0; i < sizeof(q_stats) / sizeof(q_stats[0]); i++) {
		head(o, q_stats[i].name, "counter", q_stats[i].help);
		for (q = 0; q < queues(m); q++)
			put(o, "%s{queue=\"%u\"} %llu\n", q_stats[i].name, q,
			    (unsigned long long)m->stats[q].v[q_stats[i].idx]);
	}
}

#define TARGET_TRIES 3

/*
 * Redirects by target, per target a slot holds (its gen), not per slot: a
 * target's series starts at zero and a deleted one's goes away (a series
 * that stops is what Prometheus expects of a label value that is gone;
 * one "(removed)" series would reset, or repeat, as slots are reused).
 * A count is added only under the gen it belongs to, the two read as a
 * pair under the slot's sequence (target_count.h); one whose gen is
 * older is the previous target's. The sums are taken between two reads
 * of the targets' sequence, so a count of a gen newer than the copy (a
 * writer finishing meanwhile) is never dropped from its target's series:
 * a change of sequence takes the copy again.
 */
static void target_requests(struct out *o, const struct xr_maps *m,
			    const struct listener *local)
{
	/* Off the stack (75 KiB): only the listener's thread renders. */
	static struct xr_target t[XR_MAX_TARGETS];
	static uint64_t v[XR_MAX_TARGETS];
	const struct target_cache *lc = &local->targets;
	int tries = TARGET_TRIES;
	uint32_t seq, i, q, gen;
	uint64_t n;

	do {
		if (xr_targets_snapshot(m, t, &seq, XR_SNAPSHOT_TRIES))
			return;
		for (i = 0; i < XR_MAX_TARGETS; i++) {
			v[i] = lc->loaded && lc->raw[i].gen == t[i].gen ?
				       lc->hits[i] :
				       0;
			for (q = 0; q < queues(m); q++)
				if (target_count_read(&m->stats[q], i, &gen,
						      &n) &&
				    gen == t[i].gen)
					v[i] += n;
		}
	} while (__atomic_load_n(&m->ctl->targets_seq, __ATOMIC_ACQUIRE) !=
			 seq &&
		 --tries);
	head(o, "xredir_target_requests_total", "counter",
	     "redirects sent, by target");
	for (i = 0; i < XR_MAX_TARGETS; i++)
		if (t[i].name[0])
			put(o,
			    "xredir_target_requests_total{target=\"%.*s\"} "
			    "%llu\n",
			    XR_TARGET_NAME_MAX, t[i].name,
			    (unsigned long long)v[i]);
}

static void requests(struct out *o, const struct xr_maps *m,
		     const struct listener *local)
{
	uint32_t i;

	head(o, "xredir_requests_total", "counter",
	     "responses sent, by status code and by the socket the request "
	     "came through (via xdp: AF_XDP, kernel: the kernel socket, for "
	     "clients on this node)");
	for (i = 0; i < HTTP_STATUS_SLOTS; i++) {
		put(o,
		    "xredir_requests_total{status=\"%u\",via=\"xdp\"} %llu\n",
		    http_status_codes[i],
		    (unsigned long long)sum(m, WS_RESPONSES + i));
		put(o,
		    "xredir_requests_total{status=\"%u\",via=\"kernel\"} %llu\n",
		    http_status_codes[i],
		    (unsigned long long)local->stats.responses[i]);
	}
	target_requests(o, m, local);
}

/*
 * Request durations on the AF_XDP path, as the worker's clock sees them:
 * read once per pass, so a request whose head came whole and was answered
 * in that pass counts as 0 (the first bucket); what lands higher waited
 * inside xredir (a head in pieces, input deferred for a buffer, pipelined
 * requests behind a full send ring).
 */
static void durations(struct out *o, const struct xr_maps *m)
{
	static const char name[] = "xredir_request_duration_seconds";
	uint64_t cum = 0, sum_ns = 0;
	unsigned int b;
	uint32_t q;

	head(o, name, "histogram",
	     "from a request head's first byte in to its response queued "
	     "for the TX ring, AF_XDP path");
	for (b = 0; b < LATENCY_BUCKETS; b++) {
		for (q = 0; q < queues(m); q++)
			cum += m->stats[q].latency[b];
		if (b < LATENCY_FINITE)
			put(o, "%s_bucket{le=\"%.9g\"} %llu\n", name,
			    (double)latency_bound_ns(b) / 1e9,
			    (unsigned long long)cum);
		else
			put(o, "%s_bucket{le=\"+Inf\"} %llu\n", name,
			    (unsigned long long)cum);
	}
	for (q = 0; q < queues(m); q++)
		sum_ns += m->stats[q].latency_sum_ns;
	put(o, "%s_sum %.9f\n%s_count %llu\n", name, (double)sum_ns / 1e9, name,
	    (unsigned long long)cum);
}

/* The kernel-socket listener's connections closed unanswered. */
static void listener_refused(struct out *o, const struct listener *local)
{
	static const char *const pools[LP_COUNT] = {
		[LP_SERVICE] = "service",
		[LP_METRICS] = "metrics",
	};
	unsigned int p, r;

	head(o, "xredir_listener_refused_total", "counter",
	     "kernel-socket connections refused or closed unanswered, by "
	     "pool (service port, metrics) and reason");
	for (p = 0; p < LP_COUNT; p++)
		for (r = 0; r < SLOT_REASONS; r++)
			put(o,
			    "xredir_listener_refused_total{pool=\"%s\","
			    "reason=\"%s\"} %llu\n",
			    pools[p], slot_reason_name(r),
			    (unsigned long long)local->stats.refused[p][r]);
}

static void xdp(struct out *o)
{
	const uint64_t *c = o->xdp;
	int i;

	head(o, "xredir_xdp_packets_total", "counter",
	     "packets seen by the XDP program, by what it did");
	for (i = 0; i < XR_CNT_MAX; i++)
		put(o, "xredir_xdp_packets_total{action=\"%s\"} %llu\n",
		    xr_counter_name(i), (unsigned long long)c[i]);
}

static void control(struct out *o, const struct xr_maps *m)
{
	const struct xr_status *st = m->status;
	int i, targets = 0;

	for (i = 0; i < XR_MAX_TARGETS; i++)
		targets += !!m->targets[i].name[0];
	head(o, "xredir_rules", "gauge", "rules in the active set");
	put(o, "xredir_rules{family=\"ipv4\"} %u\n", m->ctl->rules_count[0]);
	put(o, "xredir_rules{family=\"ipv6\"} %u\n", m->ctl->rules_count[1]);
	head(o, "xredir_targets", "gauge", "targets defined");
	put(o, "xredir_targets %d\n", targets);
	head(o, "xredir_config_reloads_total", "counter",
	     "config file loads, by result");
	put(o, "xredir_config_reloads_total{result=\"ok\"} %u\n",
	    st->reload_count - st->reload_failures);
	put(o, "xredir_config_reloads_total{result=\"failed\"} %u\n",
	    st->reload_failures);
	head(o, "xredir_config_last_reload_ok", "gauge",
	     "1 if the last config load succeeded (or there is no file)");
	put(o, "xredir_config_last_reload_ok %d\n",
	    st->reload_result != XR_RELOAD_FAILED);
	head(o, "xredir_ready", "gauge", "1 when serving (see /readyz)");
	put(o, "xredir_ready %u\n", st->ready);
	head(o, "xredir_build_info", "gauge",
	     "always 1; the labels say which build is running");
	put(o, "xredir_build_info{version=\"%s\",commit=\"%s\"} 1\n",
	    xr_version, xr_commit);
}

/* The boot time, seconds since the epoch (/proc/stat btime), or 0. */
static unsigned long long boot_time(void)
{
	unsigned long long bt = 0;
	char line[256];
	FILE *f = fopen("/proc/stat", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %llu", &bt) == 1)
			break;
	fclose(f);
	return bt;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* not the one opendir holds */
}

/*
 * The process_* families every Prometheus client library exports, read
 * as client_golang reads them: /proc/self/stat (CPU time, memory, start),
 * /proc/self/fd and the descriptor limit.
 */
static void process(struct out *o)
{
	unsigned long long utime, stime, start, vsize;
	double tick = (double)sysconf(_SC_CLK_TCK);
	long long rss;
	struct rlimit rl;
	char buf[1024], *p;
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	int fds;

	if (f)
		fclose(f);
	buf[n] = 0;
	/* The command name may hold spaces and parentheses: fields are
	 * counted from its last ')', field 3 (state) on. */
	p = strrchr(buf, ')');
	if (!p || tick <= 0 ||
	    sscanf(p + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
		   "%*d %*d %*d %*d %*d %*d %llu %llu %lld",
		   &utime, &stime, &start, &vsize, &rss) != 5)
		return;
	head(o, "process_cpu_seconds_total", "counter",
	     "user and system CPU time spent, in seconds");
	put(o, "process_cpu_seconds_total %.2f\n",
	    (double)(utime + stime) / tick);
	head(o, "process_resident_memory_bytes", "gauge",
	     "resident memory size, in bytes");
	put(o, "process_resident_memory_bytes %lld\n",
	    rss * (long long)sysconf(_SC_PAGESIZE));
	head(o, "process_virtual_memory_bytes", "gauge",
	     "virtual memory size, in bytes");
	put(o, "process_virtual_memory_bytes %llu\n", vsize);
	head(o, "process_start_time_seconds", "gauge",
	     "start time of the process since the epoch, in seconds");
	put(o, "process_start_time_seconds %.2f\n",
	    (double)boot_time() + (double)start / tick);
	fds = open_fds();
	if (fds >= 0) {
		head(o, "process_open_fds", "gauge", "open file descriptors");
		put(o, "process_open_fds %d\n", fds);
	}
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		head(o, "process_max_fds", "gauge",
		     "the limit on open file descriptors");
		put(o, "process_max_fds %llu\n",
		    (unsigned long long)rl.rlim_cur);
	}
}

size_t metrics_render(const struct xr_maps *m, const struct listener *local,
		      char *buf, size_t len)
{
	struct out o = { buf, len, 0, { 0 } };
	bool xdp_read = !xr_counters_read(m, o.xdp);

	requests(&o, m, local);
	engine_metrics(&o, m);
	labelled_families(&o, m);
	durations(&o, m);
	listener_refused(&o, local);
	per_queue(&o, m);
	if (xdp_read)
		xdp(&o);
	control(&o, m);
	process(&o);
	return o.pos;
}
