/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Watching the config file for changes. Directories are watched, not the
 * file: editors replace files by rename, and a Kubernetes ConfigMap volume
 * swaps a `..data` symlink, so the file's own inode may never change. Both
 * the directory named in the path and the directory the path resolves to
 * (through symlinks) are watched, the latter re-resolved after each event.
 */
#ifndef XREDIR_WATCH_H
#define XREDIR_WATCH_H

struct config_watch {
	int fd; /* inotify, non-blocking; -1 when not watching */
	const char *path;
};

int config_watch_open(struct config_watch *w, const char *path);
/* Drains pending events; returns 1 if any may concern the file. */
int config_watch_changed(struct config_watch *w);
void config_watch_close(struct config_watch *w);

#endif /* XREDIR_WATCH_H */
