// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xredir XDP program: steer TCP segments for the service port into the
 * AF_XDP socket of the receive queue they arrived on, with the rule lookup
 * for the source address done here and handed over in XDP metadata. Only
 * segments for this host are ours: to the interface's MAC and to a service
 * address (xr_vip4/xr_vip6, or any with xr_ctl.vip_any); the rest (pods
 * routed through the node, other hosts' frames) is the kernel's.
 * TCP to the port that the engine cannot serve (fragments, unusual IPv6
 * extension headers, QinQ) is dropped rather than left to the kernel's
 * socket on the same port. Everything else passes to the kernel untouched.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <xdp/xdp_helpers.h>

#include "parsing.h"
#include "maps.h"
#include "synack.h"

/* Set by the loader before the program is loaded. */
const volatile __u16 xr_port = XR_DEFAULT_PORT;
const volatile __u16 xr_tls_port; /* 0: no TLS port */

static __always_inline int service_port(__u16 dest)
{
	return dest == bpf_htons(xr_port) ||
	       (xr_tls_port && dest == bpf_htons(xr_tls_port));
}

struct {
	__uint(priority, 50);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(xredir_xdp);

static __always_inline void count(enum xr_counter idx)
{
	__u32 key = idx;
	__u64 *val = bpf_map_lookup_elem(&xr_counters, &key);

	if (val)
		*val += 1;
}

static __always_inline int pass(enum xr_counter idx)
{
	count(idx);
	return XDP_PASS;
}

static __always_inline int drop(enum xr_counter idx)
{
	count(idx);
	return XDP_DROP;
}

static __always_inline __u32 lookup4(__u32 set, const __u8 *saddr)
{
	struct xr_lpm4_key key = { .prefixlen = 32 };
	struct xr_rule_val *val;

	__builtin_memcpy(key.addr, saddr, 4);
	if (set)
		val = bpf_map_lookup_elem(&xr_rules4_b, &key);
	else
		val = bpf_map_lookup_elem(&xr_rules4_a, &key);
	return val ? val->target : XR_TARGET_DEFAULT;
}

static __always_inline __u32 lookup6(__u32 set, const __u8 *saddr)
{
	struct xr_lpm6_key key = { .prefixlen = 128 };
	struct xr_rule_val *val;

	__builtin_memcpy(key.addr, saddr, 16);
	if (set)
		val = bpf_map_lookup_elem(&xr_rules6_b, &key);
	else
		val = bpf_map_lookup_elem(&xr_rules6_a, &key);
	return val ? val->target : XR_TARGET_DEFAULT;
}

/* What the steering decision needs from a frame. */
struct steer_info {
	__u16 family;
	__u8 saddr[16];
	__u8 daddr[16];
	__u8 dmac[6];
	__be16 sport, dport;
	int has_payload;
	__u8 tcp_flags;
	__u8 why; /* see unservable() */
	__u8 vlan; /* one tag */
	__u8 plain; /* no IPv4 options, no IPv6 extension headers */
	__u16 l3_off, l4_off;
};

static __always_inline int parse_frame(struct xdp_md *ctx,
				       struct steer_info *info)
{
	struct cursor c = { .pos = (void *)(long)ctx->data,
			    .end = (void *)(long)ctx->data_end };
	struct ethhdr *eth;
	struct ipv6hdr *ip6;
	struct tcphdr *tcp;
	struct iphdr *ip;
	void *l3_start;
	__be16 dest;
	__u16 proto;
	__u32 l3_len;
	int ret;

	ret = parse_eth(&c, &eth, &proto, &info->why);
	if (ret)
		return ret;
	__builtin_memcpy(info->dmac, eth->h_dest, 6);
	info->l3_off = c.pos - (void *)eth;
	info->vlan = info->l3_off == ETH_HLEN + sizeof(struct vlan_hdr);
	if (proto == ETH_P_IP) {
		ret = parse_ipv4(&c, &ip, &info->why);
		if (ret)
			return ret;
		info->family = 4;
		__builtin_memcpy(info->saddr, &ip->saddr, 4);
		__builtin_memcpy(info->daddr, &ip->daddr, 4);
		l3_len = bpf_ntohs(ip->tot_len);
		l3_start = (void *)ip;
	} else if (proto == ETH_P_IPV6) {
		ret = parse_ipv6(&c, &ip6, &info->why);
		if (ret && ret != PARSE_DROP)
			return ret;
		info->family = 6;
		__builtin_memcpy(info->saddr, &ip6->saddr, 16);
		__builtin_memcpy(info->daddr, &ip6->daddr, 16);
		l3_len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
		l3_start = (void *)ip6;
		if (ret)
			return ret; /* a chain that hides the port */
	} else {
		return PARSE_NOT_OURS;
	}
	/* Only what is addressed to the port is dropped; the kernel takes
	 * the rest, which other services on the host may need. */
	if (info->why) {
		ret = parse_dest_port(&c, &dest);
		if (ret)
			return ret;
		return service_port(dest) ? PARSE_DROP : PARSE_NOT_OURS;
	}
	ret = parse_tcp(&c, &tcp);
	if (ret)
		return ret;
	if (!service_port(tcp->dest))
		return PARSE_NOT_OURS;
	/* Payload follows the TCP header within the IP length (frames may be
	 * padded, so the frame length does not tell). */
	if (c.pos - l3_start > l3_len)
		return PARSE_BAD;
	info->has_payload = c.pos - l3_start < l3_len;
	info->l4_off = (void *)tcp - (void *)(long)ctx->data;
	info->plain = (void *)tcp - l3_start == (info->family == 4 ? 20 : 40);
	info->tcp_flags = ((__u8 *)tcp)[13];
	info->sport = tcp->source;
	info->dport = tcp->dest;
	return 0;
}

/*
 * Why a segment to the port is not this host's (an enum xr_counter), or 0:
 * another MAC (the reply would copy it as its source), or a destination
 * address that is no service address (a pod's, routed through the node).
 */
static __always_inline __u32 not_ours(const struct xr_ctl *ctl,
				      const struct steer_info *info)
{
	if (!eth_is_mine(info->dmac, ctl->mac))
		return XR_CNT_PASS_FOREIGN_MAC;
	if (ctl->vip_any)
		return 0;
	if (info->family == 4 ? !bpf_map_lookup_elem(&xr_vip4, info->daddr) :
				!bpf_map_lookup_elem(&xr_vip6, info->daddr))
		return XR_CNT_PASS_NOT_VIP;
	return 0;
}

/*
 * A bare SYN answered here (synack.h): the counter to count it with, or 0
 * for the worker to have it.
 */
static __always_inline __u32 to_synack(struct xdp_md *ctx,
				       const struct steer_info *info)
{
	struct syn_frame s = {};

	if ((info->tcp_flags & SYN_FLAGS_MASK) != SYN_ONLY ||
	    info->has_payload || !info->plain)
		return 0;
	s.family = (__u8)info->family;
	s.vlan = info->vlan;
	s.l3_off = info->l3_off;
	s.l4_off = info->l4_off;
	__builtin_memcpy(s.key, info->saddr, 16);
	__builtin_memcpy(s.key + COOKIE_KEY_DADDR, info->daddr, 16);
	__builtin_memcpy(s.key + COOKIE_KEY_SPORT, &info->sport, 2);
	__builtin_memcpy(s.key + COOKIE_KEY_DPORT, &info->dport, 2);
	s.key[COOKIE_KEY_FAMILY] = s.family;
	return synack(ctx, &s);
}

#define TCP_FLAGS_FIN 0x01
#define TCP_FLAGS_ACK 0x10
#define TCP_FLAGS_SYN_RST 0x06

/*
 * A bare ACK into the queue's ACK ring, if the daemon made one, or a bare
 * FIN that answers ours (closing.h): the counter to drop it with once it
 * is there, else 0. The ring does not wake the worker; a full ring, or a
 * frame too long for a record, takes the AF_XDP path.
 */
static __always_inline __u32 to_ack_ring(struct xdp_md *ctx, __u32 queue,
					 const struct steer_info *info)
{
	__u32 len = ctx->data_end - ctx->data, tag = 0, slot;
	struct xr_ack_rec *rec;
	__u64 *closing = NULL;
	void *ring;

	if (info->has_payload || !(info->tcp_flags & TCP_FLAGS_ACK) ||
	    (info->tcp_flags & TCP_FLAGS_SYN_RST))
		return 0;
	ring = bpf_map_lookup_elem(&xr_acks, &queue);
	if (!ring || !len || len > XR_ACK_FRAME_MAX)
		return 0;
	if (info->tcp_flags & TCP_FLAGS_FIN) {
		tag = xr_conn_tag(info->saddr, info->daddr, info->sport,
				  info->dport);
		slot = xr_closing_slot(tag);
		closing = bpf_map_lookup_elem(&xr_closing, &slot);
		if (!closing || *closing != tag)
			return 0;
	}
	rec = bpf_ringbuf_reserve(ring, sizeof(*rec), 0);
	if (!rec)
		return 0;
	/* len is 1..XR_ACK_FRAME_MAX here; the mask shows the verifier
	 * (clang would fold a plain one: hence the asm). */
	len -= 1;
	asm volatile("%0 &= %1" : "+r"(len) : "i"(XR_ACK_FRAME_MAX - 1));
	len += 1;
	if (bpf_xdp_load_bytes(ctx, 0, rec->frame, len)) {
		bpf_ringbuf_discard(rec, BPF_RB_NO_WAKEUP);
		return 0;
	}
	rec->len = len;
	rec->at_ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(rec, BPF_RB_NO_WAKEUP);
	if (!closing)
		return XR_CNT_LAZY_ACK;
	*closing = 0; /* a later connection on the 4-tuple starts clear */
	return XR_CNT_LAZY_FIN;
}

SEC("xdp")
int xredir_xdp(struct xdp_md *ctx)
{
	struct steer_info info = {};
	__u32 queue = ctx->rx_queue_index;
	__u32 key = 0, target, why;
	struct xr_meta *meta;
	struct xr_ctl *ctl;
	void *data;
	int ret;

	ret = parse_frame(ctx, &info);
	if (ret == PARSE_BAD)
		return pass(XR_CNT_MALFORMED);
	if (ret && ret != PARSE_DROP)
		return pass(XR_CNT_PASSED);
	ctl = bpf_map_lookup_elem(&xr_ctl, &key);
	if (!ctl)
		return pass(XR_CNT_PASSED);
	why = not_ours(ctl, &info);
	if (why)
		return pass(why);
	if (ret == PARSE_DROP)
		return drop(info.why);
	if (!bpf_map_lookup_elem(&xr_xsks, &queue))
		return pass(XR_CNT_NO_SOCKET);
	why = to_synack(ctx, &info);
	if (why == XR_CNT_SYNACK) {
		count(why);
		return XDP_TX;
	}
	if (why)
		return drop(why);
	why = to_ack_ring(ctx, queue, &info);
	if (why)
		return drop(why);

	/* Only segments that may carry a request need the target. */
	target = XR_TARGET_NONE;
	if (info.has_payload)
		target = info.family == 4 ?
				 lookup4(ctl->active_set, info.saddr) :
				 lookup6(ctl->active_set, info.saddr);

	/* Without metadata support the daemon looks the source up itself. */
	if (!bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta))) {
		meta = (void *)(long)ctx->data_meta;
		data = (void *)(long)ctx->data;
		if ((void *)(meta + 1) <= data) {
			meta->target = target;
			meta->magic = XR_META_MAGIC;
		}
	}

	count(XR_CNT_STEERED);
	return bpf_redirect_map(&xr_xsks, queue, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
