// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The TLS layer against a real OpenSSL client over memory: handshakes,
 * certificate choice, resumption, hostile input, and the flow control of
 * ciphertext in and out.
 */
#include "test.h"

#include "http_test.h"
#include "tls.h"
#include "tls_test.h"

#define OUT_MAX 65536
#define NOW 1800000000 /* a wall clock, 2027 */

static struct test_pair ec, rsa, other, wild_ec;

static const struct http_target *fixed_target(void *ctx,
					      const struct http_request *req)
{
	(void)req;
	return ctx;
}

/* The server side, as a transport drives it. */
struct srv {
	struct tls_session *s;
	struct http_conn conn;
	struct http_limits lim;
	struct http_target target;
	struct http_env env;
	uint8_t *head;
	uint8_t pend[OUT_MAX]; /* ciphertext offered and not taken */
	uint32_t pend_len;
	uint8_t out_buf[OUT_MAX];
	struct http_out out;
	uint32_t out_cap; /* room the transport gives per call */
	uint32_t chunk; /* ciphertext bytes offered per call */
	int64_t now;
	int responses, handshakes, resumed, failed, peer_closed;
	bool closed;
};

static uint32_t keep(void *ctx, const uint8_t *data, uint32_t len)
{
	struct srv *sv = ctx;

	return http_keep_pending(&sv->conn, sv->head, data, len);
}

static uint8_t *head_buf(void *ctx)
{
	return ((struct srv *)ctx)->head;
}

static void srv_init(struct srv *sv, struct tls_server *server)
{
	memset(sv, 0, sizeof(*sv));
	http_limits_default(&sv->lim);
	init_target(&sv->target, TEST_URL, 302);
	sv->env = (struct http_env){ .lim = &sv->lim,
				     .date = TEST_DATE,
				     .resolve = fixed_target,
				     .ctx = &sv->target };
	sv->head = malloc(http_head_cap(&sv->lim));
	sv->s = tls_session_new(server);
	if (!sv->head || !sv->s)
		abort();
	sv->out = (struct http_out){ sv->out_buf, 0, 0 };
	sv->out_cap = OUT_MAX;
	sv->chunk = OUT_MAX;
	sv->now = NOW;
}

static void srv_free(struct srv *sv)
{
	tls_session_free(sv->s);
	free(sv->head);
}

/* Offers what is pending (and what the session holds) until nothing
 * moves; the output accumulates in out_buf up to out_cap. */
static void srv_run(struct srv *sv)
{
	const struct tls_head th = { keep, head_buf, sv };

	for (int i = 0; i < 100000; i++) {
		uint32_t n = sv->pend_len < sv->chunk ? sv->pend_len :
							sv->chunk;
		uint32_t out_before = sv->out.len;
		struct tls_feed r;

		if (!n && !tls_held(sv->s))
			return;
		sv->out.cap = sv->out_cap;
		r = tls_feed(sv->s, &sv->conn, &sv->env, &th, sv->pend, n,
			     &sv->out, sv->now);
		CHECK(r.http.consumed <= n);
		memmove(sv->pend, sv->pend + r.http.consumed,
			sv->pend_len - r.http.consumed);
		sv->pend_len -= r.http.consumed;
		sv->responses += r.http.responses;
		sv->handshakes += r.event == TLS_EV_HANDSHAKE;
		sv->resumed += r.event == TLS_EV_RESUMED;
		sv->failed += r.event == TLS_EV_FAILED;
		sv->peer_closed += r.event == TLS_EV_CLOSED;
		if (r.http.closed) {
			sv->closed = true;
			return;
		}
		if (!r.http.consumed && sv->out.len == out_before)
			return;
	}
}

static void srv_take(struct srv *sv, const uint8_t *data, uint32_t len)
{
	if (sv->closed)
		return;
	CHECK(sv->pend_len + len <= sizeof(sv->pend));
	memcpy(sv->pend + sv->pend_len, data, len);
	sv->pend_len += len;
	srv_run(sv);
}

/* Client output to the server, server output to the client, until
 * neither has anything to say. */
static void pump(struct test_client *c, struct srv *sv)
{
	uint8_t buf[OUT_MAX];

	for (int i = 0; i < 1000; i++) {
		int n;
		bool moved = false;

		if (!SSL_is_init_finished(c->ssl))
			SSL_do_handshake(c->ssl);
		while ((n = BIO_read(c->to_server, buf, sizeof(buf))) > 0) {
			srv_take(sv, buf, (uint32_t)n);
			moved = true;
		}
		if (sv->out.len) {
			BIO_write(c->from_server, sv->out_buf,
				  (int)sv->out.len);
			sv->out.len = 0;
			moved = true;
			srv_run(sv); /* room again: held requests */
		}
		if (!moved)
			return;
	}
}

