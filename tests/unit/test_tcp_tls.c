// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The engine's TLS port: a real OpenSSL client over simulated TCP
 * segments, the sessions' and handshakes' pools and their per-source
 * shares, and the header timeout over a handshake.
 */
#include "test.h"

#include "engine_harness.h"
#include "tls_test.h"

#define TLS_PORT 10443

static struct test_pair ec;
static struct tls_server *server;

__attribute__((constructor)) static void setup(void)
{
	struct tls_config cfg = { .n_pairs = 1 };
	char why[256];

	tls_test_pair(&ec, false, "xredir.test");
	cfg.pairs[0] = (struct tls_pair){ ec.cert, ec.key };
	server = tls_server_new(&cfg, why, sizeof(why));
	if (!server) {
		fprintf(stderr, "tls server: %s\n", why);
		abort();
	}
}

static int tls_harness(struct harness *h, uint32_t handshakes)
{
	memset(h, 0, sizeof(*h));
	h_config(h);
	h->cfg.tls_port = TLS_PORT;
	h->cfg.tls_flows = 16;
	h->cfg.tls_handshakes = handshakes;
	h->cfg.header_timeout_ms = 5000;
	if (h_start(h))
		return -1;
	tcp_set_tls(&h->e, server);
	return 0;
}

/* A TCP connection to the TLS port and a TLS client on it. */
struct tconn {
	struct h_conn tcp;
	struct test_client tls;
};

static int tconn_open(struct harness *h, struct tconn *t, uint16_t cport,
		      const char *caddr)
{
	h_conn_init(&t->tcp, 4, cport);
	t->tcp.port = TLS_PORT;
	if (caddr)
		inet_pton(AF_INET, caddr, t->tcp.caddr);
	test_client_init(&t->tls, 0, "\x08http/1.1", "xredir.test");
	return h_connect(h, &t->tcp);
}

/* What the engine sent since the last input, to the client's TLS (and the
 * TCP ACK of it); returns the payload bytes. */
static uint32_t deliver_out(struct harness *h, struct tconn *t)
{
	uint32_t i, total = 0;
	struct pkt p;

	for (i = 0; i < h->nout; i++) {
		if (h_parse(h, i, &t->tcp, &p) || !p.payload_len ||
		    p.seq != t->tcp.rcv)
			continue;
		BIO_write(t->tls.from_server, p.payload, (int)p.payload_len);
		t->tcp.rcv += p.payload_len;
		total += p.payload_len;
	}
	return total;
}

/* Client TLS output to the engine in segments of at most seg bytes, the
 * engine's answers back, until neither side has more. */
static void tconn_pump(struct harness *h, struct tconn *t, uint32_t seg)
{
	uint8_t buf[16384];

	for (int round = 0; round < 100; round++) {
		bool moved = false;
		int n;

		if (!SSL_is_init_finished(t->tls.ssl))
			SSL_do_handshake(t->tls.ssl);
		while ((n = BIO_read(t->tls.to_server, buf, sizeof(buf))) > 0)
			for (int off = 0; off < n; off += (int)seg) {
				uint32_t len = (uint32_t)(n - off) < seg ?
						       (uint32_t)(n - off) :
						       seg;

				h_send_seg(h, &t->tcp, TCP_ACK | TCP_PSH,
					   buf + off, len);
				moved |= deliver_out(h, t) > 0;
				moved = true;
			}
		if (!moved)
			return;
		h_send_seg(h, &t->tcp, TCP_ACK, NULL, 0); /* acknowledge */
		deliver_out(h, t);
	}
}

static int redirects(struct tconn *t, char *text, int cap)
{
	int len = 0, n, count = 0;
	const char *p;

	while (len + 1 < cap &&
	       (n = SSL_read(t->tls.ssl, text + len, cap - 1 - len)) > 0)
		len += n;
	text[len] = 0;
	for (p = text; (p = strstr(p, " 302 Found\r\n")); p++)
		count++;
	return count;
}

