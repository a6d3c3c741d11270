// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cidr.h"
#include "vip.h"

bool xr_vip_is_any(const char *s)
{
	return !strcasecmp(s, "any");
}

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

int xr_vip_parse(const char *s, struct xr_vip *out, char *err, size_t len)
{
	memset(out, 0, sizeof(*out));
	if (strchr(s, '/')) {
		snprintf(err, len,
			 "'%.60s': a service address is one address, no "
			 "prefix",
			 s);
		return -1;
	}
	if (strlen(s) >= INET6_ADDRSTRLEN ||
	    xr_addr_parse(s, &out->family, out->addr)) {
		snprintf(err, len,
			 "'%.60s' is not an IPv4 or IPv6 address (or 'any')",
			 s);
		return -1;
	}
	if (all_zero(out->addr, out->family == 4 ? 4 : 16) ||
	    (out->family == 4 && out->addr[0] >= 224) ||
	    (out->family == 6 && out->addr[0] == 0xff)) {
		snprintf(err, len,
			 "'%s' is not a unicast address: no client connects "
			 "to it",
			 s);
		return -1;
	}
	return 0;
}

void xr_vip_format(const struct xr_vip *v, char *out, size_t len)
{
	char buf[INET6_ADDRSTRLEN];

	if (!inet_ntop(v->family == 4 ? AF_INET : AF_INET6, v->addr, buf,
		       sizeof(buf)))
		snprintf(buf, sizeof(buf), "?");
	snprintf(out, len, "%s", buf);
}

const char *xr_vip_origin_name(uint32_t origin)
{
	switch (origin) {
	case XR_VIP_FROM_IFACE:
		return "iface";
	case XR_VIP_FROM_FLAG:
		return "flag";
	case XR_VIP_FROM_CTL:
		return "xredirctl";
	case XR_VIP_FROM_CONFIG:
		return "config";
	}
	return "unknown";
}

bool xr_vip_set_has(const struct xr_vip_set *s, uint8_t family,
		    const uint8_t *addr)
{
	uint32_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].family == family &&
		    !memcmp(s->v[i].addr, addr, family == 4 ? 4 : 16))
			return true;
	return false;
}

int xr_vip_set_add(struct xr_vip_set *s, const struct xr_vip *v)
{
	if (xr_vip_set_has(s, v->family, v->addr))
		return 0;
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 16;
		struct xr_vip *grown = realloc(s->v, cap * sizeof(*grown));

		if (!grown)
			return -1;
		s->v = grown;
		s->cap = cap;
	}
	s->v[s->n] = *v;
	/* Bytes past an IPv4 address are zero: keys compare whole. */
	if (v->family == 4)
		memset(s->v[s->n].addr + 4, 0, 12);
	s->n++;
	return 1;
}

static int cmp_vip(const void *a, const void *b)
{
	const struct xr_vip *x = a, *y = b;

	if (x->family != y->family)
		return x->family - y->family;
	return memcmp(x->addr, y->addr, 16);
}

void xr_vip_set_sort(struct xr_vip_set *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_vip);
}

void xr_vip_set_free(struct xr_vip_set *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}
