/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * SYNs answered in XDP (--xdp-synack). With SYN cookies a SYN-ACK is a
 * function of the SYN alone, so the XDP program can send it back (XDP_TX)
 * and the worker is not woken for the SYN at all: one wake-up less per
 * connection, and a SYN flood never reaches the queue the clients'
 * requests wait in. The reply is the engine's reply_synack() byte for byte
 * (the bpf test holds it to the engine itself): the cookie of
 * syncookie.h, MSS option alone, our window, DF, TTL XR_TTL. Only the
 * plain case is answered here: a bare SYN (no ACK, RST or FIN, no data),
 * IPv4 without options or IPv6 without extension headers, valid
 * checksums, no open connection on its slot of the live table (live.h),
 * while the daemon has switched it on. Everything else goes to the worker
 * as before, which gives the same answer or the one that needs state.
 */
#ifndef XREDIR_SYNACK_H
#define XREDIR_SYNACK_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "live.h"
#include "maps.h"
#include "syncookie.h"
#include "xredir_shared.h"

#define SYN_FLAGS_MASK 0x17 /* FIN, SYN, RST, ACK */
#define SYN_ONLY 0x02
#define SYN_TCP_MAX 60 /* a TCP header with 40 bytes of options */
#define SYNACK_TCP_LEN 24 /* with the MSS option */
#define SYNACK_MAX (18 + 40 + SYNACK_TCP_LEN)

/* What synack() needs of a frame parse_frame() took as a bare SYN. */
struct syn_frame {
	__u8 family; /* 4 or 6 */
	__u8 vlan; /* one tag, 802.1Q or 802.1ad */
	__u16 l3_off, l4_off;
	__u8 key[COOKIE_KEY_LEN]; /* the engine's struct flow_key */
};

