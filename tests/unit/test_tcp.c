// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The TCP engine driven by crafted frames and a fake clock. */
#include "test.h"
#include "adopt.h"
#include "engine_harness.h"

#define GET(path) "GET " path " HTTP/1.1\r\nHost: x\r\n\r\n"

static struct harness h;

static const char expect_root[] =
	"HTTP/1.1 302 Found\r\n"
	"Location: https://k8s.gcr.io/\r\n"
	"Content-Type: text/html; charset=utf-8\r\n"
	"Content-Length: 41\r\n"
	"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
	"Connection: keep-alive\r\n"
	"\r\n"
	"<a href=\"https://k8s.gcr.io/\">Found</a>.\n";

/* The open flows; the engine's live() calls must say as many (the live
 * table of the XDP program, bpf/live.h), whatever ended the others. */
static uint32_t flows(void)
{
	CHECK_EQ(h.live, h.e.ft.count);
	return h.e.ft.count;
}

static uint64_t stat(enum tcp_stat s)
{
	return h.e.stats[s];
}

TEST(syn_gets_cookie_synack_and_no_state)
{
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40000);
	h_send_seg(&h, &c, TCP_SYN, NULL, 0);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.flags, TCP_SYN | TCP_ACK);
	CHECK_EQ(p.ack, c.isn + 1);
	CHECK_EQ(p.mss, 1460);
	CHECK_EQ(flows(), 0);
	CHECK_EQ(stat(TCP_STAT_cookies_sent), 1);
	/* A retransmitted SYN gets the same cookie (no state either way). */
	c.snd = c.isn;
	{
		uint32_t first = p.seq;

		h_send_seg(&h, &c, TCP_SYN, NULL, 0);
		REQUIRE(!h_parse(&h, 0, &c, &p));
		CHECK_EQ(p.seq, first);
	}
	CHECK_EQ(flows(), 0);
	tcp_engine_free(&h.e);
}

TEST(synack_mss_follows_peer_and_mtu)
{
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 6, 40001);
	h_send_seg(&h, &c, TCP_SYN, NULL, 0);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.mss, 1440); /* IPv6 header is 20 bytes longer */
	tcp_engine_free(&h.e);

	/* A peer MSS of 536: segments never exceed it. */
	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40002);
	c.mss = 536;
	REQUIRE(!h_connect(&h, &c));
	{
		char req[600];
		uint32_t i, total = 0;

		snprintf(req, sizeof(req),
			 "GET /%0500d HTTP/1.1\r\nHost: x\r\n\r\n", 0);
		h_send_seg(&h, &c, TCP_ACK, req, (uint32_t)strlen(req));
		CHECK(h.nout >= 2);
		for (i = 0; i < h.nout; i++) {
			REQUIRE(!h_parse(&h, i, &c, &p));
			CHECK(p.payload_len <= 536);
			total += p.payload_len;
		}
		CHECK(total > 1000);
	}
	tcp_engine_free(&h.e);
}

TEST(cookie_ack_creates_flow_bad_cookie_gets_rst)
{
	static const char req[] = GET("/");
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40010);
	REQUIRE(!h_connect(&h, &c));
	CHECK_EQ(flows(), 1);
	CHECK_EQ(stat(TCP_STAT_cookies_ok), 1);

	/* Data with a made-up cookie: RST at its ACK number, no state. */
	h_conn_init(&c, 4, 40011);
	c.snd = c.isn + 1;
	c.rcv = 0x12345678;
	h_send_seg(&h, &c, TCP_ACK, req, sizeof(req) - 1);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.flags, TCP_RST);
	CHECK_EQ(p.seq, 0x12345678);
	CHECK_EQ(flows(), 1);
	CHECK_EQ(stat(TCP_STAT_cookies_bad), 1);

	/* A bare ACK that fails the check: no answer, no state. */
	h_send_seg(&h, &c, TCP_ACK, NULL, 0);
	CHECK_EQ(h.nout, 0);
	CHECK_EQ(flows(), 1);
	CHECK_EQ(stat(TCP_STAT_cookies_bad), 2);
	tcp_engine_free(&h.e);
}

/* --cookie-secret-file: a node that shares the secret finishes a
 * handshake another node began (ECMP moved the flow); one that does not
 * resets it. */
TEST(handshake_finished_by_a_node_sharing_the_secret)
{
	static const struct siphash_key other_key = { 1, 2 };
	static const char req[] = GET("/");
	static struct harness peer, stranger;
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	REQUIRE(!h_init(&peer));
	h_conn_init(&c, 4, 40015);
	h_send_seg(&h, &c, TCP_SYN, NULL, 0);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	REQUIRE(p.flags == (TCP_SYN | TCP_ACK));
	c.rcv = p.seq + 1;
	h_send_seg(&peer, &c, TCP_ACK | TCP_PSH, req, sizeof(req) - 1);
	REQUIRE(peer.nout == 1);
	REQUIRE(!h_parse(&peer, 0, &c, &p));
	CHECK_EQ(p.payload_len, sizeof(expect_root) - 1);
	CHECK_MEM(p.payload, expect_root, sizeof(expect_root) - 1);
	CHECK_EQ(peer.e.stats[TCP_STAT_cookies_ok], 1);
	CHECK_EQ(peer.e.ft.count, 1);
	CHECK_EQ(flows(), 0);

	memset(&stranger, 0, sizeof(stranger));
	h_config(&stranger);
	stranger.key = &other_key;
	REQUIRE(!h_start(&stranger));
	h_conn_init(&c, 4, 40016);
	h_send_seg(&h, &c, TCP_SYN, NULL, 0);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	c.rcv = p.seq + 1;
	h_send_seg(&stranger, &c, TCP_ACK | TCP_PSH, req, sizeof(req) - 1);
	REQUIRE(stranger.nout == 1);
	REQUIRE(!h_parse(&stranger, 0, &c, &p));
	CHECK_EQ(p.flags, TCP_RST);
	CHECK_EQ(stranger.e.stats[TCP_STAT_cookies_bad], 1);
	CHECK_EQ(stranger.e.ft.count, 0);
	tcp_engine_free(&h.e);
	tcp_engine_free(&peer.e);
	tcp_engine_free(&stranger.e);
}

/*
 * Adoption (adopt.h): a keep-alive connection that ECMP moves to a node
 * sharing the secret goes on there, from its next request.
 */

/* Opens c on a, has one request answered: c.rcv and c.snd are the
 * client's after it. */
static int open_served(struct harness *a, struct h_conn *c)
{
	static const char req[] = GET("/first");
	struct pkt p;

	if (h_connect(a, c))
		return -1;
	h_send_seg(a, c, TCP_ACK | TCP_PSH, req, sizeof(req) - 1);
	if (a->nout != 1 || h_parse(a, 0, c, &p) || !p.payload_len)
		return -1;
	c->rcv = p.seq + p.payload_len;
	return 0;
}

/* Sends req on c to a; the one answer it gets in *p (-1: not one). */
static int request_to(struct harness *a, struct h_conn *c, const char *req,
		      struct pkt *p)
{
	h_send_seg(a, c, TCP_ACK | TCP_PSH, req, (uint32_t)strlen(req));
	if (a->nout != 1 || h_parse(a, 0, c, p))
		return -1;
	return 0;
}

TEST(moved_keepalive_connection_adopted)
{
	static const char req[] = GET("/");
	static struct harness b;
	uint32_t seq;
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	REQUIRE(!h_init(&b));
	h_conn_init(&c, 4, 40300);
	REQUIRE(!open_served(&h, &c));
	/* Moved: the next request reaches b, which has no state. */
	b.now = h.now + 30000;
	seq = c.snd;
	REQUIRE(!request_to(&b, &c, req, &p));
	CHECK_EQ(p.flags, TCP_ACK | TCP_PSH);
	CHECK_EQ(p.seq, c.rcv);
	CHECK_EQ(p.ack, seq + sizeof(req) - 1);
	CHECK_EQ(p.payload_len, sizeof(expect_root) - 1);
	CHECK_MEM(p.payload, expect_root, sizeof(expect_root) - 1);
	CHECK_EQ(b.e.stats[TCP_STAT_adoptions], 1);
	CHECK_EQ(b.e.stats[TCP_STAT_flows_opened], 1);
	CHECK_EQ(b.e.stats[TCP_STAT_rst_sent], 0);
	CHECK_EQ(b.e.ft.count, 1);
	/* The adopted flow goes on: the client's ACK, then a request. */
	c.rcv = p.seq + p.payload_len;
	h_send_seg(&b, &c, TCP_ACK, NULL, 0);
	CHECK_EQ(b.nout, 0);
	REQUIRE(!request_to(&b, &c, GET("/again"), &p));
	CHECK_EQ(p.seq, c.rcv);
	CHECK(strstr((const char *)p.payload, "k8s.gcr.io/again") != NULL);
	CHECK_EQ(b.e.stats[TCP_STAT_adoptions], 1);
	CHECK_EQ(b.e.stats[TCP_STAT_requests], 2);
	/* Segments stay within the conservative MSS. */
	c.rcv = p.seq + p.payload_len;
	{
		char big[700];
		uint32_t i;

		snprintf(big, sizeof(big),
			 "GET /%0600d HTTP/1.1\r\nHost: x\r\n\r\n", 0);
		h_send_seg(&b, &c, TCP_ACK | TCP_PSH, big,
			   (uint32_t)strlen(big));
		CHECK(b.nout >= 2);
		for (i = 0; i < b.nout; i++) {
			REQUIRE(!h_parse(&b, i, &c, &p));
			CHECK(p.payload_len <= 536);
		}
	}
	tcp_engine_free(&h.e);
	tcp_engine_free(&b.e);
}

/* IPv6 too, and a connection the node opened in the previous epoch. */
TEST(moved_connection_adopted_v6_next_epoch)
{
	static const char req[] = GET("/");
	static struct harness b;
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	REQUIRE(!h_init(&b));
	h_conn_init(&c, 6, 40301);
	REQUIRE(!open_served(&h, &c));
	h_clock(&b, h.now + 256000);
	REQUIRE(!request_to(&b, &c, req, &p));
	CHECK_EQ(p.seq, c.rcv);
	CHECK_EQ(p.payload_len, sizeof(expect_root) - 1);
	CHECK_EQ(b.e.stats[TCP_STAT_adoptions], 1);
	tcp_engine_free(&h.e);
	tcp_engine_free(&b.e);
}

/*
 * Nodes of a fleet boot at different times: their monotonic clocks have
 * nothing in common, their wall clocks agree. A handshake begun on one
 * node completes on another, and a connection moves, whatever the
 * monotonic clocks say.
 */
#define OTHER_BOOT_MS (41 * 86400000ull + 12345) /* booted 41 days earlier */

TEST(fleet_nodes_agree_by_the_wall_clock)
{
	static const char req[] = GET("/");
	static struct harness b;
	struct h_conn c;
	struct pkt p;
	uint32_t isn;

	REQUIRE(!h_init(&h));
	REQUIRE(!h_init(&b));
	b.now = h.now + OTHER_BOOT_MS;
	h_conn_init(&c, 4, 40305);
	h_send_seg(&h, &c, TCP_SYN, NULL, 0);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
	isn = p.seq;
	c.rcv = p.seq + 1;
	REQUIRE(!request_to(&b, &c, req, &p));
	CHECK_EQ(p.ack, c.snd);
	CHECK_EQ(p.seq, isn + 1);
	CHECK_EQ(b.e.stats[TCP_STAT_cookies_ok], 1);
	CHECK_EQ(b.e.stats[TCP_STAT_adoptions], 0);
	tcp_engine_free(&b.e);

	REQUIRE(!h_init(&b));
	b.now = h.now + OTHER_BOOT_MS;
	h_conn_init(&c, 4, 40306);
	REQUIRE(!open_served(&h, &c));
	REQUIRE(!request_to(&b, &c, req, &p));
	CHECK_EQ(p.seq, c.rcv);
	CHECK_EQ(b.e.stats[TCP_STAT_adoptions], 1);
	tcp_engine_free(&h.e);
	tcp_engine_free(&b.e);
}

TEST(adoption_refused_with_rst)
{
	static const struct siphash_key other_key = { 1, 2 };
	static const char req[] = GET("/");
	static struct harness b, stranger;
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	REQUIRE(!h_init(&b));
	memset(&stranger, 0, sizeof(stranger));
	h_config(&stranger);
	stranger.key = &other_key;
	REQUIRE(!h_start(&stranger));

	/* Another secret: not the fleet's connection. */
	h_conn_init(&c, 4, 40310);
	REQUIRE(!open_served(&h, &c));
	REQUIRE(!request_to(&stranger, &c, req, &p));
	CHECK_EQ(p.flags, TCP_RST);
	CHECK_EQ(p.seq, c.rcv);
	CHECK_EQ(stranger.e.stats[TCP_STAT_adoptions_refused], 1);
	CHECK_EQ(stranger.e.stats[TCP_STAT_adoptions], 0);
	CHECK_EQ(stranger.e.ft.count, 0);

	/* A partial head (it may be a head's middle): RST. */
	h_conn_init(&c, 4, 40311);
	REQUIRE(!open_served(&h, &c));
	REQUIRE(!request_to(&b, &c, "GET /p HTTP/1.1\r\nHost: x\r\n", &p));
	CHECK_EQ(p.flags, TCP_RST);
	CHECK_EQ(b.e.stats[TCP_STAT_adoptions_no_head], 1);
	/* A body's bytes that are no request: RST. */
	REQUIRE(!request_to(&b, &c, "name=value&x=1", &p));
	CHECK_EQ(p.flags, TCP_RST);
	CHECK_EQ(b.e.stats[TCP_STAT_adoptions_no_head], 2);
	CHECK_EQ(b.e.stats[TCP_STAT_adoptions], 0);
	CHECK_EQ(b.e.ft.count, 0);

	/* Too old: two epochs after it opened. */
	h_conn_init(&c, 4, 40312);
	REQUIRE(!open_served(&h, &c));
	h_clock(&b, h.now + 2 * 256000);
	REQUIRE(!request_to(&b, &c, req, &p));
	CHECK_EQ(p.flags, TCP_RST);
	CHECK_EQ(b.e.stats[TCP_STAT_adoptions_refused], 1);
	CHECK_EQ(b.e.ft.count, 0);

	/* A FIN is still answered as for a flow closed here. */
	h_send_seg(&b, &c, TCP_ACK | TCP_FIN, NULL, 0);
	REQUIRE(b.nout == 1 && !h_parse(&b, 0, &c, &p));
	CHECK_EQ(p.flags, TCP_ACK);
	CHECK_EQ(b.e.stats[TCP_STAT_timewait_acks], 1);
	tcp_engine_free(&h.e);
	tcp_engine_free(&b.e);
	tcp_engine_free(&stranger.e);
}

