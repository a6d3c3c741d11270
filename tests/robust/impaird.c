// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * impaird: loads impair.bpf.o onto the client veth of a test topology,
 * seeds its generators, and runs the delay line (a tap device whose frames
 * are held for the configured delay, then written back). Run it inside the
 * client's network namespace; tests/robust/impair.sh starts and stops it.
 *
 * usage: impaird --iface IF --obj FILE [--tap NAME] [--port N] [--proto N]
 *                [--seed N] [--c2s LOSS,DUP,REORDER,DELAY_MS] [--s2c ...]
 *                [--stats FILE]
 *
 * Percentages may have decimals. SIGUSR1 writes the counters (JSON) to the
 * stats file; SIGTERM/SIGINT detach everything, write them and exit 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "impair.h"

#define SLOT_BYTES 2048
#define QUEUE_SLOTS 8192 /* per direction */

struct dir_opt {
	double loss, dup, reorder;
	uint32_t delay_ms;
};

struct slot {
	uint64_t due_ns;
	uint32_t len;
	uint8_t data[SLOT_BYTES];
};

/* A FIFO: the delay of a direction is constant, so due times only grow. */
struct queue {
	struct slot *s;
	uint32_t head, count;
};

static volatile sig_atomic_t stop_req, stats_req;
static uint64_t dl_queued[IMP_DIRS], dl_written[IMP_DIRS],
	dl_overflow[IMP_DIRS], dl_write_err, dl_oversize, dl_foreign;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		stats_req = 1;
	else
		stop_req = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int parse_dir(const char *arg, struct dir_opt *d)
{
	char *end;

	d->loss = strtod(arg, &end);
	if (*end != ',')
		return -1;
	d->dup = strtod(end + 1, &end);
	if (*end != ',')
		return -1;
	d->reorder = strtod(end + 1, &end);
	if (*end != ',')
		return -1;
	d->delay_ms = (uint32_t)strtoul(end + 1, &end, 10);
	if (*end)
		return -1;
	if (d->loss < 0 || d->dup < 0 || d->reorder < 0 ||
	    d->loss + d->dup + d->reorder > 100.0 || d->delay_ms > 60000)
		return -1;
	return 0;
}

static uint64_t scale(double pct)
{
	double v = pct / 100.0 * 4294967296.0;

	return v >= 4294967296.0 ? 4294967296ull : (uint64_t)v;
}

static int write_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

static int tap_open(const char *name)
{
	struct ifreq ifr;
	char path[128];
	int fd, s;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		perror("impaird: /dev/net/tun");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		perror("impaird: TUNSETIFF");
		close(fd);
		return -1;
	}
	/* No addresses of its own: no IPv6 link-local, no reverse-path
	 * filter (it receives the server's frames for the client). */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/addr_gen_mode",
		 name);
	write_sysctl(path, "1");
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter",
		 name);
	write_sysctl(path, "0");
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_ra",
		 name);
	write_sysctl(path, "0");
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		goto fail;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ifr.ifr_qlen = 10000;
	if (ioctl(s, SIOCSIFTXQLEN, &ifr) < 0)
		perror("impaird: SIOCSIFTXQLEN");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) < 0)) {
		perror("impaird: tap up");
		close(s);
		goto fail;
	}
	close(s);
	return fd;
fail:
	close(fd);
	return -1;
}

static int if_mac(const char *name, uint8_t mac[6])
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (s < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	rc = ioctl(s, SIOCGIFHWADDR, &ifr);
	close(s);
	if (rc < 0)
		return -1;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	return m ? bpf_map__fd(m) : -1;
}

