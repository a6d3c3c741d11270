// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Tests of the XDP program (bpf/xredir.bpf.c): BPF_PROG_TEST_RUN over
 * crafted frames. The program comes from the skeleton with map pinning
 * cleared (nothing is pinned anywhere) and is never attached. The process
 * moves into a network namespace of its own, with a single-queue veth pair
 * t0/t1 and a real AF_XDP socket (copy mode) on t0 queue 0, since an XSKMAP
 * only holds sockets. A two-queue pair m0/m1 provides a queue with no socket.
 *
 * What test_run does on kernel 6.18, which these tests rely on (the case
 * kernel_test_run_contract checks it):
 * - ctx_in.ingress_ifindex and rx_queue_index pick the receive queue; the
 *   queue must exist on that device, or the run fails with EINVAL.
 * - ctx_in.data_end is the length of the linear area the program sees; the
 *   rest of data_in goes to fragments, which this program (not xdp.frags)
 *   cannot read. data_size_in itself must be at least ETH_HLEN, so a frame
 *   shorter than an Ethernet header is run as 14 bytes with a shorter
 *   linear area.
 * - data_out holds the metadata followed by the frame; ctx_out.data is the
 *   metadata length.
 * - XDP_REDIRECT is only a return value: nothing reaches the socket. With
 *   BPF_F_TEST_XDP_LIVE_FRAMES the redirect is carried out for real.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/if_ether.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>

#include "test.h"
#include "closing.h"
#include "cookie.h"
#include "csum.h"
#include "engine_harness.h"
#include "live.h"
#include "rng.h"
#include "xredir.skel.h"
#include "xredir_shared.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define FRAME_MAX 512
#define UMEM_FRAMES 64
#define UMEM_FRAME_SIZE XSK_UMEM__DEFAULT_FRAME_SIZE
#define RING_SIZE 64

#define DST4 "10.77.0.1"
#define DST6 "fd77::1"
#define OTHER4 "192.0.2.10" /* matches no rule */
#define OTHER6 "2001:db8::10"
#define POD4 "10.77.9.9" /* routed through the node: no service address */
#define POD6 "fd77:9::9"
#define CLIENT_PORT 40000

/* The interface's MAC as the daemon writes it into xr_ctl, and others. */
static const __u8 own_mac[6] = { 2, 0, 0, 0, 0, 1 };
static const __u8 peer_mac[6] = { 2, 0, 0, 0, 0, 9 }; /* another host's */
static const __u8 bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const __u8 mcast_mac[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
static const __u8 mcast6_mac[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };

static struct {
	struct xredir_bpf *skel;
	int prog_fd;
	int counters_fd;
	int t0; /* single-queue veth with the socket on queue 0 */
	int m0; /* two-queue veth without sockets */
	void *umem_area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
} fx;

/* Fixture */

static void die(const char *what, int err)
{
	fprintf(stderr, "test_xdp: FATAL: %s: %s\n", what, strerror(err));
	exit(1);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	/* libxdp's .xdp_run_config section is expected; see the Makefile. */
	if (level == LIBBPF_DEBUG || strstr(fmt, "unrecognized data section"))
		return 0;
	return vfprintf(stderr, fmt, args);
}

static void sh(const char *cmd)
{
	int status = system(cmd);

	if (status) {
		fprintf(stderr, "test_xdp: FATAL: `%s` failed (status %d)\n",
			cmd, status);
		exit(1);
	}
}

static void make_links(void)
{
	if (unshare(CLONE_NEWNET))
		die("unshare(CLONE_NEWNET)", errno);
	sh("ip link add t0 numrxqueues 1 numtxqueues 1 type veth "
	   "peer name t1 numrxqueues 1 numtxqueues 1");
	sh("ip link add m0 numrxqueues 2 numtxqueues 2 type veth "
	   "peer name m1 numrxqueues 2 numtxqueues 2");
	sh("ip link set lo up && ip link set t0 up && ip link set t1 up && "
	   "ip link set m0 up && ip link set m1 up");
	fx.t0 = if_nametoindex("t0");
	fx.m0 = if_nametoindex("m0");
	if (!fx.t0 || !fx.m0)
		die("if_nametoindex", errno);
}

/*
 * Opens the skeleton with every map unpinned: libbpf (1.1) sets pin_path
 * for LIBBPF_PIN_BY_NAME maps at open time, and only maps with a pin_path
 * are reused from or pinned to bpffs at load time.
 */
static struct xredir_bpf *open_unpinned(void)
{
	struct xredir_bpf *skel = xredir_bpf__open();
	struct bpf_map *map;

	if (!skel)
		die("xredir_bpf__open", errno);
	bpf_object__for_each_map(map, skel->obj) {
		if (bpf_map__set_pin_path(map, NULL) || bpf_map__pin_path(map))
			die("clearing the pin path", EINVAL);
	}
	return skel;
}

static void load(struct xredir_bpf *skel)
{
	struct bpf_map *map;
	int err = xredir_bpf__load(skel);

	if (err)
		die("xredir_bpf__load", -err);
	bpf_object__for_each_map(map, skel->obj) {
		if (bpf_map__is_pinned(map))
			die("a map got pinned", EEXIST);
	}
}

/* Gives half the UMEM to the kernel for receiving. */
static void fill_ring(void)
{
	__u32 idx, n, i;

	n = xsk_ring_prod__reserve(&fx.fill, UMEM_FRAMES / 2, &idx);
	for (i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&fx.fill, idx + i) =
			(__u64)i * UMEM_FRAME_SIZE;
	xsk_ring_prod__submit(&fx.fill, n);
}

static void make_socket(void)
{
	struct xsk_socket_config cfg = {
		.rx_size = RING_SIZE,
		.tx_size = RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	size_t size = (size_t)UMEM_FRAMES * UMEM_FRAME_SIZE;
	int err;

	fx.umem_area = mmap(NULL, size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fx.umem_area == MAP_FAILED)
		die("mmap umem", errno);
	err = xsk_umem__create(&fx.umem, fx.umem_area, size, &fx.fill, &fx.comp,
			       NULL);
	if (err)
		die("xsk_umem__create", -err);
	err = xsk_socket__create(&fx.xsk, "t0", 0, fx.umem, &fx.rx, &fx.tx,
				 &cfg);
	if (err)
		die("xsk_socket__create on t0 queue 0", -err);
	fill_ring();
}

static void teardown(void)
{
	xsk_socket__delete(fx.xsk);
	xsk_umem__delete(fx.umem);
	munmap(fx.umem_area, (size_t)UMEM_FRAMES * UMEM_FRAME_SIZE);
	xredir_bpf__destroy(fx.skel);
}

static void setup(void)
{
	libbpf_set_print(libbpf_print);
	make_links();
	fx.skel = open_unpinned();
	load(fx.skel);
	fx.prog_fd = bpf_program__fd(fx.skel->progs.xredir_xdp);
	fx.counters_fd = bpf_map__fd(fx.skel->maps.xr_counters);
	make_socket();
	atexit(teardown);
}

static void clear_map(struct bpf_map *map)
{
	int fd = bpf_map__fd(map);
	__u8 key[64];

	while (!bpf_map_get_next_key(fd, NULL, key)) {
		if (bpf_map_delete_elem(fd, key))
			die("clearing a rule map", errno);
	}
}

/* What the daemon writes at start: the MAC, the rule set, the any switch. */
static void write_ctl(struct xredir_bpf *skel, const __u8 *mac, __u32 set,
		      __u8 any)
{
	struct xr_ctl ctl = { .active_set = set, .vip_any = any };
	__u32 key = 0;

	memcpy(ctl.mac, mac, sizeof(ctl.mac));
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.xr_ctl), &key, &ctl,
				BPF_ANY))
		die("writing xr_ctl", errno);
}

static void set_ctl(struct xredir_bpf *skel, __u32 set, __u8 any)
{
	write_ctl(skel, own_mac, set, any);
}

static void set_active_set(__u32 set)
{
	set_ctl(fx.skel, set, 0);
}

static void add_vip(struct xredir_bpf *skel, const char *addr)
{
	struct xr_vip_val val = { XR_VIP_FROM_FLAG };
	__u8 key[16];

	if (strchr(addr, ':')) {
		REQUIRE(inet_pton(AF_INET6, addr, key) == 1);
		CHECK_EQ(bpf_map_update_elem(bpf_map__fd(skel->maps.xr_vip6),
					     key, &val, BPF_ANY),
			 0);
	} else {
		REQUIRE(inet_pton(AF_INET, addr, key) == 1);
		CHECK_EQ(bpf_map_update_elem(bpf_map__fd(skel->maps.xr_vip4),
					     key, &val, BPF_ANY),
			 0);
	}
}

/* The frames' destinations, DST4 and DST6, are the service addresses. */
static void serve_dst(struct xredir_bpf *skel)
{
	set_ctl(skel, 0, 0);
	add_vip(skel, DST4);
	add_vip(skel, DST6);
}

/* SYNs to the workers: xr_synack off, as the daemon leaves it at start. */
static void synack_reset(void)
{
	struct xr_synack_conf off = { 0 };
	__u32 key = 0;

	if (bpf_map_update_elem(bpf_map__fd(fx.skel->maps.xr_synack), &key,
				&off, BPF_ANY))
		die("resetting xr_synack", errno);
}

/* Every case starts from: no rules, set A active, the socket at queue 0,
 * DST4 and DST6 the service addresses, own_mac the interface's. */
static void fx_reset(void)
{
	__u32 key = 1;
	int xsks, err;

	if (!fx.skel)
		setup();
	clear_map(fx.skel->maps.xr_rules4_a);
	clear_map(fx.skel->maps.xr_rules4_b);
	clear_map(fx.skel->maps.xr_rules6_a);
	clear_map(fx.skel->maps.xr_rules6_b);
	clear_map(fx.skel->maps.xr_vip4);
	clear_map(fx.skel->maps.xr_vip6);
	serve_dst(fx.skel);
	xsks = bpf_map__fd(fx.skel->maps.xr_xsks);
	err = xsk_socket__update_xskmap(fx.xsk, xsks);
	if (err)
		die("xsk_socket__update_xskmap", -err);
	if (bpf_map_delete_elem(xsks, &key) && errno != ENOENT)
		die("clearing xr_xsks[1]", errno);
	synack_reset();
}

/* Rules */

static void add_rule(struct bpf_map *map, const char *cidr, __u32 target)
{
	struct xr_rule_val val = { .target = target };
	struct xr_lpm6_key key = { 0 }; /* the larger of the two key types */
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(cidr, '/');
	int family = strchr(cidr, ':') ? AF_INET6 : AF_INET;

	snprintf(addr, sizeof(addr), "%.*s", (int)(slash - cidr), cidr);
	key.prefixlen = atoi(slash + 1);
	REQUIRE(inet_pton(family, addr, key.addr) == 1);
	CHECK_EQ(bpf_map_update_elem(bpf_map__fd(map), &key, &val, BPF_ANY), 0);
}

