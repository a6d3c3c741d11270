// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lockfile.h"
#include "map_mem.h"
#include "rules.h"
#include "tcp.h"

static const char *const map_names[XR_NMAPS] = {
	[XR_RULES4_A] = XR_MAP_RULES4_A, [XR_RULES4_B] = XR_MAP_RULES4_B,
	[XR_RULES6_A] = XR_MAP_RULES6_A, [XR_RULES6_B] = XR_MAP_RULES6_B,
	[XR_CTL] = XR_MAP_CTL,		 [XR_TARGETS] = XR_MAP_TARGETS,
	[XR_COUNTERS] = XR_MAP_COUNTERS, [XR_STATUS] = XR_MAP_STATUS,
	[XR_STATS] = XR_MAP_STATS,	 [XR_VIP4] = XR_MAP_VIP4,
	[XR_VIP6] = XR_MAP_VIP6,
};

int xr_maps_open(struct xr_maps *m, const char *pin_dir)
{
	char path[PATH_MAX];
	int i, err;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < XR_NMAPS; i++)
		m->fd[i] = -1;
	snprintf(m->pin_dir, sizeof(m->pin_dir), "%s", pin_dir);
	for (i = 0; i < XR_NMAPS; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, map_names[i]);
		m->fd[i] = bpf_obj_get(path);
		if (m->fd[i] < 0)
			goto fail;
	}
	m->ctl = xr_map_mmap(m->fd[XR_CTL], sizeof(*m->ctl));
	m->targets = xr_map_mmap(m->fd[XR_TARGETS],
				 XR_MAX_TARGETS * sizeof(*m->targets));
	m->status = xr_map_mmap(m->fd[XR_STATUS], sizeof(*m->status));
	m->stats =
		xr_map_mmap(m->fd[XR_STATS], XR_MAX_QUEUES * sizeof(*m->stats));
	if (m->ctl && m->targets && m->status && m->stats)
		return 0;
fail:
	err = -errno;
	xr_maps_close(m);
	return err ? err : -EINVAL;
}

int xr_ctl_read(const char *pin_dir, void *buf, size_t cap, size_t *len)
{
	struct bpf_map_info info;
	__u32 info_len = sizeof(info), key = 0;
	char path[PATH_MAX];
	int fd, err = 0;

	if (snprintf(path, sizeof(path), "%s/%s", pin_dir, XR_MAP_CTL) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &info_len))
		err = -errno;
	else if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != 4 ||
		 info.value_size > cap)
		err = -EPROTO;
	else if (bpf_map_lookup_elem(fd, &key, buf))
		err = -errno;
	else
		*len = info.value_size;
	close(fd);
	return err;
}

void xr_maps_close(struct xr_maps *m)
{
	int i;

	if (m->ctl)
		munmap(m->ctl, sizeof(*m->ctl));
	if (m->targets)
		munmap(m->targets, XR_MAX_TARGETS * sizeof(*m->targets));
	if (m->status)
		munmap(m->status, sizeof(*m->status));
	if (m->stats)
		munmap(m->stats, XR_MAX_QUEUES * sizeof(*m->stats));
	for (i = 0; i < XR_NMAPS; i++)
		if (m->fd[i] >= 0)
			close(m->fd[i]);
	memset(m, 0, sizeof(*m));
	for (i = 0; i < XR_NMAPS; i++)
		m->fd[i] = -1;
}

int xr_lock(const char *pin_dir, int timeout_ms, char *why, size_t len)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	int fd, waited = 0, err = xr_pin_dir_trusted(pin_dir, why, len);

	if (err)
		return err;
	fd = open(pin_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(why, len, "%s: %s", pin_dir, strerror(-err));
		return err;
	}
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK || waited >= timeout_ms) {
			err = errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
			snprintf(why, len, "%s: %s", pin_dir,
				 err == -ETIMEDOUT ?
					 "locked by another change" :
					 strerror(-err));
			close(fd);
			return err;
		}
		nanosleep(&pause, NULL);
		waited += 10;
	}
	return fd;
}

void xr_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

static uint32_t active_set(const struct xr_maps *m)
{
	return __atomic_load_n(&m->ctl->active_set, __ATOMIC_ACQUIRE) & 1;
}

static int rules_map(const struct xr_maps *m, uint8_t family, uint32_t set)
{
	if (family == 4)
		return m->fd[set ? XR_RULES4_B : XR_RULES4_A];
	return m->fd[set ? XR_RULES6_B : XR_RULES6_A];
}

/* LPM keys: prefix length (host order), then the address bytes. */
static void lpm_key(const struct xr_cidr *c, uint8_t *key)
{
	uint32_t len = c->prefixlen;

	memcpy(key, &len, 4);
	memcpy(key + 4, c->addr, c->family == 4 ? 4 : 16);
}

static void rules_changed(struct xr_maps *m, uint8_t family, int delta)
{
	__atomic_add_fetch(&m->ctl->rules_count[family == 6], delta,
			   __ATOMIC_RELAXED);
	__atomic_add_fetch(&m->ctl->rules_gen, 1, __ATOMIC_RELEASE);
}

