// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the client address behind trusted proxies
 * (user/control/proxy.c), with requests built by the real HTTP parser.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "control_test.h"
#include "http.h"
#include "proxy.h"
#include "test.h"

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