/* Counters */

struct counts {
	__u64 n[XR_CNT_MAX];
};

static void percpu(int map_fd, __u32 key, __u64 *vals)
{
	if (bpf_map_lookup_elem(map_fd, &key, vals))
		die("reading xr_counters", errno);
}

static struct counts counts_of(int map_fd)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals = calloc(ncpu, sizeof(*vals));
	struct counts c = { { 0 } };
	__u32 key;
	int cpu;

	if (ncpu <= 0 || !vals)
		die("libbpf_num_possible_cpus", ncpu < 0 ? -ncpu : ENOMEM);
	for (key = 0; key < XR_CNT_MAX; key++) {
		percpu(map_fd, key, vals);
		for (cpu = 0; cpu < ncpu; cpu++)
			c.n[key] += vals[cpu];
	}
	free(vals);
	return c;
}

static struct counts counts(void)
{
	return counts_of(fx.counters_fd);
}

/*
 * Changes of every counter since `before`, in enum xr_counter order:
 * steered, passed, no socket, malformed, then the drops (fragment,
 * extension header, QinQ), then not this host's (foreign MAC, not a
 * service address).
 */
#define CHECK_VERDICTS(before, ...)                                       \
	do {                                                              \
		const __u64 want_[XR_CNT_MAX] = { __VA_ARGS__ };          \
		struct counts now_ = counts();                            \
		unsigned int k_;                                          \
		for (k_ = 0; k_ < XR_CNT_MAX; k_++) {                     \
			if (now_.n[k_] - (before).n[k_] != want_[k_])     \
				fprintf(stderr, "  counter %u\n", k_);    \
			CHECK_EQ(now_.n[k_] - (before).n[k_], want_[k_]); \
		}                                                         \
	} while (0)

/* The same, for cases that drop nothing and are all this host's. */
#define CHECK_COUNTS(before, steered, passed, no_socket, malformed)            \
	CHECK_VERDICTS(before, steered, passed, no_socket, malformed, 0, 0, 0, \
		       0, 0)

/* Frames */

struct spec {
	int family; /* 4, 6, or 0 for ARP */
	__u16 vlan; /* TPID of one VLAN tag, 0 for none */
	__u16 vlan2; /* TPID of a second (inner) tag, 0 for none */
	const char *src;
	const char *dst; /* NULL: DST4 or DST6 */
	const __u8 *dmac; /* NULL: own_mac */
	__u8 proto; /* IPPROTO_TCP, _UDP, _ICMP or _ICMPV6 */
	__u16 dport;
	__u8 tcp_flags;
	__u8 tcp_opt_words; /* doff - 5 */
	__u8 ip_opt_words; /* IPv4: ihl - 5 */
	__u16 frag_off; /* IPv4 flags and fragment offset, host order */
	int n_ext; /* IPv6 extension headers before the L4 header */
	__u8 ext[8]; /* their types */
	__u16 frag6_offset; /* IPv6 fragment header: offset in 8-byte units */
	int frag6_atomic; /* ...and M clear (M is set by default) */
	__u8 frag6_reserved; /* ...and its reserved byte */
	__u32 payload; /* L4 payload bytes */
	__u32 pad; /* Ethernet padding after the IP packet */
};

struct frame {
	__u8 data[FRAME_MAX];
	__u32 len;
	__u32 l3; /* offset of the IP (or ARP) header */
	__u32 l4; /* offset of the L4 header */
	__u32 l4_end; /* offset just past the L4 header */
};

static struct spec tcp(int family, const char *src, __u32 payload)
{
	return (struct spec){
		.family = family,
		.src = src,
		.proto = IPPROTO_TCP,
		.dport = XR_DEFAULT_PORT,
		.tcp_flags = payload ? TH_PUSH | TH_ACK : TH_ACK,
		.payload = payload,
	};
}

static struct spec syn(int family, const char *src)
{
	struct spec s = tcp(family, src, 0);

	s.tcp_flags = TH_SYN;
	s.tcp_opt_words = 3; /* MSS, window scale, SACK permitted */
	return s;
}

static struct spec other(int family, __u8 proto)
{
	struct spec s = tcp(family, family == 6 ? OTHER6 : OTHER4, 16);

	s.proto = proto;
	return s;
}

static void put(struct frame *f, const void *p, __u32 n)
{
	if (f->len + n > sizeof(f->data)) {
		fprintf(stderr, "test_xdp: frame too large\n");
		abort();
	}
	memcpy(f->data + f->len, p, n);
	f->len += n;
}

static void put16(struct frame *f, __u16 v)
{
	__u16 be = htons(v);

	put(f, &be, 2);
}

static void put_eth(struct frame *f, const struct spec *s, __u16 type)
{
	static const __u8 src_mac[6] = { 2, 0, 0, 0, 0, 2 };

	put(f, s->dmac ? s->dmac : own_mac, 6);
	put(f, src_mac, sizeof(src_mac));
	if (s->vlan) {
		put16(f, s->vlan);
		put16(f, 100); /* VLAN ID */
	}
	if (s->vlan2) {
		put16(f, s->vlan2);
		put16(f, 200);
	}
	put16(f, type);
	f->l3 = f->len;
}

/* seg is 4-byte aligned in what follows. */
static __u32 tcp_header(const struct spec *s, __u8 *seg)
{
	static const __u8 opts[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 1, 1, 4, 2 };
	struct tcphdr *th = (struct tcphdr *)seg;
	__u32 hlen = 20 + 4 * s->tcp_opt_words;

	memset(seg, 0, 20);
	memset(seg + 20, TCPOPT_NOP, hlen - 20);
	memcpy(seg + 20, opts,
	       hlen - 20 < sizeof(opts) ? hlen - 20 : sizeof(opts));
	th->source = htons(CLIENT_PORT);
	th->dest = htons(s->dport);
	th->seq = htonl(1000);
	th->ack_seq = s->tcp_flags & TH_ACK ? htonl(2000) : 0;
	th->doff = hlen / 4;
	seg[13] = s->tcp_flags;
	th->window = htons(64240);
	return hlen;
}

static __u32 l4_header(const struct spec *s, __u8 *seg)
{
	memset(seg, 0, 8);
	switch (s->proto) {
	case IPPROTO_TCP:
		return tcp_header(s, seg);
	case IPPROTO_UDP:
		((struct udphdr *)seg)->source = htons(CLIENT_PORT);
		((struct udphdr *)seg)->dest = htons(s->dport);
		((struct udphdr *)seg)->len = htons(8 + s->payload);
		return 8;
	case IPPROTO_ICMP:
		seg[0] = ICMP_ECHO;
		return 8;
	default:
		seg[0] = ICMP6_ECHO_REQUEST;
		return 8;
	}
}

static void fill_payload(__u8 *p, __u32 n)
{
	static const char req[] = "GET /v2/ HTTP/1.1\r\n"
				  "Host: registry.example\r\n\r\n";
	__u32 i;

	for (i = 0; i < n; i++)
		p[i] = req[i % (sizeof(req) - 1)];
}

static void l4_checksum(const struct spec *s, __u8 *seg, __u32 len,
			const void *saddr, const void *daddr)
{
	__u32 off = s->proto == IPPROTO_TCP ? 16 :
		    s->proto == IPPROTO_UDP ? 6 :
					      2;
	__u64 sum = 0;
	__u16 c;

	if (s->family == 6)
		sum = csum_pseudo6(saddr, daddr, s->proto, len);
	else if (s->proto != IPPROTO_ICMP)
		sum = csum_pseudo4(saddr, daddr, s->proto, len);
	seg[off] = 0;
	seg[off + 1] = 0;
	c = csum_fold(csum_add(sum, seg, len));
	if (s->proto == IPPROTO_UDP && !c)
		c = 0xffff;
	memcpy(seg + off, &c, 2);
}

/* Stores a 16-bit value in network order; frame headers are unaligned. */
static void set16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void ipv4_checksum(struct frame *f)
{
	__u8 *ip = f->data + f->l3;
	__u16 c;

	set16(ip + 10, 0);
	c = csum_buf(ip, f->l4 - f->l3);
	memcpy(ip + 10, &c, 2);
}

static void put_ipv4(struct frame *f, const struct spec *s, __u8 *seg,
		     __u32 seglen)
{
	__u8 hdr[60] __attribute__((aligned(4))) = { 0 };
	struct iphdr *ip = (struct iphdr *)hdr;
	__u32 hlen = 20 + 4 * s->ip_opt_words;

	put_eth(f, s, ETH_P_IP);
	ip->version = 4;
	ip->ihl = hlen / 4;
	ip->tot_len = htons(hlen + seglen);
	ip->id = htons(0x1234);
	ip->frag_off = htons(s->frag_off);
	ip->ttl = 64;
	ip->protocol = s->proto;
	if (inet_pton(AF_INET, s->src, &ip->saddr) != 1 ||
	    inet_pton(AF_INET, s->dst ? s->dst : DST4, &ip->daddr) != 1)
		die(s->src, EINVAL);
	memset(hdr + 20, IPOPT_NOP, hlen - 20);
	if (hlen > 20)
		hdr[hlen - 1] = IPOPT_EOL;
	l4_checksum(s, seg, seglen, &ip->saddr, &ip->daddr);
	put(f, hdr, hlen);
	f->l4 = f->len;
	ipv4_checksum(f);
	put(f, seg, seglen);
}

/* One 8-byte extension header of the given type. */
static void ipv6_ext(const struct spec *s, __u8 *ext, __u8 type, __u8 next)
{
	memset(ext, 0, 8);
	ext[0] = next;
	switch (type) {
	case IPPROTO_FRAGMENT:
		ext[1] = s->frag6_reserved;
		set16(ext + 2, s->frag6_offset << 3 | !s->frag6_atomic);
		ext[7] = 42; /* identification */
		break;
	case IPPROTO_ROUTING:
		break; /* type 0, no segments left */
	default:
		ext[2] = 1; /* PadN over the rest */
		ext[3] = 4;
	}
}