/* The TLS port: the session's keys went with the node; RST as before. */
TEST(adoption_never_on_the_tls_port)
{
	static const char req[] = GET("/");
	static struct harness b;
	uint8_t buf[H_FRAME];
	struct h_conn c;
	struct pkt p;
	uint32_t n;

	memset(&h, 0, sizeof(h));
	h_config(&h);
	h.cfg.tls_port = 10443;
	REQUIRE(!h_start(&h));
	memset(&b, 0, sizeof(b));
	h_config(&b);
	b.cfg.tls_port = 10443;
	REQUIRE(!h_start(&b));
	h_conn_init(&c, 4, 40320);
	c.port = 10443;
	h_send_seg(&h, &c, TCP_SYN, NULL, 0);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
	/* As if 1000 bytes of TLS had been sent: a valid mark. */
	c.rcv = p.seq + 1 + 1000;
	c.snd += 300;
	n = h_frame(&c, buf, c.snd, c.rcv, TCP_ACK | TCP_PSH, req,
		    sizeof(req) - 1);
	h_input(&b, buf, n, TCP_TARGET_NONE);
	REQUIRE(b.nout == 1 && !h_parse(&b, 0, &c, &p));
	CHECK_EQ(p.flags, TCP_RST);
	CHECK_EQ(b.e.stats[TCP_STAT_adoptions], 0);
	CHECK_EQ(b.e.stats[TCP_STAT_adoptions_refused], 0);
	CHECK_EQ(b.e.ft.count, 0);
	/* The same segment on the plain port is adopted. */
	c.port = H_PORT;
	c.snd = c.isn;
	h_send_seg(&h, &c, TCP_SYN, NULL, 0);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
	c.rcv = p.seq + 1 + 1000;
	c.snd += 300;
	n = h_frame(&c, buf, c.snd, c.rcv, TCP_ACK | TCP_PSH, req,
		    sizeof(req) - 1);
	h_input(&b, buf, n, TCP_TARGET_NONE);
	REQUIRE(b.nout == 1 && !h_parse(&b, 0, &c, &p));
	CHECK_EQ(p.seq, c.rcv);
	CHECK_EQ(b.e.stats[TCP_STAT_adoptions], 1);
	tcp_engine_free(&h.e);
	tcp_engine_free(&b.e);
}

/* A connection closed here (both FINs) stays closed: its data gets RST,
 * whether the flow was adopted or opened here. */
TEST(connection_closed_here_not_adopted_again)
{
	static const char req_close[] =
		"GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	static struct harness b;
	struct h_conn c;
	struct pkt p;
	int round;

	REQUIRE(!h_init(&h));
	REQUIRE(!h_init(&b));
	for (round = 0; round < 2; round++) {
		h_conn_init(&c, 4, (uint16_t)(40330 + round));
		if (round == 0) {
			REQUIRE(!open_served(&h, &c)); /* adopted by b */
		} else {
			REQUIRE(!open_served(&b, &c)); /* b's own */
		}
		REQUIRE(!request_to(&b, &c, req_close, &p));
		CHECK(p.flags & TCP_FIN);
		c.rcv = p.seq + p.payload_len + 1;
		h_send_seg(&b, &c, TCP_ACK | TCP_FIN, NULL, 0);
		CHECK_EQ(b.e.ft.count, 0);
		REQUIRE(!request_to(&b, &c, GET("/after"), &p));
		CHECK_EQ(p.flags, TCP_RST);
		CHECK_EQ(p.seq, c.rcv);
		CHECK_EQ(b.e.stats[TCP_STAT_adoptions_closed],
			 (uint64_t)round + 1);
		CHECK_EQ(b.e.ft.count, 0);
	}
	CHECK_EQ(b.e.stats[TCP_STAT_adoptions], 1);
	tcp_engine_free(&h.e);
	tcp_engine_free(&b.e);
}

/* Adoptions are rate-limited (dropped: the retransmission is adopted
 * later) and count against the per-source flow limit (RST, as for a new
 * connection). */
TEST(adoption_rate_and_flow_limits)
{
	static const char req[] = GET("/");
	static struct harness b;
	struct h_conn c[5];
	struct pkt p;
	uint32_t snd;
	int i;

	REQUIRE(!h_init(&h));
	memset(&b, 0, sizeof(b));
	h_config(&b);
	b.cfg.adopt_rate = 3;
	REQUIRE(!h_start(&b));
	for (i = 0; i < 5; i++) {
		h_conn_init(&c[i], 4, (uint16_t)(40340 + i));
		REQUIRE(!open_served(&h, &c[i]));
	}
	for (i = 0; i < 5; i++) {
		snd = c[i].snd;
		h_send_seg(&b, &c[i], TCP_ACK | TCP_PSH, req, sizeof(req) - 1);
		CHECK_EQ(b.nout, i < 3 ? 1 : 0);
		if (i >= 3)
			c[i].snd = snd; /* to be sent again */
	}
	CHECK_EQ(b.e.stats[TCP_STAT_adoptions], 3);
	CHECK_EQ(b.e.stats[TCP_STAT_adoptions_limited], 2);
	CHECK_EQ(b.e.stats[TCP_STAT_rst_sent], 0);
	/* A second later, the retransmission is adopted. */
	b.now += 1000;
	REQUIRE(!request_to(&b, &c[3], req, &p));
	CHECK_EQ(p.seq, c[3].rcv);
	CHECK_EQ(b.e.stats[TCP_STAT_adoptions], 4);
	tcp_engine_free(&b.e);

	/* One flow per source, and the source holds one: RST. */
	memset(&b, 0, sizeof(b));
	h_config(&b);
	b.cfg.max_flows_per_source = 1;
	REQUIRE(!h_start(&b));
	h_clock(&b, h.now);
	REQUIRE(!request_to(&b, &c[4], req, &p));
	CHECK_EQ(b.e.stats[TCP_STAT_adoptions], 1);
	REQUIRE(!request_to(&b, &c[3], GET("/x"), &p));
	CHECK_EQ(p.flags, TCP_RST);
	CHECK_EQ(b.e.stats[TCP_STAT_source_limited], 1);
	CHECK_EQ(b.e.stats[TCP_STAT_adoptions], 1);
	CHECK_EQ(b.e.ft.count, 1);
	tcp_engine_free(&h.e);
	tcp_engine_free(&b.e);
}

/* Moved away and back: the node that held the flow finds acks past all it
 * sent, as another node served it meanwhile; idle, it takes the segment's
 * sequence numbers as adoption does. Not idle, or with no request head:
 * an unacceptable ack, as before. */
TEST(moved_away_and_back_resynchronised)
{
	static const char req[] = GET("/");
	static struct harness b;
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	REQUIRE(!h_init(&b));
	h_conn_init(&c, 4, 40350);
	REQUIRE(!open_served(&h, &c));
	REQUIRE(!request_to(&b, &c, req, &p));
	c.rcv = p.seq + p.payload_len;
	CHECK_EQ(b.e.stats[TCP_STAT_adoptions], 1);
	/* Back on h, which still holds the flow. */
	h.now += 1000;
	h_send_seg(&h, &c, TCP_ACK, "x", 1);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.payload_len, 0); /* a challenge ACK: no head */
	CHECK_EQ(stat(TCP_STAT_challenge_acks), 1);
	c.snd--;
	REQUIRE(!request_to(&h, &c, GET("/back"), &p));
	CHECK_EQ(p.seq, c.rcv);
	CHECK_EQ(p.ack, c.snd);
	CHECK(strstr((const char *)p.payload, "k8s.gcr.io/back") != NULL);
	CHECK_EQ(stat(TCP_STAT_adoptions), 1);
	CHECK_EQ(flows(), 1);
	/* And on: its next request in order. */
	c.rcv = p.seq + p.payload_len;
	REQUIRE(!request_to(&h, &c, req, &p));
	CHECK_EQ(p.seq, c.rcv);
	CHECK_EQ(stat(TCP_STAT_adoptions), 1);
	tcp_engine_free(&b.e);
	tcp_engine_free(&h.e);

	/* Past the flow's window, or with a partial head held here: an
	 * unacceptable ack. */
	REQUIRE(!h_init(&h));
	REQUIRE(!h_init(&b));
	h_conn_init(&c, 4, 40351);
	REQUIRE(!open_served(&h, &c));
	{
		struct h_conn far = c;

		far.rcv += ADOPT_WINDOW;
		h_send_seg(&h, &far, TCP_ACK | TCP_PSH, req, sizeof(req) - 1);
		REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
		CHECK_EQ(p.payload_len, 0);
		CHECK_EQ(stat(TCP_STAT_challenge_acks), 1);
	}
	h_send_seg(&h, &c, TCP_ACK | TCP_PSH, "GET /p HTTP/1.1\r\n", 17);
	c.snd -= 17;
	REQUIRE(!request_to(&b, &c, req, &p));
	c.rcv = p.seq + p.payload_len;
	h_send_seg(&h, &c, TCP_ACK | TCP_PSH, req, sizeof(req) - 1);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.payload_len, 0);
	CHECK_EQ(stat(TCP_STAT_challenge_acks), 2);
	CHECK_EQ(stat(TCP_STAT_adoptions), 0);
	tcp_engine_free(&h.e);
	tcp_engine_free(&b.e);
}

TEST(one_request_one_segment)
{
	static const char req[] = GET("/");
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40020);
	REQUIRE(!h_connect(&h, &c));
	h_send_seg(&h, &c, TCP_ACK | TCP_PSH, req, sizeof(req) - 1);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.flags, TCP_ACK | TCP_PSH);
	CHECK_EQ(p.seq, c.rcv);
	CHECK_EQ(p.ack, c.snd); /* the ACK rides in the response */
	CHECK_EQ(p.payload_len, sizeof(expect_root) - 1);
	CHECK_MEM(p.payload, expect_root, sizeof(expect_root) - 1);
	CHECK_EQ(stat(TCP_STAT_requests), 1);
	tcp_engine_free(&h.e);
}

TEST(request_on_the_handshake_ack)
{
	static const char req[] = GET("/");
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40021);
	h_send_seg(&h, &c, TCP_SYN, NULL, 0);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	c.rcv = p.seq + 1;
	h_send_seg(&h, &c, TCP_ACK | TCP_PSH, req, sizeof(req) - 1);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.payload_len, sizeof(expect_root) - 1);
	CHECK_EQ(flows(), 1);
	tcp_engine_free(&h.e);
}

TEST(target_from_metadata)
{
	static const char req[] = GET("/x");
	uint8_t buf[H_FRAME];
	char body[4096];
	struct h_conn c;
	uint32_t n;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40022);
	REQUIRE(!h_connect(&h, &c));
	n = h_frame(&c, buf, c.snd, c.rcv, TCP_ACK, req, sizeof(req) - 1);
	h_input(&h, buf, n, 1);
	c.snd += sizeof(req) - 1;
	h_payload(&h, &c, body, sizeof(body));
	CHECK(strstr(body, "Location: https://registry-1.docker.io/x\r\n"));
	tcp_engine_free(&h.e);
}

TEST(pipelined_requests_answered_in_order)
{
	char req[4096], body[32768], want[64];
	uint32_t i, len = 0;
	struct h_conn c;
	char *at = body;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40030);
	REQUIRE(!h_connect(&h, &c));
	for (i = 0; i < 20; i++)
		len += (uint32_t)snprintf(req + len, sizeof(req) - len,
					  GET("/p/%u"), i);
	h_send_seg(&h, &c, TCP_ACK, req, len);
	h_payload(&h, &c, body, sizeof(body));
	for (i = 0; i < 20; i++) {
		snprintf(want, sizeof(want),
			 "Location: https://k8s.gcr.io/p/%u\r\n", i);
		at = strstr(at, want);
		CHECK(at != NULL);
		if (!at)
			break;
	}
	CHECK_EQ(stat(TCP_STAT_requests), 20);
	tcp_engine_free(&h.e);
}

TEST(request_split_across_three_segments)
{
	static const char req[] = GET("/split/path");
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40040);
	REQUIRE(!h_connect(&h, &c));
	h_send_seg(&h, &c, TCP_ACK, req, 10);
	CHECK_EQ(h.nout, 0); /* partial head: ACK is delayed */
	h_advance(&h, h.cfg.delack_ms);
	REQUIRE(h.nout == 1); /* well under 500 ms */
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.ack, c.snd);
	CHECK_EQ(p.payload_len, 0);
	h_send_seg(&h, &c, TCP_ACK, req + 10, 12);
	CHECK_EQ(h.nout, 0);
	h_send_seg(&h, &c, TCP_ACK, req + 22, sizeof(req) - 1 - 22);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.ack, c.snd);
	CHECK(p.payload_len > 0);
	CHECK(memmem(p.payload, p.payload_len, "/split/path\r\n", 13) != NULL);
	CHECK_EQ(h.e.headpool.used, 0); /* head buffer given back */
	CHECK_EQ(stat(TCP_STAT_requests), 1);
	tcp_engine_free(&h.e);
}

TEST(retransmitted_request_gets_response_again)
{
	static const char req[] = GET("/");
	struct h_conn c;
	struct pkt p;
	uint32_t seq;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40050);
	REQUIRE(!h_connect(&h, &c));
	seq = c.snd;
	h_send_seg(&h, &c, TCP_ACK, req, sizeof(req) - 1);
	REQUIRE(h.nout == 1);
	/* The response was lost: the client sends the request again. */
	h_send_at(&h, &c, seq, c.rcv, TCP_ACK, req, sizeof(req) - 1);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.seq, c.rcv);
	CHECK_EQ(p.payload_len, sizeof(expect_root) - 1);
	CHECK_MEM(p.payload, expect_root, sizeof(expect_root) - 1);
	CHECK_EQ(stat(TCP_STAT_requests), 1); /* answered once, sent twice */
	tcp_engine_free(&h.e);
}

