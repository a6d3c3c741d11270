// SPDX-License-Identifier: MIT
/*
 * wolfSSL 5.5 backend of tls_bench: the library's I/O callbacks over
 * struct pipe, as an engine would feed it from its own TCP buffers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/openssl/rand.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>
#include <wolfssl/wolfcrypt/memory.h>

#include "tls_lib.h"

#define HOST "bench.xredir.test"

struct tls_ep {
	WOLFSSL_CTX *ctx;
	int server, tls12, h2_only;
};

struct tls_conn {
	WOLFSSL *ssl;
	struct pipe *rx, *tx;
};

static char name[64], error[256];
static char alpn[] = "http/1.1", h2[] = "h2";

static int pipe_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct tls_conn *c = ctx;
	size_t n = pipe_read(c->rx, buf, (size_t)sz);

	(void)ssl;
	return n ? (int)n : WOLFSSL_CBIO_ERR_WANT_READ;
}

static int pipe_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct tls_conn *c = ctx;
	size_t n = pipe_write(c->tx, buf, (size_t)sz);

	(void)ssl;
	return n ? (int)n : WOLFSSL_CBIO_ERR_WANT_WRITE;
}

int tls_init(void)
{
	if (wolfSSL_SetAllocators(bench_malloc, bench_free, bench_realloc) ||
	    wolfSSL_Init() != WOLFSSL_SUCCESS)
		return -1;
	snprintf(name, sizeof(name), "wolfSSL %s", wolfSSL_lib_version());
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

static struct tls_ep *ep_new(WOLFSSL_CTX *ctx, int server, int tls12)
{
	struct tls_ep *ep = calloc(1, sizeof(*ep));

	if (!ep) {
		wolfSSL_CTX_free(ctx);
		return NULL;
	}
	wolfSSL_CTX_SetIORecv(ctx, pipe_recv);
	wolfSSL_CTX_SetIOSend(ctx, pipe_send);
	ep->ctx = ctx;
	ep->server = server;
	ep->tls12 = tls12;
	return ep;
}

/* The callback encrypts the ticket itself: ChaCha20-Poly1305 with the
 * shared key, the key name and IV authenticated with it. A ticket under
 * another key name gets a full handshake. */
static int ticket_key_cb(WOLFSSL *ssl, unsigned char key_name[16],
			 unsigned char iv[16], unsigned char mac[32], int enc,
			 unsigned char *ticket, int len, int *out, void *ctx)
{
	const unsigned char *key = ctx;
	unsigned char aad[TICKET_NAME_LEN + WOLFSSL_TICKET_IV_SZ];

	(void)ssl;
	if (enc) {
		memcpy(key_name, key, TICKET_NAME_LEN);
		if (wolfSSL_RAND_bytes(iv, WOLFSSL_TICKET_IV_SZ) != 1)
			return WOLFSSL_TICKET_RET_FATAL;
	} else if (memcmp(key_name, key, TICKET_NAME_LEN)) {
		return WOLFSSL_TICKET_RET_REJECT;
	}
	memcpy(aad, key_name, TICKET_NAME_LEN);
	memcpy(aad + TICKET_NAME_LEN, iv, WOLFSSL_TICKET_IV_SZ);
	if (enc ? wc_ChaCha20Poly1305_Encrypt(key + TICKET_NAME_LEN, iv, aad,
					      sizeof(aad), ticket, (word32)len,
					      ticket, mac) :
		  wc_ChaCha20Poly1305_Decrypt(key + TICKET_NAME_LEN, iv, aad,
					      sizeof(aad), ticket, (word32)len,
					      mac, ticket))
		return enc ? WOLFSSL_TICKET_RET_FATAL :
			     WOLFSSL_TICKET_RET_REJECT;
	*out = len;
	return WOLFSSL_TICKET_RET_OK;
}

static struct tls_ep *fail(WOLFSSL_CTX *ctx, const char *what)
{
	fprintf(stderr, "wolfSSL: %s failed\n", what);
	wolfSSL_CTX_free(ctx);
	return NULL;
}