static void put_ipv6(struct frame *f, const struct spec *s, __u8 *seg,
		     __u32 seglen)
{
	struct ip6_hdr ip6 = { 0 };
	__u8 ext[8];
	int i;

	put_eth(f, s, ETH_P_IPV6);
	ip6.ip6_flow = htonl(6 << 28);
	ip6.ip6_plen = htons(8 * s->n_ext + seglen);
	ip6.ip6_nxt = s->n_ext ? s->ext[0] : s->proto;
	ip6.ip6_hlim = 64;
	if (inet_pton(AF_INET6, s->src, &ip6.ip6_src) != 1 ||
	    inet_pton(AF_INET6, s->dst ? s->dst : DST6, &ip6.ip6_dst) != 1)
		die(s->src, EINVAL);
	put(f, &ip6, sizeof(ip6));
	for (i = 0; i < s->n_ext; i++) {
		ipv6_ext(s, ext, s->ext[i],
			 i + 1 < s->n_ext ? s->ext[i + 1] : s->proto);
		put(f, ext, sizeof(ext));
	}
	l4_checksum(s, seg, seglen, &ip6.ip6_src, &ip6.ip6_dst);
	f->l4 = f->len;
	put(f, seg, seglen);
}

static void put_arp(struct frame *f, const struct spec *s)
{
	struct ether_arp arp = { 0 };

	put_eth(f, s, ETH_P_ARP);
	arp.arp_hrd = htons(ARPHRD_ETHER);
	arp.arp_pro = htons(ETH_P_IP);
	arp.arp_hln = 6;
	arp.arp_pln = 4;
	arp.arp_op = htons(ARPOP_REQUEST);
	memcpy(arp.arp_sha, f->data + 6, 6);
	inet_pton(AF_INET, OTHER4, arp.arp_spa);
	inet_pton(AF_INET, DST4, arp.arp_tpa);
	put(f, &arp, sizeof(arp));
	f->l4 = f->l4_end = f->len;
}

static void build(const struct spec *s, struct frame *f)
{
	static const __u8 zeros[64];
	__u8 seg[FRAME_MAX] __attribute__((aligned(4)));
	__u32 hlen = 0;

	memset(f, 0, sizeof(*f));
	if (s->family == 0) {
		put_arp(f, s);
	} else {
		hlen = l4_header(s, seg);
		fill_payload(seg + hlen, s->payload);
		if (s->family == 4)
			put_ipv4(f, s, seg, hlen + s->payload);
		else
			put_ipv6(f, s, seg, hlen + s->payload);
		f->l4_end = f->l4 + hlen;
	}
	put(f, zeros, s->pad);
}

/* Running the program */

struct outcome {
	__u32 action; /* ~0 if the run failed */
	__u32 meta_len;
	struct xr_meta meta;
	int intact; /* the frame after the metadata is the frame given */
	__u8 out[FRAME_MAX]; /* the frame after the run (XDP_TX sends it) */
	__u32 out_len;
};

/* Runs f with a linear area of `linear` bytes, as received on ifindex/queue. */
static struct outcome run_on(int prog_fd, const struct frame *f, __u32 linear,
			     int ifindex, __u32 queue)
{
	struct xdp_md ctx_in = { .data_end = linear,
				 .ingress_ifindex = ifindex,
				 .rx_queue_index = queue };
	struct outcome o = { .action = ~0u };
	struct xdp_md ctx_out = { 0 };
	__u8 out[FRAME_MAX + 64];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->data,
		    .data_size_in = f->len, .data_out = out,
		    .data_size_out = sizeof(out), .ctx_in = &ctx_in,
		    .ctx_size_in = sizeof(ctx_in), .ctx_out = &ctx_out,
		    .ctx_size_out = sizeof(ctx_out), .repeat = 1);
	int err = bpf_prog_test_run_opts(prog_fd, &opts);

	if (err) {
		fprintf(stderr, "%s: test_run (len %u linear %u): %s\n",
			test_current, f->len, linear, strerror(-err));
		return o;
	}
	o.action = opts.retval;
	o.meta_len = ctx_out.data;
	if (o.meta_len == sizeof(o.meta))
		memcpy(&o.meta, out, sizeof(o.meta));
	o.intact = opts.data_size_out == o.meta_len + f->len &&
		   !memcmp(out + o.meta_len, f->data, f->len);
	o.out_len = opts.data_size_out - o.meta_len;
	if (o.out_len <= sizeof(o.out))
		memcpy(o.out, out + o.meta_len, o.out_len);
	return o;
}

static struct outcome xdp(const struct frame *f)
{
	return run_on(fx.prog_fd, f, f->len, fx.t0, 0);
}

static struct outcome xdp_spec(const struct spec *s)
{
	struct frame f;

	build(s, &f);
	return xdp(&f);
}

/* The first len bytes of f, as the program sees a frame cut there. */
static struct outcome xdp_cut(const struct frame *f, __u32 len)
{
	struct frame cut = *f;

	/* test_run wants 14 bytes at least: put the rest out of reach. */
	cut.len = len < ETH_HLEN ? ETH_HLEN : len;
	return run_on(fx.prog_fd, &cut, len, fx.t0, 0);
}

#define CHECK_STEERED(o, want)                                 \
	do {                                                   \
		struct outcome o_ = (o);                       \
		CHECK_EQ(o_.action, XDP_REDIRECT);             \
		CHECK_EQ(o_.meta_len, sizeof(struct xr_meta)); \
		CHECK_EQ(o_.meta.magic, XR_META_MAGIC);        \
		CHECK_EQ(o_.meta.target, want);                \
		CHECK(o_.intact);                              \
	} while (0)

#define CHECK_PASSED(o)                        \
	do {                                   \
		struct outcome o_ = (o);       \
		CHECK_EQ(o_.action, XDP_PASS); \
		CHECK_EQ(o_.meta_len, 0);      \
		CHECK(o_.intact);              \
	} while (0)

#define CHECK_DROPPED(o)                       \
	do {                                   \
		struct outcome o_ = (o);       \
		CHECK_EQ(o_.action, XDP_DROP); \
		CHECK_EQ(o_.meta_len, 0);      \
	} while (0)

/* Cases */

TEST(kernel_test_run_contract)
{
	struct spec s = tcp(4, OTHER4, 8);
	struct frame f;
	struct xdp_md ctx = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f.data, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx));

	fx_reset();
	build(&s, &f);
	/* Queue 0 of t0 exists, queue 1 does not. */
	ctx = (struct xdp_md){ .data_end = f.len, .ingress_ifindex = fx.t0 };
	opts.data_size_in = f.len;
	CHECK_EQ(bpf_prog_test_run_opts(fx.prog_fd, &opts), 0);
	ctx.rx_queue_index = 1;
	CHECK_EQ(bpf_prog_test_run_opts(fx.prog_fd, &opts), -EINVAL);
	/* A queue needs a device. */
	ctx.ingress_ifindex = 0;
	CHECK_EQ(bpf_prog_test_run_opts(fx.prog_fd, &opts), -EINVAL);
	/* Shorter than an Ethernet header: refused. */
	ctx = (struct xdp_md){ .data_end = ETH_HLEN - 1 };
	opts.data_size_in = ETH_HLEN - 1;
	CHECK_EQ(bpf_prog_test_run_opts(fx.prog_fd, &opts), -EINVAL);
	/* data_end beyond the data: refused; shorter: a short linear area. */
	ctx.data_end = f.len + 1;
	opts.data_size_in = f.len;
	CHECK_EQ(bpf_prog_test_run_opts(fx.prog_fd, &opts), -EINVAL);
	CHECK_PASSED(xdp_cut(&f, f.l4_end - 1));
	CHECK_STEERED(xdp_cut(&f, f.l4_end), XR_TARGET_DEFAULT);
}

TEST(ipv4_longest_prefix_wins)
{
	struct spec s = tcp(4, NULL, 64);
	struct counts before;

	fx_reset();
	add_rule(fx.skel->maps.xr_rules4_a, "10.77.0.3/32", 1);
	add_rule(fx.skel->maps.xr_rules4_a, "10.0.0.0/8", 2);
	add_rule(fx.skel->maps.xr_rules4_a, "10.77.0.0/16", 3);
	before = counts();
	s.src = "10.77.0.3";
	CHECK_STEERED(xdp_spec(&s), 1);
	s.src = "10.77.5.5";
	CHECK_STEERED(xdp_spec(&s), 3);
	s.src = "10.1.1.1";
	CHECK_STEERED(xdp_spec(&s), 2);
	s.src = "10.77.0.4";
	CHECK_STEERED(xdp_spec(&s), 3);
	s.src = "11.0.0.1";
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_DEFAULT);
	s.src = OTHER4;
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_DEFAULT);
	CHECK_COUNTS(before, 6, 0, 0, 0);
}

TEST(ipv6_longest_prefix_wins)
{
	struct spec s = tcp(6, NULL, 64);
	struct counts before;

	fx_reset();
	add_rule(fx.skel->maps.xr_rules6_a, "fd77::3/128", 1);
	add_rule(fx.skel->maps.xr_rules6_a, "fd00::/8", 2);
	add_rule(fx.skel->maps.xr_rules6_a, "fd77::/16", 3);
	/* An IPv4 rule must not match IPv6 sources. */
	add_rule(fx.skel->maps.xr_rules4_a, "0.0.0.0/0", 9);
	before = counts();
	s.src = "fd77::3";
	CHECK_STEERED(xdp_spec(&s), 1);
	s.src = "fd77:5::5";
	CHECK_STEERED(xdp_spec(&s), 3);
	s.src = "fd01::1";
	CHECK_STEERED(xdp_spec(&s), 2);
	s.src = "fd77::4";
	CHECK_STEERED(xdp_spec(&s), 3);
	s.src = "fe80::1";
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_DEFAULT);
	s.src = OTHER6;
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_DEFAULT);
	CHECK_COUNTS(before, 6, 0, 0, 0);
}

TEST(active_set_selects_rule_maps)
{
	struct spec in_b4 = tcp(4, "10.88.0.1", 32);
	struct spec in_a4 = tcp(4, "10.99.0.1", 32);
	struct spec in_b6 = tcp(6, "fd88::1", 32);
	struct spec in_a6 = tcp(6, "fd99::1", 32);
	struct counts before;

	fx_reset();
	add_rule(fx.skel->maps.xr_rules4_b, "10.88.0.0/16", 7);
	add_rule(fx.skel->maps.xr_rules6_b, "fd88::/16", 7);
	add_rule(fx.skel->maps.xr_rules4_a, "10.99.0.0/16", 5);
	add_rule(fx.skel->maps.xr_rules6_a, "fd99::/16", 5);
	before = counts();
	CHECK_STEERED(xdp_spec(&in_b4), XR_TARGET_DEFAULT);
	CHECK_STEERED(xdp_spec(&in_b6), XR_TARGET_DEFAULT);
	CHECK_STEERED(xdp_spec(&in_a4), 5);
	CHECK_STEERED(xdp_spec(&in_a6), 5);
	set_active_set(1);
	CHECK_STEERED(xdp_spec(&in_b4), 7);
	CHECK_STEERED(xdp_spec(&in_b6), 7);
	CHECK_STEERED(xdp_spec(&in_a4), XR_TARGET_DEFAULT);
	CHECK_STEERED(xdp_spec(&in_a6), XR_TARGET_DEFAULT);
	set_active_set(0);
	CHECK_STEERED(xdp_spec(&in_b4), XR_TARGET_DEFAULT);
	CHECK_STEERED(xdp_spec(&in_a4), 5);
	CHECK_COUNTS(before, 10, 0, 0, 0);
}

