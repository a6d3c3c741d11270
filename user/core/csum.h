/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Internet checksum (RFC 1071) over buffers, with IPv4/IPv6 pseudo-headers. */
#ifndef XREDIR_CSUM_H
#define XREDIR_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t load32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t load64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t csum_add64(uint64_t sum, uint64_t w)
{
	sum += w;
	return sum + (sum < w); /* end-around carry */
}

/* Adds 32-byte blocks: on x86-64 one add-with-carry chain per 64 bytes,
 * as the kernel's csum_partial does; elsewhere plain 64-bit adds. */
static inline uint64_t csum_add_blocks(uint64_t sum, const uint8_t *p,
				       size_t blocks)
{
#if defined(__x86_64__)
	for (; blocks >= 2; blocks -= 2, p += 64)
		__asm__("addq 0(%[p]), %[s]\n\t"
			"adcq 8(%[p]), %[s]\n\t"
			"adcq 16(%[p]), %[s]\n\t"
			"adcq 24(%[p]), %[s]\n\t"
			"adcq 32(%[p]), %[s]\n\t"
			"adcq 40(%[p]), %[s]\n\t"
			"adcq 48(%[p]), %[s]\n\t"
			"adcq 56(%[p]), %[s]\n\t"
			"adcq $0, %[s]"
			: [s] "+r"(sum)
			: [p] "r"(p), "m"(*(const uint8_t(*)[64])p)
			: "cc");
	if (blocks)
		__asm__("addq 0(%[p]), %[s]\n\t"
			"adcq 8(%[p]), %[s]\n\t"
			"adcq 16(%[p]), %[s]\n\t"
			"adcq 24(%[p]), %[s]\n\t"
			"adcq $0, %[s]"
			: [s] "+r"(sum)
			: [p] "r"(p), "m"(*(const uint8_t(*)[32])p)
			: "cc");
#else
	uint64_t w;
	size_t i;

	for (i = 0; i < blocks * 32; i += 8) {
		memcpy(&w, p + i, 8);
		sum = csum_add64(sum, w);
	}
#endif
	return sum;
}

/* The last 0-7 bytes of a piece as one zero-padded word: they start at an
 * offset that is a multiple of 8, so every byte keeps its lane. */
static inline uint64_t csum_tail(const uint8_t *p, size_t len)
{
	uint64_t w = 0;
	uint32_t w32;
	uint16_t w16;

	if (len & 4) {
		memcpy(&w32, p, 4);
		w = w32;
		p += 4;
	}
	if (len & 2) {
		memcpy(&w16, p, 2);
		w |= (uint64_t)w16 << (8 * (len & 4));
		p += 2;
	}
	if (len & 1)
		w |= (uint64_t)*p << (8 * (len & 6));
	return w;
}

/*
 * Adds len bytes at buf to a running 64-bit sum. Bytes are summed as
 * native-endian words; the one's-complement sum is byte-order independent,
 * so the folded result is already in network order. Summing in pieces
 * equals summing at once only if every piece but the last has even length.
 * Always inlined: with the TCP builder and parser inlined into their
 * callers, gcc made it a call, paid for every frame in and out.
 */
static inline __attribute__((always_inline)) uint64_t
csum_add(uint64_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf, *end = p + len;

	if (len < 8)
		return csum_add64(sum, csum_tail(p, len));
	sum = csum_add_blocks(sum, p, len / 32);
	p += len & ~(size_t)31;
	if (len & 16) {
		sum = csum_add64(sum, load64(p));
		sum = csum_add64(sum, load64(p + 8));
		p += 16;
	}
	if (len & 8) {
		sum = csum_add64(sum, load64(p));
		p += 8;
	}
	if (!(len & 7))
		return sum;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* The last 8 bytes of the piece, shifted down to the ones not yet
	 * summed: one load instead of three, never outside the piece. */
	return csum_add64(sum, load64(end - 8) >> (64 - 8 * (len & 7)));
#else
	(void)end;
	return csum_add64(sum, csum_tail(p, len & 7));
#endif
}

/* The 20 bytes of an option-less IPv4 or TCP header. */
static inline uint64_t csum_add20(uint64_t sum, const void *buf)
{
	const uint8_t *p = buf;

	sum = csum_add64(sum, load64(p));
	sum = csum_add64(sum, load64(p + 8));
	return csum_add64(sum, load32(p + 16));
}

/* Folds a 64-bit sum to the 16-bit one's-complement checksum field value. */
static inline uint16_t csum_fold(uint64_t sum)
{
	uint32_t hi = (uint32_t)(sum >> 32), s = (uint32_t)sum + hi;
	uint16_t h, l;

	s += s < hi; /* end-around carry: an add and an adc */
	h = (uint16_t)(s >> 16);
	l = (uint16_t)((uint16_t)s + h);
	l += l < h;
	return (uint16_t)~l;
}

static inline uint16_t csum_buf(const void *buf, size_t len)
{
	return csum_fold(csum_add(0, buf, len));
}

/* A 16-bit value in network order, as a native-endian word to sum. */
static inline uint64_t be16_word(uint16_t host_val)
{
	uint8_t be[2] = { (uint8_t)(host_val >> 8), (uint8_t)host_val };
	uint16_t w;

	memcpy(&w, be, 2);
	return w;
}

static inline uint64_t csum_add_be16(uint64_t sum, uint16_t host_val)
{
	return csum_add64(sum, be16_word(host_val));
}

/* Sum of the pseudo-header for a TCP/UDP segment of l4_len bytes. */
static inline uint64_t csum_pseudo4(const void *saddr, const void *daddr,
				    uint8_t proto, uint16_t l4_len)
{
	return load32(saddr) + load32(daddr) + be16_word(proto) +
	       be16_word(l4_len);
}

static inline uint64_t csum_pseudo6(const void *saddr, const void *daddr,
				    uint8_t proto, uint32_t l4_len)
{
	const uint8_t *s = saddr, *d = daddr;
	uint64_t sum = csum_add64(load64(s), load64(s + 8));

	sum = csum_add64(sum, load64(d));
	sum = csum_add64(sum, load64(d + 8));
	sum = csum_add64(sum, be16_word((uint16_t)(l4_len >> 16)));
	sum = csum_add64(sum, be16_word((uint16_t)l4_len));
	return csum_add64(sum, be16_word(proto));
}

#endif /* XREDIR_CSUM_H */
