// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * /metrics (user/io/metrics.c) rendered from maps held in memory: each
 * family counts one kind of thing, no series repeats another, and the
 * per-target series follow the target a slot holds.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "listener.h"
#include "metrics.h"
#include "stats.h"
#include "target_count.h"
#include "target_table.h"
#include "test.h"

static struct xr_ctl ctl;
static struct xr_target targets[XR_MAX_TARGETS];
static struct xr_status status;
static struct xr_worker_stats stats[XR_MAX_QUEUES];
static struct xr_maps maps;
static struct listener local;
static char page[256 * 1024];

static void setup(uint32_t queues)
{
	int i;

	memset(&ctl, 0, sizeof(ctl));
	memset(targets, 0, sizeof(targets));
	memset(&status, 0, sizeof(status));
	memset(stats, 0, sizeof(stats));
	memset(&local, 0, sizeof(local));
	memset(&maps, 0, sizeof(maps));
	for (i = 0; i < XR_NMAPS; i++)
		maps.fd[i] = -1; /* no XDP counters: that family is left out */
	maps.ctl = &ctl;
	maps.targets = targets;
	maps.status = &status;
	maps.stats = stats;
	status.queues = queues;
}

static void render(void)
{
	size_t n = metrics_render(&maps, &local, page, sizeof(page));

	REQUIRE(n < sizeof(page));
}

