// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The pinned target array and its sequence lock (declared in rules.h).
 * Pure memory: the maps are mmapped, so this is unit-tested on an
 * in-memory copy. Writers are serialised by the pin directory's lock, so
 * a writer that finds the sequence odd knows the previous one died
 * half-way and repairs what it left.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "http.h"
#include "target_table.h"

int xr_target_index(const struct xr_target *table, const char *name)
{
	int i;

	for (i = 0; i < XR_MAX_TARGETS; i++)
		if (table[i].name[0] &&
		    !strncmp(table[i].name, name, XR_TARGET_NAME_MAX))
			return i;
	return -1;
}

int xr_target_free_index(const struct xr_target *table)
{
	int i;

	for (i = 1; i < XR_MAX_TARGETS; i++)
		if (!table[i].name[0])
			return i;
	return -1;
}

int xr_target_find(const struct xr_maps *m, const char *name)
{
	return xr_target_index(m->targets, name);
}

int xr_target_free_slot(const struct xr_maps *m)
{
	return xr_target_free_index(m->targets);
}

void xr_target_fill(struct xr_target *t, const char *name, const char *url,
		    size_t n, uint16_t status)
{
	if (n >= sizeof(t->url))
		n = sizeof(t->url) - 1;
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	memcpy(t->url, url, n);
	t->url_len = (uint16_t)n;
	t->status = status;
}

/* A slot as a writer leaves it when done: status is stored last. */
static bool slot_whole(const struct xr_target *t)
{
	struct http_target h;

	return memchr(t->name, 0, sizeof(t->name)) && xr_name_ok(t->name) &&
	       t->url_len < sizeof(t->url) &&
	       !http_target_init(&h, t->url, t->url_len, t->status);
}

/* Empties a slot; its gen moves on, so counts of the target it held are
 * not those of the next. */
static void slot_clear(struct xr_target *t)
{
	uint32_t gen = t->gen + 1;

	memset(t, 0, sizeof(*t));
	t->gen = gen;
}

/* Clears what a dead writer may have torn; returns how many named slots
 * it cleared (an unnamed one with leftovers is just tidied). */
static int clear_torn(struct xr_target *targets)
{
	static const struct xr_target empty;
	int i, n = 0;

	for (i = 0; i < XR_MAX_TARGETS; i++) {
		struct xr_target *t = &targets[i];

		struct xr_target bare = *t;

		bare.gen = 0;
		if (t->name[0] ? slot_whole(t) :
				 !memcmp(&bare, &empty, sizeof(bare)))
			continue;
		n += !!t->name[0];
		slot_clear(t);
	}
	return n;
}

/* Writer side of the sequence lock: odd while the array changes. Found
 * odd, the previous writer died in its write: its slot is cleared. */
static void seq_begin(struct xr_maps *m)
{
	uint32_t s = __atomic_load_n(&m->ctl->targets_seq, __ATOMIC_RELAXED);

	__atomic_store_n(&m->ctl->targets_seq, s | 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (s & 1)
		clear_torn(m->targets);
}

static void seq_end(struct xr_ctl *ctl)
{
	uint32_t s = __atomic_load_n(&ctl->targets_seq, __ATOMIC_RELAXED);

	__atomic_store_n(&ctl->targets_seq, (s | 1) + 1, __ATOMIC_RELEASE);
}

int xr_targets_repair(struct xr_maps *m)
{
	int n;

	if (!(__atomic_load_n(&m->ctl->targets_seq, __ATOMIC_ACQUIRE) & 1))
		return -1;
	n = clear_torn(m->targets);
	seq_end(m->ctl);
	return n;
}

/* Inside the sequence lock. Status last (a release store): a slot with a
 * status is whole, whatever point its writer died at. A slot keeps its
 * gen while it keeps its name. */
static void slot_store(struct xr_target *t, const char *name, const char *url,
		       size_t n, uint16_t status)
{
	uint32_t gen = t->gen;

	if (!t->name[0] || strncmp(t->name, name, sizeof(t->name)))
		gen++;
	xr_target_fill(t, name, url, n, 0);
	t->gen = gen;
	__atomic_store_n(&t->status, status, __ATOMIC_RELEASE);
}

void xr_target_write(struct xr_maps *m, uint32_t idx, const char *name,
		     const char *url, uint16_t status)
{
	seq_begin(m);
	slot_store(&m->targets[idx], name, url, strlen(url), status);
	seq_end(m->ctl);
}

void xr_target_clear(struct xr_maps *m, uint32_t idx)
{
	seq_begin(m);
	slot_clear(&m->targets[idx]);
	seq_end(m->ctl);
}

void xr_targets_store(struct xr_maps *m, const struct xr_target *table)
{
	int i;

	seq_begin(m);
	for (i = 0; i < XR_MAX_TARGETS; i++) {
		struct xr_target t = table[i];

		t.gen = m->targets[i]
				.gen; /* the writer's to move, not the copy's */
		if (!memcmp(&m->targets[i], &t, sizeof(t)))
			continue;
		if (t.name[0])
			slot_store(&m->targets[i], t.name, t.url, t.url_len,
				   t.status);
		else
			slot_clear(&m->targets[i]);
	}
	seq_end(m->ctl);
}

int xr_targets_snapshot(const struct xr_maps *m, struct xr_target *out,
			uint32_t *seq, int tries)
{
	struct timespec pause = { 0, 10000 };
	uint32_t s1, s2;

	while (tries-- > 0) {
		s1 = __atomic_load_n(&m->ctl->targets_seq, __ATOMIC_ACQUIRE);
		if (!(s1 & 1)) {
			memcpy(out, m->targets, XR_MAX_TARGETS * sizeof(*out));
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			s2 = __atomic_load_n(&m->ctl->targets_seq,
					     __ATOMIC_RELAXED);
			if (s1 == s2) {
				*seq = s1;
				return 0;
			}
		}
		if (tries)
			nanosleep(&pause, NULL);
	}
	return -EBUSY;
}

void xr_rule_origin_format(uint32_t origin, char *buf, size_t len)
{
	switch (XR_RULE_MAKER(origin)) {
	case XR_RULE_FROM_FLAG:
		snprintf(buf, len, "flag");
		break;
	case XR_RULE_FROM_CONFIG:
		snprintf(buf, len, "config:%u", XR_RULE_LINE(origin));
		break;
	case XR_RULE_FROM_CTL:
		snprintf(buf, len, "xredirctl");
		break;
	default:
		snprintf(buf, len, "unknown");
	}
}
