// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Seeded link impairment for xredir's test topology: tc programs on the
 * client veth (there is no sch_netem on the test machines).
 *
 *   imp_egress   clsact egress of the client veth: client -> server
 *   imp_ingress  clsact ingress of the client veth: server -> client
 *                (xredird sends from AF_XDP, past the server veth's tc
 *                egress, so this direction is impaired where it arrives)
 *   imp_tap      clsact ingress of the delay line's tap device
 *
 * Each eligible frame takes one draw from a per-direction xorshift64*
 * generator whose state lives in a map, seeded from user space and stepped
 * under a spin lock: the same seed and the same frame sequence give the
 * same decisions (bpf_get_prandom_u32() would not). The draw picks one of
 * drop, duplicate, delay (reorder) or pass, by the cumulative thresholds in
 * imp_cfg.
 *
 * Delay: the kernel here has no sch_fq/etf for EDT, so a delayed frame is
 * redirected to a tap device whose reader (impaird) holds it for the delay
 * and writes it back; the frame then enters the tap's ingress, where
 * imp_tap sends it on: client -> server frames out of the client veth
 * (marked, so imp_egress lets them pass), server -> client frames up the
 * client's stack from the tap (pkt_type set to host). Server -> client
 * duplicates take the same way at once (a clone into the tap's ingress).
 * Nothing re-enters the client veth's receive path, so a capture there
 * shows each server frame once, as the server sent it, and each client
 * frame as the server receives it.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "impair.h"

#define PACKET_HOST 0
#define IPPROTO_ICMPV6_NUM 58
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct imp_cfg);
} imp_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IMP_DIRS);
	__type(key, __u32);
	__type(value, struct imp_rng);
} imp_rng SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IMP_DIRS);
	__type(key, __u32);
	__type(value, struct imp_stats);
} imp_stats SEC(".maps");

#define COUNT(st, field) __sync_fetch_and_add(&(st)->field, 1)

static __always_inline __u32 draw(__u32 dir)
{
	struct imp_rng *r = bpf_map_lookup_elem(&imp_rng, &dir);
	__u64 x;

	if (!r)
		return 0xffffffffu;
	bpf_spin_lock(&r->lock);
	x = r->s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	bpf_spin_unlock(&r->lock);
	return (__u32)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

/*
 * Whether the frame is subject to impairment: IPv4 or IPv6 (never ARP,
 * nor IPv6 neighbour discovery, so the link itself stays up); with a
 * protocol configured, only that one (ICMP, say, to test the tool with
 * ping on a link that also carries other traffic); with a port, only TCP
 * segments from or to it.
 */
static __always_inline bool eligible(struct __sk_buff *skb,
				     const struct imp_cfg *c)
{
	__u16 proto, ports[2];
	__u32 l4 = 0;
	__u8 b[2];

	if (bpf_skb_load_bytes(skb, 12, &proto, 2))
		return false;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)))
			return false;
		if (c->proto && ip.protocol != c->proto)
			return false;
		if (!c->port)
			return true;
		if (ip.protocol != IPPROTO_TCP ||
		    (ip.frag_off & bpf_htons(IP_OFFSET)))
			return false;
		l4 = ETH_HLEN + ip.ihl * 4u;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6)))
			return false;
		l4 = ETH_HLEN + sizeof(ip6);
		if (ip6.nexthdr == IPPROTO_ICMPV6_NUM) {
			/* 133-137: router/neighbour solicitation, adverts,
			 * redirect. */
			if (bpf_skb_load_bytes(skb, l4, b, 1))
				return false;
			if (b[0] >= 133 && b[0] <= 137)
				return false;
		}
		if (c->proto && ip6.nexthdr != c->proto)
			return false;
		if (!c->port)
			return true;
		if (ip6.nexthdr != IPPROTO_TCP)
			return false;
	} else {
		return false;
	}
	if (bpf_skb_load_bytes(skb, l4, ports, 4))
		return false;
	return ports[0] == bpf_htons(c->port) || ports[1] == bpf_htons(c->port);
}

enum verdict { V_PASS, V_DROP, V_DUP, V_DELAY };

