/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Internet checksum (RFC 1071) over buffers, with IPv4/IPv6 pseudo-headers. */
#ifndef XREDIR_CSUM_H
#define XREDIR_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t csum_add64(uint64_t sum, uint64_t w)
{
	sum += w;
	return sum + (sum < w); /* end-around carry */
}

/*
 * Adds len bytes at buf to a running 64-bit sum. Bytes are summed as
 * native-endian 16-bit words; the one's-complement sum is byte-order
 * independent, so the folded result is already in network order.
 */
static inline uint64_t csum_add(uint64_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t w32;
	uint16_t w16;

	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		sum = csum_add64(sum, w);
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		memcpy(&w32, p, 4);
		sum = csum_add64(sum, w32);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&w16, p, 2);
		sum = csum_add64(sum, w16);
		p += 2;
		len -= 2;
	}
	if (len) {
		w16 = 0;
		memcpy(&w16, p, 1); /* odd byte, padded with zero */
		sum = csum_add64(sum, w16);
	}
	return sum;
}

/* Folds a 64-bit sum to the 16-bit one's-complement checksum field value. */
static inline uint16_t csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline uint16_t csum_buf(const void *buf, size_t len)
{
	return csum_fold(csum_add(0, buf, len));
}

static inline uint64_t csum_add_be16(uint64_t sum, uint16_t host_val)
{
	uint8_t be[2] = { (uint8_t)(host_val >> 8), (uint8_t)host_val };

	return csum_add(sum, be, 2);
}

/* Sum of the pseudo-header for a TCP/UDP segment of l4_len bytes. */
static inline uint64_t csum_pseudo4(const void *saddr, const void *daddr,
				    uint8_t proto, uint16_t l4_len)
{
	uint64_t sum = csum_add(0, saddr, 4);

	sum = csum_add(sum, daddr, 4);
	sum = csum_add_be16(sum, proto);
	return csum_add_be16(sum, l4_len);
}

static inline uint64_t csum_pseudo6(const void *saddr, const void *daddr,
				    uint8_t proto, uint32_t l4_len)
{
	uint64_t sum = csum_add(0, saddr, 16);

	sum = csum_add(sum, daddr, 16);
	sum = csum_add_be16(sum, (uint16_t)(l4_len >> 16));
	sum = csum_add_be16(sum, (uint16_t)l4_len);
	return csum_add_be16(sum, proto);
}

#endif /* XREDIR_CSUM_H */
