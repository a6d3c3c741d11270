/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Bounded header parsing for the XDP program. Every helper checks the bytes
 * it reads against data_end before reading them, advances the cursor past
 * what it parsed, and returns < 0 when the header is truncated or invalid.
 */
#ifndef XREDIR_PARSING_H
#define XREDIR_PARSING_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define PARSE_BAD -1 /* truncated or invalid */
#define PARSE_NOT_OURS -2 /* valid, but not something we steer */

#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define IPV6_EXT_MAX 3 /* extension headers skipped before giving up */

struct cursor {
	void *pos;
	void *end;
};

struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/* Ethernet plus at most one 802.1Q/802.1ad tag; returns the EtherType. */
static __always_inline int parse_eth(struct cursor *c, __u16 *proto)
{
	struct ethhdr *eth = c->pos;
	struct vlan_hdr *vlan;
	__u16 type;

	if ((void *)(eth + 1) > c->end)
		return PARSE_BAD;
	type = bpf_ntohs(eth->h_proto);
	c->pos = eth + 1;
	if (type == ETH_P_8021Q || type == ETH_P_8021AD) {
		vlan = c->pos;
		if ((void *)(vlan + 1) > c->end)
			return PARSE_BAD;
		type = bpf_ntohs(vlan->encap_proto);
		c->pos = vlan + 1;
	}
	*proto = type;
	return 0;
}

/* IPv4 with options. Fragments are not ours: the kernel reassembles them. */
static __always_inline int parse_ipv4(struct cursor *c, struct iphdr **out)
{
	struct iphdr *ip = c->pos;
	__u32 hlen;

	if ((void *)(ip + 1) > c->end)
		return PARSE_BAD;
	if (ip->version != 4 || ip->ihl < 5)
		return PARSE_BAD;
	hlen = ip->ihl * 4;
	if (c->pos + hlen > c->end)
		return PARSE_BAD;
	if (bpf_ntohs(ip->tot_len) < hlen)
		return PARSE_BAD;
	if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return PARSE_NOT_OURS;
	if (ip->protocol != IPPROTO_TCP)
		return PARSE_NOT_OURS;
	c->pos += hlen;
	*out = ip;
	return 0;
}

struct ipv6_ext {
	__u8 nexthdr;
	__u8 hdrlen;
};

/*
 * IPv6, skipping a few extension headers. A fragment header (or anything
 * unknown) means the packet is not ours.
 */
static __always_inline int parse_ipv6(struct cursor *c, struct ipv6hdr **out)
{
	struct ipv6hdr *ip6 = c->pos;
	struct ipv6_ext *ext;
	__u8 next;
	int i;

	if ((void *)(ip6 + 1) > c->end)
		return PARSE_BAD;
	if (ip6->version != 6)
		return PARSE_BAD;
	next = ip6->nexthdr;
	c->pos = ip6 + 1;
#pragma unroll
	for (i = 0; i < IPV6_EXT_MAX; i++) {
		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING &&
		    next != IPPROTO_DSTOPTS)
			break;
		ext = c->pos;
		if ((void *)(ext + 1) > c->end)
			return PARSE_BAD;
		next = ext->nexthdr;
		c->pos += (ext->hdrlen + 1) * 8;
	}
	if (next != IPPROTO_TCP)
		return PARSE_NOT_OURS;
	*out = ip6;
	return 0;
}

static __always_inline int parse_tcp(struct cursor *c, struct tcphdr **out)
{
	struct tcphdr *tcp = c->pos;
	__u32 hlen;

	if ((void *)(tcp + 1) > c->end)
		return PARSE_BAD;
	if (tcp->doff < 5)
		return PARSE_BAD;
	hlen = tcp->doff * 4;
	if (c->pos + hlen > c->end)
		return PARSE_BAD;
	c->pos += hlen;
	*out = tcp;
	return 0;
}

#endif /* XREDIR_PARSING_H */
