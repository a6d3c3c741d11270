// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>

#include "proxy.h"

int proxy_parse_trusted(struct proxy_cfg *cfg, const char *list, char *err,
			size_t len)
{
	char item[64];
	const char *p = list;

	if (!*list) {
		snprintf(err, len, "an empty list of trusted proxies");
		return -1;
	}
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		while (n && *p == ' ') { /* "a, b" */
			p++;
			n--;
		}
		while (n && p[n - 1] == ' ')
			n--;
		if (!n || n >= sizeof(item)) {
			snprintf(err, len, "'%s' is not a list of CIDRs", list);
			return -1;
		}
		if (cfg->n_trusted == PROXY_MAX_TRUSTED) {
			snprintf(err, len, "more than %d trusted proxies",
				 PROXY_MAX_TRUSTED);
			return -1;
		}
		memcpy(item, p, n);
		item[n] = 0;
		if (xr_cidr_parse(item, &cfg->trusted[cfg->n_trusted], err,
				  len))
			return -1;
		cfg->n_trusted++;
		p += n + (comma ? 1 : 0);
		if (comma && !*p) {
			snprintf(err, len, "'%s' ends with a comma", list);
			return -1;
		}
	}
	return 0;
}

bool proxy_is_trusted(const struct proxy_cfg *cfg, uint8_t family,
		      const uint8_t *addr)
{
	uint32_t i;

	for (i = 0; i < cfg->n_trusted; i++)
		if (xr_cidr_contains(&cfg->trusted[i], family, addr))
			return true;
	return false;
}

/* One list element: an address, IPv6 optionally in brackets. */
static bool parse_element(const uint8_t *p, uint32_t n, uint8_t *family,
			  uint8_t addr[16])
{
	char buf[64];

	while (n && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n >= 2 && p[0] == '[' && p[n - 1] == ']') {
		p++;
		n -= 2;
	}
	if (!n || n >= sizeof(buf))
		return false;
	memcpy(buf, p, n);
	buf[n] = 0;
	return !xr_addr_parse(buf, family, addr);
}

static bool blank(const uint8_t *p, uint32_t n)
{
	while (n && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	return !n;
}

/*
 * Walks X-Forwarded-For from the right (the last line's last element is
 * the one our proxy added). Each proxy appends the address it received
 * from, so the first one that is not a trusted proxy is the client. An
 * element that is not an address means the list is not what a trusted
 * proxy wrote: believe nothing in it.
 */
static bool from_xff(const struct proxy_cfg *cfg,
		     const struct http_request *req, uint8_t *family,
		     uint8_t addr[16])
{
	bool found = false;
	int line;

	if (req->n_forwarded_for > HTTP_MAX_XFF)
		return false;
	for (line = req->n_forwarded_for - 1; line >= 0; line--) {
		const struct http_span *s = &req->forwarded_for[line];
		uint32_t end = s->len, start;

		for (;;) {
			start = end;
			while (start && s->p[start - 1] != ',')
				start--;
			if (!blank(s->p + start, end - start)) {
				if (!parse_element(s->p + start, end - start,
						   family, addr))
					return false;
				found = true;
				if (!proxy_is_trusted(cfg, *family, addr))
					return true;
			}
			if (!start)
				break;
			end = start - 1;
		}
	}
	return found; /* all trusted: the left-most address */
}

bool proxy_client_addr(const struct proxy_cfg *cfg, uint8_t peer_family,
		       const uint8_t *peer_addr, const struct http_request *req,
		       uint8_t *family, uint8_t addr[16])
{
	if (!cfg->n_trusted || !proxy_is_trusted(cfg, peer_family, peer_addr))
		return false;
	if (cfg->header == PROXY_REAL_IP)
		return req->n_real_ip == 1 &&
		       parse_element(req->real_ip.p, req->real_ip.len, family,
				     addr);
	return from_xff(cfg, req, family, addr);
}
