// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <string.h>

#include "csum.h"
#include "packet.h"
#include "xredir_shared.h"

#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

#define OPT_EOL 0
#define OPT_NOP 1
#define OPT_MSS 2
#define OPT_MSS_LEN 4

struct vlan_hdr {
	uint16_t tci;
	uint16_t proto;
};

/* Reads the MSS option; anything malformed just ends the walk. */
static uint16_t parse_mss(const uint8_t *opt, uint32_t len)
{
	uint32_t i = 0;

	while (i < len) {
		uint8_t kind = opt[i];

		if (kind == OPT_EOL)
			break;
		if (kind == OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len || opt[i + 1] < 2 || i + opt[i + 1] > len)
			break;
		if (kind == OPT_MSS && opt[i + 1] == OPT_MSS_LEN)
			return (uint16_t)(opt[i + 2] << 8 | opt[i + 3]);
		i += opt[i + 1];
	}
	return 0;
}

/*
 * Header fields are read in place: no copy of the headers into structs.
 * Inlined into both IP parsers: once per frame, and as a call it spilled
 * and reloaded what the caller holds.
 */
static inline __attribute__((always_inline)) int
parse_tcp(struct pkt *p, const uint8_t *l4, uint32_t l4_len, uint64_t pseudo,
	  uint16_t port, uint16_t tls_port)
{
	uint32_t hlen, seq, ack;
	uint16_t dest, win;

	if (l4_len < sizeof(struct tcphdr))
		return PKT_MALFORMED;
	memcpy(&dest, l4 + 2, 2);
	if (dest != htons(port) && (!tls_port || dest != htons(tls_port)))
		return PKT_NOT_OURS;
	hlen = (l4[12] >> 4) * 4u;
	if (hlen < sizeof(struct tcphdr) || hlen > l4_len)
		return PKT_MALFORMED;
	if (csum_fold(csum_add(pseudo, l4, l4_len)))
		return PKT_BAD_CSUM;
	memcpy(&p->key.sport, l4, 2);
	p->key.dport = dest;
	memcpy(&seq, l4 + 4, 4);
	memcpy(&ack, l4 + 8, 4);
	memcpy(&win, l4 + 14, 2);
	p->seq = ntohl(seq);
	p->ack = ntohl(ack);
	p->win = ntohs(win);
	p->flags = l4[13] & (TCP_FIN | TCP_SYN | TCP_RST | TCP_PSH | TCP_ACK);
	p->mss = (p->flags & TCP_SYN) ?
			 parse_mss(l4 + sizeof(struct tcphdr),
				   hlen - sizeof(struct tcphdr)) :
			 0;
	p->payload = l4 + hlen;
	p->payload_len = l4_len - hlen;
	return 0;
}

static int parse_ipv4(struct pkt *p, const uint8_t *l3, uint32_t len,
		      uint16_t port, uint16_t tls_port)
{
	uint32_t hlen, tot;
	uint16_t frag;

	if (len < sizeof(struct iphdr))
		return PKT_MALFORMED;
	hlen = (l3[0] & 15) * 4u;
	tot = (uint32_t)(l3[2] << 8 | l3[3]);
	if ((l3[0] >> 4) != 4 || hlen < sizeof(struct iphdr) || tot < hlen ||
	    tot > len)
		return PKT_MALFORMED;
	memcpy(&frag, l3 + 6, 2);
	if (l3[9] != IPPROTO_TCP || (frag & htons(IP_MF | IP_OFFSET)))
		return PKT_NOT_OURS;
	if (csum_fold(hlen == sizeof(struct iphdr) ? csum_add20(0, l3) :
						     csum_add(0, l3, hlen)))
		return PKT_BAD_CSUM;
	p->key.family = 4;
	memcpy(p->key.saddr, l3 + 12, 4);
	memcpy(p->key.daddr, l3 + 16, 4);
	return parse_tcp(p, l3 + hlen, tot - hlen,
			 csum_pseudo4(l3 + 12, l3 + 16, IPPROTO_TCP,
				      (uint16_t)(tot - hlen)),
			 port, tls_port);
}

