// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The per-source table (srctable.c) and what counts as a source. */
#include <arpa/inet.h>

#include "test.h"
#include "srctable.h"

static const struct siphash_key key = { 1, 2 };

static struct source_key v4(const char *s)
{
	uint8_t a[16] = { 0 };

	inet_pton(AF_INET, s, a);
	return source_of(4, a);
}

static struct source_key v6(const char *s)
{
	uint8_t a[16];

	inet_pton(AF_INET6, s, a);
	return source_of(6, a);
}

TEST(same_source_same_entry)
{
	struct src_table t;
	struct source_key a = v4("192.0.2.1"), b = v4("192.0.2.2");
	uint32_t ia, ib;

	REQUIRE(!src_table_init(&t, 8, &key));
	ia = src_get(&t, &a);
	ib = src_get(&t, &b);
	CHECK(ia && ib && ia != ib);
	CHECK_EQ(src_get(&t, &a), ia);
	CHECK_EQ(t.count, 2);
	src_table_free(&t);
}

TEST(ipv6_slash_64_is_one_source_and_families_differ)
{
	struct source_key a = v6("2001:db8:1:2::1"),
			  b = v6("2001:db8:1:2:ff::9");
	struct source_key c = v6("2001:db8:1:3::1");
	struct source_key d = v4("32.1.13.184"); /* 2001:0db8 as IPv4 */

	CHECK(source_eq(&a, &b));
	CHECK(!source_eq(&a, &c));
	CHECK(!source_eq(&a, &d));
}

TEST(unused_entries_are_freed_and_reused_table_bounded)
{
	struct src_table t;
	struct source_key k;
	char name[32];
	uint32_t i, idx[4];

	REQUIRE(!src_table_init(&t, 4, &key));
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "198.51.100.%u", i);
		k = v4(name);
		idx[i] = src_get(&t, &k);
		CHECK(idx[i]);
		src_at(&t, idx[i])->flows = 1;
	}
	k = v4("203.0.113.1");
	CHECK_EQ(src_get(&t, &k), SRC_NONE);
	/* An entry still holding a flow stays; a released one goes. */
	src_put_if_unused(&t, idx[1]);
	CHECK_EQ(t.count, 4);
	src_at(&t, idx[1])->flows = 0;
	src_put_if_unused(&t, idx[1]);
	CHECK_EQ(t.count, 3);
	CHECK_EQ(src_get(&t, &k), idx[1]);
	k = v4("198.51.100.2");
	CHECK_EQ(src_get(&t, &k), idx[2]); /* chains intact */
	src_table_free(&t);
}

TEST(heaviest_holder_found_after_it_shrinks)
{
	struct src_table t;
	struct source_key a = v4("192.0.2.1"), b = v4("192.0.2.2");
	struct source_key c = v4("192.0.2.3");
	uint32_t ia, ib, ic, i;

	REQUIRE(!src_table_init(&t, 8, &key));
	ia = src_get(&t, &a);
	ib = src_get(&t, &b);
	ic = src_get(&t, &c);
	src_at(&t, ia)->flows = src_at(&t, ib)->flows = 1;
	src_at(&t, ic)->flows = 1;
	/* Nobody heavy: no victim, and no scan needed to say so. */
	for (i = 0; i < SRC_LIGHT_BUFS - 1; i++)
		src_buf_add(&t, ia, SRC_POOL_SEND);
	CHECK_EQ(t.heavy[SRC_POOL_SEND], 0);
	CHECK_EQ(src_heaviest(&t, SRC_POOL_SEND), SRC_NONE);
	for (i = 0; i < 4; i++)
		src_buf_add(&t, ia, SRC_POOL_SEND);
	for (i = 0; i < 6; i++)
		src_buf_add(&t, ib, SRC_POOL_SEND);
	CHECK_EQ(t.heavy[SRC_POOL_SEND], 2);
	CHECK_EQ(src_heaviest(&t, SRC_POOL_SEND), ia); /* 7 against 6 */
	/* The top shrinks below the second: the second is found. */
	for (i = 0; i < 3; i++)
		src_buf_sub(&t, ia, SRC_POOL_SEND);
	src_buf_add(&t, ic, SRC_POOL_SEND);
	CHECK(src_light(&t, ic, SRC_POOL_SEND) &&
	      !src_light(&t, ia, SRC_POOL_SEND));
	CHECK_EQ(src_heaviest(&t, SRC_POOL_SEND), ib);
	CHECK_EQ(src_heaviest(&t, SRC_POOL_HEAD), SRC_NONE);
	for (i = 0; i < 6; i++)
		src_buf_sub(&t, ib, SRC_POOL_SEND);
	CHECK_EQ(t.heavy[SRC_POOL_SEND], 1); /* a, with 4 */
	src_table_free(&t);
}
