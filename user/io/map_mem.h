/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Mapping the values of an mmapable BPF map (BPF_F_MMAPABLE). */
#ifndef XREDIR_MAP_MEM_H
#define XREDIR_MAP_MEM_H

#include <stddef.h>
#include <sys/mman.h>

/* size bytes of the map fd's values, shared with the kernel; NULL if the
 * map cannot be mapped (errno says why). */
static inline void *xr_map_mmap(int fd, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

#endif /* XREDIR_MAP_MEM_H */
