// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the configuration file parser (user/control/config.c): every
 * error with its line number and message, the URL check, the file reader,
 * and setting one target or rule.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cidr.h"
#include "config.h"
#include "control_test.h"
#include "test.h"

static int parse_cfg(const char *text, enum cfg_mode mode,
		     struct xr_config *cfg, struct cfg_error *err)
{
	return xr_config_parse(text, strlen(text), mode, cfg, err);
}

/* Parses text, which must fail at line `line` with message `msg`. */
#define CHECK_CFG_ERR(text, mode, want_line, want_msg)                    \
	do {                                                              \
		struct xr_config c_;                                      \
		struct cfg_error e_;                                      \
		int r_ = parse_cfg(text, mode, &c_, &e_);                 \
		CHECK_EQ(r_, -1);                                         \
		CHECK_EQ(e_.line, want_line);                             \
		CHECK_STR(e_.msg, want_msg);                              \
		CHECK_EQ(c_.n_rules, 0); /* freed and cleared on error */ \
		CHECK(c_.rules == NULL && c_.targets == NULL);            \
	} while (0)

/* The example of user/control/config.h, filled in. */
static const char example[] =
	"# xredir configuration\n"
	"default https://k8s.gcr.io\n"
	"\n"
	"target docker https://registry-1.docker.io\n"
	"target eu     https://eu.mirror.example/prefix 307   # comment\n"
	"target v6only http://[2001:db8::1]:8080/x 308\n"
	"   # an indented comment\n"
	"\t\n"
	"rule 10.0.0.0/8        docker\n"
	"rule 10.1.0.0/16       eu\n"
	"rule 10.1.2.3          eu\n"
	"rule 2001:db8::/32     v6only\n"
	"rule fd77::3/128       docker\n"
	"rule 0.0.0.0/0         default\n"
	"rule ::/0              eu";

TEST(config_example)
{
	const struct cfg_target *t;
	struct xr_config cfg;
	struct cfg_error err;
	char buf[64];

	REQUIRE(!parse_cfg(example, CFG_FULL, &cfg, &err));
	CHECK_EQ(err.line, 0);
	CHECK(cfg.has_default);
	CHECK_STR(cfg.deflt.name, "default");
	CHECK_STR(cfg.deflt.url, "https://k8s.gcr.io");
	CHECK_EQ(cfg.deflt.status, 302);
	CHECK_EQ(cfg.deflt.line, 2);
	REQUIRE(cfg.n_targets == 3);
	CHECK_STR(cfg.targets[0].name, "docker");
	CHECK_STR(cfg.targets[0].url, "https://registry-1.docker.io");
	CHECK_EQ(cfg.targets[0].status, 302);
	CHECK_EQ(cfg.targets[0].line, 4);
	CHECK_STR(cfg.targets[1].name, "eu");
	CHECK_STR(cfg.targets[1].url, "https://eu.mirror.example/prefix");
	CHECK_EQ(cfg.targets[1].status, 307);
	CHECK_EQ(cfg.targets[2].status, 308);
	CHECK_STR(cfg.targets[2].url, "http://[2001:db8::1]:8080/x");
	REQUIRE(cfg.n_rules == 7);
	xr_cidr_format(&cfg.rules[0].cidr, buf, sizeof(buf));
	CHECK_STR(buf, "10.0.0.0/8");
	CHECK_STR(cfg.rules[0].target, "docker");
	CHECK_EQ(cfg.rules[0].line, 9);
	xr_cidr_format(&cfg.rules[2].cidr, buf, sizeof(buf));
	CHECK_STR(buf, "10.1.2.3/32");
	xr_cidr_format(&cfg.rules[3].cidr, buf, sizeof(buf));
	CHECK_STR(buf, "2001:db8::/32");
	CHECK_STR(cfg.rules[3].target, "v6only");
	CHECK_STR(cfg.rules[5].target, "default");
	CHECK_EQ(cfg.rules[6].line, 15);
	t = xr_config_target(&cfg, "eu");
	CHECK(t && t->status == 307);
	t = xr_config_target(&cfg, "default");
	CHECK(t == &cfg.deflt);
	CHECK(xr_config_target(&cfg, "nosuch") == NULL);
	xr_config_free(&cfg);
	CHECK(cfg.targets == NULL && cfg.rules == NULL && !cfg.n_rules);

	/* Empty and comment-only files are valid and empty. */
	REQUIRE(!parse_cfg("", CFG_FULL, &cfg, &err));
	CHECK(!cfg.has_default && !cfg.n_targets && !cfg.n_rules);
	xr_config_free(&cfg);
	REQUIRE(!parse_cfg("# nothing\n\n   \n#rule 1.2.3.4 x\n", CFG_FULL,
			   &cfg, &err));
	CHECK(!cfg.n_rules);
	xr_config_free(&cfg);
}