TEST(segments_without_payload_get_no_target)
{
	struct spec s;
	struct counts before;

	fx_reset();
	add_rule(fx.skel->maps.xr_rules4_a, "10.77.0.3/32", 1);
	add_rule(fx.skel->maps.xr_rules6_a, "fd77::3/128", 1);
	before = counts();
	s = syn(4, "10.77.0.3");
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_NONE);
	s = syn(6, "fd77::3");
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_NONE);
	s = tcp(4, "10.77.0.3", 0); /* bare ACK */
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_NONE);
	s.tcp_flags = TH_FIN | TH_ACK;
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_NONE);
	/* Padded to the 60-byte Ethernet minimum: the IP length tells. */
	s = tcp(4, "10.77.0.3", 0);
	s.pad = 6;
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_NONE);
	s = syn(4, "10.77.0.3");
	s.tcp_opt_words = 0;
	s.pad = 6;
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_NONE);
	s = tcp(6, "fd77::3", 0);
	s.pad = 6;
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_NONE);
	/* The same 60 bytes with 6 bytes of payload instead of padding. */
	s = tcp(4, "10.77.0.3", 6);
	CHECK_STEERED(xdp_spec(&s), 1);
	s = tcp(4, "10.77.0.3", 1);
	s.pad = 5;
	CHECK_STEERED(xdp_spec(&s), 1);
	CHECK_COUNTS(before, 9, 0, 0, 0);
}

/* What an ACK ring held: the records ring_buffer__consume() handed over. */
static struct {
	unsigned int n;
	__u64 at_ns[8];
	__u32 len[8];
	__u8 frame[8][XR_ACK_FRAME_MAX];
} acks;

static int take_ack(void *ctx, void *data, size_t size)
{
	const struct xr_ack_rec *rec = data;

	(void)ctx;
	if (size < sizeof(*rec) || acks.n == 8)
		return 0;
	acks.at_ns[acks.n] = rec->at_ns;
	acks.len[acks.n] = rec->len;
	memcpy(acks.frame[acks.n++], rec->frame, XR_ACK_FRAME_MAX);
	return 0;
}

/* Puts the connection of an IPv4 frame in the closing table, as a worker
 * does when it sends its FIN; returns the slot. */
static __u32 mark_closing(const struct frame *f)
{
	__u8 saddr[16] = { 0 }, daddr[16] = { 0 };
	__u16 sport, dport;
	__u64 tag;
	__u32 slot;

	memcpy(saddr, f->data + f->l3 + 12, 4);
	memcpy(daddr, f->data + f->l3 + 16, 4);
	memcpy(&sport, f->data + f->l4, 2);
	memcpy(&dport, f->data + f->l4 + 2, 2);
	tag = xr_conn_tag(saddr, daddr, sport, dport);
	slot = xr_closing_slot((__u32)tag);
	CHECK_EQ(bpf_map_update_elem(bpf_map__fd(fx.skel->maps.xr_closing),
				     &slot, &tag, BPF_ANY),
		 0);
	return slot;
}

/* Bare ACKs, and bare FINs that answer ours, into queue 0's ACK ring when
 * there is one, dropped from the socket's path; everything else steered
 * as before. */
TEST(bare_acks_go_to_the_ack_ring)
{
	struct ring_buffer *rb;
	struct counts before;
	struct spec s;
	struct frame f, f0;
	__u32 key = 0, slot;
	__u64 tag = 1;
	int outer, ring;

	fx_reset();
	outer = bpf_map__fd(fx.skel->maps.xr_acks);
	ring = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "t_acks", 0, 0,
			      XR_ACK_RING_BYTES, NULL);
	CHECK(ring >= 0);
	rb = ring_buffer__new(ring, take_ack, NULL, NULL);
	CHECK(rb != NULL);
	/* No ring for the queue: the socket, as ever. */
	s = tcp(4, "10.77.0.3", 0);
	before = counts();
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_NONE);
	CHECK_EQ(bpf_map_update_elem(outer, &key, &ring, BPF_ANY), 0);
	/* A bare ACK, v4 padded to 60 bytes and v6 with a tag and 40 bytes
	 * of options: dropped, the whole frame in the ring. */
	memset(&acks, 0, sizeof(acks));
	s.pad = 6;
	build(&s, &f0);
	CHECK_DROPPED(xdp(&f0));
	s = tcp(6, "fd77::3", 0);
	s.vlan = ETH_P_8021Q;
	s.tcp_opt_words = 10;
	CHECK_DROPPED(xdp_spec(&s));
	/* A bare FIN: the socket, unless it answers our FIN (its tag in the
	 * closing table): then the ring, and the tag is cleared. */
	s = tcp(4, "10.77.0.3", 0);
	s.tcp_flags = TH_FIN | TH_ACK;
	build(&s, &f);
	CHECK_STEERED(xdp(&f), XR_TARGET_NONE);
	slot = mark_closing(&f);
	CHECK_DROPPED(xdp(&f));
	CHECK_EQ(bpf_map_lookup_elem(bpf_map__fd(fx.skel->maps.xr_closing),
				     &slot, &tag),
		 0);
	CHECK_EQ(tag, 0);
	CHECK_EQ(ring_buffer__consume(rb), 3);
	CHECK_EQ(acks.n, 3);
	CHECK_EQ(acks.len[0], f0.len);
	CHECK(!memcmp(acks.frame[0], f0.data, f0.len));
	CHECK(acks.at_ns[0] > 0 && acks.at_ns[1] >= acks.at_ns[0]);
	s = tcp(6, "fd77::3", 0);
	s.vlan = ETH_P_8021Q;
	s.tcp_opt_words = 10;
	build(&s, &f);
	CHECK_EQ(acks.len[1], f.len);
	CHECK(!memcmp(acks.frame[1], f.data, f.len));
	s = tcp(4, "10.77.0.3", 0);
	s.tcp_flags = TH_FIN | TH_ACK;
	build(&s, &f);
	CHECK_EQ(acks.len[2], f.len);
	CHECK(!memcmp(acks.frame[2], f.data, f.len));
	/* Not bare: data, SYN, RST, a FIN with data; and a frame longer
	 * than a record (two extension headers before 40 bytes of
	 * options). */
	s = tcp(4, "10.77.0.3", 1);
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_DEFAULT);
	s.tcp_flags = TH_FIN | TH_ACK;
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_DEFAULT);
	s = syn(4, "10.77.0.3");
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_NONE);
	s = tcp(4, "10.77.0.3", 0);
	s.tcp_flags = TH_RST | TH_ACK;
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_NONE);
	s = tcp(6, "fd77::3", 0);
	s.vlan = ETH_P_8021Q;
	s.tcp_opt_words = 10;
	s.n_ext = 2;
	s.ext[0] = IPPROTO_HOPOPTS;
	s.ext[1] = IPPROTO_DSTOPTS;
	build(&s, &f);
	CHECK(f.len > XR_ACK_FRAME_MAX);
	CHECK_STEERED(xdp(&f), XR_TARGET_NONE);
	CHECK_EQ(ring_buffer__consume(rb), 0);
	CHECK_VERDICTS(before, 7, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1);
	CHECK_EQ(bpf_map_delete_elem(outer, &key), 0);
	ring_buffer__free(rb);
	close(ring);
}

TEST(no_socket_on_queue_passes)
{
	struct spec s = tcp(4, "10.77.0.3", 32);
	int xsks, sock_fd;
	struct counts before;
	struct frame f;
	__u32 key = 0;

	fx_reset();
	xsks = bpf_map__fd(fx.skel->maps.xr_xsks);
	sock_fd = xsk_socket__fd(fx.xsk);
	build(&s, &f);
	before = counts();
	/* Queue 1 of m0: nothing in xr_xsks[1]. */
	CHECK_PASSED(run_on(fx.prog_fd, &f, f.len, fx.m0, 1));
	CHECK_COUNTS(before, 0, 0, 1, 0);
	/* The key is the queue index: a socket at [1] takes queue 1. */
	key = 1;
	CHECK_EQ(bpf_map_update_elem(xsks, &key, &sock_fd, BPF_ANY), 0);
	CHECK_STEERED(run_on(fx.prog_fd, &f, f.len, fx.m0, 1),
		      XR_TARGET_DEFAULT);
	CHECK_COUNTS(before, 1, 0, 1, 0);
	/* Socket removed from queue 0. */
	key = 0;
	CHECK_EQ(bpf_map_delete_elem(xsks, &key), 0);
	CHECK_PASSED(xdp(&f));
	s = syn(4, "10.77.0.3");
	CHECK_PASSED(xdp_spec(&s));
	CHECK_COUNTS(before, 1, 0, 3, 0);
	fx_reset();
	CHECK_STEERED(xdp(&f), XR_TARGET_DEFAULT);
	CHECK_COUNTS(before, 2, 0, 3, 0);
}

