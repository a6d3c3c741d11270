/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The programs' --doc output: their flag and command tables as roff items
 * for the man pages (doc/man/NAME.8.in) and as word lists for the bash
 * completion (doc/completion/NAME.bash), so that the reference is written
 * once, in the tables, and the Makefile assembles the files from it.
 *
 * The completion's word lists are shell: for a program P,
 *   P_value FLAG   prints the words a value of FLAG completes to: its
 *                  choices, or "@META" (@FILE, @DIR, @IFACE, ...); fails
 *                  for a flag that takes no value.
 */
#ifndef XREDIR_DOC_H
#define XREDIR_DOC_H

#include <stdio.h>

/* ".TP", the synopsis LEFT (flags and command words bold, metavariables
 * italic), then TEXT, escaped for roff. */
void doc_roff_item(FILE *out, const char *left, const char *text);
/* One case branch of P_value: "-i|--iface) echo '@IFACE' ;;". */
void doc_bash_value(FILE *out, char short_name, const char *name,
		    const char *meta, const char *const *choices);

#endif /* XREDIR_DOC_H */
