/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * TLS between a transport's byte stream and the HTTP stream logic, over
 * OpenSSL driven from memory: the transport hands in ciphertext and a
 * buffer for ciphertext out, HTTP sees plaintext only. No sockets, no
 * clock reads: the engine, the kernel-socket listener, the unit tests and
 * the fuzzer drive the same calls.
 */
#ifndef XREDIR_TLS_H
#define XREDIR_TLS_H

#include <stdbool.h>
#include <stdint.h>

#include "http_stream.h"

#define TLS_MAX_PAIRS 16
#define TLS_TICKET_SECRET_MIN 32
/* Ticket keys follow this period; a ticket is taken for two more. */
#define TLS_TICKET_PERIOD_S (6 * 3600)
/* Ciphertext out needs this much room beyond the plaintext it carries
 * (a record's header, tag and padding, and a close_notify). */
#define TLS_RECORD_SLACK 128

struct tls_pair {
	const char *cert; /* PEM chain, leaf first */
	const char *key;
};

struct tls_config {
	struct tls_pair pairs[TLS_MAX_PAIRS];
	uint32_t n_pairs;
	/* Tickets are protected by keys derived from these bytes and the
	 * period number: servers given the same secret resume each other's
	 * sessions. */
	uint8_t ticket_secret[64];
	uint32_t ticket_secret_len;
};

/* The certificates and settings; shared by workers, refcounted. */
struct tls_server;

/* One connection's TLS state. */
struct tls_session;

/*
 * Loads the pairs into a server. Returns NULL with why filled (naming the
 * file and the problem) when a file does not load or a key does not match
 * its certificate.
 */
struct tls_server *tls_server_new(const struct tls_config *cfg, char *why,
				  uint32_t why_len);
void tls_server_ref(struct tls_server *s);
void tls_server_unref(struct tls_server *s);
/* The server's certificates, one line each (names, key type, expiry). */
uint32_t tls_server_describe(const struct tls_server *s, char *out,
			     uint32_t cap);

/* The session of a connection that has sent its first byte; it holds a
 * reference to srv. NULL when out of memory. */
struct tls_session *tls_session_new(struct tls_server *srv);
void tls_session_free(struct tls_session *s);

/* Where a transport keeps a request's partial head (plaintext). */
struct tls_head {
	/* Copies len bytes after the head's earlier ones (conn->head_len
	 * says how many); returns len, or 0 when it has no buffer. */
	uint32_t (*keep)(void *ctx, const uint8_t *data, uint32_t len);
	/* The buffer holding conn->head_len bytes. */
	uint8_t *(*buf)(void *ctx);
	void *ctx;
};

/* What happened to the connection in a tls_feed, beyond HTTP's part. */
enum tls_event {
	TLS_EV_NONE,
	TLS_EV_HANDSHAKE, /* a full handshake completed */
	TLS_EV_RESUMED, /* a resumed handshake completed */
	TLS_EV_FAILED, /* a fatal error: an alert was queued, then close */
	TLS_EV_CLOSED, /* the peer's close_notify */
};

struct tls_feed {
	struct http_feed http; /* consumed counts ciphertext */
	enum tls_event event;
};

/*
 * Feeds ciphertext: advances the handshake, decrypts requests, hands them
 * to http_feed and encrypts its responses into out, while out has room.
 * Ciphertext beyond `http.consumed` was not taken and must be offered
 * again (after out has drained when `http.blocked`). Decrypted requests
 * that could not be answered stay inside the session: call again with no
 * input once out has room (tls_held() says so). unix_s is the wall clock
 * (ticket keys follow it).
 */
struct tls_feed tls_feed(struct tls_session *s, struct http_conn *conn,
			 const struct http_env *env,
			 const struct tls_head *head, const uint8_t *in,
			 uint32_t len, struct http_out *out, int64_t unix_s);

/* Writes our close_notify into out before a close the peer did not ask
 * for (idle timeout, drain). Returns its length; 0 when one went already,
 * the handshake is unfinished or an alert ended the session. */
uint32_t tls_close_notify(struct tls_session *s, struct http_out *out);

/* Input is held: a partial record, or requests decrypted, not answered. */
bool tls_held(const struct tls_session *s);
/* The handshake has not completed, or a record is partly in: the peer
 * owes bytes (the header timeout runs). */
bool tls_waiting(const struct tls_session *s);

/* A fatal error's description, for the log ("" when none). */
const char *tls_session_error(const struct tls_session *s);

#endif /* XREDIR_TLS_H */
