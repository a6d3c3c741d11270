// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iface.h"

/* An interface ioctl on *ifr, whose name it sets; 0 or -errno. */
static int iface_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	if (ioctl(fd, req, ifr))
		err = -errno;
	close(fd);
	return err;
}

int xr_iface_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;
	int err;

	memset(&ifr, 0, sizeof(ifr));
	err = iface_ioctl(ifname, SIOCGIFHWADDR, &ifr);
	if (!err)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
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

int xr_iface_driver(const char *ifname, char *name, size_t len)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr;
	int err;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_data = (void *)&info;
	err = iface_ioctl(ifname, SIOCETHTOOL, &ifr);
	if (!err)
		snprintf(name, len, "%s", info.driver);
	return err;
}