TEST(config_crlf_and_whitespace)
{
	struct xr_config cfg;
	struct cfg_error err;
	char *crlf;
	size_t i, n = 0;

	/* The example with CRLF line endings parses the same. */
	crlf = malloc(sizeof(example) * 2);
	REQUIRE(crlf);
	for (i = 0; example[i]; i++) {
		if (example[i] == '\n')
			crlf[n++] = '\r';
		crlf[n++] = example[i];
	}
	crlf[n] = 0;
	REQUIRE(!parse_cfg(crlf, CFG_FULL, &cfg, &err));
	CHECK_EQ(cfg.n_targets, 3);
	CHECK_EQ(cfg.n_rules, 7);
	CHECK_STR(cfg.targets[1].url, "https://eu.mirror.example/prefix");
	CHECK_EQ(cfg.targets[1].status, 307);
	CHECK_STR(cfg.deflt.url, "https://k8s.gcr.io");
	CHECK_STR(cfg.rules[6].target, "eu");
	xr_config_free(&cfg);
	/* An error in a CRLF file still names its line. */
	crlf[0] = 'x'; /* "x xredir configuration" */
	CHECK_EQ(parse_cfg(crlf, CFG_FULL, &cfg, &err), -1);
	CHECK_EQ(err.line, 1);
	CHECK_STR(err.msg, "unknown directive 'x' (expected default, target, "
			   "rule, tls or vip)");
	free(crlf);

	/* Tabs, several spaces, no final newline, trailing spaces. */
	REQUIRE(!parse_cfg("\ttarget\ta\thttp://a.test\t301  \n"
			   "rule\t10.0.0.0/8 \t a  ",
			   CFG_FULL, &cfg, &err));
	CHECK_EQ(cfg.n_targets, 1);
	CHECK_EQ(cfg.targets[0].status, 301);
	CHECK_STR(cfg.rules[0].target, "a");
	CHECK_EQ(cfg.rules[0].line, 2);
	xr_config_free(&cfg);
	/* '#' starts a comment only as a word: in a URL it is an error, not
	 * a silent cut. */
	CHECK(parse_cfg("target a http://a.test#frag\n", CFG_FULL, &cfg, &err));
	CHECK(strstr(err.msg, "contains '#'") != NULL);
	REQUIRE(!parse_cfg("target a http://a.test # a comment\n", CFG_FULL,
			   &cfg, &err));
	CHECK_STR(cfg.targets[0].url, "http://a.test");
	xr_config_free(&cfg);
}

TEST(config_tls_lines)
{
	struct xr_config cfg;
	struct cfg_error err;

	REQUIRE(!parse_cfg("tls /etc/a.crt /etc/a.key\n"
			   "tls /etc/b.crt /etc/b.key # RSA\n",
			   CFG_FULL, &cfg, &err));
	CHECK_EQ(cfg.n_tls, 2);
	CHECK_STR(cfg.tls[1].cert, "/etc/b.crt");
	CHECK_STR(cfg.tls[1].key, "/etc/b.key");
	CHECK_EQ(cfg.tls[1].line, 2);
	xr_config_free(&cfg);
	CHECK_CFG_ERR("tls /etc/a.crt\n", CFG_FULL, 1,
		      "expected: tls CERT_FILE KEY_FILE");
	CHECK_CFG_ERR("\ntls a.crt /etc/a.key\n", CFG_FULL, 2,
		      "'a.crt': give an absolute path");
	CHECK_CFG_ERR("tls /etc/a.crt /etc/a.key\n", CFG_RULES_ONLY, 1,
		      "'tls' line in a rules file (only 'rule CIDR TARGET' "
		      "lines belong there)");
}

TEST(config_errors_directives)
{
	CHECK_CFG_ERR("default http://a.test\nfoo bar\n", CFG_FULL, 2,
		      "unknown directive 'foo' (expected default, target, "
		      "rule, tls or vip)");
	CHECK_CFG_ERR("\n\n\nRule 10.0.0.0/8 x\n", CFG_FULL, 4,
		      "unknown directive 'Rule' (expected default, target, "
		      "rule, tls or vip)");
	CHECK_CFG_ERR("target a http://a.test 302 extra\n", CFG_FULL, 1,
		      "expected: target NAME URL [STATUS]");
	CHECK_CFG_ERR("target a\n", CFG_FULL, 1,
		      "expected: target NAME URL [STATUS]");
	CHECK_CFG_ERR("default\n", CFG_FULL, 1,
		      "expected: default URL [STATUS]");
	CHECK_CFG_ERR("default http://a.test 302 x\n", CFG_FULL, 1,
		      "expected: default URL [STATUS]");
	CHECK_CFG_ERR("default http://a.test\ndefault http://b.test\n",
		      CFG_FULL, 2, "default already set at line 1");
	CHECK_CFG_ERR("target a http://a.test\nrule 10.0.0.0/8\n", CFG_FULL, 2,
		      "expected: rule CIDR TARGET");
	CHECK_CFG_ERR("target a http://a.test\nrule 10.0.0.0/8 a b\n", CFG_FULL,
		      2, "expected: rule CIDR TARGET");
	CHECK_CFG_ERR("rule 10.0.0.0/8 a b c d\n", CFG_FULL, 1,
		      "too many words");
	CHECK_CFG_ERR("target a b c d e f g h\n", CFG_FULL, 1,
		      "too many words");
}