/* Reads what the client has decrypted; returns the number of 302s. */
static int client_redirects(struct test_client *c, char *text, size_t cap)
{
	size_t len = 0;
	int n, count = 0;
	const char *p;

	SSL_peek(c->ssl, text, 1); /* processes records that wait */
	while (len + 1 < cap &&
	       (n = SSL_read(c->ssl, text + len, (int)(cap - 1 - len))) > 0)
		len += (size_t)n;
	text[len] = 0;
	for (p = text; (p = strstr(p, "HTTP/1.1 302 Found\r\n")); p++)
		count++;
	return count;
}

static struct tls_server *server_with(const struct test_pair *pairs, int n,
				      const char *secret)
{
	struct tls_config cfg = { .n_pairs = (uint32_t)n };
	struct tls_server *s;
	char why[256];

	for (int i = 0; i < n; i++)
		cfg.pairs[i] = (struct tls_pair){ pairs[i].cert, pairs[i].key };
	if (secret) {
		cfg.ticket_secret_len = (uint32_t)strlen(secret);
		memcpy(cfg.ticket_secret, secret, cfg.ticket_secret_len);
	}
	s = tls_server_new(&cfg, why, sizeof(why));
	if (!s)
		fprintf(stderr, "  server: %s\n", why);
	return s;
}

static void send_req(struct test_client *c, const char *path)
{
	char req[256];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n",
			 path);

	CHECK_EQ(SSL_write(c->ssl, req, n), n);
}

/* Before the tests: their pair arrays copy these. */
__attribute__((constructor)) static void setup(void)
{
	tls_test_pair(&ec, false, "xredir.test,*.wild.test");
	tls_test_pair(&rsa, true, "xredir.test,*.wild.test");
	tls_test_pair(&other, false, "other.test");
	tls_test_pair(&wild_ec, false, "*.star.test");
}

/* The subject names of the certificate the client got. */
static bool peer_has_name(struct test_client *c, const char *name)
{
	X509 *x = SSL_get1_peer_certificate(c->ssl);
	bool ok = x && X509_check_host(x, name, 0, 0, NULL) == 1;

	X509_free(x);
	return ok;
}

static int peer_key_type(struct test_client *c)
{
	X509 *x = SSL_get1_peer_certificate(c->ssl);
	int t = x ? EVP_PKEY_get_base_id(X509_get0_pubkey(x)) : 0;

	X509_free(x);
	return t;
}

TEST(tls13_request_answered_with_http11)
{
	struct test_pair pairs[] = { ec };
	struct tls_server *server;
	struct test_client c;
	const unsigned char *alpn;
	unsigned int alpn_len;
	struct srv sv;
	char text[4096];

	server = server_with(pairs, 1, NULL);
	CHECK(server);
	srv_init(&sv, server);
	test_client_init(&c, 0, "\x02h2\x08http/1.1", "xredir.test");
	pump(&c, &sv);
	CHECK(SSL_is_init_finished(c.ssl));
	CHECK_EQ(SSL_version(c.ssl), TLS1_3_VERSION);
	SSL_get0_alpn_selected(c.ssl, &alpn, &alpn_len);
	CHECK(alpn_len == 8 && !memcmp(alpn, "http/1.1", 8));
	CHECK_EQ(sv.handshakes, 1);
	CHECK(!tls_waiting(sv.s));
	send_req(&c, "/v2/a");
	pump(&c, &sv);
	CHECK_EQ(client_redirects(&c, text, sizeof(text)), 1);
	CHECK(strstr(text, "Location: http://t.test/v2/a\r\n") != NULL);
	srv_free(&sv);
	test_client_free(&c);
	tls_server_unref(server);
}

