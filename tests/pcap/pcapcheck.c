// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * pcapcheck: checks a capture of the traffic on xredir's service port
 * offline, for the end-to-end tests.
 *
 * usage: pcapcheck [--port N] [--kernel-ttl N] [--max-retrans N]
 *                  [--allow-rst N] [--max-flows N] [--json] [-v] FILE.pcap
 *
 * It reads Ethernet (with up to two VLAN tags), Linux cooked (SLL, SLL2) and
 * raw IP captures, IPv4 and IPv6 (skipping hop-by-hop, routing, destination
 * options, AH and atomic fragment headers), and looks at the TCP segments
 * with the service port on either side. The server is the endpoint on the
 * service port. Checks, each a named violation:
 *
 *   csum             IPv4 header and TCP checksums of every segment, both
 *                    directions (TCP ones are counted as unchecked when the
 *                    snaplen cut the segment).
 *   kernel           no server segment carries the TTL/hop limit of the
 *                    server's kernel.
 *   seq              no server segment starts past the highest server
 *                    sequence sent so far + 1 (the server skips no bytes).
 *   retrans-content  bytes the server sends again equal the bytes it first
 *                    sent there (the first STREAM_MAX bytes of each flow).
 *   retrans          at most --max-retrans server segments per flow repeat
 *                    only sequence space already sent (SYN, data or FIN).
 *   ack              the server's ACK never goes backwards and never covers
 *                    more than the client has sent.
 *   after-fin        no server data at or past its FIN, and the FIN stays.
 *   rst              every server RST carries the ACK number of the last
 *                    client segment with ACK set in its flow, and there are
 *                    at most --allow-rst of them in the capture.
 *   synack           a server SYN-ACK acknowledges the client's SYN, and a
 *                    SYN-ACK with a new ISN comes before any server data.
 *
 * A server with SYN cookies answers a SYN sent again across a step of the
 * cookies' time counter with a new ISN; the client takes the SYN-ACK that
 * reaches it. So a new ISN before any data restarts the server side of the
 * flow from it (counted as isn_changes).
 *
 * A flow is a connection: a client SYN with a new ISN on a known four-tuple
 * starts a new one. Flows whose start the capture missed are checked from
 * their first segment on. Memory is bounded: at most --max-flows open flows
 * (65536 by default; a flow finished by RST or by both FINs acknowledged
 * makes room for a new one, oldest first) and at most STREAM_MAX bytes of
 * each flow's server stream, STREAM_TOTAL_MAX in all; the summary says when
 * a limit was hit.
 *
 * Sequence numbers in messages are relative to the ISN when the capture saw
 * the handshake (like Wireshark), absolute ("abs") otherwise.
 *
 * Exit status: 0 no violation, 1 violations, 2 usage or read error.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "json.h"

#define FLOW_MAX 65536 /* connections tracked at once, by default */
#define FLOW_MAX_LIMIT (1u << 22) /* the most --max-flows allows */
#define STREAM_MAX (1u << 20) /* server bytes kept per flow */
#define STREAM_TOTAL_MAX (256u << 20) /* server bytes kept in all */
#define PRINT_MAX 20 /* violations printed without -v */
#define IP6_EXT_MAX 8 /* IPv6 extension headers skipped at most */

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define IPPROTO_TCP_NUM 6

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20

enum check {
	CK_CSUM,
	CK_KERNEL,
	CK_SEQ,
	CK_RETRANS_CONTENT,
	CK_RETRANS,
	CK_ACK,
	CK_AFTER_FIN,
	CK_RST,
	CK_SYNACK,
	CK_COUNT
};

static const char *const check_names[CK_COUNT] = {
	[CK_CSUM] = "csum",
	[CK_KERNEL] = "kernel",
	[CK_SEQ] = "seq",
	[CK_RETRANS_CONTENT] = "retrans-content",
	[CK_RETRANS] = "retrans",
	[CK_ACK] = "ack",
	[CK_AFTER_FIN] = "after-fin",
	[CK_RST] = "rst",
	[CK_SYNACK] = "synack",
};

/* What parsing a packet came to. */
enum verdict {
	P_OK, /* a TCP segment on the service port */
	P_OTHER, /* not IP, not TCP or not on the port */
	P_TRUNC, /* cut by the snaplen before what we need */
	P_BAD, /* inconsistent lengths or versions */
	P_FRAG, /* an IP fragment */
};

struct opts {
	uint16_t port;
	unsigned int kernel_ttl;
	uint64_t max_retrans;
	uint64_t allow_rst;
	uint32_t max_flows;
	bool json;
	bool verbose;
	const char *file;
};

struct stats {
	uint64_t packets; /* records in the capture */
	uint64_t segments; /* TCP segments on the port */
	uint64_t server; /* of which sent by the server */
	uint64_t flows; /* connections seen */
	uint64_t unchecked; /* TCP checksums not verified */
	uint64_t truncated; /* packets cut before the headers we need */
	uint64_t malformed;
	uint64_t fragments;
	uint64_t other;
	uint64_t untracked; /* segments of flows past --max-flows */
	uint64_t evicted; /* closed flows dropped to make room */
	uint64_t retrans; /* server retransmissions, all flows */
	uint64_t isn_changes; /* SYN-ACKs with a new ISN before any data */
	uint64_t rsts; /* server RSTs */
	uint64_t violations;
	uint64_t by_check[CK_COUNT];
	bool stream_full; /* STREAM_TOTAL_MAX reached */
};

