/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Locks only root can take. A lock that any local user can create first
 * (an abstract socket, a directory in a world-writable bpffs) lets that
 * user stop the daemon or every change; these refuse such places.
 */
#ifndef XREDIR_LOCKFILE_H
#define XREDIR_LOCKFILE_H

#include <stddef.h>
#include <sys/types.h>

/* Where the per-interface locks live (shared by `ip netns exec`). */
#define XR_RUN_DIR "/run/xredir"

/*
 * Whether path is a real directory (not a symlink) owned by root (or by
 * us) and writable by no one else. Returns 0, or -errno with why filled.
 */
int xr_dir_trusted(const char *path, char *why, size_t len);

/* Both the pin directory and its parent ("<bpffs>/xredir") pass that:
 * a fresh bpffs is world-writable, so anyone could have made them. */
int xr_pin_dir_trusted(const char *pin_dir, char *why, size_t len);

/*
 * One daemon per interface and network namespace, whatever bpffs it uses:
 * an flock on XR_RUN_DIR/iface-<netns inode>-<ifname>.lock, which holds
 * the holder's pid. Returns the fd to keep open while serving, or -errno:
 * -EBUSY when another process holds it (*holder its pid, 0 if unknown).
 * path receives the lock file's name; why says what went wrong.
 */
int xr_iface_lock(const char *ifname, char *path, size_t path_len,
		  pid_t *holder, char *why, size_t why_len);

#endif /* XREDIR_LOCKFILE_H */