TEST(client_fin_closes_and_frees)
{
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40060);
	REQUIRE(!h_connect(&h, &c));
	h_send_seg(&h, &c, TCP_ACK | TCP_FIN, NULL, 0);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.flags, TCP_ACK | TCP_FIN);
	CHECK_EQ(p.ack, c.snd);
	CHECK_EQ(p.seq, c.rcv);
	c.rcv++;
	CHECK_EQ(flows(), 1);
	h_send_seg(&h, &c, TCP_ACK, NULL, 0);
	CHECK_EQ(h.nout, 0);
	CHECK_EQ(flows(), 0);
	CHECK_EQ(h.e.sndpool.used, 0);
	tcp_engine_free(&h.e);
}

TEST(connection_close_then_timewait_is_stateless)
{
	static const char req[] =
		"GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40070);
	REQUIRE(!h_connect(&h, &c));
	h_send_seg(&h, &c, TCP_ACK, req, sizeof(req) - 1);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.flags, TCP_ACK | TCP_PSH | TCP_FIN); /* one segment */
	CHECK(memmem(p.payload, p.payload_len, "Connection: close\r\n", 19));
	c.rcv = p.seq + p.payload_len + 1;
	/* Client acknowledges everything and closes. */
	h_send_seg(&h, &c, TCP_ACK | TCP_FIN, NULL, 0);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.flags, TCP_ACK);
	CHECK_EQ(p.ack, c.snd);
	CHECK_EQ(flows(), 0);
	/* That ACK was lost: the retransmitted FIN gets the same ACK. */
	h_send_at(&h, &c, c.snd - 1, c.rcv, TCP_ACK | TCP_FIN, NULL, 0);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.flags, TCP_ACK);
	CHECK_EQ(p.seq, c.rcv);
	CHECK_EQ(p.ack, c.snd);
	CHECK_EQ(stat(TCP_STAT_timewait_acks), 1);
	tcp_engine_free(&h.e);
}

/* Whether the engine's one answer to c is an RST at seq. */
static bool reset_at(struct h_conn *c, uint32_t seq)
{
	struct pkt p;

	return h.nout == 1 && !h_parse(&h, 0, c, &p) && p.flags == TCP_RST &&
	       p.seq == seq;
}

/*
 * A late copy of a closed connection's handshake ACK (or its first request)
 * still carries a valid cookie: it must not open the connection again.
 */
TEST(late_handshake_copy_does_not_reopen)
{
	static const char req[] =
		"GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	uint8_t ack[H_FRAME], data[H_FRAME];
	uint32_t nack, ndata, first;
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40075);
	REQUIRE(!h_connect(&h, &c));
	first = c.rcv;
	nack = h_frame(&c, ack, c.snd, c.rcv, TCP_ACK, NULL, 0);
	ndata = h_frame(&c, data, c.snd, c.rcv, TCP_ACK, req, sizeof(req) - 1);
	h_input(&h, data, ndata, TCP_TARGET_NONE);
	c.snd += sizeof(req) - 1;
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	c.rcv = p.seq + p.payload_len + 1;
	h_send_seg(&h, &c, TCP_ACK | TCP_FIN, NULL, 0);
	CHECK_EQ(flows(), 0);

	h_input(&h, ack, nack, TCP_TARGET_NONE);
	CHECK_EQ(h.nout, 0);
	/* Its request is not answered again: it gets the RST that data of a
	 * closed flow gets whatever its cookie (a client may still send). */
	h_input(&h, data, ndata, TCP_TARGET_NONE);
	CHECK(reset_at(&c, first));
	CHECK_EQ(flows(), 0);
	CHECK_EQ(stat(TCP_STAT_stale_handshakes), 2);

	/* The same port with a new ISN is a new connection. */
	h_conn_init(&c, 4, 40075);
	c.isn += 99999;
	c.snd = c.isn;
	REQUIRE(!h_connect(&h, &c));
	CHECK_EQ(flows(), 1);
	tcp_engine_free(&h.e);
}

/*
 * Connection i of a loop: a Connection: close request whose path has i %
 * 100 bytes, so that the acks of its response fall at many offsets in the
 * cookie's low bits (its age and MSS fields too), sent and answered; c
 * then acknowledges the response and its FIN. Returns the request's
 * length, kept in req; 0 if the exchange went otherwise.
 */
static uint32_t closing_request(struct h_conn *c, uint16_t port, uint32_t i,
				char req[160], uint32_t *first)
{
	static const char fill[100] = { [0 ... 99] = 'a' };
	struct pkt p;
	int len;

	len = snprintf(req, 160,
		       "GET /%.*s HTTP/1.1\r\nHost: x\r\n"
		       "Connection: close\r\n\r\n",
		       (int)(i % sizeof(fill)), fill);
	h_conn_init(c, 4, port);
	if (h_connect(&h, c))
		return 0;
	if (first)
		*first = c->rcv; /* what the handshake's ACK acknowledged */
	h_send_seg(&h, c, TCP_ACK, req, (uint32_t)len);
	if (h.nout != 1 || h_parse(&h, 0, c, &p))
		return 0;
	c->rcv = p.seq + p.payload_len + 1;
	return (uint32_t)len;
}

/* The set of the closed-flow table a client port's flow falls in: its
 * key as the engine parses it from the client's frames. */
static uint32_t closed_set_of(uint16_t cport)
{
	uint8_t buf[H_FRAME];
	struct h_conn c;
	struct pkt p;

	h_conn_init(&c, 4, cport);
	if (pkt_parse(&p, buf, h_frame(&c, buf, 1, 1, TCP_ACK, NULL, 0), H_PORT,
		      0))
		return UINT32_MAX;
	return flow_hash(&h.e.ft, &p.key) & h.e.closed_mask & ~1u;
}

/* A closing_request() on cport, closed both ways; a copy of the client's
 * handshake ACK, kept to come late, goes to ack. Returns its length. */
static uint32_t closed_exchange(uint16_t cport, uint8_t ack[H_FRAME])
{
	struct h_conn c;
	uint32_t first;
	char req[160];

	if (!closing_request(&c, cport, 0, req, &first))
		return 0;
	h_send_seg(&h, &c, TCP_ACK | TCP_FIN, NULL, 0);
	return flows() ? 0 :
			 h_frame(&c, ack, c.isn + 1, first, TCP_ACK, NULL, 0);
}

/* The closed-flow table keeps two records per set: a flow's survives one
 * later close into its set (its late handshake ACK is known), not two. */
TEST(closed_flows_two_per_set)
{
	uint8_t a[H_FRAME], b[H_FRAME], c[H_FRAME];
	uint16_t pa = 41000, pb = 0, pc = 0, port;
	uint32_t na, stale;

	REQUIRE(!h_init(&h));
	for (port = pa + 1; port < 65000 && !pc; port++) {
		if (closed_set_of(port) != closed_set_of(pa))
			continue;
		if (!pb)
			pb = port;
		else
			pc = port;
	}
	REQUIRE(pb && pc);
	na = closed_exchange(pa, a);
	REQUIRE(na && closed_exchange(pb, b));
	stale = (uint32_t)stat(TCP_STAT_stale_handshakes);
	h_input(&h, a, na, TCP_TARGET_NONE);
	CHECK_EQ(h.nout, 0);
	CHECK_EQ(flows(), 0);
	CHECK_EQ(stat(TCP_STAT_stale_handshakes), stale + 1);
	/* A third close into the set: the oldest record goes, and the late
	 * ACK now passes its cookie as a new handshake's would. */
	REQUIRE(closed_exchange(pc, c));
	h_input(&h, a, na, TCP_TARGET_NONE);
	CHECK_EQ(flows(), 1);
	CHECK_EQ(stat(TCP_STAT_stale_handshakes), stale + 1);
	tcp_engine_free(&h.e);
}

/*
 * Late copies of a closed connection's last segments (a duplicated ACK of
 * our FIN, its request again) carry a cookie that fails only by its 5
 * bits of hash beside the fleet mark: one in 32 would pass and open the
 * connection again, with a FIN at a sequence number past the first.
 */
TEST(late_copies_of_closed_connections_do_not_reopen)
{
	uint8_t ack[H_FRAME], data[H_FRAME];
	uint32_t nack, ndata, i, len, opened = 0, answered = 0;
	struct h_conn c;
	struct pkt p;
	char req[160];

	REQUIRE(!h_init(&h));
	for (i = 0; i < 1024; i++) {
		len = closing_request(&c, (uint16_t)(42000 + i), i, req, NULL);
		REQUIRE(len);
		h_send_seg(&h, &c, TCP_ACK | TCP_FIN, NULL, 0);
		REQUIRE(flows() == 0);
		nack = h_frame(&c, ack, c.snd, c.rcv, TCP_ACK, NULL, 0);
		h_input(&h, ack, nack, TCP_TARGET_NONE);
		answered += h.nout;
		opened += flows();
		/* The request again, acknowledging the response. */
		ndata = h_frame(&c, data, c.snd - 1 - len, c.rcv - 1, TCP_ACK,
				req, len);
		h_input(&h, data, ndata, TCP_TARGET_NONE);
		for (uint32_t k = 0; k < h.nout; k++)
			if (!h_parse(&h, k, &c, &p) && !(p.flags & TCP_RST))
				answered++;
		opened += flows();
	}
	CHECK_EQ(opened, 0);
	CHECK_EQ(answered, 0);
	tcp_engine_free(&h.e);
}

/*
 * A FIN sent again after the flow was freed (our ACK of it lost) is
 * acknowledged from the segment alone, also when it happens to pass the
 * cookie and is known as a late copy of the closed flow (1 time in 32).
 */
TEST(retransmitted_fin_after_close_is_always_acked)
{
	uint8_t fin[H_FRAME];
	uint32_t i, nfin, unanswered = 0;
	struct h_conn c;
	struct pkt p;
	char req[160];

	REQUIRE(!h_init(&h));
	for (i = 0; i < 1024; i++) {
		REQUIRE(closing_request(&c, (uint16_t)(44000 + i), i, req,
					NULL));
		nfin = h_frame(&c, fin, c.snd, c.rcv, TCP_ACK | TCP_FIN, NULL,
			       0);
		h_send_seg(&h, &c, TCP_ACK | TCP_FIN, NULL, 0);
		REQUIRE(flows() == 0);
		h_advance(&h, 50); /* within the rate of such answers */
		h_input(&h, fin, nfin, TCP_TARGET_NONE);
		if (h.nout != 1 || h_parse(&h, 0, &c, &p) ||
		    p.flags != TCP_ACK || p.seq != c.rcv || p.ack != c.snd)
			unanswered++;
		REQUIRE(flows() == 0);
	}
	CHECK_EQ(unanswered, 0);
	tcp_engine_free(&h.e);
}

/* A closing_request() whose response c acknowledges without closing: the
 * flow is freed when the linger time ends. */
static bool closed_by_linger(struct h_conn *c, uint16_t port, uint32_t i,
			     char req[160])
{
	if (!closing_request(c, port, i, req, NULL))
		return false;
	h_send_seg(&h, c, TCP_ACK, NULL, 0);
	h_advance(&h, h.cfg.linger_ms);
	return flows() == 0;
}

/*
 * A client still sending after the flow was freed (it acknowledged our FIN
 * but did not close within the linger time): the next request of a pooled
 * connection, a keep-alive probe with a byte of old data (as Windows sends
 * them). It is told the connection is gone, by an RST, also when the ack
 * passes the cookie hash and the segment is known as one of the closed
 * flow's (a few times in 1,024).
 */
TEST(data_after_close_is_always_reset)
{
	static const char next[] = GET("/next");
	uint32_t i, unanswered = 0;
	struct h_conn c;
	char req[160];

	REQUIRE(!h_init(&h));
	for (i = 0; i < 2048; i++) {
		REQUIRE(closed_by_linger(&c, (uint16_t)(46000 + i), i, req));
		h_send_at(&h, &c, c.snd, c.rcv, TCP_ACK | TCP_PSH, next,
			  sizeof(next) - 1);
		unanswered += !reset_at(&c, c.rcv);
		h_send_at(&h, &c, c.snd - 1, c.rcv, TCP_ACK, "x", 1);
		unanswered += !reset_at(&c, c.rcv);
		REQUIRE(flows() == 0);
	}
	CHECK_EQ(unanswered, 0);
	/* The loop met the case: segments taken for the closed flow's. */
	CHECK(stat(TCP_STAT_stale_handshakes) > 0);
	tcp_engine_free(&h.e);
}

/*
 * After the linger time, the client sends a request with its FIN. The
 * request is never read: an ACK of the FIN would tell the client it was;
 * it gets an RST, as from a stack whose socket was closed, whether or not
 * its ack passes the cookie hash. A bare FIN where the client's data ended
 * is acknowledged.
 */
TEST(fin_after_close_with_unread_data_is_reset)
{
	static const char next[] = GET("/next");
	uint32_t i, wrong = 0;
	struct h_conn c;
	struct pkt p;
	char req[160];

	REQUIRE(!h_init(&h));
	for (i = 0; i < 2048; i++) {
		REQUIRE(closed_by_linger(&c, (uint16_t)(49000 + i), i, req));
		h_send_at(&h, &c, c.snd, c.rcv, TCP_ACK | TCP_FIN, next,
			  sizeof(next) - 1);
		wrong += !reset_at(&c, c.rcv);
		REQUIRE(flows() == 0);
		h_send_at(&h, &c, c.snd, c.rcv, TCP_ACK | TCP_FIN, NULL, 0);
		if (h.nout != 1 || h_parse(&h, 0, &c, &p) ||
		    p.flags != TCP_ACK || p.seq != c.rcv || p.ack != c.snd + 1)
			wrong++;
	}
	CHECK_EQ(wrong, 0);
	/* The loop met the case: FINs taken for the closed flow's. */
	CHECK(stat(TCP_STAT_stale_handshakes) > 0);
	tcp_engine_free(&h.e);
}

