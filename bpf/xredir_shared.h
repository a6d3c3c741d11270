/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Definitions shared by the XDP program (bpf/xredir.bpf.c) and user space
 * (xredird, xredirctl): map layouts, metadata, counter indices.
 *
 * Everything here is ABI between a pinned map and whichever binary opens it,
 * so changes must keep sizes stable or bump XR_ABI_VERSION.
 */
#ifndef XREDIR_SHARED_H
#define XREDIR_SHARED_H

#include <linux/if_ether.h>
#include <linux/types.h>

#define XR_ABI_VERSION 12

#define XR_DEFAULT_PORT 10000
#define XR_DEFAULT_TLS_PORT 443

/* Pinned map names (also the file names under the pin directory). */
#define XR_MAP_RULES4_A "xr_rules4_a"
#define XR_MAP_RULES4_B "xr_rules4_b"
#define XR_MAP_RULES6_A "xr_rules6_a"
#define XR_MAP_RULES6_B "xr_rules6_b"
#define XR_MAP_CTL "xr_ctl"
#define XR_MAP_TARGETS "xr_targets"
#define XR_MAP_COUNTERS "xr_counters"
#define XR_MAP_STATUS "xr_status"
#define XR_MAP_STATS "xr_stats"
#define XR_MAP_VIP4 "xr_vip4"
#define XR_MAP_VIP6 "xr_vip6"

/* Rule and target capacity: bounded, sized for registry.k8s.io-like sets. */
#define XR_MAX_RULES 65536 /* per address family and per rule set */
#define XR_MAX_TARGETS 256
#define XR_TARGET_NAME_MAX 32
#define XR_TARGET_URL_MAX 256
/* Service addresses per family: the interface's and --vip's. */
#define XR_MAX_VIPS 1024

/* Index 0 of the target array is the default target. */
#define XR_TARGET_DEFAULT 0
/* Metadata value when the XDP program did not look the source up. */
#define XR_TARGET_NONE 0xffffffffu

/* LPM trie keys: prefix length in bits, then the address in network order. */
struct xr_lpm4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct xr_lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/*
 * Where a rule came from, for `xredirctl rule list` and status: its
 * maker in the top byte, a config file's line number below it.
 */
enum xr_rule_maker {
	XR_RULE_FROM_FLAG = 1, /* --match-ip */
	XR_RULE_FROM_CONFIG = 2, /* the --config file */
	XR_RULE_FROM_CTL = 3, /* xredirctl, since the daemon started */
};
#define XR_RULE_ORIGIN(maker, line) ((__u32)(maker) << 24 | ((line)&0xffffff))
#define XR_RULE_MAKER(origin) ((origin) >> 24)
#define XR_RULE_LINE(origin) ((origin)&0xffffff)

struct xr_rule_val {
	__u32 target;
	__u32 origin; /* XR_RULE_ORIGIN(); the XDP program ignores it */
};

/*
 * Service addresses (Katran's VIP maps, by exact address): only segments
 * to one of them are steered, unless xr_ctl.vip_any. The value says who
 * added it, for `xredirctl vip list`; the XDP program ignores it.
 */
struct xr_vip4_key {
	__u8 addr[4];
};

struct xr_vip6_key {
	__u8 addr[16];
};

enum xr_vip_origin {
	XR_VIP_FROM_IFACE = 1, /* the interface's own address at start */
	XR_VIP_FROM_FLAG = 2, /* --vip */
	XR_VIP_FROM_CTL = 3, /* xredirctl vip add */
	XR_VIP_FROM_CONFIG = 4, /* a vip line of the --config file */
};

struct xr_vip_val {
	__u32 origin; /* enum xr_vip_origin */
};

