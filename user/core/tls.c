// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TLS over OpenSSL 3.0 (README "TLS": why this library), driven through a
 * BIO method that reads the caller's ciphertext in place and writes
 * straight into its output buffer, so no record is copied into a memory
 * BIO and nothing is buffered that the caller does not see.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls.h"

#define MAX_NAMES 32
#define NAME_MAX_LEN 253
#define TICKET_ID_LEN 8

/* Certificates for one set of names: an RSA and an ECDSA one at most. */
struct tls_group {
	SSL_CTX *ctx;
	char *names[MAX_NAMES]; /* lower case; "*.example.com" wildcards */
	uint32_t n_names;
	uint32_t key_types; /* bit per EVP_PKEY base id class: 1 RSA, 2 EC */
};

struct tls_server {
	atomic_uint refs;
	struct tls_group groups[TLS_MAX_PAIRS];
	uint32_t n_groups;
	uint8_t secret[64];
	uint32_t secret_len;
	uint8_t ticket_id[TICKET_ID_LEN];
	uint64_t serial; /* tells servers apart in the ticket key cache */
	char desc[TLS_MAX_PAIRS * 160];
};

struct tls_session {
	SSL *ssl;
	struct tls_server *srv;
	/* The current call's buffers, read and written by the BIO. */
	const uint8_t *in;
	uint32_t in_len, in_used;
	struct http_out *out;
	int64_t unix_s;
	bool failed;
	char error[120];
};

static BIO_METHOD *bio_method;
static EVP_CIPHER *ticket_cipher;
static _Thread_local uint8_t plain[16384];
static _Thread_local uint8_t plain_out[16384];

/* The BIO: the session's input and output buffers. */

static int bio_read(BIO *b, char *buf, int len)
{
	struct tls_session *s = BIO_get_data(b);
	uint32_t n = s->in_len - s->in_used;

	BIO_clear_retry_flags(b);
	if (!n) {
		BIO_set_retry_read(b);
		return -1;
	}
	if (n > (uint32_t)len)
		n = (uint32_t)len;
	memcpy(buf, s->in + s->in_used, n);
	s->in_used += n;
	return (int)n;
}

static int bio_write(BIO *b, const char *buf, int len)
{
	struct tls_session *s = BIO_get_data(b);
	struct http_out *o = s->out;
	uint32_t n = o ? o->cap - o->len : 0;

	BIO_clear_retry_flags(b);
	if (!n) {
		BIO_set_retry_write(b);
		return -1;
	}
	if (n > (uint32_t)len)
		n = (uint32_t)len;
	memcpy(o->buf + o->len, buf, n);
	o->len += n;
	return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH;
}

/* Ticket keys: derived from the secret and the period number, so servers
 * sharing the secret agree on them without talking, and rotate together. */

static int derive(const struct tls_server *srv, const char *label,
		  uint64_t period, uint8_t out[32])
{
	uint8_t msg[32];
	size_t n = strlen(label), got = 0;

	memcpy(msg, label, n);
	for (int i = 0; i < 8; i++)
		msg[n + (size_t)i] = (uint8_t)(period >> (56 - 8 * i));
	return EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, srv->secret,
			 srv->secret_len, msg, n + 8, out, 32, &got) &&
			       got == 32 ?
		       0 :
		       -1;
}

/* Each worker derives a period's keys once, not twice per ticket: the
 * three periods a ticket may be from, by period mod 3. */
struct ticket_keys {
	uint64_t serial, period;
	uint8_t aes[32], hmac[32];
};

static atomic_uint_fast64_t server_serial;
static _Thread_local struct ticket_keys key_cache[3];

static struct ticket_keys *ticket_keys(const struct tls_server *srv,
				       uint64_t period)
{
	struct ticket_keys *k = &key_cache[period % 3];

	if (k->serial == srv->serial && k->period == period)
		return k;
	k->serial = 0;
	if (derive(srv, "xredir ticket aes", period, k->aes) ||
	    derive(srv, "xredir ticket mac", period, k->hmac))
		return NULL;
	k->serial = srv->serial;
	k->period = period;
	return k;
}

