// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: the TCP engine, plain and TLS ports, driven by the
 * operations of engine_ops.h decoded from the input.
 */
#include "engine_ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	int steps = 0;

	fz_begin();
	while (f.n && steps++ < 256)
		fz_step(&f);
	fz_end();
	return 0;
}