/*
 * The one-element control array. active_set selects which pair of LPM maps
 * the XDP program consults (0: *_a, 1: *_b); `rule load` fills the other pair
 * and flips it, so a packet sees the old rule set or the new one, never a mix.
 * targets_seq is a sequence lock over the target array: odd while a writer
 * is changing it, bumped to the next even value when done. The daemon
 * mmaps this map and refreshes its copy of the targets when it changes.
 * mac is the interface's address, written by the daemon at start: frames
 * for any other destination MAC (another host's on a promiscuous or
 * bridged NIC, broadcast, multicast) pass to the kernel. vip_any steers
 * every destination address, as before the VIP maps.
 */
struct xr_ctl {
	__u32 active_set;
	__u32 targets_seq;
	__u32 rules_gen; /* bumped on every rule change, for observers */
	__u32 abi_version;
	__u32 rules_count[2]; /* active set: IPv4, IPv6 */
	__u8 mac[6];
	__u8 vip_any;
	__u8 pad;
};

/* A redirect target: where matching clients are sent. */
struct xr_target {
	char name[XR_TARGET_NAME_MAX]; /* NUL-terminated; empty: unused slot */
	char url[XR_TARGET_URL_MAX]; /* scheme://host[:port][/prefix], no NUL needed */
	__u16 url_len;
	__u16 status; /* 301, 302, 303, 307 or 308 */
	/* Bumped by writers each time the slot is cleared or given another
	 * name, never reset: counts by target follow the target, not the
	 * slot (xr_worker_stats.target_gen). */
	__u32 gen;
};

/*
 * Metadata the XDP program puts in front of steered frames, so the
 * responder need not repeat the rule lookup. Only frames that carry TCP
 * payload are looked up; others have target == XR_TARGET_NONE.
 */
#define XR_META_MAGIC 0x78726d31u /* "xrm1" */

struct xr_meta {
	__u32 target;
	__u32 magic;
};

/*
 * Bare ACKs, and bare FINs that answer ours (closing.h), go to the worker
 * through a ring buffer per queue that does not wake it (--lazy-acks):
 * they wait for the worker's next pass (README, Design notes: what may
 * wait and how long).
 * The record is the frame's first bytes; a longer frame (IPv6 with
 * extension headers and TCP options) goes to the AF_XDP socket as before.
 */
#define XR_ACK_FRAME_MAX 128
#define XR_ACK_RING_BYTES (256 * 1024)

struct xr_ack_rec {
	__u64 at_ns; /* when it came (CLOCK_MONOTONIC) */
	__u32 len;
	__u8 frame[XR_ACK_FRAME_MAX];
};

/*
 * What the XDP program needs to answer a SYN as the engine would
 * (bpf/synack.h, --xdp-synack): one element, mmapped and written by the
 * daemon, which keeps counter in step with the wall clock. While on
 * is 0 (starting, draining, --xdp-synack off) every SYN goes to a worker.
 */
struct xr_synack_conf {
	__u64 secret[2]; /* the SYN-cookie secret (siphash_key k0, k1) */
	__u32 counter; /* cookie_counter() of the wall clock */
	__u32 live_mask; /* the live table's slots less one (bpf/live.h) */
	__u16 mss4, mss6; /* ours, from the MTU and frame size */
	__u16 window; /* the receive window the engine advertises */
	__u8 on;
	__u8 pad;
};

/* An EtherType that is a VLAN tag: 802.1Q (C-tag) or 802.1ad (S-tag). The
 * tag's TPID is sent back as it came. */
#define XR_ETH_IS_VLAN(type) ((type) == ETH_P_8021Q || (type) == ETH_P_8021AD)

/* The hop limit of what xredir sends (TTL, IPv6 hop limit). */
#define XR_TTL 64
/* The MSS a peer that sends no MSS option accepts (RFC 9293 3.7.1). */
#define XR_PEER_MSS(family) ((family) == 4 ? 536 : 1220)

/*
 * IPv6 extension headers (hop-by-hop, routing, destination options) that a
 * steered frame may carry: the XDP program steers no more than the engine's
 * frame parser (user/core/packet.c) skips.
 */
#define XR_IPV6_EXT_MAX 3