static int ticket_key_cb(SSL *ssl, unsigned char key_name[16],
			 unsigned char *iv, EVP_CIPHER_CTX *cipher,
			 EVP_MAC_CTX *mac, int enc)
{
	struct tls_session *s = SSL_get_app_data(ssl);
	const struct tls_server *srv = s->srv;
	uint64_t now = s->unix_s > 0 ? (uint64_t)s->unix_s : 0;
	uint64_t cur = now / TLS_TICKET_PERIOD_S, period = cur;
	struct ticket_keys *k;
	int ret = 1;

	if (!enc) {
		if (memcmp(key_name, srv->ticket_id, TICKET_ID_LEN))
			return 0;
		period = 0;
		for (int i = 0; i < 8; i++)
			period = period << 8 | key_name[TICKET_ID_LEN + i];
		if (period > cur || cur - period > 2)
			return 0; /* expired or from the future: full handshake */
		ret = period == cur ? 1 : 2; /* 2: renew the ticket */
	}
	k = ticket_keys(srv, period);
	if (!k)
		return -1;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k->hmac,
						  sizeof(k->hmac)),
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 "SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	if (enc) {
		memcpy(key_name, srv->ticket_id, TICKET_ID_LEN);
		for (int i = 0; i < 8; i++)
			key_name[TICKET_ID_LEN + i] =
				(uint8_t)(period >> (56 - 8 * i));
		if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(ticket_cipher)) !=
			    1 ||
		    !EVP_EncryptInit_ex(cipher, ticket_cipher, NULL, k->aes,
					iv))
			ret = -1;
	} else if (!EVP_DecryptInit_ex(cipher, ticket_cipher, NULL, k->aes,
				       iv)) {
		ret = -1;
	}
	if (ret > 0 && !EVP_MAC_CTX_set_params(mac, params))
		ret = -1;
	return ret;
}

/* HTTP/1.1 or nothing: a client offering only h2 gets the proper alert
 * (no_application_protocol) instead of a protocol it cannot speak. */
static int alpn_select(SSL *ssl, const unsigned char **out,
		       unsigned char *outlen, const unsigned char *in,
		       unsigned int inlen, void *arg)
{
	static const unsigned char http11[] = "\x08http/1.1";

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto((unsigned char **)out, outlen, http11,
				  sizeof(http11) - 1, in,
				  inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	return SSL_TLSEXT_ERR_OK;
}

static bool name_matches(const char *pattern, const char *name)
{
	const char *dot;

	if (!strcasecmp(pattern, name))
		return true;
	/* "*.example.com" covers one label: a.example.com, not
	 * a.b.example.com nor example.com. */
	if (pattern[0] != '*' || pattern[1] != '.')
		return false;
	dot = strchr(name, '.');
	return dot && dot != name && !strcasecmp(pattern + 1, dot);
}

static const struct tls_group *group_for(const struct tls_server *srv,
					 const char *name)
{
	uint32_t g, i;

	for (int wild = 0; wild < 2; wild++)
		for (g = 0; g < srv->n_groups; g++)
			for (i = 0; i < srv->groups[g].n_names; i++) {
				const char *p = srv->groups[g].names[i];

				if ((p[0] == '*') == wild &&
				    name_matches(p, name))
					return &srv->groups[g];
			}
	return NULL;
}

static int servername_cb(SSL *ssl, int *alert, void *arg)
{
	const struct tls_server *srv = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	const struct tls_group *g;

	(void)alert;
	if (!name)
		return SSL_TLSEXT_ERR_OK; /* no SNI: the default certificate */
	g = group_for(srv, name);
	if (g && g != &srv->groups[0] && !SSL_set_SSL_CTX(ssl, g->ctx))
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	return SSL_TLSEXT_ERR_OK;
}

static int fail(char *why, uint32_t len, const char *fmt, const char *arg)
{
	char lib[160] = "";
	unsigned long e = ERR_peek_last_error();

	if (e)
		ERR_error_string_n(e, lib, sizeof(lib));
	ERR_clear_error();
	snprintf(why, len, fmt, arg);
	if (*lib) {
		size_t n = strlen(why);

		snprintf(why + n, len - n, " (%s)", lib);
	}
	return -1;
}

/* The protocol settings of issue 11, on each group's context. */
static SSL_CTX *new_ctx(struct tls_server *srv)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:"
					   "TLS_AES_256_GCM_SHA384:"
					   "TLS_CHACHA20_POLY1305_SHA256") ||
	    !SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") ||
	    !SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") ||
	    !SSL_CTX_set_num_tickets(ctx, 1) ||
	    !SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_key_cb)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* Stateless tickets only: a session cache would be state a peer
	 * makes us hold. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_timeout(ctx, 2 * TLS_TICKET_PERIOD_S);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_CIPHER_SERVER_PREFERENCE |
					 SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	SSL_CTX_set_tlsext_servername_callback(ctx, servername_cb);
	SSL_CTX_set_tlsext_servername_arg(ctx, srv);
	return ctx;
}

