// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the control plane's pure code: prefixes (user/control/cidr.c:
 * parsing, printing, matching and the longest-prefix table, the latter
 * checked against a brute-force reference over random nested prefixes),
 * the configuration file parser (user/control/config.c: every error with its line
 * number and message), and the client address behind trusted proxies
 * (user/control/proxy.c, with requests built by the real HTTP parser), and the
 * target array's sequence lock on an in-memory copy of the pinned maps
 * (user/control/target_table.c, targets.c: a writer that died half-way),
 * and the staging of a configuration before it is applied (user/control/stage.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stage.h"
#include "cidr.h"
#include "config.h"
#include "http.h"
#include "proxy.h"
#include "rng.h"
#include "target_table.h"
#include "targets.h"
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

/* ---- prefixes ---- */

/* Parses s, which must be valid, and returns its canonical text. */
static const char *canon(const char *s)
{
	static char out[256];
	struct xr_cidr c;
	char err[200];

	if (xr_cidr_parse(s, &c, err, sizeof(err))) {
		snprintf(out, sizeof(out), "ERROR: %s", err);
		return out;
	}
	xr_cidr_format(&c, out, sizeof(out));
	return out;
}

/* Parses s, which must be invalid, and returns the message. */
static const char *parse_err(const char *s)
{
	static char err[200];
	struct xr_cidr c;

	memset(&c, 0xa5, sizeof(c));
	strcpy(err, "(no message)");
	if (!xr_cidr_parse(s, &c, err, sizeof(err)))
		return "(accepted)";
	return err;
}

TEST(cidr_parse_valid)
{
	struct xr_cidr c;
	char err[200];
	static const uint8_t v6net[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	CHECK_STR(canon("10.0.0.0/8"), "10.0.0.0/8");
	CHECK_STR(canon("10.1.2.3"), "10.1.2.3/32");
	CHECK_STR(canon("10.1.2.3/32"), "10.1.2.3/32");
	CHECK_STR(canon("0.0.0.0/0"), "0.0.0.0/0");
	CHECK_STR(canon("255.255.255.255"), "255.255.255.255/32");
	CHECK_STR(canon("192.168.128.0/17"), "192.168.128.0/17");
	CHECK_STR(canon("::/0"), "::/0");
	CHECK_STR(canon("fd00::1"), "fd00::1/128");
	CHECK_STR(canon("fd00::1/128"), "fd00::1/128");
	CHECK_STR(canon("2001:0db8:0000::/32"), "2001:db8::/32");
	CHECK_STR(canon("2001:DB8::/32"), "2001:db8::/32");
	CHECK_STR(canon("2001:db8:0:0:8000::/65"), "2001:db8:0:0:8000::/65");
	CHECK_STR(canon("::ffff:10.0.0.0/104"), "::ffff:10.0.0.0/104");

	REQUIRE(!xr_cidr_parse("10.20.0.0/16", &c, err, sizeof(err)));
	CHECK_EQ(c.family, 4);
	CHECK_EQ(c.prefixlen, 16);
	CHECK_EQ(c.addr[0], 10);
	CHECK_EQ(c.addr[1], 20);
	for (int i = 2; i < 16; i++)
		CHECK_EQ(c.addr[i], 0);
	REQUIRE(!xr_cidr_parse("2001:db8::/32", &c, err, sizeof(err)));
	CHECK_EQ(c.family, 6);
	CHECK_EQ(c.prefixlen, 32);
	CHECK_MEM(c.addr, v6net, 16);
	REQUIRE(!xr_cidr_parse("1.2.3.4", &c, err, sizeof(err)));
	CHECK_EQ(c.prefixlen, 32);
	REQUIRE(!xr_cidr_parse("::1", &c, err, sizeof(err)));
	CHECK_EQ(c.prefixlen, 128);
}

TEST(cidr_parse_host_bits)
{
	CHECK_STR(parse_err("10.0.0.1/8"),
		  "'10.0.0.1/8' has host bits set below /8 (did you mean "
		  "10.0.0.0/8?)");
	CHECK_STR(parse_err("192.168.1.77/24"),
		  "'192.168.1.77/24' has host bits set below /24 (did you "
		  "mean 192.168.1.0/24?)");
	CHECK_STR(parse_err("10.0.0.1/0"),
		  "'10.0.0.1/0' has host bits set below /0 (did you mean "
		  "0.0.0.0/0?)");
	CHECK_STR(parse_err("10.0.0.3/31"),
		  "'10.0.0.3/31' has host bits set below /31 (did you mean "
		  "10.0.0.2/31?)");
	CHECK_STR(parse_err("2001:db8::1/64"),
		  "'2001:db8::1/64' has host bits set below /64 (did you mean "
		  "2001:db8::/64?)");
	CHECK_STR(parse_err("fd00::1/127"),
		  "'fd00::1/127' has host bits set below /127 (did you mean "
		  "fd00::/127?)");
	CHECK_STR(parse_err("::1/0"),
		  "'::1/0' has host bits set below /0 (did you mean ::/0?)");
}

TEST(cidr_parse_bad_prefix)
{
	static const char *const v4[] = {
		"10.0.0.0/33",	"10.0.0.0/-1",
		"10.0.0.0/x",	"10.0.0.0/",
		"10.0.0.0//8",	"10.0.0.0/8x",
		"10.0.0.0/ 8",	"10.0.0.0/+8",
		"10.0.0.0/8/8", "10.0.0.0/99999999999999999999"
	};
	static const char *const v6[] = { "fd00::/129", "fd00::/-1",
					  "fd00::/x",	"fd00::/",
					  "fd00:://64", "fd00::/1000" };
	char want[200];
	size_t i;

	for (i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		snprintf(want, sizeof(want),
			 "'%s': the prefix length must be 0..32", v4[i]);
		CHECK_STR(parse_err(v4[i]), want);
	}
	for (i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		snprintf(want, sizeof(want),
			 "'%s': the prefix length must be 0..128", v6[i]);
		CHECK_STR(parse_err(v6[i]), want);
	}
}

TEST(cidr_parse_garbage)
{
	static const char *const bad[] = {
		"",
		"/8",
		"abc",
		"10.0.0",
		"10.0.0.0.0",
		"256.0.0.0/8",
		"10.0.0.-1",
		"1.2.3.4 ",
		" 1.2.3.4",
		"1.2.3.4\n",
		"fd00:::1",
		"fd00::g",
		"fd00::1%eth0",
		"[fd00::1]",
		"0x0a000000",
		"10.0.0.0\t/8",
		"1.2.3.4/8/",
	};
	char want[200];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *e = parse_err(bad[i]);

		if (!strcmp(bad[i], "1.2.3.4/8/")) {
			/* the address part is fine, the prefix is not */
			CHECK_STR(e, "'1.2.3.4/8/': the prefix length must be "
				     "0..32");
			continue;
		}
		snprintf(want, sizeof(want),
			 "'%s' is not an IP address or CIDR", bad[i]);
		CHECK_STR(e, want);
	}
	/* Longer than any address: refused without reading past a buffer. */
	char longs[300];

	memset(longs, '1', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = 0;
	CHECK(strstr(parse_err(longs), "is not an IP address or CIDR"));
	/* A tiny error buffer is truncated, not overrun (ASan watches). */
	{
		struct xr_cidr c;
		char small[8];

		memset(small, 'x', sizeof(small));
		CHECK(xr_cidr_parse("10.0.0.1/8", &c, small, sizeof(small)));
		CHECK_EQ(strlen(small), sizeof(small) - 1);
	}
}

TEST(addr_parse)
{
	uint8_t fam = 0, a[16];

	CHECK(!xr_addr_parse("10.1.2.3", &fam, a));
	CHECK_EQ(fam, 4);
	CHECK_EQ(a[0], 10);
	CHECK_EQ(a[3], 3);
	CHECK_EQ(a[4], 0);
	CHECK(!xr_addr_parse("fd77::3", &fam, a));
	CHECK_EQ(fam, 6);
	CHECK_EQ(a[0], 0xfd);
	CHECK_EQ(a[15], 3);
	CHECK(xr_addr_parse("10.0.0.0/8", &fam, a));
	CHECK(xr_addr_parse("", &fam, a));
	CHECK(xr_addr_parse("[fd77::3]", &fam, a));
	CHECK(xr_addr_parse("example.com", &fam, a));
}

static bool contains(const char *cidr, const char *addr)
{
	struct xr_cidr c;
	uint8_t fam, a[16];
	char err[200];

	if (xr_cidr_parse(cidr, &c, err, sizeof(err)) ||
	    xr_addr_parse(addr, &fam, a)) {
		fprintf(stderr, "bad test input %s %s\n", cidr, addr);
		abort();
	}
	return xr_cidr_contains(&c, fam, a);
}

TEST(cidr_contains)
{
	CHECK(contains("10.0.0.0/8", "10.0.0.0"));
	CHECK(contains("10.0.0.0/8", "10.255.255.255"));
	CHECK(!contains("10.0.0.0/8", "11.0.0.0"));
	CHECK(!contains("10.0.0.0/8", "9.255.255.255"));
	CHECK(contains("10.0.0.128/25", "10.0.0.200"));
	CHECK(!contains("10.0.0.128/25", "10.0.0.127"));
	CHECK(contains("10.1.2.3/32", "10.1.2.3"));
	CHECK(!contains("10.1.2.3/32", "10.1.2.2"));
	CHECK(contains("0.0.0.0/0", "1.2.3.4"));
	CHECK(contains("0.0.0.0/0", "255.255.255.255"));
	/* families never match each other, not even /0 */
	CHECK(!contains("0.0.0.0/0", "::1"));
	CHECK(!contains("::/0", "10.0.0.1"));
	CHECK(!contains("::/96", "10.0.0.1"));
	CHECK(!contains("::ffff:0:0/96", "10.0.0.1"));
	CHECK(contains("::/0", "fd77::2"));
	CHECK(contains("fd77::/16", "fd77:ffff::1"));
	CHECK(!contains("fd77::/16", "fd78::1"));
	CHECK(contains("2001:db8::/127", "2001:db8::1"));
	CHECK(!contains("2001:db8::/127", "2001:db8::2"));
	CHECK(contains("fd77::3/128", "fd77::3"));
	CHECK(!contains("fd77::3/128", "fd77::2"));
	CHECK(contains("2001:db8:0:0:8000::/65", "2001:db8::ffff:0:0:1"));
	CHECK(!contains("2001:db8:0:0:8000::/65", "2001:db8::7fff:0:0:1"));
}

/* The reference: a plain list scanned for the longest containing prefix. */
struct ref_entry {
	struct xr_cidr c;
	uint32_t value;
};

static bool ref_contains(const struct xr_cidr *c, uint8_t fam, const uint8_t *a)
{
	int bits = c->prefixlen, i;

	if (c->family != fam)
		return false;
	for (i = 0; i < bits / 8; i++)
		if (a[i] != c->addr[i])
			return false;
	if (bits % 8) {
		uint8_t m = (uint8_t)(0xff << (8 - bits % 8));

		if ((a[i] & m) != c->addr[i])
			return false;
	}
	return true;
}

static void ref_add(struct ref_entry *ref, uint32_t *n, const struct xr_cidr *c,
		    uint32_t value)
{
	uint32_t i;

	for (i = 0; i < *n; i++) {
		if (!memcmp(&ref[i].c, c, sizeof(*c))) {
			ref[i].value = value;
			return;
		}
	}
	ref[*n].c = *c;
	ref[*n].value = value;
	(*n)++;
}

/* The longest containing prefix; *depth: how many contain a. */
static const struct ref_entry *ref_lookup(const struct ref_entry *ref,
					  uint32_t n, uint8_t fam,
					  const uint8_t *a, uint32_t *depth)
{
	const struct ref_entry *best = NULL;
	uint32_t i;

	*depth = 0;
	for (i = 0; i < n; i++) {
		if (!ref_contains(&ref[i].c, fam, a))
			continue;
		++*depth;
		if (!best || ref[i].c.prefixlen > best->c.prefixlen)
			best = &ref[i];
	}
	return best;
}

static void mask_bits(uint8_t *a, int bits, int max)
{
	int i;

	for (i = bits; i < max; i++)
		a[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
}

static struct xr_cidr make_cidr(uint8_t fam, const uint8_t *a, int len)
{
	struct xr_cidr c;

	memset(&c, 0, sizeof(c));
	c.family = fam;
	c.prefixlen = (uint8_t)len;
	memcpy(c.addr, a, fam == 4 ? 4 : 16);
	mask_bits(c.addr, len, fam == 4 ? 32 : 128);
	return c;
}

static uint32_t lookup_value(const struct cidr_table *t, const char *addr,
			     char *via, size_t len)
{
	uint8_t fam, a[16];
	struct xr_cidr m;
	uint32_t v;

	if (xr_addr_parse(addr, &fam, a))
		abort();
	if (!cidr_table_lookup(t, fam, a, &m, &v)) {
		snprintf(via, len, "-");
		return UINT32_MAX;
	}
	xr_cidr_format(&m, via, len);
	return v;
}

static void table_add(struct cidr_table *t, const char *cidr, uint32_t v)
{
	struct xr_cidr c;
	char err[200];

	if (xr_cidr_parse(cidr, &c, err, sizeof(err)) ||
	    cidr_table_add(t, &c, v)) {
		fprintf(stderr, "table_add %s: %s\n", cidr, err);
		abort();
	}
}

TEST(cidr_table_nested)
{
	struct cidr_table t;
	char via[64];

	REQUIRE(!cidr_table_init(&t, 16));
	CHECK_EQ(lookup_value(&t, "10.1.2.3", via, sizeof(via)), UINT32_MAX);
	table_add(&t, "10.0.0.0/8", 1);
	table_add(&t, "10.1.0.0/16", 2);
	table_add(&t, "10.1.2.0/24", 3);
	table_add(&t, "10.1.2.3/32", 4);
	table_add(&t, "fd00::/8", 11);
	table_add(&t, "fd77::/16", 12);
	table_add(&t, "fd77::/64", 13);
	table_add(&t, "fd77::3/128", 14);
	CHECK_EQ(t.count, 8);

	CHECK_EQ(lookup_value(&t, "10.1.2.3", via, sizeof(via)), 4);
	CHECK_STR(via, "10.1.2.3/32");
	CHECK_EQ(lookup_value(&t, "10.1.2.4", via, sizeof(via)), 3);
	CHECK_STR(via, "10.1.2.0/24");
	CHECK_EQ(lookup_value(&t, "10.1.3.4", via, sizeof(via)), 2);
	CHECK_STR(via, "10.1.0.0/16");
	CHECK_EQ(lookup_value(&t, "10.2.3.4", via, sizeof(via)), 1);
	CHECK_STR(via, "10.0.0.0/8");
	CHECK_EQ(lookup_value(&t, "11.0.0.0", via, sizeof(via)), UINT32_MAX);
	CHECK_STR(via, "-");
	CHECK_EQ(lookup_value(&t, "fd77::3", via, sizeof(via)), 14);
	CHECK_STR(via, "fd77::3/128");
	CHECK_EQ(lookup_value(&t, "fd77::4", via, sizeof(via)), 13);
	CHECK_EQ(lookup_value(&t, "fd77:0:0:1::3", via, sizeof(via)), 12);
	CHECK_STR(via, "fd77::/16");
	CHECK_EQ(lookup_value(&t, "fd01::1", via, sizeof(via)), 11);
	CHECK_EQ(lookup_value(&t, "fe80::1", via, sizeof(via)), UINT32_MAX);
	/* IPv4 rules do not match IPv4-mapped IPv6 addresses, or v.v. */
	CHECK_EQ(lookup_value(&t, "::ffff:10.1.2.3", via, sizeof(via)),
		 UINT32_MAX);

	/* A default route per family; v4 and v6 stay apart. */
	table_add(&t, "0.0.0.0/0", 100);
	CHECK_EQ(lookup_value(&t, "11.0.0.0", via, sizeof(via)), 100);
	CHECK_STR(via, "0.0.0.0/0");
	CHECK_EQ(lookup_value(&t, "fe80::1", via, sizeof(via)), UINT32_MAX);
	CHECK_EQ(lookup_value(&t, "10.1.2.3", via, sizeof(via)), 4);
	table_add(&t, "::/0", 200);
	CHECK_EQ(lookup_value(&t, "fe80::1", via, sizeof(via)), 200);
	CHECK_STR(via, "::/0");
	CHECK_EQ(lookup_value(&t, "11.0.0.0", via, sizeof(via)), 100);

	/* Adding a prefix again replaces its value. */
	table_add(&t, "10.1.0.0/16", 22);
	CHECK_EQ(t.count, 10);
	CHECK_EQ(lookup_value(&t, "10.1.3.4", via, sizeof(via)), 22);
	cidr_table_free(&t);
}

TEST(cidr_table_capacity)
{
	struct cidr_table t;
	struct xr_cidr c;
	uint8_t a[16] = { 10 };
	uint32_t i, added = 0;

	REQUIRE(!cidr_table_init(&t, 100));
	/* Sized for at least `expected`; refuses rather than overfills. */
	for (i = 0; i < 100000; i++) {
		a[1] = (uint8_t)(i >> 8);
		a[2] = (uint8_t)i;
		c = make_cidr(4, a, 24);
		if (cidr_table_add(&t, &c, i))
			break;
		added++;
	}
	CHECK(added >= 100);
	CHECK(added < 100000);
	CHECK_EQ(t.count, added);
	/* still consistent after a refusal */
	for (i = 0; i < added; i++) {
		struct xr_cidr m;
		uint32_t v;

		a[1] = (uint8_t)(i >> 8);
		a[2] = (uint8_t)i;
		a[3] = 7;
		CHECK(cidr_table_lookup(&t, 4, a, &m, &v));
		CHECK_EQ(v, i);
	}
	cidr_table_free(&t);
}

/*
 * Random prefixes built around 64 base addresses, so that many
 * nest (a /8, /16s inside it, /24s inside those, hosts inside those), and
 * random addresses biased to fall inside them. The table must agree with
 * the brute-force scan on every lookup: value and matching prefix.
 */
static void random_table_run(uint64_t seed, uint32_t nprefix, uint32_t naddr,
			     bool defaults)
{
	struct ref_entry *ref = calloc(nprefix, sizeof(*ref));
	uint8_t(*bases)[16] = calloc(64, 16);
	struct xr_cidr *added = calloc(nprefix, sizeof(*added));
	uint32_t nref = 0, i, nbases = 64, agree = 0, matched = 0, nested = 0;
	struct cidr_table t;

	if (!ref || !bases || !added)
		abort();
	rng_seed(seed);
	for (i = 0; i < nbases; i++)
		for (int j = 0; j < 16; j += 8) {
			uint64_t r = rnd();

			memcpy(bases[i] + j, &r, 8);
		}
	REQUIRE(!cidr_table_init(&t, nprefix));
	for (i = 0; i < nprefix; i++) {
		uint8_t fam = rnd_below(2) ? 4 : 6, a[16];
		int max = fam == 4 ? 32 : 128, len;
		uint32_t r = rnd_below(100);

		memcpy(a, bases[rnd_below(nbases)], 16);
		/* Perturb the low bits so siblings differ. */
		if (fam == 4) {
			static const int lens[] = { 8, 12, 16, 20, 24, 28, 32 };

			len = r < 2 && defaults ? 0 :
			      r < 80		? lens[rnd_below(7)] :
						  8 + (int)rnd_below(25);
			a[1] ^= (uint8_t)rnd_below(4);
			a[2] ^= (uint8_t)rnd_below(8);
			a[3] ^= (uint8_t)rnd_below(16);
		} else {
			static const int lens[] = { 16, 32, 48,	 56,
						    64, 96, 112, 128 };

			len = r < 2 && defaults ? 0 :
			      r < 80		? lens[rnd_below(8)] :
						  16 + (int)rnd_below(113);
			a[5] ^= (uint8_t)rnd_below(4);
			a[7] ^= (uint8_t)rnd_below(8);
			a[15] ^= (uint8_t)rnd_below(16);
		}
		(void)max;
		added[i] = make_cidr(fam, a, len);
		CHECK(!cidr_table_add(&t, &added[i], i));
		ref_add(ref, &nref, &added[i], i);
	}
	CHECK_EQ(t.count, nref);
	for (i = 0; i < naddr; i++) {
		const struct ref_entry *want;
		struct xr_cidr m;
		uint8_t fam, a[16];
		uint32_t v = 0;
		bool got;

		if (rnd_below(4)) {
			/* inside (or next to) an added prefix */
			const struct xr_cidr *c = &added[rnd_below(nprefix)];
			int max = c->family == 4 ? 32 : 128, b;

			fam = c->family;
			memcpy(a, c->addr, 16);
			for (b = c->prefixlen; b < max; b++)
				if (rnd_below(2))
					a[b / 8] |= (uint8_t)(0x80 >> (b % 8));
			if (!rnd_below(8) && c->prefixlen)
				a[(c->prefixlen - 1) / 8] ^=
					(uint8_t)(0x80 >>
						  ((c->prefixlen - 1) % 8));
		} else {
			uint64_t r1 = rnd(), r2 = rnd();

			fam = rnd_below(2) ? 4 : 6;
			memcpy(a, &r1, 8);
			memcpy(a + 8, &r2, 8);
		}
		if (fam == 4)
			memset(a + 4, 0, 12);
		uint32_t depth;

		want = ref_lookup(ref, nref, fam, a, &depth);
		nested += depth >= 3;
		got = cidr_table_lookup(&t, fam, a, &m, &v);
		if (got == !!want &&
		    (!got ||
		     (v == want->value && !memcmp(&m, &want->c, sizeof(m))))) {
			agree++;
			matched += got;
		} else if (agree + 10 > i) {
			char ab[64], wb[64] = "-", gb[64] = "-";

			inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, ab,
				  sizeof(ab));
			if (want)
				xr_cidr_format(&want->c, wb, sizeof(wb));
			if (got)
				xr_cidr_format(&m, gb, sizeof(gb));
			fprintf(stderr,
				"lookup %s: table %s (%u), reference %s (%u)\n",
				ab, gb, v, wb, want ? want->value : 0);
		}
	}
	CHECK_EQ(agree, naddr);
	/* the bias works: most addresses match something, not all */
	CHECK(matched > naddr / 2);
	CHECK(defaults ? matched == naddr : matched < naddr);
	/* and nests: many addresses are inside three or more prefixes */
	if (nprefix >= 1000)
		CHECK(nested > naddr / 4);
	printf("# seed %llu: %u prefixes (%u distinct), %u lookups agree, "
	       "%u matched, %u inside 3 or more\n",
	       (unsigned long long)seed, nprefix, nref, agree, matched, nested);
	cidr_table_free(&t);
	free(ref);
	free(bases);
	free(added);
}

TEST(cidr_table_random_vs_reference)
{
	random_table_run(1, 3000, 20000, false);
	random_table_run(2, 5000, 20000, true); /* with ::/0 and 0.0.0.0/0 */
	random_table_run(3, 200, 20000, false);
}

/* ---- the configuration file ---- */

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
	CHECK_STR(err.msg, "unknown directive 'x' (expected default, target "
			   "or rule)");
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

TEST(config_errors_directives)
{
	CHECK_CFG_ERR("default http://a.test\nfoo bar\n", CFG_FULL, 2,
		      "unknown directive 'foo' (expected default, target or "
		      "rule)");
	CHECK_CFG_ERR("\n\n\nRule 10.0.0.0/8 x\n", CFG_FULL, 4,
		      "unknown directive 'Rule' (expected default, target or "
		      "rule)");
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

/* ---- trusted proxies ---- */

static struct proxy_cfg trust(const char *list, enum proxy_header h)
{
	struct proxy_cfg cfg;
	char err[200];

	memset(&cfg, 0, sizeof(cfg));
	if (proxy_parse_trusted(&cfg, list, err, sizeof(err))) {
		fprintf(stderr, "trust %s: %s\n", list, err);
		abort();
	}
	cfg.header = h;
	return cfg;
}

static const char *trust_err(const char *list)
{
	static char err[200];
	struct proxy_cfg cfg;

	memset(&cfg, 0, sizeof(cfg));
	strcpy(err, "(no message)");
	if (!proxy_parse_trusted(&cfg, list, err, sizeof(err)))
		return "(accepted)";
	return err;
}

TEST(proxy_parse_lists)
{
	struct proxy_cfg cfg;
	char buf[64], big[64 * 40], want[64 * 40 + 40];
	int i, n = 0;

	cfg = trust("10.77.0.2/32", PROXY_XFF);
	CHECK_EQ(cfg.n_trusted, 1);
	cfg = trust("10.0.0.0/8,192.168.1.1,fd00::/8,::1", PROXY_XFF);
	REQUIRE(cfg.n_trusted == 4);
	xr_cidr_format(&cfg.trusted[1], buf, sizeof(buf));
	CHECK_STR(buf, "192.168.1.1/32");
	xr_cidr_format(&cfg.trusted[3], buf, sizeof(buf));
	CHECK_STR(buf, "::1/128");

	CHECK_STR(trust_err("10.0.0.0/8,"), "'10.0.0.0/8,' ends with a comma");
	CHECK_STR(trust_err(",10.0.0.0/8"),
		  "',10.0.0.0/8' is not a list of CIDRs");
	CHECK_STR(trust_err("10.0.0.0/8,,1.2.3.4"),
		  "'10.0.0.0/8,,1.2.3.4' is not a list of CIDRs");
	CHECK_STR(trust_err("10.0.0.0/8,bad"),
		  "'bad' is not an IP address or CIDR");
	CHECK_STR(trust_err("10.0.0.1/8"),
		  "'10.0.0.1/8' has host bits set below /8 (did you mean "
		  "10.0.0.0/8?)");
	CHECK_STR(trust_err("10.0.0.0/40"),
		  "'10.0.0.0/40': the prefix length must be 0..32");
	/* an element longer than any CIDR */
	memset(big, '1', 64);
	strcpy(big + 64, ",10.0.0.0/8");
	snprintf(want, sizeof(want), "'%s' is not a list of CIDRs", big);
	CHECK_STR(trust_err(big), want);
	for (i = 0; i < PROXY_MAX_TRUSTED; i++)
		n += sprintf(big + n, "%s10.0.%d.0/24", i ? "," : "", i);
	cfg = trust(big, PROXY_XFF);
	CHECK_EQ(cfg.n_trusted, PROXY_MAX_TRUSTED);
	sprintf(big + n, ",10.1.0.0/16");
	CHECK_STR(trust_err(big), "more than 32 trusted proxies");

	cfg = trust("10.0.0.0/8,fd00::/8", PROXY_XFF);
	uint8_t a[16] = { 10, 9, 9, 9 };

	CHECK(proxy_is_trusted(&cfg, 4, a));
	a[0] = 11;
	CHECK(!proxy_is_trusted(&cfg, 4, a));
	memset(a, 0, 16);
	a[0] = 0xfd;
	a[15] = 1;
	CHECK(proxy_is_trusted(&cfg, 6, a));
	a[0] = 0xfe;
	CHECK(!proxy_is_trusted(&cfg, 6, a));
}

/* A request with the given header lines ("Name: value\r\n" each). */
struct req_buf {
	char raw[4096];
	struct http_request req;
};

static int make_req(struct req_buf *b, const char *headers)
{
	struct http_limits lim;

	http_limits_default(&lim);
	snprintf(b->raw, sizeof(b->raw),
		 "GET /v2/ HTTP/1.1\r\nHost: x\r\n%s\r\n", headers);
	memset(&b->req, 0, sizeof(b->req));
	return http_parse_head((const uint8_t *)b->raw, strlen(b->raw), &lim,
			       &b->req);
}

/*
 * The address proxy_client_addr picks for a request from peer with the
 * given headers: "peer" when it says to use the peer, "bad request" when
 * the parser refused the head, else the address.
 */
static const char *client_of(const struct proxy_cfg *cfg, const char *peer,
			     const char *headers)
{
	static char out[64];
	static struct req_buf b;
	uint8_t pf, pa[16], fam = 0, a[16];
	int r = make_req(&b, headers);

	if (r != HTTP_OK) {
		snprintf(out, sizeof(out), "bad request %d", r);
		return out;
	}
	if (xr_addr_parse(peer, &pf, pa))
		abort();
	memset(a, 0xee, sizeof(a));
	if (!proxy_client_addr(cfg, pf, pa, &b.req, &fam, a))
		return "peer";
	if (fam != 4 && fam != 6)
		return "bad family";
	inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, out, sizeof(out));
	return out;
}

TEST(proxy_xff)
{
	struct proxy_cfg none,
		cfg = trust("10.77.0.2/32,10.0.0.0/24,fd00::/64", PROXY_XFF);

	memset(&none, 0, sizeof(none));
	/* Nothing trusted: headers are ignored. */
	CHECK_STR(client_of(&none, "10.77.0.2", "X-Forwarded-For: 1.2.3.4\r\n"),
		  "peer");
	/* An untrusted peer: ignored. */
	CHECK_STR(client_of(&cfg, "10.77.0.3", "X-Forwarded-For: 1.2.3.4\r\n"),
		  "peer");
	CHECK_STR(client_of(&cfg, "fd01::1", "X-Forwarded-For: 1.2.3.4\r\n"),
		  "peer");
	/* A trusted peer without the header: the peer. */
	CHECK_STR(client_of(&cfg, "10.77.0.2", ""), "peer");
	CHECK_STR(client_of(&cfg, "10.77.0.2", "X-Real-IP: 1.2.3.4\r\n"),
		  "peer");
	/* One address. */
	CHECK_STR(client_of(&cfg, "10.77.0.2", "X-Forwarded-For: 1.2.3.4\r\n"),
		  "1.2.3.4");
	CHECK_STR(client_of(&cfg, "10.0.0.200",
			    "x-forwarded-for:\t1.2.3.4 \r\n"),
		  "1.2.3.4");
	/* A chain of trusted proxies after the client. */
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Forwarded-For: 1.2.3.4, 10.0.0.1, 10.0.0.2\r\n"),
		  "1.2.3.4");
	/* The right-most untrusted entry; what is left of it is not
	 * believed. */
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Forwarded-For: 1.2.3.4, 5.6.7.8\r\n"),
		  "5.6.7.8");
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Forwarded-For: 1.2.3.4, 5.6.7.8, 10.0.0.9\r\n"),
		  "5.6.7.8");
	/* All trusted: the left-most. */
	CHECK_STR(
		client_of(&cfg, "10.77.0.2",
			  "X-Forwarded-For: 10.0.0.7, 10.0.0.8, 10.77.0.2\r\n"),
		"10.0.0.7");
	/* Garbage where an address is expected: the peer. */
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Forwarded-For: 1.2.3.4, garbage\r\n"),
		  "peer");
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Forwarded-For: 1.2.3.4:5678\r\n"),
		  "peer");
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Forwarded-For: 10.0.0.0/24\r\n"),
		  "peer");
	CHECK_STR(client_of(&cfg, "10.77.0.2", "X-Forwarded-For: unknown\r\n"),
		  "peer");
	/* Garbage left of the right-most untrusted entry is never read. */
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Forwarded-For: garbage, 5.6.7.8\r\n"),
		  "5.6.7.8");
	/* ... but garbage left of trusted ones is reached. */
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Forwarded-For: garbage, 10.0.0.1\r\n"),
		  "peer");
	/* Empty elements are skipped, an empty header is no header. */
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Forwarded-For: 1.2.3.4,, ,10.0.0.1,\r\n"),
		  "1.2.3.4");
	CHECK_STR(client_of(&cfg, "10.77.0.2", "X-Forwarded-For:\r\n"), "peer");
	CHECK_STR(client_of(&cfg, "10.77.0.2", "X-Forwarded-For: , ,\r\n"),
		  "peer");
	/* IPv6, with and without brackets, mixed families. */
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Forwarded-For: 2001:db8::7\r\n"),
		  "2001:db8::7");
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Forwarded-For: [2001:db8::7]\r\n"),
		  "2001:db8::7");
	CHECK_STR(client_of(&cfg, "fd00::9",
			    "X-Forwarded-For: [2001:db8::7], fd00::1, "
			    "[fd00::2]\r\n"),
		  "2001:db8::7");
	CHECK_STR(client_of(&cfg, "fd00::9",
			    "X-Forwarded-For: 1.2.3.4, [fd00::2]\r\n"),
		  "1.2.3.4");
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Forwarded-For: [2001:db8::7\r\n"),
		  "peer");
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Forwarded-For: [2001:db8::7]:443\r\n"),
		  "peer");
}

