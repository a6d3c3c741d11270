// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the target array's sequence lock (user/control/target_table.c)
 * and a worker's copy of it (targets.c), on an in-memory copy of the pinned
 * maps: a writer that died half-way.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "control_test.h"
#include "target_table.h"
#include "targets.h"
#include "test.h"

static struct xr_ctl mem_ctl;
static struct xr_target mem_targets[XR_MAX_TARGETS];

/* The pinned maps as the target code sees them, in memory. */
static struct xr_maps *mem_maps(void)
{
	static struct xr_maps m;

	memset(&mem_ctl, 0, sizeof(mem_ctl));
	memset(mem_targets, 0, sizeof(mem_targets));
	memset(&m, 0, sizeof(m));
	m.ctl = &mem_ctl;
	m.targets = mem_targets;
	return &m;
}

/* What a cache answers for target idx, as text. */
static const char *cached_url(const struct target_cache *c, uint32_t idx)
{
	static char out[XR_TARGET_URL_MAX + 1];
	const struct http_target *t = target_cache_get(c, idx);

	snprintf(out, sizeof(out), "%.*s", t->url_len, t->url);
	return out;
}

/* A writer killed between the halves of xr_target_write: sequence odd,
 * the slot cleared and half filled. */
static void die_mid_write(struct xr_maps *m, uint32_t idx, const char *name)
{
	m->ctl->targets_seq |= 1;
	memset(&m->targets[idx], 0, sizeof(m->targets[idx]));
	snprintf(m->targets[idx].name, sizeof(m->targets[idx].name), "%s",
		 name);
}

TEST(snapshot_gives_up_on_odd_sequence)
{
	static struct xr_target out[XR_MAX_TARGETS];
	struct xr_maps *m = mem_maps();
	uint32_t seq = 77;

	xr_target_write(m, 0, "default", "https://a.example", 302);
	CHECK_EQ(xr_targets_snapshot(m, out, &seq, 3), 0);
	CHECK_EQ(seq, 2);
	CHECK_STR(out[0].name, "default");
	m->ctl->targets_seq = 3;
	seq = 77;
	CHECK_EQ(xr_targets_snapshot(m, out, &seq, 3), -EBUSY);
	CHECK_EQ(seq, 77);
}

TEST(cache_keeps_last_good_copy_while_odd)
{
	static struct target_cache c;
	struct xr_maps *m = mem_maps();

	memset(&c, 0, sizeof(c));
	xr_target_write(m, 0, "default", "https://a.example", 302);
	xr_target_write(m, 1, "eu", "https://eu.example", 307);
	target_cache_refresh(&c, m);
	CHECK_STR(cached_url(&c, 1), "https://eu.example");
	/* Killed while rewriting eu: readers go on with the old copy. */
	die_mid_write(m, 1, "eu");
	target_cache_refresh(&c, m);
	target_cache_refresh(&c, m);
	CHECK_STR(cached_url(&c, 1), "https://eu.example");
	CHECK_EQ(c.http[1].status, 307);
	CHECK_STR(cached_url(&c, 0), "https://a.example");
	/* The next writer repairs it: the torn slot is gone, the rest new. */
	xr_target_write(m, 0, "default", "https://b.example", 302);
	CHECK_EQ(m->ctl->targets_seq & 1, 0);
	CHECK_EQ(m->targets[1].name[0], 0);
	target_cache_refresh(&c, m);
	CHECK_STR(cached_url(&c, 0), "https://b.example");
	CHECK_STR(cached_url(&c, 1), "https://b.example"); /* the default */
}

TEST(cache_first_copy_on_odd_sequence_is_bounded)
{
	static struct target_cache c;
	struct xr_maps *m = mem_maps();

	memset(&c, 0, sizeof(c));
	xr_target_write(m, 0, "default", "https://a.example", 302);
	die_mid_write(m, 2, "x");
	/* No copy to fall back on: the built-in target, and no hang. */
	target_cache_refresh(&c, m);
	CHECK(c.loaded);
	CHECK_STR(cached_url(&c, 0), "https://k8s.gcr.io");
	CHECK_EQ(xr_targets_repair(m), 1);
	target_cache_refresh(&c, m);
	CHECK_STR(cached_url(&c, 0), "https://a.example");
}