static int cert_names(X509 *x, char **names, uint32_t *n)
{
	GENERAL_NAMES *gens =
		X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int i;

	*n = 0;
	for (i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *d;
		int len;

		if (g->type != GEN_DNS || *n == MAX_NAMES)
			continue;
		d = ASN1_STRING_get0_data(g->d.dNSName);
		len = ASN1_STRING_length(g->d.dNSName);
		if (len <= 0 || len > NAME_MAX_LEN || memchr(d, 0, (size_t)len))
			continue;
		names[*n] = strndup((const char *)d, (size_t)len);
		if (!names[*n])
			break;
		(*n)++;
	}
	GENERAL_NAMES_free(gens);
	return 0;
}

static bool same_names(const struct tls_group *g, char **names, uint32_t n)
{
	uint32_t i, j;

	if (g->n_names != n)
		return false;
	for (i = 0; i < n; i++) {
		for (j = 0; j < n && strcasecmp(g->names[j], names[i]); j++)
			;
		if (j == n)
			return false;
	}
	return true;
}

static void describe(struct tls_server *srv, X509 *x, EVP_PKEY *k, char **names,
		     uint32_t n)
{
	size_t used = strlen(srv->desc), cap = sizeof(srv->desc);
	const ASN1_TIME *end = X509_get0_notAfter(x);
	struct tm tm = { 0 };
	uint32_t i;

	if (end)
		ASN1_TIME_to_tm(end, &tm);
	used += (size_t)snprintf(
		srv->desc + used, cap - used,
		"%s-%d expires=%04d-%02d-%02d names=",
		EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA ? "rsa" : "ecdsa",
		EVP_PKEY_get_bits(k), tm.tm_year + 1900, tm.tm_mon + 1,
		tm.tm_mday);
	for (i = 0; i < n && used < cap; i++)
		used += (size_t)snprintf(srv->desc + used, cap - used, "%s%s",
					 i ? "," : "", names[i]);
	if (!n && used < cap)
		used += (size_t)snprintf(srv->desc + used, cap - used, "-");
	if (used < cap)
		snprintf(srv->desc + used, cap - used, "\n");
}

