// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "rules.h"

static int open_pin(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bpf_obj_get(path);
}

int xr_maps_open(struct xr_maps *m, const char *pin_dir)
{
	int err;

	memset(m, 0, sizeof(*m));
	m->owned = true;
	m->rules4[0] = open_pin(pin_dir, XR_MAP_RULES4_A);
	m->rules4[1] = open_pin(pin_dir, XR_MAP_RULES4_B);
	m->rules6[0] = open_pin(pin_dir, XR_MAP_RULES6_A);
	m->rules6[1] = open_pin(pin_dir, XR_MAP_RULES6_B);
	m->ctl_fd = open_pin(pin_dir, XR_MAP_CTL);
	m->targets_fd = open_pin(pin_dir, XR_MAP_TARGETS);
	m->counters_fd = open_pin(pin_dir, XR_MAP_COUNTERS);
	if (m->rules4[0] < 0 || m->rules4[1] < 0 || m->rules6[0] < 0 ||
	    m->rules6[1] < 0 || m->ctl_fd < 0 || m->targets_fd < 0 ||
	    m->counters_fd < 0) {
		err = -errno;
		xr_maps_close(m);
		return err;
	}
	m->ctl = mmap(NULL, sizeof(*m->ctl), PROT_READ | PROT_WRITE, MAP_SHARED,
		      m->ctl_fd, 0);
	m->targets = mmap(NULL, XR_MAX_TARGETS * sizeof(*m->targets),
			  PROT_READ | PROT_WRITE, MAP_SHARED, m->targets_fd, 0);
	if (m->ctl == MAP_FAILED || m->targets == MAP_FAILED) {
		err = -errno;
		xr_maps_close(m);
		return err;
	}
	return 0;
}

void xr_maps_close(struct xr_maps *m)
{
	int i;

	if (m->ctl && m->ctl != MAP_FAILED)
		munmap(m->ctl, sizeof(*m->ctl));
	if (m->targets && m->targets != MAP_FAILED)
		munmap(m->targets, XR_MAX_TARGETS * sizeof(*m->targets));
	if (m->owned) {
		for (i = 0; i < 2; i++) {
			if (m->rules4[i] > 0)
				close(m->rules4[i]);
			if (m->rules6[i] > 0)
				close(m->rules6[i]);
		}
		if (m->ctl_fd > 0)
			close(m->ctl_fd);
		if (m->targets_fd > 0)
			close(m->targets_fd);
		if (m->counters_fd > 0)
			close(m->counters_fd);
	}
	memset(m, 0, sizeof(*m));
}

