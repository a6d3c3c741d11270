// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of prefixes (user/control/cidr.c): parsing, printing, matching
 * and the longest-prefix table, the latter checked against a brute-force
 * reference over random nested prefixes.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "control_test.h"
#include "rng.h"
#include "test.h"

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
