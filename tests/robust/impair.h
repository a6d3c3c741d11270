/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Shared between impair.bpf.c (tc programs) and impaird.c (the loader and
 * delay line). See impair.sh for what the tool does.
 */
#ifndef XREDIR_IMPAIR_H
#define XREDIR_IMPAIR_H

#include <linux/bpf.h>
#include <linux/types.h>

/* skb->mark of frames the tool itself sends on (clones, re-injected
 * frames): the client veth's egress program lets them pass untouched. */
#define IMP_MARK 0x1a9e7001u

enum imp_dir { IMP_C2S = 0, IMP_S2C = 1, IMP_DIRS = 2 };

/* A direction's random generator (imp_rng, seeded by the loader). */
struct imp_rng {
	struct bpf_spin_lock lock;
	__u64 s;
};

/*
 * Per direction, cumulative thresholds over a uniform 32-bit draw r (one
 * draw per eligible frame): r < loss: drop; r < dup: send twice;
 * r < reorder: hold back in the delay line; else pass. Values are
 * probabilities scaled by 2^32 (so 2^32 is 100%).
 */
struct imp_dir_cfg {
	__u64 loss;
	__u64 dup;
	__u64 reorder;
};

struct imp_cfg {
	__u32 veth_ifindex; /* the client veth */
	__u32 tap_ifindex; /* the delay line's tap, 0: no delay line */
	__u8 veth_mac[6]; /* tells the delay line's two directions apart */
	__u16 port; /* host order; 0: every IPv4/IPv6 frame, else TCP on it */
	__u8 proto; /* IPv4 protocol / IPv6 next header; 0: any */
	__u8 pad[7];
	struct imp_dir_cfg dir[IMP_DIRS];
};

/* Counters per direction (array map index = enum imp_dir). */
struct imp_stats {
	__u64 seen; /* eligible frames */
	__u64 dropped;
	__u64 duplicated;
	__u64 delayed; /* sent into the delay line */
	__u64 passed;
	__u64 reinjected; /* came back out of the delay line */
	__u64 redirect_err;
};

#endif /* XREDIR_IMPAIR_H */
