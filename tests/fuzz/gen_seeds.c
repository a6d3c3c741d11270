// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Writes the fuzzers' seed corpora: every HTTP corpus entry (whole, and
 * split into small chunks) for fuzz_http, each entry under its own limits
 * for fuzz_http_fast, and a few complete connections for fuzz_engine, among
 * them HTTPS connections of a real OpenSSL client recorded as it talks to
 * the engine. Run when the corpus changes (make fuzz-seeds):
 *   gen_seeds tests/fuzz/corpus
 */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

#include "engine_ops.h"
#include "http_corpus.h"

static int write_file(const char *dir, const char *name, const void *p,
		      size_t n, int split)
{
	char path[512];
	unsigned char s = (unsigned char)split;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	fwrite(&s, 1, 1, f);
	fwrite(p, 1, n, f);
	return fclose(f);
}

/*
 * Engine seeds: op < 200 is a crafted segment (see engine_ops.h):
 * conn, flags, mode, then fields. mode 1|2: sequence and ACK relative to
 * what the engine expects; 8: a canned request; 32: advance our seq.
 */
static int engine_seeds(const char *dir)
{
	static const unsigned char connect_get_fin[] = {
		0, 0, 0x02, 0x21, 0, 0, 0xff, 0, /* SYN */
		0, 0, 0x10, 0x23, 0, 0, 0xff, 0, /* ACK */
		0, 0, 0x18, 0x2b, 0, 0, 0xff, 0, 0, 1, /* GET / */
		0, 0, 0x11, 0x23, 0, 0, 0xff, 0, /* FIN */
		0, 0, 0x10, 0x23, 0, 0, 0xff, 0, /* ACK of ours */
	};
	static const unsigned char connect_close_timers[] = {
		0,    1,    0x02, 0x21, 0,    0,    0xff, 0, 0,
		1,    0x10, 0x23, 0,	0,    0xff, 0,	  0, 1,
		0x18, 0x2b, 0,	  0,	0xff, 2,    0,	  1, /* HEAD, close */
		230,  10,   231,  70, /* timers */
	};
	char path[512];
	FILE *f;
	int i;
	const struct {
		const char *name;
		const unsigned char *p;
		size_t n;
	} seeds[] = {
		{ "connect_get_fin", connect_get_fin, sizeof(connect_get_fin) },
		{ "connect_close_timers", connect_close_timers,
		  sizeof(connect_close_timers) },
	};

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, seeds[i].name);
		f = fopen(path, "wb");
		if (!f)
			return -1;
		fwrite(seeds[i].p, 1, seeds[i].n, f);
		fclose(f);
	}
	return 0;
}

/* ---- HTTPS seeds: a client's records as fuzz_engine operations ---- */

struct seed {
	uint8_t buf[32768];
	size_t n;
	size_t ran; /* bytes already run through the engine */
	int ops;
};

static void put(struct seed *s, const void *p, size_t n)
{
	if (s->n + n > sizeof(s->buf)) {
		fprintf(stderr, "gen_seeds: seed too long\n");
		exit(1);
	}
	memcpy(s->buf + s->n, p, n);
	s->n += n;
}

static void put8(struct seed *s, uint8_t v)
{
	put(s, &v, 1);
}

/* Runs the operations appended since the last call; the engine's output
 * stays in h.out. */
static void run(struct seed *s)
{
	struct fz f = { s->buf + s->ran, s->n - s->ran };

	fz_rand_use(FZ_RAND_SERVER);
	while (f.n)
		fz_step(&f);
	s->ran = s->n;
}

/*
 * Appends and runs one crafted segment on conn k: sequence and ACK
 * relative to what the engine expects (mode 1|2), our sequence advanced
 * (32), except for a SYN, whose ACK field is 0.
 */
