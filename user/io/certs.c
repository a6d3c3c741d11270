// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "certs.h"

#define TICKET_FILE_MAX 4096

int certs_read_ticket_secret(const char *path, struct tls_config *cfg,
			     char *why, uint32_t why_len)
{
	uint8_t buf[TICKET_FILE_MAX + 1];
	unsigned int md_len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0) {
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (n < TLS_TICKET_SECRET_MIN || n > TICKET_FILE_MAX) {
		snprintf(why, why_len,
			 "%s: %zd bytes; a ticket secret has %d to %d "
			 "(head -c 64 /dev/urandom makes one)",
			 path, n, TLS_TICKET_SECRET_MIN, TICKET_FILE_MAX);
		return -1;
	}
	if ((size_t)n <= sizeof(cfg->ticket_secret)) {
		memcpy(cfg->ticket_secret, buf, (size_t)n);
		cfg->ticket_secret_len = (uint32_t)n;
	} else if (EVP_Digest(buf, (size_t)n, cfg->ticket_secret, &md_len,
			      EVP_sha512(), NULL) &&
		   md_len == sizeof(cfg->ticket_secret)) {
		cfg->ticket_secret_len = md_len;
	} else {
		snprintf(why, why_len, "%s: cannot hash it", path);
		return -1;
	}
	return 0;
}

static void stamp(struct file_stamp *s, const char *path)
{
	struct stat st;

	if (!path || stat(path, &st)) {
		*s = (struct file_stamp){ .missing = path != NULL };
		return;
	}
	*s = (struct file_stamp){ st.st_dev, st.st_ino, st.st_size, st.st_mtim,
				  false };
}

static bool same(const struct file_stamp *a, const struct file_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec && a->missing == b->missing;
}

/* The paths of c, in stamps' order. */
static const char *path_at(const struct certs *c, uint32_t i)
{
	if (i < 2 * c->cfg.n_pairs)
		return i % 2 ? c->cfg.pairs[i / 2].key :
			       c->cfg.pairs[i / 2].cert;
	return i == 2 * c->cfg.n_pairs ? c->ticket_file : NULL;
}

static void stamp_all(struct certs *c, struct file_stamp *out)
{
	uint32_t i;

	for (i = 0; i <= 2 * c->cfg.n_pairs; i++)
		stamp(&out[i], path_at(c, i));
}

/* Builds a server from the files as they are now. */
static struct tls_server *build(struct certs *c, char *why, uint32_t why_len)
{
	struct tls_config cfg = c->cfg;

	if (c->ticket_file &&
	    certs_read_ticket_secret(c->ticket_file, &cfg, why, why_len))
		return NULL;
	return tls_server_new(&cfg, why, why_len);
}

static void free_paths(struct certs *c)
{
	for (uint32_t i = 0; i < 2 * TLS_MAX_PAIRS; i++) {
		free(c->paths[i]);
		c->paths[i] = NULL;
	}
}

/* Keeps copies of cfg's paths: a config file's pairs outlive its parse. */
static int set_pairs(struct certs *c, const struct tls_config *cfg)
{
	uint32_t i;

	free_paths(c);
	c->cfg.n_pairs = cfg->n_pairs;
	for (i = 0; i < cfg->n_pairs; i++) {
		c->paths[2 * i] = strdup(cfg->pairs[i].cert);
		c->paths[2 * i + 1] = strdup(cfg->pairs[i].key);
		if (!c->paths[2 * i] || !c->paths[2 * i + 1])
			return -1;
		c->cfg.pairs[i] = (struct tls_pair){ c->paths[2 * i],
						     c->paths[2 * i + 1] };
	}
	return 0;
}

bool certs_same_pairs(const struct certs *c, const struct tls_config *cfg)
{
	uint32_t i;

	if (c->cfg.n_pairs != cfg->n_pairs)
		return false;
	for (i = 0; i < cfg->n_pairs; i++)
		if (strcmp(c->cfg.pairs[i].cert, cfg->pairs[i].cert) ||
		    strcmp(c->cfg.pairs[i].key, cfg->pairs[i].key))
			return false;
	return true;
}

int certs_load(struct certs *c, const struct tls_config *cfg,
	       const char *ticket_file, char *why, uint32_t why_len)
{
	struct tls_server *srv;

	memset(c, 0, sizeof(*c));
	c->ticket_file = ticket_file;
	if (set_pairs(c, cfg)) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	stamp_all(c, c->stamps);
	srv = build(c, why, why_len);
	if (!srv)
		return -1;
	atomic_store_explicit(&c->current, srv, memory_order_release);
	return 0;
}

bool certs_changed(struct certs *c)
{
	struct file_stamp now[2 * TLS_MAX_PAIRS + 1];
	uint32_t i;

	stamp_all(c, now);
	for (i = 0; i <= 2 * c->cfg.n_pairs; i++)
		if (!same(&now[i], &c->stamps[i]))
			return true;
	return false;
}

int certs_reload(struct certs *c, char *why, uint32_t why_len)
{
	struct tls_server *srv;

	/* Stamped before reading: a write during the load shows as another
	 * change, and is loaded again. */
	stamp_all(c, c->stamps);
	c->reloads++;
	srv = build(c, why, why_len);
	if (!srv) {
		c->failures++;
		snprintf(c->error, sizeof(c->error), "%s", why);
		return -1;
	}
	c->error[0] = 0;
	tls_server_unref(c->previous);
	c->previous = atomic_exchange_explicit(&c->current, srv,
					       memory_order_acq_rel);
	return 0;
}

int certs_replace(struct certs *c, const struct tls_config *cfg, char *why,
		  uint32_t why_len)
{
	struct certs old = *c;

	why[0] = 0;
	/* The old paths stay valid until the new set is in force. */
	memset(c->paths, 0, sizeof(c->paths));
	if (set_pairs(c, cfg) || certs_reload(c, why, why_len)) {
		if (!why[0])
			snprintf(why, why_len, "out of memory");
		free_paths(c);
		memcpy(c->paths, old.paths, sizeof(c->paths));
		c->cfg = old.cfg;
		stamp_all(c, c->stamps);
		return -1;
	}
	for (uint32_t i = 0; i < 2 * TLS_MAX_PAIRS; i++)
		free(old.paths[i]);
	return 0;
}

void certs_free(struct certs *c)
{
	free_paths(c);
	tls_server_unref(c->previous);
	tls_server_unref(atomic_load(&c->current));
	c->previous = NULL;
	atomic_store(&c->current, NULL);
}
