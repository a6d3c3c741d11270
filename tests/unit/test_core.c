// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the core building blocks: the Internet checksum (csum.h),
 * SipHash-2-4, SYN cookies, the flow table, the timing wheel and the buffer
 * pool. Checksums and SipHash are checked against published vectors and an
 * independent straightforward implementation; the data structures against
 * simple reference models driven by a seeded pseudo-random generator.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bufpool.h"
#include "cookie.h"
#include "csum.h"
#include "flow.h"
#include "siphash.h"
#include "timer.h"
#include "rng.h"
#include "test.h"

/*
 * Checksums
 *
 * The reference sums big-endian 16-bit words one at a time, as RFC 1071
 * describes, and returns host-order values. csum.h results are stored into
 * memory as they would be into a header and read back as wire bytes.
 */

/* One's-complement sum of len bytes (odd byte padded), folded, host order. */
static uint16_t ref_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2) {
		sum += (uint32_t)p[i] << 8 | p[i + 1];
		sum = (sum & 0xffff) + (sum >> 16);
	}
	if (len & 1) {
		sum += (uint32_t)p[len - 1] << 8;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)sum;
}

static uint16_t ref_csum(const uint8_t *p, size_t len)
{
	return (uint16_t)~ref_sum(0, p, len);
}

/* The wire value of a checksum field holding c (stored with memcpy). */
static uint16_t wire16(uint16_t c)
{
	uint8_t b[2];

	memcpy(b, &c, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

TEST(csum_rfc1071_example)
{
	static const uint8_t bytes[8] = { 0x00, 0x01, 0xf2, 0x03,
					  0xf4, 0xf5, 0xf6, 0xf7 };
	uint8_t buf[16], field[2];
	uint16_t c;
	int off;

	/* The sum is 0xddf2, so the checksum field holds 22 0d. */
	CHECK_EQ(ref_sum(0, bytes, 8), 0xddf2);
	c = csum_buf(bytes, sizeof(bytes));
	memcpy(field, &c, 2);
	CHECK_EQ(field[0], 0x22);
	CHECK_EQ(field[1], 0x0d);
	CHECK_EQ(wire16((uint16_t)~c), 0xddf2);
	CHECK_EQ(wire16(csum_fold(csum_add(0, bytes, sizeof(bytes)))), 0x220d);
	/* The same at every alignment. */
	for (off = 0; off < 8; off++) {
		memcpy(buf + off, bytes, sizeof(bytes));
		CHECK_EQ(wire16(csum_buf(buf + off, sizeof(bytes))), 0x220d);
	}
}

TEST(csum_ipv4_header)
{
	uint8_t ip[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
			   0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
			   0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	uint16_t c;

	/* A correct header sums to all ones: it verifies to 0. */
	CHECK_EQ(csum_buf(ip, sizeof(ip)), 0);
	CHECK_EQ(ref_csum(ip, sizeof(ip)), 0);
	/* Recomputing the field gives back b8 61. */
	ip[10] = ip[11] = 0;
	c = csum_buf(ip, sizeof(ip));
	CHECK_EQ(wire16(c), 0xb861);
	CHECK_EQ(ref_csum(ip, sizeof(ip)), 0xb861);
	memcpy(ip + 10, &c, 2);
	CHECK_EQ(ip[10], 0xb8);
	CHECK_EQ(ip[11], 0x61);
	CHECK_EQ(csum_buf(ip, sizeof(ip)), 0);
	/* Any corruption is detected. */
	ip[3] ^= 0x01;
	CHECK(csum_buf(ip, sizeof(ip)) != 0);
}

/*
 * A TCP segment (PSH|ACK, 37 bytes of request: an odd length) from
 * 192.168.0.1:49152 to 192.168.0.199:80 or [2001:db8::1]:49152 to
 * [2001:db8:0:1::c7]:80. Checksums computed independently (Python).
 */
#define SEG_PAYLOAD "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
#define SEG_LEN (20 + sizeof(SEG_PAYLOAD) - 1)
#define SEG_CSUM4 0x0f8a
#define SEG_CSUM6 0x3568

static void build_segment(uint8_t *seg)
{
	memset(seg, 0, 20);
	put_be16(seg, 49152);
	put_be16(seg + 2, 80);
	put_be32(seg + 4, 0x01020304);
	put_be32(seg + 8, 0x0a0b0c0d);
	seg[12] = 5 << 4;
	seg[13] = 0x18;
	put_be16(seg + 14, 0xfaf0);
	memcpy(seg + 20, SEG_PAYLOAD, sizeof(SEG_PAYLOAD) - 1);
}

TEST(csum_tcp4_segment)
{
	static const uint8_t saddr[4] = { 192, 168, 0, 1 };
	static const uint8_t daddr[4] = { 192, 168, 0, 199 };
	uint8_t seg[SEG_LEN], ref[12 + SEG_LEN];
	uint64_t sum;
	uint16_t c;

	CHECK_EQ(SEG_LEN, 57);
	build_segment(seg);
	/* Reference: the explicit pseudo-header followed by the segment. */
	memcpy(ref, saddr, 4);
	memcpy(ref + 4, daddr, 4);
	ref[8] = 0;
	ref[9] = 6;
	put_be16(ref + 10, SEG_LEN);
	memcpy(ref + 12, seg, SEG_LEN);
	CHECK_EQ(ref_csum(ref, sizeof(ref)), SEG_CSUM4);

	sum = csum_pseudo4(saddr, daddr, 6, SEG_LEN);
	c = csum_fold(csum_add(sum, seg, SEG_LEN));
	CHECK_EQ(wire16(c), SEG_CSUM4);
	/* The pseudo-header alone matches the reference too. */
	CHECK_EQ(wire16(csum_fold(sum)), ref_csum(ref, 12));
	/* Stored, the segment verifies to 0; a flipped bit does not. */
	memcpy(seg + 16, &c, 2);
	CHECK_EQ(seg[16], SEG_CSUM4 >> 8);
	CHECK_EQ(seg[17], SEG_CSUM4 & 0xff);
	CHECK_EQ(csum_fold(csum_add(sum, seg, SEG_LEN)), 0);
	seg[SEG_LEN - 1] ^= 0x40;
	CHECK(csum_fold(csum_add(sum, seg, SEG_LEN)) != 0);
	seg[SEG_LEN - 1] ^= 0x40;
	/* The wrong pseudo-header (another length) does not verify. */
	CHECK(csum_fold(csum_add(csum_pseudo4(saddr, daddr, 6, SEG_LEN + 1),
				 seg, SEG_LEN)) != 0);
	CHECK(csum_fold(csum_add(csum_pseudo4(saddr, daddr, 17, SEG_LEN), seg,
				 SEG_LEN)) != 0);
}

TEST(csum_tcp6_segment)
{
	uint8_t saddr[16], daddr[16], seg[SEG_LEN], ref[40 + SEG_LEN];
	uint64_t sum;
	uint16_t c;

	CHECK_EQ(inet_pton(AF_INET6, "2001:db8::1", saddr), 1);
	CHECK_EQ(inet_pton(AF_INET6, "2001:db8:0:1::c7", daddr), 1);
	build_segment(seg);
	memcpy(ref, saddr, 16);
	memcpy(ref + 16, daddr, 16);
	put_be32(ref + 32, SEG_LEN);
	ref[36] = ref[37] = ref[38] = 0;
	ref[39] = 6;
	memcpy(ref + 40, seg, SEG_LEN);
	CHECK_EQ(ref_csum(ref, sizeof(ref)), SEG_CSUM6);

	sum = csum_pseudo6(saddr, daddr, 6, SEG_LEN);
	CHECK_EQ(wire16(csum_fold(sum)), ref_csum(ref, 40));
	c = csum_fold(csum_add(sum, seg, SEG_LEN));
	CHECK_EQ(wire16(c), SEG_CSUM6);
	memcpy(seg + 16, &c, 2);
	CHECK_EQ(csum_fold(csum_add(sum, seg, SEG_LEN)), 0);
	seg[0] ^= 0x80;
	CHECK(csum_fold(csum_add(sum, seg, SEG_LEN)) != 0);
}

/* Pseudo-headers against explicit reference bytes, over lengths. */
TEST(csum_pseudo_headers)
{
	static const uint32_t lens[] = { 0,	  1,	     20,     57,
					 1460,	  0xfffe,    0xffff, 0x10000,
					 0x12345, 0xfedcba98 };
	uint8_t s6[16], d6[16], ref[40];
	unsigned int i, j;

	rng_seed(16);
	for (j = 0; j < 20; j++) {
		uint8_t proto = j == 0 ? 6 : j == 1 ? 17 : (uint8_t)rnd();

		rnd_fill(s6, sizeof(s6));
		rnd_fill(d6, sizeof(d6));
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			uint32_t len = lens[i];

			memcpy(ref, s6, 16);
			memcpy(ref + 16, d6, 16);
			put_be32(ref + 32, len);
			ref[36] = ref[37] = ref[38] = 0;
			ref[39] = proto;
			CHECK_EQ(wire16(csum_fold(
					 csum_pseudo6(s6, d6, proto, len))),
				 ref_csum(ref, 40));
			if (len > 0xffff)
				continue;
			memcpy(ref, s6, 4);
			memcpy(ref + 4, d6, 4);
			ref[8] = 0;
			ref[9] = proto;
			put_be16(ref + 10, (uint16_t)len);
			CHECK_EQ(wire16(csum_fold(csum_pseudo4(s6, d6, proto,
							       (uint16_t)len))),
				 ref_csum(ref, 12));
		}
	}
	/* csum_add_be16 adds a host value as its two wire bytes. */
	CHECK_EQ(wire16(csum_fold(csum_add_be16(0, 0x1234))), 0xedcb);
	CHECK_EQ(wire16(csum_fold(csum_add_be16(0, 0x0006))), 0xfff9);
}

/* Every length 0..64 at every alignment 0..7, several fill patterns. */
TEST(csum_lengths_and_alignments)
{
	uint8_t src[64], area[64 + 8];
	size_t len, off;
	int pattern, bad = 0;

	rng_seed(1);
	for (pattern = 0; pattern < 6; pattern++) {
		size_t i;

		for (i = 0; i < sizeof(src); i++) {
			switch (pattern) {
			case 0:
				src[i] = 0xff;
				break;
			case 1:
				src[i] = 0;
				break;
			case 2:
				src[i] = (uint8_t)(i & 1 ? 0x01 : 0xfe);
				break;
			case 3:
				src[i] = (uint8_t)(i + 1);
				break;
			default:
				src[i] = (uint8_t)rnd();
			}
		}
		for (len = 0; len <= 64; len++) {
			/* An exact-size heap copy: ASan sees any over-read. */
			uint8_t *exact = malloc(len ? len : 1);
			uint16_t want = ref_csum(src, len);

			if (!exact)
				abort();
			memcpy(exact, src, len);
			if (wire16(csum_buf(exact, len)) != want)
				bad++;
			free(exact);
			for (off = 0; off < 8; off++) {
				memset(area, 0xa5, sizeof(area));
				memcpy(area + off, src, len);
				if (wire16(csum_buf(area + off, len)) != want) {
					fprintf(stderr,
						"pattern %d len %zu off %zu\n",
						pattern, len, off);
					bad++;
				}
			}
		}
	}
	CHECK_EQ(bad, 0);
	/* Empty and single bytes, by hand. */
	CHECK_EQ(wire16(csum_buf(src, 0)), 0xffff);
	area[0] = 0x12;
	CHECK_EQ(wire16(csum_buf(area, 1)), (uint16_t)~0x1200);
	area[1] = 0x34;
	CHECK_EQ(wire16(csum_buf(area, 2)), (uint16_t)~0x1234);
}

/* Long runs of 0xff and near-0xff words carry through every fold. */
TEST(csum_carries)
{
	size_t big = 1 << 20, len;
	uint8_t *buf = malloc(big + 1);
	int bad = 0;

	if (!buf)
		abort();
	memset(buf, 0xff, big + 1);
	/* All ones sum to negative zero: the checksum is 0. */
	CHECK_EQ(csum_buf(buf, big), 0);
	CHECK_EQ(ref_csum(buf, big), 0);
	/* Odd: 0xffff * n + 0xff00 folds to 0xff00; the checksum is 00ff. */
	CHECK_EQ(wire16(csum_buf(buf, big + 1)), 0x00ff);
	for (len = 0; len < 200; len++)
		if (wire16(csum_buf(buf, len)) != ref_csum(buf, len))
			bad++;
	/* Mostly 0xff with sparse 0xfe: every 64-bit add carries. */
	rng_seed(2);
	for (len = 0; len < big; len++)
		buf[len] = rnd_below(16) ? 0xff : 0xfe;
	CHECK_EQ(wire16(csum_buf(buf, big)), ref_csum(buf, big));
	CHECK_EQ(wire16(csum_buf(buf + 3, big - 5)),
		 ref_csum(buf + 3, big - 5));
	CHECK_EQ(bad, 0);
	free(buf);

	/* The end-around carry of the 64-bit accumulator. */
	CHECK_EQ(csum_add64(~0ull, 1), 1);
	CHECK_EQ(csum_add64(~0ull - 1, 5), 4);
	CHECK_EQ(csum_add64(~0ull, ~0ull), ~0ull);
	CHECK_EQ(csum_add64(1ull << 63, 1ull << 63), 1);
	CHECK_EQ(csum_add64(5, 7), 12);
	/* Folding: 0 and all ones are the two zeros. */
	CHECK_EQ(csum_fold(0), 0xffff);
	CHECK_EQ(csum_fold(~0ull), 0);
	CHECK_EQ(csum_fold(0xffff), 0);
	CHECK_EQ(csum_fold(0x1ffff), 0xfffe);
	CHECK_EQ(csum_fold(0xffffffffull << 16), 0);
	CHECK_EQ(csum_fold(0x0001000100010001ull), (uint16_t)~4);
	CHECK_EQ(csum_fold(0x8000000000000000ull), (uint16_t)~0x8000);
}

/* Summing in pieces (at even offsets) equals summing at once. */
TEST(csum_chaining)
{
	uint8_t buf[1501], *copy;
	int iter, bad = 0;

	rng_seed(3);
	for (iter = 0; iter < 2000; iter++) {
		size_t len = rnd_below(sizeof(buf) + 1), pos = 0;
		uint64_t sum = 0, once;

		rnd_fill(buf, sizeof(buf));
		if (iter % 7 == 0)
			memset(buf, 0xff, sizeof(buf));
		/* Even iterations start from a pseudo-header sum. */
		if (!(iter & 1))
			sum = csum_pseudo4(buf, buf + 4, 6, 99);
		once = csum_add(sum, buf, len);
		while (pos < len) {
			size_t n = rnd_below(80) * 2 + 2;

			if (n > len - pos)
				n = len - pos; /* only the last piece is odd */
			copy = malloc(n);
			if (!copy)
				abort();
			memcpy(copy, buf + pos, n);
			sum = csum_add(sum, copy, n);
			free(copy);
			pos += n;
		}
		if (csum_fold(sum) != csum_fold(once))
			bad++;
		if ((iter & 1) && wire16(csum_fold(once)) != ref_csum(buf, len))
			bad++;
	}
	CHECK_EQ(bad, 0);
	/* Header and payload summed apart, as the transmit path does. */
	{
		static const uint8_t s[4] = { 10, 0, 0, 1 },
				     d[4] = { 10, 0, 0, 2 };
		uint8_t seg[SEG_LEN];
		uint64_t a;

		build_segment(seg);
		a = csum_pseudo4(s, d, 6, SEG_LEN);
		a = csum_add(a, seg, 20);
		a = csum_add(a, seg + 20, SEG_LEN - 20);
		CHECK_EQ(csum_fold(a),
			 csum_fold(csum_add(csum_pseudo4(s, d, 6, SEG_LEN), seg,
					    SEG_LEN)));
	}
}

/* SipHash-2-4 */

/* vectors_sip64 of the reference implementation: key 00..0f, n bytes. */
static const uint8_t sip64_vectors[64][8] = {
	{ 0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72 },
	{ 0xfd, 0x67, 0xdc, 0x93, 0xc5, 0x39, 0xf8, 0x74 },
	{ 0x5a, 0x4f, 0xa9, 0xd9, 0x09, 0x80, 0x6c, 0x0d },
	{ 0x2d, 0x7e, 0xfb, 0xd7, 0x96, 0x66, 0x67, 0x85 },
	{ 0xb7, 0x87, 0x71, 0x27, 0xe0, 0x94, 0x27, 0xcf },
	{ 0x8d, 0xa6, 0x99, 0xcd, 0x64, 0x55, 0x76, 0x18 },
	{ 0xce, 0xe3, 0xfe, 0x58, 0x6e, 0x46, 0xc9, 0xcb },
	{ 0x37, 0xd1, 0x01, 0x8b, 0xf5, 0x00, 0x02, 0xab },
	{ 0x62, 0x24, 0x93, 0x9a, 0x79, 0xf5, 0xf5, 0x93 },
	{ 0xb0, 0xe4, 0xa9, 0x0b, 0xdf, 0x82, 0x00, 0x9e },
	{ 0xf3, 0xb9, 0xdd, 0x94, 0xc5, 0xbb, 0x5d, 0x7a },
	{ 0xa7, 0xad, 0x6b, 0x22, 0x46, 0x2f, 0xb3, 0xf4 },
	{ 0xfb, 0xe5, 0x0e, 0x86, 0xbc, 0x8f, 0x1e, 0x75 },
	{ 0x90, 0x3d, 0x84, 0xc0, 0x27, 0x56, 0xea, 0x14 },
	{ 0xee, 0xf2, 0x7a, 0x8e, 0x90, 0xca, 0x23, 0xf7 },
	{ 0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1 },
	{ 0xdb, 0x9b, 0xc2, 0x57, 0x7f, 0xcc, 0x2a, 0x3f },
	{ 0x94, 0x47, 0xbe, 0x2c, 0xf5, 0xe9, 0x9a, 0x69 },
	{ 0x9c, 0xd3, 0x8d, 0x96, 0xf0, 0xb3, 0xc1, 0x4b },
	{ 0xbd, 0x61, 0x79, 0xa7, 0x1d, 0xc9, 0x6d, 0xbb },
	{ 0x98, 0xee, 0xa2, 0x1a, 0xf2, 0x5c, 0xd6, 0xbe },
	{ 0xc7, 0x67, 0x3b, 0x2e, 0xb0, 0xcb, 0xf2, 0xd0 },
	{ 0x88, 0x3e, 0xa3, 0xe3, 0x95, 0x67, 0x53, 0x93 },
	{ 0xc8, 0xce, 0x5c, 0xcd, 0x8c, 0x03, 0x0c, 0xa8 },
	{ 0x94, 0xaf, 0x49, 0xf6, 0xc6, 0x50, 0xad, 0xb8 },
	{ 0xea, 0xb8, 0x85, 0x8a, 0xde, 0x92, 0xe1, 0xbc },
	{ 0xf3, 0x15, 0xbb, 0x5b, 0xb8, 0x35, 0xd8, 0x17 },
	{ 0xad, 0xcf, 0x6b, 0x07, 0x63, 0x61, 0x2e, 0x2f },
	{ 0xa5, 0xc9, 0x1d, 0xa7, 0xac, 0xaa, 0x4d, 0xde },
	{ 0x71, 0x65, 0x95, 0x87, 0x66, 0x50, 0xa2, 0xa6 },
	{ 0x28, 0xef, 0x49, 0x5c, 0x53, 0xa3, 0x87, 0xad },
	{ 0x42, 0xc3, 0x41, 0xd8, 0xfa, 0x92, 0xd8, 0x32 },
	{ 0xce, 0x7c, 0xf2, 0x72, 0x2f, 0x51, 0x27, 0x71 },
	{ 0xe3, 0x78, 0x59, 0xf9, 0x46, 0x23, 0xf3, 0xa7 },
	{ 0x38, 0x12, 0x05, 0xbb, 0x1a, 0xb0, 0xe0, 0x12 },
	{ 0xae, 0x97, 0xa1, 0x0f, 0xd4, 0x34, 0xe0, 0x15 },
	{ 0xb4, 0xa3, 0x15, 0x08, 0xbe, 0xff, 0x4d, 0x31 },
	{ 0x81, 0x39, 0x62, 0x29, 0xf0, 0x90, 0x79, 0x02 },
	{ 0x4d, 0x0c, 0xf4, 0x9e, 0xe5, 0xd4, 0xdc, 0xca },
	{ 0x5c, 0x73, 0x33, 0x6a, 0x76, 0xd8, 0xbf, 0x9a },
	{ 0xd0, 0xa7, 0x04, 0x53, 0x6b, 0xa9, 0x3e, 0x0e },
	{ 0x92, 0x59, 0x58, 0xfc, 0xd6, 0x42, 0x0c, 0xad },
	{ 0xa9, 0x15, 0xc2, 0x9b, 0xc8, 0x06, 0x73, 0x18 },
	{ 0x95, 0x2b, 0x79, 0xf3, 0xbc, 0x0a, 0xa6, 0xd4 },
	{ 0xf2, 0x1d, 0xf2, 0xe4, 0x1d, 0x45, 0x35, 0xf9 },
	{ 0x87, 0x57, 0x75, 0x19, 0x04, 0x8f, 0x53, 0xa9 },
	{ 0x10, 0xa5, 0x6c, 0xf5, 0xdf, 0xcd, 0x9a, 0xdb },
	{ 0xeb, 0x75, 0x09, 0x5c, 0xcd, 0x98, 0x6c, 0xd0 },
	{ 0x51, 0xa9, 0xcb, 0x9e, 0xcb, 0xa3, 0x12, 0xe6 },
	{ 0x96, 0xaf, 0xad, 0xfc, 0x2c, 0xe6, 0x66, 0xc7 },
	{ 0x72, 0xfe, 0x52, 0x97, 0x5a, 0x43, 0x64, 0xee },
	{ 0x5a, 0x16, 0x45, 0xb2, 0x76, 0xd5, 0x92, 0xa1 },
	{ 0xb2, 0x74, 0xcb, 0x8e, 0xbf, 0x87, 0x87, 0x0a },
	{ 0x6f, 0x9b, 0xb4, 0x20, 0x3d, 0xe7, 0xb3, 0x81 },
	{ 0xea, 0xec, 0xb2, 0xa3, 0x0b, 0x22, 0xa8, 0x7f },
	{ 0x99, 0x24, 0xa4, 0x3c, 0xc1, 0x31, 0x57, 0x24 },
	{ 0xbd, 0x83, 0x8d, 0x3a, 0xaf, 0xbf, 0x8d, 0xb7 },
	{ 0x0b, 0x1a, 0x2a, 0x32, 0x65, 0xd5, 0x1a, 0xea },
	{ 0x13, 0x50, 0x79, 0xa3, 0x23, 0x1c, 0xe6, 0x60 },
	{ 0x93, 0x2b, 0x28, 0x46, 0xe4, 0xd7, 0x06, 0x66 },
	{ 0xe1, 0x91, 0x5f, 0x5c, 0xb1, 0xec, 0xa4, 0x6c },
	{ 0xf3, 0x25, 0x96, 0x5c, 0xa1, 0x6d, 0x62, 0x9f },
	{ 0x57, 0x5f, 0xf2, 0x8e, 0x60, 0x38, 0x1b, 0xe5 },
	{ 0x72, 0x45, 0x06, 0xeb, 0x4c, 0x32, 0x8a, 0x95 },
};

/* The key 00 01 .. 0f, as the two little-endian halves. */
static const struct siphash_key sip_ref_key = { 0x0706050403020100ull,
						0x0f0e0d0c0b0a0908ull };

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

TEST(siphash_reference_vectors)
{
	uint8_t msg[64];
	size_t n;

	for (n = 0; n < 64; n++)
		msg[n] = (uint8_t)n;
	for (n = 0; n < 64; n++) {
		uint8_t *exact = malloc(n ? n : 1);
		uint64_t h;

		if (!exact)
			abort();
		memcpy(exact, msg, n);
		h = siphash24(&sip_ref_key, exact, n);
		if (h != le64(sip64_vectors[n]))
			fprintf(stderr, "siphash n=%zu: %016" PRIx64 "\n", n,
				h);
		CHECK_EQ(h, le64(sip64_vectors[n]));
		free(exact);
	}
	/* As quoted in the paper's appendix and elsewhere. */
	CHECK_EQ(siphash24(&sip_ref_key, msg, 0), 0x726fdb47dd0e0e31ull);
	CHECK_EQ(siphash24(&sip_ref_key, msg, 1), 0x74f839c593dc67fdull);
	CHECK_EQ(siphash24(&sip_ref_key, msg, 15), 0xa129ca6149be45e5ull);
	CHECK_EQ(siphash24(&sip_ref_key, msg, 63), 0x958a324ceb064572ull);
}

TEST(siphash_alignment_and_key)
{
	uint8_t area[64 + 8];
	struct siphash_key k = sip_ref_key;
	size_t n, off;
	int bad = 0;

	/* Unaligned input gives the same values. */
	for (off = 1; off < 8; off++) {
		for (n = 0; n < 64; n++)
			area[off + n] = (uint8_t)n;
		for (n = 0; n < 64; n++)
			if (siphash24(&sip_ref_key, area + off, n) !=
			    le64(sip64_vectors[n]))
				bad++;
	}
	CHECK_EQ(bad, 0);
	/* Every key bit matters (area + 7 holds 00 01 .. 3f). */
	CHECK_EQ(siphash24(&k, area + 7, 15), le64(sip64_vectors[15]));
	for (n = 0; n < 128; n++) {
		k = sip_ref_key;
		if (n < 64)
			k.k0 ^= 1ull << n;
		else
			k.k1 ^= 1ull << (n - 64);
		if (siphash24(&k, area + 7, 15) == le64(sip64_vectors[15]))
			bad++;
	}
	CHECK_EQ(bad, 0);
	/* The length is part of the input: a trailing zero byte matters. */
	memset(area, 0, sizeof(area));
	for (n = 0; n < 63; n++)
		if (siphash24(&sip_ref_key, area, n) ==
		    siphash24(&sip_ref_key, area, n + 1))
			bad++;
	CHECK_EQ(bad, 0);
}

/* SYN cookies */

static const struct siphash_key cookie_secret = { 0x243f6a8885a308d3ull,
						  0x13198a2e03707344ull };

static void key_v4(struct flow_key *k, const char *s, const char *d,
		   uint16_t sport, uint16_t dport)
{
	memset(k, 0, sizeof(*k));
	if (inet_pton(AF_INET, s, k->saddr) != 1 ||
	    inet_pton(AF_INET, d, k->daddr) != 1)
		abort();
	k->sport = htons(sport);
	k->dport = htons(dport);
	k->family = 4;
}

static void key_v6(struct flow_key *k, const char *s, const char *d,
		   uint16_t sport, uint16_t dport)
{
	memset(k, 0, sizeof(*k));
	if (inet_pton(AF_INET6, s, k->saddr) != 1 ||
	    inet_pton(AF_INET6, d, k->daddr) != 1)
		abort();
	k->sport = htons(sport);
	k->dport = htons(dport);
	k->family = 6;
}

static void cookie_keys(struct flow_key keys[2])
{
	key_v4(&keys[0], "192.0.2.1", "198.51.100.2", 40000, 80);
	key_v6(&keys[1], "2001:db8::1", "2001:db8:0:1::2", 51234, 80);
}

/* A fixed "now": well past zero, not at a period boundary. */
#define COOKIE_NOW (1700000000ull + 17)
#define PERIOD (1ull << COOKIE_PERIOD_SHIFT)

TEST(cookie_roundtrip_mss)
{
	static const struct {
		uint16_t mss, want;
	} cases[] = {
		{ 1460, 1460 },
		{ 1500, 1460 },
		{ 65535, 1460 },
		{ 1459, 1440 },
		{ 1440, 1440 },
		{ 1400, 1360 },
		{ 1360, 1360 },
		{ 1300, 1220 },
		{ 1220, 1220 },
		{ 1219, 1024 },
		{ 1024, 1024 },
		{ 600, 536 },
		{ 536, 536 },
		{ 535, 216 },
		{ 216, 216 },
		{ 215, 48 },
		{ 64, 48 },
		{ 48, 48 },
		/* Below the smallest entry: the smallest, not an error. */
		{ 47, 48 },
		{ 1, 48 },
		{ 0, 48 },
	};
	struct flow_key keys[2];
	unsigned int i, f;

	cookie_keys(keys);
	CHECK_EQ(cookie_mss_table[0], 48); /* Linux's tcp_min_snd_mss */
	for (i = 1; i < 8; i++)
		CHECK(cookie_mss_table[i] > cookie_mss_table[i - 1]);
	for (f = 0; f < 2; f++) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			uint16_t out = 0xdead;
			uint32_t isn = 0x9abcdef0u + i, c;

			c = cookie_make(&cookie_secret, &keys[f], isn,
					cases[i].mss, COOKIE_NOW, &out);
			CHECK_EQ(out, cases[i].want);
			CHECK_EQ(cookie_mss_table[c & 7], cases[i].want);
			CHECK_EQ(cookie_check(&cookie_secret, &keys[f], isn, c,
					      COOKIE_NOW),
				 cases[i].want);
			/* Later in the same period and in the next. */
			CHECK_EQ(cookie_check(&cookie_secret, &keys[f], isn, c,
					      COOKIE_NOW + 40),
				 cases[i].want);
			CHECK_EQ(cookie_check(&cookie_secret, &keys[f], isn, c,
					      COOKIE_NOW + PERIOD),
				 cases[i].want);
			/* The same inputs make the same cookie; NULL is ok. */
			CHECK_EQ(cookie_make(&cookie_secret, &keys[f], isn,
					     cases[i].mss, COOKIE_NOW, NULL),
				 c);
		}
	}
}

