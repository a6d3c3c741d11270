// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Log lines from typed fields (user/core/logfmt.c): numbers as numbers,
 * strings quoted and escaped where needed, in text and in JSON; whatever
 * the bytes and the room, a line is valid UTF-8, and in JSON one whole
 * object (checked by a small RFC 8259 parser here).
 */
#include <string.h>

#include "json_check.h"
#include "logfmt.h"
#include "rng.h"
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

/* A line longer than the buffer is cut and still ends the line, its JSON
 * object closed and marked; a long string is cut at LOG_STR_MAX and
 * marked with "...". */
TEST(bounded)
{
	static char big[LOG_STR_MAX * 2];
	struct log_field f = LOG_STR("text", big);
	char small[64];
	size_t n;

	memset(big, 'a', sizeof(big) - 1);
	n = log_format(small, sizeof(small), true, TS, "debug", "libbpf", &f,
		       1);
	CHECK(n < sizeof(small));
	CHECK_EQ(small[n - 1], '\n');
	CHECK_EQ(small[n], 0);
	CHECK(json_line_valid(small));
	CHECK(strstr(small, ",\"truncated\":true}\n") != NULL);
	n = log_format(line, sizeof(line), false, TS, "debug", "libbpf", &f, 1);
	CHECK(strstr(line, "text=") &&
	      strlen(strstr(line, "text=")) == 5 + LOG_STR_MAX + 3 + 1);
	CHECK(strstr(line, "aaa...\n") != NULL);
	CHECK(!strstr(line, "truncated"));
	CHECK_EQ(line[n - 1], '\n');
	n = log_format(line, sizeof(line), true, TS, "debug", "libbpf", &f, 1);
	CHECK(json_line_valid(line));
	CHECK(strstr(line, "aaa...\"}\n") != NULL);
}

/* Bytes that are not well-formed UTF-8 are escaped as \u00XX, in both
 * formats (text quotes such a value); well-formed characters pass. */
TEST(invalid_utf8_escaped)
{
	static const struct log_field f[] = {
		LOG_STR("ok", "caf\xc3\xa9"),
		LOG_STR("lone", "a\xff"
				"b"),
		LOG_STR("cont", "\x80"),
		LOG_STR("overlong", "\xc0\xaf"),
		LOG_STR("surrogate", "\xed\xa0\x80"),
		LOG_STR("high", "\xf4\x90\x80\x80"),
		LOG_STR("short", "\xe2\x82"),
		LOG_STR("euro", "\xe2\x82\xac"),
	};
	static const char want_text[] =
		"ts=" TS " level=info msg=m ok=caf\xc3\xa9 lone=\"a\\u00ffb\" "
		"cont=\"\\u0080\" overlong=\"\\u00c0\\u00af\" "
		"surrogate=\"\\u00ed\\u00a0\\u0080\" "
		"high=\"\\u00f4\\u0090\\u0080\\u0080\" "
		"short=\"\\u00e2\\u0082\" euro=\xe2\x82\xac\n";
	size_t n;

	log_format(line, sizeof(line), false, TS, "info", "m", f, 8);
	CHECK(!strcmp(line, want_text));
	if (strcmp(line, want_text))
		fprintf(stderr, "  got:  %s  want: %s", line, want_text);
	CHECK(text_line_valid(line));
	n = log_format(line, sizeof(line), true, TS, "info", "m", f, 8);
	CHECK(json_line_valid(line));
	CHECK(strstr(line, "\"ok\":\"caf\xc3\xa9\",\"lone\":\"a\\u00ffb\"") !=
	      NULL);
	CHECK_EQ(line[n - 1], '\n');
}

/* A value cut at LOG_STR_MAX or at the line's end is cut between
 * characters, never inside one. */
TEST(cut_between_characters)
{
	static char big[LOG_STR_MAX + 8];
	struct log_field f = LOG_STR("v", big);
	char small[80];
	size_t i;

	/* "é" (2 bytes) over and over, after one 'x': the 1024th byte is
	 * the first half of an "é". */
	big[0] = 'x';
	for (i = 1; i + 1 < sizeof(big) - 1; i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[i] = 0;
	log_format(line, sizeof(line), true, TS, "info", "m", &f, 1);
	CHECK(json_line_valid(line));
	CHECK(strstr(line, "\xc3\xa9...\"}\n") != NULL);
	CHECK(!strstr(line, "\\u00c3"));
	for (i = 40; i < sizeof(small); i++) {
		log_format(small, i, true, TS, "info", "m", &f, 1);
		CHECK(json_line_valid(small));
		log_format(small, i, false, TS, "info", "m", &f, 1);
		CHECK(text_line_valid(small));
	}
}

/* Fuzz-like: random bytes (biased to quotes, backslashes, controls,
 * UTF-8 leads and continuations) in random fields, any buffer size: the
 * line is always valid, never longer than the buffer. */
TEST(random_bytes_always_valid)
{
	static const unsigned char pick[] = { '"',  '\\', '\n', 0x01, 0x7f,
					      '=',  ' ',  'a',	0x80, 0xbf,
					      0xc2, 0xc3, 0xe2, 0xed, 0xf0,
					      0xf4, 0xf5, 0xff, 0xa9, 0x82,
					      0xac };
	static char strs[6][LOG_STR_MAX + 64];
	struct log_field f[6];
	char buf[1400];
	int round, bad = 0;
	size_t i, j, len, n, nf;

	rng_seed(0x10f);
	for (round = 0; round < 3000; round++) {
		nf = rnd_below(7);
		for (i = 0; i < nf; i++) {
			len = rnd_below(8) ? rnd_below(40) :
					     rnd_below(sizeof(strs[i]) - 1);
			for (j = 0; j < len; j++)
				strs[i][j] =
					(char)(rnd_below(2) ?
						       pick[rnd_below(
							       sizeof(pick))] :
						       1 + rnd_below(255));
			strs[i][len] = 0;
			switch (rnd_below(5)) {
			case 0:
				f[i] = LOG_UINT("u", rnd());
				break;
			case 1:
				f[i] = LOG_INT("neg_i",
					       -(long long)rnd_below(1u << 31));
				break;
			case 2:
				f[i] = LOG_BOOL("b", rnd_below(2));
				break;
			default:
				f[i] = LOG_STR("s", strs[i]);
			}
		}
		len = 4 + rnd_below(sizeof(buf) - 4);
		n = log_format(buf, len, true, TS, "warn", strs[0], f, nf);
		bad += n >= len || !json_line_valid(buf);
		n = log_format(buf, len, false, TS, "warn", strs[0], f, nf);
		bad += n >= len || !text_line_valid(buf);
	}
	CHECK_EQ(bad, 0);
}

/* The smallest buffers: nothing written past them, JSON still an
 * object where there is room for one. */
TEST(tiny_buffers)
{
	struct log_field f = LOG_STR("s", "x");
	char buf[24];
	size_t len, n;

	for (len = 0; len < sizeof(buf); len++) {
		memset(buf, '#', sizeof(buf));
		n = log_format(buf, len, true, TS, "info", "m", &f, 1);
		CHECK(len ? n < len : n == 0);
		if (len >= 4)
			CHECK(json_line_valid(buf));
		CHECK(len == sizeof(buf) || buf[len] == '#');
		n = log_format(buf, len, false, TS, "info", "m", &f, 1);
		CHECK(len ? n < len : n == 0);
		if (len > 2 && n)
			CHECK(utf8_valid(buf));
	}
}
