/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The TLS certificates and ticket secret from their files, reloaded when a
 * file changes: checked once a second by stat(), which follows symlinks,
 * so an edit in place, an editor's rename and a Kubernetes Secret's
 * `..data` symlink swap all show. A set that does not load is refused and
 * the one in force stays.
 */
#ifndef XREDIR_CERTS_H
#define XREDIR_CERTS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "tls.h"

/* A file as last loaded: a change to any of these reloads. */
struct file_stamp {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	bool missing;
};

struct certs {
	struct tls_config cfg; /* the pairs, pointing into paths */
	char *paths[2 * TLS_MAX_PAIRS];
	const char *ticket_file; /* NULL: a random secret per start */
	/* What workers take for new sessions. The one before is kept until
	 * the next reload: a worker may have loaded the pointer and not yet
	 * taken its reference. */
	struct tls_server *_Atomic current;
	struct tls_server *previous;
	struct file_stamp stamps[2 * TLS_MAX_PAIRS + 1];
	uint32_t reloads, failures;
	char error[256]; /* the last refusal, "" after a success */
};

/* Loads the files; -1 with why filled when they do not load. */
int certs_load(struct certs *c, const struct tls_config *cfg,
	       const char *ticket_file, char *why, uint32_t why_len);
/* Whether cfg names the same pairs, in the same order. */
bool certs_same_pairs(const struct certs *c, const struct tls_config *cfg);
/* Takes another list of pairs (a config file's changed), then loads them
 * as certs_reload() does. */
int certs_replace(struct certs *c, const struct tls_config *cfg, char *why,
		  uint32_t why_len);
/* Whether any file changed since it was last loaded (or refused). */
bool certs_changed(struct certs *c);
/* Loads them again; on success the new set is current, else the old
 * stays and why says what was refused. Returns 0 or -1. */
int certs_reload(struct certs *c, char *why, uint32_t why_len);
/* The server new sessions start with; take a reference before use. */
static inline struct tls_server *certs_current(struct certs *c)
{
	return atomic_load_explicit(&c->current, memory_order_acquire);
}
void certs_free(struct certs *c);

/* Reads a ticket secret file (32 bytes or more; a longer one is hashed)
 * into cfg; -1 with why filled. */
int certs_read_ticket_secret(const char *path, struct tls_config *cfg,
			     char *why, uint32_t why_len);

#endif /* XREDIR_CERTS_H */
