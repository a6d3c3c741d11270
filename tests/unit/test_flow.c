// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the flow table (flow.h): limits, exact lookups, chains,
 * untouched pages of a big table, and random operations against a simple
 * reference model driven by a seeded pseudo-random generator.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "flow.h"
#include "rng.h"
#include "test.h"

static void rnd_key(struct flow_key *k)
{
	memset(k, 0, sizeof(*k));
	if (rnd() & 1) {
		k->family = 6;
		rnd_fill(k->saddr, 16);
		rnd_fill(k->daddr, 16);
	} else {
		k->family = 4;
		rnd_fill(k->saddr, 4);
		rnd_fill(k->daddr, 4);
	}
	k->sport = (uint16_t)rnd();
	k->dport = htons(80);
}

static struct flow *ft_insert(struct flow_table *ft, const struct flow_key *k)
{
	return flow_insert(ft, k, flow_hash(ft, k));
}

static struct flow *ft_lookup(struct flow_table *ft, const struct flow_key *k)
{
	return flow_lookup(ft, k, flow_hash(ft, k));
}

/* Deletes the entry holding k; false (and nothing done) if none does. */
static bool ft_remove(struct flow_table *ft, const struct flow_key *k)
{
	struct flow *f = ft_lookup(ft, k);

	if (f)
		flow_delete(ft, f);
	return f != NULL;
}

/* True if f is a zeroed entry except for its key. */
static bool flow_is_fresh(const struct flow *f, const struct flow_key *k)
{
	struct flow z;

	memset(&z, 0, sizeof(z));
	z.key = *k;
	z.hnext = f->hnext;
	return !memcmp(&z, f, sizeof(z));
}

TEST(flow_init_limits)
{
	struct flow_table ft;
	struct flow_key k;

	CHECK(flow_table_init(&ft, 0, 1) != 0);
	CHECK(flow_table_init(&ft, 1u << 30, 1) != 0);
	REQUIRE(flow_table_init(&ft, 1, 1) == 0);
	rng_seed(5);
	rnd_key(&k);
	CHECK(ft_lookup(&ft, &k) == NULL);
	CHECK(ft_insert(&ft, &k) == flow_at(&ft, 1));
	CHECK(ft_lookup(&ft, &k) == flow_at(&ft, 1));
	k.sport ^= 1;
	CHECK(ft_insert(&ft, &k) == NULL);
	CHECK_EQ(ft.count, 1);
	flow_table_free(&ft);
	CHECK(ft.flows == NULL);
}

TEST(flow_insert_until_full)
{
	enum { MAX = 100 };
	struct flow_table ft;
	struct flow_key keys[MAX + 1];
	bool seen[MAX + 1] = { false };
	uint32_t i;

	REQUIRE(flow_table_init(&ft, MAX, 0x1234) == 0);
	rng_seed(6);
	for (i = 0; i <= MAX; i++)
		rnd_key(&keys[i]);
	for (i = 0; i < MAX; i++) {
		struct flow *f = ft_insert(&ft, &keys[i]);
		uint32_t idx;

		REQUIRE(f != NULL);
		idx = flow_index(&ft, f);
		CHECK(idx >= 1 && idx <= MAX);
		if (idx >= 1 && idx <= MAX) {
			CHECK(!seen[idx]);
			seen[idx] = true;
		}
		CHECK(flow_is_fresh(f, &keys[i]));
		CHECK_EQ(ft.count, i + 1);
		f->target = i + 1000; /* a tag, checked below */
	}
	CHECK(ft_insert(&ft, &keys[MAX]) == NULL);
	CHECK(ft_insert(&ft, &keys[MAX]) == NULL);
	CHECK_EQ(ft.count, MAX);
	for (i = 0; i < MAX; i++) {
		struct flow *f = ft_lookup(&ft, &keys[i]);

		REQUIRE(f != NULL);
		CHECK_MEM(&f->key, &keys[i], sizeof(keys[i]));
		CHECK_EQ(f->target, i + 1000);
	}
	CHECK(ft_lookup(&ft, &keys[MAX]) == NULL);
	/* One delete makes room for exactly one more. */
	CHECK(ft_remove(&ft, &keys[7]));
	CHECK_EQ(ft.count, MAX - 1);
	CHECK(ft_insert(&ft, &keys[MAX]) != NULL);
	CHECK(ft_insert(&ft, &keys[7]) == NULL);
	CHECK_EQ(ft.count, MAX);
	flow_table_free(&ft);
}

