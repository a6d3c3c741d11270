/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Memory reserved up front and never grown: the tables and pools are
 * bounded by their size, and only the pages in use become resident.
 */
#ifndef XREDIR_RESERVE_H
#define XREDIR_RESERVE_H

#include <stddef.h>
#include <sys/mman.h>

/* bytes of zeroed memory, or NULL. */
static inline void *reserve(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static inline void unreserve(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes);
}

#endif /* XREDIR_RESERVE_H */
