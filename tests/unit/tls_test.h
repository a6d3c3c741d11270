/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the TLS tests share: certificates made at run time (nothing secret
 * is committed) and an OpenSSL client over memory BIOs, whose bytes the
 * test carries to the code under test and back.
 */
#ifndef XREDIR_TLS_TEST_H
#define XREDIR_TLS_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* A certificate and its key in files under /tmp, removed at exit. */
struct test_pair {
	char cert[64], key[64];
};

static char tls_test_files[16][64];
static int tls_test_nfiles;

static inline void tls_test_cleanup(void)
{
	while (tls_test_nfiles)
		unlink(tls_test_files[--tls_test_nfiles]);
}

static inline void tls_test_tmp(char *path, const char *what)
{
	int fd;

	snprintf(path, 64, "/tmp/xredir-test-%s-XXXXXX", what);
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	close(fd);
	if (!tls_test_nfiles)
		atexit(tls_test_cleanup);
	snprintf(tls_test_files[tls_test_nfiles++], 64, "%s", path);
}

static inline EVP_PKEY *tls_test_key(bool rsa)
{
	return rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
}

/* A self-signed certificate for the comma-separated DNS names. */
static inline X509 *tls_test_cert(EVP_PKEY *key, const char *names, int days)
{
	X509 *x = X509_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	char san[512] = "";
	const char *p = names;

	while (*p) {
		size_t n = strcspn(p, ",");

		snprintf(san + strlen(san), sizeof(san) - strlen(san),
			 "%sDNS:%.*s", *san ? "," : "", (int)n, p);
		p += n + (p[n] == ',');
	}
	if (!x || !X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), 1) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -60) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) ||
	    !X509_set_pubkey(x, key) ||
	    !X509_NAME_add_entry_by_txt(
		    X509_get_subject_name(x), "CN", MBSTRING_ASC,
		    (const unsigned char *)"xredir test", -1, -1, 0) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(x)))
		abort();
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
	if (!ext || !X509_add_ext(x, ext, -1) ||
	    !X509_sign(x, key, EVP_sha256()))
		abort();
	X509_EXTENSION_free(ext);
	return x;
}

/* Writes a new key and certificate for names to files. */
static inline void tls_test_pair(struct test_pair *tp, bool rsa,
				 const char *names)
{
	EVP_PKEY *key = tls_test_key(rsa);
	X509 *x = tls_test_cert(key, names, 30);
	FILE *f;

	tls_test_tmp(tp->cert, "cert");
	tls_test_tmp(tp->key, "key");
	f = fopen(tp->cert, "w");
	if (!f || !PEM_write_X509(f, x))
		abort();
	fclose(f);
	f = fopen(tp->key, "w");
	if (!f || !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL))
		abort();
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(key);
}

/* A client: memory BIOs both ways, no verification (the tests check the
 * certificate chosen themselves). */
struct test_client {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *from_server, *to_server;
};

static inline void test_client_init(struct test_client *c, int max_version,
				    const char *alpn, const char *sni)
{
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ctx)
		abort();
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_VERSION);
	SSL_CTX_set_security_level(c->ctx, 0);
	if (max_version)
		SSL_CTX_set_max_proto_version(c->ctx, max_version);
	if (alpn)
		SSL_CTX_set_alpn_protos(c->ctx, (const unsigned char *)alpn,
					(unsigned int)strlen(alpn));
	c->ssl = SSL_new(c->ctx);
	c->from_server = BIO_new(BIO_s_mem());
	c->to_server = BIO_new(BIO_s_mem());
	if (!c->ssl || !c->from_server || !c->to_server)
		abort();
	SSL_set_bio(c->ssl, c->from_server, c->to_server);
	SSL_set_connect_state(c->ssl);
	if (sni)
		SSL_set_tlsext_host_name(c->ssl, sni);
}

static inline void test_client_free(struct test_client *c)
{
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	memset(c, 0, sizeof(*c));
}

#endif /* XREDIR_TLS_TEST_H */