/*
 * A FIN bringing data on a 4-tuple this node holds no record of (the
 * connection another node's, or its record overwritten): nothing says the
 * data was read, so it gets an RST, not the ACK of a retransmitted FIN,
 * which a bare FIN still gets.
 */
TEST(fin_with_data_of_an_unknown_flow_is_reset)
{
	static const char req[] = GET("/lost");
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 52000);
	c.snd = 0x1000;
	c.rcv = 0x77770000;
	h_send_at(&h, &c, c.snd, c.rcv, TCP_ACK | TCP_FIN, req,
		  sizeof(req) - 1);
	CHECK(reset_at(&c, c.rcv));
	h_send_at(&h, &c, c.snd, c.rcv, TCP_ACK | TCP_FIN, NULL, 0);
	CHECK(h.nout == 1 && !h_parse(&h, 0, &c, &p) && p.flags == TCP_ACK &&
	      p.seq == c.rcv && p.ack == c.snd + 1);
	CHECK_EQ(flows(), 0);
	tcp_engine_free(&h.e);
}

/*
 * A client reusing its port gets a cookie that may equal the one its
 * previous connection had (1 time in 32 within a cookie period): with a
 * client ISN moved on, it is a new connection all the same.
 */
TEST(reused_four_tuple_is_a_new_connection_whatever_its_cookie)
{
	static const char req[] =
		"GET /r HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	uint32_t i, unanswered = 0;
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	for (i = 0; i < 512; i++) {
		h_conn_init(&c, 4, 43000);
		c.isn += i * 100000u;
		c.snd = c.isn;
		REQUIRE(!h_connect(&h, &c));
		h_send_seg(&h, &c, TCP_ACK, req, sizeof(req) - 1);
		if (h.nout != 1 || h_parse(&h, 0, &c, &p) || !p.payload_len) {
			unanswered++;
			continue;
		}
		c.rcv = p.seq + p.payload_len + 1;
		h_send_seg(&h, &c, TCP_ACK | TCP_FIN, NULL, 0);
		REQUIRE(flows() == 0);
	}
	CHECK_EQ(unanswered, 0);
	tcp_engine_free(&h.e);
}

/*
 * The handshake ACK and the request were lost; a duplicate SYN-ACK makes
 * the client ACK again from past its request. That ACK fails the cookie
 * (or, 1 time in 32, opens the flow there: below), but must not reset the
 * connection: the resent request validates.
 */
TEST(lost_first_segments_are_not_reset)
{
	static const char req[] = GET("/");
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40076);
	h_send_seg(&h, &c, TCP_SYN, NULL, 0);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
	c.rcv = p.seq + 1;
	h_send_at(&h, &c, c.snd + sizeof(req) - 1, c.rcv, TCP_ACK, NULL, 0);
	CHECK_EQ(h.nout, 0);
	CHECK_EQ(flows(), 0);
	h_send_seg(&h, &c, TCP_ACK, req, sizeof(req) - 1);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
	CHECK(p.payload_len > 0);
	CHECK_EQ(flows(), 1);
	tcp_engine_free(&h.e);
}

/*
 * The same, when that ACK passes the cookie by chance: the cookie binds
 * the client's ISN by 5 bits, so one such ACK in 32 opens the flow at a
 * sequence number past the request. Finds such a connection (a port whose
 * duplicate ACK, sent from len bytes past ISN + 1, opens a flow); returns
 * whether it did.
 */
static bool open_past_lost_request(struct h_conn *c, uint32_t len)
{
	uint8_t buf[H_FRAME];
	struct pkt p;
	uint16_t port;
	uint32_t n;

	for (port = 41000; port < 42000 && !flows(); port++) {
		h_conn_init(c, 4, port);
		h_send_seg(&h, c, TCP_SYN, NULL, 0);
		if (h.nout != 1 || h_parse(&h, 0, c, &p))
			return false;
		c->rcv = p.seq + 1;
		n = h_frame(c, buf, c->snd + len, c->rcv, TCP_ACK, NULL, 0);
		h_input(&h, buf, n, TCP_TARGET_NONE);
		/* The same ACK again changes nothing. */
		h_input(&h, buf, n, TCP_TARGET_NONE);
		if (h.nout)
			return false;
	}
	return flows() == 1;
}

/* The resent request, which validates at ISN + 1, moves the flow back to
 * it and is answered, once: after that the flow has data. */
TEST(lost_first_segments_opened_by_chance_are_answered)
{
	static const char req[] = GET("/");
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	REQUIRE(open_past_lost_request(&c, sizeof(req) - 1));
	/* Not from a peer that acknowledges less than our SYN. */
	h_send_at(&h, &c, c.snd, c.rcv - 1, TCP_ACK, req, sizeof(req) - 1);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.payload_len, 0);
	h_send_seg(&h, &c, TCP_ACK, req, sizeof(req) - 1);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
	CHECK(p.payload_len > 0);
	CHECK(!(p.flags & TCP_FIN));
	CHECK_EQ(p.ack, c.snd);
	CHECK_EQ(stat(TCP_STAT_requests), 1);
	/* Sent again before the response is acknowledged: the response
	 * goes again, the request is not taken twice. */
	h_send_at(&h, &c, c.isn + 1, c.rcv, TCP_ACK, req, sizeof(req) - 1);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
	CHECK(p.payload_len > 0);
	CHECK_EQ(p.ack, c.snd);
	CHECK_EQ(stat(TCP_STAT_requests), 1);
	tcp_engine_free(&h.e);
}

/* On such a flow, a bare FIN from before its start is old, not a start:
 * only the request, sent again, moves the flow back. */
TEST(bare_fin_before_a_chance_start_is_only_acked)
{
	static const char req[] = GET("/");
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	REQUIRE(open_past_lost_request(&c, sizeof(req) - 1));
	h_send_at(&h, &c, c.isn + 1, c.rcv, TCP_ACK | TCP_FIN, NULL, 0);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.payload_len, 0);
	CHECK(!(p.flags & TCP_FIN));
	h_send_seg(&h, &c, TCP_ACK, req, sizeof(req) - 1);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
	CHECK(p.payload_len > 0);
	CHECK(!(p.flags & TCP_FIN));
	CHECK_EQ(stat(TCP_STAT_requests), 1);
	tcp_engine_free(&h.e);
}

/* A FIN kept ahead of the chance start is measured from it: moving the
 * start back forgets it (the client's real FIN comes again), instead of
 * finding it at the end of the resent request. */
TEST(fin_kept_ahead_of_a_chance_start_is_forgotten)
{
	static const char req[] = GET("/");
	const uint32_t len = sizeof(req) - 1;
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	REQUIRE(open_past_lost_request(&c, len));
	h_send_at(&h, &c, c.isn + 1 + 2 * len, c.rcv, TCP_ACK | TCP_FIN, NULL,
		  0);
	CHECK_EQ(h.nout, 0); /* kept, len bytes ahead */
	h_send_seg(&h, &c, TCP_ACK, req, len);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
	CHECK(p.payload_len > 0);
	CHECK(!(p.flags & TCP_FIN));
	CHECK_EQ(p.ack, c.snd);
	tcp_engine_free(&h.e);
}

/* A chance start further past ISN + 1 than our SYN-ACK's window lets a
 * client send is no lost request: data from ISN + 1 is only acked. */
TEST(chance_start_beyond_the_window_is_kept)
{
	static const char req[] = GET("/");
	struct h_conn c;
	struct pkt p;
	uint32_t past;

	REQUIRE(!h_init(&h));
	past = h.cfg.window + 1u;
	REQUIRE(open_past_lost_request(&c, past));
	h_send_at(&h, &c, c.isn + 1, c.rcv, TCP_ACK, req, sizeof(req) - 1);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.payload_len, 0);
	CHECK_EQ(p.ack, c.isn + 1 + past);
	CHECK_EQ(stat(TCP_STAT_requests), 0);
	tcp_engine_free(&h.e);
}

/* Checks that every frame out acknowledges ack; returns how many. */
static uint32_t acks_each(struct h_conn *c, uint32_t ack)
{
	struct pkt p;
	uint32_t i;

	for (i = 0; i < h.nout; i++) {
		CHECK(!h_parse(&h, i, c, &p));
		CHECK_EQ(p.ack, ack);
	}
	return h.nout;
}

/*
 * Once we close such a flow (its idle timeout: our FIN acknowledges the
 * chance start), the request from ISN + 1 does not move the flow back:
 * every segment after it still acknowledges what our FIN did, not less.
 */
TEST(chance_start_is_kept_once_we_close)
{
	static const char req[] = GET("/");
	const uint32_t len = sizeof(req) - 1;
	struct h_conn c;
	struct pkt p;
	uint32_t seen;

	REQUIRE(!h_init(&h));
	REQUIRE(open_past_lost_request(&c, 2 * len));
	h_advance(&h, h.cfg.idle_timeout_ms);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
	REQUIRE(p.flags & TCP_FIN);
	CHECK_EQ(p.ack, c.isn + 1 + 2 * len);
	h_send_at(&h, &c, c.isn + 1, c.rcv, TCP_ACK, req, len);
	seen = acks_each(&c, c.isn + 1 + 2 * len);
	h_advance(&h, h.cfg.delack_ms);
	seen += acks_each(&c, c.isn + 1 + 2 * len);
	CHECK(seen >= 1);
	CHECK_EQ(stat(TCP_STAT_requests), 0);
	tcp_engine_free(&h.e);
}

/*
 * A keep-alive probe carrying one byte (SEQ = RCV.NXT - 1, as some stacks
 * send) on a connection that has sent nothing yet only gets an ACK, even
 * where that SEQ - 1 passes the cookie's 5 bits: it is not the start of a
 * stream whose first data was lost.
 */
TEST(one_byte_probe_before_any_data_is_only_acked)
{
	static const char req[] = GET("/");
	struct h_conn c;
	struct pkt p;
	uint16_t port;

	REQUIRE(!h_init(&h));
	for (port = 42000; port < 42200; port++) {
		h_conn_init(&c, 4, port);
		REQUIRE(!h_connect(&h, &c));
		h_send_at(&h, &c, c.snd - 1, c.rcv, TCP_ACK, "x", 1);
		REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
		CHECK_EQ(p.payload_len, 0);
		CHECK_EQ(p.ack, c.snd);
		h_send_seg(&h, &c, TCP_ACK, req, sizeof(req) - 1);
		REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
		CHECK(p.payload_len > 0);
		c.rcv += p.payload_len;
		h_send_seg(&h, &c, TCP_RST, NULL, 0);
	}
	CHECK_EQ(stat(TCP_STAT_requests), 200);
	CHECK_EQ(flows(), 0);
	tcp_engine_free(&h.e);
}

/*
 * A connection's first segment, a partial head, sent again (our ACK was
 * slow): it validates at ISN + 1 as every first segment does, but the
 * stream has begun, so it is old data, only acknowledged.
 */
TEST(first_partial_head_sent_again_is_only_acked)
{
	static const char part[] = "GET /again HTTP/1.1\r\nHo";
	static const char rest[] = "st: h\r\n\r\n";
	char out[2048];
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40077);
	REQUIRE(!h_connect(&h, &c));
	h_send_seg(&h, &c, TCP_ACK, part, sizeof(part) - 1);
	h_send_at(&h, &c, c.isn + 1, c.rcv, TCP_ACK, part, sizeof(part) - 1);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.payload_len, 0);
	CHECK_EQ(p.ack, c.snd);
	h_send_seg(&h, &c, TCP_ACK, rest, sizeof(rest) - 1);
	REQUIRE(h_payload(&h, &c, out, sizeof(out)) > 0);
	CHECK(!strncmp(out, "HTTP/1.1 302 Found\r\n", 20));
	CHECK(strstr(out, "k8s.gcr.io/again\r\n") != NULL);
	tcp_engine_free(&h.e);
}

TEST(http10_closes_and_lingers_for_client_fin)
{
	static const char req[] =
		"GET /old HTTP/1.0\r\n\r\nGET /more HTTP/1.0\r\n";
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40080);
	REQUIRE(!h_connect(&h, &c));
	h_send_seg(&h, &c, TCP_ACK, req, sizeof(req) - 1);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK(p.flags & TCP_FIN);
	CHECK_EQ(p.ack, c.snd); /* the rest was read and dropped */
	CHECK_EQ(stat(TCP_STAT_requests), 1);
	c.rcv = p.seq + p.payload_len + 1;
	h_send_seg(&h, &c, TCP_ACK, NULL, 0);
	CHECK_EQ(flows(), 1); /* half-closed, waiting for the client's FIN */
	/* More input while lingering is acknowledged and dropped. */
	h_send_seg(&h, &c, TCP_ACK, "junk", 4);
	h_advance(&h, h.cfg.delack_ms);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.ack, c.snd);
	CHECK_EQ(p.payload_len, 0);
	/* No FIN from the client: freed at the linger timeout. */
	h_advance(&h, h.cfg.linger_ms);
	CHECK_EQ(flows(), 0);
	tcp_engine_free(&h.e);
}

TEST(rst_rfc5961)
{
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40090);
	REQUIRE(!h_connect(&h, &c));
	/* In window but not exact: challenge ACK, flow stays. */
	h_send_at(&h, &c, c.snd + 100, 0, TCP_RST, NULL, 0);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.flags, TCP_ACK);
	CHECK_EQ(p.ack, c.snd);
	CHECK_EQ(flows(), 1);
	/* Out of window: ignored. */
	h_send_at(&h, &c, c.snd + 1000000, 0, TCP_RST, NULL, 0);
	CHECK_EQ(h.nout, 0);
	CHECK_EQ(flows(), 1);
	/* A SYN on the established flow: challenge ACK. */
	h_send_at(&h, &c, c.isn + 5000, 0, TCP_SYN, NULL, 0);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.flags, TCP_ACK);
	CHECK_EQ(flows(), 1);
	/* Exactly at the expected sequence: reset. */
	h_send_at(&h, &c, c.snd, 0, TCP_RST, NULL, 0);
	CHECK_EQ(h.nout, 0);
	CHECK_EQ(flows(), 0);
	CHECK_EQ(stat(TCP_STAT_rst_rcvd), 1);
	tcp_engine_free(&h.e);
}