static int load_pair(struct tls_server *srv, const struct tls_pair *p,
		     char *why, uint32_t why_len)
{
	STACK_OF(X509) *chain = NULL;
	char *names[MAX_NAMES];
	EVP_PKEY *key = NULL;
	struct tls_group *g = NULL;
	uint32_t n = 0, i, type;
	X509 *leaf = NULL, *x;
	BIO *b;
	int ret = -1;

	b = BIO_new_file(p->cert, "r");
	if (!b)
		return fail(why, why_len, "certificate %s: cannot read",
			    p->cert);
	leaf = PEM_read_bio_X509(b, NULL, NULL, NULL);
	chain = sk_X509_new_null();
	while (leaf && chain && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
		sk_X509_push(chain, x);
	BIO_free(b);
	ERR_clear_error(); /* the end of the file reads as an error */
	if (!leaf || !chain) {
		fail(why, why_len, "certificate %s: no PEM certificate",
		     p->cert);
		goto out;
	}
	b = BIO_new_file(p->key, "r");
	if (b)
		key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (!key) {
		fail(why, why_len, "key %s: no PEM private key", p->key);
		goto out;
	}
	if (!X509_check_private_key(leaf, key)) {
		fail(why, why_len, "key %s does not match its certificate",
		     p->key);
		goto out;
	}
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		type = 1;
		break;
	case EVP_PKEY_EC:
		type = 2;
		break;
	default:
		fail(why, why_len, "key %s: not an RSA or ECDSA key", p->key);
		goto out;
	}
	cert_names(leaf, names, &n);
	for (i = 0; i < srv->n_groups && !g; i++)
		if (same_names(&srv->groups[i], names, n))
			g = &srv->groups[i];
	if (g && (g->key_types & type)) {
		fail(why, why_len,
		     "certificate %s: a second certificate of its key type "
		     "for the same names",
		     p->cert);
		goto free_names;
	}
	if (!g) {
		g = &srv->groups[srv->n_groups];
		g->ctx = new_ctx(srv);
		if (!g->ctx) {
			fail(why, why_len, "%s: cannot set up TLS", p->cert);
			goto free_names;
		}
		memcpy(g->names, names, n * sizeof(names[0]));
		g->n_names = n;
		n = 0; /* the group owns the names now */
		srv->n_groups++;
	}
	if (SSL_CTX_use_cert_and_key(g->ctx, leaf, key, chain, 1) != 1) {
		fail(why, why_len, "certificate %s: not usable", p->cert);
		goto free_names;
	}
	g->key_types |= type;
	describe(srv, leaf, key, g->names, g->n_names);
	ret = 0;
free_names:
	for (i = 0; i < n; i++)
		free(names[i]);
out:
	EVP_PKEY_free(key);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	return ret;
}

static int lib_init(void)
{
	static atomic_int done;
	BIO_METHOD *m;

	if (atomic_load(&done))
		return 0;
	m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "xredir");
	if (!m || !BIO_meth_set_read(m, bio_read) ||
	    !BIO_meth_set_write(m, bio_write) ||
	    !BIO_meth_set_ctrl(m, bio_ctrl))
		return -1;
	ticket_cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	if (!ticket_cipher)
		return -1;
	bio_method = m;
	atomic_store(&done, 1);
	return 0;
}