TEST(engine_tls_request_and_close)
{
	static const char req[] = "GET /v2/x HTTP/1.1\r\nHost: t\r\n\r\n";
	struct harness h;
	struct tconn t;
	char text[8192];

	CHECK(!tls_harness(&h, 8));
	CHECK(!tconn_open(&h, &t, 40000, NULL));
	CHECK_EQ(h.e.tlspool.used, 0); /* nothing before the first byte */
	tconn_pump(&h, &t, 1400);
	CHECK(SSL_is_init_finished(t.tls.ssl));
	CHECK_EQ(h.e.stats[TCP_STAT_tls_handshakes], 1);
	CHECK_EQ(h.e.tlspool.used, 1);
	CHECK_EQ(h.e.hspool.used, 0); /* the handshake slot is back */
	for (int i = 0; i < 3; i++)
		SSL_write(t.tls.ssl, req, sizeof(req) - 1);
	tconn_pump(&h, &t, 1400);
	CHECK_EQ(redirects(&t, text, sizeof(text)), 3);
	CHECK(strstr(text, "Location: https://k8s.gcr.io/v2/x\r\n") != NULL);
	CHECK_EQ(h.e.stats[TCP_STAT_requests], 3);
	/* The plain port still answers beside it. */
	{
		static const char plain[] =
			"GET /p HTTP/1.1\r\nHost: t\r\n\r\n";
		struct h_conn c;
		char out[2048];

		h_conn_init(&c, 4, 40001);
		CHECK(!h_connect(&h, &c));
		h_send_seg(&h, &c, TCP_ACK | TCP_PSH, plain, sizeof(plain) - 1);
		h_payload(&h, &c, out, sizeof(out));
		CHECK(!strncmp(out, "HTTP/1.1 302 Found", 18));
	}
	/* The client's FIN frees the session. */
	h_send_seg(&h, &t.tcp, TCP_ACK | TCP_FIN, NULL, 0);
	CHECK_EQ(h.e.tlspool.used, 0);
	test_client_free(&t.tls);
	tcp_engine_free(&h.e);
}

TEST(engine_tls_one_byte_segments)
{
	static const char req[] = "GET /one HTTP/1.1\r\nHost: t\r\n\r\n";
	struct harness h;
	struct tconn t;
	char text[4096];

	CHECK(!tls_harness(&h, 8));
	CHECK(!tconn_open(&h, &t, 40002, NULL));
	tconn_pump(&h, &t, 1);
	CHECK(SSL_is_init_finished(t.tls.ssl));
	SSL_write(t.tls.ssl, req, sizeof(req) - 1);
	tconn_pump(&h, &t, 1);
	CHECK_EQ(redirects(&t, text, sizeof(text)), 1);
	test_client_free(&t.tls);
	tcp_engine_free(&h.e);
}

/* The first bytes of a ClientHello: a handshake slot held, then waiting. */
static void start_handshake(struct harness *h, struct tconn *t)
{
	uint8_t buf[16384];
	int n;

	SSL_do_handshake(t->tls.ssl);
	n = BIO_read(t->tls.to_server, buf, sizeof(buf));
	CHECK(n > 10);
	h_send_seg(h, &t->tcp, TCP_ACK | TCP_PSH, buf, 10);
}

TEST(engine_tls_handshakes_shared_between_sources)
{
	struct harness h;
	struct tconn flood[6], other;
	uint32_t i;

	/* 8 handshake slots: a source may hold a quarter, at least 4. */
	CHECK(!tls_harness(&h, 8));
	for (i = 0; i < 6; i++) {
		CHECK(!tconn_open(&h, &flood[i], (uint16_t)(41000 + i),
				  "10.77.0.9"));
		start_handshake(&h, &flood[i]);
	}
	CHECK_EQ(h.e.hspool.used, 4);
	CHECK_EQ(h.e.stats[TCP_STAT_tls_pool_empty], 2);
	/* Refused bytes are not acknowledged: the client sends them again. */
	CHECK_EQ(h.e.src.src[h.e.src.fresh - 1].bufs[SRC_POOL_HANDSHAKE], 4);
	/* Another client still completes its handshake. */
	CHECK(!tconn_open(&h, &other, 42000, "10.77.0.20"));
	tconn_pump(&h, &other, 1400);
	CHECK(SSL_is_init_finished(other.tls.ssl));
	/* The header timeout covers a handshake: the stalled ones go. */
	h_advance(&h, 5001);
	h_advance(&h, 1000);
	CHECK_EQ(h.e.hspool.used, 0);
	CHECK_EQ(h.e.tlspool.used, 1); /* the finished one stays */
	for (i = 0; i < 6; i++)
		test_client_free(&flood[i].tls);
	test_client_free(&other.tls);
	tcp_engine_free(&h.e);
}

