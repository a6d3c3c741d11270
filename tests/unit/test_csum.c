// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the Internet checksum (csum.h): published examples, values
 * computed independently, and an independent straightforward implementation
 * over every length, alignment and carry pattern.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csum.h"
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
		a = csum_add20(a, seg);
		a = csum_add(a, seg + 20, SEG_LEN - 20);
		CHECK_EQ(csum_fold(a),
			 csum_fold(csum_add(csum_pseudo4(s, d, 6, SEG_LEN), seg,
					    SEG_LEN)));
	}
}
