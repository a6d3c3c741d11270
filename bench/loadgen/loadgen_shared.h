/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Shared between loadgen.bpf.c and loadgen.c. */
#ifndef LOADGEN_SHARED_H
#define LOADGEN_SHARED_H

#include <linux/types.h>

#define LG_MAX_QUEUES 64

struct lg_cfg {
	__u16 port; /* the server's port (host order) */
	__u16 lo, hi; /* the generator's source ports, inclusive */
	__u16 pad;
};

enum {
	LG_CNT_REDIRECTED,
	LG_CNT_PASSED,
	LG_CNT_NO_SOCKET,
	LG_CNT_DROPPED,
	LG_CNT_MAX,
};

#endif /* LOADGEN_SHARED_H */