TEST(tls12_aead_only_and_older_versions_refused)
{
	struct test_pair pairs[] = { ec };
	struct tls_server *server = server_with(pairs, 1, NULL);
	struct test_client c;
	struct srv sv;

	/* TLS 1.2 with an AEAD suite. */
	srv_init(&sv, server);
	test_client_init(&c, TLS1_2_VERSION, NULL, NULL);
	pump(&c, &sv);
	CHECK_EQ(SSL_version(c.ssl), TLS1_2_VERSION);
	CHECK(SSL_CIPHER_is_aead(SSL_get_current_cipher(c.ssl)));
	srv_free(&sv);
	test_client_free(&c);
	/* Only CBC suites offered: a handshake failure alert. */
	srv_init(&sv, server);
	test_client_init(&c, TLS1_2_VERSION, NULL, NULL);
	SSL_set_cipher_list(c.ssl, "ECDHE-ECDSA-AES128-SHA:AES128-SHA");
	pump(&c, &sv);
	CHECK(!SSL_is_init_finished(c.ssl));
	CHECK_EQ(sv.failed, 1);
	CHECK(sv.closed);
	srv_free(&sv);
	test_client_free(&c);
	/* TLS 1.1 and 1.0: a protocol_version alert. */
	for (int v = TLS1_VERSION; v <= TLS1_1_VERSION; v++) {
		srv_init(&sv, server);
		test_client_init(&c, v, NULL, NULL);
		pump(&c, &sv);
		CHECK(!SSL_is_init_finished(c.ssl));
		CHECK_EQ(sv.failed, 1);
		if (!strstr(tls_session_error(sv.s), "protocol"))
			fprintf(stderr, "  error: %s\n",
				tls_session_error(sv.s));
		CHECK(strstr(tls_session_error(sv.s), "protocol") != NULL);
		srv_free(&sv);
		test_client_free(&c);
	}
	tls_server_unref(server);
}

TEST(alpn_h2_only_gets_no_application_protocol)
{
	struct test_pair pairs[] = { ec };
	struct tls_server *server;
	struct test_client c;
	struct srv sv;

	server = server_with(pairs, 1, NULL);
	srv_init(&sv, server);
	test_client_init(&c, 0, "\x02h2", NULL);
	pump(&c, &sv);
	CHECK(!SSL_is_init_finished(c.ssl));
	CHECK_EQ(sv.failed, 1);
	/* The client read alert 120. */
	CHECK(ERR_GET_REASON(ERR_peek_last_error()) ==
	      SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL);
	ERR_clear_error();
	srv_free(&sv);
	test_client_free(&c);
	tls_server_unref(server);
}

/* Which certificate a client gets, by name and by what it can verify. */
static void check_choice(struct tls_server *server, const char *sni,
			 const char *sigalgs, const char *want_name,
			 int want_type)
{
	struct test_client c;
	struct srv sv;

	srv_init(&sv, server);
	test_client_init(&c, 0, NULL, sni);
	if (sigalgs)
		SSL_set1_sigalgs_list(c.ssl, sigalgs);
	pump(&c, &sv);
	CHECK(SSL_is_init_finished(c.ssl));
	CHECK(peer_has_name(&c, want_name));
	CHECK_EQ(peer_key_type(&c), want_type);
	srv_free(&sv);
	test_client_free(&c);
}

TEST(certificate_chosen_by_sni_and_key_type)
{
	struct test_pair pairs[] = { ec, rsa, other, wild_ec };
	struct tls_server *server;
	char desc[2048];

	server = server_with(pairs, 4, NULL);
	CHECK(server);
	check_choice(server, "xredir.test", NULL, "xredir.test", EVP_PKEY_EC);
	check_choice(server, "xredir.test", "RSA-PSS+SHA256:RSA+SHA256",
		     "xredir.test", EVP_PKEY_RSA);
	check_choice(server, "other.test", NULL, "other.test", EVP_PKEY_EC);
	check_choice(server, "OTHER.test", NULL, "other.test", EVP_PKEY_EC);
	check_choice(server, "a.star.test", NULL, "a.star.test", EVP_PKEY_EC);
	/* A wildcard covers one label; unknown names get the default. */
	check_choice(server, "a.b.star.test", NULL, "xredir.test", EVP_PKEY_EC);
	check_choice(server, "unknown.test", NULL, "xredir.test", EVP_PKEY_EC);
	check_choice(server, NULL, NULL, "xredir.test", EVP_PKEY_EC);
	tls_server_describe(server, desc, sizeof(desc));
	CHECK(strstr(desc, "ecdsa-256") && strstr(desc, "rsa-2048") &&
	      strstr(desc, "names=other.test"));
	tls_server_unref(server);
}

