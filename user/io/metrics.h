/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The Prometheus text exposition of an instance's status and counters. */
#ifndef XREDIR_METRICS_H
#define XREDIR_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "rules.h"

struct listener;

/*
 * Writes /metrics into buf (NUL-terminated); returns its length, or the
 * size it needed if larger than len. local: the kernel-socket listener,
 * whose counters are its own (not in the maps).
 */
size_t metrics_render(const struct xr_maps *m, const struct listener *local,
		      char *buf, size_t len);

#endif /* XREDIR_METRICS_H */