TEST(cookie_layout)
{
	struct flow_key keys[2];
	uint64_t now;
	uint32_t c;

	cookie_keys(keys);
	for (now = 0; now < 80 * PERIOD; now += 7) {
		c = cookie_make(&cookie_secret, &keys[now & 1], (uint32_t)now,
				1024, now, NULL);
		CHECK_EQ((c >> 3) & 0x1f, (now >> COOKIE_PERIOD_SHIFT) & 0x1f);
		CHECK_EQ(c & 7, 3);
	}
}

/* A cookie checked against any other 4-tuple fails. */
TEST(cookie_rejects_other_tuple)
{
	struct flow_key keys[2], k;
	unsigned int f, byte, bit;
	uint32_t isn = 0x11223344, c;
	int accepted = 0;

	cookie_keys(keys);
	for (f = 0; f < 2; f++) {
		c = cookie_make(&cookie_secret, &keys[f], isn, 1460, COOKIE_NOW,
				NULL);
		REQUIRE(cookie_check(&cookie_secret, &keys[f], isn, c,
				     COOKIE_NOW) == 1460);

		k = keys[f];
		k.saddr[3] ^= 1;
		CHECK_EQ(cookie_check(&cookie_secret, &k, isn, c, COOKIE_NOW),
			 0);
		k = keys[f];
		k.daddr[f ? 15 : 3] ^= 0x80;
		CHECK_EQ(cookie_check(&cookie_secret, &k, isn, c, COOKIE_NOW),
			 0);
		k = keys[f];
		k.sport = htons(ntohs(k.sport) + 1);
		CHECK_EQ(cookie_check(&cookie_secret, &k, isn, c, COOKIE_NOW),
			 0);
		k = keys[f];
		k.dport = htons(443);
		CHECK_EQ(cookie_check(&cookie_secret, &k, isn, c, COOKIE_NOW),
			 0);
		k = keys[f];
		k.family = f ? 4 : 6;
		CHECK_EQ(cookie_check(&cookie_secret, &k, isn, c, COOKIE_NOW),
			 0);
		/* Source and destination swapped. */
		k = keys[f];
		memcpy(k.saddr, keys[f].daddr, 16);
		memcpy(k.daddr, keys[f].saddr, 16);
		k.sport = keys[f].dport;
		k.dport = keys[f].sport;
		CHECK_EQ(cookie_check(&cookie_secret, &k, isn, c, COOKIE_NOW),
			 0);
		/* Every single bit of the key. */
		for (byte = 0; byte < sizeof(k); byte++) {
			for (bit = 0; bit < 8; bit++) {
				k = keys[f];
				((uint8_t *)&k)[byte] ^= (uint8_t)(1 << bit);
				if (cookie_check(&cookie_secret, &k, isn, c,
						 COOKIE_NOW))
					accepted++;
			}
		}
	}
	CHECK_EQ(accepted, 0);
}

