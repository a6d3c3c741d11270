// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "doc.h"

/* Characters roff reads specially: the escape, and a hyphen that is an
 * option's minus sign (a word that starts with one). */
static void roff_chars(FILE *out, const char *s, size_t n, bool word_start)
{
	bool minus = false;
	size_t i;

	for (i = 0; i < n; i++) {
		minus = s[i] == '-' && (word_start || minus);
		if (s[i] == '\\')
			fputs("\\e", out);
		else if (minus)
			fputs("\\-", out);
		else
			fputc(s[i], out);
		word_start = s[i] == ' ' || s[i] == '(' || s[i] == '|';
	}
}

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

void doc_roff_item(FILE *out, const char *left, const char *text)
{
	const char *p = left;

	fputs(".TP\n", out);
	while (*p) {
		size_t n = 0, i;
		bool upper = false, lower = false;

		while (word_char(p[n]))
			n++;
		if (n == 0 || (n == 1 && *p == '-')) {
			roff_chars(out, p, n ?: 1, true);
			p += n ?: 1;
			continue;
		}
		for (i = 0; i < n; i++) {
			upper |= isupper((unsigned char)p[i]) != 0;
			lower |= islower((unsigned char)p[i]) != 0;
		}
		if (*p != '-' && !upper && !lower) {
			fprintf(out, "%.*s", (int)n, p);
		} else {
			fputs(*p == '-' || !upper ? "\\fB" : "\\fI", out);
			roff_chars(out, p, n, true);
			fputs("\\fR", out);
		}
		p += n;
	}
	fputc('\n', out);
	if (*text == '.' || *text == '\'')
		fputs("\\&", out);
	roff_chars(out, text, strlen(text), true);
	fputc('\n', out);
}

void doc_bash_value(FILE *out, char short_name, const char *name,
		    const char *meta, const char *const *choices)
{
	int i;

	if (short_name)
		fprintf(out, "\t-%c|", short_name);
	else
		fputc('\t', out);
	fprintf(out, "--%s) echo '", name);
	if (choices)
		for (i = 0; choices[i]; i++)
			fprintf(out, "%s%s", i ? " " : "", choices[i]);
	else
		fprintf(out, "@%s", meta);
	fputs("' ;;\n", out);
}
