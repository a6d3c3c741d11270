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
#include "xredir_shared.h"

#define PARSE_BAD -1 /* truncated or invalid */
#define PARSE_NOT_OURS -2 /* valid, but not something we steer */
#define PARSE_DROP -3 /* to be dropped, for the reason in *why */

#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define IP6_OFFSET 0xfff8
/*
 * Extension headers walked before giving up. RFC 8200 allows each header
 * once, destination options twice: hop-by-hop, destination, routing,
 * fragment, destination is the longest conforming chain in front of TCP
 * (AH and ESP end the walk).
 */
#define IPV6_WALK_MAX 6
#define IPPROTO_MH 135
#define IPPROTO_HIP 139
#define IPPROTO_SHIM6 140
#define IPPROTO_EXP1 253 /* RFC 3692 experimentation and testing */
#define IPPROTO_EXP2 254

struct cursor {
	void *pos;
	void *end;
};

/*
 * A frame's first reason not to be served (enum xr_counter); 0 while there
 * is none. Parsers mark it and go on, so that only TCP to the port is
 * dropped.
 */
static __always_inline void unservable(__u8 *why, __u8 reason)
{
	if (!*why)
		*why = reason;
}

struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/*
 * Ethernet plus one 802.1Q/802.1ad tag; returns the EtherType and the
 * header. A second tag (QinQ) is parsed through, but the engine only
 * answers single-tagged frames, so it makes the frame unservable.
 */
static __always_inline int parse_eth(struct cursor *c, struct ethhdr **out,
				     __u16 *proto, __u8 *why)
{
	struct ethhdr *eth = c->pos;
	struct vlan_hdr *vlan;
	__u16 type;

	if ((void *)(eth + 1) > c->end)
		return PARSE_BAD;
	type = bpf_ntohs(eth->h_proto);
	c->pos = eth + 1;
	if (XR_ETH_IS_VLAN(type)) {
		vlan = c->pos;
		if ((void *)(vlan + 1) > c->end)
			return PARSE_BAD;
		type = bpf_ntohs(vlan->encap_proto);
		c->pos = vlan + 1;
		if (XR_ETH_IS_VLAN(type)) {
			vlan = c->pos;
			if ((void *)(vlan + 1) > c->end)
				return PARSE_BAD;
			type = bpf_ntohs(vlan->encap_proto);
			c->pos = vlan + 1;
			unservable(why, XR_CNT_DROP_QINQ);
		}
	}
	*proto = type;
	*out = eth;
	return 0;
}

/* Whether a destination MAC is this one: a broadcast or multicast one
 * (the I/G bit) never is, whatever mine holds. */
static __always_inline int eth_is_mine(const __u8 *dst, const __u8 *mine)
{
	if (dst[0] & 1)
		return 0;
	return !((dst[0] ^ mine[0]) | (dst[1] ^ mine[1]) | (dst[2] ^ mine[2]) |
		 (dst[3] ^ mine[3]) | (dst[4] ^ mine[4]) | (dst[5] ^ mine[5]));
}

/*
 * IPv4 with options. A first fragment is unservable (the engine does not
 * reassemble); later fragments have no TCP header, so they are not ours.
 */
static __always_inline int parse_ipv4(struct cursor *c, struct iphdr **out,
				      __u8 *why)
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
	if (ip->protocol != IPPROTO_TCP)
		return PARSE_NOT_OURS;
	if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET)) {
		if (ip->frag_off & bpf_htons(IP_OFFSET))
			return PARSE_NOT_OURS;
		unservable(why, XR_CNT_DROP_FRAGMENT);
	}
	c->pos += hlen;
	*out = ip;
	return 0;
}

struct ipv6_ext {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct ipv6_frag {
	__u8 nexthdr;
	__u8 reserved; /* ignored on receipt: not a length */
	__be16 frag_off;
	__be32 id;
};

/* The extension headers parse_ipv6() walks: all in RFC 6564's format. */
static __always_inline int ipv6_is_ext(__u8 next)
{
	switch (next) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_FRAGMENT:
	case IPPROTO_MH:
	case IPPROTO_HIP:
	case IPPROTO_SHIM6:
	case IPPROTO_EXP1:
	case IPPROTO_EXP2:
		return 1;
	}
	return 0;
}

/*
 * IPv6 and its extension headers, up to TCP. Up to XR_IPV6_EXT_MAX
 * hop-by-hop, routing and destination options headers are servable; a
 * first (or atomic) fragment, the other RFC 6564-format headers or a longer
 * chain make the frame unservable. A later fragment, AH, ESP, No Next
 * Header or any other upper-layer protocol is not ours (IPsec reaches a
 * socket only under a security association the administrator set up). A
 * chain longer than IPV6_WALK_MAX hides the port: dropped. *out is set
 * once the fixed header is valid, dropped or not.
 */
static __always_inline int parse_ipv6(struct cursor *c, struct ipv6hdr **out,
				      __u8 *why)
{
	struct ipv6hdr *ip6 = c->pos;
	struct ipv6_frag *frag;
	struct ipv6_ext *ext;
	__u32 len;
	__u8 next;
	int i;

	if ((void *)(ip6 + 1) > c->end)
		return PARSE_BAD;
	if (ip6->version != 6)
		return PARSE_BAD;
	/* Set before the walk: a drop needs the addresses too. */
	*out = ip6;
	next = ip6->nexthdr;
	c->pos = ip6 + 1;
	for (i = 0; i < IPV6_WALK_MAX; i++) {
		if (next == IPPROTO_TCP)
			break;
		if (!ipv6_is_ext(next))
			return PARSE_NOT_OURS;
		ext = c->pos;
		if ((void *)(ext + 1) > c->end)
			return PARSE_BAD;
		len = (ext->hdrlen + 1) * 8;
		/* One pointer shape whatever the header: the verifier then
		 * prunes the walk's paths instead of multiplying them. */
		barrier_var(len);
		if (next == IPPROTO_FRAGMENT) {
			frag = c->pos;
			if ((void *)(frag + 1) > c->end)
				return PARSE_BAD;
			if (frag->frag_off & bpf_htons(IP6_OFFSET))
				return PARSE_NOT_OURS;
			unservable(why, XR_CNT_DROP_FRAGMENT);
			/* Zero from any conforming sender (RFC 8200), and
			 * then the generic length is the fragment's 8. */
			if (frag->reserved)
				return PARSE_DROP;
		} else if (i >= XR_IPV6_EXT_MAX || (next != IPPROTO_HOPOPTS &&
						    next != IPPROTO_ROUTING &&
						    next != IPPROTO_DSTOPTS)) {
			unservable(why, XR_CNT_DROP_EXT_HEADER);
		}
		next = ext->nexthdr;
		c->pos += len;
	}
	if (next != IPPROTO_TCP) {
		if (!ipv6_is_ext(next))
			return PARSE_NOT_OURS;
		unservable(why, XR_CNT_DROP_EXT_HEADER);
		return PARSE_DROP;
	}
	return 0;
}

struct l4_ports {
	__be16 source;
	__be16 dest;
};

/*
 * The destination port alone: all that a frame the engine cannot serve is
 * parsed for. A first fragment may end right after it.
 */
static __always_inline int parse_dest_port(struct cursor *c, __be16 *dest)
{
	struct l4_ports *ports = c->pos;

	if ((void *)(ports + 1) > c->end)
		return PARSE_BAD;
	*dest = ports->dest;
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
