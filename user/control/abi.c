// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>

#include "abi.h"
#include "xredir_shared.h"

int xr_abi_check(const void *ctl, size_t len, const char *pin_dir, char *why,
		 size_t why_len)
{
	const size_t at = offsetof(struct xr_ctl, abi_version);
	uint32_t pinned;

	if (len < at + sizeof(pinned)) {
		snprintf(why, why_len,
			 "the maps pinned at %s have no ABI version (their "
			 "control map holds %zu bytes); this xredirctl has "
			 "ABI version %u: restart xredird from this build, "
			 "which replaces them",
			 pin_dir, len, XR_ABI_VERSION);
		return -1;
	}
	memcpy(&pinned, (const char *)ctl + at, sizeof(pinned));
	if (pinned == XR_ABI_VERSION)
		return 0;
	snprintf(why, why_len,
		 "the maps pinned at %s have ABI version %u, this xredirctl "
		 "has ABI version %u: use the xredirctl of the xredird build "
		 "that made them, or restart xredird from this build, which "
		 "replaces them",
		 pin_dir, pinned, XR_ABI_VERSION);
	return -1;
}