TEST(challenge_acks_limited_per_flow)
{
	struct h_conn a, b;
	uint32_t i, sent = 0;

	REQUIRE(!h_init(&h));
	h_conn_init(&a, 4, 40091);
	h_conn_init(&b, 4, 40092);
	REQUIRE(!h_connect(&h, &a));
	REQUIRE(!h_connect(&h, &b));
	for (i = 0; i < 50; i++) {
		h_send_at(&h, &a, a.snd + 1 + i, 0, TCP_RST, NULL, 0);
		sent += h.nout;
	}
	CHECK_EQ(sent, h.cfg.challenge_per_sec);
	/* Another flow still gets its challenge ACK: the limit is per flow. */
	h_send_at(&h, &b, b.snd + 1, 0, TCP_RST, NULL, 0);
	CHECK_EQ(h.nout, 1);
	tcp_engine_free(&h.e);
}

TEST(keepalive_probe_is_acked)
{
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40100);
	REQUIRE(!h_connect(&h, &c));
	h_send_at(&h, &c, c.snd - 1, c.rcv, TCP_ACK, NULL, 0);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.ack, c.snd);
	CHECK_EQ(flows(), 1);
	tcp_engine_free(&h.e);
}

TEST(out_of_order_dropped_with_dup_ack)
{
	static const char req[] = GET("/");
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40110);
	REQUIRE(!h_connect(&h, &c));
	h_send_at(&h, &c, c.snd + 10, c.rcv, TCP_ACK, req + 10,
		  sizeof(req) - 11);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.ack, c.snd); /* duplicate ACK, nothing taken */
	CHECK_EQ(p.payload_len, 0);
	CHECK_EQ(stat(TCP_STAT_out_of_order), 1);
	h_send_seg(&h, &c, TCP_ACK, req, sizeof(req) - 1);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.payload_len, sizeof(expect_root) - 1);
	tcp_engine_free(&h.e);
}

/* A bare FIN that overtook the request (the ACK ring is read before the
 * socket) is kept, not dropped: the request completes it. Data past a
 * kept FIN voids it. */
TEST(fin_ahead_of_the_request_is_kept)
{
	static const char req[] = GET("/");
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40112);
	REQUIRE(!h_connect(&h, &c));
	h_send_at(&h, &c, c.snd + sizeof(req) - 1, c.rcv, TCP_ACK | TCP_FIN,
		  NULL, 0);
	CHECK_EQ(h.nout, 0); /* no duplicate ACK: nothing is missing yet */
	CHECK_EQ(stat(TCP_STAT_out_of_order), 1);
	h_send_seg(&h, &c, TCP_ACK, req, sizeof(req) - 1);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.payload_len, sizeof(expect_root) - 1);
	CHECK(p.flags & TCP_FIN); /* the client's FIN is in: we close too */
	CHECK_EQ(p.ack, c.snd + 1);
	c.snd++;
	c.rcv = p.seq + p.payload_len + 1;
	h_send_seg(&h, &c, TCP_ACK, NULL, 0);
	CHECK_EQ(flows(), 0);

	/* A FIN 5 bytes ahead, then 10 bytes: not the end after all. */
	h_conn_init(&c, 4, 40113);
	REQUIRE(!h_connect(&h, &c));
	h_send_at(&h, &c, c.snd + 5, c.rcv, TCP_ACK | TCP_FIN, NULL, 0);
	CHECK_EQ(h.nout, 0);
	h_send_seg(&h, &c, TCP_ACK, req, 10);
	h_advance(&h, h.cfg.delack_ms);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.ack, c.snd); /* 10 bytes, no FIN */
	CHECK(!(p.flags & TCP_FIN));
	h_send_seg(&h, &c, TCP_ACK, req + 10, sizeof(req) - 11);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.payload_len, sizeof(expect_root) - 1);
	CHECK(!(p.flags & TCP_FIN)); /* keep-alive: still open */
	CHECK_EQ(flows(), 1);
	tcp_engine_free(&h.e);
}

static unsigned int closing_calls, closing_gone;
static struct flow_key closing_key;

static void count_closing(void *ctx, const struct flow_key *key, bool sent)
{
	(void)ctx;
	if (sent)
		closing_calls++;
	else
		closing_gone++;
	closing_key = *key;
}

/* The I/O layer hears of our FIN once, when it first goes out (it lets
 * the peer's answering FIN wait: bpf/closing.h); not of a keep-alive
 * answer, nor of the FIN sent again, nor of one that answers the peer's;
 * and of the flow's end. */
TEST(our_fin_is_reported_once)
{
	static const char req[] = GET("/");
	static const char req10[] = "GET / HTTP/1.0\r\n\r\n";
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	h.e.tx.closing = count_closing;
	closing_calls = closing_gone = 0;
	h_conn_init(&c, 4, 40114);
	REQUIRE(!h_connect(&h, &c));
	h_send_seg(&h, &c, TCP_ACK, req, sizeof(req) - 1);
	REQUIRE(h.nout == 1);
	CHECK_EQ(closing_calls, 0);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	c.rcv = p.seq + p.payload_len;
	h_send_seg(&h, &c, TCP_ACK, req10, sizeof(req10) - 1);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK(p.flags & TCP_FIN);
	CHECK_EQ(closing_calls, 1);
	CHECK_EQ(closing_key.sport, htons(40114));
	CHECK_EQ(closing_key.family, 4);
	h_advance(&h, h.e.cfg.rto_init_ms);
	REQUIRE(h.nout == 1); /* the response and FIN again */
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK(p.flags & TCP_FIN);
	CHECK_EQ(closing_calls, 1);
	CHECK_EQ(closing_gone, 0);
	c.rcv = p.seq + p.payload_len + 1;
	h_send_seg(&h, &c, TCP_ACK | TCP_FIN, NULL, 0);
	CHECK_EQ(flows(), 0);
	CHECK_EQ(closing_gone, 1);

	/* The client's FIN first: ours answers it, nobody to tell. */
	h_conn_init(&c, 4, 40115);
	REQUIRE(!h_connect(&h, &c));
	h_send_seg(&h, &c, TCP_ACK | TCP_FIN, NULL, 0);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK(p.flags & TCP_FIN);
	CHECK_EQ(closing_calls, 1);
	tcp_engine_free(&h.e);
}

TEST(response_retransmitted_with_backoff_then_giveup)
{
	static const char req[] = GET("/");
	uint64_t last = 0, gap, prev_gap = 0;
	struct h_conn c;
	struct pkt p;
	int i, resends = 0;

	memset(&h, 0, sizeof(h));
	h_config(&h);
	h.cfg.send_timeout_ms = 0; /* the retransmission limit alone */
	REQUIRE(!h_start(&h));
	h_conn_init(&c, 4, 40120);
	REQUIRE(!h_connect(&h, &c));
	h_send_seg(&h, &c, TCP_ACK, req, sizeof(req) - 1);
	REQUIRE(h.nout == 1);
	last = h.now;
	/* Never acknowledged: resent with doubling intervals. */
	for (i = 0; i < 200000 && flows(); i++) {
		h_advance(&h, 10);
		if (!h.nout)
			continue;
		REQUIRE(!h_parse(&h, 0, &c, &p));
		if (p.flags & TCP_RST)
			break;
		CHECK_EQ(p.seq, c.rcv);
		CHECK_EQ(p.payload_len, sizeof(expect_root) - 1);
		gap = h.now - last;
		if (prev_gap)
			CHECK(gap >= prev_gap * 2 - 20 ||
			      gap >= h.cfg.rto_max_ms - 20);
		prev_gap = gap;
		last = h.now;
		resends++;
	}
	CHECK_EQ(resends, h.cfg.max_retries);
	CHECK(p.flags & TCP_RST);
	CHECK_EQ(flows(), 0);
	CHECK_EQ(stat(TCP_STAT_giveups), 1);
	CHECK_EQ(h.e.sndpool.used, 0);
	tcp_engine_free(&h.e);
}

TEST(ack_stops_retransmission)
{
	static const char req[] = GET("/");
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40121);
	REQUIRE(!h_connect(&h, &c));
	h_send_seg(&h, &c, TCP_ACK, req, sizeof(req) - 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	c.rcv = p.seq + p.payload_len;
	h_send_seg(&h, &c, TCP_ACK, NULL, 0);
	CHECK_EQ(h.e.sndpool.used, 0); /* ring given back once acked */
	h_advance(&h, 5000);
	CHECK_EQ(h.nout, 0);
	CHECK_EQ(stat(TCP_STAT_retransmits), 0);
	tcp_engine_free(&h.e);
}

TEST(idle_timeout_closes)
{
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40130);
	REQUIRE(!h_connect(&h, &c));
	h_advance(&h, h.cfg.idle_timeout_ms - 1);
	CHECK_EQ(h.nout, 0);
	h_advance(&h, 1);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.flags, TCP_ACK | TCP_FIN);
	c.rcv = p.seq + 1;
	h_send_seg(&h, &c, TCP_ACK | TCP_FIN, NULL, 0);
	CHECK_EQ(flows(), 0);
	CHECK_EQ(stat(TCP_STAT_timeouts), 1);
	tcp_engine_free(&h.e);
}

/*
 * Karn: a response sent again because the client sent its request again
 * (before our timer fired) gives no RTT sample, whose acknowledgment could
 * be of either copy. The RTO stays what the first exchange made it.
 */
TEST(response_sent_again_for_a_repeated_request_is_not_timed)
{
	static const char req[] = GET("/");
	struct h_conn c;
	struct pkt p;
	uint32_t seq;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40135);
	REQUIRE(!h_connect(&h, &c));
	/* A 300-ms sample: RTO 300 + 4 x 150 = 900 ms. */
	h_send_seg(&h, &c, TCP_ACK | TCP_PSH, req, sizeof(req) - 1);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
	c.rcv = p.seq + p.payload_len;
	h_advance(&h, 300);
	h_send_seg(&h, &c, TCP_ACK, NULL, 0);
	/* Lost; 800 ms on the client sends its request again: sent again
	 * at once, and that copy acknowledged 10 ms later. */
	seq = c.snd;
	h_send_seg(&h, &c, TCP_ACK | TCP_PSH, req, sizeof(req) - 1);
	REQUIRE(h.nout == 1);
	h_advance(&h, 800);
	CHECK_EQ(h.nout, 0);
	c.snd = seq;
	h_send_seg(&h, &c, TCP_ACK | TCP_PSH, req, sizeof(req) - 1);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
	CHECK(p.payload_len > 0);
	c.rcv = p.seq + p.payload_len;
	h_advance(&h, 10);
	h_send_seg(&h, &c, TCP_ACK, NULL, 0);
	/* A sample of 810 ms would have made it 1,323 ms. */
	h_send_seg(&h, &c, TCP_ACK | TCP_PSH, req, sizeof(req) - 1);
	REQUIRE(h.nout == 1);
	h_advance(&h, 899);
	CHECK_EQ(h.nout, 0);
	h_advance(&h, 1);
	CHECK_EQ(h.nout, 1);
	tcp_engine_free(&h.e);
}

/*
 * Our FIN is lost, and lost again, while the client, which missed it,
 * sends a request (read, dropped and acknowledged) and waits for its
 * answer: the FIN is retransmitted past the linger, as data would be,
 * until the client has it or we give up, with an RST at the FIN's sequence
 * number, the one the client takes an RST at. Acknowledged, the FIN ends
 * the wait for the client's after the linger, without an RST.
 */
TEST(unacknowledged_fin_is_retransmitted_past_the_linger)
{
	static const char req[] = GET("/late");
	struct h_conn c;
	struct pkt p;
	uint32_t fin_seq, i, fins = 0;
	uint64_t rsts;

	REQUIRE(!h_init(&h));
	rsts = stat(TCP_STAT_rst_sent);
	h_conn_init(&c, 4, 40132);
	REQUIRE(!h_connect(&h, &c));
	h_advance(&h, h.cfg.idle_timeout_ms);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.flags, TCP_ACK | TCP_FIN);
	fin_seq = p.seq;
	h_send_seg(&h, &c, TCP_ACK | TCP_PSH, req, sizeof(req) - 1);
	for (i = 0; i < h.cfg.linger_ms / 100 + 1; i++) {
		h_advance(&h, 100);
		if (h.nout && !h_parse(&h, 0, &c, &p) && (p.flags & TCP_FIN))
			fins++;
	}
	CHECK_EQ(flows(), 1);
	CHECK(fins >= 2);
	/* The last FIN gets through; the client's FIN follows. */
	for (i = 0; i < 600 && h.nout == 0; i++)
		h_advance(&h, 100);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.flags, TCP_ACK | TCP_FIN);
	CHECK_EQ(p.seq, fin_seq);
	c.rcv = p.seq + 1;
	h_send_seg(&h, &c, TCP_ACK | TCP_FIN, NULL, 0);
	CHECK_EQ(flows(), 0);
	CHECK_EQ(stat(TCP_STAT_rst_sent), rsts);

	/* Never acknowledged: an RST at the FIN's sequence number. */
	h_conn_init(&c, 4, 40133);
	REQUIRE(!h_connect(&h, &c));
	h_advance(&h, h.cfg.idle_timeout_ms);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
	fin_seq = p.seq;
	for (i = 0; i < 2000 && flows(); i++)
		h_advance(&h, 100);
	CHECK_EQ(flows(), 0);
	REQUIRE(h.nout >= 1 && !h_parse(&h, h.nout - 1, &c, &p));
	CHECK_EQ(p.flags, TCP_RST | TCP_ACK);
	CHECK_EQ(p.seq, fin_seq);
	CHECK_EQ(stat(TCP_STAT_rst_sent), rsts + 1);

	/* Acknowledged: freed after the linger, no RST. */
	h_conn_init(&c, 4, 40134);
	REQUIRE(!h_connect(&h, &c));
	h_advance(&h, h.cfg.idle_timeout_ms);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c, &p));
	c.rcv = p.seq + 1;
	h_send_seg(&h, &c, TCP_ACK, NULL, 0);
	h_advance(&h, h.cfg.linger_ms);
	CHECK_EQ(flows(), 0);
	CHECK_EQ(h.nout, 0);
	CHECK_EQ(stat(TCP_STAT_rst_sent), rsts + 1);
	tcp_engine_free(&h.e);
}