TEST(proxy_xff_lines)
{
	struct proxy_cfg cfg = trust("10.77.0.2/32,10.0.0.0/24", PROXY_XFF);

	/* Several lines form one list, in order. */
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Forwarded-For: 1.2.3.4\r\n"
			    "X-Forwarded-For: 5.6.7.8\r\n"),
		  "5.6.7.8");
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Forwarded-For: 1.2.3.4\r\n"
			    "X-Forwarded-For: 10.0.0.1\r\n"),
		  "1.2.3.4");
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Forwarded-For: 1.2.3.4, 10.0.0.3\r\n"
			    "Accept: */*\r\n"
			    "X-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n"),
		  "1.2.3.4");
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Forwarded-For: 10.0.0.5\r\n"
			    "X-Forwarded-For: 10.0.0.1\r\n"),
		  "10.0.0.5");
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Forwarded-For: garbage\r\n"
			    "X-Forwarded-For: 10.0.0.1\r\n"),
		  "peer");
	/* HTTP_MAX_XFF lines: still read. */
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Forwarded-For: 1.2.3.4\r\n"
			    "X-Forwarded-For: 10.0.0.1\r\n"
			    "X-Forwarded-For: 10.0.0.2\r\n"
			    "X-Forwarded-For: 10.0.0.3\r\n"),
		  "1.2.3.4");
	/* More: the list is incomplete, so none of it is believed. */
	CHECK_EQ(HTTP_MAX_XFF, 4);
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Forwarded-For: 1.2.3.4\r\n"
			    "X-Forwarded-For: 10.0.0.1\r\n"
			    "X-Forwarded-For: 10.0.0.2\r\n"
			    "X-Forwarded-For: 10.0.0.3\r\n"
			    "X-Forwarded-For: 5.6.7.8\r\n"),
		  "peer");
	/* The parser counts the lines. */
	struct req_buf b;

	REQUIRE(make_req(&b, "X-Forwarded-For: 1.1.1.1\r\n"
			     "X-Forwarded-For: 2.2.2.2\r\n"
			     "X-Forwarded-For: 3.3.3.3\r\n") == HTTP_OK);
	CHECK_EQ(b.req.n_forwarded_for, 3);
}