TEST(config_errors_urls)
{
	CHECK_CFG_ERR("target a ftp://a.test\n", CFG_FULL, 1,
		      "target URL 'ftp://a.test' must start with http:// or "
		      "https://");
	CHECK_CFG_ERR(
		"default a.test\n", CFG_FULL, 1,
		"target URL 'a.test' must start with http:// or https://");
	CHECK_CFG_ERR("target a HTTPS://a.test\n", CFG_FULL, 1,
		      "target URL 'HTTPS://a.test' must start with http:// or "
		      "https://");
	CHECK_CFG_ERR(
		"\ntarget a https://a.test/x?y=1\n", CFG_FULL, 2,
		"target URL 'https://a.test/x?y=1' contains '?' at "
		"offset 16; a target is scheme://host[:port][/path-prefix]");
	CHECK_CFG_ERR("target a https://a.test/x\x01y\n", CFG_FULL, 1,
		      "target URL 'https://a.test/x?y' contains byte 0x01 at "
		      "offset 16, which may not appear in a Location header");
	CHECK_CFG_ERR("target a https://a.test/\x7f\n", CFG_FULL, 1,
		      "target URL 'https://a.test/?' contains byte 0x7f at "
		      "offset 15, which may not appear in a Location header");
	CHECK_CFG_ERR(
		"target a https://a.test/\xc3\xa9\n", CFG_FULL, 1,
		"target URL 'https://a.test/\xc3\xa9' contains byte 0xc3 "
		"at offset 15, which may not appear in a Location header");
	CHECK_CFG_ERR("target a https://a.test/<x>\n", CFG_FULL, 1,
		      "target URL 'https://a.test/<x>' contains '<' at offset "
		      "15; a target is scheme://host[:port][/path-prefix]");
	CHECK_CFG_ERR(
		"target a https://user@a.test\n", CFG_FULL, 1,
		"target URL 'https://user@a.test' has no valid "
		"host[:port] (a target is scheme://host[:port][/path-prefix], "
		"no user@)");
	CHECK_CFG_ERR(
		"target a https://a.test:0/\n", CFG_FULL, 1,
		"target URL 'https://a.test:0/' has no valid host[:port] "
		"(a target is scheme://host[:port][/path-prefix], no user@)");
	CHECK_CFG_ERR("target a https://a.test:65536\n", CFG_FULL, 1,
		      "target URL 'https://a.test:65536' has no valid "
		      "host[:port] (a target is "
		      "scheme://host[:port][/path-prefix], no user@)");
	CHECK_CFG_ERR(
		"target a https://a.test:\n", CFG_FULL, 1,
		"target URL 'https://a.test:' has no valid host[:port] "
		"(a target is scheme://host[:port][/path-prefix], no user@)");
	CHECK_CFG_ERR(
		"target a https://\n", CFG_FULL, 1,
		"target URL 'https://' has no valid host[:port] (a target "
		"is scheme://host[:port][/path-prefix], no user@)");

	/* Ports at the edges of the range are fine. */
	struct xr_config cfg;
	struct cfg_error err;

	REQUIRE(!parse_cfg("target a https://a.test:1\n"
			   "target b http://b.test:65535/p/\n",
			   CFG_FULL, &cfg, &err));
	CHECK_STR(cfg.targets[1].url, "http://b.test:65535/p/");
	xr_config_free(&cfg);
}