TEST(other_traffic_passes)
{
	struct spec specs[18];
	struct counts before;
	unsigned int i, n = 0;

	fx_reset();
	add_rule(fx.skel->maps.xr_rules4_a, "0.0.0.0/0", 1);
	specs[n] = tcp(4, OTHER4, 16);
	specs[n++].dport = 80;
	specs[n] = tcp(4, OTHER4, 16);
	specs[n++].dport = XR_DEFAULT_PORT + 1;
	specs[n] = tcp(6, OTHER6, 16);
	specs[n++].dport = 443;
	specs[n] = tcp(4, OTHER4, 16);
	specs[n].vlan = ETH_P_8021Q;
	specs[n++].dport = 80;
	specs[n++] = other(4, IPPROTO_UDP);
	specs[n++] = other(6, IPPROTO_UDP);
	specs[n++] = other(4, IPPROTO_ICMP);
	specs[n++] = other(6, IPPROTO_ICMPV6);
	specs[n] = (struct spec){ .family = 0, .pad = 18 }; /* ARP */
	n++;
	specs[n] = (struct spec){ .family = 0, .vlan = ETH_P_8021Q, .pad = 14 };
	n++;
	/*
	 * IPv4 fragments: a first one (MF) to another port; middle (MF,
	 * offset) and last (offset) ones, which show no port: whatever their
	 * bytes at the TCP header's place say (here: the service port).
	 */
	specs[n] = tcp(4, OTHER4, 64);
	specs[n].dport = 80;
	specs[n++].frag_off = IP_MF;
	specs[n] = tcp(4, OTHER4, 64);
	specs[n++].frag_off = IP_MF | 185;
	specs[n] = tcp(4, OTHER4, 64);
	specs[n++].frag_off = 370;
	/* IPv6: a first fragment to another port, a later one to ours. */
	specs[n] = tcp(6, OTHER6, 64);
	specs[n].dport = 80;
	specs[n].n_ext = 1;
	specs[n++].ext[0] = IPPROTO_FRAGMENT;
	specs[n] = tcp(6, OTHER6, 64);
	specs[n].n_ext = 2;
	specs[n].ext[0] = IPPROTO_HOPOPTS;
	specs[n].frag6_offset = 100;
	specs[n++].ext[1] = IPPROTO_FRAGMENT;
	/* More extension headers than the engine skips, to another port. */
	specs[n] = tcp(6, OTHER6, 64);
	specs[n].dport = 80;
	specs[n].n_ext = 4;
	specs[n].ext[0] = IPPROTO_HOPOPTS;
	specs[n].ext[1] = IPPROTO_DSTOPTS;
	specs[n].ext[2] = IPPROTO_ROUTING;
	specs[n++].ext[3] = IPPROTO_DSTOPTS;
	REQUIRE(n <= ARRAY_SIZE(specs));
	before = counts();
	for (i = 0; i < n; i++) {
		struct outcome o = xdp_spec(&specs[i]);

		if (o.action != XDP_PASS)
			fprintf(stderr, "  spec %u: action %u\n", i, o.action);
		CHECK_PASSED(o);
	}
	CHECK_COUNTS(before, 0, n, 0, 0);
}

TEST(tags_and_options_are_steered)
{
	struct spec s;
	struct counts before;

	fx_reset();
	add_rule(fx.skel->maps.xr_rules4_a, "10.77.0.3/32", 1);
	add_rule(fx.skel->maps.xr_rules6_a, "fd77::3/128", 1);
	before = counts();
	s = tcp(4, "10.77.0.3", 40);
	s.vlan = ETH_P_8021Q;
	CHECK_STEERED(xdp_spec(&s), 1);
	s.vlan = ETH_P_8021AD;
	CHECK_STEERED(xdp_spec(&s), 1);
	s = tcp(6, "fd77::3", 40);
	s.vlan = ETH_P_8021Q;
	CHECK_STEERED(xdp_spec(&s), 1);
	/* IPv4 options, and don't-fragment (not a fragment). */
	s = tcp(4, "10.77.0.3", 40);
	s.ip_opt_words = 1;
	CHECK_STEERED(xdp_spec(&s), 1);
	s.ip_opt_words = 10;
	CHECK_STEERED(xdp_spec(&s), 1);
	s.frag_off = IP_DF;
	CHECK_STEERED(xdp_spec(&s), 1);
	/* With options and no payload, the payload test still holds. */
	s = syn(4, "10.77.0.3");
	s.ip_opt_words = 10;
	s.vlan = ETH_P_8021Q;
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_NONE);
	/* TCP options. */
	s = tcp(4, "10.77.0.3", 40);
	s.tcp_opt_words = 10;
	CHECK_STEERED(xdp_spec(&s), 1);
	/* IPv6 extension headers: one, and as many as are skipped. */
	s = tcp(6, "fd77::3", 40);
	s.n_ext = 1;
	s.ext[0] = IPPROTO_HOPOPTS;
	CHECK_STEERED(xdp_spec(&s), 1);
	s.n_ext = 3;
	s.ext[1] = IPPROTO_ROUTING;
	s.ext[2] = IPPROTO_DSTOPTS;
	CHECK_STEERED(xdp_spec(&s), 1);
	s = syn(6, "fd77::3");
	s.n_ext = 1;
	s.ext[0] = IPPROTO_HOPOPTS;
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_NONE);
	CHECK_COUNTS(before, 11, 0, 0, 0);
}

/*
 * Frame f cut right after the TCP ports is dropped (nothing more is needed
 * to know it is for the port); one byte shorter, it passes as malformed.
 */
#define CHECK_DROPPED_FROM_PORTS(f)                       \
	do {                                              \
		CHECK_DROPPED(xdp_cut(&(f), (f).l4 + 4)); \
		CHECK_PASSED(xdp_cut(&(f), (f).l4 + 3));  \
	} while (0)

TEST(ipv4_first_fragment_to_port_is_dropped)
{
	struct spec s;
	struct counts before;
	struct frame f;

	fx_reset();
	add_rule(fx.skel->maps.xr_rules4_a, "0.0.0.0/0", 1);
	before = counts();
	s = tcp(4, "10.77.0.3", 64);
	s.frag_off = IP_MF;
	CHECK_DROPPED(xdp_spec(&s));
	s.frag_off = IP_MF | IP_DF;
	CHECK_DROPPED(xdp_spec(&s));
	s.ip_opt_words = 10;
	s.vlan = ETH_P_8021Q;
	CHECK_DROPPED(xdp_spec(&s));
	s = syn(4, "10.77.0.3");
	s.frag_off = IP_MF;
	CHECK_DROPPED(xdp_spec(&s));
	s = tcp(4, "10.77.0.3", 64);
	s.frag_off = IP_MF;
	build(&s, &f);
	CHECK_DROPPED_FROM_PORTS(f);
	CHECK_VERDICTS(before, 0, 0, 0, 1, 5, 0, 0);
	/* Another port, UDP to the port, later fragments: the kernel's. */
	s.dport = 80;
	CHECK_PASSED(xdp_spec(&s));
	s = other(4, IPPROTO_UDP);
	s.frag_off = IP_MF;
	CHECK_PASSED(xdp_spec(&s));
	s = tcp(4, "10.77.0.3", 64);
	s.frag_off = IP_MF | 1;
	CHECK_PASSED(xdp_spec(&s));
	s.frag_off = 185;
	CHECK_PASSED(xdp_spec(&s));
	CHECK_VERDICTS(before, 0, 4, 0, 1, 5, 0, 0);
	/* Not a fragment at all: steered as ever. */
	s.frag_off = IP_DF;
	CHECK_STEERED(xdp_spec(&s), 1);
	CHECK_VERDICTS(before, 1, 4, 0, 1, 5, 0, 0);
}

static struct spec frag6(const char *src, __u32 payload)
{
	struct spec s = tcp(6, src, payload);

	s.n_ext = 1;
	s.ext[0] = IPPROTO_FRAGMENT;
	return s;
}

TEST(ipv6_first_fragment_to_port_is_dropped)
{
	struct spec s;
	struct counts before;
	struct frame f;

	fx_reset();
	add_rule(fx.skel->maps.xr_rules6_a, "::/0", 1);
	before = counts();
	s = frag6("fd77::3", 64);
	CHECK_DROPPED(xdp_spec(&s));
	/* An atomic fragment (offset 0, M clear) too: no engine support. */
	s.frag6_atomic = 1;
	CHECK_DROPPED(xdp_spec(&s));
	s.vlan = ETH_P_8021Q;
	CHECK_DROPPED(xdp_spec(&s));
	/* Headers before and after the fragment header. */
	s = frag6("fd77::3", 0);
	s.tcp_flags = TH_SYN;
	s.n_ext = 3;
	s.ext[0] = IPPROTO_HOPOPTS;
	s.ext[1] = IPPROTO_FRAGMENT;
	s.ext[2] = IPPROTO_DSTOPTS;
	CHECK_DROPPED(xdp_spec(&s));
	s = frag6("fd77::3", 64);
	build(&s, &f);
	CHECK_DROPPED_FROM_PORTS(f);
	/* A reserved byte that is not zero: dropped whatever the port. */
	s.frag6_reserved = 5;
	s.dport = 80;
	CHECK_DROPPED(xdp_spec(&s));
	CHECK_VERDICTS(before, 0, 0, 0, 1, 6, 0, 0);
	/* Another port, UDP to the port, later fragments: the kernel's. */
	s = frag6("fd77::3", 64);
	s.dport = 80;
	CHECK_PASSED(xdp_spec(&s));
	s.frag6_atomic = 1;
	CHECK_PASSED(xdp_spec(&s));
	s = other(6, IPPROTO_UDP);
	s.n_ext = 1;
	s.ext[0] = IPPROTO_FRAGMENT;
	CHECK_PASSED(xdp_spec(&s));
	s = frag6("fd77::3", 64);
	s.frag6_offset = 1;
	CHECK_PASSED(xdp_spec(&s));
	s.frag6_atomic = 1;
	s.frag6_reserved = 5;
	CHECK_PASSED(xdp_spec(&s));
	CHECK_VERDICTS(before, 0, 5, 0, 1, 6, 0, 0);
}

static struct spec chain6(__u16 dport, int n, const __u8 *types)
{
	struct spec s = tcp(6, "fd77::3", 40);

	s.dport = dport;
	s.n_ext = n;
	memcpy(s.ext, types, n);
	return s;
}

TEST(ipv6_extension_chains)
{
	static const __u8 four[] = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS,
				     IPPROTO_ROUTING, IPPROTO_DSTOPTS };
	static const __u8 six[] = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS,
				    IPPROTO_ROUTING, IPPROTO_FRAGMENT,
				    IPPROTO_DSTOPTS, IPPROTO_DSTOPTS };
	static const __u8 seven[] = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS,
				      IPPROTO_DSTOPTS, IPPROTO_DSTOPTS,
				      IPPROTO_DSTOPTS, IPPROTO_DSTOPTS,
				      IPPROTO_DSTOPTS };
	static const __u8 others[] = { 135, 139, 140, 253, 254 };
	static const __u8 ipsec[] = { IPPROTO_AH, IPPROTO_ESP };
	const __u16 port = XR_DEFAULT_PORT;
	struct counts before;
	struct spec s;
	unsigned int i;

	fx_reset();
	before = counts();
	/* Servable: up to three hop-by-hop, routing, destination options. */
	s = chain6(port, 3, four);
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_DEFAULT);
	/* Walked, but more than the engine skips: to the port, dropped. */
	s = chain6(port, 4, four);
	CHECK_DROPPED(xdp_spec(&s));
	s.vlan = ETH_P_8021Q;
	CHECK_DROPPED(xdp_spec(&s));
	s = chain6(80, 4, four);
	CHECK_PASSED(xdp_spec(&s));
	/* The other headers in RFC 6564's format, before TCP. */
	for (i = 0; i < ARRAY_SIZE(others); i++) {
		s = chain6(port, 1, &others[i]);
		CHECK_DROPPED(xdp_spec(&s));
		s.dport = 80;
		CHECK_PASSED(xdp_spec(&s));
	}
	/* The longest walk (one fragment header: counted as a fragment). */
	s = chain6(port, 6, six);
	CHECK_DROPPED(xdp_spec(&s));
	s.dport = 80;
	CHECK_PASSED(xdp_spec(&s));
	CHECK_VERDICTS(before, 1, 7, 0, 0, 1, 2 + 5, 0);
	/* Longer: the port cannot be seen, so dropped whatever it is. */
	s = chain6(80, 7, seven);
	CHECK_DROPPED(xdp_spec(&s));
	/* The same length before an upper layer other than TCP: passed. */
	s = chain6(port, 6, seven);
	s.proto = IPPROTO_UDP;
	CHECK_PASSED(xdp_spec(&s));
	s = chain6(port, 1, seven);
	s.proto = IPPROTO_NONE;
	CHECK_PASSED(xdp_spec(&s));
	/* IPsec is the kernel's (and its security associations'). */
	for (i = 0; i < ARRAY_SIZE(ipsec); i++) {
		s = chain6(port, 1, &ipsec[i]);
		CHECK_PASSED(xdp_spec(&s));
		s = chain6(port, 2, four);
		s.ext[1] = ipsec[i];
		CHECK_PASSED(xdp_spec(&s));
	}
	CHECK_VERDICTS(before, 1, 13, 0, 0, 1, 2 + 5 + 1, 0);
}