TEST(bad_pairs_refused_with_the_file_named)
{
	struct tls_config cfg = { .n_pairs = 1 };
	char why[256];

	cfg.pairs[0] = (struct tls_pair){ ec.cert, other.key };
	CHECK(!tls_server_new(&cfg, why, sizeof(why)));
	CHECK(strstr(why, other.key) && strstr(why, "does not match"));
	cfg.pairs[0] = (struct tls_pair){ "/nonexistent/c.pem", ec.key };
	CHECK(!tls_server_new(&cfg, why, sizeof(why)));
	CHECK(strstr(why, "/nonexistent/c.pem") != NULL);
	cfg.pairs[0] = (struct tls_pair){ ec.key, ec.key };
	CHECK(!tls_server_new(&cfg, why, sizeof(why)));
	CHECK(strstr(why, "no PEM certificate") != NULL);
	/* Two ECDSA certificates for the same names. */
	cfg.n_pairs = 2;
	cfg.pairs[0] = (struct tls_pair){ ec.cert, ec.key };
	cfg.pairs[1] = cfg.pairs[0];
	CHECK(!tls_server_new(&cfg, why, sizeof(why)));
	CHECK(strstr(why, "second certificate") != NULL);
	cfg.n_pairs = 0;
	CHECK(!tls_server_new(&cfg, why, sizeof(why)));
}

/* A full handshake on server a saving the session, then a resumption
 * attempt on server b after `later` seconds: whether it resumed. */
