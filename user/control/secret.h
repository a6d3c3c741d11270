/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The SYN-cookie secret from a file (--cookie-secret-file), so that every
 * node of a fleet that mounts the same file accepts the others' cookies.
 */
#ifndef XREDIR_SECRET_H
#define XREDIR_SECRET_H

#include <stddef.h>

#include "siphash.h"

/* Bits in a secret, and the hex digits of its file form. */
#define XR_SECRET_BITS 128
#define XR_SECRET_HEX (XR_SECRET_BITS / 4)

/* Parses 32 hex digits (white space around them allowed) into *key;
 * returns 0, or -1 with why filled. */
int xr_secret_parse(const char *buf, size_t len, struct siphash_key *key,
		    char *why, size_t why_len);

/* Reads and parses path; -1 with why filled if it cannot. */
int xr_secret_load(const char *path, struct siphash_key *key, char *why,
		   size_t why_len);

#endif /* XREDIR_SECRET_H */