TEST(cookie_rejects_other_isn)
{
	struct flow_key keys[2];
	unsigned int f, bit;
	uint32_t isn = 0xfffffff0u, c;
	int accepted = 0;

	cookie_keys(keys);
	for (f = 0; f < 2; f++) {
		c = cookie_make(&cookie_secret, &keys[f], isn, 536, COOKIE_NOW,
				NULL);
		REQUIRE(cookie_check(&cookie_secret, &keys[f], isn, c,
				     COOKIE_NOW) == 536);
		CHECK_EQ(cookie_check(&cookie_secret, &keys[f], isn + 1, c,
				      COOKIE_NOW),
			 0);
		CHECK_EQ(cookie_check(&cookie_secret, &keys[f], isn - 1, c,
				      COOKIE_NOW),
			 0);
		for (bit = 0; bit < 32; bit++)
			if (cookie_check(&cookie_secret, &keys[f],
					 isn ^ (1u << bit), c, COOKIE_NOW))
				accepted++;
	}
	CHECK_EQ(accepted, 0);
}

/* Flipping any one of the 32 bits of a cookie invalidates it. */
TEST(cookie_rejects_bit_flips)
{
	struct flow_key keys[2];
	int accepted[32] = { 0 }, bit, i;

	cookie_keys(keys);
	rng_seed(4);
	for (i = 0; i < 400; i++) {
		const struct flow_key *k = &keys[i & 1];
		uint32_t isn = (uint32_t)rnd(), c;
		uint64_t now = COOKIE_NOW + rnd_below(1u << 20);
		uint16_t mss = (uint16_t)rnd_below(1600);
		uint16_t want;

		c = cookie_make(&cookie_secret, k, isn, mss, now, &want);
		/* Checked at the same time and at the oldest accepted age. */
		if (i & 2)
			now += COOKIE_MAX_AGE << COOKIE_PERIOD_SHIFT;
		REQUIRE(cookie_check(&cookie_secret, k, isn, c, now) == want);
		for (bit = 0; bit < 32; bit++)
			if (cookie_check(&cookie_secret, k, isn,
					 c ^ (1u << bit), now))
				accepted[bit]++;
	}
	for (bit = 0; bit < 32; bit++) {
		if (accepted[bit])
			fprintf(stderr,
				"bit %d flipped was accepted %d times\n", bit,
				accepted[bit]);
		CHECK_EQ(accepted[bit], 0);
	}
}