/* The same server as the OpenSSL backend: TLS 1.2 and 1.3, AEAD suites
 * only, stateless tickets under a shared key and no session cache, ALPN
 * http/1.1 per connection; this build has no 0-RTT. */
struct tls_ep *tls_server(const struct tls_opts *o)
{
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfSSLv23_server_method());
	int groups[] = { WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1 };

	if (!ctx)
		return fail(ctx, "server context");
	if (wolfSSL_CTX_SetMinVersion(ctx, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS)
		return fail(ctx, "min version");
	if (wolfSSL_CTX_set_cipher_list(ctx, "TLS13-AES128-GCM-SHA256:"
					     "TLS13-AES256-GCM-SHA384:"
					     "TLS13-CHACHA20-POLY1305-SHA256:"
					     "ECDHE-ECDSA-AES128-GCM-SHA256:"
					     "ECDHE-RSA-AES128-GCM-SHA256:"
					     "ECDHE-ECDSA-AES256-GCM-SHA384:"
					     "ECDHE-RSA-AES256-GCM-SHA384:"
					     "ECDHE-ECDSA-CHACHA20-POLY1305:"
					     "ECDHE-RSA-CHACHA20-POLY1305") !=
	    WOLFSSL_SUCCESS)
		return fail(ctx, "cipher list");
	if (wolfSSL_CTX_set_groups(ctx, groups, 2) != WOLFSSL_SUCCESS)
		return fail(ctx, "groups");
	if (wolfSSL_CTX_use_certificate_chain_file(ctx, o->cert) !=
		    WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_use_PrivateKey_file(
		    ctx, o->key, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS)
		return fail(ctx, "certificate");
	if (wolfSSL_CTX_set_TicketEncCb(ctx, ticket_key_cb) !=
		    WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_set_TicketEncCtx(ctx, (void *)o->ticket_key) !=
		    WOLFSSL_SUCCESS)
		return fail(ctx, "ticket key callback");
	wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_OFF);
	return ep_new(ctx, 1, 0);
}

struct tls_ep *tls_client(const struct tls_opts *o)
{
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(o->tls12_only ?
						   wolfTLSv1_2_client_method() :
						   wolfSSLv23_client_method());
	int chacha = !strcmp(o->suite, "chacha20");
	int groups[] = { WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1 };
	struct tls_ep *ep;

	if (!ctx)
		return fail(ctx, "client context");
	if (wolfSSL_CTX_set_cipher_list(
		    ctx, chacha ? "TLS13-CHACHA20-POLY1305-SHA256:"
				  "ECDHE-ECDSA-CHACHA20-POLY1305:"
				  "ECDHE-RSA-CHACHA20-POLY1305" :
				  "TLS13-AES128-GCM-SHA256:"
				  "ECDHE-ECDSA-AES128-GCM-SHA256:"
				  "ECDHE-RSA-AES128-GCM-SHA256") !=
	    WOLFSSL_SUCCESS)
		return fail(ctx, "cipher list");
	/* set_groups is TLS 1.3 only; a TLS 1.2 client lists the curves. */
	if (o->tls12_only ?
		    wolfSSL_CTX_UseSupportedCurve(ctx, WOLFSSL_ECC_X25519) !=
				    WOLFSSL_SUCCESS ||
			    wolfSSL_CTX_UseSupportedCurve(
				    ctx, WOLFSSL_ECC_SECP256R1) !=
				    WOLFSSL_SUCCESS :
		    wolfSSL_CTX_set_groups(ctx, groups, 2) != WOLFSSL_SUCCESS)
		return fail(ctx, "groups");
	if (wolfSSL_CTX_load_verify_locations(ctx, o->ca, NULL) !=
	    WOLFSSL_SUCCESS)
		return fail(ctx, "trust anchor");
	wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, NULL);
	ep = ep_new(ctx, 0, o->tls12_only);
	if (ep)
		ep->h2_only = o->h2_only;
	return ep;
}

