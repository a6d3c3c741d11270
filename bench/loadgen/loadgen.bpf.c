// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The load generator's XDP programs.
 *
 * loadgen_xdp, on the CLIENT veth: IPv4 TCP segments from the server port
 * to one of the generator's source ports (lg_cfg: [lo, hi]) go to the
 * generator's AF_XDP socket of the receive queue they arrived on, so the
 * client kernel never sees (and never resets) the generator's
 * connections. Everything else passes: ARP, ICMP, and the kernel's own
 * connections (curl, wrk) whose ephemeral ports lie outside [lo, hi].
 *
 * loadgen_drop, on the SERVER veth, for the raw ceiling: counts and drops
 * every frame.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "loadgen_shared.h"

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, LG_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} lg_xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lg_cfg);
} lg_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LG_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} lg_counters SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&lg_counters, &idx);

	if (v)
		*v += 1;
}

SEC("xdp")
int loadgen_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct tcphdr *tcp;
	struct lg_cfg *cfg;
	__u32 key = 0, queue = ctx->rx_queue_index;
	__u16 dport;

	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		goto pass;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->ihl < 5 ||
	    ip->protocol != IPPROTO_TCP || (ip->frag_off & bpf_htons(0x3fff)))
		goto pass;
	tcp = (void *)ip + ip->ihl * 4;
	if ((void *)(tcp + 1) > end)
		goto pass;
	cfg = bpf_map_lookup_elem(&lg_cfg, &key);
	if (!cfg || tcp->source != bpf_htons(cfg->port))
		goto pass;
	dport = bpf_ntohs(tcp->dest);
	if (dport < cfg->lo || dport > cfg->hi)
		goto pass;
	if (!bpf_map_lookup_elem(&lg_xsks, &queue)) {
		count(LG_CNT_NO_SOCKET);
		goto pass;
	}
	count(LG_CNT_REDIRECTED);
	return bpf_redirect_map(&lg_xsks, queue, XDP_PASS);
pass:
	count(LG_CNT_PASSED);
	return XDP_PASS;
}

SEC("xdp")
int loadgen_drop(struct xdp_md *ctx)
{
	(void)ctx;
	count(LG_CNT_DROPPED);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