TEST(proxy_real_ip)
{
	struct proxy_cfg cfg = trust("10.77.0.2/32", PROXY_REAL_IP);

	CHECK_STR(client_of(&cfg, "10.77.0.2", "X-Real-IP: 1.2.3.4\r\n"),
		  "1.2.3.4");
	CHECK_STR(client_of(&cfg, "10.77.0.2", "x-real-ip:  fd77::9 \r\n"),
		  "fd77::9");
	CHECK_STR(client_of(&cfg, "10.77.0.2", "X-Real-IP: [fd77::9]\r\n"),
		  "fd77::9");
	/* X-Forwarded-For is not read in this mode. */
	CHECK_STR(
		client_of(&cfg, "10.77.0.2",
			  "X-Forwarded-For: 5.6.7.8\r\nX-Real-IP: 1.2.3.4\r\n"),
		"1.2.3.4");
	CHECK_STR(client_of(&cfg, "10.77.0.2", "X-Forwarded-For: 5.6.7.8\r\n"),
		  "peer");
	/* Two headers: ambiguous, so the peer. */
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Real-IP: 1.2.3.4\r\nX-Real-IP: 1.2.3.4\r\n"),
		  "peer");
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Real-IP: 1.2.3.4\r\nX-Real-IP: 5.6.7.8\r\n"),
		  "peer");
	/* Not one address. */
	CHECK_STR(client_of(&cfg, "10.77.0.2",
			    "X-Real-IP: 1.2.3.4, 5.6.7.8\r\n"),
		  "peer");
	CHECK_STR(client_of(&cfg, "10.77.0.2", "X-Real-IP: garbage\r\n"),
		  "peer");
	CHECK_STR(client_of(&cfg, "10.77.0.2", "X-Real-IP:\r\n"), "peer");
	/* Untrusted peer. */
	CHECK_STR(client_of(&cfg, "10.77.0.3", "X-Real-IP: 1.2.3.4\r\n"),
		  "peer");
}