/* Accepted exactly while the period counter is at most MAX_AGE newer. */
TEST(cookie_age_window)
{
	struct flow_key keys[2];
	uint64_t base = COOKIE_NOW - (COOKIE_NOW % PERIOD), r, d;
	int wrong = 0;

	cookie_keys(keys);
	for (r = 0; r < PERIOD; r += 3) {
		uint64_t made = base + r;
		uint32_t c = cookie_make(&cookie_secret, &keys[r & 1],
					 (uint32_t)r, 1220, made, NULL);

		for (d = 0; d < (COOKIE_MAX_AGE + 2) * PERIOD; d++) {
			uint64_t now = made + d;
			uint64_t age = (now >> COOKIE_PERIOD_SHIFT) -
				       (made >> COOKIE_PERIOD_SHIFT);
			uint16_t got = cookie_check(&cookie_secret,
						    &keys[r & 1], (uint32_t)r,
						    c, now);

			if (got != (age <= COOKIE_MAX_AGE ? 1220 : 0))
				wrong++;
		}
		CHECK_EQ(cookie_check(&cookie_secret, &keys[r & 1], (uint32_t)r,
				      c,
				      made + (COOKIE_MAX_AGE
					      << COOKIE_PERIOD_SHIFT)),
			 1220);
		CHECK_EQ(cookie_check(&cookie_secret, &keys[r & 1], (uint32_t)r,
				      c,
				      made + ((COOKIE_MAX_AGE + 1)
					      << COOKIE_PERIOD_SHIFT)),
			 0);
	}
	CHECK_EQ(wrong, 0);
}

/* Cookies made later than now, or exactly 32 periods earlier, fail. */
TEST(cookie_rejects_future_and_aliased)
{
	struct flow_key keys[2];
	uint32_t isn = 0x5555aaaa, c;
	uint64_t k;
	int accepted = 0;

	cookie_keys(keys);
	c = cookie_make(&cookie_secret, &keys[0], isn, 1460, COOKIE_NOW, NULL);
	CHECK_EQ(cookie_check(&cookie_secret, &keys[0], isn, c,
			      COOKIE_NOW - PERIOD),
		 0);
	/*
	 * From 1..40 periods in the future, including 30 and 31 where the
	 * 5-bit age looks like 2 and 1.
	 */
	for (k = 1; k <= 40; k++)
		if (cookie_check(&cookie_secret, &keys[0], isn, c,
				 COOKIE_NOW - k * PERIOD))
			accepted++;
	/* From 32, 33, 34, 64 periods ago: the 5-bit age looks young. */
	for (k = 32; k <= 34; k++)
		if (cookie_check(&cookie_secret, &keys[0], isn, c,
				 COOKIE_NOW + k * PERIOD))
			accepted++;
	if (cookie_check(&cookie_secret, &keys[0], isn, c,
			 COOKIE_NOW + 64 * PERIOD))
		accepted++;
	CHECK_EQ(accepted, 0);
}

TEST(cookie_rejects_wrong_mss_index)
{
	struct flow_key keys[2];
	uint32_t isn = 77, c, idx, other;
	int accepted = 0;

	cookie_keys(keys);
	for (idx = 0; idx < 8; idx++) {
		c = cookie_make(&cookie_secret, &keys[idx & 1], isn + idx,
				cookie_mss_table[idx], COOKIE_NOW, NULL);
		REQUIRE((c & 7) == idx);
		REQUIRE(cookie_check(&cookie_secret, &keys[idx & 1], isn + idx,
				     c, COOKIE_NOW) == cookie_mss_table[idx]);
		for (other = 0; other < 8; other++)
			if (other != idx &&
			    cookie_check(&cookie_secret, &keys[idx & 1],
					 isn + idx, (c & ~7u) | other,
					 COOKIE_NOW))
				accepted++;
	}
	CHECK_EQ(accepted, 0);
}

TEST(cookie_rejects_other_secret)
{
	struct flow_key keys[2];
	struct siphash_key other;
	uint32_t isn = 123456789, c;
	int bit, accepted = 0;

	cookie_keys(keys);
	c = cookie_make(&cookie_secret, &keys[1], isn, 1460, COOKIE_NOW, NULL);
	REQUIRE(cookie_check(&cookie_secret, &keys[1], isn, c, COOKIE_NOW) ==
		1460);
	for (bit = 0; bit < 128; bit++) {
		other = cookie_secret;
		if (bit < 64)
			other.k0 ^= 1ull << bit;
		else
			other.k1 ^= 1ull << (bit - 64);
		if (cookie_check(&other, &keys[1], isn, c, COOKIE_NOW))
			accepted++;
	}
	CHECK_EQ(accepted, 0);
	other.k0 = other.k1 = 0;
	CHECK_EQ(cookie_check(&other, &keys[1], isn, c, COOKIE_NOW), 0);
}

/* The 5-bit time field (and the 32-bit counter) wrap around. */
TEST(cookie_counter_wraparound)
{
	static const uint64_t wraps[] = { 1, 2, 3, 1000, 1ull << 27 };
	struct flow_key keys[2];
	unsigned int i;
	uint64_t j;

	cookie_keys(keys);
	for (i = 0; i < sizeof(wraps) / sizeof(wraps[0]); i++) {
		uint64_t edge = (wraps[i] * 32) << COOKIE_PERIOD_SHIFT;

		/* Made in the last periods before the edge. */
		for (j = 1; j <= 3; j++) {
			uint64_t made = edge - j * PERIOD + 5;
			uint32_t isn = (uint32_t)(i * 10 + j), c;
			uint64_t d;

			c = cookie_make(&cookie_secret, &keys[j & 1], isn, 1360,
					made, NULL);
			CHECK_EQ((c >> 3) & 0x1f, 32 - j);
			for (d = 0; d <= COOKIE_MAX_AGE + 2; d++)
				CHECK_EQ(cookie_check(&cookie_secret,
						      &keys[j & 1], isn, c,
						      made + d * PERIOD),
					 d <= COOKIE_MAX_AGE ? 1360 : 0);
		}
	}
	/* The counter itself (now_s >> 6) wraps at 2^32 periods. */
	{
		uint64_t made = (0xffffffffull << COOKIE_PERIOD_SHIFT) + 1;
		uint32_t c = cookie_make(&cookie_secret, &keys[0], 9, 1460,
					 made, NULL);

		CHECK_EQ(cookie_check(&cookie_secret, &keys[0], 9, c, made),
			 1460);
		CHECK_EQ(cookie_check(&cookie_secret, &keys[0], 9, c,
				      made + PERIOD),
			 1460);
		CHECK_EQ(cookie_check(&cookie_secret, &keys[0], 9, c,
				      made + 2 * PERIOD),
			 1460);
		CHECK_EQ(cookie_check(&cookie_secret, &keys[0], 9, c,
				      made + 3 * PERIOD),
			 0);
	}
}

/* Flow table */

static void rnd_key(struct flow_key *k)
{
	memset(k, 0, sizeof(*k));
	if (rnd() & 1) {
		k->family = 6;
		rnd_fill(k->saddr, 16);
		rnd_fill(k->daddr, 16);
	} else {
		k->family = 4;
		rnd_fill(k->saddr, 4);
		rnd_fill(k->daddr, 4);
	}
	k->sport = (uint16_t)rnd();
	k->dport = htons(80);
}

static struct flow *ft_insert(struct flow_table *ft, const struct flow_key *k)
{
	return flow_insert(ft, k, flow_hash(ft, k));
}

static struct flow *ft_lookup(struct flow_table *ft, const struct flow_key *k)
{
	return flow_lookup(ft, k, flow_hash(ft, k));
}

/* Deletes the entry holding k; false (and nothing done) if none does. */
static bool ft_remove(struct flow_table *ft, const struct flow_key *k)
{
	struct flow *f = ft_lookup(ft, k);

	if (f)
		flow_delete(ft, f);
	return f != NULL;
}

