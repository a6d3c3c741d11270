// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Log lines from typed fields (user/core/logfmt.c): numbers as numbers,
 * strings quoted and escaped where needed, in text and in JSON.
 */
#include <string.h>

#include "logfmt.h"
#include "test.h"

static char line[LOG_LINE_MAX];

static const struct log_field fields[] = {
	LOG_UINT("port", 10000),
	LOG_INT("err", -22),
	LOG_BOOL("ready", true),
	LOG_STR("iface", "eth0"),
	LOG_STR("reason", "'10.0.0.1/8' has \"host\" bits\tset\n"),
	LOG_STR("path", "C:\\x=1"),
	LOG_STR("empty", ""),
	LOG_STR("nul", NULL),
	LOG_STR("ctl", "a\x01"
		       "b\x7f"),
};

#define N (sizeof(fields) / sizeof(fields[0]))
#define TS "2026-12-04T20:00:00.000Z"

TEST(text_line)
{
	static const char want[] =
		"ts=" TS
		" level=info msg=serving port=10000 err=-22 ready=true "
		"iface=eth0 reason=\"'10.0.0.1/8' has \\\"host\\\" bits\\tset\\n\" "
		"path=\"C:\\\\x=1\" empty=\"\" nul=\"\" ctl=\"a\\u0001b\\u007f\"\n";
	size_t n = log_format(line, sizeof(line), false, TS, "info", "serving",
			      fields, N);

	CHECK_EQ(n, strlen(want));
	CHECK(!strcmp(line, want));
	if (strcmp(line, want))
		fprintf(stderr, "  got:  %s  want: %s", line, want);
}

TEST(json_line)
{
	static const char want[] =
		"{\"ts\":\"" TS "\",\"level\":\"info\",\"msg\":\"serving\","
		"\"port\":10000,\"err\":-22,\"ready\":true,\"iface\":\"eth0\","
		"\"reason\":\"'10.0.0.1/8' has \\\"host\\\" bits\\tset\\n\","
		"\"path\":\"C:\\\\x=1\",\"empty\":\"\",\"nul\":\"\","
		"\"ctl\":\"a\\u0001b\\u007f\"}\n";
	size_t n = log_format(line, sizeof(line), true, TS, "info", "serving",
			      fields, N);

	CHECK_EQ(n, strlen(want));
	CHECK(!strcmp(line, want));
	if (strcmp(line, want))
		fprintf(stderr, "  got:  %s  want: %s", line, want);
}

/* A line longer than the buffer is cut and still ends the line; a long
 * string is cut at LOG_STR_MAX. */
TEST(bounded)
{
	static char big[LOG_STR_MAX * 2];
	struct log_field f = LOG_STR("text", big);
	char small[64];
	size_t n;

	memset(big, 'a', sizeof(big) - 1);
	n = log_format(small, sizeof(small), true, TS, "debug", "libbpf", &f,
		       1);
	CHECK_EQ(n, sizeof(small) - 1);
	CHECK_EQ(small[n - 1], '\n');
	CHECK_EQ(small[n], 0);
	n = log_format(line, sizeof(line), false, TS, "debug", "libbpf", &f, 1);
	CHECK(strstr(line, "text=") &&
	      strlen(strstr(line, "text=")) == 5 + LOG_STR_MAX + 1);
	CHECK_EQ(line[n - 1], '\n');
}