TEST(header_timeout_is_not_reset_by_dribbling)
{
	static const char req[] = GET("/slow");
	struct h_conn c;
	struct pkt p;
	uint32_t i, fin_at = 0;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40140);
	REQUIRE(!h_connect(&h, &c));
	for (i = 0; i < sizeof(req) - 2 && !fin_at; i++) {
		h_send_seg(&h, &c, TCP_ACK, req + i, 1);
		h_advance(&h, 1000);
		if (h.nout && !h_parse(&h, h.nout - 1, &c, &p) &&
		    (p.flags & TCP_FIN))
			fin_at = i;
	}
	/* Closed after header_timeout, though bytes kept coming. */
	CHECK(fin_at > 0);
	CHECK_EQ(fin_at, h.cfg.header_timeout_ms / 1000 - 1);
	tcp_engine_free(&h.e);
}

TEST(zero_window_waits_probes_and_resumes)
{
	static const char req[] = GET("/");
	struct h_conn c;
	struct pkt p;
	int probes = 0, i;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40150);
	REQUIRE(!h_connect(&h, &c));
	c.win = 0;
	h_send_seg(&h, &c, TCP_ACK, req, sizeof(req) - 1);
	/* Nothing fits in a zero window: only an ACK for the request. */
	for (i = 0; i < (int)h.nout; i++) {
		REQUIRE(!h_parse(&h, i, &c, &p));
		CHECK_EQ(p.payload_len, 0);
	}
	for (i = 0; i < 30; i++) {
		h_advance(&h, 100);
		if (h.nout && !h_parse(&h, 0, &c, &p) && p.payload_len == 1)
			probes++;
	}
	CHECK(probes >= 1);
	/* Window opens: the rest of the response follows. */
	c.win = 65535;
	h_send_seg(&h, &c, TCP_ACK, NULL, 0);
	REQUIRE(h.nout >= 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK(p.payload_len >= sizeof(expect_root) - 2);
	tcp_engine_free(&h.e);
}

/*
 * After a one-byte persist probe the peer's window is still zero: ACKs
 * (and the give-up RST) go out at the window's edge, where the peer
 * accepts them, not at snd_nxt past it.
 */
TEST(acks_after_a_probe_stay_in_the_window)
{
	static const char req[] = GET("/");
	struct h_conn c;
	struct pkt p;
	uint32_t una = 0;
	int i, probed = 0, acks;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40155);
	REQUIRE(!h_connect(&h, &c));
	c.win = 0;
	h_send_seg(&h, &c, TCP_ACK, req, sizeof(req) - 1);
	una = c.rcv;
	for (i = 0; i < 30 && !probed; i++) {
		h_advance(&h, 100);
		probed = h.nout && !h_parse(&h, 0, &c, &p) &&
			 p.payload_len == 1;
	}
	REQUIRE(probed);
	CHECK_EQ(p.seq, una);
	/* New data from the client (window still zero): its ACK, delayed
	 * (a partial head), goes out at una. */
	h_send_seg(&h, &c, TCP_ACK, "G", 1);
	if (!h.nout)
		h_advance(&h, h.cfg.delack_ms);
	acks = 0;
	for (i = 0; i < (int)h.nout; i++) {
		REQUIRE(!h_parse(&h, i, &c, &p));
		if (!p.payload_len) {
			CHECK_EQ(p.seq, una);
			acks++;
		}
	}
	CHECK(acks > 0);
	/* Given up: the RST too. */
	for (i = 0; i < 2000 && flows(); i++)
		h_advance(&h, 1000);
	CHECK_EQ(flows(), 0);
	REQUIRE(h.nout >= 1 && !h_parse(&h, h.nout - 1, &c, &p));
	CHECK(p.flags & TCP_RST);
	CHECK_EQ(p.seq, una);
	tcp_engine_free(&h.e);
}

TEST(table_full_refuses_with_rst)
{
	struct h_conn c[4];
	struct pkt p;
	int i;

	memset(&h, 0, sizeof(h));
	h_config(&h);
	h.cfg.max_flows = 3;
	REQUIRE(!h_start(&h));
	for (i = 0; i < 3; i++) {
		h_conn_init(&c[i], 4, (uint16_t)(40160 + i));
		REQUIRE(!h_connect(&h, &c[i]));
	}
	h_conn_init(&c[3], 4, 40163);
	h_send_seg(&h, &c[3], TCP_SYN, NULL, 0);
	REQUIRE(!h_parse(&h, 0, &c[3], &p));
	c[3].rcv = p.seq + 1;
	h_send_seg(&h, &c[3], TCP_ACK, NULL, 0);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c[3], &p));
	CHECK_EQ(p.flags, TCP_RST);
	CHECK_EQ(stat(TCP_STAT_table_full), 1);
	/* Existing connections keep working. */
	h_send_seg(&h, &c[0], TCP_ACK, GET("/"), sizeof(GET("/")) - 1);
	CHECK_EQ(h.nout, 1);
	tcp_engine_free(&h.e);
}

TEST(bad_checksum_dropped)
{
	uint8_t buf[H_FRAME];
	struct h_conn c;
	uint32_t n;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40170);
	n = h_frame(&c, buf, c.isn, 0, TCP_SYN, NULL, 0);
	buf[n - 1] ^= 0x40; /* inside the TCP options */
	h_input(&h, buf, n, TCP_TARGET_NONE);
	CHECK_EQ(h.nout, 0);
	CHECK_EQ(stat(TCP_STAT_rx_bad_csum), 1);
	tcp_engine_free(&h.e);
}

/* Replies carry the peer's tag as it came: an 802.1ad (S-)tag is not
 * answered with an 802.1Q one, which its switch would not take. */
TEST(ipv6_and_vlan)
{
	static const char req[] = GET("/v6");
	static const uint16_t tpids[] = { ETH_P_8021Q, ETH_P_8021AD };
	struct h_conn c;
	struct pkt p;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		REQUIRE(!h_init(&h));
		h_conn_init(&c, 6, 40180);
		c.vlan_tpid = tpids[i];
		h_send_seg(&h, &c, TCP_SYN, NULL, 0);
		REQUIRE(!h_parse(&h, 0, &c, &p));
		CHECK_EQ(p.flags, TCP_SYN | TCP_ACK);
		CHECK_EQ(p.vlan_tpid, tpids[i]);
		c.rcv = p.seq + 1;
		h_send_seg(&h, &c, TCP_ACK, NULL, 0);
		h_send_seg(&h, &c, TCP_ACK, req, sizeof(req) - 1);
		REQUIRE(h.nout == 1);
		REQUIRE(!h_parse(&h, 0, &c, &p));
		CHECK_EQ(p.vlan_tpid, tpids[i]);
		CHECK_EQ(p.vlan_tci, 42);
		CHECK_EQ(p.key.family, 6);
		CHECK(memmem(p.payload, p.payload_len, "k8s.gcr.io/v6\r\n",
			     15));
		tcp_engine_free(&h.e);
	}
}

TEST(unknown_flow_rst_rate_limited)
{
	struct h_conn c;
	uint32_t i, rsts = 0;

	REQUIRE(!h_init(&h));
	for (i = 0; i < 5000; i++) {
		h_conn_init(&c, 4, (uint16_t)(20000 + i));
		h_send_at(&h, &c, 1, 2, TCP_ACK, "x", 1);
		rsts += h.nout;
	}
	/* All in the same millisecond: at most one second's worth. */
	CHECK_EQ(rsts, h.cfg.rst_rate);
	CHECK_EQ(stat(TCP_STAT_rst_limited), 5000 - h.cfg.rst_rate);
	tcp_engine_free(&h.e);
}

TEST(data_on_syn_is_not_acknowledged)
{
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40190);
	h_send_at(&h, &c, c.isn, 0, TCP_SYN, GET("/"), sizeof(GET("/")) - 1);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.ack, c.isn + 1);
	CHECK_EQ(p.payload_len, 0);
	tcp_engine_free(&h.e);
}

/* What a client learns from the server's output frames. */
struct seen {
	uint32_t bytes; /* payload bytes in order */
	uint32_t ack; /* highest ACK from the server */
	uint16_t win; /* window in the latest frame */
	uint32_t frames;
	char *buf;
	uint32_t cap;
};

static void absorb(struct h_conn *c, struct seen *s)
{
	struct pkt p;
	uint32_t i;

	for (i = 0; i < h.nout; i++) {
		if (h_parse(&h, i, c, &p))
			continue;
		s->frames++;
		s->ack = p.ack;
		s->win = p.win;
		/* Take in-order data only, like a receiver without SACK. */
		if (p.seq == c->rcv && p.payload_len) {
			if (s->buf && s->bytes + p.payload_len < s->cap)
				memcpy(s->buf + s->bytes, p.payload,
				       p.payload_len);
			s->bytes += p.payload_len;
			c->rcv += p.payload_len;
		}
	}
}

TEST(big_pipeline_is_flow_controlled_not_dropped)
{
	enum { N = 3000 };
	static char reqs[N * 40], got[N * 260];
	struct seen s = { .buf = got, .cap = sizeof(got) };
	uint32_t len = 0, sent = 0, i, rounds = 0;
	struct h_conn c;
	char want[64], *at = got;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 41000);
	REQUIRE(!h_connect(&h, &c));
	s.win = 65535;
	s.ack = c.snd;
	for (i = 0; i < N; i++)
		len += (uint32_t)snprintf(reqs + len, sizeof(reqs) - len,
					  GET("/r/%u"), i);
	/* The client sends what the window allows and reads everything. */
	while (sent < len && rounds++ < 100000) {
		uint32_t in_flight = c.snd - s.ack, n = len - sent;

		if (in_flight < s.win) {
			if (n > s.win - in_flight)
				n = s.win - in_flight;
			if (n > 1460)
				n = 1460;
			h_send_seg(&h, &c, TCP_ACK, reqs + sent, n);
			sent += n;
		} else {
			h_send_seg(&h, &c, TCP_ACK, NULL, 0); /* reads, ACKs */
		}
		absorb(&c, &s);
		/* Nothing the window allowed was dropped. */
		CHECK_EQ(s.ack, c.snd);
		if (s.ack != c.snd)
			break;
	}
	for (i = 0; i < 100 && s.bytes < sizeof(got) - 300; i++) {
		h_send_seg(&h, &c, TCP_ACK, NULL, 0);
		absorb(&c, &s);
	}
	CHECK_EQ(sent, len);
	CHECK_EQ(stat(TCP_STAT_requests), N);
	got[s.bytes] = 0;
	for (i = 0; i < N; i += 97) {
		snprintf(want, sizeof(want), "k8s.gcr.io/r/%u\r\n", i);
		at = strstr(at, want);
		CHECK(at != NULL);
		if (!at)
			break;
	}
	CHECK_EQ(stat(TCP_STAT_retransmits), 0);
	tcp_engine_free(&h.e);
}

TEST(client_that_stops_reading_gets_a_zero_window)
{
	static char reqs[200000];
	struct seen s = { 0 };
	uint32_t len = 0, sent = 0, i;
	struct h_conn c;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 41001);
	REQUIRE(!h_connect(&h, &c));
	c.win = 0; /* never reads: its receive window stays closed */
	s.win = 65535;
	s.ack = c.snd;
	while (len + 40 < sizeof(reqs))
		len += (uint32_t)snprintf(reqs + len, sizeof(reqs) - len,
					  GET("/z/%u"), len);
	for (i = 0; i < 1000 && sent < len; i++) {
		uint32_t room = s.win - (c.snd - s.ack), n = len - sent;

		if (!room)
			break;
		if (n > room)
			n = room;
		if (n > 1460)
			n = 1460;
		h_send_seg(&h, &c, TCP_ACK, reqs + sent, n);
		sent += n;
		absorb(&c, &s);
		if (s.ack != c.snd) { /* a delayed ACK */
			h_advance(&h, h.cfg.delack_ms);
			absorb(&c, &s);
		}
		CHECK_EQ(s.ack, c.snd); /* in-window data is always taken */
	}
	CHECK_EQ(s.win, 0); /* the backlog filled: flow control stops us */
	CHECK(sent < len);
	/* Bounded: one send ring and one backlog, then probes and give-up. */
	CHECK(h.e.sndpool.used <= 2);
	for (i = 0; i < 100 && flows(); i++)
		h_advance(&h, 10000);
	CHECK_EQ(flows(), 0);
	CHECK_EQ(h.e.sndpool.used, 0);
	tcp_engine_free(&h.e);
}

/* Sends n pipelined requests and returns the server's output frames. */
static void flight(struct h_conn *c, uint32_t n)
{
	char reqs[4096];
	uint32_t len = 0, i;

	for (i = 0; i < n; i++)
		len += (uint32_t)snprintf(reqs + len, sizeof(reqs) - len,
					  GET("/%0200u"), i);
	h_send_seg(&h, c, TCP_ACK, reqs, len);
}

TEST(three_dupacks_fast_retransmit_then_partial_ack_recovery)
{
	uint32_t base, seg2;
	struct h_conn c;
	struct pkt p;
	int i;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 41002);
	REQUIRE(!h_connect(&h, &c));
	base = c.rcv;
	flight(&c, 12); /* several full segments of responses */
	REQUIRE(h.nout >= 3);
	REQUIRE(!h_parse(&h, 1, &c, &p));
	seg2 = p.seq;
	/* Segments 1 and 2 lost; the client dup-ACKs base three times. */
	for (i = 0; i < 3; i++)
		h_send_at(&h, &c, c.snd, base, TCP_ACK, NULL, 0);
	REQUIRE(h.nout == 1); /* the third one: fast retransmit */
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.seq, base);
	CHECK_EQ(stat(TCP_STAT_fast_retransmits), 1);
	/* A partial ACK up to segment 2 resends segment 2 at once. */
	c.rcv = seg2;
	h_send_seg(&h, &c, TCP_ACK, NULL, 0);
	REQUIRE(h.nout >= 1);
	REQUIRE(!h_parse(&h, 0, &c, &p));
	CHECK_EQ(p.seq, seg2);
	CHECK_EQ(stat(TCP_STAT_retransmits), 0);
	tcp_engine_free(&h.e);
}