/* ---- the target array and its sequence lock ---- */

static struct xr_ctl mem_ctl;
static struct xr_target mem_targets[XR_MAX_TARGETS];

/* The pinned maps as the target code sees them, in memory. */
static struct xr_maps *mem_maps(void)
{
	static struct xr_maps m;

	memset(&mem_ctl, 0, sizeof(mem_ctl));
	memset(mem_targets, 0, sizeof(mem_targets));
	memset(&m, 0, sizeof(m));
	m.ctl = &mem_ctl;
	m.targets = mem_targets;
	return &m;
}

/* What a cache answers for target idx, as text. */
static const char *cached_url(const struct target_cache *c, uint32_t idx)
{
	static char out[XR_TARGET_URL_MAX + 1];
	const struct http_target *t = target_cache_get(c, idx);

	snprintf(out, sizeof(out), "%.*s", t->url_len, t->url);
	return out;
}

/* A writer killed between the halves of xr_target_write: sequence odd,
 * the slot cleared and half filled. */
static void die_mid_write(struct xr_maps *m, uint32_t idx, const char *name)
{
	m->ctl->targets_seq |= 1;
	memset(&m->targets[idx], 0, sizeof(m->targets[idx]));
	snprintf(m->targets[idx].name, sizeof(m->targets[idx].name), "%s",
		 name);
}