/* The value of the sample named exactly key (name{labels}), or -1. */
static long long sample(const char *key)
{
	size_t k = strlen(key);
	const char *p = page;

	while (p && *p) {
		if (!strncmp(p, key, k) && p[k] == ' ')
			return strtoll(p + k + 1, NULL, 10);
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return -1;
}

/* Lines that start with prefix. */
static int lines(const char *prefix)
{
	size_t k = strlen(prefix);
	const char *p = page;
	int n = 0;

	while (p && *p) {
		n += !strncmp(p, prefix, k);
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return n;
}

/* Every sample line's series (name and labels) appears once. */
static bool series_unique(void)
{
	const char *p = page, *q;

	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		size_t k = strcspn(p, " \n");

		if (*p == '#')
			continue;
		for (q = strchr(p, '\n'); q && *++q; q = strchr(q, '\n'))
			if (!strncmp(p, q, k) && q[k] == ' ') {
				fprintf(stderr, "  repeated: %.*s\n", (int)k,
					p);
				return false;
			}
	}
	return true;
}

TEST(per_queue_frames_once)
{
	setup(2);
	stats[0].v[WS_XSK_RX] = 5;
	stats[1].v[WS_XSK_RX] = 7;
	render();
	CHECK_EQ(sample("xredir_queue_rx_packets_total{queue=\"0\"}"), 5);
	CHECK_EQ(sample("xredir_queue_rx_packets_total{queue=\"1\"}"), 7);
	CHECK_EQ(lines("xredir_xsk_"), 0);
	CHECK_EQ(lines("# TYPE xredir_xsk_"), 0);
	CHECK(series_unique());
}

/* The socket a request came through is a label named for it: "path"
 * would read as the URL's path. */
TEST(requests_by_socket)
{
	setup(1);
	stats[0].v[WS_RESPONSES + HTTP_STATUS_302] = 4;
	local.stats.responses[HTTP_STATUS_302] = 3;
	render();
	CHECK_EQ(sample("xredir_requests_total{status=\"302\",via=\"xdp\"}"),
		 4);
	CHECK_EQ(sample("xredir_requests_total{status=\"302\",via=\"kernel\"}"),
		 3);
	CHECK_EQ(lines("xredir_requests_total{status=\"302\",path="), 0);
}

/* The family a stat is in, its labels, and that it is nowhere else. */
static void check_in(unsigned int idx, const char *family, const char *labels)
{
	char key[160], alone[96];

	snprintf(key, sizeof(key), "%s{%s}", family, labels);
	snprintf(alone, sizeof(alone), "xredir_%s_total ",
		 worker_stat_name(idx));
	CHECK_EQ(sample(key), 100 + idx);
	CHECK_EQ(lines(alone), 0);
}

/* A family counts one kind of thing, so its sum means something: frames,
 * connections refused, connections reset, deferred inputs. */
TEST(one_unit_per_family)
{
	unsigned int i;

	setup(1);
	for (i = 0; i < WS_RESPONSES; i++)
		stats[0].v[i] = 100 + i;
	render();
	check_in(TCP_STAT_rx_bad_csum, "xredir_frames_dropped_total",
		 "reason=\"rx_bad_checksum\"");
	check_in(TCP_STAT_rx_malformed, "xredir_frames_dropped_total",
		 "reason=\"rx_malformed\"");
	check_in(TCP_STAT_out_of_order, "xredir_frames_dropped_total",
		 "reason=\"rx_out_of_order\"");
	check_in(TCP_STAT_tx_full, "xredir_frames_dropped_total",
		 "reason=\"tx_no_buffer\"");
	check_in(TCP_STAT_rst_limited, "xredir_frames_dropped_total",
		 "reason=\"tx_rst_rate_limit\"");
	check_in(TCP_STAT_table_full, "xredir_connections_refused_total",
		 "reason=\"table_full\"");
	check_in(TCP_STAT_drain_refused, "xredir_connections_refused_total",
		 "reason=\"draining\"");
	check_in(TCP_STAT_source_limited, "xredir_connections_refused_total",
		 "reason=\"source_flows\"");
	check_in(TCP_STAT_reclaimed, "xredir_connections_reset_total",
		 "reason=\"reclaimed\"");
	check_in(TCP_STAT_send_timeouts, "xredir_connections_reset_total",
		 "reason=\"send_timeout\"");
	check_in(TCP_STAT_giveups, "xredir_connections_reset_total",
		 "reason=\"retransmit_giveup\"");
	check_in(TCP_STAT_send_pool_empty, "xredir_input_deferred_total",
		 "buffer=\"send\"");
	check_in(TCP_STAT_head_pool_empty, "xredir_input_deferred_total",
		 "buffer=\"head\"");
	CHECK_EQ(lines("xredir_drops_total"), 0);
	CHECK_EQ(lines("xredir_refused_total"), 0);
	CHECK_EQ(lines("# TYPE xredir_frames_dropped_total counter\n"), 1);
	CHECK_EQ(sample("xredir_pool_refused_total"),
		 100 + TCP_STAT_pool_refused);
	CHECK(series_unique());
}

static double sample_f(const char *key)
{
	const char *p = strstr(page, key);
	size_t k = strlen(key);

	while (p && !((p == page || p[-1] == '\n') && p[k] == ' '))
		p = strstr(p + 1, key);
	return p ? strtod(p + k + 1, NULL) : -1;
}

/* The process_* families of Prometheus clients, of this process. */
TEST(process_families)
{
	struct rlimit rl;
	time_t now = time(NULL);
	double start;
	int fd, i;
	long long fds;

	setup(1);
	render();
	start = sample_f("process_start_time_seconds");
	CHECK(start > (double)now - 3600 && start <= (double)now + 1);
	CHECK(sample_f("process_cpu_seconds_total") >= 0);
	CHECK(sample("process_resident_memory_bytes") > 1 << 20);
	CHECK(sample("process_virtual_memory_bytes") >
	      sample("process_resident_memory_bytes"));
	REQUIRE(!getrlimit(RLIMIT_NOFILE, &rl));
	CHECK_EQ(sample("process_max_fds"), rl.rlim_cur);
	CHECK_EQ(lines("# TYPE process_cpu_seconds_total counter\n"), 1);
	CHECK_EQ(lines("# TYPE process_open_fds gauge\n"), 1);
	/* Three more descriptors are seen as three more. */
	fds = sample("process_open_fds");
	CHECK(fds >= 3);
	for (i = 0; i < 3; i++)
		fd = dup(0);
	render();
	CHECK_EQ(sample("process_open_fds"), fds + 3);
	for (i = 0; i < 3; i++)
		close(fd - i);
}

static void target(uint32_t idx, const char *name, uint32_t gen)
{
	xr_target_fill(&targets[idx], name, "http://t.test", 13, 302);
	targets[idx].gen = gen;
}

/* A count as a worker exports it: for the target of that gen. */
static void counted(uint32_t q, uint32_t idx, uint32_t gen, uint64_t n)
{
	target_count_publish(&stats[q], idx, gen, n);
}

/* A slot given to another target: the new one starts at zero, whatever a
 * worker that has not yet seen the change still exports for the old. */
TEST(reused_slot_starts_at_zero)
{
	setup(2);
	target(0, "default", 1);
	target(3, "b", 8); /* was "a", gen 7 */
	counted(0, 0, 1, 10);
	counted(0, 3, 7, 1000); /* queue 0 still counts for "a" */
	counted(1, 3, 8, 2); /* queue 1 counts for "b" */
	local.targets.loaded = true;
	local.targets.raw[3].gen = 7;
	local.targets.hits[3] = 50; /* the listener's, for "a" */
	render();
	CHECK_EQ(sample("xredir_target_requests_total{target=\"b\"}"), 2);
	CHECK_EQ(sample("xredir_target_requests_total{target=\"default\"}"),
		 10);
	local.targets.raw[3].gen = 8;
	local.targets.hits[3] = 4;
	render();
	CHECK_EQ(sample("xredir_target_requests_total{target=\"b\"}"), 6);
}

/* A worker caught between writing a slot's gen and its count (the slot's
 * sequence odd) has its pair left out: the new target is not given the
 * old one's count. */
TEST(slot_being_written_is_not_paired)
{
	setup(2);
	target(0, "default", 1);
	target(3, "b", 8); /* was "a", gen 7 */
	counted(0, 3, 7, 1000);
	counted(1, 3, 8, 2);
	/* Queue 0 has stored the new gen, not yet the new count. */
	stats[0].target_seq[3]++;
	stats[0].target_gen[3] = 8;
	render();
	CHECK_EQ(sample("xredir_target_requests_total{target=\"b\"}"), 2);
	stats[0].target_requests[3] = 5;
	stats[0].target_seq[3]++;
	render();
	CHECK_EQ(sample("xredir_target_requests_total{target=\"b\"}"), 7);
	/* A writer that died half-way: the next write makes it even. */
	stats[1].target_seq[3]++;
	counted(1, 3, 8, 3);
	CHECK_EQ(stats[1].target_seq[3] & 1, 0);
	render();
	CHECK_EQ(sample("xredir_target_requests_total{target=\"b\"}"), 8);
}

/* A writer publishing (gen, gen * 1000) as fast as it can: every pair a
 * reader gets is one the writer published. */
static volatile int writer_stop;

static void *pair_writer(void *arg)
{
	struct xr_worker_stats *s = arg;
	uint32_t gen;

	for (gen = 1; !writer_stop; gen++)
		target_count_publish(s, 5, gen, (uint64_t)gen * 1000);
	return NULL;
}

TEST(concurrent_pairs_are_consistent)
{
	static struct xr_worker_stats s;
	uint32_t gen, reads = 0, bad = 0;
	pthread_t th;
	uint64_t n;
	int i;

	writer_stop = 0;
	REQUIRE(!pthread_create(&th, NULL, pair_writer, &s));
	for (i = 0; i < 2000000; i++)
		if (target_count_read(&s, 5, &gen, &n)) {
			reads++;
			bad += n != (uint64_t)gen * 1000;
		}
	writer_stop = 1;
	pthread_join(th, NULL);
	CHECK(reads > 0);
	CHECK_EQ(bad, 0);
}

/* Deleted targets are not shown: no "(removed)" series, none repeated. */
TEST(deleted_targets_leave_no_series)
{
	setup(1);
	target(0, "default", 1);
	targets[1].gen = 4; /* two targets deleted, their counts exported */
	targets[2].gen = 6;
	counted(0, 1, 3, 70);
	counted(0, 2, 5, 80);
	render();
	CHECK_EQ(lines("xredir_target_requests_total{"), 1);
	CHECK_EQ(lines("xredir_target_requests_total{target=\"(removed)\"}"),
		 0);
	CHECK(series_unique());
}

/* The duration histogram: cumulative buckets over queues, +Inf equal to
 * the count, the sum in seconds. */
TEST(request_duration_histogram)
{
	setup(2);
	stats[0].latency[0] = 5;
	stats[1].latency[0] = 1;
	stats[1].latency[6] = 2;
	stats[0].latency[LATENCY_FINITE] = 1;
	stats[0].latency_sum_ns = 1500000000;
	stats[1].latency_sum_ns = 6000000;
	render();
	CHECK_EQ(lines("# TYPE xredir_request_duration_seconds histogram\n"),
		 1);
	CHECK_EQ(
		sample("xredir_request_duration_seconds_bucket{le=\"1.024e-06\"}"),
		6);
	CHECK_EQ(
		sample("xredir_request_duration_seconds_bucket{le=\"0.004194304\"}"),
		8);
	CHECK_EQ(
		sample("xredir_request_duration_seconds_bucket{le=\"1.07374182\"}"),
		8);
	CHECK_EQ(sample("xredir_request_duration_seconds_bucket{le=\"+Inf\"}"),
		 9);
	CHECK_EQ(sample("xredir_request_duration_seconds_count"), 9);
	CHECK(sample_f("xredir_request_duration_seconds_sum") > 1.505999 &&
	      sample_f("xredir_request_duration_seconds_sum") < 1.506001);
	CHECK_EQ(lines("xredir_request_duration_seconds_bucket{"),
		 LATENCY_BUCKETS);
}
