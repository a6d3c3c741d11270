// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "version.h"

const char xr_version[] = XR_VERSION;
const char xr_commit[] = XR_COMMIT;
