/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The client behind a trusted proxy. By default the packet's source is the
 * client. Only when that source is one of the --trust-proxy prefixes is a
 * header believed: X-Forwarded-For (the right-most address that is not
 * itself a trusted proxy) or X-Real-IP.
 */
#ifndef XREDIR_PROXY_H
#define XREDIR_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "cidr.h"
#include "http.h"

#define PROXY_MAX_TRUSTED 32

enum proxy_header { PROXY_XFF, PROXY_REAL_IP };

struct proxy_cfg {
	struct xr_cidr trusted[PROXY_MAX_TRUSTED];
	uint32_t n_trusted;
	enum proxy_header header;
};

/* Parses "CIDR[,CIDR...]" into cfg; err says what is wrong. */
int proxy_parse_trusted(struct proxy_cfg *cfg, const char *list, char *err,
			size_t len);
bool proxy_is_trusted(const struct proxy_cfg *cfg, uint8_t family,
		      const uint8_t *addr);

/*
 * The address to match rules against: the peer's, unless the peer is a
 * trusted proxy whose header names another. Returns true if it came from
 * a header (family/addr filled), false to use the peer address.
 */
bool proxy_client_addr(const struct proxy_cfg *cfg, uint8_t peer_family,
		       const uint8_t *peer_addr, const struct http_request *req,
		       uint8_t *family, uint8_t addr[16]);

#endif /* XREDIR_PROXY_H */