TEST(timeout_resends_the_whole_flight)
{
	uint32_t first, total = 0, i;
	struct h_conn c;
	struct pkt p;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 41003);
	REQUIRE(!h_connect(&h, &c));
	flight(&c, 12);
	first = h.nout;
	REQUIRE(first >= 3);
	h_advance(&h, h.cfg.rto_init_ms);
	CHECK_EQ(h.nout, first); /* go-back-N: every segment again */
	for (i = 0; i < h.nout; i++) {
		REQUIRE(!h_parse(&h, i, &c, &p));
		CHECK_EQ(p.seq, c.rcv + total);
		total += p.payload_len;
	}
	CHECK_EQ(stat(TCP_STAT_retransmits), 1);
	tcp_engine_free(&h.e);
}

/*
 * Shutting down: a new SYN is refused with an RST that acknowledges it; a
 * handshake already answered completes; an answered idle connection gets
 * our FIN at once; one not yet answered keeps waiting for its request,
 * which is answered with Connection: close.
 */
TEST(drain_refuses_syns_and_closes_served_idle_flows)
{
	struct h_conn served, fresh, late, syn;
	char buf[1024];
	struct pkt p;

	REQUIRE(!h_init(&h));
	h_conn_init(&served, 4, 41100);
	h_conn_init(&fresh, 4, 41101);
	h_conn_init(&late, 4, 41102);
	h_conn_init(&syn, 4, 41103);
	REQUIRE(!h_connect(&h, &served));
	h_send_seg(&h, &served, TCP_ACK | TCP_PSH, GET("/"),
		   sizeof(GET("/")) - 1);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &served, &p));
	served.rcv = p.seq + p.payload_len;
	h_send_seg(&h, &served, TCP_ACK, NULL, 0);
	REQUIRE(!h_connect(&h, &fresh));
	/* late's SYN-ACK went out before the drain began. */
	h_send_seg(&h, &late, TCP_SYN, NULL, 0);
	REQUIRE(!h_parse(&h, 0, &late, &p));
	late.rcv = p.seq + 1;

	h.nout = 0;
	tcp_drain(&h.e, h.now);
	REQUIRE(h.nout == 1); /* the served idle flow's FIN */
	REQUIRE(!h_parse(&h, 0, &served, &p));
	CHECK_EQ(p.flags & TCP_FIN, TCP_FIN);
	CHECK_EQ(p.payload_len, 0);

	h_send_seg(&h, &syn, TCP_SYN, NULL, 0);
	REQUIRE(h.nout == 1);
	REQUIRE(!h_parse(&h, 0, &syn, &p));
	CHECK_EQ(p.flags, TCP_RST | TCP_ACK);
	CHECK_EQ(p.ack, syn.isn + 1);
	CHECK_EQ(stat(TCP_STAT_drain_refused), 1);

	h_send_seg(&h, &late, TCP_ACK, NULL, 0);
	CHECK_EQ(h.nout, 0);
	CHECK_EQ(flows(), 3); /* served (closing), fresh, late */

	h_send_seg(&h, &fresh, TCP_ACK | TCP_PSH, GET("/"),
		   sizeof(GET("/")) - 1);
	h_payload(&h, &fresh, buf, sizeof(buf));
	CHECK(strstr(buf, "HTTP/1.1 302 Found\r\n") == buf);
	CHECK(strstr(buf, "\r\nConnection: close\r\n") != NULL);
	tcp_engine_free(&h.e);
}

/* Fairness between sources and bounded stalls */

/* Connects from IPv4 10.77.S.2 (source S) at port; 0 when established. */
static int connect_from(struct h_conn *c, uint8_t src, uint16_t port)
{
	h_conn_init(c, 4, port);
	c->caddr[2] = src;
	return h_connect(&h, c);
}

/* A request whose response the client never acknowledges: holds a ring. */
static bool hold_ring(struct h_conn *c)
{
	struct pkt p;

	h_send_seg(&h, c, TCP_ACK, GET("/"), sizeof(GET("/")) - 1);
	return h.nout == 1 && !h_parse(&h, 0, c, &p) && p.payload_len;
}

static bool last_is_rst(struct h_conn *c)
{
	struct pkt p;

	return h.nout && !h_parse(&h, h.nout - 1, c, &p) && (p.flags & TCP_RST);
}

TEST(per_source_flow_limit_refuses_with_rst)
{
	struct h_conn c[5], other;
	int i;

	memset(&h, 0, sizeof(h));
	h_config(&h);
	h.cfg.max_flows_per_source = 3;
	REQUIRE(!h_start(&h));
	for (i = 0; i < 3; i++)
		REQUIRE(!connect_from(&c[i], 1, (uint16_t)(42000 + i)));
	/* The fourth from the same address: refused once its handshake
	 * completes (SYN cookies keep no state before). */
	CHECK(connect_from(&c[3], 1, 42003));
	CHECK(last_is_rst(&c[3]));
	CHECK_EQ(stat(TCP_STAT_source_limited), 1);
	CHECK_EQ(flows(), 3);
	/* Another source is not affected. */
	CHECK(!connect_from(&other, 2, 42100));
	/* One closes: its source may open another. */
	h_send_seg(&h, &c[0], TCP_RST | TCP_ACK, NULL, 0);
	CHECK(!connect_from(&c[4], 1, 42004));
	CHECK_EQ(h.e.src.count, 2);
	tcp_engine_free(&h.e);
}

TEST(ipv6_sources_are_slash_64s)
{
	struct h_conn a, b, c;

	memset(&h, 0, sizeof(h));
	h_config(&h);
	h.cfg.max_flows_per_source = 1;
	REQUIRE(!h_start(&h));
	h_conn_init(&a, 6, 42200);
	REQUIRE(!h_connect(&h, &a));
	/* Same /64, another interface identifier: the same source. */
	h_conn_init(&b, 6, 42201);
	b.caddr[15] = 0x77;
	CHECK(h_connect(&h, &b));
	CHECK(last_is_rst(&b));
	/* Another /64: another source. */
	h_conn_init(&c, 6, 42202);
	c.caddr[7] = 0x01;
	CHECK(!h_connect(&h, &c));
	CHECK_EQ(stat(TCP_STAT_source_limited), 1);
	tcp_engine_free(&h.e);
}

/*
 * One source that never reads holds at most a quarter of the send pool;
 * another source is answered.
 */
TEST(one_source_holds_at_most_its_share_of_the_pool)
{
	struct h_conn c[12], other;
	int i, held = 0;

	REQUIRE(!h_init(&h)); /* 32 send buffers: a share of 8 */
	for (i = 0; i < 12; i++) {
		REQUIRE(!connect_from(&c[i], 1, (uint16_t)(42300 + i)));
		held += hold_ring(&c[i]);
	}
	CHECK_EQ(held, 8);
	CHECK_EQ(h.e.sndpool.used, 8);
	CHECK(stat(TCP_STAT_pool_refused) >= 4);
	REQUIRE(!connect_from(&other, 2, 42399));
	CHECK(hold_ring(&other));
	tcp_engine_free(&h.e);
}

/*
 * Heavy sources stop at the reserve; light sources take it; when it is
 * gone too, the heaviest source's oldest flow is reclaimed for a newcomer.
 */
TEST(reserve_for_light_sources_then_reclaim_from_the_heaviest)
{
	struct h_conn heavy[4][8], light[5];
	int s, i, held = 0;
	struct pkt p;

	REQUIRE(!h_init(&h)); /* 32 send buffers: reserve 4, share 8 */
	for (s = 0; s < 4; s++)
		for (i = 0; i < 8; i++) {
			REQUIRE(!connect_from(&heavy[s][i], (uint8_t)(10 + s),
					      (uint16_t)(42400 + s * 8 + i)));
			held += hold_ring(&heavy[s][i]);
		}
	/* 8 + 8 + 8, then the fourth source stops at the reserve. */
	CHECK_EQ(held, 28);
	CHECK_EQ(h.e.sndpool.count - h.e.sndpool.used, 4);
	for (i = 0; i < 4; i++) {
		REQUIRE(!connect_from(&light[i], (uint8_t)(20 + i),
				      (uint16_t)(42500 + i)));
		CHECK(hold_ring(&light[i]));
	}
	CHECK_EQ(h.e.sndpool.used, h.e.sndpool.count);
	CHECK_EQ(stat(TCP_STAT_reclaimed), 0);
	/* The pool is empty: the fifth light source still gets answered,
	 * and the first source's oldest flow pays (RST). */
	REQUIRE(!connect_from(&light[4], 24, 42504));
	h_send_seg(&h, &light[4], TCP_ACK, GET("/"), sizeof(GET("/")) - 1);
	CHECK_EQ(stat(TCP_STAT_reclaimed), 1);
	/* Its RST at the end of what it had in flight and at the start:
	 * the client takes the one at its next expected byte. */
	REQUIRE(h.nout == 3);
	REQUIRE(!h_parse(&h, 0, &heavy[0][0], &p));
	CHECK(p.flags & TCP_RST);
	CHECK_EQ(p.seq, heavy[0][0].rcv + sizeof(expect_root) - 1);
	REQUIRE(!h_parse(&h, 1, &heavy[0][0], &p));
	CHECK(p.flags & TCP_RST);
	CHECK_EQ(p.seq, heavy[0][0].rcv);
	CHECK_EQ(stat(TCP_STAT_rst_sent), 1);
	REQUIRE(!h_parse(&h, 2, &light[4], &p));
	CHECK_EQ(p.payload_len, sizeof(expect_root) - 1);
	CHECK_EQ(flows(), 4 * 8 + 5 - 1);
	tcp_engine_free(&h.e);
}

/*
 * A segment that acknowledges a flow's whole response and brings the next
 * request: the ring it empties is judged again for that request, as if put
 * back first. At the reserve, a source that is not light loses it, and the
 * request waits unacknowledged.
 */
TEST(ring_emptied_by_an_ack_is_judged_again_for_the_next_request)
{
	struct h_conn c[5], other[3][8], light;
	uint64_t refused, empty;
	int s, i, held = 0;
	struct pkt p;

	REQUIRE(!h_init(&h)); /* 32 send buffers: reserve 4, share 8 */
	REQUIRE(!connect_from(&c[0], 13, 42700));
	h_send_seg(&h, &c[0], TCP_ACK, GET("/"), sizeof(GET("/")) - 1);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c[0], &p) && p.payload_len);
	c[0].rcv = p.seq + p.payload_len;
	for (i = 1; i < 5; i++) {
		REQUIRE(!connect_from(&c[i], 13, (uint16_t)(42700 + i)));
		held += hold_ring(&c[i]);
	}
	for (s = 0; s < 3; s++)
		for (i = 0; i < 8; i++) {
			REQUIRE(!connect_from(&other[s][i], (uint8_t)(30 + s),
					      (uint16_t)(42710 + s * 8 + i)));
			held += hold_ring(&other[s][i]);
		}
	/* The third stops at the reserve, which a light source enters. */
	REQUIRE(!connect_from(&light, 40, 42740));
	held += hold_ring(&light);
	CHECK_EQ(held, 4 + 8 + 8 + 7 + 1);
	CHECK_EQ(h.e.sndpool.count - h.e.sndpool.used, 3);
	refused = stat(TCP_STAT_pool_refused);
	empty = stat(TCP_STAT_send_pool_empty);
	h_send_seg(&h, &c[0], TCP_ACK, GET("/"), sizeof(GET("/")) - 1);
	/* Refused for the response, then for a backlog: a bare ACK. */
	CHECK_EQ(stat(TCP_STAT_pool_refused) - refused, 2);
	CHECK_EQ(stat(TCP_STAT_send_pool_empty) - empty, 2);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c[0], &p));
	CHECK_EQ(p.payload_len, 0);
	CHECK_EQ(p.ack, c[0].snd - (uint32_t)(sizeof(GET("/")) - 1));
	CHECK_EQ(h.e.sndpool.used, 28);
	tcp_engine_free(&h.e);
}

/*
 * A peer that keeps acknowledging persist probes (as Linux does, one byte
 * at a time, its window still zero) is given up at the send timeout.
 */
TEST(send_timeout_bounds_a_zero_window_whatever_the_peer_acks)
{
	struct h_conn c;
	struct pkt p;
	int i;

	memset(&h, 0, sizeof(h));
	h_config(&h);
	h.cfg.send_timeout_ms = 5000;
	REQUIRE(!h_start(&h));
	REQUIRE(!connect_from(&c, 1, 42600));
	c.win = 0;
	h_send_seg(&h, &c, TCP_ACK, GET("/"), sizeof(GET("/")) - 1);
	for (i = 0; i < 100 && flows(); i++) {
		h_advance(&h, 100);
		if (h.nout && !h_parse(&h, 0, &c, &p) && p.payload_len == 1) {
			c.rcv = p.seq + 1; /* takes the probe's byte */
			h_send_seg(&h, &c, TCP_ACK, NULL, 0);
		}
	}
	CHECK_EQ(flows(), 0);
	CHECK(h.now - 1000000 <= 5000 + 200 + 100 * 2);
	CHECK_EQ(stat(TCP_STAT_send_timeouts), 1);
	CHECK_EQ(h.e.sndpool.used, 0);
	CHECK_EQ(h.e.src.count, 0);
	tcp_engine_free(&h.e);
}

/* A reader that makes progress is never given up by the send timeout. */
TEST(send_timeout_spares_a_reader_making_progress)
{
	static char reqs[4096];
	struct h_conn c;
	struct pkt p;
	uint32_t len = 0, i;

	memset(&h, 0, sizeof(h));
	h_config(&h);
	h.cfg.send_timeout_ms = 1000;
	REQUIRE(!h_start(&h));
	REQUIRE(!connect_from(&c, 1, 42610));
	for (i = 0; i < 40; i++)
		len += (uint32_t)snprintf(reqs + len, sizeof(reqs) - len,
					  GET("/%u"), i);
	c.win = 536;
	h_send_seg(&h, &c, TCP_ACK, reqs, len);
	/* What arrived is acknowledged 900 ms later: slow, but progress. */
	for (i = 0; i < 60 && flows(); i++) {
		uint32_t j, end = c.rcv;

		for (j = 0; j < h.nout; j++)
			if (!h_parse(&h, j, &c, &p) && p.payload_len &&
			    p.seq + p.payload_len - end < 0x80000000u)
				end = p.seq + p.payload_len;
		h_advance(&h, 900);
		if (end != c.rcv) {
			c.rcv = end;
			h_send_seg(&h, &c, TCP_ACK, NULL, 0);
		}
	}
	CHECK_EQ(flows(), 1);
	CHECK_EQ(stat(TCP_STAT_send_timeouts), 0);
	tcp_engine_free(&h.e);
}