TEST(url_check)
{
	char why[160];

	CHECK(!xr_url_check("https://k8s.gcr.io", why, sizeof(why)));
	CHECK(!xr_url_check("http://10.0.0.1:5000/v", why, sizeof(why)));
	CHECK(!xr_url_check("http://[fd77::1]:5000", why, sizeof(why)));
	CHECK(!xr_url_check("https://a.test/%41", why, sizeof(why)));
	CHECK(xr_url_check("https://a.test/x#frag", why, sizeof(why)));
	CHECK_STR(why, "contains '#' at offset 16; a target is "
		       "scheme://host[:port][/path-prefix]");
	CHECK(xr_url_check("https://a.test/a b", why, sizeof(why)));
	CHECK_STR(why, "contains byte 0x20 at offset 16, which may not appear "
		       "in a Location header");
	CHECK(xr_url_check("https://a.test/\r\nSet-Cookie: x", why,
			   sizeof(why)));
	CHECK_STR(why, "contains byte 0x0d at offset 15, which may not appear "
		       "in a Location header");
	CHECK(xr_url_check("https://a.test/?", why, sizeof(why)));
	CHECK(xr_url_check("https://a.test/\"", why, sizeof(why)));
	CHECK(xr_url_check("javascript:alert(1)", why, sizeof(why)));
	CHECK_STR(why, "must start with http:// or https://");
	CHECK(xr_url_check("//a.test", why, sizeof(why)));
	CHECK(xr_url_check("https://[fd77::1", why, sizeof(why)));
	CHECK(xr_url_check("https://[]/", why, sizeof(why)));
	CHECK(xr_url_check("https://a.test:123456", why, sizeof(why)));

	/* 255 bytes is the limit. */
	char url[300];

	strcpy(url, "https://a.test/");
	memset(url + 15, 'p', 240);
	url[255] = 0;
	CHECK(!xr_url_check(url, why, sizeof(why)));
	url[255] = 'p';
	url[256] = 0;
	CHECK(xr_url_check(url, why, sizeof(why)));
	CHECK_STR(why, "is 256 bytes long; the limit is 255");
}

TEST(config_errors_status_names)
{
	static const char *const bad_status[] = {
		"200", "300", "304", "399", "0302", "302x", "-302", "3O2"
	};
	char text[200], msg[200];
	size_t i;

	for (i = 0; i < sizeof(bad_status) / sizeof(bad_status[0]); i++) {
		snprintf(text, sizeof(text), "# c\ntarget a http://a.test %s\n",
			 bad_status[i]);
		snprintf(msg, sizeof(msg),
			 "status '%s' must be 301, 302, 303, 307 or 308",
			 bad_status[i]);
		CHECK_CFG_ERR(text, CFG_FULL, 2, msg);
	}
	CHECK_CFG_ERR("default http://a.test 404\n", CFG_FULL, 1,
		      "status '404' must be 301, 302, 303, 307 or 308");

	static const char *const bad_names[] = {
		"-a",
		"_a",
		".a",
		"a/b",
		"a:b",
		"a@b",
		"default",
		"a23456789012345678901234567890123", /* 33 */
		"a2345678901234567890123456789012", /* 32 */
		"\xc3\xa9t\xc3\xa9",
	};
	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		snprintf(text, sizeof(text), "target %s http://a.test\n",
			 bad_names[i]);
		snprintf(msg, sizeof(msg),
			 "target name '%s' must be 1-31 of A-Z a-z 0-9 _ . - "
			 "starting with a letter or digit, not 'default'",
			 bad_names[i]);
		CHECK_CFG_ERR(text, CFG_FULL, 1, msg);
	}
	CHECK_CFG_ERR("target a http://a.test\n#\ntarget b http://b.test\n"
		      "target a http://c.test\n",
		      CFG_FULL, 4, "target 'a' already defined at line 1");

	/* Names that are fine: 31 bytes, digits first, all allowed bytes. */
	struct xr_config cfg;
	struct cfg_error err;

	REQUIRE(!parse_cfg(
		"target a234567890123456789012345678901 http://a.test\n"
		"target 9-_.Zz http://b.test\n"
		"rule 10.0.0.0/8 9-_.Zz\n",
		CFG_FULL, &cfg, &err));
	CHECK_EQ(cfg.n_targets, 2);
	xr_config_free(&cfg);

	CHECK(xr_name_ok("a"));
	CHECK(xr_name_ok("A.b-c_d"));
	CHECK(!xr_name_ok(""));
	CHECK(!xr_name_ok("a b"));
	CHECK(xr_name_ok("default")); /* the CLI's name for target 0 */
	uint16_t st = 0;

	CHECK(!xr_status_parse("308", &st));
	CHECK_EQ(st, 308);
	CHECK(!xr_status_parse("301", &st));
	CHECK_EQ(st, 301);
	CHECK(xr_status_parse("300", &st));
	CHECK(xr_status_parse("", &st));
	CHECK_EQ(st, 301);
}