struct tls_server *tls_server_new(const struct tls_config *cfg, char *why,
				  uint32_t why_len)
{
	struct tls_server *srv;
	uint8_t id[32];
	uint32_t i;

	if (!cfg->n_pairs || cfg->n_pairs > TLS_MAX_PAIRS) {
		snprintf(why, why_len, "between 1 and %d certificates",
			 TLS_MAX_PAIRS);
		return NULL;
	}
	if (lib_init()) {
		fail(why, why_len, "%s", "cannot initialise OpenSSL");
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	atomic_init(&srv->refs, 1);
	srv->serial = atomic_fetch_add(&server_serial, 1) + 1;
	if (cfg->ticket_secret_len >= TLS_TICKET_SECRET_MIN) {
		srv->secret_len = cfg->ticket_secret_len < sizeof(srv->secret) ?
					  cfg->ticket_secret_len :
					  (uint32_t)sizeof(srv->secret);
		memcpy(srv->secret, cfg->ticket_secret, srv->secret_len);
	} else {
		srv->secret_len = sizeof(srv->secret);
		if (RAND_bytes(srv->secret, (int)srv->secret_len) != 1) {
			fail(why, why_len, "%s", "no random ticket secret");
			goto err;
		}
	}
	if (derive(srv, "xredir ticket id", 0, id)) {
		fail(why, why_len, "%s", "cannot derive ticket keys");
		goto err;
	}
	memcpy(srv->ticket_id, id, TICKET_ID_LEN);
	for (i = 0; i < cfg->n_pairs; i++)
		if (load_pair(srv, &cfg->pairs[i], why, why_len))
			goto err;
	return srv;
err:
	tls_server_unref(srv);
	return NULL;
}

void tls_server_ref(struct tls_server *s)
{
	atomic_fetch_add(&s->refs, 1);
}

void tls_server_unref(struct tls_server *s)
{
	uint32_t g, i;

	if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	for (g = 0; g < s->n_groups; g++) {
		SSL_CTX_free(s->groups[g].ctx);
		for (i = 0; i < s->groups[g].n_names; i++)
			free(s->groups[g].names[i]);
	}
	OPENSSL_cleanse(s->secret, sizeof(s->secret));
	free(s);
}

uint32_t tls_server_describe(const struct tls_server *s, char *out,
			     uint32_t cap)
{
	return (uint32_t)snprintf(out, cap, "%s", s->desc);
}

struct tls_session *tls_session_new(struct tls_server *srv)
{
	struct tls_session *s = calloc(1, sizeof(*s));
	BIO *bio;

	if (!s)
		return NULL;
	s->ssl = SSL_new(srv->groups[0].ctx);
	bio = BIO_new(bio_method);
	if (!s->ssl || !bio) {
		BIO_free(bio);
		SSL_free(s->ssl);
		free(s);
		ERR_clear_error();
		return NULL;
	}
	BIO_set_data(bio, s);
	BIO_set_init(bio, 1);
	SSL_set_bio(s->ssl, bio, bio);
	SSL_set_app_data(s->ssl, s);
	SSL_set_accept_state(s->ssl);
	tls_server_ref(srv);
	s->srv = srv;
	return s;
}

void tls_session_free(struct tls_session *s)
{
	if (!s)
		return;
	SSL_free(s->ssl);
	tls_server_unref(s->srv);
	free(s);
}

uint32_t tls_close_notify(struct tls_session *s, struct http_out *out)
{
	uint32_t before = out->len;

	if (s->failed || !SSL_is_init_finished(s->ssl) ||
	    (SSL_get_shutdown(s->ssl) & SSL_SENT_SHUTDOWN) ||
	    out->cap - out->len < TLS_RECORD_SLACK)
		return 0;
	ERR_clear_error();
	s->in = NULL;
	s->in_len = s->in_used = 0;
	s->out = out;
	SSL_shutdown(s->ssl);
	s->out = NULL;
	return out->len - before;
}

bool tls_held(const struct tls_session *s)
{
	return !s->failed && SSL_pending(s->ssl) > 0;
}

bool tls_waiting(const struct tls_session *s)
{
	return !s->failed &&
	       (!SSL_is_init_finished(s->ssl) || SSL_has_pending(s->ssl));
}

const char *tls_session_error(const struct tls_session *s)
{
	return s->error;
}

/* What goes back when OpenSSL has no alert for it: not TLS at all. */
static void answer_non_tls(struct tls_session *s, unsigned long e)
{
	static const char plain[] =
		"HTTP/1.1 400 Bad Request\r\n"
		"Content-Type: text/plain\r\n"
		"Content-Length: 57\r\n"
		"Connection: close\r\n\r\n"
		"This port speaks HTTPS: ask for https:// instead of http\n";
	/* A fatal alert record: TLS 1.2 framing, unexpected_message. */
	static const uint8_t alert[] = { 21, 3, 3, 0, 2, 2, 10 };
	struct http_out *o = s->out;
	const void *msg = alert;
	uint32_t len = sizeof(alert);

	if (!o || o->len)
		return; /* OpenSSL wrote its own alert */
	if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) == SSL_R_HTTP_REQUEST) {
		msg = plain;
		len = sizeof(plain) - 1;
	}
	if (o->cap - o->len >= len) {
		memcpy(o->buf + o->len, msg, len);
		o->len += len;
	}
}

/* A fatal error: OpenSSL wrote its alert through the BIO (if out had
 * room), or answer_non_tls() did; the connection closes, its remaining
 * input is dropped. */
