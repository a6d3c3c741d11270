// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

struct cidr_slot {
	struct xr_cidr key;
	uint32_t value;
	bool used;
};

static int parse_prefix(const char *s, int max, int *out)
{
	char *end;
	long v;

	if (!*s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

int xr_addr_parse(const char *s, uint8_t *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = 6;
		return 0;
	}
	return -1;
}

static void mask_addr(uint8_t *addr, int prefix, int max)
{
	int i;

	for (i = prefix; i < max; i++)
		addr[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
}

int xr_cidr_parse(const char *s, struct xr_cidr *out, char *err, size_t len)
{
	char buf[64], *slash, fixed[64];
	struct xr_cidr c, net;
	int prefix, max;

	memset(&c, 0, sizeof(c));
	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, len, "'%.40s...' is not an IP address or CIDR",
			 s);
		return -1;
	}
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	if (xr_addr_parse(buf, &c.family, c.addr)) {
		snprintf(err, len, "'%s' is not an IP address or CIDR", s);
		return -1;
	}
	max = c.family == 4 ? 32 : 128;
	prefix = max;
	if (slash && parse_prefix(slash + 1, max, &prefix)) {
		snprintf(err, len, "'%s': the prefix length must be 0..%d", s,
			 max);
		return -1;
	}
	c.prefixlen = (uint8_t)prefix;
	net = c;
	mask_addr(net.addr, prefix, max);
	if (memcmp(net.addr, c.addr, sizeof(c.addr))) {
		xr_cidr_format(&net, fixed, sizeof(fixed));
		snprintf(err, len,
			 "'%s' has host bits set below /%d (did you mean %s?)",
			 s, prefix, fixed);
		return -1;
	}
	*out = c;
	return 0;
}

void xr_cidr_format(const struct xr_cidr *c, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, a, sizeof(a));
	snprintf(out, len, "%s/%u", a, c->prefixlen);
}

bool xr_cidr_contains(const struct xr_cidr *c, uint8_t family,
		      const uint8_t *addr)
{
	uint8_t masked[16] = { 0 };

	if (c->family != family)
		return false;
	memcpy(masked, addr, family == 4 ? 4 : 16);
	mask_addr(masked, c->prefixlen, family == 4 ? 32 : 128);
	return !memcmp(masked, c->addr, 16);
}

static uint32_t cidr_hash(const struct xr_cidr *c)
{
	uint32_t h = 2166136261u;
	size_t i;

	/* FNV-1a over family, length and address. */
	for (i = 0; i < sizeof(*c); i++)
		h = (h ^ ((const uint8_t *)c)[i]) * 16777619u;
	return h;
}

int cidr_table_init(struct cidr_table *t, uint32_t expected)
{
	uint32_t n = 64;

	memset(t, 0, sizeof(*t));
	while (n < expected * 2)
		n <<= 1;
	t->slots = calloc(n, sizeof(*t->slots));
	if (!t->slots)
		return -1;
	t->mask = n - 1;
	return 0;
}

void cidr_table_free(struct cidr_table *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static struct cidr_slot *find(const struct cidr_table *t,
			      const struct xr_cidr *c)
{
	uint32_t i = cidr_hash(c) & t->mask;

	while (t->slots[i].used && memcmp(&t->slots[i].key, c, sizeof(*c)))
		i = (i + 1) & t->mask;
	return &t->slots[i];
}

int cidr_table_add(struct cidr_table *t, const struct xr_cidr *c,
		   uint32_t value)
{
	struct cidr_slot *s;

	if ((t->count + 1) * 2 > t->mask + 1)
		return -1; /* sized by init: never more than half full */
	s = find(t, c);
	if (!s->used)
		t->count++;
	s->key = *c;
	s->value = value;
	s->used = true;
	t->has_len[c->family == 6][c->prefixlen] = 1;
	return 0;
}

bool cidr_table_lookup(const struct cidr_table *t, uint8_t family,
		       const uint8_t *addr, struct xr_cidr *match,
		       uint32_t *value)
{
	int max = family == 4 ? 32 : 128, len;
	struct xr_cidr c;

	for (len = max; len >= 0; len--) {
		const struct cidr_slot *s;

		if (!t->has_len[family == 6][len])
			continue;
		memset(&c, 0, sizeof(c));
		c.family = family;
		c.prefixlen = (uint8_t)len;
		memcpy(c.addr, addr, family == 4 ? 4 : 16);
		mask_addr(c.addr, len, max);
		s = find(t, &c);
		if (s->used) {
			if (match)
				*match = s->key;
			if (value)
				*value = s->value;
			return true;
		}
	}
	return false;
}