TEST(repair_clears_only_torn_slots)
{
	struct xr_maps *m = mem_maps();
	uint32_t seq;

	CHECK_EQ(xr_targets_repair(m), -1); /* even: nothing to do */
	xr_target_write(m, 0, "default", "https://a.example", 302);
	xr_target_write(m, 1, "eu", "https://eu.example", 307);
	xr_target_write(m, 2, "us", "https://us.example", 301);
	seq = m->ctl->targets_seq;
	/* Died after the URL, before its length and status. */
	die_mid_write(m, 2, "us");
	memcpy(m->targets[2].url, "https://us.example", 18);
	CHECK_EQ(xr_targets_repair(m), 1);
	CHECK_EQ(m->ctl->targets_seq, seq + 2);
	CHECK_STR(m->targets[1].name, "eu");
	CHECK_EQ(m->targets[1].status, 307);
	CHECK_EQ(m->targets[2].name[0], 0);
	CHECK_EQ(m->targets[2].url[0], 0);
	/* Died in the clearing memset: name gone, leftovers tidied, not
	 * counted as torn. */
	m->ctl->targets_seq |= 1;
	m->targets[1].name[0] = 0;
	CHECK_EQ(xr_targets_repair(m), 0);
	CHECK_EQ(m->targets[1].status, 0);
	CHECK_EQ(xr_target_find(m, "eu"), -1);
	CHECK_EQ(xr_target_find(m, "default"), 0);
}

TEST(targets_store_is_one_sequence_step)
{
	static struct xr_target table[XR_MAX_TARGETS];
	struct xr_maps *m = mem_maps();
	int i;

	xr_target_write(m, 0, "default", "https://a.example", 302);
	xr_target_write(m, 3, "old", "https://old.example", 302);
	memcpy(table, mem_targets, sizeof(table));
	memset(&table[3], 0, sizeof(table[3]));
	snprintf(table[1].name, sizeof(table[1].name), "new");
	memcpy(table[1].url, "https://new.example", 19);
	table[1].url_len = 19;
	table[1].status = 308;
	xr_targets_store(m, table);
	CHECK_EQ(m->ctl->targets_seq, 6);
	for (i = 0; i < XR_MAX_TARGETS; i++)
		table[i].gen = mem_targets[i].gen; /* the writer's own */
	CHECK(!memcmp(mem_targets, table, sizeof(table)));
}

/* A slot's gen moves when it is cleared or given another name, by every
 * writer, and not when its target is only changed: counts by target
 * follow the target, not the slot. */
TEST(slot_gen_follows_the_target)
{
	struct xr_maps *m = mem_maps();
	struct xr_target table[XR_MAX_TARGETS];
	uint32_t g;

	xr_target_write(m, 1, "eu", "https://eu.example", 307);
	g = m->targets[1].gen;
	CHECK(g != 0);
	xr_target_write(m, 1, "eu", "https://eu2.example", 302);
	CHECK_EQ(m->targets[1].gen, g);
	xr_target_clear(m, 1);
	CHECK(m->targets[1].gen != g);
	g = m->targets[1].gen;
	xr_target_write(m, 1, "us", "https://us.example", 302);
	CHECK(m->targets[1].gen != g);
	g = m->targets[1].gen;
	/* A whole table stored: the copies' gens are not the slots'. */
	memcpy(table, m->targets, sizeof(table));
	xr_target_fill(&table[1], "us", "https://us2.example", 18, 302);
	xr_targets_store(m, table);
	CHECK_EQ(m->targets[1].gen, g);
	CHECK(!memcmp(m->targets[1].url, "https://us2.example", 18));
	xr_target_fill(&table[1], "ap", "https://ap.example", 17, 302);
	xr_targets_store(m, table);
	CHECK(m->targets[1].gen != g);
	g = m->targets[1].gen;
	memset(&table[1], 0, sizeof(table[1]));
	xr_targets_store(m, table);
	CHECK(!m->targets[1].name[0]);
	CHECK(m->targets[1].gen != g);
}

/* A worker's counts by target start at zero for the next target a slot
 * holds, and go on for the same one. */
TEST(cache_hits_restart_with_the_slot_gen)
{
	static struct target_cache c;
	struct xr_maps *m = mem_maps();

	memset(&c, 0, sizeof(c));
	xr_target_write(m, 0, "default", "https://a.example", 302);
	xr_target_write(m, 1, "eu", "https://eu.example", 307);
	target_cache_refresh(&c, m);
	c.hits[0] = 5;
	c.hits[1] = 1000;
	xr_target_write(m, 1, "eu", "https://eu2.example", 307);
	target_cache_refresh(&c, m);
	CHECK_EQ(c.hits[1], 1000);
	xr_target_clear(m, 1);
	xr_target_write(m, 1, "us", "https://us.example", 302);
	target_cache_refresh(&c, m);
	CHECK_EQ(c.hits[1], 0);
	CHECK_EQ(c.hits[0], 5);
	CHECK_EQ(c.raw[1].gen, m->targets[1].gen);
}