static void session_failed(struct tls_session *s, struct tls_feed *r)
{
	unsigned long e = ERR_peek_last_error();

	answer_non_tls(s, e);
	s->failed = true;
	if (e)
		ERR_error_string_n(e, s->error, sizeof(s->error));
	else
		snprintf(s->error, sizeof(s->error), "protocol error");
	ERR_clear_error();
	r->event = TLS_EV_FAILED;
	r->http.closed = true;
	r->http.consumed = s->in_len;
}

/* What a call that returned n <= 0 means; true when the caller goes on
 * (more input or more output room is needed: not an error). */
static bool would_block(struct tls_session *s, int n, struct tls_feed *r)
{
	switch (SSL_get_error(s->ssl, n)) {
	case SSL_ERROR_WANT_READ:
		return true;
	case SSL_ERROR_WANT_WRITE:
		r->http.blocked = true;
		return true;
	case SSL_ERROR_ZERO_RETURN:
		/* The peer's close_notify: ours goes back, then close. */
		SSL_shutdown(s->ssl);
		r->event = TLS_EV_CLOSED;
		r->http.closed = true;
		s->in_used = s->in_len;
		return true;
	default:
		session_failed(s, r);
		return false;
	}
}

/* Decrypted requests to HTTP, its responses encrypted, while out has
 * room; stops at a partial record or when out is full. */
static void serve(struct tls_session *s, struct http_conn *conn,
		  const struct http_env *env, const struct tls_head *head,
		  struct tls_feed *r)
{
	struct http_out *out = s->out;

	for (;;) {
		uint32_t room = out->cap - out->len, took;
		struct http_out resp = { plain_out, 0, 0 };
		struct http_feed h;
		int n = SSL_peek(s->ssl, plain, sizeof(plain));

		if (n <= 0) {
			would_block(s, n, r);
			return;
		}
		if (room <= TLS_RECORD_SLACK) {
			r->http.blocked = true;
			return;
		}
		resp.cap = room - TLS_RECORD_SLACK;
		if (resp.cap > sizeof(plain_out))
			resp.cap = sizeof(plain_out);
		h = http_feed(conn, env,
			      conn->head_len ? head->buf(head->ctx) : NULL,
			      plain, (uint32_t)n, &resp);
		took = h.consumed;
		if (h.pending)
			took += head->keep(head->ctx, plain + h.consumed,
					   h.pending);
		if (resp.len && SSL_write(s->ssl, resp.buf, (int)resp.len) !=
					(int)resp.len) {
			session_failed(s, r);
			return;
		}
		if (took && SSL_read(s->ssl, plain, (int)took) != (int)took) {
			session_failed(s, r);
			return;
		}
		r->http.responses += h.responses;
		if (h.closed) {
			r->http.closed = true;
			SSL_shutdown(s->ssl); /* close_notify after the last */
			s->in_used = s->in_len; /* the rest is dropped */
			return;
		}
		if (h.blocked) {
			r->http.blocked = true;
			return;
		}
		if (took < (uint32_t)n)
			return; /* no head buffer: held until one is free */
	}
}

struct tls_feed tls_feed(struct tls_session *s, struct http_conn *conn,
			 const struct http_env *env,
			 const struct tls_head *head, const uint8_t *in,
			 uint32_t len, struct http_out *out, int64_t unix_s)
{
	struct tls_feed r = { 0 };

	if (s->failed) {
		r.http.consumed = len;
		r.http.closed = true;
		return r;
	}
	ERR_clear_error();
	s->in = in;
	s->in_len = len;
	s->in_used = 0;
	s->out = out;
	s->unix_s = unix_s;
	if (!SSL_is_init_finished(s->ssl)) {
		int n = SSL_do_handshake(s->ssl);

		if (n <= 0) {
			if (would_block(s, n, &r))
				r.http.consumed = s->in_used;
			s->out = NULL;
			return r;
		}
		r.event = SSL_session_reused(s->ssl) ? TLS_EV_RESUMED :
						       TLS_EV_HANDSHAKE;
	}
	serve(s, conn, env, head, &r);
	if (!s->failed)
		r.http.consumed = s->in_used;
	s->in = NULL;
	s->out = NULL;
	return r;
}