static int parse_prefix(const char *s, int max, int *out)
{
	char *end;
	long v;

	if (!*s || *s == '+' || *s == '-')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

int xr_cidr_parse(const char *s, struct xr_cidr *out, char *err, size_t len)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	int prefix, max, i, bits;
	struct xr_cidr c;

	memset(&c, 0, sizeof(c));
	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, len, "'%s' is not an IP address or CIDR", s);
		return -1;
	}
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	if (inet_pton(AF_INET, buf, c.addr) == 1) {
		c.family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c.addr) == 1) {
		c.family = 6;
		max = 128;
	} else {
		snprintf(err, len, "'%s' is not an IP address or CIDR", s);
		return -1;
	}
	prefix = max;
	if (slash && parse_prefix(slash + 1, max, &prefix)) {
		snprintf(err, len, "'%s': prefix length must be 0..%d", s, max);
		return -1;
	}
	c.prefixlen = (uint8_t)prefix;
	for (i = 0; i < max / 8; i++) {
		bits = prefix - i * 8;
		if (bits >= 8)
			continue;
		if (c.addr[i] & (uint8_t)(bits <= 0 ? 0xff : 0xff >> bits)) {
			struct xr_cidr net = c;
			char fixed[INET6_ADDRSTRLEN + 8];
			int j;

			for (j = i; j < max / 8; j++) {
				bits = prefix - j * 8;
				net.addr[j] &=
					(uint8_t)(bits <= 0 ?
							  0 :
							  0xff << (8 - bits));
			}
			xr_cidr_format(&net, fixed, sizeof(fixed));
			snprintf(
				err, len,
				"'%s' has host bits set below /%d (did you mean %s?)",
				s, prefix, fixed);
			return -1;
		}
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

int xr_target_find(const struct xr_maps *m, const char *name)
{
	int i;

	for (i = 0; i < XR_MAX_TARGETS; i++)
		if (m->targets[i].name[0] &&
		    !strncmp(m->targets[i].name, name, XR_TARGET_NAME_MAX))
			return i;
	return -1;
}

/* Writer side of the targets sequence lock (writers are serialised). */
static void seq_begin(struct xr_ctl *ctl)
{
	uint32_t s = __atomic_load_n(&ctl->targets_seq, __ATOMIC_RELAXED);

	__atomic_store_n(&ctl->targets_seq, s | 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void seq_end(struct xr_ctl *ctl)
{
	uint32_t s = __atomic_load_n(&ctl->targets_seq, __ATOMIC_RELAXED);

	__atomic_store_n(&ctl->targets_seq, (s | 1) + 1, __ATOMIC_RELEASE);
}

void xr_target_write(struct xr_maps *m, uint32_t idx, const char *name,
		     const char *url, uint16_t status)
{
	struct xr_target *t = &m->targets[idx];
	size_t n = strlen(url);

	seq_begin(m->ctl);
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	memcpy(t->url, url, n < sizeof(t->url) ? n : sizeof(t->url));
	t->url_len = (uint16_t)(n < sizeof(t->url) ? n : sizeof(t->url));
	t->status = status;
	seq_end(m->ctl);
}

void xr_target_clear(struct xr_maps *m, uint32_t idx)
{
	seq_begin(m->ctl);
	memset(&m->targets[idx], 0, sizeof(m->targets[idx]));
	seq_end(m->ctl);
}

uint32_t xr_targets_snapshot(const struct xr_maps *m, struct xr_target *out)
{
	uint32_t s1, s2;

	for (;;) {
		s1 = __atomic_load_n(&m->ctl->targets_seq, __ATOMIC_ACQUIRE);
		if (s1 & 1) {
			usleep(10);
			continue;
		}
		memcpy(out, m->targets, XR_MAX_TARGETS * sizeof(*out));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&m->ctl->targets_seq, __ATOMIC_RELAXED);
		if (s1 == s2)
			return s1;
	}
}

static int active_map(const struct xr_maps *m, uint8_t family)
{
	uint32_t set = __atomic_load_n(&m->ctl->active_set, __ATOMIC_ACQUIRE);

	return family == 4 ? m->rules4[set & 1] : m->rules6[set & 1];
}

/* LPM keys: prefix length, then the address bytes. */
static size_t lpm_key(uint8_t family, uint32_t prefixlen, const uint8_t *addr,
		      uint8_t *key)
{
	size_t alen = family == 4 ? 4 : 16;

	memcpy(key, &prefixlen, 4);
	memcpy(key + 4, addr, alen);
	return 4 + alen;
}

static void bump_gen(struct xr_maps *m)
{
	__atomic_add_fetch(&m->ctl->rules_gen, 1, __ATOMIC_RELEASE);
}

int xr_rule_add(struct xr_maps *m, const struct xr_cidr *c, uint32_t target)
{
	struct xr_rule_val val = { target };
	uint8_t key[20];

	lpm_key(c->family, c->prefixlen, c->addr, key);
	if (bpf_map_update_elem(active_map(m, c->family), key, &val, BPF_ANY))
		return -errno;
	bump_gen(m);
	return 0;
}

int xr_rule_del(struct xr_maps *m, const struct xr_cidr *c)
{
	uint8_t key[20];

	lpm_key(c->family, c->prefixlen, c->addr, key);
	if (bpf_map_delete_elem(active_map(m, c->family), key))
		return -errno;
	bump_gen(m);
	return 0;
}

uint32_t xr_rule_lookup(const struct xr_maps *m, uint8_t family,
			const uint8_t *addr, bool *matched)
{
	struct xr_rule_val val;
	uint8_t key[20];

	lpm_key(family, family == 4 ? 32 : 128, addr, key);
	*matched = !bpf_map_lookup_elem(active_map(m, family), key, &val);
	return *matched ? val.target : XR_TARGET_DEFAULT;
}
