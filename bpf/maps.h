/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Map definitions of the XDP program. Maps the control plane changes are
 * pinned by name under the per-interface pin directory that the loader sets
 * as the object's pin_root_path.
 */
#ifndef XREDIR_MAPS_H
#define XREDIR_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "closing.h"
#include "live.h"
#include "xredir_shared.h"

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XR_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xr_xsks SEC(".maps");

/* The daemon puts a ring buffer per queue here when bare ACKs may wait. */
struct xr_ack_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XR_ACK_RING_BYTES);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XR_MAX_QUEUES);
	__type(key, __u32);
	__array(values, struct xr_ack_ring);
} xr_acks SEC(".maps");

/* Tags of the connections xredird has sent its FIN on (closing.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XR_CLOSING_SLOTS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} xr_closing SEC(".maps");

/* Open connections per slot of their tags (live.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XR_LIVE_SLOTS_MIN); /* the daemon sizes it */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} xr_live SEC(".maps");

/* How SYNs are answered here (synack.h), written by the daemon. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xr_synack_conf);
} xr_synack SEC(".maps");

/* Room to read a SYN and write its answer in: more than the stack has. */
struct xr_synack_scratch {
	__u8 tcp[20 + 64 + 4]; /* a SYN's TCP header, and zeros for the
				 * option walk's masked reads */
	__u8 l3[20]; /* its IPv4 header */
	__u8 out[88]; /* the SYN-ACK */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xr_synack_scratch);
} xr_synack_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XR_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xr_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xr_ctl);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xr_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XR_MAX_TARGETS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xr_target);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xr_targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xr_status);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xr_status SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XR_MAX_QUEUES);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xr_worker_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xr_stats SEC(".maps");

#define XR_LPM_MAP(name, keytype)                     \
	struct {                                      \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);  \
		__uint(max_entries, XR_MAX_RULES);    \
		__uint(map_flags, BPF_F_NO_PREALLOC); \
		__type(key, keytype);                 \
		__type(value, struct xr_rule_val);    \
		__uint(pinning, LIBBPF_PIN_BY_NAME);  \
	} name SEC(".maps")

XR_LPM_MAP(xr_rules4_a, struct xr_lpm4_key);
XR_LPM_MAP(xr_rules4_b, struct xr_lpm4_key);
XR_LPM_MAP(xr_rules6_a, struct xr_lpm6_key);
XR_LPM_MAP(xr_rules6_b, struct xr_lpm6_key);

#define XR_VIP_MAP(name, keytype)                    \
	struct {                                     \
		__uint(type, BPF_MAP_TYPE_HASH);     \
		__uint(max_entries, XR_MAX_VIPS);    \
		__type(key, keytype);                \
		__type(value, struct xr_vip_val);    \
		__uint(pinning, LIBBPF_PIN_BY_NAME); \
	} name SEC(".maps")

XR_VIP_MAP(xr_vip4, struct xr_vip4_key);
XR_VIP_MAP(xr_vip6, struct xr_vip6_key);

#endif /* XREDIR_MAPS_H */
