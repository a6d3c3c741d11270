// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * json_str() (user/core/json.h), as xredirctl prints names, paths and
 * errors: always a valid JSON string, whatever the bytes.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "json_check.h"
#include "rng.h"
#include "test.h"

static char out[4096];

/* What json_str(s) prints, through a file standing in for stdout. */
static const char *printed(const char *s)
{
	FILE *f = tmpfile();
	int saved = dup(1);
	size_t n;

	if (!f || saved < 0)
		return "";
	fflush(stdout);
	dup2(fileno(f), 1);
	json_str(s);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	fclose(f);
	return out;
}

TEST(json_str_escapes)
{
	CHECK(!strcmp(printed("a\"b\\c\n\x01"),
		      "\"a\\\"b\\\\c\\u000a\\u0001\""));
	CHECK(!strcmp(printed("caf\xc3\xa9 \xe2\x82\xac"),
		      "\"caf\xc3\xa9 \xe2\x82\xac\""));
	CHECK(!strcmp(printed("a\xff\xc3"), "\"a\\u00ff\\u00c3\""));
	CHECK(!strcmp(printed("\xed\xa0\x80"), "\"\\u00ed\\u00a0\\u0080\""));
}

TEST(json_str_random_bytes_valid)
{
	char s[64];
	int round, bad = 0;
	size_t i, len;

	rng_seed(0x150);
	for (round = 0; round < 2000; round++) {
		len = rnd_below(sizeof(s));
		for (i = 0; i < len; i++)
			s[i] = (char)(1 + rnd_below(255));
		s[len] = 0;
		printed(s);
		bad += !utf8_valid(out) ||
		       json_string(out) != out + strlen(out);
	}
	CHECK_EQ(bad, 0);
}
