/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The pinned maps' ABI version (xr_ctl.abi_version, XR_ABI_VERSION of the
 * daemon that made them): xredirctl works only on maps of its own build's
 * layout. The daemon does not check: it replaces stale maps at start.
 */
#ifndef XREDIR_ABI_H
#define XREDIR_ABI_H

#include <stddef.h>
#include <stdint.h>

/*
 * Checks a control map value of len bytes, as whichever build pinned it
 * (abi_version keeps its offset across versions), against this build.
 * Returns 0 if they match, else -1 with why naming both versions and
 * what to do.
 */
int xr_abi_check(const void *ctl, size_t len, const char *pin_dir, char *why,
		 size_t why_len);

#endif /* XREDIR_ABI_H */