int xr_rule_add(struct xr_maps *m, const struct xr_cidr *c, uint32_t target,
		uint32_t origin)
{
	int fd = rules_map(m, c->family, active_set(m));
	struct xr_rule_val val = { target, origin };
	uint8_t key[20];

	lpm_key(c, key);
	/* BPF_EXIST matches the exact prefix only (a lookup would match any
	 * covering one): replacing a rule keeps the count. */
	if (!bpf_map_update_elem(fd, key, &val, BPF_EXIST)) {
		rules_changed(m, c->family, 0);
		return 0;
	}
	if (errno != ENOENT)
		return -errno;
	if (bpf_map_update_elem(fd, key, &val, BPF_NOEXIST))
		return -errno;
	rules_changed(m, c->family, 1);
	return 0;
}

int xr_rule_del(struct xr_maps *m, const struct xr_cidr *c)
{
	uint8_t key[20];

	lpm_key(c, key);
	if (bpf_map_delete_elem(rules_map(m, c->family, active_set(m)), key))
		return -errno;
	rules_changed(m, c->family, -1);
	return 0;
}

uint32_t xr_rule_lookup(const struct xr_maps *m, uint8_t family,
			const uint8_t *addr, bool *matched)
{
	struct xr_rule_val val;
	struct xr_cidr host;
	uint8_t key[20];

	memset(&host, 0, sizeof(host));
	host.family = family;
	host.prefixlen = family == 4 ? 32 : 128;
	memcpy(host.addr, addr, family == 4 ? 4 : 16);
	lpm_key(&host, key);
	*matched = !bpf_map_lookup_elem(rules_map(m, family, active_set(m)),
					key, &val);
	return *matched ? val.target : XR_TARGET_DEFAULT;
}

/* Appends every rule of one trie to *out (grown as needed). */
static int dump_one(int fd, uint8_t family, struct xr_rule **out, int *n,
		    int *cap)
{
	uint8_t key[20], next[20];
	struct xr_rule_val val;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		struct xr_rule *r;
		uint32_t len;

		if (*n == *cap) {
			int c = *cap ? *cap * 2 : 1024;
			struct xr_rule *grown = realloc(*out, c * sizeof(*r));

			if (!grown)
				return -ENOMEM;
			*out = grown;
			*cap = c;
		}
		memcpy(key, next, sizeof(key));
		prev = key;
		if (bpf_map_lookup_elem(fd, key, &val))
			continue; /* deleted meanwhile */
		r = &(*out)[(*n)++];
		memset(r, 0, sizeof(*r));
		memcpy(&len, key, 4);
		r->cidr.family = family;
		r->cidr.prefixlen = (uint8_t)len;
		memcpy(r->cidr.addr, key + 4, family == 4 ? 4 : 16);
		r->target = val.target;
		r->origin = val.origin;
	}
	return errno == ENOENT ? 0 : -errno;
}

int xr_rules_dump(const struct xr_maps *m, struct xr_rule **out)
{
	uint32_t set = active_set(m);
	int n = 0, cap = 0, err;

	*out = NULL;
	err = dump_one(rules_map(m, 4, set), 4, out, &n, &cap);
	if (!err)
		err = dump_one(rules_map(m, 6, set), 6, out, &n, &cap);
	if (err) {
		free(*out);
		*out = NULL;
		return err;
	}
	return n;
}

/* Empties a trie no lookup uses any more. */
static int clear_map(int fd)
{
	uint8_t key[20];

	while (!bpf_map_get_next_key(fd, NULL, key))
		if (bpf_map_delete_elem(fd, key) && errno != ENOENT)
			return -errno;
	return errno == ENOENT ? 0 : -errno;
}

int xr_rules_replace(struct xr_maps *m, const struct xr_rule *rules, uint32_t n)
{
	uint32_t next = active_set(m) ^ 1, count[2] = { 0, 0 }, i;
	uint8_t key[20];
	int err;

	/* The inactive set was last used before the previous swap, long
	 * enough ago that no XDP run still reads it. */
	err = clear_map(rules_map(m, 4, next));
	if (!err)
		err = clear_map(rules_map(m, 6, next));
	for (i = 0; !err && i < n; i++) {
		struct xr_rule_val val = { rules[i].target, rules[i].origin };

		lpm_key(&rules[i].cidr, key);
		if (bpf_map_update_elem(rules_map(m, rules[i].cidr.family,
						  next),
					key, &val, BPF_ANY))
			err = -errno;
		count[rules[i].cidr.family == 6]++;
	}
	if (err)
		return err;
	m->ctl->rules_count[0] = count[0];
	m->ctl->rules_count[1] = count[1];
	__atomic_store_n(&m->ctl->active_set, next, __ATOMIC_RELEASE);
	__atomic_add_fetch(&m->ctl->rules_gen, 1, __ATOMIC_RELEASE);
	return 0;
}