/*
 * The head pool is empty and nobody holds enough of it to be reclaimed:
 * a request in two segments waits in the backlog, and a timer (not the
 * next segment, which may never come) answers it.
 */
TEST(deferred_request_is_answered_by_the_retry_timer)
{
	static const char part1[] = "GET /two HTTP/1.1\r\nAuthorization: x";
	static const char part2[] = "yz\r\nHost: x\r\n\r\n";
	struct h_conn slow[16], c;
	struct pkt p;
	int i;

	REQUIRE(!h_init(&h)); /* 16 head buffers */
	for (i = 0; i < 16; i++) {
		REQUIRE(!connect_from(&slow[i], (uint8_t)(30 + i),
				      (uint16_t)(42700 + i)));
		h_send_seg(&h, &slow[i], TCP_ACK, "GET /", 5);
	}
	CHECK_EQ(h.e.headpool.used, 16);
	REQUIRE(!connect_from(&c, 60, 42799));
	h_send_seg(&h, &c, TCP_ACK, part1, sizeof(part1) - 1);
	h_send_seg(&h, &c, TCP_ACK, part2, sizeof(part2) - 1);
	CHECK_EQ(stat(TCP_STAT_head_pool_empty) >= 1, 1);
	for (i = 0; i < 10 && !stat(TCP_STAT_requests); i++)
		h_advance(&h, 5);
	CHECK_EQ(stat(TCP_STAT_requests), 1);
	CHECK(stat(TCP_STAT_backlog_retries) >= 1);
	CHECK(h.nout >= 1 && !h_parse(&h, 0, &c, &p) && p.payload_len > 0);
	tcp_engine_free(&h.e);
}

/* RFC 5961 5.2: ACKs outside [snd_una - max window, snd_nxt]. */
TEST(unacceptable_acks_get_limited_challenges_and_are_dropped)
{
	static const char req[] = GET("/");
	struct h_conn c;
	uint32_t i, acks = 0;

	REQUIRE(!h_init(&h));
	REQUIRE(!connect_from(&c, 1, 42800));
	for (i = 0; i < 50; i++) {
		h_send_at(&h, &c, c.snd, c.rcv + 5000, TCP_ACK, NULL, 0);
		acks += h.nout;
	}
	CHECK_EQ(acks, h.cfg.challenge_per_sec);
	/* A request carried by an ACK far behind the window: dropped. */
	h_send_at(&h, &c, c.snd, c.rcv - 70000, TCP_ACK, req, sizeof(req) - 1);
	CHECK_EQ(stat(TCP_STAT_requests), 0);
	/* The same request with a good ACK is answered. */
	h_send_seg(&h, &c, TCP_ACK, req, sizeof(req) - 1);
	CHECK_EQ(stat(TCP_STAT_requests), 1);
	tcp_engine_free(&h.e);
}

/* An RST is challenged only inside the window we advertised. */
TEST(rst_window_is_the_advertised_one)
{
	struct h_conn c;
	struct flow *f;

	REQUIRE(!h_init(&h));
	h.e.cfg.challenge_per_sec = 100;
	REQUIRE(!connect_from(&c, 1, 42810));
	f = flow_at(&h.e.ft, h.e.src.src[1].oldest);
	f->rcv_wnd = 1000; /* as if the backlog had shrunk it */
	h_send_at(&h, &c, c.snd + 2000, 0, TCP_RST, NULL, 0);
	CHECK_EQ(h.nout, 0);
	h_send_at(&h, &c, c.snd + 500, 0, TCP_RST, NULL, 0);
	CHECK_EQ(h.nout, 1);
	CHECK_EQ(flows(), 1);
	tcp_engine_free(&h.e);
}

/* RTTs above 8.2 s (16 bits of ms * 8) no longer wrap the estimator. */
TEST(long_rtt_does_not_wrap_the_estimator)
{
	struct h_conn c;
	struct flow *f;

	memset(&h, 0, sizeof(h));
	h_config(&h);
	h.cfg.rto_init_ms = 20000;
	REQUIRE(!h_start(&h));
	REQUIRE(!connect_from(&c, 1, 42820));
	h_send_seg(&h, &c, TCP_ACK, GET("/"), sizeof(GET("/")) - 1);
	REQUIRE(h.nout == 1);
	h.now += 10000;
	c.rcv += sizeof(expect_root) - 1;
	h_send_seg(&h, &c, TCP_ACK, NULL, 0);
	f = flow_at(&h.e.ft, h.e.src.src[1].oldest);
	CHECK_EQ(f->rto_ms, 30000); /* srtt 10 s + 4 * rttvar 5 s */
	tcp_engine_free(&h.e);
}

/*
 * A client holding its share of head buffers gets no backlog for one more
 * partial head: the bytes are not acknowledged (it sends them again), so
 * no retry timer works for it.
 */
TEST(partial_head_over_the_share_is_not_acknowledged)
{
	struct h_conn c[5];
	struct pkt p;
	int i;

	REQUIRE(!h_init(&h)); /* 16 head buffers: a share of 4 */
	for (i = 0; i < 5; i++) {
		REQUIRE(!connect_from(&c[i], 1, (uint16_t)(42900 + i)));
		h_send_seg(&h, &c[i], TCP_ACK, "GET /", 5);
	}
	CHECK_EQ(h.e.headpool.used, 4);
	CHECK_EQ(h.e.sndpool.used, 0);
	REQUIRE(h.nout == 1 && !h_parse(&h, 0, &c[4], &p));
	CHECK_EQ(p.ack, c[4].snd - 5);
	h_advance(&h, 1000);
	CHECK_EQ(stat(TCP_STAT_backlog_retries), 0);
	tcp_engine_free(&h.e);
}

/*
 * Pipelined requests acknowledged into the backlog, then the client's
 * FIN: every request is answered before our FIN.
 */
TEST(fin_behind_a_backlog_answers_every_request_first)
{
	static char reqs[8192];
	uint32_t len = 0, i, n = 100, got = 0;
	struct h_conn c;
	struct pkt p;
	bool fin = false;

	memset(&h, 0, sizeof(h));
	h_config(&h);
	h.cfg.send_buffer_size = 4096;
	REQUIRE(!h_start(&h));
	REQUIRE(!connect_from(&c, 1, 43000));
	for (i = 0; i < n; i++)
		len += (uint32_t)snprintf(reqs + len, sizeof(reqs) - len,
					  "GET /%u HTTP/1.1\r\nHost: x\r\n\r\n",
					  i % 10);
	h_send_seg(&h, &c, TCP_ACK, reqs, 1400);
	h_send_seg(&h, &c, TCP_ACK, reqs + 1400, len - 1400);
	REQUIRE(c.snd - c.isn - 1 == len);
	h_send_seg(&h, &c, TCP_ACK | TCP_FIN, NULL, 0);
	/* The client takes everything as it comes. */
	for (i = 0; i < 200 && !fin; i++) {
		uint32_t j, end = c.rcv;

		for (j = 0; j < h.nout; j++) {
			if (h_parse(&h, j, &c, &p) || p.seq != end)
				continue;
			end += p.payload_len;
			got += p.payload_len;
			if (p.flags & TCP_FIN) {
				end++;
				fin = true;
			}
		}
		if (end == c.rcv) {
			h_advance(&h, 200);
			continue;
		}
		c.rcv = end;
		h_send_seg(&h, &c, TCP_ACK, NULL, 0);
	}
	CHECK(fin);
	CHECK_EQ(stat(TCP_STAT_requests), n);
	CHECK(got > 0);
	tcp_engine_free(&h.e);
}

/*
 * HTTP/1.0: the response and our FIN wait behind a zero window that the
 * peer never opens (it acknowledges every probe): freed at the send
 * timeout, not kept by the linger or idle timers re-arming.
 */
TEST(close_blocked_by_a_zero_window_is_freed_at_the_send_timeout)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	struct h_conn c;
	struct pkt p;
	int i;

	memset(&h, 0, sizeof(h));
	h_config(&h);
	h.cfg.send_timeout_ms = 3000;
	h.cfg.linger_ms = 1000;
	h.cfg.idle_timeout_ms = 1000;
	REQUIRE(!h_start(&h));
	REQUIRE(!connect_from(&c, 1, 43100));
	c.win = 0;
	h_send_seg(&h, &c, TCP_ACK, req, sizeof(req) - 1);
	for (i = 0; i < 100 && flows(); i++) {
		h_advance(&h, 100);
		if (h.nout && !h_parse(&h, 0, &c, &p) && p.payload_len)
			h_send_seg(&h, &c, TCP_ACK, NULL, 0); /* still zero */
	}
	CHECK_EQ(flows(), 0);
	CHECK(h.now - 1000000 <= 3000 + 200);
	CHECK_EQ(stat(TCP_STAT_send_timeouts), 1);
	CHECK_EQ(h.e.sndpool.used, 0);
	tcp_engine_free(&h.e);
}

/* Bucket bounds: powers of four nanoseconds from 2^10, then +Inf; a
 * bucket holds its upper bound (Prometheus' le), not the next one. */
TEST(latency_buckets)
{
	CHECK_EQ(latency_bucket(0), 0);
	CHECK_EQ(latency_bucket(1), 0);
	CHECK_EQ(latency_bucket(1023), 0);
	CHECK_EQ(latency_bucket(1024), 0);
	CHECK_EQ(latency_bucket(1025), 1);
	CHECK_EQ(latency_bucket(4095), 1);
	CHECK_EQ(latency_bucket(4096), 1);
	CHECK_EQ(latency_bucket(4097), 2);
	CHECK_EQ(latency_bucket((1ull << 30) - 1), LATENCY_FINITE - 1);
	CHECK_EQ(latency_bucket(1ull << 30), LATENCY_FINITE - 1);
	CHECK_EQ(latency_bucket((1ull << 30) + 1), LATENCY_FINITE);
	CHECK_EQ(latency_bucket(UINT64_MAX), LATENCY_FINITE);
	CHECK_EQ(latency_bound_ns(0), 1024);
	CHECK_EQ(latency_bound_ns(LATENCY_FINITE - 1), 1ull << 30);
}

/* Every finite bound: exactly on it is in its bucket, one more in the
 * next, one less in it (or, for bucket 0's, still bucket 0). */
TEST(latency_bucket_exact_bounds)
{
	unsigned int b;

	for (b = 0; b < LATENCY_FINITE; b++) {
		uint64_t bound = latency_bound_ns(b);

		CHECK_EQ(latency_bucket(bound), b);
		CHECK_EQ(latency_bucket(bound - 1), b);
		CHECK_EQ(latency_bucket(bound + 1), b + 1);
		if (b)
			CHECK_EQ(latency_bucket(latency_bound_ns(b - 1) + 1),
				 b);
	}
}

/* A request's duration runs from its head's first byte in, on the
 * caller's clock, to its response queued: a head in one segment takes no
 * time on that clock, one whose last piece came 3 ms later takes 3 ms. */
TEST(request_duration_from_first_byte_to_response)
{
	static const char req[] = GET("/timed");
	uint64_t lat[LATENCY_BUCKETS];
	struct h_conn c;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40041);
	REQUIRE(!h_connect(&h, &c));
	h.e.clock_ns = 5000000;
	h_send_seg(&h, &c, TCP_ACK, req, sizeof(req) - 1);
	tcp_latency(&h.e, lat);
	CHECK_EQ(lat[0], 1);
	CHECK_EQ(h.e.latency_sum_ns, 0);
	h.e.clock_ns = 10000000;
	h_send_seg(&h, &c, TCP_ACK, req, 10);
	h.e.clock_ns = 11000000;
	h_send_seg(&h, &c, TCP_ACK, req + 10, 5);
	h.e.clock_ns = 13000000;
	h_send_seg(&h, &c, TCP_ACK, req + 15, sizeof(req) - 1 - 15);
	CHECK_EQ(stat(TCP_STAT_requests), 2);
	CHECK_EQ(latency_bucket(3000000), 6);
	tcp_latency(&h.e, lat);
	CHECK_EQ(lat[0], 1);
	CHECK_EQ(lat[6], 1);
	CHECK_EQ(h.e.latency_sum_ns, 3000000);
	tcp_engine_free(&h.e);
}

/*
 * Pipelined heads are charged one by one: the first of a pass from its
 * first byte, those that came whole in that pass 0, and a head left
 * partial behind them from that pass, not from the first head's start.
 */
TEST(request_duration_of_pipelined_heads)
{
	static const char req[] = GET("/timed");
	const uint32_t n = sizeof(req) - 1;
	uint64_t lat[LATENCY_BUCKETS];
	char seg[3 * sizeof(req)];
	struct h_conn c;

	REQUIRE(!h_init(&h));
	h_conn_init(&c, 4, 40042);
	REQUIRE(!h_connect(&h, &c));
	h.e.clock_ns = 10000000;
	h_send_seg(&h, &c, TCP_ACK, req, 10);
	/* 3 ms later: the rest of the first head, two more whole ones and
	 * 10 bytes of a fourth. */
	memcpy(seg, req + 10, n - 10);
	memcpy(seg + n - 10, req, n);
	memcpy(seg + 2 * n - 10, req, n);
	memcpy(seg + 3 * n - 10, req, 10);
	h.e.clock_ns = 13000000;
	h_send_seg(&h, &c, TCP_ACK, seg, 3 * n);
	CHECK_EQ(stat(TCP_STAT_requests), 3);
	h.e.clock_ns = 14000000;
	h_send_seg(&h, &c, TCP_ACK, req + 10, n - 10);
	CHECK_EQ(stat(TCP_STAT_requests), 4);
	tcp_latency(&h.e, lat);
	CHECK_EQ(lat[0], 2);
	CHECK_EQ(lat[latency_bucket(1000000)], 1);
	CHECK_EQ(lat[latency_bucket(3000000)], 1);
	CHECK_EQ(h.e.latency_sum_ns, 3000000 + 1000000);
	tcp_engine_free(&h.e);
}
