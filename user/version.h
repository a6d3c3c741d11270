/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The build's version (git describe) and commit, set by the Makefile on
 * version.c alone, so a new commit rebuilds one file.
 */
#ifndef XREDIR_VERSION_H
#define XREDIR_VERSION_H

extern const char xr_version[];
extern const char xr_commit[];

#endif
