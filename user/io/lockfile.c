// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lockfile.h"

/* Owned by root (or us), with none of the deny bits for anyone else: no
 * one else can have made it, swapped it or its entries, or (a file, which
 * flock needs only to open) hold a lock on it. */
static int owner_check(const struct stat *st, const char *path, mode_t deny,
		       char *why, size_t len)
{
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		snprintf(why, len, "%s is owned by uid %u, not root", path,
			 (unsigned)st->st_uid);
		return -EPERM;
	}
	if (st->st_mode & deny) {
		snprintf(why, len, "%s is open to others (mode %03o)", path,
			 (unsigned)(st->st_mode & 0777));
		return -EPERM;
	}
	return 0;
}

int xr_dir_trusted(const char *path, char *why, size_t len)
{
	struct stat st;

	if (lstat(path, &st)) {
		int err = -errno;

		snprintf(why, len, "%s: %s", path, strerror(-err));
		return err;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, len, "%s is not a directory", path);
		return -ENOTDIR;
	}
	return owner_check(&st, path, S_IWGRP | S_IWOTH, why, len);
}

int xr_pin_dir_trusted(const char *pin_dir, char *why, size_t len)
{
	char parent[PATH_MAX];
	char *slash;
	int err = xr_dir_trusted(pin_dir, why, len);

	if (err)
		return err;
	snprintf(parent, sizeof(parent), "%s", pin_dir);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return 0;
	*slash = 0;
	return xr_dir_trusted(parent, why, len);
}

/* The pid the holder wrote, or 0 if it has not yet (or is unreadable). */
static pid_t read_holder(int fd)
{
	char buf[24];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = 0;
	pid = strtol(buf, NULL, 10);
	return pid > 0 ? (pid_t)pid : 0;
}

int xr_iface_lock(const char *ifname, char *path, size_t path_len,
		  pid_t *holder, char *why, size_t why_len)
{
	struct stat ns, st;
	char pid[24];
	int fd, err, n;

	*holder = 0;
	/* Interface names are per network namespace: its inode tells two
	 * namespaces' same-named interfaces apart. */
	if (stat("/proc/self/ns/net", &ns)) {
		err = -errno;
		snprintf(why, why_len, "/proc/self/ns/net: %s", strerror(-err));
		return err;
	}
	n = snprintf(path, path_len, "%s/iface-%lu-%s.lock", XR_RUN_DIR,
		     (unsigned long)ns.st_ino, ifname);
	if (n < 0 || (size_t)n >= path_len) {
		snprintf(why, why_len, "lock file name too long");
		return -ENAMETOOLONG;
	}
	if (mkdir(XR_RUN_DIR, 0755) && errno != EEXIST) {
		err = -errno;
		snprintf(why, why_len, "cannot create %s: %s", XR_RUN_DIR,
			 strerror(-err));
		return err;
	}
	err = xr_dir_trusted(XR_RUN_DIR, why, why_len);
	if (err)
		return err;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		err = -errno;
		snprintf(why, why_len, "cannot open %s: %s", path,
			 strerror(-err));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		snprintf(why, why_len, "%s: %s", path, strerror(-err));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "%s is not a regular file", path);
		err = -EINVAL;
		goto fail;
	}
	err = owner_check(&st, path, S_IRWXG | S_IRWXO, why, why_len);
	if (err)
		goto fail;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (err == -EBUSY)
			*holder = read_holder(fd);
		snprintf(why, why_len, "%s: %s", path,
			 err == -EBUSY ? "held by another process" :
					 strerror(-err));
		goto fail;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, pid, (size_t)n, 0) != n) {
		err = errno ? -errno : -EIO;
		snprintf(why, why_len, "cannot write %s: %s", path,
			 strerror(-err));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}