TEST(snapshot_gives_up_on_odd_sequence)
{
	static struct xr_target out[XR_MAX_TARGETS];
	struct xr_maps *m = mem_maps();
	uint32_t seq = 77;

	xr_target_write(m, 0, "default", "https://a.example", 302);
	CHECK_EQ(xr_targets_snapshot(m, out, &seq, 3), 0);
	CHECK_EQ(seq, 2);
	CHECK_STR(out[0].name, "default");
	m->ctl->targets_seq = 3;
	seq = 77;
	CHECK_EQ(xr_targets_snapshot(m, out, &seq, 3), -EBUSY);
	CHECK_EQ(seq, 77);
}

TEST(cache_keeps_last_good_copy_while_odd)
{
	static struct target_cache c;
	struct xr_maps *m = mem_maps();

	memset(&c, 0, sizeof(c));
	xr_target_write(m, 0, "default", "https://a.example", 302);
	xr_target_write(m, 1, "eu", "https://eu.example", 307);
	target_cache_refresh(&c, m);
	CHECK_STR(cached_url(&c, 1), "https://eu.example");
	/* Killed while rewriting eu: readers go on with the old copy. */
	die_mid_write(m, 1, "eu");
	target_cache_refresh(&c, m);
	target_cache_refresh(&c, m);
	CHECK_STR(cached_url(&c, 1), "https://eu.example");
	CHECK_EQ(c.http[1].status, 307);
	CHECK_STR(cached_url(&c, 0), "https://a.example");
	/* The next writer repairs it: the torn slot is gone, the rest new. */
	xr_target_write(m, 0, "default", "https://b.example", 302);
	CHECK_EQ(m->ctl->targets_seq & 1, 0);
	CHECK_EQ(m->targets[1].name[0], 0);
	target_cache_refresh(&c, m);
	CHECK_STR(cached_url(&c, 0), "https://b.example");
	CHECK_STR(cached_url(&c, 1), "https://b.example"); /* the default */
}

