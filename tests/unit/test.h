/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A minimal test harness: TEST(name) defines a case, CHECK* record
 * failures without stopping the case, REQUIRE stops it. main() runs every
 * case registered in the file and exits non-zero if any check failed.
 */
#ifndef XREDIR_TEST_H
#define XREDIR_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(void);
};

#define TEST_MAX 256
static struct test_case test_cases[TEST_MAX];
static int test_count;
static int test_failures;
static int test_checks;
static const char *test_current;

#define TEST(name)                                                        \
	static void test_##name(void);                                    \
	__attribute__((constructor)) static void register_##name(void)    \
	{                                                                 \
		if (test_count < TEST_MAX)                                \
			test_cases[test_count++] =                        \
				(struct test_case){ #name, test_##name }; \
	}                                                                 \
	static void test_##name(void)

#define CHECK(cond)                                                       \
	do {                                                              \
		test_checks++;                                            \
		if (!(cond)) {                                            \
			test_failures++;                                  \
			fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n",  \
				__FILE__, __LINE__, test_current, #cond); \
		}                                                         \
	} while (0)

#define CHECK_EQ(a, b)                                                          \
	do {                                                                    \
		long long va_ = (long long)(a), vb_ = (long long)(b);           \
		test_checks++;                                                  \
		if (va_ != vb_) {                                               \
			test_failures++;                                        \
			fprintf(stderr,                                         \
				"%s:%d: %s: %s == %lld, expected %s == %lld\n", \
				__FILE__, __LINE__, test_current, #a, va_, #b,  \
				vb_);                                           \
		}                                                               \
	} while (0)

#define CHECK_MEM(a, b, n)                                                 \
	do {                                                               \
		test_checks++;                                             \
		if (memcmp((a), (b), (n))) {                               \
			test_failures++;                                   \
			fprintf(stderr, "%s:%d: %s: %s differs from %s\n", \
				__FILE__, __LINE__, test_current, #a, #b); \
		}                                                          \
	} while (0)

#define REQUIRE(cond)                                                      \
	do {                                                               \
		test_checks++;                                             \
		if (!(cond)) {                                             \
			test_failures++;                                   \
			fprintf(stderr, "%s:%d: %s: REQUIRE(%s) failed\n", \
				__FILE__, __LINE__, test_current, #cond);  \
			return;                                            \
		}                                                          \
	} while (0)

int main(int argc, char **argv)
{
	int i, failed_cases = 0;

	/* Line-buffered: a sanitizer exit must not swallow the results. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < test_count; i++) {
		int before = test_failures;

		if (argc > 1 && !strstr(test_cases[i].name, argv[1]))
			continue;
		test_current = test_cases[i].name;
		test_cases[i].fn();
		if (test_failures != before)
			failed_cases++;
		printf("%s %s\n", test_failures == before ? "ok  " : "FAIL",
		       test_cases[i].name);
	}
	printf("# %d cases, %d checks, %d failed checks\n", test_count,
	       test_checks, test_failures);
	return failed_cases ? 1 : 0;
}

#endif /* XREDIR_TEST_H */
