/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Frames in and out of the engine: parsing a received Ethernet frame into
 * the fields TCP needs (with checksum verification), and building a
 * complete frame (Ethernet, an optional 802.1Q or 802.1ad tag, IPv4/IPv6,
 * TCP, checksums).
 */
#ifndef XREDIR_PACKET_H
#define XREDIR_PACKET_H

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"
#include "xredir_shared.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

#define PKT_TTL XR_TTL
/* Largest headers we build: Ethernet + a tag + IPv6 + TCP with MSS. */
#define PKT_HDR_MAX (14 + 4 + 40 + 24)

enum pkt_error {
	PKT_NOT_OURS = -1, /* not TCP to the service port */
	PKT_MALFORMED = -2, /* truncated or inconsistent headers */
	PKT_BAD_CSUM = -3,
};

struct pkt {
	struct flow_key key; /* saddr/sport: the peer */
	uint8_t peer_mac[6];
	uint8_t our_mac[6];
	uint16_t vlan_tpid; /* the tag's, 802.1Q or 802.1ad; 0: untagged */
	uint16_t vlan_tci;
	uint8_t flags;
	uint16_t win;
	uint16_t mss; /* MSS option, 0: absent */
	uint32_t seq;
	uint32_t ack;
	const uint8_t *payload;
	uint32_t payload_len;
};

/* port and tls_port (0: none) are the service ports. */
int pkt_parse(struct pkt *p, const uint8_t *frame, uint32_t len, uint16_t port,
	      uint16_t tls_port);

/* Addressing of an outgoing segment, from our side. */
struct pkt_route {
	const uint8_t *src_mac, *dst_mac;
	const uint8_t *saddr, *daddr;
	uint16_t sport, dport; /* network order */
	uint16_t vlan_tpid; /* the tag the peer's frames carry, 0: none */
	uint16_t vlan_tci;
	uint8_t family;
};

/* An outgoing segment; payload in up to two pieces (a ring wraps). */
struct pkt_seg {
	uint32_t seq;
	uint32_t ack;
	uint8_t flags;
	uint16_t win;
	uint16_t mss; /* MSS option (SYN-ACK only), 0: none */
	const uint8_t *data[2];
	uint32_t len[2];
};

/* Builds the frame into buf; returns its length. buf must hold
 * PKT_HDR_MAX plus the payload. */
uint32_t pkt_build(uint8_t *buf, const struct pkt_route *r,
		   const struct pkt_seg *s);

/* The route back to the sender of p. */
void pkt_reply_route(const struct pkt *p, struct pkt_route *r);

#endif /* XREDIR_PACKET_H */