TEST(qinq_to_port_is_dropped)
{
	struct spec s;
	struct counts before;
	struct frame f;

	fx_reset();
	add_rule(fx.skel->maps.xr_rules4_a, "10.77.0.3/32", 1);
	add_rule(fx.skel->maps.xr_rules6_a, "fd77::3/128", 1);
	before = counts();
	s = tcp(4, "10.77.0.3", 40);
	s.vlan = ETH_P_8021AD;
	s.vlan2 = ETH_P_8021Q;
	CHECK_DROPPED(xdp_spec(&s));
	s.vlan = ETH_P_8021Q;
	CHECK_DROPPED(xdp_spec(&s));
	s = syn(6, "fd77::3");
	s.vlan = ETH_P_8021AD;
	s.vlan2 = ETH_P_8021Q;
	CHECK_DROPPED(xdp_spec(&s));
	/* One reason counted per frame: the outer one. */
	s.n_ext = 1;
	s.ext[0] = IPPROTO_FRAGMENT;
	CHECK_DROPPED(xdp_spec(&s));
	s = tcp(4, "10.77.0.3", 40);
	s.vlan = ETH_P_8021AD;
	s.vlan2 = ETH_P_8021Q;
	build(&s, &f);
	CHECK_DROPPED_FROM_PORTS(f);
	CHECK_PASSED(xdp_cut(&f, ETH_HLEN + 6)); /* inside the inner tag */
	CHECK_VERDICTS(before, 0, 0, 0, 2, 0, 0, 5);
	/* Anything else double-tagged is the kernel's. */
	s.dport = 80;
	CHECK_PASSED(xdp_spec(&s));
	s = other(4, IPPROTO_UDP);
	s.vlan = ETH_P_8021AD;
	s.vlan2 = ETH_P_8021Q;
	CHECK_PASSED(xdp_spec(&s));
	s = tcp(6, "fd77::3", 40);
	s.dport = 443;
	s.vlan = ETH_P_8021AD;
	s.vlan2 = ETH_P_8021Q;
	CHECK_PASSED(xdp_spec(&s));
	s = (struct spec){ .family = 0,
			   .vlan = ETH_P_8021AD,
			   .vlan2 = ETH_P_8021Q,
			   .pad = 10 }; /* ARP */
	CHECK_PASSED(xdp_spec(&s));
	CHECK_VERDICTS(before, 0, 4, 0, 2, 0, 0, 5);
	/* One tag, either TPID: steered as ever. */
	s = tcp(4, "10.77.0.3", 40);
	s.vlan = ETH_P_8021Q;
	CHECK_STEERED(xdp_spec(&s), 1);
	s.vlan = ETH_P_8021AD;
	CHECK_STEERED(xdp_spec(&s), 1);
	s = tcp(6, "fd77::3", 40);
	s.vlan = ETH_P_8021Q;
	CHECK_STEERED(xdp_spec(&s), 1);
	CHECK_VERDICTS(before, 3, 4, 0, 2, 0, 0, 5);
}

static struct spec cut_spec(int family, __u16 vlan, __u8 ip_opt_words,
			    int n_ext, __u8 tcp_opt_words)
{
	struct spec s = tcp(family, family == 4 ? "10.77.0.3" : "fd77::3", 40);

	s.vlan = vlan;
	s.ip_opt_words = ip_opt_words;
	s.n_ext = n_ext;
	s.ext[0] = IPPROTO_HOPOPTS;
	s.ext[1] = IPPROTO_ROUTING;
	s.ext[2] = IPPROTO_DSTOPTS;
	s.tcp_opt_words = tcp_opt_words;
	return s;
}

TEST(truncated_frames_pass_as_malformed)
{
	const struct spec specs[] = {
		cut_spec(4, 0, 0, 0, 0),
		cut_spec(4, 0, 1, 0, 0),
		cut_spec(4, 0, 10, 0, 0),
		cut_spec(4, 0, 0, 0, 10),
		cut_spec(4, ETH_P_8021Q, 0, 0, 0),
		cut_spec(4, ETH_P_8021Q, 10, 0, 3),
		cut_spec(6, 0, 0, 0, 0),
		cut_spec(6, 0, 0, 1, 0),
		cut_spec(6, 0, 0, 3, 3),
		cut_spec(6, ETH_P_8021Q, 0, 0, 0),
	};
	struct counts before;
	struct frame f;
	unsigned int i;
	__u32 len, wrong;

	fx_reset();
	add_rule(fx.skel->maps.xr_rules4_a, "10.77.0.3/32", 1);
	add_rule(fx.skel->maps.xr_rules6_a, "fd77::3/128", 1);
	for (i = 0; i < ARRAY_SIZE(specs); i++) {
		build(&specs[i], &f);
		before = counts();
		for (len = 0, wrong = 0; len < f.l4_end; len++) {
			struct outcome o = xdp_cut(&f, len);

			if (o.action == XDP_PASS && !o.meta_len && o.intact)
				continue;
			fprintf(stderr, "  spec %u cut at %u: action %u\n", i,
				len, o.action);
			wrong++;
		}
		CHECK_EQ(wrong, 0);
		CHECK_COUNTS(before, 0, 0, 0, f.l4_end);
		/* Cut after the TCP header, or whole: steered. */
		CHECK_STEERED(xdp_cut(&f, f.l4_end), 1);
		CHECK_STEERED(xdp(&f), 1);
		CHECK_COUNTS(before, 2, 0, 0, f.l4_end);
	}
}

TEST(bad_header_values_pass_as_malformed)
{
	struct spec s4 = tcp(4, "10.77.0.3", 16);
	struct spec s6 = tcp(6, "fd77::3", 16);
	struct counts before;
	struct frame f;
	__u8 ihl;

	fx_reset();
	before = counts();
	for (ihl = 0; ihl < 5; ihl++) {
		build(&s4, &f);
		f.data[f.l3] = 0x40 | ihl;
		/*
		 * Make the bytes where an ihl of 4 would put TCP look like a
		 * TCP header to the service port (the end of the destination
		 * address, then the top of the ACK number as data offset).
		 */
		f.data[f.l3 + 18] = XR_DEFAULT_PORT >> 8;
		f.data[f.l3 + 19] = XR_DEFAULT_PORT & 0xff;
		f.data[f.l3 + 16 + 12] = 5 << 4;
		ipv4_checksum(&f);
		CHECK_PASSED(xdp(&f));
	}
	/* IPv6 in an IPv4 EtherType, IPv4 in an IPv6 one. */
	build(&s4, &f);
	f.data[f.l3] = 0x65;
	ipv4_checksum(&f);
	CHECK_PASSED(xdp(&f));
	build(&s6, &f);
	f.data[f.l3] = 0x40 | (f.data[f.l3] & 0x0f);
	CHECK_PASSED(xdp(&f));
	/* Total length shorter than the IPv4 header. */
	build(&s4, &f);
	set16(f.data + f.l3 + 2, 19);
	ipv4_checksum(&f);
	CHECK_PASSED(xdp(&f));
	/* TCP data offset below 5, or beyond the frame. */
	build(&s4, &f);
	f.data[f.l4 + 12] = 4 << 4;
	CHECK_PASSED(xdp(&f));
	f.data[f.l4 + 12] = 0;
	CHECK_PASSED(xdp(&f));
	build(&s6, &f);
	f.data[f.l4 + 12] = 4 << 4;
	CHECK_PASSED(xdp(&f));
	s4.payload = 0;
	build(&s4, &f);
	f.data[f.l4 + 12] = 6 << 4;
	CHECK_PASSED(xdp(&f));
	/* An IPv6 extension header longer than the frame. */
	s6.n_ext = 1;
	s6.ext[0] = IPPROTO_HOPOPTS;
	build(&s6, &f);
	f.data[f.l3 + 40 + 1] = 200;
	CHECK_PASSED(xdp(&f));
	/* A TCP header that ends beyond the IPv4 total length. */
	s4.payload = 0;
	build(&s4, &f);
	set16(f.data + f.l3 + 2, 30);
	ipv4_checksum(&f);
	CHECK_PASSED(xdp(&f));
	CHECK_COUNTS(before, 0, 0, 0, 14);
}

/* Service addresses and MACs */

/* Only segments to a service address are ours; a pod's pass untouched. */
TEST(only_service_addresses_are_steered)
{
	struct spec s4 = tcp(4, OTHER4, 64), s6 = tcp(6, OTHER6, 64);
	struct counts before;

	fx_reset();
	before = counts();
	CHECK_STEERED(xdp_spec(&s4), XR_TARGET_DEFAULT);
	CHECK_STEERED(xdp_spec(&s6), XR_TARGET_DEFAULT);
	s4.dst = POD4;
	s6.dst = POD6;
	CHECK_PASSED(xdp_spec(&s4));
	CHECK_PASSED(xdp_spec(&s6));
	s4 = syn(4, OTHER4);
	s4.dst = POD4;
	CHECK_PASSED(xdp_spec(&s4));
	/* What would be dropped if it were ours is the pod's too. */
	s4 = tcp(4, OTHER4, 64);
	s4.dst = POD4;
	s4.frag_off = IP_MF;
	CHECK_PASSED(xdp_spec(&s4));
	s4 = tcp(4, OTHER4, 64);
	s4.dst = POD4;
	s4.vlan = ETH_P_8021AD;
	s4.vlan2 = ETH_P_8021Q;
	CHECK_PASSED(xdp_spec(&s4));
	s6 = frag6(OTHER6, 64);
	s6.dst = POD6;
	CHECK_PASSED(xdp_spec(&s6));
	CHECK_VERDICTS(before, 2, 0, 0, 0, 0, 0, 0, 0, 6);
	/* `xredirctl vip add`: the pod's address becomes ours. */
	add_vip(fx.skel, POD4);
	s4 = tcp(4, OTHER4, 64);
	s4.dst = POD4;
	CHECK_STEERED(xdp_spec(&s4), XR_TARGET_DEFAULT);
	s6 = tcp(6, OTHER6, 64);
	s6.dst = POD6;
	CHECK_PASSED(xdp_spec(&s6));
	CHECK_VERDICTS(before, 3, 0, 0, 0, 0, 0, 0, 0, 7);
}