static int parse_ipv6(struct pkt *p, const uint8_t *l3, uint32_t len,
		      uint16_t port, uint16_t tls_port)
{
	struct ipv6hdr ip6;
	uint32_t off = sizeof(ip6), end;
	uint8_t next;
	int i;

	if (len < sizeof(ip6))
		return PKT_MALFORMED;
	memcpy(&ip6, l3, sizeof(ip6));
	end = sizeof(ip6) + ntohs(ip6.payload_len);
	if (ip6.version != 6 || end > len)
		return PKT_MALFORMED;
	next = ip6.nexthdr;
	for (i = 0; i < XR_IPV6_EXT_MAX; i++) {
		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING &&
		    next != IPPROTO_DSTOPTS)
			break;
		if (off + 2 > end)
			return PKT_MALFORMED;
		next = l3[off];
		off += (l3[off + 1] + 1u) * 8;
	}
	if (next != IPPROTO_TCP)
		return PKT_NOT_OURS;
	if (off > end)
		return PKT_MALFORMED;
	p->key.family = 6;
	memcpy(p->key.saddr, &ip6.saddr, 16);
	memcpy(p->key.daddr, &ip6.daddr, 16);
	return parse_tcp(p, l3 + off, end - off,
			 csum_pseudo6(&ip6.saddr, &ip6.daddr, IPPROTO_TCP,
				      end - off),
			 port, tls_port);
}

int pkt_parse(struct pkt *p, const uint8_t *frame, uint32_t len, uint16_t port,
	      uint16_t tls_port)
{
	uint32_t off = ETH_HLEN;
	uint16_t proto;

	memset(&p->key, 0, sizeof(p->key));
	if (len < ETH_HLEN)
		return PKT_MALFORMED;
	memcpy(p->our_mac, frame, 6);
	memcpy(p->peer_mac, frame + 6, 6);
	proto = (uint16_t)(frame[12] << 8 | frame[13]);
	p->vlan_tpid = 0;
	p->vlan_tci = 0;
	if (XR_ETH_IS_VLAN(proto)) {
		if (len < off + 4)
			return PKT_MALFORMED;
		p->vlan_tpid = proto;
		p->vlan_tci = (uint16_t)(frame[off] << 8 | frame[off + 1]);
		proto = (uint16_t)(frame[off + 2] << 8 | frame[off + 3]);
		off += 4;
	}
	if (proto == ETH_P_IP)
		return parse_ipv4(p, frame + off, len - off, port, tls_port);
	if (proto == ETH_P_IPV6)
		return parse_ipv6(p, frame + off, len - off, port, tls_port);
	return PKT_NOT_OURS;
}

void pkt_reply_route(const struct pkt *p, struct pkt_route *r)
{
	r->src_mac = p->our_mac;
	r->dst_mac = p->peer_mac;
	r->saddr = p->key.daddr;
	r->daddr = p->key.saddr;
	r->sport = p->key.dport;
	r->dport = p->key.sport;
	r->vlan_tpid = p->vlan_tpid;
	r->vlan_tci = p->vlan_tci;
	r->family = p->key.family;
}

/*
 * Writes the TCP header and payload at o; returns their partial sum (the
 * segment's, but for the pseudo-header). Fields are stored in place, not
 * through a struct copy, and the header is summed as fixed-size words.
 * Inlined into both IP builders, as parse_tcp is into the parsers.
 */
static inline __attribute__((always_inline)) uint64_t
build_tcp(uint8_t *o, const struct pkt_route *r, const struct pkt_seg *s,
	  uint32_t *l4_len)
{
	uint32_t hlen = s->mss ? 24 : 20, seq = htonl(s->seq),
		 ack = htonl(s->ack);
	uint16_t win = htons(s->win);
	uint64_t sum;

	memcpy(o, &r->sport, 2);
	memcpy(o + 2, &r->dport, 2);
	memcpy(o + 4, &seq, 4);
	memcpy(o + 8, &ack, 4);
	o[12] = (uint8_t)(hlen << 2);
	o[13] = s->flags;
	memcpy(o + 14, &win, 2);
	memset(o + 16, 0, 4); /* checksum, urgent pointer */
	if (s->mss) {
		o[20] = OPT_MSS;
		o[21] = OPT_MSS_LEN;
		o[22] = (uint8_t)(s->mss >> 8);
		o[23] = (uint8_t)s->mss;
	}
	if (s->len[0])
		memcpy(o + hlen, s->data[0], s->len[0]);
	if (s->len[1])
		memcpy(o + hlen + s->len[0], s->data[1], s->len[1]);
	*l4_len = hlen + s->len[0] + s->len[1];
	sum = csum_add20(0, o);
	if (s->mss)
		sum = csum_add64(sum, load32(o + 20));
	return csum_add(sum, o + hlen, *l4_len - hlen);
}