static bool resumes(struct tls_server *a, struct tls_server *b, int version,
		    int64_t later)
{
	struct test_client c;
	SSL_SESSION *sess;
	struct srv sv;
	char text[1024];
	bool reused;

	srv_init(&sv, a);
	test_client_init(&c, version, NULL, "xredir.test");
	pump(&c, &sv);
	send_req(&c, "/"); /* TLS 1.3: the ticket comes after the handshake */
	pump(&c, &sv);
	CHECK_EQ(client_redirects(&c, text, sizeof(text)), 1);
	sess = SSL_get1_session(c.ssl);
	CHECK(sess && SSL_SESSION_is_resumable(sess));
	srv_free(&sv);
	/* Ended as if cleanly: SSL_free would mark the session spent. */
	SSL_set_shutdown(c.ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(c.ssl);
	c.ssl = SSL_new(c.ctx);
	c.from_server = BIO_new(BIO_s_mem());
	c.to_server = BIO_new(BIO_s_mem());
	SSL_set_bio(c.ssl, c.from_server, c.to_server);
	SSL_set_connect_state(c.ssl);
	SSL_set_tlsext_host_name(c.ssl, "xredir.test");
	SSL_set_session(c.ssl, sess);
	srv_init(&sv, b);
	sv.now = NOW + later;
	pump(&c, &sv);
	CHECK(SSL_is_init_finished(c.ssl));
	reused = SSL_session_reused(c.ssl);
	CHECK_EQ(sv.resumed + sv.handshakes, 1);
	CHECK_EQ(sv.resumed, reused);
	SSL_SESSION_free(sess);
	srv_free(&sv);
	test_client_free(&c);
	return reused;
}

TEST(resumption_by_tickets_under_a_shared_secret)
{
	static const char secret[] = "0123456789abcdef0123456789abcdef!";
	static const char other_secret[] = "fedcba9876543210fedcba9876543210?";
	struct test_pair pairs[] = { ec };
	struct tls_server *a, *b, *c, *rnd;

	a = server_with(pairs, 1, secret);
	b = server_with(pairs, 1, secret);
	c = server_with(pairs, 1, other_secret);
	rnd = server_with(pairs, 1, NULL);
	for (int v = TLS1_2_VERSION; v <= TLS1_3_VERSION; v++) {
		CHECK(resumes(a, a, v, 0));
		CHECK(resumes(a, b, v, 0)); /* another node, same secret */
		CHECK(!resumes(a, c, v, 0));
		CHECK(!resumes(rnd, a, v, 0));
		/* Keys follow the period: a ticket is taken for two more
		 * periods, not three. */
		CHECK(resumes(a, b, v, 2 * TLS_TICKET_PERIOD_S));
		CHECK(!resumes(a, b, v, 3 * TLS_TICKET_PERIOD_S));
	}
	tls_server_unref(a);
	tls_server_unref(b);
	tls_server_unref(c);
	tls_server_unref(rnd);
}

/* The whole exchange with the server taking `chunk` bytes at a time. */
static void exchange_in_chunks(uint32_t chunk)
{
	struct test_pair pairs[] = { ec };
	struct tls_server *server = server_with(pairs, 1, NULL);
	struct test_client c;
	struct srv sv;
	char text[8192];

	srv_init(&sv, server);
	sv.chunk = chunk;
	test_client_init(&c, 0, NULL, NULL);
	pump(&c, &sv);
	CHECK(SSL_is_init_finished(c.ssl));
	for (int i = 0; i < 5; i++)
		send_req(&c, "/chunked");
	pump(&c, &sv);
	CHECK_EQ(client_redirects(&c, text, sizeof(text)), 5);
	CHECK(!sv.failed);
	srv_free(&sv);
	test_client_free(&c);
	tls_server_unref(server);
}

TEST(one_byte_segments_and_odd_sizes)
{
	exchange_in_chunks(1);
	exchange_in_chunks(5);
	exchange_in_chunks(7);
	exchange_in_chunks(1000);
}

TEST(head_split_across_records_is_kept)
{
	struct test_pair pairs[] = { ec };
	struct tls_server *server;
	struct test_client c;
	struct srv sv;
	char text[4096];

	server = server_with(pairs, 1, NULL);
	srv_init(&sv, server);
	test_client_init(&c, 0, NULL, NULL);
	pump(&c, &sv);
	SSL_write(c.ssl, "GET /spl", 8);
	pump(&c, &sv);
	CHECK_EQ(sv.conn.head_len, 8);
	CHECK(!tls_waiting(sv.s)); /* whole records: no TLS bytes owed */
	SSL_write(c.ssl, "it HTTP/1.1\r\nHost: t\r\n\r\n", 24);
	pump(&c, &sv);
	CHECK_EQ(client_redirects(&c, text, sizeof(text)), 1);
	CHECK(strstr(text, "/split\r\n") != NULL);
	srv_free(&sv);
	test_client_free(&c);
	tls_server_unref(server);
}

TEST(requests_held_while_output_is_full)
{
	struct test_pair pairs[] = { ec };
	struct tls_server *server;
	struct test_client c;
	uint8_t buf[OUT_MAX];
	struct srv sv;
	char text[65536];
	int n, rounds = 0;

	server = server_with(pairs, 1, NULL);
	srv_init(&sv, server);
	test_client_init(&c, 0, NULL, NULL);
	pump(&c, &sv);
	/* 50 pipelined requests in one record; room for about two
	 * responses per call. */
	for (int i = 0; i < 50; i++)
		send_req(&c, "/p");
	sv.out_cap = 600;
	while ((n = BIO_read(c.to_server, buf, sizeof(buf))) > 0)
		srv_take(&sv, buf, (uint32_t)n);
	CHECK(sv.responses > 0 && sv.responses < 50);
	CHECK(tls_held(sv.s));
	while (tls_held(sv.s) && rounds++ < 100) {
		BIO_write(c.from_server, sv.out_buf, (int)sv.out.len);
		sv.out.len = 0;
		srv_run(&sv);
	}
	BIO_write(c.from_server, sv.out_buf, (int)sv.out.len);
	sv.out.len = 0;
	CHECK_EQ(sv.responses, 50);
	CHECK_EQ(client_redirects(&c, text, sizeof(text)), 50);
	srv_free(&sv);
	test_client_free(&c);
	tls_server_unref(server);
}

TEST(hostile_input_gets_an_alert_and_a_close)
{
	static const uint8_t http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const uint8_t garbage[] = { 0x00, 0x01, 0xfe, 0x47, 0x99, 0x13,
					   0x37, 0x00, 0x10, 0x20, 0x30 };
	/* A handshake record header claiming 20 KB: over the limit. */
	static const uint8_t oversized[] = { 0x16, 0x03, 0x01, 0x50, 0x00 };
	struct test_pair pairs[] = { ec };
	struct tls_server *server;
	struct srv sv;

	server = server_with(pairs, 1, NULL);
	/* Plain HTTP on the TLS port: told so in plain HTTP, as nginx does. */
	srv_init(&sv, server);
	srv_take(&sv, http, sizeof(http) - 1);
	CHECK_EQ(sv.failed, 1);
	CHECK(sv.closed);
	CHECK(sv.out.len > 12 && !memcmp(sv.out_buf, "HTTP/1.1 400 ", 13));
	srv_free(&sv);
	/* Not TLS and not HTTP, and a record too long: an alert record. */
	srv_init(&sv, server);
	srv_take(&sv, garbage, sizeof(garbage));
	CHECK_EQ(sv.failed, 1);
	CHECK(sv.closed);
	CHECK(sv.out.len >= 7 && sv.out_buf[0] == 21);
	srv_free(&sv);
	srv_init(&sv, server);
	srv_take(&sv, oversized, sizeof(oversized));
	CHECK_EQ(sv.failed, 1);
	CHECK(sv.out.len >= 7 && sv.out_buf[0] == 21);
	srv_free(&sv);
	/* A truncated ClientHello: nothing yet, the peer owes bytes. */
	srv_init(&sv, server);
	srv_take(&sv, oversized, 3);
	CHECK(!sv.failed && !sv.closed);
	CHECK(tls_waiting(sv.s));
	srv_free(&sv);
	tls_server_unref(server);
}

TEST(renegotiation_refused)
{
	struct test_pair pairs[] = { ec };
	struct tls_server *server;
	struct test_client c;
	struct srv sv;
	char text[4096];

	server = server_with(pairs, 1, NULL);
	srv_init(&sv, server);
	test_client_init(&c, TLS1_2_VERSION, NULL, NULL);
	pump(&c, &sv);
	CHECK(SSL_is_init_finished(c.ssl));
	CHECK(SSL_renegotiate(c.ssl));
	SSL_do_handshake(c.ssl);
	pump(&c, &sv);
	/* No second handshake: an alert and a close. */
	CHECK_EQ(sv.handshakes, 1);
	CHECK_EQ(sv.failed, 1);
	CHECK(sv.closed);
	SSL_write(c.ssl, "GET /after HTTP/1.1\r\n\r\n", 24);
	pump(&c, &sv);
	CHECK_EQ(client_redirects(&c, text, sizeof(text)), 0);
	ERR_clear_error();
	srv_free(&sv);
	test_client_free(&c);
	tls_server_unref(server);
}

TEST(close_notify_closes)
{
	struct test_pair pairs[] = { ec };
	struct tls_server *server;
	struct test_client c;
	struct srv sv;

	server = server_with(pairs, 1, NULL);
	srv_init(&sv, server);
	test_client_init(&c, 0, NULL, NULL);
	pump(&c, &sv);
	SSL_shutdown(c.ssl);
	pump(&c, &sv);
	CHECK_EQ(sv.peer_closed, 1);
	CHECK(sv.closed);
	srv_free(&sv);
	test_client_free(&c);
	tls_server_unref(server);
}

TEST(connection_close_sends_close_notify)
{
	static const char req[] = "GET /c HTTP/1.1\r\nHost: t\r\n"
				  "Connection: close\r\n\r\n";
	struct test_pair pairs[] = { ec };
	struct tls_server *server;
	struct test_client c;
	struct srv sv;
	char text[4096];

	server = server_with(pairs, 1, NULL);
	srv_init(&sv, server);
	test_client_init(&c, 0, NULL, NULL);
	pump(&c, &sv);
	SSL_write(c.ssl, req, sizeof(req) - 1);
	pump(&c, &sv);
	CHECK(sv.closed);
	CHECK_EQ(client_redirects(&c, text, sizeof(text)), 1);
	CHECK(SSL_get_shutdown(c.ssl) & SSL_RECEIVED_SHUTDOWN);
	srv_free(&sv);
	test_client_free(&c);
	tls_server_unref(server);
}

TEST(close_notify_on_our_close_once_and_only_after_the_handshake)
{
	struct test_pair pairs[] = { ec };
	struct tls_server *server;
	struct test_client c;
	struct srv sv;
	uint8_t buf[TLS_RECORD_SLACK];
	struct http_out out = { buf, sizeof(buf), 0 };
	char byte;

	server = server_with(pairs, 1, NULL);
	srv_init(&sv, server);
	test_client_init(&c, 0, NULL, NULL);
	CHECK_EQ(tls_close_notify(sv.s, &out), 0); /* no handshake yet */
	pump(&c, &sv);
	CHECK(SSL_is_init_finished(c.ssl));
	out.cap = 10;
	CHECK_EQ(tls_close_notify(sv.s, &out), 0); /* no room: not sent */
	out.cap = sizeof(buf);
	CHECK(tls_close_notify(sv.s, &out) > 0);
	CHECK_EQ(out.len, 24); /* a TLS 1.3 record: 5 + 2 + 1 + 16 */
	BIO_write(c.from_server, buf, (int)out.len);
	CHECK_EQ(SSL_read(c.ssl, &byte, 1), 0);
	CHECK(SSL_get_shutdown(c.ssl) & SSL_RECEIVED_SHUTDOWN);
	out.len = 0;
	CHECK_EQ(tls_close_notify(sv.s, &out), 0); /* once */
	srv_free(&sv);
	test_client_free(&c);
	tls_server_unref(server);
}