static __always_inline enum verdict decide(const struct imp_cfg *c, __u32 dir)
{
	const struct imp_dir_cfg *d = &c->dir[dir & 1];
	__u64 r;

	if (!d->reorder)
		return V_PASS; /* nothing configured: no draw either */
	r = draw(dir);
	if (r < d->loss)
		return V_DROP;
	if (r < d->dup)
		return V_DUP;
	if (r < d->reorder)
		return V_DELAY;
	return V_PASS;
}

static __always_inline struct imp_cfg *get_cfg(void)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&imp_cfg, &k);
}

static __always_inline struct imp_stats *get_stats(__u32 dir)
{
	return bpf_map_lookup_elem(&imp_stats, &dir);
}

/* Client -> server, leaving the client veth. */
SEC("tc")
int imp_egress(struct __sk_buff *skb)
{
	struct imp_cfg *c = get_cfg();
	struct imp_stats *st = get_stats(IMP_C2S);
	long err;
	__u32 mark;

	if (skb->mark == IMP_MARK) {
		skb->mark = 0; /* our own clone or re-injected frame */
		return TC_ACT_OK;
	}
	if (!c || !st || !eligible(skb, c))
		return TC_ACT_OK;
	COUNT(st, seen);
	switch (decide(c, IMP_C2S)) {
	case V_DROP:
		/* STOLEN, not SHOT: the sender must believe it went out, as
		 * on a wire (SHOT makes dev_queue_xmit fail, and TCP or ping
		 * then just sends it again). */
		COUNT(st, dropped);
		return TC_ACT_STOLEN;
	case V_DUP:
		/* The copy carries our mark (it must not be impaired again);
		 * the original keeps its own. */
		mark = skb->mark;
		skb->mark = IMP_MARK;
		err = bpf_clone_redirect(skb, c->veth_ifindex, 0);
		skb->mark = mark;
		if (err)
			COUNT(st, redirect_err);
		else
			COUNT(st, duplicated);
		return TC_ACT_OK;
	case V_DELAY:
		if (!c->tap_ifindex)
			break;
		COUNT(st, delayed);
		return bpf_redirect(c->tap_ifindex, 0);
	default:
		break;
	}
	COUNT(st, passed);
	return TC_ACT_OK;
}

/* Server -> client, arriving on the client veth. */
SEC("tc")
int imp_ingress(struct __sk_buff *skb)
{
	struct imp_cfg *c = get_cfg();
	struct imp_stats *st = get_stats(IMP_S2C);
	long err;

	if (!c || !st || !eligible(skb, c))
		return TC_ACT_OK;
	COUNT(st, seen);
	switch (decide(c, IMP_S2C)) {
	case V_DROP:
		COUNT(st, dropped);
		return TC_ACT_SHOT;
	case V_DUP:
		if (!c->tap_ifindex)
			break;
		err = bpf_clone_redirect(skb, c->tap_ifindex, BPF_F_INGRESS);
		if (err)
			COUNT(st, redirect_err);
		else
			COUNT(st, duplicated);
		return TC_ACT_OK;
	case V_DELAY:
		if (!c->tap_ifindex)
			break;
		COUNT(st, delayed);
		return bpf_redirect(c->tap_ifindex, 0);
	default:
		break;
	}
	COUNT(st, passed);
	return TC_ACT_OK;
}

static __always_inline bool mac_eq(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] &&
	       a[4] == b[4] && a[5] == b[5];
}

/* Frames coming out of the delay line (or a server -> client clone). */
SEC("tc")
int imp_tap(struct __sk_buff *skb)
{
	struct imp_cfg *c = get_cfg();
	struct imp_stats *st;
	__u8 eth[12];

	if (!c || bpf_skb_load_bytes(skb, 0, eth, 12))
		return TC_ACT_SHOT;
	if (mac_eq(eth + 6, c->veth_mac)) {
		/* Client -> server: out of the client veth. */
		st = get_stats(IMP_C2S);
		if (st)
			COUNT(st, reinjected);
		skb->mark = IMP_MARK;
		return bpf_redirect(c->veth_ifindex, 0);
	}
	if (mac_eq(eth, c->veth_mac)) {
		/* Server -> client: up the stack from here. */
		st = get_stats(IMP_S2C);
		if (st)
			COUNT(st, reinjected);
		bpf_skb_change_type(skb, PACKET_HOST);
		return TC_ACT_OK;
	}
	/* The tap's own traffic (IPv6 MLD and the like): nowhere. */
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
