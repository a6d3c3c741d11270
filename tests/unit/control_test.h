/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the control plane's unit tests (test_cidr.c, test_config.c,
 * test_proxy.c, test_target_table.c, test_stage.c, test_check.c) share: a
 * check that two strings are equal, and a prefix built from its parts.
 */
#ifndef XREDIR_CONTROL_TEST_H
#define XREDIR_CONTROL_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cidr.h"
#include "test.h"

/* Records a failure with both strings when they differ. */
#define CHECK_STR(a, b)                                                       \
	do {                                                                  \
		const char *sa_ = (a), *sb_ = (b);                            \
		test_checks++;                                                \
		if (strcmp(sa_, sb_)) {                                       \
			test_failures++;                                      \
			fprintf(stderr,                                       \
				"%s:%d: %s: %s is \"%s\", expected \"%s\"\n", \
				__FILE__, __LINE__, test_current, #a, sa_,    \
				sb_);                                         \
		}                                                             \
	} while (0)

/* Clears bits [bits, max) of a. */
static inline void mask_bits(uint8_t *a, int bits, int max)
{
	int i;

	for (i = bits; i < max; i++)
		a[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
}

/* The prefix fam/a/len, its host bits cleared. */
static inline struct xr_cidr make_cidr(uint8_t fam, const uint8_t *a, int len)
{
	struct xr_cidr c;

	memset(&c, 0, sizeof(c));
	c.family = fam;
	c.prefixlen = (uint8_t)len;
	memcpy(c.addr, a, fam == 4 ? 4 : 16);
	mask_bits(c.addr, len, fam == 4 ? 32 : 128);
	return c;
}

#endif /* XREDIR_CONTROL_TEST_H */
