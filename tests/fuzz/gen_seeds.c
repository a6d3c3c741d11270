// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Writes the fuzzers' seed corpora: every HTTP corpus entry (whole, and
 * split into small chunks) for fuzz_http, each entry under its own limits
 * for fuzz_http_fast, and a few complete connections for fuzz_engine. Run by hand when the corpus changes:
 *   gen_seeds tests/fuzz/corpus
 */
#include <stdio.h>
#include <string.h>

#include "http_corpus.h"

static int write_file(const char *dir, const char *name, const void *p,
		      size_t n, int split)
{
	char path[512];
	unsigned char s = (unsigned char)split;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	fwrite(&s, 1, 1, f);
	fwrite(p, 1, n, f);
	return fclose(f);
}

/*
 * Engine seeds: op < 200 is a crafted segment (see fuzz_engine.c):
 * conn, flags, mode, then fields. mode 1|2: sequence and ACK relative to
 * what the engine expects; 8: a canned request; 32: advance our seq.
 */
static int engine_seeds(const char *dir)
{
	static const unsigned char connect_get_fin[] = {
		0, 0, 0x02, 0x21, 0, 0, 0xff, 0, /* SYN */
		0, 0, 0x10, 0x23, 0, 0, 0xff, 0, /* ACK */
		0, 0, 0x18, 0x2b, 0, 0, 0xff, 0, 0, 1, /* GET / */
		0, 0, 0x11, 0x23, 0, 0, 0xff, 0, /* FIN */
		0, 0, 0x10, 0x23, 0, 0, 0xff, 0, /* ACK of ours */
	};
	static const unsigned char connect_close_timers[] = {
		0,    1,    0x02, 0x21, 0,    0,    0xff, 0, 0,
		1,    0x10, 0x23, 0,	0,    0xff, 0,	  0, 1,
		0x18, 0x2b, 0,	  0,	0xff, 2,    0,	  1, /* HEAD, close */
		230,  10,   231,  70, /* timers */
	};
	char path[512];
	FILE *f;
	int i;
	const struct {
		const char *name;
		const unsigned char *p;
		size_t n;
	} seeds[] = {
		{ "connect_get_fin", connect_get_fin, sizeof(connect_get_fin) },
		{ "connect_close_timers", connect_close_timers,
		  sizeof(connect_close_timers) },
	};

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, seeds[i].name);
		f = fopen(path, "wb");
		if (!f)
			return -1;
		fwrite(seeds[i].p, 1, seeds[i].n, f);
		fclose(f);
	}
	return 0;
}

int main(int argc, char **argv)
{
	char dir[400], name[300];
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds CORPUS_DIR\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/http", argv[1]);
	for (i = 0; i < HTTP_CORPUS_LEN; i++) {
		const struct http_corpus_entry *e = &http_corpus[i];

		if (e->len > 4096)
			continue; /* the fuzzer finds long ones by itself */
		snprintf(name, sizeof(name), "%s", e->name);
		if (write_file(dir, name, e->raw, e->len, 0))
			return 1;
		snprintf(name, sizeof(name), "%s.split7", e->name);
		if (write_file(dir, name, e->raw, e->len, 7))
			return 1;
	}
	snprintf(dir, sizeof(dir), "%s/http_fast", argv[1]);
	for (i = 0; i < HTTP_CORPUS_LEN; i++) {
		const struct http_corpus_entry *e = &http_corpus[i];

		if (e->len <= 4096 &&
		    write_file(dir, e->name, e->raw, e->len, (int)e->limits))
			return 1;
	}
	snprintf(dir, sizeof(dir), "%s/engine", argv[1]);
	return engine_seeds(dir) ? 1 : 0;
}