/* Broadcast, multicast and other hosts' MACs pass, whatever the address. */
TEST(other_macs_pass)
{
	const __u8 *macs[] = { bcast_mac, mcast_mac, mcast6_mac, peer_mac };
	struct spec s;
	struct counts before;
	unsigned int i;

	fx_reset();
	before = counts();
	for (i = 0; i < ARRAY_SIZE(macs); i++) {
		s = tcp(4, OTHER4, 64);
		s.dmac = macs[i];
		CHECK_PASSED(xdp_spec(&s));
		s = syn(6, OTHER6);
		s.dmac = macs[i];
		CHECK_PASSED(xdp_spec(&s));
		/* Not ours to drop either. */
		s = tcp(4, OTHER4, 64);
		s.dmac = macs[i];
		s.frag_off = IP_MF;
		CHECK_PASSED(xdp_spec(&s));
	}
	CHECK_VERDICTS(before, 0, 0, 0, 0, 0, 0, 0, 3 * ARRAY_SIZE(macs), 0);
	/* Other ports with those MACs are passed as before. */
	s = tcp(4, OTHER4, 64);
	s.dmac = bcast_mac;
	s.dport = 80;
	CHECK_PASSED(xdp_spec(&s));
	CHECK_VERDICTS(before, 0, 1, 0, 0, 0, 0, 0, 3 * ARRAY_SIZE(macs), 0);
	/* A multicast bit in the MAC never matches, even the interface's. */
	write_ctl(fx.skel, bcast_mac, 0, 1);
	s = tcp(4, OTHER4, 64);
	s.dmac = bcast_mac;
	CHECK_PASSED(xdp_spec(&s));
	CHECK_VERDICTS(before, 0, 1, 0, 0, 0, 0, 0, 3 * ARRAY_SIZE(macs) + 1,
		       0);
}

/* --vip any: every destination address, as before the VIP maps; the MAC
 * still has to be the interface's. */
TEST(vip_any_steers_every_address)
{
	struct spec s4 = tcp(4, OTHER4, 64), s6 = tcp(6, OTHER6, 64);
	struct counts before;

	fx_reset();
	set_ctl(fx.skel, 0, 1);
	before = counts();
	s4.dst = POD4;
	s6.dst = POD6;
	CHECK_STEERED(xdp_spec(&s4), XR_TARGET_DEFAULT);
	CHECK_STEERED(xdp_spec(&s6), XR_TARGET_DEFAULT);
	s4.dst = DST4;
	CHECK_STEERED(xdp_spec(&s4), XR_TARGET_DEFAULT);
	s4.frag_off = IP_MF;
	s4.dst = POD4;
	CHECK_DROPPED(xdp_spec(&s4));
	s6.dmac = peer_mac;
	CHECK_PASSED(xdp_spec(&s6));
	CHECK_VERDICTS(before, 3, 0, 0, 0, 1, 0, 0, 1, 0);
	/* Back to the listed addresses. */
	set_ctl(fx.skel, 0, 0);
	s4 = tcp(4, OTHER4, 64);
	s4.dst = POD4;
	CHECK_PASSED(xdp_spec(&s4));
	CHECK_VERDICTS(before, 3, 0, 0, 0, 1, 0, 0, 1, 1);
}

TEST(counters_are_per_cpu)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *was = calloc(ncpu, sizeof(*was));
	__u64 *now = calloc(ncpu, sizeof(*now));
	struct spec s = tcp(4, OTHER4, 8);
	cpu_set_t allowed, one;
	struct frame f;
	int cpu, i, used = 0;

	fx_reset();
	REQUIRE(was && now);
	REQUIRE(!sched_getaffinity(0, sizeof(allowed), &allowed));
	build(&s, &f);
	percpu(fx.counters_fd, XR_CNT_STEERED, was);
	/* cpu + 1 runs on each CPU we may use, so each shows its own count. */
	for (cpu = 0; cpu < ncpu && cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &allowed))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			continue;
		used++;
		for (i = 0; i <= cpu; i++)
			CHECK_EQ(xdp(&f).action, XDP_REDIRECT);
	}
	CHECK_EQ(sched_setaffinity(0, sizeof(allowed), &allowed), 0);
	percpu(fx.counters_fd, XR_CNT_STEERED, now);
	CHECK(used > 0);
	for (cpu = 0; cpu < ncpu && cpu < CPU_SETSIZE; cpu++)
		CHECK_EQ(now[cpu] - was[cpu],
			 CPU_ISSET(cpu, &allowed) ? cpu + 1 : 0);
	free(was);
	free(now);
}

TEST(service_port_comes_from_rodata)
{
	struct xredir_bpf *skel;
	struct counts before, after;
	struct spec s = tcp(4, OTHER4, 16);
	struct frame f;
	int fd, err;

	fx_reset();
	skel = open_unpinned();
	skel->rodata->xr_port = 8080;
	load(skel);
	serve_dst(skel);
	err = xsk_socket__update_xskmap(fx.xsk,
					bpf_map__fd(skel->maps.xr_xsks));
	CHECK_EQ(err, 0);
	fd = bpf_program__fd(skel->progs.xredir_xdp);
	before = counts_of(bpf_map__fd(skel->maps.xr_counters));
	s.dport = 8080;
	build(&s, &f);
	CHECK_STEERED(run_on(fd, &f, f.len, fx.t0, 0), XR_TARGET_DEFAULT);
	s.dport = XR_DEFAULT_PORT;
	build(&s, &f);
	CHECK_PASSED(run_on(fd, &f, f.len, fx.t0, 0));
	after = counts_of(bpf_map__fd(skel->maps.xr_counters));
	CHECK_EQ(after.n[XR_CNT_STEERED] - before.n[XR_CNT_STEERED], 1);
	CHECK_EQ(after.n[XR_CNT_PASSED] - before.n[XR_CNT_PASSED], 1);
	xredir_bpf__destroy(skel);
}

/* Live redirects: the frame really goes to the socket's RX ring. */

