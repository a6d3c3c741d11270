// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the SYN-cookie secret file (user/control/secret.c): the
 * one accepted form, and a clear reason for everything else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control_test.h"
#include "secret.h"
#include "test.h"

static char why[200];

static int parse(const char *text, struct siphash_key *key)
{
	why[0] = 0;
	return xr_secret_parse(text, strlen(text), key, why, sizeof(why));
}

TEST(secret_hex_with_white_space)
{
	struct siphash_key key;

	REQUIRE(!parse("00112233445566778899aabbccddeeff\n", &key));
	CHECK_EQ(key.k0, 0x0011223344556677ull);
	CHECK_EQ(key.k1, 0x8899aabbccddeeffull);
	REQUIRE(!parse("  00112233445566778899AABBCCDDEEFF\r\n\n", &key));
	CHECK_EQ(key.k1, 0x8899aabbccddeeffull);
}

TEST(secret_refused_with_reason)
{
	struct siphash_key key = { 7, 7 };

	CHECK_EQ(parse("", &key), -1);
	CHECK_STR(why, "want 32 hex digits (e.g. from: openssl rand -hex 16), "
		       "found 0 characters");
	CHECK_EQ(parse("00112233445566778899aabbccddeef", &key), -1);
	CHECK(strstr(why, "found 31 characters") != NULL);
	CHECK_EQ(parse("00112233445566778899aabbccddeeff00", &key), -1);
	CHECK(strstr(why, "found 34 characters") != NULL);
	CHECK_EQ(parse("0011223344556677 899aabbccddeeff", &key), -1);
	CHECK_STR(why, "character 17 is not a hex digit");
	CHECK_EQ(parse("0x112233445566778899aabbccddeeff", &key), -1);
	CHECK_STR(why, "character 2 is not a hex digit");
	CHECK_EQ(parse("00000000000000000000000000000000", &key), -1);
	CHECK_STR(why, "an all-zero secret is no secret");
	/* A refused secret leaves the key as it was. */
	CHECK_EQ(key.k0, 7);
	CHECK_EQ(key.k1, 7);
}

TEST(secret_load_from_file)
{
	char path[] = "/tmp/xr-secret-XXXXXX";
	struct siphash_key key;
	int fd = mkstemp(path);

	REQUIRE(fd >= 0);
	REQUIRE(write(fd, "ffeeddccbbaa99887766554433221100\n", 33) == 33);
	close(fd);
	REQUIRE(!xr_secret_load(path, &key, why, sizeof(why)));
	CHECK_EQ(key.k0, 0xffeeddccbbaa9988ull);
	CHECK_EQ(key.k1, 0x7766554433221100ull);
	unlink(path);
	CHECK_EQ(xr_secret_load(path, &key, why, sizeof(why)), -1);
	CHECK(strstr(why, "cannot read /tmp/xr-secret-") != NULL);
	CHECK(strstr(why, ": No such file or directory") != NULL);
}
