// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the pinned maps' ABI check (user/control/abi.c): a
 * control map of this build passes, one of another build's version or
 * size is refused with both versions named.
 */
#include <stdio.h>
#include <string.h>

#include "abi.h"
#include "test.h"
#include "xredir_shared.h"

static char why[512];

TEST(abi_same_version_passes)
{
	struct xr_ctl ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.abi_version = XR_ABI_VERSION;
	why[0] = 0;
	CHECK_EQ(xr_abi_check(&ctl, sizeof(ctl), "/p", why, sizeof(why)), 0);
	CHECK_EQ(why[0], 0);
}

TEST(abi_other_version_is_named)
{
	uint8_t raw[sizeof(struct xr_ctl) + 8];
	char want[128];
	uint32_t v = XR_ABI_VERSION - 1;

	/* Another build's control map, larger, the version at its offset. */
	memset(raw, 0xa5, sizeof(raw));
	memcpy(raw + offsetof(struct xr_ctl, abi_version), &v, sizeof(v));
	CHECK_EQ(xr_abi_check(raw, sizeof(raw), "/sys/fs/bpf/xredir/eth0", why,
			      sizeof(why)),
		 -1);
	snprintf(want, sizeof(want),
		 "the maps pinned at /sys/fs/bpf/xredir/eth0 have ABI version "
		 "%u, this xredirctl has ABI version %u",
		 v, XR_ABI_VERSION);
	CHECK(strstr(why, want) != NULL);
	CHECK(strstr(why, "restart xredird from this build") != NULL);
	v = XR_ABI_VERSION + 1;
	memcpy(raw + offsetof(struct xr_ctl, abi_version), &v, sizeof(v));
	CHECK_EQ(xr_abi_check(raw, 16, "/p", why, sizeof(why)), -1);
	CHECK(strstr(why, "have ABI version") != NULL);
}

TEST(abi_short_control_map)
{
	struct xr_ctl ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.abi_version = XR_ABI_VERSION;
	CHECK_EQ(xr_abi_check(&ctl, 8, "/p", why, sizeof(why)), -1);
	CHECK(strstr(why, "have no ABI version (their control map holds 8 "
			  "bytes)") != NULL);
	CHECK_EQ(xr_abi_check(&ctl, 0, "/p", why, sizeof(why)), -1);
}