static __always_inline __u16 csum_fold64(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* The sum of n 16-bit words at p, as stored (ones' complement sums are
 * byte-order blind: stored back as they came, they are right). */
static __always_inline __u64 sum_words(const __u8 *p, __u32 n)
{
	__u64 sum = 0;
	__u16 w;
	__u32 i;

	for (i = 0; i < n; i++) {
		__builtin_memcpy(&w, p + 2 * i, 2);
		sum += w;
	}
	return sum;
}

/* The pseudo-header's sum: the addresses as the key holds them (the
 * client's first), protocol and TCP length. */
static __always_inline __u64 pseudo_sum(const struct syn_frame *s, __u32 len)
{
	__u32 words = s->family == 4 ? 2 : 8;

	return sum_words(s->key, words) +
	       sum_words(s->key + COOKIE_KEY_DADDR, words) +
	       bpf_htons(IPPROTO_TCP) + bpf_htons((__u16)len);
}

/* The MSS option's value, as the engine's parse_mss() reads it: anything
 * malformed ends the walk (0: none). tcp has room past its 60 bytes: the
 * offset is masked below 64 where the verifier can see it (clang would
 * fold a plain mask: hence the asm), which keeps the reads in bounds. */
static __always_inline __u16 syn_mss(const __u8 *tcp, __u32 hlen)
{
	__u32 len = hlen - 20, i = 0, n;
	const __u8 *opt = tcp + 20;
	__u8 kind, olen;

	for (n = 0; n < 40; n++) {
		if (i >= len)
			break;
		asm volatile("%0 &= %1" : "+r"(i) : "i"(63));
		kind = opt[i];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		olen = opt[i + 1];
		if (i + 1 >= len || olen < 2 || i + olen > len)
			break;
		if (kind == 2 && olen == 4)
			return (__u16)(opt[i + 2] << 8 | opt[i + 3]);
		i += olen;
	}
	return 0;
}

static __always_inline void put16(__u8 *p, __u16 v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

static __always_inline void put32(__u8 *p, __u32 v)
{
	put16(p, (__u16)(v >> 16));
	put16(p + 2, (__u16)v);
}

/*
 * Answers a bare SYN in place: XR_CNT_SYNACK when the frame is now the
 * SYN-ACK to send back, 0 when the worker is to have it (the frame
 * untouched), another counter when it is to be dropped.
 */
static __always_inline __u32 synack(struct xdp_md *ctx,
				    const struct syn_frame *s)
{
	struct xr_synack_scratch *sc;
	struct xr_synack_conf *conf;
	__u8 *tcp, *l3, *out;
	__u32 key = 0, tag, slot, hlen, isn, idx, ours, peer, len, l4;
	__u16 c, sport, dport;
	__u64 *live;

	conf = bpf_map_lookup_elem(&xr_synack, &key);
	if (!conf || !conf->on)
		return 0;
	__builtin_memcpy(&sport, s->key + COOKIE_KEY_SPORT, 2);
	__builtin_memcpy(&dport, s->key + COOKIE_KEY_DPORT, 2);
	tag = xr_conn_tag(s->key, s->key + COOKIE_KEY_DADDR, sport, dport);
	slot = xr_live_slot(tag, conf->live_mask);
	live = bpf_map_lookup_elem(&xr_live, &slot);
	if (!live || *live)
		return 0;
	sc = bpf_map_lookup_elem(&xr_synack_scratch, &key);
	if (!sc)
		return 0;
	tcp = sc->tcp;
	l3 = sc->l3;
	out = sc->out;
	__builtin_memset(tcp, 0, sizeof(sc->tcp));

	/* The checksums, as the engine's parser checks them (IPv6 has no
	 * header checksum). */
	if (s->family == 4 && (bpf_xdp_load_bytes(ctx, s->l3_off, l3, 20) ||
			       csum_fold64(sum_words(l3, 10)) != 0xffff))
		return 0;
	if (bpf_xdp_load_bytes(ctx, s->l4_off, tcp, 20))
		return 0;
	hlen = (tcp[12] >> 4) * 4;
	if (hlen < 20 || hlen > SYN_TCP_MAX)
		return 0;
	if (hlen > 20) {
		len = hlen - 20;
		/* 1..40, in a form the verifier sees (clang would fold a
		 * plain mask: hence the asm). */
		len -= 1;
		asm volatile("%0 &= %1" : "+r"(len) : "i"(63));
		if (len > 39)
			return 0;
		len += 1;
		if (bpf_xdp_load_bytes(ctx, s->l4_off + 20, tcp + 20, len))
			return 0;
	}
	if (csum_fold64(pseudo_sum(s, hlen) +
			sum_words(tcp, SYN_TCP_MAX / 2)) != 0xffff)
		return 0;

	ours = s->family == 4 ? conf->mss4 : conf->mss6;
	peer = syn_mss(tcp, hlen);
	if (!peer)
		peer = XR_PEER_MSS(s->family);
	idx = xr_cookie_mss_index(peer < ours ? peer : ours);
	isn = (__u32)tcp[4] << 24 | (__u32)tcp[5] << 16 | (__u32)tcp[6] << 8 |
	      tcp[7];

	/* The engine's frame: MACs and addresses swapped, the tag kept. */
	__builtin_memset(out, 0, sizeof(sc->out));
	if (bpf_xdp_load_bytes(ctx, 0, out + 6, 6) ||
	    bpf_xdp_load_bytes(ctx, 6, out, 6))
		return 0;
	l4 = 14;
	if (s->vlan) {
		if (bpf_xdp_load_bytes(ctx, 12, out + 12, 4))
			return 0;
		l4 = 18;
	}
	if (s->family == 4) {
		put16(out + l4 - 2, ETH_P_IP);
		out[l4] = 0x45;
		put16(out + l4 + 2, 20 + SYNACK_TCP_LEN);
		out[l4 + 6] = 0x40; /* DF */
		out[l4 + 8] = XR_TTL;
		out[l4 + 9] = IPPROTO_TCP;
		__builtin_memcpy(out + l4 + 12, s->key + COOKIE_KEY_DADDR, 4);
		__builtin_memcpy(out + l4 + 16, s->key, 4);
		c = ~csum_fold64(sum_words(out + l4, 10));
		__builtin_memcpy(out + l4 + 10, &c, 2);
		l4 += 20;
	} else {
		put16(out + l4 - 2, ETH_P_IPV6);
		out[l4] = 0x60;
		put16(out + l4 + 4, SYNACK_TCP_LEN);
		out[l4 + 6] = IPPROTO_TCP;
		out[l4 + 7] = XR_TTL;
		__builtin_memcpy(out + l4 + 8, s->key + COOKIE_KEY_DADDR, 16);
		__builtin_memcpy(out + l4 + 24, s->key, 16);
		l4 += 40;
	}
	__builtin_memcpy(out + l4, s->key + COOKIE_KEY_DPORT, 2);
	__builtin_memcpy(out + l4 + 2, s->key + COOKIE_KEY_SPORT, 2);
	put32(out + l4 + 4, xr_cookie_make(conf->secret[0], conf->secret[1],
					   s->key, isn, idx, conf->counter));
	put32(out + l4 + 8, isn + 1);
	out[l4 + 12] = SYNACK_TCP_LEN << 2;
	out[l4 + 13] = 0x12; /* SYN, ACK */
	put16(out + l4 + 14, conf->window);
	out[l4 + 20] = 2; /* MSS */
	out[l4 + 21] = 4;
	put16(out + l4 + 22, (__u16)ours);
	c = ~csum_fold64(pseudo_sum(s, SYNACK_TCP_LEN) +
			 sum_words(out + l4, SYNACK_TCP_LEN / 2));
	__builtin_memcpy(out + l4 + 16, &c, 2);

	len = l4 + SYNACK_TCP_LEN;
	if (len > SYNACK_MAX || len < 14 + 20 + SYNACK_TCP_LEN ||
	    bpf_xdp_adjust_tail(ctx, (int)len - (int)bpf_xdp_get_buff_len(ctx)))
		return 0;
	if (bpf_xdp_store_bytes(ctx, 0, out, len))
		return XR_CNT_MALFORMED; /* cut already: cannot go on */
	return XR_CNT_SYNACK;
}

#endif /* XREDIR_SYNACK_H */
