/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The daemon's state for systemd (Type=notify): sd_notify, a no-op
 * without $NOTIFY_SOCKET, so nothing changes outside systemd.
 */
#ifndef XREDIR_NOTIFY_H
#define XREDIR_NOTIFY_H

/* Serving: READY=1 (also ends a reload). */
void xr_notify_ready(const char *iface);
/* A SIGHUP reload starts; xr_notify_ready() ends it. */
void xr_notify_reloading(void);
/* The drain (or the stop) starts. */
void xr_notify_stopping(void);

#endif