static void seg(struct seed *s, uint8_t k, uint8_t flags, const void *data,
		uint32_t len)
{
	uint8_t mode = 1 | 32 | (flags & TCP_SYN ? 0 : 2) | (len ? 64 : 0);

	if (++s->ops > 256) {
		fprintf(stderr, "gen_seeds: more than 256 operations\n");
		exit(1);
	}
	put8(s, 0);
	put8(s, k);
	put8(s, flags);
	put8(s, mode);
	put8(s, 0); /* seq: what the engine expects */
	if (mode & 2)
		put8(s, 0);
	else
		put(s, "\0\0\0\0", 4);
	put8(s, 0xff); /* window */
	if (len) {
		put8(s, (uint8_t)(len >> 8));
		put8(s, (uint8_t)len);
		put(s, data, len);
	}
	put8(s, 0); /* target */
	run(s);
}

/* The engine's payload to conn k in the last step, into the client's
 * read BIO; 1 when there was any. */
static int deliver(uint8_t k, BIO *rbio)
{
	int got = 0;
	uint32_t i;
	struct pkt p;

	for (i = 0; i < h.nout; i++) {
		if (h_parse(&h, i, &conns[k], &p) || !p.payload_len)
			continue;
		BIO_write(rbio, p.payload, (int)p.payload_len);
		got = 1;
	}
	return got;
}

/* Sends what the client wrote, in segments of up to 1400 bytes; feeds
 * back (and acknowledges) what the engine answers. */
static void flush(struct seed *s, uint8_t k, BIO *wbio, BIO *rbio)
{
	uint8_t chunk[1400];
	int n;

	while ((n = BIO_read(wbio, chunk, sizeof(chunk))) > 0) {
		seg(s, k, TCP_ACK | TCP_PSH, chunk, (uint32_t)n);
		while (deliver(k, rbio))
			seg(s, k, TCP_ACK, NULL, 0);
	}
}

static int ssl_step(SSL *ssl, int ret)
{
	int e = SSL_get_error(ssl, ret);

	if (ret > 0 || e == SSL_ERROR_WANT_READ)
		return 0;
	fprintf(stderr, "gen_seeds: TLS client: error %d\n", e);
	ERR_print_errors_fp(stderr);
	return -1;
}

/*
 * A connection on conn k: TCP handshake, TLS handshake (resuming *sess
 * when set; the session to resume stored there after), `requests` GETs,
 * each answered with a redirect, close_notify, FIN.
 */
static int tls_conn(struct seed *s, SSL_CTX *ctx, uint8_t k, int requests,
		    SSL_SESSION **sess)
{
	char resp[4096], req[128];
	BIO *rbio = BIO_new(BIO_s_mem()), *wbio = BIO_new(BIO_s_mem());
	SSL *ssl = SSL_new(ctx);
	int i, n, ret, rc = -1, tries;

	if (!rbio || !wbio || !ssl)
		return -1;
	SSL_set_bio(ssl, rbio, wbio);
	SSL_set_connect_state(ssl);
	SSL_set_tlsext_host_name(ssl, FZ_TLS_NAME);
	if (*sess)
		SSL_set_session(ssl, *sess);
	seg(s, k, TCP_SYN, NULL, 0);
	seg(s, k, TCP_ACK, NULL, 0);
	for (tries = 0; tries < 8; tries++) {
		fz_rand_use(FZ_RAND_CLIENT);
		ret = SSL_do_handshake(ssl);
		if (ssl_step(ssl, ret))
			goto out;
		flush(s, k, wbio, rbio);
		if (ret == 1)
			break;
	}
	if (tries == 8)
		goto out;
	for (i = 0; i < requests; i++) {
		n = snprintf(req, sizeof(req),
			     "GET /v2/tls/%d HTTP/1.1\r\nHost: " FZ_TLS_NAME
			     "\r\n\r\n",
			     i);
		fz_rand_use(FZ_RAND_CLIENT);
		if (ssl_step(ssl, SSL_write(ssl, req, n)))
			goto out;
		flush(s, k, wbio, rbio);
		fz_rand_use(FZ_RAND_CLIENT);
		ret = SSL_read(ssl, resp, sizeof(resp) - 1);
		if (ssl_step(ssl, ret) || ret <= 0)
			goto out;
		resp[ret] = 0;
		if (strncmp(resp, "HTTP/1.1 302", 12) ||
		    !strstr(resp, "Location: https://k8s.gcr.io/v2/tls/")) {
			fprintf(stderr, "gen_seeds: response: %.60s\n", resp);
			goto out;
		}
	}
	if (!*sess)
		*sess = SSL_get1_session(ssl);
	fz_rand_use(FZ_RAND_CLIENT);
	SSL_shutdown(ssl);
	flush(s, k, wbio, rbio);
	seg(s, k, TCP_FIN | TCP_ACK, NULL, 0);
	seg(s, k, TCP_ACK, NULL, 0);
	rc = 0;
out:
	SSL_free(ssl);
	return rc;
}