void tls_ep_free(struct tls_ep *ep)
{
	wolfSSL_CTX_free(ep->ctx);
	free(ep);
}

struct tls_conn *tls_conn_new(struct tls_ep *ep, struct pipe *rx,
			      struct pipe *tx)
{
	struct tls_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->rx = rx;
	c->tx = tx;
	c->ssl = wolfSSL_new(ep->ctx);
	if (!c->ssl)
		goto err;
	wolfSSL_SetIOReadCtx(c->ssl, c);
	wolfSSL_SetIOWriteCtx(c->ssl, c);
	if (ep->server) {
		wolfSSL_set_accept_state(c->ssl);
		if (wolfSSL_UseALPN(c->ssl, alpn, sizeof(alpn) - 1,
				    WOLFSSL_ALPN_FAILED_ON_MISMATCH) !=
		    WOLFSSL_SUCCESS)
			goto err;
	} else {
		wolfSSL_set_connect_state(c->ssl);
		if (wolfSSL_UseSNI(c->ssl, WOLFSSL_SNI_HOST_NAME, HOST,
				   sizeof(HOST) - 1) != WOLFSSL_SUCCESS ||
		    wolfSSL_check_domain_name(c->ssl, HOST) !=
			    WOLFSSL_SUCCESS ||
		    wolfSSL_UseALPN(c->ssl, ep->h2_only ? h2 : alpn,
				    ep->h2_only ? sizeof(h2) - 1 :
						  sizeof(alpn) - 1,
				    WOLFSSL_ALPN_CONTINUE_ON_MISMATCH) !=
			    WOLFSSL_SUCCESS ||
		    (!ep->tls12 &&
		     wolfSSL_UseKeyShare(c->ssl, WOLFSSL_ECC_X25519) !=
			     WOLFSSL_SUCCESS))
			goto err;
	}
	return c;
err:
	fprintf(stderr, "wolfSSL: connection setup failed\n");
	wolfSSL_free(c->ssl);
	free(c);
	return NULL;
}

void tls_conn_free(struct tls_conn *c)
{
	if (!c)
		return;
	wolfSSL_free(c->ssl);
	free(c);
}

static int result(struct tls_conn *c, int r)
{
	int err;

	if (r > 0)
		return r;
	err = wolfSSL_get_error(c->ssl, r);
	if (err == WOLFSSL_ERROR_WANT_READ)
		return 0;
	snprintf(error, sizeof(error), "error %d: %s", err,
		 wolfSSL_ERR_reason_error_string((unsigned long)err));
	return -1;
}

int tls_handshake(struct tls_conn *c)
{
	return result(c, wolfSSL_negotiate(c->ssl));
}

int tls_read(struct tls_conn *c, void *buf, int len)
{
	return result(c, wolfSSL_read(c->ssl, buf, len));
}

int tls_write(struct tls_conn *c, const void *buf, int len)
{
	return wolfSSL_write(c->ssl, buf, len) == len ? len : -1;
}

void tls_describe(struct tls_conn *c, char *out, size_t len)
{
	const char *group = wolfSSL_get_curve_name(c->ssl);

	snprintf(out, len, "%s %s %s", wolfSSL_get_version(c->ssl),
		 wolfSSL_get_cipher_name(c->ssl), group ? group : "?");
}

int tls_resumed(struct tls_conn *c)
{
	return wolfSSL_session_reused(c->ssl);
}

struct tls_sess *tls_session(struct tls_conn *c)
{
	return (struct tls_sess *)wolfSSL_get1_session(c->ssl);
}

int tls_set_session(struct tls_conn *c, struct tls_sess *s)
{
	return wolfSSL_set_session(c->ssl, (WOLFSSL_SESSION *)s) ==
			       WOLFSSL_SUCCESS ?
		       0 :
		       -1;
}

void tls_session_free(struct tls_sess *s)
{
	wolfSSL_SESSION_free((WOLFSSL_SESSION *)s);
}