/*
 * Per-CPU counters of the XDP program. The drops are TCP to the service
 * port that neither the engine nor the kernel should serve (README, Design
 * notes); user/io/rules.c names them.
 */
enum xr_counter {
	XR_CNT_STEERED, /* redirected to an AF_XDP socket */
	XR_CNT_PASSED, /* not ours: handed to the kernel */
	XR_CNT_NO_SOCKET, /* ours, but no socket bound on that queue: passed */
	XR_CNT_MALFORMED, /* truncated or invalid headers: passed */
	XR_CNT_DROP_FRAGMENT, /* first IPv4/IPv6 fragment (or atomic) to us */
	XR_CNT_DROP_EXT_HEADER, /* IPv6 headers the engine does not parse */
	XR_CNT_DROP_QINQ, /* two VLAN tags */
	XR_CNT_PASS_FOREIGN_MAC, /* to the port, for another MAC: passed */
	XR_CNT_PASS_NOT_VIP, /* to the port, not a service address: passed */
	XR_CNT_LAZY_ACK, /* a bare ACK, handed over in the queue's ACK ring */
	XR_CNT_LAZY_FIN, /* a bare FIN answering ours, the same way */
	XR_CNT_SYNACK, /* a SYN answered here with the engine's SYN-ACK */
	XR_CNT_MAX,
};

/*
 * What the daemon tells the CLI (one mmapped element, written by xredird).
 * Not read by the XDP program; defined here because the object creates
 * and pins it.
 */
#define XR_STATUS_TEXT_MAX 256
#define XR_MAX_QUEUES 64

enum xr_reload_result {
	XR_RELOAD_NONE, /* no config file */
	XR_RELOAD_OK,
	XR_RELOAD_FAILED,
};

struct xr_status {
	__u32 pid; /* 0: not running */
	__u32 queues;
	__u64 started_unix;
	__u64 heartbeat_unix; /* refreshed every second while serving */
	__u16 port;
	__u8 xdp_mode; /* 1 native, 2 skb (libxdp's enum) */
	__u8 zerocopy;
	__u8 dispatcher;
	__u8 reload_result; /* enum xr_reload_result */
	__u8 xdp_synack; /* SYNs answered in XDP (--xdp-synack) */
	__u8 pad;
	__u32 reload_count;
	__u32 reload_failures;
	__u32 reload_line; /* line of the error, 0 if none */
	__u32 ready; /* attached, sockets bound, config loaded, not draining */
	__u64 reload_unix;
	char iface[16];
	char config_path[XR_STATUS_TEXT_MAX];
	char reload_error[XR_STATUS_TEXT_MAX];
	/* TLS: the port (0: none), certificate reloads and the last one's
	 * refusal, and the certificates in force, a line each. */
	__u16 tls_port;
	__u16 pad2;
	__u32 tls_reloads;
	__u32 tls_failures;
	__u32 ring_size; /* descriptors in each AF_XDP ring (--ring-size) */
	char tls_error[XR_STATUS_TEXT_MAX];
	char tls_certs[4 * XR_STATUS_TEXT_MAX];
};

/* One slot per worker (queue): responder counters, see user/core/stats.h. */
#define XR_WORKER_STATS_MAX 96
#define XR_LATENCY_BUCKETS 12 /* user/core/latency.h */

struct xr_worker_stats {
	__u64 v[XR_WORKER_STATS_MAX];
	__u64 target_requests[XR_MAX_TARGETS]; /* redirects by target */
	/* The xr_target.gen each count belongs to. */
	__u32 target_gen[XR_MAX_TARGETS];
	/* Per target slot, a sequence over its count and gen: odd while the
	 * worker writes them (user/io/target_count.h), so a reader never
	 * pairs one target's gen with another's count. */
	__u32 target_seq[XR_MAX_TARGETS];
	__u64 latency[XR_LATENCY_BUCKETS]; /* request durations, by bucket */
	__u64 latency_sum_ns;
};

#endif /* XREDIR_SHARED_H */