/* One captured record. */
struct pkt {
	uint64_t num; /* 1-based, as Wireshark numbers frames */
	const uint8_t *p;
	uint32_t cap; /* bytes captured */
	uint32_t wire; /* bytes on the wire, >= cap */
};

/* A parsed TCP segment on the service port. */
struct seg {
	uint64_t num;
	int family;
	const uint8_t *saddr, *daddr;
	uint16_t sport, dport;
	unsigned int ttl;
	const uint8_t *ip; /* IPv4 header, for its checksum; NULL for IPv6 */
	uint32_t ip_hlen;
	bool pseudo_ok; /* the pseudo-header's addresses are known */
	const uint8_t *tcp;
	uint32_t tcp_len; /* TCP header and payload, per the IP header */
	uint32_t tcp_cap; /* of which captured */
	uint32_t seq, ack;
	uint8_t flags;
	const uint8_t *data;
	uint32_t len; /* payload length, per the headers */
	uint32_t data_cap; /* payload bytes captured */
	bool server; /* sent by the server */
};

/* One connection, keyed by family, server address, client address, port. */
struct flow {
	struct flow *next; /* in its hash bucket */
	struct flow *closed_prev, *closed_next; /* on the closed list */
	uint32_t bucket;
	bool closed; /* RST seen, or both FINs acknowledged */
	bool srv_fin_acked, cli_fin_acked;

	int family;
	uint8_t srv[16], cli[16];
	uint16_t cli_port;

	bool cli_syn; /* client SYN seen: cli_isn valid */
	bool cli_known; /* cli_max valid */
	uint32_t cli_isn;
	uint32_t cli_max; /* highest client seq + len (+1 SYN, +1 FIN) */
	bool cli_fin; /* cli_fin_seq valid */
	uint32_t cli_fin_seq; /* sequence number of the client's FIN */
	bool cli_acked; /* cli_ack valid */
	uint32_t cli_ack; /* ACK of the last client segment with ACK set */
	uint64_t cli_ack_num; /* its packet number */

	bool srv_syn; /* server SYN-ACK seen: srv_isn valid */
	bool srv_known; /* srv_max valid */
	bool midstream; /* the capture missed the server's SYN-ACK */
	uint32_t srv_isn;
	uint32_t srv_max; /* highest server seq + len (+1 SYN, +1 FIN) */
	bool srv_acked; /* srv_ack valid */
	uint32_t srv_ack; /* highest server ACK so far */
	bool fin_seen; /* fin_seq valid */
	uint32_t fin_seq; /* sequence number of the server's FIN */
	uint64_t retrans;
	bool retrans_reported;

	uint32_t stream_base; /* sequence number of stream[0] */
	uint8_t *stream; /* server bytes, contiguous from stream_base */
	uint32_t stream_len, stream_cap;
};

static struct opts opt = {
	.port = 10000,
	.kernel_ttl = 99,
	.max_retrans = 8,
	.allow_rst = 0,
	.max_flows = FLOW_MAX,
};
static struct stats st;
static struct flow **buckets; /* a power of two of them */
static uint32_t bucket_mask;
static uint32_t flow_count;
static struct flow *closed_head, *closed_tail; /* oldest closed first */
static uint64_t stream_total;
static bool json_first = true;

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* Sequence space comparisons, modulo 2^32. */
static bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static bool seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* Internet checksum: sums big-endian 16-bit words, an odd byte padded. */
static uint64_t sum16(uint64_t sum, const uint8_t *p, uint32_t len)
{
	while (len > 1) {
		sum += be16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint64_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The checksum a field at offset off (even) of buf should hold. */
static uint16_t csum_expected(uint64_t sum, const uint8_t *buf, uint32_t len,
			      uint32_t off)
{
	sum = sum16(sum, buf, off);
	sum = sum16(sum, buf + off + 2, len - off - 2);
	return (uint16_t)~fold(sum);
}

/* ---- output ---- */

static void fmt_endpoint(char *buf, size_t n, int family, const uint8_t *addr,
			 uint16_t port)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, a, sizeof(a));
	if (family == AF_INET6)
		snprintf(buf, n, "[%s]:%u", a, port);
	else
		snprintf(buf, n, "%s:%u", a, port);
}

static void fmt_flags(char *buf, size_t n, uint8_t flags)
{
	static const char *const names[] = { "FIN", "SYN", "RST",
					     "PSH", "ACK", "URG" };
	size_t used = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & (1u << i)))
			continue;
		used += snprintf(buf + used, n - used, "%s%s", used ? "," : "",
				 names[i]);
		if (used >= n)
			return;
	}
	if (!used)
		snprintf(buf, n, "none");
}

static void json_violation(enum check ck, uint64_t num, const char *src,
			   const char *dst, const char *msg)
{
	char flow[160];

	snprintf(flow, sizeof(flow), "%s > %s", src, dst);
	printf("%s{\"check\":\"%s\",\"packet\":%" PRIu64 ",\"flow\":",
	       json_first ? "" : ",", check_names[ck], num);
	json_str(flow);
	printf(",\"message\":");
	json_str(msg);
	putchar('}');
	json_first = false;
}