/* True if f is a zeroed entry except for its key. */
static bool flow_is_fresh(const struct flow *f, const struct flow_key *k)
{
	struct flow z;

	memset(&z, 0, sizeof(z));
	z.key = *k;
	z.hnext = f->hnext;
	return !memcmp(&z, f, sizeof(z));
}

TEST(flow_init_limits)
{
	struct flow_table ft;
	struct flow_key k;

	CHECK(flow_table_init(&ft, 0, 1) != 0);
	CHECK(flow_table_init(&ft, 1u << 30, 1) != 0);
	REQUIRE(flow_table_init(&ft, 1, 1) == 0);
	rng_seed(5);
	rnd_key(&k);
	CHECK(ft_lookup(&ft, &k) == NULL);
	CHECK(ft_insert(&ft, &k) == flow_at(&ft, 1));
	CHECK(ft_lookup(&ft, &k) == flow_at(&ft, 1));
	k.sport ^= 1;
	CHECK(ft_insert(&ft, &k) == NULL);
	CHECK_EQ(ft.count, 1);
	flow_table_free(&ft);
	CHECK(ft.flows == NULL);
}

TEST(flow_insert_until_full)
{
	enum { MAX = 100 };
	struct flow_table ft;
	struct flow_key keys[MAX + 1];
	bool seen[MAX + 1] = { false };
	uint32_t i;

	REQUIRE(flow_table_init(&ft, MAX, 0x1234) == 0);
	rng_seed(6);
	for (i = 0; i <= MAX; i++)
		rnd_key(&keys[i]);
	for (i = 0; i < MAX; i++) {
		struct flow *f = ft_insert(&ft, &keys[i]);
		uint32_t idx;

		REQUIRE(f != NULL);
		idx = flow_index(&ft, f);
		CHECK(idx >= 1 && idx <= MAX);
		if (idx >= 1 && idx <= MAX) {
			CHECK(!seen[idx]);
			seen[idx] = true;
		}
		CHECK(flow_is_fresh(f, &keys[i]));
		CHECK_EQ(ft.count, i + 1);
		f->target = i + 1000; /* a tag, checked below */
	}
	CHECK(ft_insert(&ft, &keys[MAX]) == NULL);
	CHECK(ft_insert(&ft, &keys[MAX]) == NULL);
	CHECK_EQ(ft.count, MAX);
	for (i = 0; i < MAX; i++) {
		struct flow *f = ft_lookup(&ft, &keys[i]);

		REQUIRE(f != NULL);
		CHECK_MEM(&f->key, &keys[i], sizeof(keys[i]));
		CHECK_EQ(f->target, i + 1000);
	}
	CHECK(ft_lookup(&ft, &keys[MAX]) == NULL);
	/* One delete makes room for exactly one more. */
	CHECK(ft_remove(&ft, &keys[7]));
	CHECK_EQ(ft.count, MAX - 1);
	CHECK(ft_insert(&ft, &keys[MAX]) != NULL);
	CHECK(ft_insert(&ft, &keys[7]) == NULL);
	CHECK_EQ(ft.count, MAX);
	flow_table_free(&ft);
}

TEST(flow_lookup_exact_not_near_miss)
{
	enum { N = 50 };
	struct flow_table ft;
	struct flow_key keys[N], k;
	struct flow *slots[N];
	int i, found_wrong = 0;
	size_t byte;

	REQUIRE(flow_table_init(&ft, 64, 99) == 0);
	rng_seed(7);
	for (i = 0; i < N; i++) {
		rnd_key(&keys[i]);
		slots[i] = ft_insert(&ft, &keys[i]);
		REQUIRE(slots[i] != NULL);
	}
	for (i = 0; i < N; i++) {
		CHECK(ft_lookup(&ft, &keys[i]) == slots[i]);
		/* One byte different anywhere, pad included: no match. */
		for (byte = 0; byte < sizeof(k); byte++) {
			k = keys[i];
			((uint8_t *)&k)[byte] ^= 0x01;
			if (ft_lookup(&ft, &k))
				found_wrong++;
			k = keys[i];
			((uint8_t *)&k)[byte] ^= 0x80;
			if (ft_lookup(&ft, &k))
				found_wrong++;
		}
		/* Even looked up in the right bucket. */
		k = keys[i];
		k.dport ^= 0x0100;
		if (flow_lookup(&ft, &k, flow_hash(&ft, &keys[i])))
			found_wrong++;
	}
	CHECK_EQ(found_wrong, 0);
	flow_table_free(&ft);
}

TEST(flow_delete_reinsert_reuses)
{
	struct flow_table ft;
	struct flow_key keys[20], fresh;
	struct flow *f;
	uint32_t idx[20], i;

	REQUIRE(flow_table_init(&ft, 20, 7) == 0);
	rng_seed(8);
	for (i = 0; i < 20; i++) {
		rnd_key(&keys[i]);
		f = ft_insert(&ft, &keys[i]);
		REQUIRE(f != NULL);
		idx[i] = flow_index(&ft, f);
		CHECK_EQ(idx[i], i + 1); /* fresh entries in order */
		memset(&f->snd_una, 0x5a, 16); /* dirty it */
	}
	/* Delete three; they come back last-deleted first, zeroed. */
	CHECK(ft_remove(&ft, &keys[3]));
	CHECK(ft_remove(&ft, &keys[11]));
	CHECK(ft_remove(&ft, &keys[19]));
	CHECK_EQ(ft.count, 17);
	CHECK(ft_lookup(&ft, &keys[3]) == NULL);
	CHECK(ft_lookup(&ft, &keys[11]) == NULL);
	CHECK(ft_lookup(&ft, &keys[19]) == NULL);
	rnd_key(&fresh);
	f = ft_insert(&ft, &fresh);
	REQUIRE(f != NULL);
	CHECK_EQ(flow_index(&ft, f), idx[19]);
	CHECK(flow_is_fresh(f, &fresh));
	f = ft_insert(&ft, &keys[3]);
	REQUIRE(f != NULL);
	CHECK_EQ(flow_index(&ft, f), idx[11]);
	CHECK(flow_is_fresh(f, &keys[3]));
	f = ft_insert(&ft, &keys[11]);
	REQUIRE(f != NULL);
	CHECK_EQ(flow_index(&ft, f), idx[3]);
	CHECK(ft_insert(&ft, &keys[19]) == NULL);
	CHECK_EQ(ft.count, 20);
	CHECK(ft_lookup(&ft, &fresh) == flow_at(&ft, idx[19]));
	for (i = 0; i < 19; i++)
		CHECK(ft_lookup(&ft, &keys[i]) != NULL);
	/* Empty it completely and fill it again. */
	for (i = 0; i < 19; i++)
		CHECK(ft_remove(&ft, &keys[i]));
	CHECK(ft_remove(&ft, &fresh));
	CHECK_EQ(ft.count, 0);
	for (i = 0; i < 20; i++)
		CHECK(ft_insert(&ft, &keys[i]) != NULL);
	CHECK_EQ(ft.count, 20);
	CHECK(ft_insert(&ft, &fresh) == NULL);
	flow_table_free(&ft);
}

/* Many keys in one bucket; deletes at the head, middle and tail. */
TEST(flow_chain_collisions)
{
	enum { CHAIN = 12 };
	struct flow_table ft;
	struct flow_key chain[CHAIN], other[20], k;
	bool gone[CHAIN] = { false };
	int n = 0, i, j, tries = 0;
	static const int order[CHAIN] = { 5, 0, 11, 6, 1, 10, 3, 8, 2, 9, 4, 7 };

	REQUIRE(flow_table_init(&ft, 64, 0xabcdef) == 0);
	REQUIRE(ft.mask == 63);
	rng_seed(9);
	while (n < CHAIN && tries++ < 100000) {
		rnd_key(&k);
		if ((flow_hash(&ft, &k) & ft.mask) == 17)
			chain[n++] = k;
	}
	REQUIRE(n == CHAIN);
	for (i = 0; i < 20; i++) {
		do
			rnd_key(&other[i]);
		while ((flow_hash(&ft, &other[i]) & ft.mask) == 17);
	}
	/* Interleave chain keys with others. */
	for (i = 0; i < CHAIN; i++) {
		REQUIRE(ft_insert(&ft, &chain[i]) != NULL);
		REQUIRE(ft_insert(&ft, &other[i]) != NULL);
	}
	for (i = 0; i < CHAIN; i++) {
		struct flow *f = ft_lookup(&ft, &chain[i]);

		REQUIRE(f != NULL);
		CHECK_MEM(&f->key, &chain[i], sizeof(k));
	}
	/* Delete in an order hitting head, middle and tail positions. */
	for (i = 0; i < CHAIN; i++) {
		struct flow *f = ft_lookup(&ft, &chain[order[i]]);

		REQUIRE(f != NULL);
		flow_delete(&ft, f);
		gone[order[i]] = true;
		for (j = 0; j < CHAIN; j++) {
			f = ft_lookup(&ft, &chain[j]);
			CHECK(gone[j] ? f == NULL :
					f != NULL && !memcmp(&f->key, &chain[j],
							     sizeof(k)));
		}
		for (j = 0; j < CHAIN; j++)
			CHECK(ft_lookup(&ft, &other[j]) != NULL);
		CHECK_EQ(ft.count, 2 * CHAIN - 1 - i);
	}
	CHECK_EQ(ft.buckets[17], FLOW_NONE);
	/* Reinsert all; a middle one deleted again. */
	for (i = 0; i < CHAIN; i++)
		REQUIRE(ft_insert(&ft, &chain[i]) != NULL);
	CHECK(ft_remove(&ft, &chain[CHAIN / 2]));
	for (i = 0; i < CHAIN; i++)
		CHECK((ft_lookup(&ft, &chain[i]) == NULL) == (i == CHAIN / 2));
	flow_table_free(&ft);
}

/* Resident pages in [p, p + len) (p page-aligned). */
static size_t resident_pages(void *p, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = (len + page - 1) / page, i, r = 0;
	unsigned char *vec = malloc(n);

	if (!vec || mincore(p, len, vec))
		abort();
	for (i = 0; i < n; i++)
		r += vec[i] & 1;
	free(vec);
	return r;
}

/*
 * A big table costs only what is used: entries never handed out stay
 * untouched, so their pages never become resident. The first 4 MiB (two
 * huge pages, should transparent huge pages back the mapping) hold the
 * entries in use; nothing past them may be resident.
 */