TEST(flow_lookup_exact_not_near_miss)
{
	enum { N = 50 };
	struct flow_table ft;
	struct flow_key keys[N], k;
	struct flow *slots[N];
	int i, found_wrong = 0;
	size_t byte;

	REQUIRE(flow_table_init(&ft, 64, 99) == 0);
	rng_seed(7);
	for (i = 0; i < N; i++) {
		rnd_key(&keys[i]);
		slots[i] = ft_insert(&ft, &keys[i]);
		REQUIRE(slots[i] != NULL);
	}
	for (i = 0; i < N; i++) {
		CHECK(ft_lookup(&ft, &keys[i]) == slots[i]);
		/* One byte different anywhere, pad included: no match. */
		for (byte = 0; byte < sizeof(k); byte++) {
			k = keys[i];
			((uint8_t *)&k)[byte] ^= 0x01;
			if (ft_lookup(&ft, &k))
				found_wrong++;
			k = keys[i];
			((uint8_t *)&k)[byte] ^= 0x80;
			if (ft_lookup(&ft, &k))
				found_wrong++;
		}
		/* Even looked up in the right bucket. */
		k = keys[i];
		k.dport ^= 0x0100;
		if (flow_lookup(&ft, &k, flow_hash(&ft, &keys[i])))
			found_wrong++;
	}
	CHECK_EQ(found_wrong, 0);
	flow_table_free(&ft);
}

TEST(flow_delete_reinsert_reuses)
{
	struct flow_table ft;
	struct flow_key keys[20], fresh;
	struct flow *f;
	uint32_t idx[20], i;

	REQUIRE(flow_table_init(&ft, 20, 7) == 0);
	rng_seed(8);
	for (i = 0; i < 20; i++) {
		rnd_key(&keys[i]);
		f = ft_insert(&ft, &keys[i]);
		REQUIRE(f != NULL);
		idx[i] = flow_index(&ft, f);
		CHECK_EQ(idx[i], i + 1); /* fresh entries in order */
		memset(&f->snd_una, 0x5a, 16); /* dirty it */
	}
	/* Delete three; they come back last-deleted first, zeroed. */
	CHECK(ft_remove(&ft, &keys[3]));
	CHECK(ft_remove(&ft, &keys[11]));
	CHECK(ft_remove(&ft, &keys[19]));
	CHECK_EQ(ft.count, 17);
	CHECK(ft_lookup(&ft, &keys[3]) == NULL);
	CHECK(ft_lookup(&ft, &keys[11]) == NULL);
	CHECK(ft_lookup(&ft, &keys[19]) == NULL);
	rnd_key(&fresh);
	f = ft_insert(&ft, &fresh);
	REQUIRE(f != NULL);
	CHECK_EQ(flow_index(&ft, f), idx[19]);
	CHECK(flow_is_fresh(f, &fresh));
	f = ft_insert(&ft, &keys[3]);
	REQUIRE(f != NULL);
	CHECK_EQ(flow_index(&ft, f), idx[11]);
	CHECK(flow_is_fresh(f, &keys[3]));
	f = ft_insert(&ft, &keys[11]);
	REQUIRE(f != NULL);
	CHECK_EQ(flow_index(&ft, f), idx[3]);
	CHECK(ft_insert(&ft, &keys[19]) == NULL);
	CHECK_EQ(ft.count, 20);
	CHECK(ft_lookup(&ft, &fresh) == flow_at(&ft, idx[19]));
	for (i = 0; i < 19; i++)
		CHECK(ft_lookup(&ft, &keys[i]) != NULL);
	/* Empty it completely and fill it again. */
	for (i = 0; i < 19; i++)
		CHECK(ft_remove(&ft, &keys[i]));
	CHECK(ft_remove(&ft, &fresh));
	CHECK_EQ(ft.count, 0);
	for (i = 0; i < 20; i++)
		CHECK(ft_insert(&ft, &keys[i]) != NULL);
	CHECK_EQ(ft.count, 20);
	CHECK(ft_insert(&ft, &fresh) == NULL);
	flow_table_free(&ft);
}

