// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "secret.h"

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int xr_secret_parse(const char *buf, size_t len, struct siphash_key *key,
		    char *why, size_t why_len)
{
	uint64_t half[2] = { 0, 0 };
	size_t start = 0, end = len, i;

	while (start < end && is_space(buf[start]))
		start++;
	while (end > start && is_space(buf[end - 1]))
		end--;
	if (end - start != XR_SECRET_HEX) {
		snprintf(why, why_len,
			 "want %d hex digits (e.g. from: openssl rand -hex "
			 "%d), found %zu characters",
			 XR_SECRET_HEX, XR_SECRET_HEX / 2, end - start);
		return -1;
	}
	for (i = 0; i < XR_SECRET_HEX; i++) {
		int v = hex_value(buf[start + i]);

		if (v < 0) {
			snprintf(why, why_len,
				 "character %zu is not a hex digit", i + 1);
			return -1;
		}
		half[i / 16] = half[i / 16] << 4 | (uint64_t)v;
	}
	if (!half[0] && !half[1]) {
		snprintf(why, why_len, "an all-zero secret is no secret");
		return -1;
	}
	key->k0 = half[0];
	key->k1 = half[1];
	return 0;
}

int xr_secret_load(const char *path, struct siphash_key *key, char *why,
		   size_t why_len)
{
	size_t len = 0;
	char *buf = xr_read_file(path, &len);
	int ret;

	if (!buf) {
		snprintf(why, why_len, "cannot read %s: %s", path,
			 strerror(errno));
		return -1;
	}
	ret = xr_secret_parse(buf, len, key, why, why_len);
	/* The file's bytes are the secret: not left in freed memory. */
	explicit_bzero(buf, len);
	free(buf);
	return ret;
}