TEST(flow_big_table_untouched)
{
	const size_t head = 4u << 20;
	struct flow_table ft;
	struct flow_key k;
	size_t bytes = ((size_t)(1u << 20) + 1) * sizeof(struct flow);
	uint8_t *tail;
	uint32_t i;

	REQUIRE(flow_table_init(&ft, 1u << 20, 3) == 0);
	REQUIRE(1002 * sizeof(struct flow) < head && bytes > 2 * head);
	tail = (uint8_t *)ft.flows + head;
	CHECK_EQ(resident_pages(ft.flows, bytes), 0);
	rng_seed(10);
	rnd_key(&k);
	REQUIRE(ft_insert(&ft, &k) == flow_at(&ft, 1));
	CHECK(ft_lookup(&ft, &k) == flow_at(&ft, 1));
	CHECK_EQ(resident_pages(tail, bytes - head), 0);
	for (i = 0; i < 1000; i++) {
		rnd_key(&k);
		REQUIRE(ft_insert(&ft, &k) != NULL);
	}
	CHECK_EQ(ft.count, 1001);
	CHECK_EQ(resident_pages(tail, bytes - head), 0);
	/* Deleting and reinserting reuses entries: no growth. */
	for (i = 0; i < 100000; i++) {
		struct flow *f = ft_lookup(&ft, &k);

		REQUIRE(f != NULL);
		flow_delete(&ft, f);
		k.sport++;
		REQUIRE(ft_insert(&ft, &k) != NULL);
	}
	CHECK(ft.fresh <= 1002);
	CHECK_EQ(resident_pages(tail, bytes - head), 0);
	flow_table_free(&ft);
}

/* Random operations against a reference: key i -> entry index (0: none). */
static void flow_random_run(uint32_t max, uint32_t npool, uint64_t seed,
			    int ops)
{
	struct flow_table ft;
	struct flow_key *pool = calloc(npool, sizeof(*pool));
	uint32_t *ref = calloc(npool, sizeof(*ref));
	int32_t *owner = malloc(((size_t)max + 1) * sizeof(*owner));
	uint32_t i, j, count = 0;
	int op, bad = 0;

	if (!pool || !ref || !owner)
		abort();
	REQUIRE(flow_table_init(&ft, max, seed) == 0);
	for (i = 0; i <= max; i++)
		owner[i] = -1;
	rng_seed(seed);
	/* Unique keys; a third are near misses of earlier ones. */
	for (i = 0; i < npool; i++) {
		bool dup;

		do {
			if (i > 0 && rnd_below(3) == 0) {
				pool[i] = pool[rnd_below(i)];
				((uint8_t *)&pool[i])[rnd_below(37)] ^=
					(uint8_t)(1 << rnd_below(8));
			} else {
				rnd_key(&pool[i]);
			}
			dup = false;
			for (j = 0; j < i && !dup; j++)
				dup = !memcmp(&pool[i], &pool[j],
					      sizeof(pool[i]));
		} while (dup);
	}
	for (op = 0; op < ops; op++) {
		uint32_t r = rnd_below(100), k = rnd_below(npool);
		struct flow *f = ft_lookup(&ft, &pool[k]);

		if ((f ? flow_index(&ft, f) : 0) != ref[k]) {
			bad++;
			continue;
		}
		if (r < 45 && !ref[k]) {
			f = ft_insert(&ft, &pool[k]);
			if (count == max) {
				if (f)
					bad++;
				continue;
			}
			if (!f) {
				bad++;
				continue;
			}
			j = flow_index(&ft, f);
			if (j < 1 || j > max || owner[j] != -1 ||
			    !flow_is_fresh(f, &pool[k])) {
				bad++;
				continue;
			}
			f->target = k;
			f->snd_nxt = ~k;
			owner[j] = (int32_t)k;
			ref[k] = j;
			count++;
		} else if (r < 85 && ref[k]) {
			if (f->target != k || f->snd_nxt != ~k)
				bad++;
			flow_delete(&ft, f);
			owner[ref[k]] = -1;
			ref[k] = 0;
			count--;
		}
		if (ft.count != count)
			bad++;
		if (op % 4096 == 0) {
			for (i = 0; i < npool; i++) {
				f = ft_lookup(&ft, &pool[i]);
				if ((f ? flow_index(&ft, f) : 0) != ref[i] ||
				    (f && f->target != i))
					bad++;
			}
		}
	}
	if (bad)
		fprintf(stderr, "max %u pool %u: %d mismatches\n", max, npool,
			bad);
	CHECK_EQ(bad, 0);
	flow_table_free(&ft);
	free(pool);
	free(ref);
	free(owner);
}

TEST(flow_random_vs_reference)
{
	flow_random_run(1000, 3000, 11, 100000);
	flow_random_run(16, 40, 12, 100000);
	flow_random_run(1, 3, 13, 10000);
	flow_random_run(100, 101, 14, 100000);
}

/* Timing wheel */

TEST(timer_init_limits)
{
	struct twheel tw;

	CHECK(tw_init(&tw, 10, 0, 0) != 0);
	CHECK(tw_init(&tw, 10, 32, 0) != 0);
	CHECK(tw_init(&tw, 10, 100, 0) != 0);
	CHECK(tw_init(&tw, 10, 65, 0) != 0);
	REQUIRE(tw_init(&tw, 10, 64, 0) == 0);
	CHECK_EQ(tw.count, 0);
	tw_free(&tw);
	REQUIRE(tw_init(&tw, 10, 1u << 16, 12345) == 0);
	CHECK_EQ(tw.cur, 12345);
	tw_free(&tw);
}

TEST(timer_basic_order)
{
	struct twheel tw;
	uint32_t out[8];
	const uint64_t t0 = 1000;

	REQUIRE(tw_init(&tw, 100, 64, t0) == 0);
	tw_schedule(&tw, 1, t0 + 5);
	tw_schedule(&tw, 2, t0 + 3);
	tw_schedule(&tw, 3, t0 + 10);
	tw_schedule(&tw, 100, t0 + 10);
	CHECK_EQ(tw.count, 4);
	CHECK_EQ(tw_when(&tw, 1), t0 + 5);
	CHECK_EQ(tw_expire(&tw, t0 + 2, out, 8), 0);
	CHECK_EQ(tw_expire(&tw, t0 + 3, out, 8), 1);
	CHECK_EQ(out[0], 2);
	CHECK_EQ(tw_when(&tw, 2), 0);
	CHECK_EQ(tw_expire(&tw, t0 + 4, out, 8), 0);
	/* Several due in one call come out in deadline order. */
	REQUIRE(tw_expire(&tw, t0 + 10, out, 8) == 3);
	CHECK_EQ(out[0], 1);
	CHECK((out[1] == 3 && out[2] == 100) || (out[1] == 100 && out[2] == 3));
	CHECK_EQ(tw.count, 0);
	CHECK_EQ(tw_expire(&tw, t0 + 1000, out, 8), 0);
	tw_free(&tw);
}

/*
 * Stepping one millisecond at a time, each node fires exactly on time,
 * including deadlines several revolutions away.
 */
static void timer_exact_run(uint32_t nslots)
{
	uint32_t nodes = 3 * nslots / 5 + 2, id, n, i;
	const uint64_t t0 = 5000;
	uint64_t span = 3 * (uint64_t)nslots + 7, now;
	uint64_t *want = calloc((size_t)nodes + 1, sizeof(*want));
	uint32_t out[16];
	struct twheel tw;
	int early = 0, late = 0, fired = 0;

	if (!want)
		abort();
	REQUIRE(tw_init(&tw, nodes, nslots, t0) == 0);
	rng_seed(nslots);
	for (id = 1; id <= nodes; id++) {
		want[id] = t0 + rnd_below((uint32_t)span);
		tw_schedule(&tw, id, want[id]);
	}
	for (now = t0; now <= t0 + span; now++) {
		do {
			n = tw_expire(&tw, now, out, 16);
			for (i = 0; i < n; i++) {
				id = out[i];
				if (want[id] > now)
					early++;
				else if (want[id] < now)
					late++;
				want[id] = 0;
				fired++;
			}
		} while (n == 16 && fired <= (int)nodes);
	}
	CHECK_EQ(early, 0);
	CHECK_EQ(late, 0);
	CHECK_EQ(fired, nodes);
	CHECK_EQ(tw.count, 0);
	tw_free(&tw);
	free(want);
}

TEST(timer_exact_times)
{
	timer_exact_run(64);
	timer_exact_run(4096);
}

/*
 * Called at irregular times, a node fires at the first call at or after
 * its deadline, and never before.
 */