/* Many keys in one bucket; deletes at the head, middle and tail. */
TEST(flow_chain_collisions)
{
	enum { CHAIN = 12 };
	struct flow_table ft;
	struct flow_key chain[CHAIN], other[20], k;
	bool gone[CHAIN] = { false };
	int n = 0, i, j, tries = 0;
	static const int order[CHAIN] = { 5, 0, 11, 6, 1, 10, 3, 8, 2, 9, 4, 7 };

	REQUIRE(flow_table_init(&ft, 64, 0xabcdef) == 0);
	REQUIRE(ft.mask == 63);
	rng_seed(9);
	while (n < CHAIN && tries++ < 100000) {
		rnd_key(&k);
		if ((flow_hash(&ft, &k) & ft.mask) == 17)
			chain[n++] = k;
	}
	REQUIRE(n == CHAIN);
	for (i = 0; i < 20; i++) {
		do
			rnd_key(&other[i]);
		while ((flow_hash(&ft, &other[i]) & ft.mask) == 17);
	}
	/* Interleave chain keys with others. */
	for (i = 0; i < CHAIN; i++) {
		REQUIRE(ft_insert(&ft, &chain[i]) != NULL);
		REQUIRE(ft_insert(&ft, &other[i]) != NULL);
	}
	for (i = 0; i < CHAIN; i++) {
		struct flow *f = ft_lookup(&ft, &chain[i]);

		REQUIRE(f != NULL);
		CHECK_MEM(&f->key, &chain[i], sizeof(k));
	}
	/* Delete in an order hitting head, middle and tail positions. */
	for (i = 0; i < CHAIN; i++) {
		struct flow *f = ft_lookup(&ft, &chain[order[i]]);

		REQUIRE(f != NULL);
		flow_delete(&ft, f);
		gone[order[i]] = true;
		for (j = 0; j < CHAIN; j++) {
			f = ft_lookup(&ft, &chain[j]);
			CHECK(gone[j] ? f == NULL :
					f != NULL && !memcmp(&f->key, &chain[j],
							     sizeof(k)));
		}
		for (j = 0; j < CHAIN; j++)
			CHECK(ft_lookup(&ft, &other[j]) != NULL);
		CHECK_EQ(ft.count, 2 * CHAIN - 1 - i);
	}
	CHECK_EQ(ft.buckets[17], FLOW_NONE);
	/* Reinsert all; a middle one deleted again. */
	for (i = 0; i < CHAIN; i++)
		REQUIRE(ft_insert(&ft, &chain[i]) != NULL);
	CHECK(ft_remove(&ft, &chain[CHAIN / 2]));
	for (i = 0; i < CHAIN; i++)
		CHECK((ft_lookup(&ft, &chain[i]) == NULL) == (i == CHAIN / 2));
	flow_table_free(&ft);
}

/* Resident pages in [p, p + len) (p page-aligned). */
static size_t resident_pages(void *p, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = (len + page - 1) / page, i, r = 0;
	unsigned char *vec = malloc(n);

	if (!vec || mincore(p, len, vec))
		abort();
	for (i = 0; i < n; i++)
		r += vec[i] & 1;
	free(vec);
	return r;
}

/*
 * A big table costs only what is used: entries never handed out stay
 * untouched, so their pages never become resident. The first 4 MiB (two
 * huge pages, should transparent huge pages back the mapping) hold the
 * entries in use; nothing past them may be resident.
 */