TEST(config_errors_rules)
{
	CHECK_CFG_ERR("target a http://a.test\nrule 10.0.0.0/8 a\n"
		      "rule 10.1.0.0/16 a\nrule 10.0.0.0/8 a\n",
		      CFG_FULL, 4,
		      "duplicate rule for 10.0.0.0/8 (first at line 2)");
	/* the same prefix written differently is a duplicate too */
	CHECK_CFG_ERR("target a http://a.test\nrule fd00::/8 a\n"
		      "rule FD00:0::/8 a\n",
		      CFG_FULL, 3,
		      "duplicate rule for fd00::/8 (first at line 2)");
	CHECK_CFG_ERR("#\nrule 10.0.0.1 a\n"
		      "rule 10.0.0.1/32 a\n",
		      CFG_RULES_ONLY, 3,
		      "duplicate rule for 10.0.0.1/32 (first at line 2)");
	/* the same address, different lengths: not duplicates */
	struct xr_config cfg;
	struct cfg_error err;

	REQUIRE(!parse_cfg("rule 10.0.0.0/8 a\nrule 10.0.0.0/16 a\n"
			   "rule 10.0.0.0/32 a\nrule ::/0 a\nrule ::/128 a\n",
			   CFG_RULES_ONLY, &cfg, &err));
	CHECK_EQ(cfg.n_rules, 5);
	xr_config_free(&cfg);

	CHECK_CFG_ERR("target a http://a.test\n\nrule 10.0.0.0/8 b\n", CFG_FULL,
		      3, "unknown target 'b'");
	/* a rule before its target's line is fine */
	REQUIRE(!parse_cfg("rule 10.0.0.0/8 a\ntarget a http://a.test\n",
			   CFG_FULL, &cfg, &err));
	xr_config_free(&cfg);
	/* rule load files name targets that exist only in the maps */
	REQUIRE(!parse_cfg("rule 10.0.0.0/8 b\n", CFG_RULES_ONLY, &cfg, &err));
	xr_config_free(&cfg);

	CHECK_CFG_ERR("target a http://a.test\nrule 10.0.0.0/8 a\n"
		      "#\n#\n#\n#\nrule 10.1.2.3/16 a\n",
		      CFG_FULL, 7,
		      "'10.1.2.3/16' has host bits set below /16 (did you mean "
		      "10.1.0.0/16?)");
	CHECK_CFG_ERR("rule 10.0.0.0/33 a\n", CFG_RULES_ONLY, 1,
		      "'10.0.0.0/33': the prefix length must be 0..32");
	CHECK_CFG_ERR("rule example.com a\n", CFG_RULES_ONLY, 1,
		      "'example.com' is not an IP address or CIDR");
	CHECK_CFG_ERR("rule 10.0.0.0/8 -a\n", CFG_RULES_ONLY, 1,
		      "'-a' is not a valid target name");
	CHECK_CFG_ERR("rule 10.0.0.0/8 a\ntarget a http://a.test\n",
		      CFG_RULES_ONLY, 2,
		      "'target' line in a rules file (only 'rule CIDR TARGET' "
		      "lines belong there)");
	CHECK_CFG_ERR("default http://a.test\n", CFG_RULES_ONLY, 1,
		      "'default' line in a rules file (only 'rule CIDR TARGET' "
		      "lines belong there)");
	CHECK_CFG_ERR("bogus\n", CFG_RULES_ONLY, 1,
		      "'bogus' line in a rules file (only 'rule CIDR TARGET' "
		      "lines belong there)");
}

TEST(config_errors_bytes)
{
	struct xr_config cfg;
	struct cfg_error err;
	char *text;
	size_t n;

	/* 1024 bytes are a line, 1025 are too many. */
	text = malloc(4096);
	REQUIRE(text);
	n = (size_t)sprintf(text, "# first\nrule 10.0.0.0/8 a ");
	memset(text + n, ' ', 1024 - (n - 8));
	n = 8 + 1024;
	text[n++] = '\n';
	text[n] = 0;
	CHECK(!xr_config_parse(text, n, CFG_RULES_ONLY, &cfg, &err));
	CHECK_EQ(cfg.n_rules, 1);
	xr_config_free(&cfg);
	memmove(text + 9, text + 8, n - 8 + 1);
	text[8] = ' ';
	n++;
	CHECK_EQ(xr_config_parse(text, n, CFG_RULES_ONLY, &cfg, &err), -1);
	CHECK_EQ(err.line, 2);
	CHECK_STR(err.msg, "line longer than 1024 bytes");
	/* the same without a final newline */
	CHECK_EQ(xr_config_parse(text, n - 1, CFG_RULES_ONLY, &cfg, &err), -1);
	CHECK_EQ(err.line, 2);
	CHECK_STR(err.msg, "line longer than 1024 bytes");
	/* a long comment line is still a long line */
	memset(text, '#', 3000);
	text[3000] = '\n';
	CHECK_EQ(xr_config_parse(text, 3001, CFG_RULES_ONLY, &cfg, &err), -1);
	CHECK_EQ(err.line, 1);
	free(text);

	static const char nul[] = "rule 10.0.0.0/8 a\nrule 10.1.0.0/16 a\0b\n";

	CHECK_EQ(xr_config_parse(nul, sizeof(nul) - 1, CFG_RULES_ONLY, &cfg,
				 &err),
		 -1);
	CHECK_EQ(err.line, 2);
	CHECK_STR(err.msg, "NUL byte in line");
	static const char nul_comment[] = "# \0\n";

	CHECK_EQ(xr_config_parse(nul_comment, sizeof(nul_comment) - 1,
				 CFG_RULES_ONLY, &cfg, &err),
		 -1);
	CHECK_EQ(err.line, 1);
	CHECK_STR(err.msg, "NUL byte in line");
	/* Only len bytes are read: a buffer without a terminating NUL. */
	char exact[18];

	memcpy(exact, "rule 10.0.0.0/8 a", 17);
	exact[17] = 'X';
	CHECK(!xr_config_parse(exact, 17, CFG_RULES_ONLY, &cfg, &err));
	CHECK_STR(cfg.rules[0].target, "a");
	xr_config_free(&cfg);
}