TEST(cache_first_copy_on_odd_sequence_is_bounded)
{
	static struct target_cache c;
	struct xr_maps *m = mem_maps();

	memset(&c, 0, sizeof(c));
	xr_target_write(m, 0, "default", "https://a.example", 302);
	die_mid_write(m, 2, "x");
	/* No copy to fall back on: the built-in target, and no hang. */
	target_cache_refresh(&c, m);
	CHECK(c.loaded);
	CHECK_STR(cached_url(&c, 0), "https://k8s.gcr.io");
	CHECK_EQ(xr_targets_repair(m), 1);
	target_cache_refresh(&c, m);
	CHECK_STR(cached_url(&c, 0), "https://a.example");
}

TEST(repair_clears_only_torn_slots)
{
	struct xr_maps *m = mem_maps();
	uint32_t seq;

	CHECK_EQ(xr_targets_repair(m), -1); /* even: nothing to do */
	xr_target_write(m, 0, "default", "https://a.example", 302);
	xr_target_write(m, 1, "eu", "https://eu.example", 307);
	xr_target_write(m, 2, "us", "https://us.example", 301);
	seq = m->ctl->targets_seq;
	/* Died after the URL, before its length and status. */
	die_mid_write(m, 2, "us");
	memcpy(m->targets[2].url, "https://us.example", 18);
	CHECK_EQ(xr_targets_repair(m), 1);
	CHECK_EQ(m->ctl->targets_seq, seq + 2);
	CHECK_STR(m->targets[1].name, "eu");
	CHECK_EQ(m->targets[1].status, 307);
	CHECK_EQ(m->targets[2].name[0], 0);
	CHECK_EQ(m->targets[2].url[0], 0);
	/* Died in the clearing memset: name gone, leftovers tidied, not
	 * counted as torn. */
	m->ctl->targets_seq |= 1;
	m->targets[1].name[0] = 0;
	CHECK_EQ(xr_targets_repair(m), 0);
	CHECK_EQ(m->targets[1].status, 0);
	CHECK_EQ(xr_target_find(m, "eu"), -1);
	CHECK_EQ(xr_target_find(m, "default"), 0);
}

