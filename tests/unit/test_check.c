// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of checking a config file without a daemon
 * (user/control/check.c): the verdict line and exit code of a valid, an
 * invalid and an unreadable file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "control_test.h"
#include "test.h"
#include "tls_test.h"

/* Writes text to a new temporary file; its name in path. */
static void temp_file(char *path, const char *text)
{
	int fd = mkstemp(path);

	REQUIRE(fd >= 0);
	REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

/* xr_config_check_file's exit code; its output line in out. */
static int check_file(const char *path, char *out, size_t size)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int ret;

	if (!f)
		return -1;
	ret = xr_config_check_file(path, f);
	fclose(f);
	snprintf(out, size, "%s", buf);
	free(buf);
	return ret;
}

TEST(check_buffer)
{
	static const char good[] = "default http://d.test\n"
				   "target a http://a.test 301\n"
				   "target b http://b.test\n"
				   "rule 10.0.0.0/8 a\n";
	static const char bad[] = "default http://d.test\n"
				  "# a comment\n"
				  "rule 10.0.0.0/8 nosuch\n";
	struct cfg_error err = { 0, "" };
	struct xr_config cfg;

	REQUIRE(!xr_config_check(good, sizeof(good) - 1, &cfg, &err));
	CHECK_EQ(cfg.n_targets, 2);
	CHECK_EQ(cfg.n_rules, 1);
	CHECK_STR(cfg.deflt.url, "http://d.test");
	xr_config_free(&cfg);
	CHECK_EQ(xr_config_check(bad, sizeof(bad) - 1, &cfg, &err), -1);
	CHECK_EQ(err.line, 3);
	CHECK_STR(err.msg, "unknown target 'nosuch'");
}

TEST(check_files)
{
	char good[] = "/tmp/xredir-test-check.XXXXXX";
	char nodef[] = "/tmp/xredir-test-check.XXXXXX";
	char bad[] = "/tmp/xredir-test-check.XXXXXX";
	char out[512], want[512];

	temp_file(good, "default http://d.test 307\n"
			"target a http://a.test\n"
			"rule 10.0.0.0/8 a\n"
			"rule 2001:db8::/32 a\n");
	temp_file(nodef, "target a http://a.test\n");
	temp_file(bad, "default http://d.test\n"
		       "target a ftp://a.test\n");
	CHECK_EQ(check_file(good, out, sizeof(out)), XR_CHECK_OK);
	snprintf(
		want, sizeof(want),
		"%s: ok (default http://d.test, 1 targets, 2 rules, 0 TLS pairs)\n",
		good);
	CHECK_STR(out, want);
	CHECK_EQ(check_file(nodef, out, sizeof(out)), XR_CHECK_OK);
	snprintf(
		want, sizeof(want),
		"%s: ok (default from the flags, 1 targets, 0 rules, 0 TLS pairs)\n",
		nodef);
	CHECK_STR(out, want);
	CHECK_EQ(check_file(bad, out, sizeof(out)), XR_CHECK_INVALID);
	snprintf(want, sizeof(want), "%s:2: target URL 'ftp://a.test'", bad);
	CHECK(!strncmp(out, want, strlen(want)));
	unlink(good);
	CHECK_EQ(check_file(good, out, sizeof(out)), XR_CHECK_UNREADABLE);
	snprintf(want, sizeof(want),
		 "%s: cannot read: No such file or directory\n", good);
	CHECK_STR(out, want);
	unlink(nodef);
	unlink(bad);
}

TEST(check_tls_pairs_loaded_with_their_line)
{
	struct cfg_error err = { 0, "" };
	struct test_pair ec, other;
	struct xr_config cfg;
	char text[1024];
	int n;

	tls_test_pair(&ec, false, "a.test");
	tls_test_pair(&other, false, "b.test");
	n = snprintf(text, sizeof(text), "tls %s %s\ntls %s %s\n", ec.cert,
		     ec.key, other.cert, other.key);
	REQUIRE(!xr_config_check(text, (size_t)n, &cfg, &err));
	CHECK_EQ(cfg.n_tls, 2);
	xr_config_free(&cfg);
	/* The second pair's key is the first's: refused on its line. */
	n = snprintf(text, sizeof(text), "tls %s %s\n\ntls %s %s\n", ec.cert,
		     ec.key, other.cert, ec.key);
	CHECK_EQ(xr_config_check(text, (size_t)n, &cfg, &err), -1);
	CHECK_EQ(err.line, 3);
	CHECK(strstr(err.msg, "does not match") != NULL);
}