static void write_stats(const char *path, int stats_fd)
{
	static const char *const names[IMP_DIRS] = { "c2s", "s2c" };
	char tmp[512];
	FILE *f;
	uint32_t d;

	if (!path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fputc('{', f);
	for (d = 0; d < IMP_DIRS; d++) {
		struct imp_stats st;

		memset(&st, 0, sizeof(st));
		bpf_map_lookup_elem(stats_fd, &d, &st);
		fprintf(f,
			"\"%s\":{\"seen\":%" PRIu64 ",\"dropped\":%" PRIu64
			",\"duplicated\":%" PRIu64 ",\"delayed\":%" PRIu64
			",\"passed\":%" PRIu64 ",\"reinjected\":%" PRIu64
			",\"redirect_err\":%" PRIu64 ",\"dl_queued\":%" PRIu64
			",\"dl_written\":%" PRIu64 ",\"dl_overflow\":%" PRIu64
			"},",
			names[d], (uint64_t)st.seen, (uint64_t)st.dropped,
			(uint64_t)st.duplicated, (uint64_t)st.delayed,
			(uint64_t)st.passed, (uint64_t)st.reinjected,
			(uint64_t)st.redirect_err, dl_queued[d], dl_written[d],
			dl_overflow[d]);
	}
	fprintf(f,
		"\"dl_write_err\":%" PRIu64 ",\"dl_oversize\":%" PRIu64
		",\"dl_foreign\":%" PRIu64 "}\n",
		dl_write_err, dl_oversize, dl_foreign);
	fclose(f);
	rename(tmp, path);
}

static void flush_due(int tapfd, struct queue *q, int dir, uint64_t now)
{
	while (q->count && q->s[q->head].due_ns <= now) {
		struct slot *s = &q->s[q->head];

		if (write(tapfd, s->data, s->len) != (ssize_t)s->len)
			dl_write_err++;
		else
			dl_written[dir]++;
		q->head = (q->head + 1) % QUEUE_SLOTS;
		q->count--;
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: impaird --iface IF --obj FILE [--tap NAME] [--port N] [--proto N] [--seed N]\n"
		"               [--c2s LOSS,DUP,REORDER,DELAY_MS] [--s2c LOSS,DUP,REORDER,DELAY_MS]\n"
		"               [--stats FILE]\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "obj", required_argument, NULL, 'o' },
		{ "tap", required_argument, NULL, 't' },
		{ "port", required_argument, NULL, 'p' },
		{ "proto", required_argument, NULL, 'P' },
		{ "seed", required_argument, NULL, 's' },
		{ "c2s", required_argument, NULL, 'c' },
		{ "s2c", required_argument, NULL, 'S' },
		{ "stats", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	const char *iface = NULL, *objpath = NULL, *stats_path = NULL;
	char tapname[IFNAMSIZ] = "";
	struct dir_opt dir[IMP_DIRS];
	uint64_t seed = 1, sm;
	unsigned long port = 0, proto = 0;
	struct imp_cfg cfg;
	struct bpf_object *obj;
	struct bpf_program *p_eg, *p_in, *p_tap;
	int veth, tap, tapfd, c, err, cfg_fd, rng_fd, stats_fd;
	bool created_hook = false;
	uint8_t vmac[8] = { 0 };
	struct queue q[IMP_DIRS];
	struct sigaction sa;
	sigset_t block, waitmask;
	int ret = 0;
	uint32_t k;
	static uint8_t buf[65536];

	memset(dir, 0, sizeof(dir));
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			iface = optarg;
			break;
		case 'o':
			objpath = optarg;
			break;
		case 't':
			snprintf(tapname, sizeof(tapname), "%s", optarg);
			break;
		case 'p':
			port = strtoul(optarg, NULL, 10);
			break;
		case 'P':
			proto = strtoul(optarg, NULL, 10);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'c':
		case 'S':
			if (parse_dir(optarg,
				      &dir[c == 'c' ? IMP_C2S : IMP_S2C])) {
				fprintf(stderr, "impaird: bad --%s %s\n",
					c == 'c' ? "c2s" : "s2c", optarg);
				return 2;
			}
			break;
		case 'T':
			stats_path = optarg;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (!iface || !objpath || port > 65535 || proto > 255) {
		usage();
		return 2;
	}
	veth = (int)if_nametoindex(iface);
	if (!veth || if_mac(iface, vmac)) {
		fprintf(stderr, "impaird: no interface %s\n", iface);
		return 1;
	}
	if (!tapname[0])
		snprintf(tapname, sizeof(tapname), "imp%d", veth);

	memset(&cfg, 0, sizeof(cfg));
	cfg.veth_ifindex = (uint32_t)veth;
	cfg.port = (uint16_t)port;
	cfg.proto = (uint8_t)proto;
	for (k = 0; k < IMP_DIRS; k++) {
		cfg.dir[k].loss = scale(dir[k].loss);
		cfg.dir[k].dup = scale(dir[k].loss + dir[k].dup);
		cfg.dir[k].reorder =
			scale(dir[k].loss + dir[k].dup + dir[k].reorder);
		q[k].s = calloc(QUEUE_SLOTS, sizeof(struct slot));
		q[k].head = q[k].count = 0;
		if (!q[k].s) {
			fprintf(stderr, "impaird: out of memory\n");
			return 1;
		}
	}

	memcpy(cfg.veth_mac, vmac, 6);
	tapfd = tap_open(tapname);
	if (tapfd < 0)
		return 1;
	tap = (int)if_nametoindex(tapname);
	cfg.tap_ifindex = (uint32_t)tap;

	obj = bpf_object__open_file(objpath, NULL);
	if (!obj || libbpf_get_error(obj)) {
		fprintf(stderr, "impaird: cannot open %s\n", objpath);
		return 1;
	}
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "impaird: loading %s: %s\n", objpath,
			strerror(-err));
		return 1;
	}
	cfg_fd = map_fd(obj, "imp_cfg");
	rng_fd = map_fd(obj, "imp_rng");
	stats_fd = map_fd(obj, "imp_stats");
	p_eg = bpf_object__find_program_by_name(obj, "imp_egress");
	p_in = bpf_object__find_program_by_name(obj, "imp_ingress");
	p_tap = bpf_object__find_program_by_name(obj, "imp_tap");
	if (cfg_fd < 0 || rng_fd < 0 || stats_fd < 0 || !p_eg || !p_in ||
	    !p_tap) {
		fprintf(stderr, "impaird: %s lacks a map or program\n",
			objpath);
		return 1;
	}
	k = 0;
	if (bpf_map_update_elem(cfg_fd, &k, &cfg, BPF_ANY)) {
		perror("impaird: map update");
		return 1;
	}
	/* The generators: distinct, non-zero states from the seed. */
	sm = seed;
	for (k = 0; k < IMP_DIRS; k++) {
		struct imp_rng r;

		memset(&r, 0, sizeof(r));

		while (!r.s)
			r.s = splitmix64(&sm);
		if (bpf_map_update_elem(rng_fd, &k, &r, BPF_ANY)) {
			perror("impaird: seeding");
			return 1;
		}
	}

	/* Attach: the tap first, so a delayed frame always has a way back. */
	{
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, th, .ifindex = tap,
				    .attach_point = BPF_TC_INGRESS);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, to, .handle = 1, .priority = 1,
				    .prog_fd = bpf_program__fd(p_tap));

		err = bpf_tc_hook_create(&th);
		if (err && err != -EEXIST) {
			fprintf(stderr, "impaird: clsact on %s: %s\n", tapname,
				strerror(-err));
			return 1;
		}
		err = bpf_tc_attach(&th, &to);
		if (err) {
			fprintf(stderr, "impaird: attach on %s: %s\n", tapname,
				strerror(-err));
			return 1;
		}
	}
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, vh, .ifindex = veth,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, eo, .handle = 0x1a9e, .priority = 1,
			    .flags = BPF_TC_F_REPLACE,
			    .prog_fd = bpf_program__fd(p_eg));
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, io, .handle = 0x1a9e, .priority = 1,
			    .flags = BPF_TC_F_REPLACE,
			    .prog_fd = bpf_program__fd(p_in));
	err = bpf_tc_hook_create(&vh);
	if (err && err != -EEXIST) {
		fprintf(stderr, "impaird: clsact on %s: %s\n", iface,
			strerror(-err));
		return 1;
	}
	created_hook = !err;
	vh.attach_point = BPF_TC_EGRESS;
	err = bpf_tc_attach(&vh, &eo);
	if (!err) {
		vh.attach_point = BPF_TC_INGRESS;
		err = bpf_tc_attach(&vh, &io);
	}
	if (err) {
		fprintf(stderr, "impaird: attach on %s: %s\n", iface,
			strerror(-err));
		ret = 1;
		goto detach; /* the egress half may be in place */
	}

	/* Signals only inside ppoll: one between the checks and the wait
	 * would otherwise wait for the next frame, maybe for ever. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &waitmask);

	printf("impaird: ready iface=%s tap=%s port=%lu proto=%lu seed=%" PRIu64
	       " c2s=%.2f,%.2f,%.2f,%u s2c=%.2f,%.2f,%.2f,%u\n",
	       iface, tapname, port, proto, seed, dir[0].loss, dir[0].dup,
	       dir[0].reorder, dir[0].delay_ms, dir[1].loss, dir[1].dup,
	       dir[1].reorder, dir[1].delay_ms);
	fflush(stdout);
	write_stats(stats_path, stats_fd);

	while (!stop_req) {
		struct pollfd pfd = { tapfd, POLLIN, 0 };
		uint64_t now = now_ns(), next = UINT64_MAX;
		struct timespec ts, *tsp = NULL;

		for (k = 0; k < IMP_DIRS; k++)
			if (q[k].count && q[k].s[q[k].head].due_ns < next)
				next = q[k].s[q[k].head].due_ns;
		if (next != UINT64_MAX) {
			uint64_t wait = next > now ? next - now : 0;

			ts.tv_sec = (time_t)(wait / 1000000000ull);
			ts.tv_nsec = (long)(wait % 1000000000ull);
			tsp = &ts;
		}
		if (stats_req) {
			stats_req = 0;
			write_stats(stats_path, stats_fd);
		}
		if (ppoll(&pfd, 1, tsp, &waitmask) < 0 && errno != EINTR) {
			perror("impaird: poll");
			break;
		}
		now = now_ns();
		for (;;) {
			ssize_t n = read(tapfd, buf, sizeof(buf));
			struct queue *qq;
			struct slot *s;
			int d;

			if (n < 0)
				break;
			if (n < 14)
				continue;
			if (!memcmp(buf + 6, vmac, 6))
				d = IMP_C2S;
			else if (!memcmp(buf, vmac, 6))
				d = IMP_S2C;
			else {
				dl_foreign++; /* the tap's own frames */
				continue;
			}
			if (n > SLOT_BYTES) {
				dl_oversize++;
				continue;
			}
			dl_queued[d]++;
			if (!dir[d].delay_ms && !q[d].count) {
				if (write(tapfd, buf, (size_t)n) != n)
					dl_write_err++;
				else
					dl_written[d]++;
				continue;
			}
			qq = &q[d];
			if (qq->count == QUEUE_SLOTS) {
				dl_overflow[d]++;
				continue;
			}
			s = &qq->s[(qq->head + qq->count) % QUEUE_SLOTS];
			s->due_ns = now + dir[d].delay_ms * 1000000ull;
			s->len = (uint32_t)n;
			memcpy(s->data, buf, (size_t)n);
			qq->count++;
		}
		for (k = 0; k < IMP_DIRS; k++)
			flush_due(tapfd, &q[k], (int)k, now);
	}

	/* Detach ours; the clsact qdisc too if we made it. Frames still in
	 * the delay line are lost, as on a link that went down. */
detach:
	vh.attach_point = BPF_TC_EGRESS;
	eo.prog_fd = 0;
	eo.flags = 0;
	bpf_tc_detach(&vh, &eo);
	vh.attach_point = BPF_TC_INGRESS;
	io.prog_fd = 0;
	io.flags = 0;
	bpf_tc_detach(&vh, &io);
	if (created_hook) {
		vh.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&vh);
	}
	write_stats(stats_path, stats_fd);
	close(tapfd);
	bpf_object__close(obj);
	if (!ret)
		printf("impaird: stopped\n");
	return ret;
}
