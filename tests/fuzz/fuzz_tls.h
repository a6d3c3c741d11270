/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * TLS for the engine fuzzer and its seed generator: a certificate made in
 * the process, and OpenSSL's randomness made deterministic. The server's
 * random draws (its key shares, randoms, signatures) then depend on the
 * input alone, so a client flight recorded by gen_seeds against the same
 * server still decrypts when the fuzzer replays it: mutations reach the
 * records after the handshake, not only the ClientHello.
 */
#ifndef XREDIR_FUZZ_TLS_H
#define XREDIR_FUZZ_TLS_H

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "tls.h"

#define FZ_TLS_NAME "xredir.test"

/* Two streams: the server's (FZ_RAND_SERVER), restarted for each input,
 * and the generator's client (FZ_RAND_CLIENT), which must not shift it. */
enum { FZ_RAND_SERVER, FZ_RAND_CLIENT };

static uint64_t fz_rand_state[2];
static int fz_rand_cur;

static uint64_t fz_splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int fz_rand_bytes(unsigned char *buf, int num)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < num; i++) {
		if (!(i & 7))
			v = fz_splitmix(&fz_rand_state[fz_rand_cur]);
		buf[i] = (unsigned char)(v >> (8 * (i & 7)));
	}
	return 1;
}

static int fz_rand_status(void)
{
	return 1;
}

static const RAND_METHOD fz_rand_method = {
	.bytes = fz_rand_bytes,
	.pseudorand = fz_rand_bytes,
	.status = fz_rand_status,
};

/*
 * OpenSSL's clock, which it reads with time(): fixed, so that a session in
 * a recorded ticket never expires (and the seeds come out the same each
 * time). This definition takes the place of the C library's for the
 * OpenSSL libraries too; the engine has its own clock.
 */
#define FZ_UNIX_TIME 1700000000
time_t time(time_t *t)
{
	if (t)
		*t = FZ_UNIX_TIME;
	return FZ_UNIX_TIME;
}

static inline void fz_rand_use(int stream)
{
	fz_rand_cur = stream;
}

static inline void fz_rand_restart(void)
{
	fz_rand_state[FZ_RAND_SERVER] = 0x5eed5eed5eed5eedull;
	fz_rand_state[FZ_RAND_CLIENT] = 0xc11e47c11e47c11eull;
	fz_rand_cur = FZ_RAND_SERVER;
}

/* pem_file: data written to a new temporary file, which is unlinked
 * once loaded; its name into path. */
static int fz_pem_file(char *path, int (*write)(FILE *f, void *obj), void *obj)
{
	FILE *f;
	int fd;

	snprintf(path, 64, "/tmp/xredir-fuzz-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -1;
	}
	if (!write(f, obj)) {
		fclose(f);
		return -1;
	}
	return fclose(f) ? -1 : 0;
}

static int fz_write_key(FILE *f, void *k)
{
	return PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
}

static int fz_write_cert(FILE *f, void *x)
{
	return PEM_write_X509(f, x);
}

/*
 * An ECDSA P-256 key and a self-signed certificate for FZ_TLS_NAME, made
 * from the deterministic stream, loaded into a server with a fixed ticket
 * secret. Aborts when anything fails: no fuzzing without it.
 */
static struct tls_server *fz_tls_server(void)
{
	struct tls_config cfg = { .n_pairs = 1, .ticket_secret_len = 32 };
	char cert_path[64], key_path[64], why[256];
	struct tls_server *srv;
	X509_NAME *name;
	X509_EXTENSION *ext;
	EVP_PKEY *key;
	X509 *x;

	/* Deprecated, but the one hook that replaces the DRBG for the
	 * providers' key generation and signing too (OpenSSL 3.0). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	RAND_set_rand_method(&fz_rand_method);
#pragma GCC diagnostic pop
	fz_rand_restart();
	key = EVP_EC_gen("P-256");
	x = X509_new();
	if (!key || !x || !X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), 1) ||
	    /* Fixed dates: the same certificate bytes in every run. */
	    !ASN1_TIME_set_string(X509_getm_notBefore(x), "20200101000000Z") ||
	    !ASN1_TIME_set_string(X509_getm_notAfter(x), "20991231235959Z") ||
	    !X509_set_pubkey(x, key))
		abort();
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)FZ_TLS_NAME, -1,
					-1, 0) ||
	    !X509_set_issuer_name(x, name))
		abort();
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
				  "DNS:" FZ_TLS_NAME);
	if (!ext || !X509_add_ext(x, ext, -1) ||
	    !X509_sign(x, key, EVP_sha256()))
		abort();
	X509_EXTENSION_free(ext);
	if (fz_pem_file(cert_path, fz_write_cert, x) ||
	    fz_pem_file(key_path, fz_write_key, key))
		abort();
	cfg.pairs[0] = (struct tls_pair){ cert_path, key_path };
	memset(cfg.ticket_secret, 0x42, cfg.ticket_secret_len);
	srv = tls_server_new(&cfg, why, sizeof(why));
	unlink(cert_path);
	unlink(key_path);
	if (!srv) {
		fprintf(stderr, "fuzz: tls_server_new: %s\n", why);
		abort();
	}
	X509_free(x);
	EVP_PKEY_free(key);
	return srv;
}

#endif /* XREDIR_FUZZ_TLS_H */