/*
 * One HTTPS seed: connections made by a client with protocol version
 * max_ver, the second (when resume) resuming the first's session. Then
 * the seed is run again in a fresh engine, as the fuzzer will: the same
 * handshakes must complete (the server's randomness restarts with each
 * input), else the recorded flights would not decrypt.
 */
static int tls_seed(const char *dir, const char *name, int max_ver,
		    int requests, int resume)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL_SESSION *sess = NULL;
	static struct seed s;
	uint64_t hs, rs;
	char path[512];
	FILE *f;
	int rc = -1;

	memset(&s, 0, sizeof(s));
	if (!ctx || !SSL_CTX_set_max_proto_version(ctx, max_ver) ||
	    SSL_CTX_set_alpn_protos(ctx, (const uint8_t *)"\x08http/1.1", 9))
		goto out;
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
	fz_begin();
	if (tls_conn(&s, ctx, 4, requests, &sess) ||
	    (resume && tls_conn(&s, ctx, 5, 1, &sess)))
		goto out;
	fz_end();
	fz_begin();
	s.ran = 0;
	run(&s);
	hs = h.e.stats[TCP_STAT_tls_handshakes];
	rs = h.e.stats[TCP_STAT_tls_resumed];
	fz_end();
	if (hs != 1 || rs != (uint64_t) !!resume ||
	    h.e.stats[TCP_STAT_tls_failed]) {
		fprintf(stderr,
			"gen_seeds: %s replayed: %llu full, %llu resumed handshakes\n",
			name, (unsigned long long)hs, (unsigned long long)rs);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s.buf, 1, s.n, f) != s.n || fclose(f))
		goto out;
	printf("%s: %zu bytes, %d operations\n", path, s.n, s.ops);
	rc = 0;
out:
	SSL_SESSION_free(sess);
	SSL_CTX_free(ctx);
	return rc;
}

static int tls_seeds(const char *dir)
{
	return tls_seed(dir, "tls13_get2_close", TLS1_3_VERSION, 2, 0) ||
	       tls_seed(dir, "tls12_get_close", TLS1_2_VERSION, 1, 0) ||
	       tls_seed(dir, "tls13_resumed", TLS1_3_VERSION, 1, 1) ||
	       tls_seed(dir, "tls12_resumed", TLS1_2_VERSION, 1, 1);
}

int main(int argc, char **argv)
{
	char dir[400], name[300];
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds CORPUS_DIR\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/http", argv[1]);
	for (i = 0; i < HTTP_CORPUS_LEN; i++) {
		const struct http_corpus_entry *e = &http_corpus[i];

		if (e->len > 4096)
			continue; /* the fuzzer finds long ones by itself */
		snprintf(name, sizeof(name), "%s", e->name);
		if (write_file(dir, name, e->raw, e->len, 0))
			return 1;
		snprintf(name, sizeof(name), "%s.split7", e->name);
		if (write_file(dir, name, e->raw, e->len, 7))
			return 1;
	}
	snprintf(dir, sizeof(dir), "%s/http_fast", argv[1]);
	for (i = 0; i < HTTP_CORPUS_LEN; i++) {
		const struct http_corpus_entry *e = &http_corpus[i];

		if (e->len <= 4096 &&
		    write_file(dir, e->name, e->raw, e->len, (int)e->limits))
			return 1;
	}
	snprintf(dir, sizeof(dir), "%s/engine", argv[1]);
	return engine_seeds(dir) || tls_seeds(dir) ? 1 : 0;
}
