// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <time.h>
#include <systemd/sd-daemon.h>

#include "notify.h"

void xr_notify_ready(const char *iface)
{
	sd_notifyf(0, "READY=1\nSTATUS=serving %s", iface);
}

/* MONOTONIC_USEC= lets systemd 253+ (Type=notify-reload) match the reload. */
void xr_notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu",
		   (unsigned long long)ts.tv_sec * 1000000ULL +
			   (unsigned long long)ts.tv_nsec / 1000);
}

void xr_notify_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=draining");
}