/* Service addresses: one hash map per family, keyed by the address. */

static int vip_map(const struct xr_maps *m, uint8_t family)
{
	return m->fd[family == 4 ? XR_VIP4 : XR_VIP6];
}

int xr_vip_add(struct xr_maps *m, const struct xr_vip *v)
{
	struct xr_vip_val val = { v->origin };

	if (bpf_map_update_elem(vip_map(m, v->family), v->addr, &val,
				BPF_NOEXIST))
		return -errno;
	return 0;
}

int xr_vip_del(struct xr_maps *m, const struct xr_vip *v)
{
	if (bpf_map_delete_elem(vip_map(m, v->family), v->addr))
		return -errno;
	return 0;
}

int xr_vip_get(const struct xr_maps *m, const struct xr_vip *v,
	       uint32_t *origin)
{
	struct xr_vip_val val;

	if (bpf_map_lookup_elem(vip_map(m, v->family), v->addr, &val))
		return -errno;
	*origin = val.origin;
	return 0;
}

static int vip_dump_one(const struct xr_maps *m, uint8_t family,
			struct xr_vip_set *out)
{
	uint8_t key[16] = { 0 }, next[16] = { 0 };
	struct xr_vip_val val;
	struct xr_vip v;
	void *prev = NULL;
	int fd = vip_map(m, family);

	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, sizeof(key));
		prev = key;
		if (bpf_map_lookup_elem(fd, key, &val))
			continue; /* deleted meanwhile */
		memset(&v, 0, sizeof(v));
		v.family = family;
		memcpy(v.addr, key, family == 4 ? 4 : 16);
		v.origin = val.origin;
		if (xr_vip_set_add(out, &v) < 0)
			return -ENOMEM;
	}
	return errno == ENOENT ? 0 : -errno;
}

int xr_vips_dump(const struct xr_maps *m, struct xr_vip_set *out)
{
	int err;

	memset(out, 0, sizeof(*out));
	err = vip_dump_one(m, 4, out);
	if (!err)
		err = vip_dump_one(m, 6, out);
	if (err)
		xr_vip_set_free(out);
	else
		xr_vip_set_sort(out);
	return err;
}

int xr_vips_replace(struct xr_maps *m, const struct xr_vip_set *set)
{
	struct xr_vip_set old;
	uint32_t i;
	int err;

	/* New ones first, then the old ones not kept: an address in both
	 * is never missing meanwhile. */
	for (i = 0; i < set->n; i++) {
		struct xr_vip_val val = { set->v[i].origin };

		if (bpf_map_update_elem(vip_map(m, set->v[i].family),
					set->v[i].addr, &val, BPF_ANY))
			return -errno;
	}
	err = xr_vips_dump(m, &old);
	for (i = 0; !err && i < old.n; i++)
		if (!xr_vip_set_has(set, old.v[i].family, old.v[i].addr) &&
		    bpf_map_delete_elem(vip_map(m, old.v[i].family),
					old.v[i].addr) &&
		    errno != ENOENT)
			err = -errno;
	xr_vip_set_free(&old);
	return err;
}

static const char *const counter_names[] = {
	[XR_CNT_STEERED] = "steered",
	[XR_CNT_PASSED] = "passed",
	[XR_CNT_NO_SOCKET] = "no_socket",
	[XR_CNT_MALFORMED] = "malformed",
	[XR_CNT_DROP_FRAGMENT] = "drop_fragment",
	[XR_CNT_DROP_EXT_HEADER] = "drop_ext_header",
	[XR_CNT_DROP_QINQ] = "drop_qinq",
	[XR_CNT_PASS_FOREIGN_MAC] = "pass_foreign_mac",
	[XR_CNT_PASS_NOT_VIP] = "pass_not_vip",
	[XR_CNT_LAZY_ACK] = "lazy_ack",
	[XR_CNT_LAZY_FIN] = "lazy_fin",
	[XR_CNT_SYNACK] = "synack",
};
_Static_assert(sizeof(counter_names) / sizeof(counter_names[0]) == XR_CNT_MAX,
	       "every XDP counter has a name");

const char *xr_counter_name(enum xr_counter c)
{
	return c < XR_CNT_MAX ? counter_names[c] : "unknown";
}

uint64_t xr_xdp_share(const uint64_t xdp[XR_CNT_MAX], unsigned int idx)
{
	switch (idx) {
	case TCP_STAT_syn_rcvd:
	case TCP_STAT_cookies_sent:
		return xdp[XR_CNT_SYNACK];
	}
	return 0;
}

int xr_counters_read(const struct xr_maps *m, uint64_t out[XR_CNT_MAX])
{
	int ncpu = libbpf_num_possible_cpus(), c;
	uint64_t *vals;
	uint32_t k;

	if (ncpu <= 0)
		return -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (k = 0; k < XR_CNT_MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(m->fd[XR_COUNTERS], &k, vals))
			continue;
		for (c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
	return 0;
}