TEST(targets_store_is_one_sequence_step)
{
	static struct xr_target table[XR_MAX_TARGETS];
	struct xr_maps *m = mem_maps();

	xr_target_write(m, 0, "default", "https://a.example", 302);
	xr_target_write(m, 3, "old", "https://old.example", 302);
	memcpy(table, mem_targets, sizeof(table));
	memset(&table[3], 0, sizeof(table[3]));
	snprintf(table[1].name, sizeof(table[1].name), "new");
	memcpy(table[1].url, "https://new.example", 19);
	table[1].url_len = 19;
	table[1].status = 308;
	xr_targets_store(m, table);
	CHECK_EQ(m->ctl->targets_seq, 6);
	CHECK(!memcmp(mem_targets, table, sizeof(table)));
}

/* ---- staging a configuration ---- */

static void parse_ok(const char *text, struct xr_config *cfg)
{
	struct cfg_error err = { 0, "" };

	REQUIRE(!xr_config_parse(text, strlen(text), CFG_FULL, cfg, &err));
}

TEST(stage_keeps_slots_and_drops_after)
{
	static struct xr_target live[XR_MAX_TARGETS], saved[XR_MAX_TARGETS],
		table[XR_MAX_TARGETS];
	struct cfg_error err = { 0, "" };
	struct xr_rule *rules;
	struct xr_config cfg;

	xr_target_fill(&live[0], "default", "http://d.test", 13, 302);
	xr_target_fill(&live[1], "a", "http://a.test", 13, 302);
	xr_target_fill(&live[2], "old", "http://old.test", 15, 302);
	memcpy(saved, live, sizeof(saved));
	parse_ok("default http://d2.test\n"
		 "target a http://a2.test\n"
		 "target b http://b.test 307\n"
		 "rule 10.0.0.0/8 b\n"
		 "rule 10.1.0.0/16 a\n",
		 &cfg);
	REQUIRE(!xr_config_stage(live, &cfg, table, &rules, &err));
	CHECK(!memcmp(live, saved, sizeof(live)));
	CHECK_STR(table[0].url, "http://d2.test");
	CHECK_STR(table[1].name, "a");
	CHECK_STR(table[1].url, "http://a2.test");
	CHECK_EQ(table[2].name[0], 0); /* dropped; not reused for b */
	CHECK_STR(table[3].name, "b");
	CHECK_EQ(table[3].status, 307);
	CHECK_EQ(table[3].url_len, 13);
	CHECK_EQ(rules[0].target, 3);
	CHECK_EQ(rules[1].target, 1);
	CHECK_EQ(rules[1].cidr.prefixlen, 16);
	free(rules);
	xr_config_free(&cfg);
}

