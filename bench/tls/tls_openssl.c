// SPDX-License-Identifier: MIT
/*
 * OpenSSL 3.0 backend of tls_bench: a BIO method over struct pipe (what an
 * engine would write to feed TLS from its own TCP buffers, with no extra
 * copy through a memory BIO).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "tls_lib.h"

#define HOST "bench.xredir.test"

struct tls_ep {
	SSL_CTX *ctx;
	int server;
};

struct tls_conn {
	SSL *ssl;
	struct pipe *rx, *tx;
};

static BIO_METHOD *pipe_method;
static EVP_CIPHER *ticket_cipher;
static char name[64], error[256];

static int pipe_bread(BIO *b, char *buf, int len)
{
	struct tls_conn *c = BIO_get_data(b);
	size_t n = pipe_read(c->rx, buf, (size_t)len);

	BIO_clear_retry_flags(b);
	if (!n) {
		BIO_set_retry_read(b);
		return -1;
	}
	return (int)n;
}

static int pipe_bwrite(BIO *b, const char *buf, int len)
{
	struct tls_conn *c = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	return (int)pipe_write(c->tx, buf, (size_t)len);
}

static long pipe_bctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH;
}

static void *hook_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return bench_malloc(n);
}

static void *hook_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return bench_realloc(p, n);
}

static void hook_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	bench_free(p);
}

int tls_init(void)
{
	if (!CRYPTO_set_mem_functions(hook_malloc, hook_realloc, hook_free))
		return -1;
	pipe_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
				   "pipe");
	if (!pipe_method || !BIO_meth_set_read(pipe_method, pipe_bread) ||
	    !BIO_meth_set_write(pipe_method, pipe_bwrite) ||
	    !BIO_meth_set_ctrl(pipe_method, pipe_bctrl))
		return -1;
	ticket_cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	if (!ticket_cipher)
		return -1;
	snprintf(name, sizeof(name), "OpenSSL %s",
		 OpenSSL_version(OPENSSL_VERSION_STRING));
	return 0;
}

const char *tls_name(void)
{
	return name;
}

const char *tls_error(void)
{
	return error;
}

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

/* OpenSSL's ticket format: AES-256-CBC and HMAC-SHA256 with the shared
 * key; a ticket under another key name gets a full handshake. */
static int ticket_key_cb(SSL *ssl, unsigned char key_name[16],
			 unsigned char *iv, EVP_CIPHER_CTX *cipher,
			 EVP_MAC_CTX *mac, int enc)
{
	const unsigned char *key = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	const unsigned char *secret = key + TICKET_NAME_LEN;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
						  (void *)(secret + 32), 32),
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 "SHA256", 0),
		OSSL_PARAM_construct_end(),
	};

	if (enc) {
		memcpy(key_name, key, TICKET_NAME_LEN);
		if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(ticket_cipher)) !=
			    1 ||
		    !EVP_EncryptInit_ex(cipher, ticket_cipher, NULL, secret,
					iv) ||
		    !EVP_MAC_CTX_set_params(mac, params))
			return -1;
		return 1;
	}
	if (memcmp(key_name, key, TICKET_NAME_LEN))
		return 0;
	if (!EVP_DecryptInit_ex(cipher, ticket_cipher, NULL, secret, iv) ||
	    !EVP_MAC_CTX_set_params(mac, params))
		return -1;
	return 1;
}

static struct tls_ep *fail(SSL_CTX *ctx)
{
	ERR_print_errors_fp(stderr);
	SSL_CTX_free(ctx);
	return NULL;
}

/* What issue 11 asks of the server: TLS 1.2 and 1.3, AEAD suites only,
 * stateless tickets under a shared key and no session cache, ALPN
 * http/1.1, no 0-RTT (the default), no renegotiation. */
struct tls_ep *tls_server(const struct tls_opts *o)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	struct tls_ep *ep;

	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:"
					   "TLS_AES_256_GCM_SHA384:"
					   "TLS_CHACHA20_POLY1305_SHA256") ||
	    !SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") ||
	    !SSL_CTX_set1_groups_list(ctx, "X25519:P-256") ||
	    !SSL_CTX_set_num_tickets(ctx, 1) ||
	    SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1)
		return fail(ctx);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	if (o->release_buffers)
		SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	if (!SSL_CTX_set_app_data(ctx, (void *)o->ticket_key) ||
	    !SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_key_cb))
		return fail(ctx);
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return fail(ctx);
	ep->ctx = ctx;
	ep->server = 1;
	return ep;
}