/* The IPv4 header's constant words (version and length 5, DF, TTL and
 * protocol), as native-endian words to sum. */
#define IP4_FIXED_SUM (0x4500u + 0x4000u + (PKT_TTL << 8 | IPPROTO_TCP))

static uint32_t build_ipv4(uint8_t *o, const struct pkt_route *r,
			   const struct pkt_seg *s)
{
	uint32_t l4_len;
	uint64_t tcp = build_tcp(o + 20, r, s, &l4_len);
	uint64_t addrs = load32(r->saddr) + load32(r->daddr);
	uint16_t tot = (uint16_t)(20 + l4_len), c;

	o[0] = 0x45;
	o[1] = 0;
	o[2] = (uint8_t)(tot >> 8);
	o[3] = (uint8_t)tot;
	o[4] = o[5] = 0; /* id: DF is set, nothing is fragmented */
	o[6] = 0x40;
	o[7] = 0;
	o[8] = PKT_TTL;
	o[9] = IPPROTO_TCP;
	memcpy(o + 12, r->saddr, 4);
	memcpy(o + 16, r->daddr, 4);
	c = csum_fold(addrs + be16_word(tot) + be16_word(IP4_FIXED_SUM));
	memcpy(o + 10, &c, 2);
	/* The pseudo-header: the addresses again, protocol, TCP length. */
	c = csum_fold(csum_add64(tcp, addrs + be16_word(IPPROTO_TCP) +
					      be16_word((uint16_t)l4_len)));
	memcpy(o + 20 + 16, &c, 2);
	return 20 + l4_len;
}

static uint32_t build_ipv6(uint8_t *o, const struct pkt_route *r,
			   const struct pkt_seg *s)
{
	struct ipv6hdr ip6;
	uint32_t l4_len;
	uint64_t tcp = build_tcp(o + sizeof(ip6), r, s, &l4_len);
	uint16_t c;

	memset(&ip6, 0, sizeof(ip6));
	ip6.version = 6;
	ip6.payload_len = htons((uint16_t)l4_len);
	ip6.nexthdr = IPPROTO_TCP;
	ip6.hop_limit = PKT_TTL;
	memcpy(&ip6.saddr, r->saddr, 16);
	memcpy(&ip6.daddr, r->daddr, 16);
	memcpy(o, &ip6, sizeof(ip6));
	c = csum_fold(csum_add64(tcp, csum_pseudo6(r->saddr, r->daddr,
						   IPPROTO_TCP, l4_len)));
	memcpy(o + sizeof(ip6) + 16, &c, 2);
	return (uint32_t)sizeof(ip6) + l4_len;
}

uint32_t pkt_build(uint8_t *buf, const struct pkt_route *r,
		   const struct pkt_seg *s)
{
	uint32_t off = 12;

	memcpy(buf, r->dst_mac, 6);
	memcpy(buf + 6, r->src_mac, 6);
	if (r->vlan_tpid) {
		buf[off++] = (uint8_t)(r->vlan_tpid >> 8);
		buf[off++] = (uint8_t)r->vlan_tpid;
		buf[off++] = (uint8_t)(r->vlan_tci >> 8);
		buf[off++] = (uint8_t)r->vlan_tci;
	}
	if (r->family == 4) {
		buf[off] = ETH_P_IP >> 8;
		buf[off + 1] = ETH_P_IP & 0xff;
		return off + 2 + build_ipv4(buf + off + 2, r, s);
	}
	buf[off] = ETH_P_IPV6 >> 8;
	buf[off + 1] = ETH_P_IPV6 & 0xff;
	return off + 2 + build_ipv6(buf + off + 2, r, s);
}
