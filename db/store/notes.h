/* SPDX-License-Identifier: MIT */
/* notes.h - the user's notes on a flow (mark, comment), written by the writer thread. */
#ifndef NOTES_H
#define NOTES_H

#include "storeint.h"

/* Writes f->mark and f->comment (NULL: "") to the stored flow f->id; *changed = 1 when there
 * was such a flow. Returns an SQLite result code. Writer thread only. */
int notes_write(struct store *s, const struct flow *f, int *changed /* OUT */);

#endif