TEST(flow_big_table_untouched)
{
	const size_t head = 4u << 20;
	struct flow_table ft;
	struct flow_key k;
	size_t bytes = ((size_t)(1u << 20) + 1) * sizeof(struct flow);
	uint8_t *tail;
	uint32_t i;

	REQUIRE(flow_table_init(&ft, 1u << 20, 3) == 0);
	REQUIRE(1002 * sizeof(struct flow) < head && bytes > 2 * head);
	tail = (uint8_t *)ft.flows + head;
	CHECK_EQ(resident_pages(ft.flows, bytes), 0);
	rng_seed(10);
	rnd_key(&k);
	REQUIRE(ft_insert(&ft, &k) == flow_at(&ft, 1));
	CHECK(ft_lookup(&ft, &k) == flow_at(&ft, 1));
	CHECK_EQ(resident_pages(tail, bytes - head), 0);
	for (i = 0; i < 1000; i++) {
		rnd_key(&k);
		REQUIRE(ft_insert(&ft, &k) != NULL);
	}
	CHECK_EQ(ft.count, 1001);
	CHECK_EQ(resident_pages(tail, bytes - head), 0);
	/* Deleting and reinserting reuses entries: no growth. */
	for (i = 0; i < 100000; i++) {
		struct flow *f = ft_lookup(&ft, &k);

		REQUIRE(f != NULL);
		flow_delete(&ft, f);
		k.sport++;
		REQUIRE(ft_insert(&ft, &k) != NULL);
	}
	CHECK(ft.fresh <= 1002);
	CHECK_EQ(resident_pages(tail, bytes - head), 0);
	flow_table_free(&ft);
}

/* Random operations against a reference: key i -> entry index (0: none). */
static void flow_random_run(uint32_t max, uint32_t npool, uint64_t seed,
			    int ops)
{
	struct flow_table ft;
	struct flow_key *pool = calloc(npool, sizeof(*pool));
	uint32_t *ref = calloc(npool, sizeof(*ref));
	int32_t *owner = malloc(((size_t)max + 1) * sizeof(*owner));
	uint32_t i, j, count = 0;
	int op, bad = 0;

	if (!pool || !ref || !owner)
		abort();
	REQUIRE(flow_table_init(&ft, max, seed) == 0);
	for (i = 0; i <= max; i++)
		owner[i] = -1;
	rng_seed(seed);
	/* Unique keys; a third are near misses of earlier ones. */
	for (i = 0; i < npool; i++) {
		bool dup;

		do {
			if (i > 0 && rnd_below(3) == 0) {
				pool[i] = pool[rnd_below(i)];
				((uint8_t *)&pool[i])[rnd_below(37)] ^=
					(uint8_t)(1 << rnd_below(8));
			} else {
				rnd_key(&pool[i]);
			}
			dup = false;
			for (j = 0; j < i && !dup; j++)
				dup = !memcmp(&pool[i], &pool[j],
					      sizeof(pool[i]));
		} while (dup);
	}
	for (op = 0; op < ops; op++) {
		uint32_t r = rnd_below(100), k = rnd_below(npool);
		struct flow *f = ft_lookup(&ft, &pool[k]);

		if ((f ? flow_index(&ft, f) : 0) != ref[k]) {
			bad++;
			continue;
		}
		if (r < 45 && !ref[k]) {
			f = ft_insert(&ft, &pool[k]);
			if (count == max) {
				if (f)
					bad++;
				continue;
			}
			if (!f) {
				bad++;
				continue;
			}
			j = flow_index(&ft, f);
			if (j < 1 || j > max || owner[j] != -1 ||
			    !flow_is_fresh(f, &pool[k])) {
				bad++;
				continue;
			}
			f->target = k;
			f->snd_nxt = ~k;
			owner[j] = (int32_t)k;
			ref[k] = j;
			count++;
		} else if (r < 85 && ref[k]) {
			if (f->target != k || f->snd_nxt != ~k)
				bad++;
			flow_delete(&ft, f);
			owner[ref[k]] = -1;
			ref[k] = 0;
			count--;
		}
		if (ft.count != count)
			bad++;
		if (op % 4096 == 0) {
			for (i = 0; i < npool; i++) {
				f = ft_lookup(&ft, &pool[i]);
				if ((f ? flow_index(&ft, f) : 0) != ref[i] ||
				    (f && f->target != i))
					bad++;
			}
		}
	}
	if (bad)
		fprintf(stderr, "max %u pool %u: %d mismatches\n", max, npool,
			bad);
	CHECK_EQ(bad, 0);
	flow_table_free(&ft);
	free(pool);
	free(ref);
	free(owner);
}

TEST(flow_random_vs_reference)
{
	flow_random_run(1000, 3000, 11, 100000);
	flow_random_run(16, 40, 12, 100000);
	flow_random_run(1, 3, 13, 10000);
	flow_random_run(100, 101, 14, 100000);
}