static int run_live(const struct frame *f, int ifindex)
{
	struct xdp_md ctx = { .data_end = f->len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->data,
		    .data_size_in = f->len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

	return bpf_prog_test_run_opts(fx.prog_fd, &opts);
}

/*
 * Takes one frame off the RX ring and gives its buffer back. The metadata
 * is just before the frame, inside the chunk (copy mode puts frames at
 * XDP_PACKET_HEADROOM into it). Descriptors do not say whether there is
 * metadata, so the bytes are cleared before the chunk is reused.
 */
static int rx_one(__u8 *buf, __u32 *len, struct xr_meta *meta)
{
	const struct xdp_desc *d;
	__u32 idx, fidx;
	__u8 *p;

	if (xsk_ring_cons__peek(&fx.rx, 1, &idx) != 1)
		return 0;
	d = xsk_ring_cons__rx_desc(&fx.rx, idx);
	if (d->addr % UMEM_FRAME_SIZE < sizeof(*meta))
		return -1;
	p = xsk_umem__get_data(fx.umem_area, d->addr);
	*len = d->len < FRAME_MAX ? d->len : FRAME_MAX;
	memcpy(buf, p, *len);
	memcpy(meta, p - sizeof(*meta), sizeof(*meta));
	memset(p - sizeof(*meta), 0, sizeof(*meta));
	if (xsk_ring_prod__reserve(&fx.fill, 1, &fidx) == 1) {
		*xsk_ring_prod__fill_addr(&fx.fill, fidx) =
			d->addr - d->addr % UMEM_FRAME_SIZE;
		xsk_ring_prod__submit(&fx.fill, 1);
	}
	xsk_ring_cons__release(&fx.rx, 1);
	return 1;
}

#define CHECK_DELIVERED(f, want)                       \
	do {                                           \
		__u8 buf_[FRAME_MAX];                  \
		struct xr_meta m_ = { 0 };             \
		__u32 len_ = 0;                        \
		CHECK_EQ(run_live(&(f), fx.t0), 0);    \
		CHECK_EQ(rx_one(buf_, &len_, &m_), 1); \
		CHECK_EQ(len_, (f).len);               \
		CHECK_MEM(buf_, (f).data, (f).len);    \
		CHECK_EQ(m_.magic, XR_META_MAGIC);     \
		CHECK_EQ(m_.target, want);             \
	} while (0)

TEST(live_redirect_delivers_frame_and_metadata)
{
	struct spec s4 = tcp(4, "10.77.0.3", 64);
	struct spec s6 = tcp(6, OTHER6, 64);
	struct spec sy = syn(4, "10.77.0.3");
	struct xr_meta m;
	struct counts before;
	struct frame f4, f6, fs;
	__u8 buf[FRAME_MAX];
	__u32 len;

	fx_reset();
	add_rule(fx.skel->maps.xr_rules4_a, "10.77.0.3/32", 1);
	build(&s4, &f4);
	build(&s6, &f6);
	build(&sy, &fs);
	while (rx_one(buf, &len, &m) == 1)
		;
	before = counts();
	CHECK_DELIVERED(f4, 1);
	CHECK_DELIVERED(f6, XR_TARGET_DEFAULT);
	CHECK_DELIVERED(fs, XR_TARGET_NONE);
	/*
	 * Steered on a queue of another device: the program counts it, but
	 * the kernel refuses the socket (bound to t0) and drops the frame.
	 */
	CHECK_EQ(run_live(&f4, fx.m0), 0);
	CHECK_EQ(rx_one(buf, &len, &m), 0);
	CHECK_COUNTS(before, 4, 0, 0, 0);
}

/* SYNs answered in XDP (bpf/synack.h) */

static const struct siphash_key synack_secret = { 0x0123456789abcdefull,
						  0x5a5a5a5aa5a5a5a5ull };

/* An engine as the daemon starts one, with the secret the program gets,
 * a window and an MTU (whose bytes differ, to show their order). */
static void synack_engine(struct harness *h, __u16 window, __u16 mtu)
{
	memset(h, 0, sizeof(*h));
	h_config(h);
	h->cfg.window = window;
	h->cfg.mtu = mtu;
	h->key = &synack_secret;
	if (h_start(h))
		die("tcp_engine_init", ENOMEM);
}

/* What synack_start() in xredird writes, for h's engine. */
static void synack_on(const struct harness *h)
{
	struct xr_synack_conf c = {
		.secret = { synack_secret.k0, synack_secret.k1 },
		.counter = cookie_counter((uint64_t)h->e.unix_s),
		.live_mask = XR_LIVE_SLOTS_MIN - 1,
		.mss4 = h->e.mss4,
		.mss6 = h->e.mss6,
		.window = h->cfg.window,
		.on = 1,
	};
	__u32 key = 0;

	CHECK_EQ(bpf_map_update_elem(bpf_map__fd(fx.skel->maps.xr_synack), &key,
				     &c, BPF_ANY),
		 0);
}

static void set_live(const struct frame *f, int family, __u64 n)
{
	__u8 saddr[16] = { 0 }, daddr[16] = { 0 };
	__u16 sport, dport;
	__u32 alen = family == 4 ? 4 : 16, slot;
	const __u8 *l3 = f->data + f->l3;

	memcpy(saddr, l3 + (family == 4 ? 12 : 8), alen);
	memcpy(daddr, l3 + (family == 4 ? 16 : 24), alen);
	memcpy(&sport, f->data + f->l4, 2);
	memcpy(&dport, f->data + f->l4 + 2, 2);
	slot = xr_live_slot(xr_conn_tag(saddr, daddr, sport, dport),
			    XR_LIVE_SLOTS_MIN - 1);
	CHECK_EQ(bpf_map_update_elem(bpf_map__fd(fx.skel->maps.xr_live), &slot,
				     &n, BPF_ANY),
		 0);
}

/* Sets the TCP checksum of f's segment again, after an edit. */
static void tcp_resum(struct frame *f, const struct spec *s)
{
	const __u8 *l3 = f->data + f->l3;

	l4_checksum(s, f->data + f->l4, f->len - s->pad - f->l4,
		    l3 + (s->family == 4 ? 12 : 8),
		    l3 + (s->family == 4 ? 16 : 24));
}

/* f goes through the program and through the engine: both answer with
 * the same SYN-ACK, byte for byte, or neither answers in XDP. */
static void check_same_synack(struct harness *h, const struct frame *f)
{
	struct outcome o;

	h_input(h, f->data, f->len, TCP_TARGET_NONE);
	REQUIRE(h->nout == 1);
	o = xdp(f);
	CHECK_EQ(o.action, XDP_TX);
	CHECK_EQ(o.out_len, h->out[0].len);
	CHECK_MEM(o.out, h->out[0].buf, h->out[0].len);
}

TEST(synack_in_xdp_is_the_engines)
{
	/* Flags the engine ignores on a SYN: PSH, URG, ECE and CWR (an ECN
	 * setup SYN). */
	static const struct {
		int family;
		__u16 vlan;
		__u8 opt_words;
		__u32 pad;
		__u8 flags;
	} cases[] = {
		{ 4, 0, 3, 0, TH_SYN },
		{ 6, 0, 3, 0, TH_SYN },
		{ 4, ETH_P_8021Q, 3, 0, TH_SYN },
		{ 6, ETH_P_8021Q, 3, 0, TH_SYN },
		{ 4, 0, 0, 0, TH_SYN },
		{ 6, 0, 0, 0, TH_SYN },
		{ 4, 0, 1, 0, TH_SYN },
		{ 4, 0, 10, 0, TH_SYN },
		{ 6, 0, 10, 0, TH_SYN },
		{ 4, 0, 0, 6, TH_SYN },
		{ 4, ETH_P_8021AD, 1, 0, TH_SYN },
		{ 4, 0, 3, 0, TH_SYN | TH_PUSH },
		{ 6, 0, 3, 0, TH_SYN | TH_URG },
		{ 4, 0, 3, 0, TH_SYN | 0xc0 }, /* ECE, CWR */
	};
	struct counts before;
	struct harness h;
	unsigned int i;

	fx_reset();
	synack_engine(&h, 29200, 1500);
	synack_on(&h);
	before = counts();
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct spec s = syn(cases[i].family,
				    cases[i].family == 4 ? OTHER4 : OTHER6);
		struct frame f;

		s.vlan = cases[i].vlan;
		s.tcp_opt_words = cases[i].opt_words;
		s.pad = cases[i].pad;
		s.tcp_flags = cases[i].flags;
		build(&s, &f);
		check_same_synack(&h, &f);
		/* The tag as it came, whichever kind (both sides once sent
		 * 802.1Q for 802.1ad alike). */
		CHECK_MEM(h.out[0].buf + 12, f.data + 12, s.vlan ? 4 : 2);
	}
	CHECK_EQ(counts().n[XR_CNT_SYNACK] - before.n[XR_CNT_SYNACK],
		 ARRAY_SIZE(cases));
	CHECK_EQ(counts().n[XR_CNT_STEERED] - before.n[XR_CNT_STEERED], 0);
}

/*
 * Random SYNs: addresses, ports, ISNs, options (Linux's, random bytes,
 * an MSS anywhere, cut short too), the cookie's clock, our window and
 * MTU, each through the program and the engine.
 */
TEST(synack_in_xdp_is_the_engines_for_random_syns)
{
	struct harness h;
	unsigned int i, j;

	static const __u8 linux_opts[20] = { 2,	 4, 0x05, 0xb4, 4, 2, 8,
					     10, 0, 0,	  0,	0, 0, 0,
					     0,	 0, 1,	  3,	3, 7 };

	fx_reset();
	rng_seed(11);
	for (i = 0; i < 400; i++) {
		int family = i & 1 ? 6 : 4;
		struct spec s = syn(family, family == 4 ? OTHER4 : OTHER6);
		char src[64];
		struct frame f;
		__u8 *tcp, *opt;
		__u32 isn = (__u32)rnd();
		int fails;

		if (family == 4)
			snprintf(src, sizeof(src), "198.51.%u.%u",
				 rnd_below(256), rnd_below(256));
		else
			snprintf(src, sizeof(src), "2001:db8:%x::%x",
				 rnd_below(65536), rnd_below(65536));
		s.src = src;
		s.vlan = rnd_below(4) ? 0 : ETH_P_8021Q;
		s.tcp_opt_words = (__u8)rnd_below(11);
		synack_engine(&h, (__u16)(1 + rnd_below(65535)),
			      (__u16)(576 + rnd_below(9000)));
		h_clock(&h, H_NOW0 + (uint64_t)rnd_below(1u << 20) * 1000);
		synack_on(&h);
		if (!rnd_below(4))
			s.tcp_opt_words = 5;
		build(&s, &f);
		tcp = f.data + f.l4;
		set16(tcp, (__u16)(1024 + rnd_below(64000)));
		tcp[4] = isn >> 24;
		tcp[5] = isn >> 16;
		tcp[6] = isn >> 8;
		tcp[7] = (__u8)isn;
		opt = tcp + 20;
		/* Linux's options (MSS, SACK permitted, timestamps, window
		 * scale), or random bytes; sometimes an MSS in them. */
		if (s.tcp_opt_words == 5) {
			memcpy(opt, linux_opts, sizeof(linux_opts));
			set16(opt + 2, (__u16)rnd_below(9000));
			rnd_fill(opt + 8, 8);
		} else {
			for (j = 0; j < 4u * s.tcp_opt_words; j++)
				opt[j] = rnd_below(3) ? (__u8)rnd_below(6) : 1;
		}
		/* ...anywhere, cut short by the end of the options too. */
		if (s.tcp_opt_words && rnd_below(2)) {
			__u8 mss[4] = { 2, 4, (__u8)rnd_below(36),
					(__u8)rnd() };
			__u32 n = 4u * s.tcp_opt_words, k;

			j = rnd_below(n);
			for (k = 0; k < 4 && j + k < n; k++)
				opt[j + k] = mss[k];
		}
		tcp_resum(&f, &s);
		fails = test_failures;
		check_same_synack(&h, &f);
		tcp_engine_free(&h.e);
		if (test_failures != fails) {
			fprintf(stderr,
				"  SYN %u: %s isn %u options %u words\n", i,
				src, isn, s.tcp_opt_words);
			break;
		}
	}
}

/* What needs state, or what the engine would not answer, goes to the
 * worker untouched. */
TEST(syns_the_worker_must_see_are_steered)
{
	struct spec sy = syn(4, OTHER4);
	struct counts before;
	struct harness h;
	struct frame f;
	struct spec s;

	fx_reset();
	synack_engine(&h, 29200, 1500);
	build(&sy, &f);
	/* Off (the daemon starting, draining, or --xdp-synack off). */
	CHECK_STEERED(xdp(&f), XR_TARGET_NONE);
	synack_on(&h);
	/* An open connection on the SYN's slot: a challenge ACK's case. */
	set_live(&f, 4, 1);
	CHECK_STEERED(xdp(&f), XR_TARGET_NONE);
	set_live(&f, 4, 0);
	CHECK_EQ(xdp(&f).action, XDP_TX);
	/* A SYN-ACK, a SYN with FIN or RST, data on a SYN. */
	s = sy;
	s.tcp_flags = TH_SYN | TH_ACK;
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_NONE);
	s.tcp_flags = TH_SYN | TH_FIN;
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_NONE);
	s.tcp_flags = TH_SYN | TH_RST;
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_NONE);
	s = sy;
	s.payload = 10;
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_DEFAULT);
	/* IPv4 options, IPv6 extension headers. */
	s = sy;
	s.ip_opt_words = 1;
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_NONE);
	s = syn(6, OTHER6);
	s.n_ext = 1;
	s.ext[0] = IPPROTO_DSTOPTS;
	CHECK_STEERED(xdp_spec(&s), XR_TARGET_NONE);
	/* A bad checksum, which the engine drops and counts. */
	build(&sy, &f);
	f.data[f.l4 + 16] ^= 0x40;
	CHECK_STEERED(xdp(&f), XR_TARGET_NONE);
	build(&sy, &f);
	f.data[f.l3 + 10] ^= 0x40;
	CHECK_STEERED(xdp(&f), XR_TARGET_NONE);
	/* No socket on the queue: the kernel's, as any segment. */
	before = counts();
	build(&sy, &f);
	CHECK_PASSED(run_on(fx.prog_fd, &f, f.len, fx.m0, 1));
	CHECK_EQ(counts().n[XR_CNT_SYNACK] - before.n[XR_CNT_SYNACK], 0);
}