TEST(timer_irregular_calls)
{
	const uint32_t nodes = 500;
	uint64_t want[501], now = 777, last = 776;
	uint32_t out[600], n, i, id;
	struct twheel tw;
	int bad = 0, fired = 0;

	REQUIRE(tw_init(&tw, nodes, 64, now) == 0);
	rng_seed(15);
	for (id = 1; id <= nodes; id++) {
		want[id] = now + rnd_below(1000);
		tw_schedule(&tw, id, want[id]);
	}
	while (fired < (int)nodes && now < 5000) {
		now += rnd_below(3) ? rnd_below(10) : rnd_below(150);
		n = tw_expire(&tw, now, out, 600);
		for (i = 0; i < n; i++) {
			id = out[i];
			/* Due, and not due at the previous call. */
			if (!want[id] || want[id] > now || want[id] <= last)
				bad++;
			want[id] = 0;
			fired++;
		}
		for (id = 1; id <= nodes; id++)
			if (want[id] && want[id] <= now)
				bad++;
		last = now;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(fired, nodes);
	tw_free(&tw);
}

TEST(timer_reschedule_moves)
{
	struct twheel tw;
	uint32_t out[4];

	REQUIRE(tw_init(&tw, 8, 64, 100) == 0);
	tw_schedule(&tw, 1, 110);
	tw_schedule(&tw, 2, 110);
	tw_schedule(&tw, 1, 120); /* later */
	CHECK_EQ(tw.count, 2);
	CHECK_EQ(tw_when(&tw, 1), 120);
	REQUIRE(tw_expire(&tw, 115, out, 4) == 1);
	CHECK_EQ(out[0], 2);
	tw_schedule(&tw, 1, 116); /* earlier */
	CHECK_EQ(tw.count, 1);
	CHECK_EQ(tw_expire(&tw, 115, out, 4), 0);
	REQUIRE(tw_expire(&tw, 116, out, 4) == 1);
	CHECK_EQ(out[0], 1);
	CHECK_EQ(tw_expire(&tw, 200, out, 4), 0);
	/* To the same slot, one revolution later, and back. */
	tw_schedule(&tw, 3, 210);
	tw_schedule(&tw, 3, 210 + 64);
	CHECK_EQ(tw.count, 1);
	CHECK_EQ(tw_expire(&tw, 210 + 63, out, 4), 0);
	REQUIRE(tw_expire(&tw, 210 + 64, out, 4) == 1);
	CHECK_EQ(out[0], 3);
	tw_schedule(&tw, 3, 300 + 64);
	tw_schedule(&tw, 3, 300);
	REQUIRE(tw_expire(&tw, 300, out, 4) == 1);
	CHECK_EQ(tw_expire(&tw, 400, out, 4), 0);
	/* Rescheduling a node in the middle of a slot's list. */
	tw_schedule(&tw, 4, 500);
	tw_schedule(&tw, 5, 500);
	tw_schedule(&tw, 6, 500);
	tw_schedule(&tw, 5, 501);
	CHECK_EQ(tw.count, 3);
	REQUIRE(tw_expire(&tw, 500, out, 4) == 2);
	CHECK((out[0] == 4 && out[1] == 6) || (out[0] == 6 && out[1] == 4));
	REQUIRE(tw_expire(&tw, 501, out, 4) == 1);
	CHECK_EQ(out[0], 5);
	CHECK_EQ(tw.count, 0);
	tw_free(&tw);
}

TEST(timer_cancel)
{
	struct twheel tw;
	uint32_t out[8], id;

	REQUIRE(tw_init(&tw, 8, 64, 0) == 0);
	for (id = 1; id <= 6; id++)
		tw_schedule(&tw, id, 50);
	tw_cancel(&tw, 1); /* the tail of the slot's list */
	tw_cancel(&tw, 6); /* the head */
	tw_cancel(&tw, 3); /* the middle */
	CHECK_EQ(tw.count, 3);
	CHECK_EQ(tw_when(&tw, 3), 0);
	tw_cancel(&tw, 3); /* not scheduled: nothing happens */
	tw_cancel(&tw, 7);
	CHECK_EQ(tw.count, 3);
	REQUIRE(tw_expire(&tw, 1000, out, 8) == 3);
	CHECK(out[0] != 1 && out[0] != 3 && out[0] != 6);
	CHECK(out[1] != 1 && out[1] != 3 && out[1] != 6);
	CHECK(out[2] != 1 && out[2] != 3 && out[2] != 6);
	/* Cancelled everywhere: an empty wheel sleeps the full cap. */
	tw_schedule(&tw, 2, 1100);
	tw_cancel(&tw, 2);
	CHECK_EQ(tw.count, 0);
	CHECK_EQ(tw_sleep_ms(&tw, 1000, 500), 500);
	CHECK_EQ(tw_expire(&tw, 5000, out, 8), 0);
	/* A cancelled node can be scheduled again. */
	tw_schedule(&tw, 2, 5010);
	REQUIRE(tw_expire(&tw, 5010, out, 8) == 1);
	CHECK_EQ(out[0], 2);
	tw_free(&tw);
}

TEST(timer_expire_chunks)
{
	struct twheel tw;
	uint32_t out[7], id, n, total = 0, calls = 0;
	bool seen[201] = { false };
	int bad = 0;

	REQUIRE(tw_init(&tw, 200, 64, 0) == 0);
	/* 150 due over a few slots, 50 not due sharing the same slots. */
	for (id = 1; id <= 150; id++)
		tw_schedule(&tw, id, 10 + id % 4);
	for (id = 151; id <= 200; id++)
		tw_schedule(&tw, id, 10 + id % 4 + 64 * (1 + id % 3));
	do {
		n = tw_expire(&tw, 20, out, 7);
		calls++;
		for (id = 0; id < n; id++) {
			if (out[id] < 1 || out[id] > 150 || seen[out[id]])
				bad++;
			else
				seen[out[id]] = true;
		}
		total += n;
	} while (n == 7 && calls < 1000);
	CHECK_EQ(bad, 0);
	CHECK_EQ(total, 150);
	CHECK_EQ(calls, 150 / 7 + 1);
	CHECK_EQ(tw.count, 50);
	/* Exactly max due: max, then 0. */
	for (id = 1; id <= 7; id++)
		tw_schedule(&tw, id, 30);
	CHECK_EQ(tw_expire(&tw, 30, out, 7), 7);
	CHECK_EQ(tw_expire(&tw, 30, out, 7), 0);
	/* max 1, across slots and a time jump. */
	for (id = 1; id <= 5; id++)
		tw_schedule(&tw, id, 40 + id * 30);
	total = 0;
	while (tw_expire(&tw, 10000, out, 1) == 1 && total < 1000)
		total++;
	CHECK_EQ(total, 55); /* and the 50 later ones */
	CHECK_EQ(tw.count, 0);
	tw_free(&tw);
}

/* Time jumps further than a revolution fire everything due at once. */
TEST(timer_time_jump)
{
	static const uint64_t jumps[] = { 63,  64,   65,     127,
					  128, 1000, 100000, 1ull << 40 };
	uint32_t out[16], n, i, id;
	unsigned int j;

	for (j = 0; j < sizeof(jumps) / sizeof(jumps[0]); j++) {
		struct twheel tw;
		uint64_t t0 = 2000, now = t0 + jumps[j];
		bool seen[11] = { false };
		int bad = 0, fired = 0, calls = 0;

		REQUIRE(tw_init(&tw, 10, 64, t0) == 0);
		for (id = 1; id <= 10; id++)
			tw_schedule(&tw, id, t0 + 1 + (id * id * 7) % 400);
		do {
			n = tw_expire(&tw, now, out, 3);
			for (i = 0; i < n; i++) {
				if (tw_when(&tw, out[i]))
					bad++;
				seen[out[i]] = true;
			}
		} while (n == 3 && ++calls < 100);
		for (id = 1; id <= 10; id++) {
			uint64_t w = t0 + 1 + (id * id * 7) % 400;

			if (seen[id] != (w <= now))
				bad++;
			fired += seen[id];
		}
		CHECK_EQ(bad, 0);
		CHECK_EQ(tw.count, 10 - fired);
		/* New deadlines after the jump work normally. */
		for (id = 1; id <= 10; id++)
			tw_cancel(&tw, id);
		tw_schedule(&tw, 1, now + 5);
		tw_schedule(&tw, 2, now + 64 + 5);
		CHECK_EQ(tw_sleep_ms(&tw, now, 1000), 5);
		CHECK_EQ(tw_expire(&tw, now + 4, out, 16), 0);
		REQUIRE(tw_expire(&tw, now + 5, out, 16) == 1);
		CHECK_EQ(out[0], 1);
		CHECK_EQ(tw_when(&tw, 2), now + 69);
		CHECK_EQ(tw_sleep_ms(&tw, now + 5, 1000), 64);
		CHECK_EQ(tw_expire(&tw, now + 68, out, 16), 0);
		CHECK_EQ(tw_expire(&tw, now + 69, out, 16), 1);
		tw_free(&tw);
	}
}

/*
 * A deadline already past keeps its time and fires on the next run (the
 * wheel goes back to it rather than moving it).
 */
TEST(timer_past_deadline_fires_on_next_run)
{
	struct twheel tw;
	uint32_t out[4];

	REQUIRE(tw_init(&tw, 4, 64, 1000) == 0);
	tw_schedule(&tw, 1, 10);
	CHECK_EQ(tw_when(&tw, 1), 10);
	REQUIRE(tw_expire(&tw, 1000, out, 4) == 1);
	CHECK_EQ(out[0], 1);
	CHECK_EQ(tw_expire(&tw, 1005, out, 4), 0);
	tw_schedule(&tw, 2, 900);
	CHECK_EQ(tw_when(&tw, 2), 900);
	REQUIRE(tw_expire(&tw, 1006, out, 4) == 1);
	CHECK_EQ(out[0], 2);
	tw_free(&tw);
	/* Deadline 0 is not "unscheduled". */
	REQUIRE(tw_init(&tw, 4, 64, 0) == 0);
	tw_schedule(&tw, 3, 0);
	CHECK(tw_when(&tw, 3) != 0);
	CHECK_EQ(tw.count, 1);
	REQUIRE(tw_expire(&tw, 1, out, 4) == 1);
	CHECK_EQ(out[0], 3);
	tw_free(&tw);
}

/*
 * timer.h: "a time already past fires on the next run". After a run at
 * now, a node scheduled at or before now must fire on the next run, even
 * one at the same millisecond.
 */
TEST(timer_past_deadline_fires_next_run)
{
	struct twheel tw;
	uint32_t out[4];

	REQUIRE(tw_init(&tw, 4, 64, 1000) == 0);
	CHECK_EQ(tw_expire(&tw, 1000, out, 4), 0);
	tw_schedule(&tw, 1, 990);
	tw_schedule(&tw, 2, 1000);
	CHECK_EQ(tw_expire(&tw, 1000, out, 4), 2);
	tw_free(&tw);
}

TEST(timer_sleep_ms)
{
	struct twheel tw;
	uint32_t out[4];
	uint64_t d, now = 100000;
	int bad = 0;

	REQUIRE(tw_init(&tw, 4, 4096, now) == 0);
	CHECK_EQ(tw_sleep_ms(&tw, now, 250), 250);
	CHECK_EQ(tw_expire(&tw, now, out, 4), 0);
	/*
	 * Exact for every offset within a revolution, across bitmap words,
	 * with the cap respected.
	 */
	for (d = 1; d < 4096; d += d < 300 ? 1 : 37) {
		tw_schedule(&tw, 1, now + d);
		if (tw_sleep_ms(&tw, now, 5000) != d)
			bad++;
		if (tw_sleep_ms(&tw, now, d) != d)
			bad++;
		if (d > 1 && tw_sleep_ms(&tw, now, d - 1) != d - 1)
			bad++;
		if (tw_sleep_ms(&tw, now, 0) != 0)
			bad++;
	}
	CHECK_EQ(bad, 0);
	/* The earliest of several. */
	tw_schedule(&tw, 1, now + 900);
	tw_schedule(&tw, 2, now + 70);
	tw_schedule(&tw, 3, now + 129);
	CHECK_EQ(tw_sleep_ms(&tw, now, 1000), 70);
	tw_cancel(&tw, 2);
	CHECK_EQ(tw_sleep_ms(&tw, now, 1000), 129);
	tw_free(&tw);

	/* Beyond a revolution: a lower bound, never later than due. */
	REQUIRE(tw_init(&tw, 4, 64, now) == 0);
	CHECK_EQ(tw_expire(&tw, now, out, 4), 0);
	tw_schedule(&tw, 1, now + 3 * 64 + 5);
	d = tw_sleep_ms(&tw, now, 1000);
	CHECK(d >= 1 && d <= 3 * 64 + 5);
	tw_schedule(&tw, 1, now + 64);
	CHECK_EQ(tw_sleep_ms(&tw, now, 1000), 64);
	tw_free(&tw);
	/* Something due now (not yet expired) means no sleep. */
	REQUIRE(tw_init(&tw, 4, 64, now) == 0);
	tw_schedule(&tw, 2, now);
	CHECK_EQ(tw_sleep_ms(&tw, now, 1000), 0);
	tw_schedule(&tw, 2, now + 1);
	CHECK_EQ(tw_sleep_ms(&tw, now, 1000), 1);
	tw_free(&tw);
}

/*
 * After a run at t, a node due at t + 2 and a look at t + 10 (before the
 * next run): it is overdue, so the sleep must be 0, not the distance to
 * its slot on the wheel's next revolution.
 */
TEST(timer_sleep_ms_overdue)
{
	struct twheel tw;
	uint32_t out[4];
	const uint64_t t = 5000;

	REQUIRE(tw_init(&tw, 4, 64, t) == 0);
	CHECK_EQ(tw_expire(&tw, t, out, 4), 0);
	tw_schedule(&tw, 1, t + 2);
	CHECK_EQ(tw_sleep_ms(&tw, t, 1000), 2);
	CHECK_EQ(tw_sleep_ms(&tw, t + 1, 1000), 1);
	CHECK_EQ(tw_sleep_ms(&tw, t + 2, 1000), 0);
	CHECK_EQ(tw_sleep_ms(&tw, t + 10, 1000), 0);
	CHECK_EQ(tw_sleep_ms(&tw, t + 100, 1000), 0);
	tw_free(&tw);
}

/* A cap meaning "no cap" must not hide a pending deadline. */
TEST(timer_sleep_ms_huge_cap)
{
	struct twheel tw;
	const uint64_t t = 5000;

	REQUIRE(tw_init(&tw, 4, 64, t) == 0);
	tw_schedule(&tw, 1, t + 5);
	CHECK_EQ(tw_sleep_ms(&tw, t, 1ull << 62), 5);
	CHECK_EQ(tw_sleep_ms(&tw, t, UINT64_MAX), 5);
	tw_free(&tw);
}

/*
 * Random schedules, cancels, time steps and chunked expiry against a
 * reference: req is the deadline asked for, eff the latest the wheel may
 * treat it as (a past deadline moved up to the wheel's position, 0 to 1).
 * Nothing fires before req; after a run at now nothing with eff <= now is
 * left; the sleep is exactly the distance to the earliest occupied slot.
 */
static void timer_random_run(uint32_t nslots, uint64_t t0, uint64_t seed)
{
	enum { NODES = 300, STEPS = 20000 };
	uint64_t req[NODES + 1] = { 0 }, eff[NODES + 1] = { 0 };
	uint64_t now = t0, cur = t0;
	uint32_t out[8], n, i, id, count = 0;
	struct twheel tw;
	int step, bad_early = 0, bad_missed = 0, bad_when = 0, bad_sleep = 0;
	int bad_count = 0;

	REQUIRE(tw_init(&tw, NODES, nslots, t0) == 0);
	rng_seed(seed);
	for (step = 0; step < STEPS; step++) {
		uint32_t ops = rnd_below(6), k;

		for (k = 0; k < ops; k++) {
			uint64_t when;
			uint32_t r = rnd_below(10);

			id = 1 + rnd_below(NODES);
			if (r < 2) {
				tw_cancel(&tw, id);
				if (eff[id])
					count--;
				eff[id] = 0;
				continue;
			}
			if (r == 2)
				when = now > 50 ? now - rnd_below(50) :
						  rnd_below(50);
			else if (r == 3)
				when = now + rnd_below(20 * nslots);
			else
				when = now + rnd_below(3 * nslots / 2);
			tw_schedule(&tw, id, when);
			if (!eff[id])
				count++;
			req[id] = when;
			eff[id] = when < cur ? cur : when;
			if (!eff[id])
				eff[id] = 1;
		}
		if (tw.count != count)
			bad_count++;
		now += rnd_below(8) ? rnd_below(4) :
		       rnd_below(2) ? rnd_below(3 * nslots) :
				      0;
		do {
			uint32_t max = 1 + rnd_below(8);

			n = tw_expire(&tw, now, out, max);
			for (i = 0; i < n; i++) {
				id = out[i];
				if (!eff[id] || req[id] > now)
					bad_early++;
				else
					count--;
				eff[id] = 0;
			}
			if (n < max || bad_early > NODES)
				break;
		} while (1);
		if (cur < now + 1)
			cur = now + 1;
		{
			uint64_t cap = 1 + rnd_below(3 * nslots), want = cap;
			uint64_t earliest = UINT64_MAX, got, w;

			for (id = 1; id <= NODES; id++) {
				uint64_t d;

				w = tw_when(&tw, id);
				if (!eff[id]) {
					bad_when += w != 0;
					continue;
				}
				if (eff[id] <= now)
					bad_missed++;
				if (w != eff[id] && w != req[id])
					bad_when++;
				d = ((w - now - 1) & (nslots - 1)) + 1;
				if (d < want)
					want = d;
				if (eff[id] < earliest)
					earliest = eff[id];
			}
			got = tw_sleep_ms(&tw, now, cap);
			if (got != want ||
			    (earliest != UINT64_MAX && got > earliest - now))
				bad_sleep++;
		}
		if (tw.count != count)
			bad_count++;
	}
	CHECK_EQ(bad_early, 0);
	CHECK_EQ(bad_missed, 0);
	CHECK_EQ(bad_when, 0);
	CHECK_EQ(bad_sleep, 0);
	CHECK_EQ(bad_count, 0);
	tw_free(&tw);
}

TEST(timer_random_vs_reference)
{
	timer_random_run(64, 1000, 21);
	timer_random_run(64, 0, 22);
	timer_random_run(4096, 123456789, 23);
	timer_random_run(128, 3, 24);
}

/* Buffer pool */

TEST(bufpool_init_limits)
{
	struct bufpool bp;

	CHECK(bufpool_init(&bp, 0, 10) != 0);
	CHECK(bufpool_init(&bp, 10, 0) != 0);
	REQUIRE(bufpool_init(&bp, 1, 1) == 0);
	CHECK_EQ(bufpool_get(&bp), 1);
	CHECK_EQ(bufpool_get(&bp), 0);
	bufpool_free(&bp);
	CHECK(bp.mem == NULL);
}

TEST(bufpool_exhaust)
{
	enum { SIZE = 2048, COUNT = 300 };
	struct bufpool bp;
	bool seen[COUNT + 1] = { false };
	uint32_t i, idx;

	REQUIRE(bufpool_init(&bp, SIZE, COUNT) == 0);
	for (i = 0; i < COUNT; i++) {
		idx = bufpool_get(&bp);
		REQUIRE(idx >= 1 && idx <= COUNT);
		CHECK(!seen[idx]);
		seen[idx] = true;
		CHECK_EQ(bp.used, i + 1);
	}
	CHECK_EQ(bufpool_get(&bp), 0);
	CHECK_EQ(bufpool_get(&bp), 0);
	CHECK_EQ(bp.used, COUNT);
	/* One back, one out again, then exhausted again. */
	bufpool_put(&bp, 42);
	CHECK_EQ(bp.used, COUNT - 1);
	CHECK_EQ(bufpool_get(&bp), 42);
	CHECK_EQ(bufpool_get(&bp), 0);
	for (i = 1; i <= COUNT; i++)
		bufpool_put(&bp, i);
	CHECK_EQ(bp.used, 0);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < COUNT; i++) {
		idx = bufpool_get(&bp);
		REQUIRE(idx >= 1 && idx <= COUNT);
		CHECK(!seen[idx]);
		seen[idx] = true;
	}
	CHECK_EQ(bufpool_get(&bp), 0);
	bufpool_free(&bp);
}

