// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "watch.h"

#define EVENTS \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ATTRIB)

/* Watches the directory holding path (the link or, resolved, the file). */
static int watch_dir_of(int fd, const char *path, int resolve)
{
	char buf[PATH_MAX], *real = NULL;

	if (resolve) {
		real = realpath(path, NULL);
		if (!real)
			return -errno;
		path = real;
	}
	snprintf(buf, sizeof(buf), "%s", path);
	free(real);
	/* Adding a watch twice returns the same one. */
	return inotify_add_watch(fd, dirname(buf), EVENTS) < 0 ? -errno : 0;
}

int config_watch_open(struct config_watch *w, const char *path)
{
	int err;

	w->path = path;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0)
		return -errno;
	err = watch_dir_of(w->fd, path, 0);
	if (err) {
		close(w->fd);
		w->fd = -1;
		return err;
	}
	watch_dir_of(w->fd, path, 1);
	return 0;
}

int config_watch_changed(struct config_watch *w)
{
	char buf[4096] __attribute__((aligned(8)));
	int changed = 0;

	/* Any change in those directories may be the file or a link to it;
	 * the caller reloads only if the content really changed. */
	while (read(w->fd, buf, sizeof(buf)) > 0)
		changed = 1;
	if (changed)
		watch_dir_of(w->fd, w->path, 1);
	return changed;
}

void config_watch_close(struct config_watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}
