/* SPDX-License-Identifier: MIT */
/*
 * The interface tls_bench.c drives: one backend per TLS library
 * (tls_openssl.c, tls_wolfssl.c), each linked into its own binary because
 * the two libraries export clashing symbols (ERR_load_SSL_strings).
 * Connections read and write struct pipe, never a socket, as the engine's
 * pure core would.
 */
#ifndef TLS_LIB_H
#define TLS_LIB_H

#include <stddef.h>

/* A one-way byte stream in memory: what one side writes, the other reads. */
struct pipe {
	unsigned char *buf;
	size_t cap, head, tail;
};

size_t pipe_read(struct pipe *p, void *dst, size_t len);
size_t pipe_write(struct pipe *p, const void *src, size_t len);

/* The driver's counting allocator, installed by tls_init(). */
void *bench_malloc(size_t size);
void *bench_realloc(void *ptr, size_t size);
void bench_free(void *ptr);

struct tls_opts {
	const char *cert, *key; /* server: PEM files */
	const char *ca; /* client: the trust anchor (the server's cert) */
	int tls12_only; /* client: offer TLS 1.2 only */
	const char *suite; /* client: "aes128gcm" or "chacha20" */
	int h2_only; /* client: offer ALPN h2 alone, not http/1.1 */
	int release_buffers; /* server: free record buffers when idle */
	/* Server: the ticket key every node of a fleet shares (from a file,
	 * rotated), given to the library's ticket key callback. */
	const unsigned char *ticket_key;
};

/* A ticket key: its name, then 64 secret bytes (each library takes the
 * keys its ticket format needs from them). */
#define TICKET_NAME_LEN 16
#define TICKET_KEY_LEN (TICKET_NAME_LEN + 64)

struct tls_ep; /* a configured server or client (SSL_CTX, WOLFSSL_CTX) */
struct tls_conn; /* one connection (SSL, WOLFSSL) */
struct tls_sess; /* a client's resumable session */

/* Installs the allocator hooks (before any allocation) and inits. */
int tls_init(void);
const char *tls_name(void);
/* Why the last handshake, read or write failed. */
const char *tls_error(void);
struct tls_ep *tls_server(const struct tls_opts *o);
struct tls_ep *tls_client(const struct tls_opts *o);
void tls_ep_free(struct tls_ep *ep);

struct tls_conn *tls_conn_new(struct tls_ep *ep, struct pipe *rx,
			      struct pipe *tx);
void tls_conn_free(struct tls_conn *c);
/* 1: done, 0: wants more input, -1: failed. */
int tls_handshake(struct tls_conn *c);
/* Bytes read, 0: wants more input, -1: failed. */
int tls_read(struct tls_conn *c, void *buf, int len);
/* len, or -1: failed. */
int tls_write(struct tls_conn *c, const void *buf, int len);
/* Negotiated version, suite and group, for the run's sanity check. */
void tls_describe(struct tls_conn *c, char *out, size_t len);
int tls_resumed(struct tls_conn *c);

/* Client side: the session (with its ticket) once the ticket was read. */
struct tls_sess *tls_session(struct tls_conn *c);
int tls_set_session(struct tls_conn *c, struct tls_sess *s);
void tls_session_free(struct tls_sess *s);

#endif