TEST(config_first_error_wins)
{
	/* A file with several errors reports the first line's. */
	CHECK_CFG_ERR("target a http://a.test\nrule 10.0.0.0/8 a\n"
		      "rule 10.0.0.1/8 a\nfoo\n",
		      CFG_FULL, 3,
		      "'10.0.0.1/8' has host bits set below /8 (did you mean "
		      "10.0.0.0/8?)");
}

TEST(config_target_limit)
{
	struct xr_config cfg;
	struct cfg_error err;
	char *text = malloc(XR_MAX_TARGETS * 40);
	size_t n = 0;
	int i;

	REQUIRE(text);
	n += (size_t)sprintf(text + n, "default http://d.test\n");
	/* 255 named targets and the default fill the table */
	for (i = 1; i < XR_MAX_TARGETS; i++)
		n += (size_t)sprintf(text + n, "target t%d http://t%d.test\n",
				     i, i);
	REQUIRE(!xr_config_parse(text, n, CFG_FULL, &cfg, &err));
	CHECK_EQ(cfg.n_targets, XR_MAX_TARGETS - 1);
	xr_config_free(&cfg);
	n += (size_t)sprintf(text + n, "target one-more http://x.test\n");
	CHECK_EQ(xr_config_parse(text, n, CFG_FULL, &cfg, &err), -1);
	CHECK_EQ(err.line, XR_MAX_TARGETS + 1);
	CHECK_STR(err.msg, "more than 255 targets");
	free(text);
}

TEST(config_rule_limit)
{
	struct xr_config cfg;
	struct cfg_error err;
	size_t cap = (XR_MAX_RULES + 2) * 40, n = 0;
	char *text = malloc(cap);
	uint32_t i;

	REQUIRE(text);
	for (i = 0; i < XR_MAX_RULES; i++)
		n += (size_t)sprintf(text + n, "rule 10.%u.%u.0/24 a\n", i >> 8,
				     i & 255);
	/* 65536 IPv4 rules, plus IPv6 ones: fine */
	n += (size_t)sprintf(text + n, "rule fd00::/8 a\n");
	REQUIRE(!xr_config_parse(text, n, CFG_RULES_ONLY, &cfg, &err));
	CHECK_EQ(cfg.n_rules, XR_MAX_RULES + 1);
	xr_config_free(&cfg);
	n += (size_t)sprintf(text + n, "rule 11.0.0.0/8 a\n");
	CHECK_EQ(xr_config_parse(text, n, CFG_RULES_ONLY, &cfg, &err), -1);
	CHECK_EQ(err.line, XR_MAX_RULES + 2);
	CHECK_STR(err.msg, "more than 65536 IPv4 rules");
	free(text);
}