__attribute__((format(printf, 3, 4))) static void
violation(enum check ck, const struct seg *s, const char *fmt, ...)
{
	char msg[256], src[64], dst[64];
	va_list ap;

	st.by_check[ck]++;
	st.violations++;
	if (!opt.verbose && st.violations > PRINT_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fmt_endpoint(src, sizeof(src), s->family, s->saddr, s->sport);
	fmt_endpoint(dst, sizeof(dst), s->family, s->daddr, s->dport);
	if (opt.json) {
		json_violation(ck, s->num, src, dst, msg);
		return;
	}
	printf("VIOLATION %s packet %" PRIu64 " %s > %s: %s\n", check_names[ck],
	       s->num, src, dst, msg);
}

/* A sequence number as text: relative to the ISN when that is known. */
struct seqtext {
	char s[24];
};

static struct seqtext seq_text(bool isn_known, uint32_t isn, uint32_t seq)
{
	struct seqtext t;

	if (isn_known)
		snprintf(t.s, sizeof(t.s), "%u", seq - isn);
	else
		snprintf(t.s, sizeof(t.s), "%u(abs)", seq);
	return t;
}

#define SRV(f, v) (seq_text((f)->srv_syn, (f)->srv_isn, (v)).s)
#define CLI(f, v) (seq_text((f)->cli_syn, (f)->cli_isn, (v)).s)

/* ---- parsing ---- */

static enum verdict eth_payload(const struct pkt *pk, uint32_t *off,
				uint16_t *proto)
{
	uint32_t o = 14;
	uint16_t type;
	int i;

	if (pk->cap < 14)
		return P_TRUNC;
	type = be16(pk->p + 12);
	for (i = 0; i < 2 && (type == ETH_P_8021Q || type == ETH_P_8021AD);
	     i++) {
		if (pk->cap < o + 4)
			return P_TRUNC;
		type = be16(pk->p + o + 2);
		o += 4;
	}
	*off = o;
	*proto = type;
	return P_OK;
}

static enum verdict link_payload(int dlt, const struct pkt *pk, uint32_t *off,
				 uint16_t *proto)
{
	switch (dlt) {
	case DLT_EN10MB:
		return eth_payload(pk, off, proto);
	case DLT_LINUX_SLL:
		if (pk->cap < 16)
			return P_TRUNC;
		*off = 16;
		*proto = be16(pk->p + 14);
		return P_OK;
	case DLT_LINUX_SLL2:
		if (pk->cap < 20)
			return P_TRUNC;
		*off = 20;
		*proto = be16(pk->p);
		return P_OK;
	case DLT_RAW:
		if (pk->cap < 1)
			return P_TRUNC;
		*off = 0;
		*proto = (pk->p[0] >> 4) == 6 ? ETH_P_IPV6 : ETH_P_IPV4;
		return P_OK;
	}
	return P_OTHER;
}

static enum verdict parse_ip4(const uint8_t *ip, uint32_t cap, uint32_t wire,
			      struct seg *s)
{
	uint32_t hlen, tot;

	if (cap < 20)
		return P_TRUNC;
	if (ip[0] >> 4 != 4)
		return P_BAD;
	hlen = (ip[0] & 0xfu) * 4;
	if (hlen < 20)
		return P_BAD;
	if (cap < hlen)
		return P_TRUNC;
	tot = be16(ip + 2);
	if (tot < hlen || tot > wire)
		return P_BAD;
	if (ip[9] != IPPROTO_TCP_NUM)
		return P_OTHER;
	if (be16(ip + 6) & 0x3fff) /* MF or a fragment offset */
		return P_FRAG;
	s->family = AF_INET;
	s->saddr = ip + 12;
	s->daddr = ip + 16;
	s->ttl = ip[8];
	s->ip = ip;
	s->ip_hlen = hlen;
	s->pseudo_ok = true;
	s->tcp = ip + hlen;
	s->tcp_len = tot - hlen;
	s->tcp_cap = min_u32(cap, tot) - hlen;
	return P_OK;
}

/* Skips one IPv6 extension header at *off; updates *nh. */
static enum verdict ip6_skip_ext(const uint8_t *ip, uint32_t cap, uint32_t end,
				 uint32_t *off, uint8_t *nh, bool *pseudo_ok)
{
	const uint8_t *h = ip + *off;
	uint32_t len;

	if (*off + 8 > end)
		return P_BAD;
	if (*off + 8 > cap)
		return P_TRUNC;
	switch (*nh) {
	case 0: /* hop-by-hop options */
	case 60: /* destination options */
		len = (h[1] + 1u) * 8;
		break;
	case 43: /* routing: the pseudo-header needs the final address */
		len = (h[1] + 1u) * 8;
		if (h[3])
			*pseudo_ok = false;
		break;
	case 51: /* authentication header */
		len = (h[1] + 2u) * 4;
		break;
	case 44: /* fragment: only an atomic one is a whole segment */
		if (be16(h + 2) & 0xfff9)
			return P_FRAG;
		len = 8;
		break;
	default:
		return P_OTHER;
	}
	*nh = h[0];
	*off += len;
	return *off > end ? P_BAD : P_OK;
}

static enum verdict parse_ip6(const uint8_t *ip, uint32_t cap, uint32_t wire,
			      struct seg *s)
{
	uint32_t end, off = 40;
	bool pseudo_ok = true;
	enum verdict v;
	uint8_t nh;
	int i;

	if (cap < 40)
		return P_TRUNC;
	if (ip[0] >> 4 != 6)
		return P_BAD;
	end = 40 + be16(ip + 4);
	if (end == 40) /* a jumbogram, or nothing */
		return P_OTHER;
	if (end > wire)
		return P_BAD;
	nh = ip[6];
	for (i = 0; nh != IPPROTO_TCP_NUM; i++) {
		if (i == IP6_EXT_MAX)
			return P_OTHER;
		v = ip6_skip_ext(ip, cap, end, &off, &nh, &pseudo_ok);
		if (v != P_OK)
			return v;
	}
	if (off > cap)
		return P_TRUNC;
	s->family = AF_INET6;
	s->saddr = ip + 8;
	s->daddr = ip + 24;
	s->ttl = ip[7];
	s->ip = NULL;
	s->pseudo_ok = pseudo_ok;
	s->tcp = ip + off;
	s->tcp_len = end - off;
	s->tcp_cap = min_u32(cap, end) - off;
	return P_OK;
}

/* Link and IP layers, then the ports: P_OK only for the service port. */
static enum verdict parse_packet(int dlt, const struct pkt *pk, struct seg *s)
{
	uint32_t off;
	uint16_t proto;
	enum verdict v;

	v = link_payload(dlt, pk, &off, &proto);
	if (v != P_OK)
		return v;
	if (proto == ETH_P_IPV4)
		v = parse_ip4(pk->p + off, pk->cap - off, pk->wire - off, s);
	else if (proto == ETH_P_IPV6)
		v = parse_ip6(pk->p + off, pk->cap - off, pk->wire - off, s);
	else
		return P_OTHER;
	if (v != P_OK)
		return v;
	if (s->tcp_cap < 4)
		return s->tcp_len < 4 ? P_BAD : P_TRUNC;
	s->sport = be16(s->tcp);
	s->dport = be16(s->tcp + 2);
	if (s->sport != opt.port && s->dport != opt.port)
		return P_OTHER;
	s->server = s->sport == opt.port;
	return P_OK;
}

static enum verdict parse_tcp(struct seg *s)
{
	const uint8_t *t = s->tcp;
	uint32_t hlen;

	if (s->tcp_len < 20)
		return P_BAD;
	if (s->tcp_cap < 20)
		return P_TRUNC;
	hlen = (t[12] >> 4) * 4u;
	if (hlen < 20 || hlen > s->tcp_len)
		return P_BAD;
	s->seq = be32(t + 4);
	s->ack = be32(t + 8);
	s->flags = t[13];
	s->len = s->tcp_len - hlen;
	s->data = t + min_u32(hlen, s->tcp_cap);
	s->data_cap = s->tcp_cap > hlen ? s->tcp_cap - hlen : 0;
	return P_OK;
}

/* ---- per-packet checks ---- */

static void check_ip_csum(const struct seg *s)
{
	if (!s->ip || fold(sum16(0, s->ip, s->ip_hlen)) == 0xffff)
		return;
	violation(CK_CSUM, s, "IPv4 header checksum 0x%04x, expected 0x%04x",
		  be16(s->ip + 10), csum_expected(0, s->ip, s->ip_hlen, 10));
}

static uint64_t pseudo_sum(const struct seg *s)
{
	uint32_t alen = s->family == AF_INET ? 4 : 16;
	uint64_t sum;

	sum = sum16(0, s->saddr, alen);
	sum = sum16(sum, s->daddr, alen);
	sum += IPPROTO_TCP_NUM;
	sum += s->tcp_len >> 16;
	return sum + (s->tcp_len & 0xffff);
}

static void check_tcp_csum(const struct seg *s)
{
	uint64_t sum;

	if (s->tcp_cap < s->tcp_len || !s->pseudo_ok) {
		st.unchecked++;
		return;
	}
	sum = pseudo_sum(s);
	if (fold(sum16(sum, s->tcp, s->tcp_len)) == 0xffff)
		return;
	violation(CK_CSUM, s, "TCP checksum 0x%04x, expected 0x%04x",
		  be16(s->tcp + 16),
		  csum_expected(sum, s->tcp, s->tcp_len, 16));
}

static void check_kernel(const struct seg *s, const char *what)
{
	if (!s->server || s->ttl != opt.kernel_ttl)
		return;
	violation(CK_KERNEL, s,
		  "%s %u: the server's kernel sent this segment (flags %s)",
		  s->family == AF_INET ? "TTL" : "hop limit", s->ttl, what);
}

static void count_rst(const struct seg *s)
{
	st.rsts++;
	if (st.rsts <= opt.allow_rst)
		return;
	violation(CK_RST, s,
		  "server RST number %" PRIu64 ", %" PRIu64 " allowed", st.rsts,
		  opt.allow_rst);
}

/* ---- flows ---- */

static void flow_key(const struct seg *s, const uint8_t **srv,
		     const uint8_t **cli, uint16_t *cli_port)
{
	*srv = s->server ? s->saddr : s->daddr;
	*cli = s->server ? s->daddr : s->saddr;
	*cli_port = s->server ? s->dport : s->sport;
}

static uint32_t flow_hash(int family, const uint8_t *srv, const uint8_t *cli,
			  uint16_t port)
{
	uint32_t h = 2166136261u, alen = family == AF_INET ? 4 : 16, i;

	for (i = 0; i < alen; i++)
		h = (h ^ srv[i]) * 16777619u;
	for (i = 0; i < alen; i++)
		h = (h ^ cli[i]) * 16777619u;
	h = (h ^ (port >> 8)) * 16777619u;
	h = (h ^ (port & 0xff)) * 16777619u;
	return h ^ (h >> 17);
}

static bool flow_match(const struct flow *f, int family, const uint8_t *srv,
		       const uint8_t *cli, uint16_t port)
{
	uint32_t alen = family == AF_INET ? 4 : 16;

	return f->family == family && f->cli_port == port &&
	       !memcmp(f->srv, srv, alen) && !memcmp(f->cli, cli, alen);
}

static void closed_unlink(struct flow *f)
{
	if (f->closed_prev)
		f->closed_prev->closed_next = f->closed_next;
	else
		closed_head = f->closed_next;
	if (f->closed_next)
		f->closed_next->closed_prev = f->closed_prev;
	else
		closed_tail = f->closed_prev;
	f->closed_prev = NULL;
	f->closed_next = NULL;
}

/* Puts a finished connection on the list of flows that can make room. */
static void flow_close(struct flow *f)
{
	if (f->closed)
		return;
	f->closed = true;
	f->closed_prev = closed_tail;
	if (closed_tail)
		closed_tail->closed_next = f;
	else
		closed_head = f;
	closed_tail = f;
}

static void flow_free(struct flow *f)
{
	stream_total -= f->stream_cap;
	free(f->stream);
	free(f);
}

/* Drops the flow that closed first. */
static bool flow_evict(void)
{
	struct flow *f = closed_head, **pp;

	if (!f)
		return false;
	closed_unlink(f);
	for (pp = &buckets[f->bucket]; *pp != f; pp = &(*pp)->next)
		;
	*pp = f->next;
	flow_free(f);
	flow_count--;
	st.evicted++;
	return true;
}

static struct flow *flow_new(uint32_t bucket, int family, const uint8_t *srv,
			     const uint8_t *cli, uint16_t port)
{
	uint32_t alen = family == AF_INET ? 4 : 16;
	struct flow *f;

	if (flow_count >= opt.max_flows && !flow_evict())
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->family = family;
	memcpy(f->srv, srv, alen);
	memcpy(f->cli, cli, alen);
	f->cli_port = port;
	f->bucket = bucket;
	f->next = buckets[bucket];
	buckets[bucket] = f;
	flow_count++;
	st.flows++;
	return f;
}

/* The segment's flow, created if new; NULL when the table is full. */
static struct flow *flow_get(const struct seg *s)
{
	const uint8_t *srv, *cli;
	struct flow *f;
	uint16_t port;
	uint32_t b;

	flow_key(s, &srv, &cli, &port);
	b = flow_hash(s->family, srv, cli, port) & bucket_mask;
	for (f = buckets[b]; f; f = f->next) {
		if (flow_match(f, s->family, srv, cli, port))
			return f;
	}
	return flow_new(b, s->family, srv, cli, port);
}

/* A new connection on the same four-tuple: forget the old one. */
static void flow_restart(struct flow *f)
{
	struct flow keep = *f;

	if (f->closed)
		closed_unlink(f);
	stream_total -= f->stream_cap;
	free(f->stream);
	memset(f, 0, sizeof(*f));
	f->next = keep.next;
	f->bucket = keep.bucket;
	f->family = keep.family;
	memcpy(f->srv, keep.srv, sizeof(f->srv));
	memcpy(f->cli, keep.cli, sizeof(f->cli));
	f->cli_port = keep.cli_port;
	st.flows++;
}

static bool flows_init(void)
{
	uint32_t n = 1;

	while (n < opt.max_flows)
		n *= 2;
	buckets = calloc(n, sizeof(*buckets));
	bucket_mask = n - 1;
	return buckets != NULL;
}

static void flows_free(void)
{
	struct flow *f, *next;
	uint32_t i;

	for (i = 0; buckets && i <= bucket_mask; i++) {
		for (f = buckets[i]; f; f = next) {
			next = f->next;
			flow_free(f);
		}
	}
	free(buckets);
}

/* ---- the server's byte stream ---- */

/* Grows the stream buffer to hold need bytes; false when it cannot. */
static bool stream_reserve(struct flow *f, uint32_t need)
{
	uint32_t cap = f->stream_cap ? f->stream_cap : 4096;
	uint8_t *p;

	if (need <= f->stream_cap)
		return true;
	while (cap < need) /* stays <= STREAM_MAX: powers of two */
		cap *= 2;
	if (stream_total + cap - f->stream_cap > STREAM_TOTAL_MAX) {
		st.stream_full = true;
		return false;
	}
	p = realloc(f->stream, cap);
	if (!p)
		return false;
	stream_total += cap - f->stream_cap;
	f->stream = p;
	f->stream_cap = cap;
	return true;
}

static void stream_append(struct flow *f, const uint8_t *data, uint32_t n)
{
	n = min_u32(n, STREAM_MAX - f->stream_len);
	if (!n || !stream_reserve(f, f->stream_len + n))
		return;
	memcpy(f->stream + f->stream_len, data, n);
	f->stream_len += n;
}

static void stream_compare(struct flow *f, const struct seg *s, uint32_t off,
			   const uint8_t *data, uint32_t n)
{
	const uint8_t *old = f->stream + off;
	uint32_t i, first = n, diff = 0;

	for (i = 0; i < n; i++) {
		if (old[i] == data[i])
			continue;
		if (first == n)
			first = i;
		diff++;
	}
	if (!diff)
		return;
	violation(
		CK_RETRANS_CONTENT, s,
		"%u of %u resent bytes differ; first at seq %s: sent 0x%02x, now 0x%02x",
		diff, n, SRV(f, f->stream_base + off + first), old[first],
		data[first]);
}

/*
 * Compares the captured payload with the bytes kept for its sequence range
 * and keeps the bytes that extend the contiguous prefix.
 */
static void stream_data(struct flow *f, const struct seg *s)
{
	const uint8_t *data = s->data;
	uint32_t n = s->data_cap, off, skip = 0, same;

	if (seq_lt(s->seq, f->stream_base))
		skip = f->stream_base - s->seq;
	if (skip >= n)
		return;
	data += skip;
	n -= skip;
	off = s->seq + skip - f->stream_base;
	if (off > f->stream_len) /* past a hole: nothing to compare with */
		return;
	same = min_u32(n, f->stream_len - off);
	if (same)
		stream_compare(f, s, off, data, same);
	stream_append(f, data + same, n - same);
}

/* ---- server segments ---- */

static void count_retrans(struct flow *f, const struct seg *s)
{
	f->retrans++;
	st.retrans++;
	if (f->retrans <= opt.max_retrans || f->retrans_reported)
		return;
	f->retrans_reported = true;
	violation(CK_RETRANS, s,
		  "retransmission number %" PRIu64 " in this flow, %" PRIu64
		  " allowed",
		  f->retrans, opt.max_retrans);
}

static void server_ack(struct flow *f, const struct seg *s)
{
	if (!(s->flags & TCP_ACK))
		return;
	if (f->srv_acked && seq_lt(s->ack, f->srv_ack))
		violation(CK_ACK, s, "ACK %s went back from %s", CLI(f, s->ack),
			  CLI(f, f->srv_ack));
	if (f->cli_known && seq_gt(s->ack, f->cli_max))
		violation(CK_ACK, s,
			  "ACK %s is past what the client sent (up to %s)",
			  CLI(f, s->ack), CLI(f, f->cli_max));
	if (!f->srv_acked || seq_gt(s->ack, f->srv_ack))
		f->srv_ack = s->ack;
	f->srv_acked = true;
	if (f->cli_fin && seq_gt(s->ack, f->cli_fin_seq))
		f->cli_fin_acked = true;
}

static void server_new_isn(struct flow *f, const struct seg *s)
{
	st.isn_changes++;
	f->srv_isn = s->seq;
	f->srv_max = s->seq + 1;
	f->stream_base = s->seq + 1;
	f->stream_len = 0;
}

static void server_synack(struct flow *f, const struct seg *s)
{
	if (!(s->flags & TCP_ACK)) /* a server-opened connection: not ours */
		return;
	if (f->cli_syn && s->ack != f->cli_isn + 1)
		violation(
			CK_SYNACK, s,
			"SYN-ACK acknowledges %u, the client's SYN was %u (expected %u)",
			s->ack, f->cli_isn, f->cli_isn + 1);
	if (!f->srv_known) {
		f->srv_syn = true;
		f->srv_known = true;
		f->srv_isn = s->seq;
		f->srv_max = s->seq + 1;
		f->stream_base = s->seq + 1;
	} else if (f->srv_syn && s->seq == f->srv_isn) {
		count_retrans(f, s);
	} else if (f->srv_syn && f->srv_max == f->srv_isn + 1) {
		server_new_isn(f, s);
	} else if (f->srv_syn) {
		violation(CK_SYNACK, s,
			  "SYN-ACK with ISN %u after data from ISN %u", s->seq,
			  f->srv_isn);
	}
	if (!f->srv_acked || seq_gt(s->ack, f->srv_ack))
		f->srv_ack = s->ack;
	f->srv_acked = true;
}

static void server_rst(struct flow *f, const struct seg *s)
{
	server_ack(f, s);
	if (!f->cli_acked) {
		violation(CK_RST, s,
			  "RST seq %u answers no client segment with ACK set",
			  s->seq);
		return;
	}
	if (s->seq == f->cli_ack)
		return;
	violation(
		CK_RST, s,
		"RST seq %s, but the client segment it answers (packet %" PRIu64
		") acknowledged %s",
		SRV(f, s->seq), f->cli_ack_num, SRV(f, f->cli_ack));
}

static void check_after_fin(struct flow *f, const struct seg *s, uint32_t end)
{
	if (!f->fin_seen)
		return;
	if (s->len && seq_gt(s->seq + s->len, f->fin_seq))
		violation(CK_AFTER_FIN, s,
			  "data up to seq %s, past the FIN at %s",
			  SRV(f, s->seq + s->len), SRV(f, f->fin_seq));
	else if ((s->flags & TCP_FIN) && end - 1 != f->fin_seq)
		violation(CK_AFTER_FIN, s, "FIN at seq %s, first sent at %s",
			  SRV(f, end - 1), SRV(f, f->fin_seq));
}

static void server_data(struct flow *f, const struct seg *s)
{
	bool fin = s->flags & TCP_FIN;
	uint32_t span = s->len + fin;
	uint32_t end = s->seq + span;

	if (!f->srv_known) {
		f->srv_known = true;
		f->midstream = true;
		f->srv_max = s->seq;
		f->stream_base = s->seq;
	}
	if (seq_gt(s->seq, f->srv_max))
		violation(
			CK_SEQ, s,
			"segment starts at seq %s, %u bytes past the highest sent +1 (%s)",
			SRV(f, s->seq), s->seq - f->srv_max,
			SRV(f, f->srv_max));
	check_after_fin(f, s, end);
	if (span && !seq_gt(end, f->srv_max))
		count_retrans(f, s);
	if (s->data_cap)
		stream_data(f, s);
	if (seq_gt(end, f->srv_max))
		f->srv_max = end;
	if (fin && !f->fin_seen) {
		f->fin_seen = true;
		f->fin_seq = end - 1;
	}
	server_ack(f, s);
}

static void server_seg(struct flow *f, const struct seg *s)
{
	if (s->flags & TCP_RST)
		server_rst(f, s);
	else if (s->flags & TCP_SYN)
		server_synack(f, s);
	else
		server_data(f, s);
	if ((s->flags & TCP_RST) || (f->srv_fin_acked && f->cli_fin_acked))
		flow_close(f);
}

/* ---- client segments ---- */

static void client_syn(struct flow *f, const struct seg *s)
{
	if (f->cli_syn && s->seq == f->cli_isn) /* a retransmitted SYN */
		return;
	if (f->cli_known || f->srv_known)
		flow_restart(f);
	f->cli_syn = true;
	f->cli_isn = s->seq;
}

static void client_ack(struct flow *f, const struct seg *s)
{
	f->cli_acked = true;
	f->cli_ack = s->ack;
	f->cli_ack_num = s->num;
	if (f->fin_seen && seq_gt(s->ack, f->fin_seq))
		f->srv_fin_acked = true;
	/* Mid-stream, what the client acknowledges the server has sent. */
	if (!f->srv_known) {
		f->srv_known = true;
		f->midstream = true;
		f->srv_max = s->ack;
		f->stream_base = s->ack;
	} else if (f->midstream && seq_gt(s->ack, f->srv_max)) {
		f->srv_max = s->ack;
	}
}

static void client_seg(struct flow *f, const struct seg *s)
{
	uint32_t end = s->seq + s->len + !!(s->flags & TCP_SYN) +
		       !!(s->flags & TCP_FIN);

	if ((s->flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN)
		client_syn(f, s);
	if (!f->cli_known) {
		f->cli_known = true;
		f->cli_max = s->seq;
	}
	if (seq_gt(end, f->cli_max))
		f->cli_max = end;
	if ((s->flags & TCP_FIN) && !f->cli_fin) {
		f->cli_fin = true;
		f->cli_fin_seq = end - 1;
	}
	if (s->flags & TCP_ACK)
		client_ack(f, s);
	if ((s->flags & TCP_RST) || (f->srv_fin_acked && f->cli_fin_acked))
		flow_close(f);
}

/* ---- driver ---- */

static void count_skipped(enum verdict v)
{
	switch (v) {
	case P_TRUNC:
		st.truncated++;
		break;
	case P_BAD:
		st.malformed++;
		break;
	case P_FRAG:
		st.fragments++;
		break;
	default:
		st.other++;
		break;
	}
}

static void handle_packet(int dlt, const struct pkt *pk)
{
	struct seg s = { .num = pk->num };
	char flags[32] = "?";
	struct flow *f;
	enum verdict v;

	st.packets++;
	v = parse_packet(dlt, pk, &s);
	if (v != P_OK) {
		count_skipped(v);
		return;
	}
	st.segments++;
	st.server += s.server;
	check_ip_csum(&s);
	v = parse_tcp(&s);
	if (v == P_OK)
		fmt_flags(flags, sizeof(flags), s.flags);
	check_kernel(&s, flags);
	if (v != P_OK) {
		st.unchecked++;
		count_skipped(v);
		return;
	}
	check_tcp_csum(&s);
	if (s.server && (s.flags & TCP_RST))
		count_rst(&s);
	f = flow_get(&s);
	if (!f) {
		st.untracked++;
		return;
	}
	if (s.server)
		server_seg(f, &s);
	else
		client_seg(f, &s);
}

static void json_count(const char *key, uint64_t v)
{
	printf(",\"%s\":%" PRIu64, key, v);
}

static void print_json_summary(const char *error)
{
	int i;

	printf("],\"file\":");
	json_str(opt.file);
	json_count("packets", st.packets);
	json_count("segments", st.segments);
	json_count("flows", st.flows);
	json_count("server_packets", st.server);
	json_count("unchecked", st.unchecked);
	json_count("truncated", st.truncated);
	json_count("malformed", st.malformed);
	json_count("fragments", st.fragments);
	json_count("other", st.other);
	json_count("untracked", st.untracked);
	json_count("evicted", st.evicted);
	json_count("retransmissions", st.retrans);
	json_count("isn_changes", st.isn_changes);
	json_count("rsts", st.rsts);
	printf(",\"flow_table_full\":%s,\"stream_store_full\":%s",
	       st.untracked ? "true" : "false",
	       st.stream_full ? "true" : "false");
	json_count("violations", st.violations);
	printf(",\"by_check\":{");
	for (i = 0; i < CK_COUNT; i++)
		printf("%s\"%s\":%" PRIu64, i ? "," : "", check_names[i],
		       st.by_check[i]);
	printf("}");
	json_count("details_omitted",
		   opt.verbose || st.violations <= PRINT_MAX ?
			   0 :
			   st.violations - PRINT_MAX);
	if (error) {
		printf(",\"error\":");
		json_str(error);
	}
	printf("}\n");
}

static void print_notes(void)
{
	if (!opt.verbose && st.violations > PRINT_MAX)
		printf("... %" PRIu64
		       " more violations not shown (-v shows all)\n",
		       st.violations - PRINT_MAX);
	if (st.untracked)
		printf("note: flow table full (%u open flows): %" PRIu64
		       " segments of further flows were only checked for csum, kernel and the RST count\n",
		       opt.max_flows, st.untracked);
	if (st.stream_full)
		printf("note: stream store full (%u MiB): later resent bytes were not compared\n",
		       STREAM_TOTAL_MAX >> 20);
}

static void text_count(const char *key, uint64_t v)
{
	printf(" %s=%" PRIu64, key, v);
}

static void print_summary(const char *error)
{
	int i;

	if (opt.json) {
		print_json_summary(error);
		return;
	}
	print_notes();
	printf("summary:");
	text_count("packets", st.packets);
	text_count("segments", st.segments);
	text_count("flows", st.flows);
	text_count("server", st.server);
	text_count("unchecked", st.unchecked);
	text_count("truncated", st.truncated);
	text_count("malformed", st.malformed);
	text_count("fragments", st.fragments);
	text_count("other", st.other);
	text_count("untracked", st.untracked);
	text_count("evicted", st.evicted);
	text_count("retransmissions", st.retrans);
	text_count("isn_changes", st.isn_changes);
	text_count("rsts", st.rsts);
	text_count("violations", st.violations);
	for (i = 0; i < CK_COUNT; i++)
		text_count(check_names[i], st.by_check[i]);
	printf("\n");
}

static bool dlt_supported(int dlt)
{
	return dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL ||
	       dlt == DLT_LINUX_SLL2 || dlt == DLT_RAW;
}

/* Reads every record; returns 0, or 2 on a read error. */
static int read_capture(pcap_t *pc)
{
	int dlt = pcap_datalink(pc);
	struct pcap_pkthdr *h;
	const u_char *data;
	struct pkt pk = { 0 };
	int r;

	while ((r = pcap_next_ex(pc, &h, &data)) == 1) {
		pk.num++;
		pk.p = data;
		pk.cap = h->caplen;
		pk.wire = h->len > h->caplen ? h->len : h->caplen;
		handle_packet(dlt, &pk);
	}
	if (r != PCAP_ERROR)
		return 0;
	fprintf(stderr, "pcapcheck: %s: %s\n", opt.file, pcap_geterr(pc));
	print_summary(pcap_geterr(pc));
	return 2;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pcapcheck [options] FILE.pcap\n"
		"  --port N          service port (default 10000)\n"
		"  --kernel-ttl N    TTL/hop limit of the server's kernel (default 99)\n"
		"  --max-retrans N   retransmitted server segments allowed per flow (default 8)\n"
		"  --allow-rst N     server RSTs allowed in the capture (default 0)\n"
		"  --max-flows N     connections tracked at once (default %d)\n"
		"  --json            print the summary as one JSON object\n"
		"  -v                print every violation (default: the first %d)\n"
		"exit status: 0 no violation, 1 violations, 2 usage or read error\n",
		FLOW_MAX, PRINT_MAX);
}

static bool parse_num(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return false;
	v = strtoull(s, &end, 10);
	if (*end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

enum { OPT_PORT = 256, OPT_TTL, OPT_RETRANS, OPT_RST, OPT_FLOWS, OPT_JSON };

static bool parse_option(int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case OPT_PORT:
		if (!parse_num(arg, 1, 65535, &v))
			return false;
		opt.port = (uint16_t)v;
		return true;
	case OPT_TTL:
		if (!parse_num(arg, 0, 255, &v))
			return false;
		opt.kernel_ttl = (unsigned int)v;
		return true;
	case OPT_RETRANS:
		return parse_num(arg, 0, UINT64_MAX, &opt.max_retrans);
	case OPT_RST:
		return parse_num(arg, 0, UINT64_MAX, &opt.allow_rst);
	case OPT_FLOWS:
		if (!parse_num(arg, 1, FLOW_MAX_LIMIT, &v))
			return false;
		opt.max_flows = (uint32_t)v;
		return true;
	case OPT_JSON:
		opt.json = true;
		return true;
	case 'v':
		opt.verbose = true;
		return true;
	}
	return false;
}

static int parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, OPT_PORT },
		{ "kernel-ttl", required_argument, NULL, OPT_TTL },
		{ "max-retrans", required_argument, NULL, OPT_RETRANS },
		{ "allow-rst", required_argument, NULL, OPT_RST },
		{ "max-flows", required_argument, NULL, OPT_FLOWS },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (!parse_option(c, optarg)) {
			if (c != '?')
				fprintf(stderr, "pcapcheck: bad value '%s'\n",
					optarg);
			return -1;
		}
	}
	if (optind != argc - 1)
		return -1;
	opt.file = argv[optind];
	return 0;
}

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc;
	int ret;

	if (parse_args(argc, argv)) {
		usage(stderr);
		return 2;
	}
	pc = pcap_open_offline(opt.file, err);
	if (!pc) {
		fprintf(stderr, "pcapcheck: %s\n", err);
		return 2;
	}
	if (!dlt_supported(pcap_datalink(pc))) {
		fprintf(stderr, "pcapcheck: %s: unsupported link type %s\n",
			opt.file, pcap_datalink_val_to_name(pcap_datalink(pc)));
		pcap_close(pc);
		return 2;
	}
	if (!flows_init()) {
		fprintf(stderr, "pcapcheck: out of memory\n");
		pcap_close(pc);
		return 2;
	}
	if (opt.json)
		printf("{\"details\":[");
	ret = read_capture(pc);
	pcap_close(pc);
	if (!ret) {
		print_summary(NULL);
		ret = st.violations ? 1 : 0;
	}
	flows_free();
	return ret;
}
