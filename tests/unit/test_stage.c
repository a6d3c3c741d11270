// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the staging of a configuration before it is applied
 * (user/control/stage.c): slots kept, dropped targets removed only after,
 * and a stage that fails part-way changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "control_test.h"
#include "stage.h"
#include "target_table.h"
#include "test.h"

static void parse_ok(const char *text, struct xr_config *cfg)
{
	struct cfg_error err = { 0, "" };

	REQUIRE(!xr_config_parse(text, strlen(text), CFG_FULL, cfg, &err));
}

TEST(stage_keeps_slots_and_drops_after)
{
	static struct xr_target live[XR_MAX_TARGETS], saved[XR_MAX_TARGETS],
		table[XR_MAX_TARGETS];
	struct cfg_error err = { 0, "" };
	struct xr_rule *rules;
	struct xr_config cfg;

	xr_target_fill(&live[0], "default", "http://d.test", 13, 302);
	xr_target_fill(&live[1], "a", "http://a.test", 13, 302);
	xr_target_fill(&live[2], "old", "http://old.test", 15, 302);
	memcpy(saved, live, sizeof(saved));
	parse_ok("default http://d2.test\n"
		 "target a http://a2.test\n"
		 "target b http://b.test 307\n"
		 "rule 10.0.0.0/8 b\n"
		 "rule 10.1.0.0/16 a\n",
		 &cfg);
	REQUIRE(!xr_config_stage(live, &cfg, table, &rules, &err));
	CHECK(!memcmp(live, saved, sizeof(live)));
	CHECK_STR(table[0].url, "http://d2.test");
	CHECK_STR(table[1].name, "a");
	CHECK_STR(table[1].url, "http://a2.test");
	CHECK_EQ(table[2].name[0], 0); /* dropped; not reused for b */
	CHECK_STR(table[3].name, "b");
	CHECK_EQ(table[3].status, 307);
	CHECK_EQ(table[3].url_len, 13);
	CHECK_EQ(rules[0].target, 3);
	CHECK_EQ(rules[1].target, 1);
	CHECK_EQ(rules[1].cidr.prefixlen, 16);
	free(rules);
	xr_config_free(&cfg);
}

TEST(stage_failing_part_way_changes_nothing)
{
	static struct xr_target live[XR_MAX_TARGETS], saved[XR_MAX_TARGETS],
		table[XR_MAX_TARGETS];
	struct cfg_error err = { 0, "" };
	struct xr_rule *rules = (struct xr_rule *)1;
	struct xr_config cfg;
	char name[16];
	int i;

	xr_target_fill(&live[0], "default", "http://d.test", 13, 302);
	for (i = 1; i < XR_MAX_TARGETS - 1; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		xr_target_fill(&live[i], name, "http://t.test", 13, 302);
	}
	memcpy(saved, live, sizeof(saved));
	/* One slot free: n1 fits, n2 (line 3) does not. */
	parse_ok("target t1 http://changed.test\n"
		 "target n1 http://n1.test\n"
		 "target n2 http://n2.test\n"
		 "rule 10.0.0.0/8 n1\n",
		 &cfg);
	CHECK_EQ(xr_config_stage(live, &cfg, table, &rules, &err), -1);
	CHECK(!rules);
	CHECK_EQ(err.line, 3);
	CHECK_STR(err.msg, "no free target slot for 'n2' (targets the file "
			   "drops are removed only after its rules are in "
			   "force)");
	CHECK(!memcmp(live, saved, sizeof(live)));
	xr_config_free(&cfg);
}

/* The restart rule's bookkeeping: a rule remembers whether its config line
 * or a flag made it, and a flag that redefines a file's rule takes it. */
TEST(stage_rules_remember_their_origin)
{
	static struct xr_target live[XR_MAX_TARGETS], table[XR_MAX_TARGETS];
	struct cfg_error err = { 0, "" };
	struct xr_cidr flag, ours;
	struct xr_rule *rules;
	struct xr_config cfg;
	char text[32];

	parse_ok("target a http://a.test\n"
		 "\n"
		 "rule 10.0.0.0/8 a\n"
		 "rule 192.0.2.0/24 a\n",
		 &cfg);
	REQUIRE(!xr_cidr_parse("192.0.2.0/24", &ours, text, sizeof(text)));
	REQUIRE(!xr_cidr_parse("198.51.100.7", &flag, text, sizeof(text)));
	REQUIRE(!xr_config_set_target(&cfg, "rewrite", "http://r.test", 302));
	REQUIRE(!xr_config_set_rule(&cfg, &ours, "rewrite"));
	REQUIRE(!xr_config_set_rule(&cfg, &flag, "rewrite"));
	REQUIRE(!xr_config_stage(live, &cfg, table, &rules, &err));
	CHECK_EQ(rules[0].origin, XR_RULE_ORIGIN(XR_RULE_FROM_CONFIG, 3));
	CHECK_EQ(rules[1].origin, XR_RULE_ORIGIN(XR_RULE_FROM_FLAG, 0));
	CHECK_EQ(rules[2].origin, XR_RULE_ORIGIN(XR_RULE_FROM_FLAG, 0));
	xr_rule_origin_format(rules[0].origin, text, sizeof(text));
	CHECK_STR(text, "config:3");
	xr_rule_origin_format(rules[1].origin, text, sizeof(text));
	CHECK_STR(text, "flag");
	xr_rule_origin_format(XR_RULE_ORIGIN(XR_RULE_FROM_CTL, 0), text,
			      sizeof(text));
	CHECK_STR(text, "xredirctl");
	xr_rule_origin_format(0, text, sizeof(text));
	CHECK_STR(text, "unknown");
	free(rules);
	xr_config_free(&cfg);
}