TEST(bufpool_lifo)
{
	struct bufpool bp;
	uint32_t a, b, c;

	REQUIRE(bufpool_init(&bp, 64, 8) == 0);
	a = bufpool_get(&bp);
	b = bufpool_get(&bp);
	c = bufpool_get(&bp);
	CHECK(a && b && c && a != b && b != c && a != c);
	bufpool_put(&bp, b);
	bufpool_put(&bp, a);
	CHECK_EQ(bufpool_get(&bp), a);
	CHECK_EQ(bufpool_get(&bp), b);
	bufpool_put(&bp, c);
	CHECK_EQ(bufpool_get(&bp), c);
	CHECK_EQ(bp.used, 3);
	bufpool_free(&bp);
}

/* Buffers lie within the area, do not overlap, and can be written whole. */
TEST(bufpool_buffers)
{
	static const uint32_t sizes[] = { 1, 7, 64, 1500, 4096, 65536 };
	unsigned int s;

	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint32_t size = sizes[s], count = 64, i, j, *idx;
		struct bufpool bp;
		int bad = 0;

		idx = calloc(count, sizeof(*idx));
		if (!idx)
			abort();
		REQUIRE(bufpool_init(&bp, size, count) == 0);
		for (i = 0; i < count; i++) {
			uint8_t *p;

			idx[i] = bufpool_get(&bp);
			REQUIRE(idx[i] != 0);
			p = bufpool_ptr(&bp, idx[i]);
			if (p < bp.mem ||
			    p + size > bp.mem + (size_t)size * count ||
			    (size_t)(p - bp.mem) % size)
				bad++;
			memset(p, (int)(i * 7 + 1), size);
		}
		for (i = 0; i < count; i++) {
			uint8_t *p = bufpool_ptr(&bp, idx[i]);

			for (j = 0; j < size; j++)
				if (p[j] != (uint8_t)(i * 7 + 1))
					bad++;
		}
		CHECK_EQ(bad, 0);
		CHECK(bufpool_ptr(&bp, 1) == bp.mem);
		CHECK(bufpool_ptr(&bp, count) + size ==
		      bp.mem + (size_t)size * count);
		bufpool_free(&bp);
		free(idx);
	}
}

TEST(bufpool_random_vs_reference)
{
	enum { COUNT = 50 };
	/* The model: the free list as a stack, 1 on top at first. */
	uint32_t used[COUNT], nused = 0, freel[COUNT], nfree = COUNT, i;
	struct bufpool bp;
	int op, bad = 0;

	for (i = 0; i < COUNT; i++)
		freel[i] = COUNT - i;
	REQUIRE(bufpool_init(&bp, 32, COUNT) == 0);
	rng_seed(31);
	for (op = 0; op < 100000; op++) {
		if (rnd_below(2) && nused) {
			uint32_t idx;

			i = rnd_below(nused);
			idx = used[i];
			used[i] = used[--nused];
			freel[nfree++] = idx;
			bufpool_put(&bp, idx);
			memset(bufpool_ptr(&bp, idx), 0xdd, 32);
		} else {
			uint32_t idx = bufpool_get(&bp);

			if (!nfree) {
				bad += idx != 0;
				continue;
			}
			if (idx != freel[--nfree]) {
				bad++;
				break;
			}
			used[nused++] = idx;
			memset(bufpool_ptr(&bp, idx), (int)idx, 32);
		}
		if (bp.used != nused)
			bad++;
	}
	for (i = 0; i < nused; i++) {
		uint8_t *p = bufpool_ptr(&bp, used[i]);

		if (p[0] != (uint8_t)used[i] || p[31] != (uint8_t)used[i])
			bad++;
	}
	CHECK_EQ(bad, 0);
	bufpool_free(&bp);
}