/* vip ADDR: --vip's addresses, each once, in file order, with lines. */
TEST(config_vip)
{
	struct xr_config cfg;
	struct cfg_error err;

	REQUIRE(!parse_cfg("default http://a.test\n"
			   "vip 203.0.113.10\n"
			   "# the anycast address, both families\n"
			   "vip   2001:db8::10   # a comment\n"
			   "rule 10.0.0.0/8 default\n"
			   "vip ANY\n",
			   CFG_FULL, &cfg, &err));
	CHECK_EQ(cfg.vips.n, 2);
	CHECK_EQ(cfg.vips.v[0].family, 4);
	CHECK_EQ(cfg.vips.v[0].addr[0], 203);
	CHECK_EQ(cfg.vips.v[0].addr[3], 10);
	CHECK_EQ(cfg.vips.v[0].origin, XR_VIP_FROM_CONFIG);
	CHECK_EQ(cfg.vip_lines[0], 2);
	CHECK_EQ(cfg.vips.v[1].family, 6);
	CHECK_EQ(cfg.vips.v[1].addr[15], 0x10);
	CHECK_EQ(cfg.vip_lines[1], 4);
	CHECK_EQ(cfg.vip_any_line, 6);
	CHECK_EQ(cfg.n_rules, 1);
	xr_config_free(&cfg);
	CHECK(cfg.vips.v == NULL && cfg.vip_lines == NULL);
	/* No vip line: none, and not "any". */
	REQUIRE(!parse_cfg("default http://a.test\n", CFG_FULL, &cfg, &err));
	CHECK_EQ(cfg.vips.n, 0);
	CHECK_EQ(cfg.vip_any_line, 0);
	xr_config_free(&cfg);

	CHECK_CFG_ERR("vip\n", CFG_FULL, 1, "expected: vip ADDR");
	CHECK_CFG_ERR("vip 10.0.0.1 10.0.0.2\n", CFG_FULL, 1,
		      "expected: vip ADDR");
	CHECK_CFG_ERR("vip 10.0.0.0/8\n", CFG_FULL, 1,
		      "'10.0.0.0/8': a service address is one address, no "
		      "prefix");
	CHECK_CFG_ERR("\nvip example.test\n", CFG_FULL, 2,
		      "'example.test' is not an IPv4 or IPv6 address (or "
		      "'any')");
	CHECK_CFG_ERR("vip 0.0.0.0\n", CFG_FULL, 1,
		      "'0.0.0.0' is not a unicast address: no client "
		      "connects to it");
	CHECK_CFG_ERR("vip ff02::1\n", CFG_FULL, 1,
		      "'ff02::1' is not a unicast address: no client "
		      "connects to it");
	CHECK_CFG_ERR("vip 10.0.0.1\nvip 2001:db8::1\nvip 10.0.0.1\n", CFG_FULL,
		      3, "vip 10.0.0.1 already set at line 1");
	/* The same address written another way is the same address. */
	CHECK_CFG_ERR("vip 2001:db8::1\nvip 2001:DB8:0::0:1\n", CFG_FULL, 2,
		      "vip 2001:DB8:0::0:1 already set at line 1");
	CHECK_CFG_ERR("vip any\nvip any\n", CFG_FULL, 2,
		      "vip any already set at line 1");
	/* Not in a rules file (xredirctl rule load). */
	CHECK_CFG_ERR("vip 10.0.0.1\n", CFG_RULES_ONLY, 1,
		      "'vip' line in a rules file (only 'rule CIDR TARGET' "
		      "lines belong there)");
}

/* More vip lines than both families' maps hold are refused. */
TEST(config_vip_limit)
{
	char *text = malloc(2 * XR_MAX_VIPS * 16 + 32), *p = text;
	struct xr_config cfg;
	struct cfg_error err;
	uint32_t i;

	REQUIRE(text);
	for (i = 0; i < 2 * XR_MAX_VIPS; i++)
		p += sprintf(p, "vip 10.%u.%u.1\n", i >> 8, i & 255);
	REQUIRE(!parse_cfg(text, CFG_FULL, &cfg, &err));
	CHECK_EQ(cfg.vips.n, 2 * XR_MAX_VIPS);
	xr_config_free(&cfg);
	sprintf(p, "vip 10.255.0.1\n");
	CHECK_EQ(parse_cfg(text, CFG_FULL, &cfg, &err), -1);
	CHECK_EQ(err.line, 2 * XR_MAX_VIPS + 1);
	CHECK_STR(err.msg, "more than 2048 vip lines");
	free(text);
}

TEST(config_load_file)
{
	char path[] = "/tmp/xredir-test-control.XXXXXX";
	struct xr_config cfg;
	struct cfg_error err;
	int fd = mkstemp(path);

	REQUIRE(fd >= 0);
	REQUIRE(write(fd, example, sizeof(example) - 1) ==
		(ssize_t)(sizeof(example) - 1));
	close(fd);
	CHECK(!xr_config_load(path, CFG_FULL, &cfg, &err));
	CHECK_EQ(cfg.n_rules, 7);
	xr_config_free(&cfg);
	CHECK_EQ(xr_config_load(path, CFG_RULES_ONLY, &cfg, &err), -1);
	CHECK_EQ(err.line, 2);
	unlink(path);
	CHECK_EQ(xr_config_load(path, CFG_FULL, &cfg, &err), -1);
	CHECK_EQ(err.line, 0);
	CHECK(strstr(err.msg, "cannot open /tmp/xredir-test-control.") &&
	      strstr(err.msg, "No such file or directory"));
}

