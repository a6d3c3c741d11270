// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of service addresses (user/control/vip.c): what --vip and
 * `xredirctl vip` accept, their text, and the set a daemon starts with.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "test.h"
#include "vip.h"

/* Strings equal, both shown when they are not. */
#define CHECK_STR(got, want)                                                   \
	do {                                                                   \
		const char *g_ = (got), *w_ = (want);                          \
		CHECK(!strcmp(g_, w_));                                        \
		if (strcmp(g_, w_))                                            \
			fprintf(stderr, "  got  '%s'\n  want '%s'\n", g_, w_); \
	} while (0)

/* Parses s, which must be valid, and returns its canonical text. */
static const char *canon(const char *s)
{
	static char out[200];
	struct xr_vip v;
	char err[160];

	if (xr_vip_parse(s, &v, err, sizeof(err))) {
		snprintf(out, sizeof(out), "ERROR: %s", err);
		return out;
	}
	xr_vip_format(&v, out, sizeof(out));
	return out;
}

static const char *parse_err(const char *s)
{
	static char err[160];
	struct xr_vip v;

	if (!xr_vip_parse(s, &v, err, sizeof(err)))
		return "(accepted)";
	return err;
}

TEST(vip_parse_accepts_unicast_hosts)
{
	struct xr_vip v;
	char err[160];

	CHECK_STR(canon("10.79.0.100"), "10.79.0.100");
	CHECK_STR(canon("fd79:0::100"), "fd79::100");
	CHECK_STR(canon("fe80::1"), "fe80::1");
	CHECK_STR(canon("169.254.1.1"), "169.254.1.1");
	CHECK_STR(canon("127.0.0.1"), "127.0.0.1");
	CHECK_STR(canon("223.255.255.254"), "223.255.255.254");
	REQUIRE(!xr_vip_parse("192.0.2.1", &v, err, sizeof(err)));
	CHECK_EQ(v.family, 4);
	CHECK_EQ(v.addr[0], 192);
	CHECK_EQ(v.addr[3], 1);
	CHECK_EQ(v.addr[4], 0);
	REQUIRE(!xr_vip_parse("2001:db8::7", &v, err, sizeof(err)));
	CHECK_EQ(v.family, 6);
	CHECK_EQ(v.addr[15], 7);
}

TEST(vip_parse_refuses_what_no_client_connects_to)
{
	CHECK_STR(parse_err("10.0.0.0/8"),
		  "'10.0.0.0/8': a service address is one address, no prefix");
	CHECK_STR(parse_err("10.0.0.1/32"),
		  "'10.0.0.1/32': a service address is one address, no "
		  "prefix");
	CHECK_STR(parse_err("example.com"),
		  "'example.com' is not an IPv4 or IPv6 address (or 'any')");
	CHECK_STR(parse_err(""),
		  "'' is not an IPv4 or IPv6 address (or 'any')");
	CHECK_STR(parse_err("10.1.2"),
		  "'10.1.2' is not an IPv4 or IPv6 address (or 'any')");
	CHECK_STR(parse_err("0.0.0.0"),
		  "'0.0.0.0' is not a unicast address: no client connects to "
		  "it");
	CHECK_STR(parse_err("::"),
		  "'::' is not a unicast address: no client connects to it");
	CHECK_STR(parse_err("224.0.0.1"),
		  "'224.0.0.1' is not a unicast address: no client connects "
		  "to it");
	CHECK_STR(parse_err("255.255.255.255"),
		  "'255.255.255.255' is not a unicast address: no client "
		  "connects to it");
	CHECK_STR(parse_err("ff02::1"),
		  "'ff02::1' is not a unicast address: no client connects to "
		  "it");
	/* Long input is cut in the message, not overflowed. */
	CHECK(strstr(parse_err("1111111111111111111111111111111111111111111111"
			       "1111111111111111111111111111111111"),
		     "is not an IPv4 or IPv6 address"));
}

TEST(vip_any)
{
	CHECK(xr_vip_is_any("any"));
	CHECK(xr_vip_is_any("ANY"));
	CHECK(!xr_vip_is_any("any "));
	CHECK(!xr_vip_is_any("anything"));
	CHECK(!xr_vip_is_any(""));
}

TEST(vip_origin_names)
{
	CHECK_STR(xr_vip_origin_name(XR_VIP_FROM_IFACE), "iface");
	CHECK_STR(xr_vip_origin_name(XR_VIP_FROM_FLAG), "flag");
	CHECK_STR(xr_vip_origin_name(XR_VIP_FROM_CTL), "xredirctl");
	CHECK_STR(xr_vip_origin_name(0), "unknown");
	CHECK_STR(xr_vip_origin_name(99), "unknown");
}

static struct xr_vip vip(const char *s, uint32_t origin)
{
	struct xr_vip v;
	char err[160];

	if (xr_vip_parse(s, &v, err, sizeof(err)))
		memset(&v, 0, sizeof(v));
	v.origin = origin;
	return v;
}

/* The start set: the interface's first, then --vip's, each address once
 * with its first origin; sorted IPv4 first for lists. */
TEST(vip_set_keeps_each_address_once)
{
	struct xr_vip_set set = { 0 };
	struct xr_vip v;
	char text[64];
	uint32_t i;

	v = vip("fd79::100", XR_VIP_FROM_IFACE);
	CHECK_EQ(xr_vip_set_add(&set, &v), 1);
	v = vip("10.79.0.100", XR_VIP_FROM_IFACE);
	CHECK_EQ(xr_vip_set_add(&set, &v), 1);
	v = vip("10.79.0.100", XR_VIP_FROM_FLAG);
	CHECK_EQ(xr_vip_set_add(&set, &v), 0);
	v = vip("10.0.0.1", XR_VIP_FROM_FLAG);
	CHECK_EQ(xr_vip_set_add(&set, &v), 1);
	/* An IPv4 address with stray bytes after it is the same address. */
	v = vip("10.0.0.1", XR_VIP_FROM_CTL);
	v.addr[9] = 0x5a;
	CHECK_EQ(xr_vip_set_add(&set, &v), 0);
	REQUIRE(set.n == 3);
	CHECK(xr_vip_set_has(&set, 4, vip("10.79.0.100", 0).addr));
	CHECK(xr_vip_set_has(&set, 6, vip("fd79::100", 0).addr));
	CHECK(!xr_vip_set_has(&set, 6, vip("fd79::101", 0).addr));
	CHECK(!xr_vip_set_has(&set, 4, vip("10.79.0.101", 0).addr));
	xr_vip_set_sort(&set);
	xr_vip_format(&set.v[0], text, sizeof(text));
	CHECK_STR(text, "10.0.0.1");
	CHECK_EQ(set.v[0].origin, XR_VIP_FROM_FLAG);
	xr_vip_format(&set.v[1], text, sizeof(text));
	CHECK_STR(text, "10.79.0.100");
	CHECK_EQ(set.v[1].origin, XR_VIP_FROM_IFACE);
	xr_vip_format(&set.v[2], text, sizeof(text));
	CHECK_STR(text, "fd79::100");
	/* Grows past its first allocation. */
	for (i = 0; i < 100; i++) {
		v = vip("10.1.0.1", XR_VIP_FROM_CTL);
		v.addr[2] = (uint8_t)i;
		CHECK_EQ(xr_vip_set_add(&set, &v), 1);
	}
	CHECK_EQ(set.n, 103);
	xr_vip_set_free(&set);
	CHECK_EQ(set.n, 0);
	CHECK(!set.v);
}