TEST(stage_failing_part_way_changes_nothing)
{
	static struct xr_target live[XR_MAX_TARGETS], saved[XR_MAX_TARGETS],
		table[XR_MAX_TARGETS];
	struct cfg_error err = { 0, "" };
	struct xr_rule *rules = (struct xr_rule *)1;
	struct xr_config cfg;
	char name[16];
	int i;

	xr_target_fill(&live[0], "default", "http://d.test", 13, 302);
	for (i = 1; i < XR_MAX_TARGETS - 1; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		xr_target_fill(&live[i], name, "http://t.test", 13, 302);
	}
	memcpy(saved, live, sizeof(saved));
	/* One slot free: n1 fits, n2 (line 3) does not. */
	parse_ok("target t1 http://changed.test\n"
		 "target n1 http://n1.test\n"
		 "target n2 http://n2.test\n"
		 "rule 10.0.0.0/8 n1\n",
		 &cfg);
	CHECK_EQ(xr_config_stage(live, &cfg, table, &rules, &err), -1);
	CHECK(!rules);
	CHECK_EQ(err.line, 3);
	CHECK_STR(err.msg, "no free target slot for 'n2' (targets the file "
			   "drops are removed only after its rules are in "
			   "force)");
	CHECK(!memcmp(live, saved, sizeof(live)));
	xr_config_free(&cfg);
}
