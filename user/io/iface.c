// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iface.h"

int xr_iface_mac(const char *ifname, uint8_t mac[6])
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;
	struct ifreq ifr;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

int xr_iface_addrs(const char *ifname, struct xr_vip_set *set)
{
	struct ifaddrs *all, *a;
	int err = 0;

	if (getifaddrs(&all))
		return -errno;
	for (a = all; a && !err; a = a->ifa_next) {
		struct xr_vip v = { .origin = XR_VIP_FROM_IFACE };

		if (!a->ifa_addr || strcmp(a->ifa_name, ifname))
			continue;
		if (a->ifa_addr->sa_family == AF_INET) {
			v.family = 4;
			memcpy(v.addr,
			       &((struct sockaddr_in *)a->ifa_addr)->sin_addr,
			       4);
		} else if (a->ifa_addr->sa_family == AF_INET6) {
			v.family = 6;
			memcpy(v.addr,
			       &((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr,
			       16);
		} else {
			continue;
		}
		if (xr_vip_set_add(set, &v) < 0)
			err = -ENOMEM;
	}
	freeifaddrs(all);
	return err;
}
