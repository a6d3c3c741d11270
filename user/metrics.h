/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The Prometheus text exposition of an instance's status and counters. */
#ifndef XREDIR_METRICS_H
#define XREDIR_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "rules.h"

/*
 * Writes /metrics into buf (NUL-terminated); returns its length, or the
 * size it needed if larger than len. local: responses of the kernel-socket
 * listener, by status slot.
 */
size_t metrics_render(const struct xr_maps *m, const uint64_t *local, char *buf,
		      size_t len);

#endif /* XREDIR_METRICS_H */