TEST(engine_tls_garbage_gets_alert_and_fin)
{
	static const uint8_t junk[] = { 0x00, 0x01, 0xfe, 0x47, 0x99, 0x13 };
	struct harness h;
	struct tconn t;
	struct pkt p;
	bool alert = false, fin = false;

	CHECK(!tls_harness(&h, 8));
	CHECK(!tconn_open(&h, &t, 40003, NULL));
	h_send_seg(&h, &t.tcp, TCP_ACK | TCP_PSH, junk, sizeof(junk));
	for (uint32_t i = 0; i < h.nout; i++) {
		if (h_parse(&h, i, &t.tcp, &p))
			continue;
		alert |= p.payload_len >= 7 && p.payload[0] == 21;
		fin |= !!(p.flags & TCP_FIN);
	}
	CHECK(alert);
	CHECK(fin);
	CHECK_EQ(h.e.stats[TCP_STAT_tls_failed], 1);
	CHECK_EQ(h.e.tlspool.used, 0);
	CHECK_EQ(h.e.hspool.used, 0);
	test_client_free(&t.tls);
	tcp_engine_free(&h.e);
}

/* Whether the engine's output since the last input carries a FIN. */
static bool out_has_fin(struct harness *h, struct tconn *t)
{
	struct pkt p;

	for (uint32_t i = 0; i < h->nout; i++)
		if (!h_parse(h, i, &t->tcp, &p) && (p.flags & TCP_FIN))
			return true;
	return false;
}

/* A close the engine begins: the client reads a close_notify, then FIN. */
static void check_goodbye(struct harness *h, struct tconn *t)
{
	char c;

	CHECK(deliver_out(h, t) > 0);
	CHECK(out_has_fin(h, t));
	CHECK_EQ(SSL_read(t->tls.ssl, &c, 1), 0);
	CHECK_EQ(SSL_get_error(t->tls.ssl, 0), SSL_ERROR_ZERO_RETURN);
	CHECK(SSL_get_shutdown(t->tls.ssl) & SSL_RECEIVED_SHUTDOWN);
	CHECK_EQ(h->e.tlspool.used, 0);
}

/* A connection to the TLS port with one request answered, then idle. */
static void served_once(struct harness *h, struct tconn *t, uint16_t cport)
{
	static const char req[] = "GET /i HTTP/1.1\r\nHost: t\r\n\r\n";
	char text[4096];

	CHECK(!tconn_open(h, t, cport, NULL));
	tconn_pump(h, t, 1400);
	SSL_write(t->tls.ssl, req, sizeof(req) - 1);
	tconn_pump(h, t, 1400);
	CHECK_EQ(redirects(t, text, sizeof(text)), 1);
	ERR_clear_error();
}

TEST(engine_tls_idle_and_drain_closes_send_close_notify)
{
	struct harness h;
	struct tconn idle, drained;

	CHECK(!tls_harness(&h, 8));
	served_once(&h, &idle, 40100);
	h_advance(&h, h.cfg.idle_timeout_ms);
	check_goodbye(&h, &idle);
	CHECK_EQ(h.e.stats[TCP_STAT_timeouts], 1);

	served_once(&h, &drained, 40101);
	h.nout = 0;
	tcp_drain(&h.e, h.now);
	check_goodbye(&h, &drained);
	test_client_free(&idle.tls);
	test_client_free(&drained.tls);
	tcp_engine_free(&h.e);
}
