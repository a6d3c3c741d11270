/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the XDP program must know of the interface it serves: its MAC
 * (frames for another one are not ours) and its addresses (service
 * addresses by default).
 */
#ifndef XREDIR_IFACE_H
#define XREDIR_IFACE_H

#include <stddef.h>
#include <stdint.h>

#include "vip.h"

/* The interface's hardware address; 0 or -errno. */
int xr_iface_mac(const char *ifname, uint8_t mac[6]);
/*
 * Adds the interface's IPv4 and IPv6 addresses to *set with origin
 * XR_VIP_FROM_IFACE, link-local ones included (they are the node's too);
 * 0 or -errno.
 */
int xr_iface_addrs(const char *ifname, struct xr_vip_set *set);
/* The interface's driver ("veth", "mlx5_core"...), from ethtool; 0 or
 * -errno. */
int xr_iface_driver(const char *ifname, char *name, size_t len);

#endif /* XREDIR_IFACE_H */