TEST(read_file)
{
	char path[] = "/tmp/xredir-test-read.XXXXXX";
	char big[100000];
	size_t len = 1;
	char *buf;
	int fd = mkstemp(path);

	REQUIRE(fd >= 0);
	buf = xr_read_file(path, &len);
	REQUIRE(buf);
	CHECK_EQ(len, 0);
	CHECK_EQ(buf[0], 0);
	free(buf);
	/* Beyond the first buffer, a NUL inside kept. */
	memset(big, 'a', sizeof(big));
	big[7] = 0;
	REQUIRE(write(fd, big, sizeof(big)) == (ssize_t)sizeof(big));
	buf = xr_read_file(path, &len);
	REQUIRE(buf);
	CHECK_EQ(len, sizeof(big));
	CHECK_MEM(buf, big, sizeof(big));
	CHECK_EQ(buf[len], 0);
	free(buf);
	/* The limit: one byte less is read, XR_FILE_MAX is refused. */
	REQUIRE(!ftruncate(fd, XR_FILE_MAX - 1));
	buf = xr_read_file(path, &len);
	CHECK(buf && len == XR_FILE_MAX - 1);
	free(buf);
	REQUIRE(!ftruncate(fd, XR_FILE_MAX));
	errno = 0;
	CHECK(!xr_read_file(path, &len));
	CHECK_EQ(errno, EFBIG);
	close(fd);
	unlink(path);
	CHECK(!xr_read_file(path, &len));
	CHECK_EQ(errno, ENOENT);
	CHECK(!xr_read_file("/tmp", &len));
	CHECK_EQ(errno, EISDIR);
}

TEST(config_set_target_rule)
{
	struct xr_config cfg;
	struct cfg_error err;
	struct xr_cidr c;
	char buf[64];

	REQUIRE(!parse_cfg("target a http://a.test 301\nrule 10.0.0.0/8 a\n",
			   CFG_FULL, &cfg, &err));
	CHECK(!cfg.has_default);
	/* the default, added */
	CHECK(!xr_config_set_target(&cfg, "default", "https://d.test", 302));
	CHECK(cfg.has_default);
	CHECK_STR(cfg.deflt.url, "https://d.test");
	CHECK_STR(cfg.deflt.name, "default");
	CHECK_EQ(cfg.n_targets, 1);
	/* replaced */
	CHECK(!xr_config_set_target(&cfg, "default", "https://e.test", 308));
	CHECK_STR(cfg.deflt.url, "https://e.test");
	CHECK_EQ(cfg.deflt.status, 308);
	CHECK_EQ(cfg.n_targets, 1);
	/* an existing target replaced in place, a new one appended */
	CHECK(!xr_config_set_target(&cfg, "a", "https://a2.test", 307));
	CHECK_EQ(cfg.n_targets, 1);
	CHECK_STR(cfg.targets[0].url, "https://a2.test");
	CHECK_EQ(cfg.targets[0].status, 307);
	CHECK(!xr_config_set_target(&cfg, "rewrite", "https://r.test", 302));
	CHECK_EQ(cfg.n_targets, 2);
	CHECK(xr_config_target(&cfg, "rewrite") == &cfg.targets[1]);

	/* rules: a new prefix appended, the same prefix retargeted */
	REQUIRE(!xr_cidr_parse("10.77.0.3", &c, buf, sizeof(buf)));
	CHECK(!xr_config_set_rule(&cfg, &c, "rewrite"));
	CHECK_EQ(cfg.n_rules, 2);
	REQUIRE(!xr_cidr_parse("10.0.0.0/8", &c, buf, sizeof(buf)));
	CHECK(!xr_config_set_rule(&cfg, &c, "rewrite"));
	CHECK_EQ(cfg.n_rules, 2);
	CHECK_STR(cfg.rules[0].target, "rewrite");
	/* many more: the array grows */
	for (int i = 0; i < 1000; i++) {
		uint8_t a[16] = { 11, (uint8_t)(i >> 8), (uint8_t)i, 0 };

		c = make_cidr(4, a, 24);
		CHECK(!xr_config_set_rule(&cfg, &c, "a"));
	}
	CHECK_EQ(cfg.n_rules, 1002);
	xr_cidr_format(&cfg.rules[1001].cidr, buf, sizeof(buf));
	CHECK_STR(buf, "11.3.231.0/24");
	xr_config_free(&cfg);

	/* On an empty config (no file): what the daemon's flags do. */
	memset(&cfg, 0, sizeof(cfg));
	CHECK(!xr_config_set_target(&cfg, "default", "https://k8s.gcr.io",
				    302));
	CHECK(!xr_config_set_target(&cfg, "rewrite",
				    "https://registry-1.docker.io", 302));
	REQUIRE(!xr_cidr_parse("fd77::3", &c, buf, sizeof(buf)));
	CHECK(!xr_config_set_rule(&cfg, &c, "rewrite"));
	CHECK_EQ(cfg.n_rules, 1);
	CHECK_EQ(cfg.n_targets, 1);
	xr_config_free(&cfg);
}