struct tls_ep *tls_client(const struct tls_opts *o)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int chacha = !strcmp(o->suite, "chacha20");
	const unsigned char *alpn =
		(const unsigned char *)(o->h2_only ? "\x02h2" : "\x08http/1.1");
	struct tls_ep *ep;

	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    (o->tls12_only &&
	     !SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION)) ||
	    !SSL_CTX_set_ciphersuites(ctx,
				      chacha ? "TLS_CHACHA20_POLY1305_SHA256" :
					       "TLS_AES_128_GCM_SHA256") ||
	    !SSL_CTX_set_cipher_list(ctx, chacha ? "ECDHE+CHACHA20" :
						   "ECDHE+AES128+AESGCM") ||
	    !SSL_CTX_set1_groups_list(ctx, "X25519:P-256") ||
	    SSL_CTX_set_alpn_protos(ctx, alpn, alpn[0] + 1u) ||
	    !SSL_CTX_load_verify_locations(ctx, o->ca, NULL))
		return fail(ctx);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return fail(ctx);
	ep->ctx = ctx;
	return ep;
}

void tls_ep_free(struct tls_ep *ep)
{
	SSL_CTX_free(ep->ctx);
	free(ep);
}

struct tls_conn *tls_conn_new(struct tls_ep *ep, struct pipe *rx,
			      struct pipe *tx)
{
	struct tls_conn *c = calloc(1, sizeof(*c));
	BIO *bio;

	if (!c)
		return NULL;
	c->rx = rx;
	c->tx = tx;
	c->ssl = SSL_new(ep->ctx);
	bio = BIO_new(pipe_method);
	if (!c->ssl || !bio)
		goto err;
	BIO_set_data(bio, c);
	BIO_set_init(bio, 1);
	SSL_set_bio(c->ssl, bio, bio);
	if (ep->server) {
		SSL_set_accept_state(c->ssl);
	} else {
		SSL_set_connect_state(c->ssl);
		if (!SSL_set_tlsext_host_name(c->ssl, HOST) ||
		    !SSL_set1_host(c->ssl, HOST))
			goto err;
	}
	return c;
err:
	ERR_print_errors_fp(stderr);
	BIO_free(bio);
	SSL_free(c->ssl);
	free(c);
	return NULL;
}

void tls_conn_free(struct tls_conn *c)
{
	if (!c)
		return;
	/* Closed cleanly: SSL_free would otherwise mark the session as not
	 * resumable. */
	SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(c->ssl);
	free(c);
}

static int result(struct tls_conn *c, int r)
{
	if (r > 0)
		return r;
	if (SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ)
		return 0;
	ERR_error_string_n(ERR_peek_last_error(), error, sizeof(error));
	ERR_clear_error();
	return -1;
}

int tls_handshake(struct tls_conn *c)
{
	return result(c, SSL_do_handshake(c->ssl));
}

int tls_read(struct tls_conn *c, void *buf, int len)
{
	return result(c, SSL_read(c->ssl, buf, len));
}

int tls_write(struct tls_conn *c, const void *buf, int len)
{
	return SSL_write(c->ssl, buf, len) == len ? len : -1;
}

void tls_describe(struct tls_conn *c, char *out, size_t len)
{
	const char *group =
		SSL_group_to_name(c->ssl, SSL_get_negotiated_group(c->ssl));

	snprintf(out, len, "%s %s %s", SSL_get_version(c->ssl),
		 SSL_get_cipher_name(c->ssl), group ? group : "?");
}

int tls_resumed(struct tls_conn *c)
{
	return SSL_session_reused(c->ssl);
}

struct tls_sess *tls_session(struct tls_conn *c)
{
	SSL_SESSION *s = SSL_get1_session(c->ssl);

	if (s && !SSL_SESSION_is_resumable(s)) {
		SSL_SESSION_free(s);
		return NULL;
	}
	return (struct tls_sess *)s;
}

int tls_set_session(struct tls_conn *c, struct tls_sess *s)
{
	return SSL_set_session(c->ssl, (SSL_SESSION *)s) == 1 ? 0 : -1;
}

void tls_session_free(struct tls_sess *s)
{
	SSL_SESSION_free((SSL_SESSION *)s);
}
