/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The SYN cookie's arithmetic (layout: user/core/cookie.h), shared by the
 * engine and the XDP program that answers SYNs itself (synack.h): both
 * must make the same cookie of the same SYN, so there is one copy.
 * Inputs are a connection's 40-byte key as the engine lays it out (struct
 * flow_key: addresses, ports in network order, family, zeros) and the
 * cookie's time counter.
 */
#ifndef XREDIR_SYNCOOKIE_H
#define XREDIR_SYNCOOKIE_H

#include <linux/types.h>

#define COOKIE_PERIOD_SHIFT 6 /* 64 s */
#define COOKIE_MAX_AGE 2
#define COOKIE_EPOCH_SHIFT 2 /* an epoch is 4 periods: 256 s */
#define COOKIE_MARK_SHIFT 13 /* the fleet mark's lowest bit */
#define COOKIE_MARK_BITS 19
#define COOKIE_MARK_MASK (~((1u << COOKIE_MARK_SHIFT) - 1))
#define COOKIE_KEY_LEN 40
/* Where struct flow_key holds each field (cookie.c checks them). */
#define COOKIE_KEY_DADDR 16
#define COOKIE_KEY_SPORT 32
#define COOKIE_KEY_DPORT 34
#define COOKIE_KEY_FAMILY 36
/* MSS values a cookie can carry; a peer gets the largest <= its own. 48
 * is Linux's tcp_min_snd_mss: a peer announcing less gets 48, as there. */
#define COOKIE_MSS_TABLE                                   \
	{                                                  \
		48, 216, 536, 1024, 1220, 1360, 1440, 1460 \
	}
/* Tags the fleet mark's input, so that it and the per-handshake hash are
 * two independent functions of the one secret. */
#define COOKIE_MARK_DOMAIN 0x6b72616du /* "mark" */

#define XR_COOKIE_INLINE static inline __attribute__((always_inline))

struct xr_sip {
	__u64 v0, v1, v2, v3;
};

#define XR_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

XR_COOKIE_INLINE void xr_sipround(struct xr_sip *s)
{
	s->v0 += s->v1;
	s->v1 = XR_ROTL(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = XR_ROTL(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = XR_ROTL(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = XR_ROTL(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = XR_ROTL(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = XR_ROTL(s->v2, 32);
}

XR_COOKIE_INLINE void xr_sip_absorb(struct xr_sip *s, __u64 m)
{
	s->v3 ^= m;
	xr_sipround(s);
	xr_sipround(s);
	s->v0 ^= m;
}

/* SipHash-2-4 of the first len bytes of w, which holds zeros from there to
 * the end of its last word; words in host order (the reference's on a
 * little-endian host: test_cookie checks it against siphash24()). */
XR_COOKIE_INLINE __u64 xr_siphash_words(__u64 k0, __u64 k1, const __u64 *w,
					__u32 len)
{
	struct xr_sip s = { 0x736f6d6570736575ULL ^ k0,
			    0x646f72616e646f6dULL ^ k1,
			    0x6c7967656e657261ULL ^ k0,
			    0x7465646279746573ULL ^ k1 };
	__u32 i;

	for (i = 0; i < len / 8; i++)
		xr_sip_absorb(&s, w[i]);
	xr_sip_absorb(&s, w[len / 8] | (__u64)len << 56);
	s.v2 ^= 0xff;
	xr_sipround(&s);
	xr_sipround(&s);
	xr_sipround(&s);
	xr_sipround(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

/* A key and up to three 32-bit fields after it, zero-padded to words. */
union xr_cookie_in {
	struct {
		__u8 key[COOKIE_KEY_LEN];
		__u32 x[4];
	} f;
	__u64 w[(COOKIE_KEY_LEN + 16) / 8];
};

XR_COOKIE_INLINE __u64 xr_cookie_sip(__u64 k0, __u64 k1, const __u8 *key,
				     __u32 a, __u32 b, __u32 c, __u32 len)
{
	union xr_cookie_in in;

	__builtin_memset(&in, 0, sizeof(in));
	__builtin_memcpy(in.f.key, key, COOKIE_KEY_LEN);
	in.f.x[0] = a;
	in.f.x[1] = b;
	in.f.x[2] = c;
	return xr_siphash_words(k0, k1, in.w, len);
}

/* The fleet mark of key in the epoch of counter, in bits 31..13. */
XR_COOKIE_INLINE __u32 xr_cookie_mark(__u64 k0, __u64 k1, const __u8 *key,
				      __u32 counter)
{
	__u64 h = xr_cookie_sip(k0, k1, key, counter >> COOKIE_EPOCH_SHIFT,
				COOKIE_MARK_DOMAIN, 0, COOKIE_KEY_LEN + 8);

	return (__u32)(h >> (64 - COOKIE_MARK_BITS)) << COOKIE_MARK_SHIFT;
}

/* The 5 bits that bind the client's ISN, the counter and the MSS index. */
XR_COOKIE_INLINE __u32 xr_cookie_hash(__u64 k0, __u64 k1, const __u8 *key,
				      __u32 client_isn, __u32 counter,
				      __u32 mss_idx)
{
	return (__u32)xr_cookie_sip(k0, k1, key, client_isn, counter, mss_idx,
				    COOKIE_KEY_LEN + 12) &
	       0x1f;
}

/* The index of the largest MSS of the table not above mss (0 if none). */
XR_COOKIE_INLINE __u32 xr_cookie_mss_index(__u32 mss)
{
	const __u16 table[8] = COOKIE_MSS_TABLE;
	__u32 idx = 0, i;

	for (i = 1; i < 8; i++)
		if (table[i] <= mss)
			idx = i;
	return idx;
}

XR_COOKIE_INLINE __u32 xr_cookie_make(__u64 k0, __u64 k1, const __u8 *key,
				      __u32 client_isn, __u32 mss_idx,
				      __u32 counter)
{
	return xr_cookie_mark(k0, k1, key, counter) |
	       xr_cookie_hash(k0, k1, key, client_isn, counter, mss_idx) << 8 |
	       (counter & 0x1f) << 3 | mss_idx;
}

#endif /* XREDIR_SYNCOOKIE_H */
