/* SPDX-License-Identifier: MIT */
/* bodies.h - the writer's side of stored bodies: the bodies rows and the files of large ones
 * (see bodies.c). Writer thread only. Internal to db/store/. */
#ifndef BODIES_H
#define BODIES_H

#include "storeint.h"

/* The bytes of m's body that are stored: at most the store's body limit. */
size_t bodies_stored_len(const struct store *s, const struct flow_msg *m);

/* Writes the body of side (0 request, 1 response) of f in the open transaction: its row, and
 * its files when large. fresh: f's row was just inserted (no older body to replace). A body
 * that can be stored neither in a file nor in SQLite (s->no_room) is stored empty and marked
 * truncated, in f too. Returns an SQLite code. */
int bodies_write(struct store *s, struct flow *f, int side, int fresh);

/* Inserts the fresh bodies rows bodies_write() left waiting for their group; rows_flush()
 * calls it at the same points as its own rows. Returns an SQLite code. */
int bodies_flush(struct store *s);
/* Writes the watermark the batch's groups moved (counts k=2), once per flush rather than once
 * per group: rows_flush() calls it after bodies_flush(), so it is written before the commit
 * and before any other event reads it. Returns an SQLite code. */
int bodies_write_mark(struct store *s);
/* Forgets the waiting rows (a rolled-back batch). */
void bodies_drop_group(struct store *s);
/* Before each batch, and when the store closes: see rows_begin_batch(), rows_free_binds(). */
void bodies_begin_batch(struct store *s);
void bodies_free_binds(struct store *s);

/* Steps a "DELETE ... RETURNING id, ext" over bodies to its end (then resets it), remembering
 * the removed rows' files for bodies_release(). Returns an SQLite code. */
int bodies_run_delete(struct store *s, sqlite3_stmt *st);

/* After a commit: unlinks the files that the batch's rewrites and deletes left unreferenced,
 * and after a clear every file no row claims. Never before the commit: a batch that rolls back
 * still needs them. */
void bodies_release(struct store *s);

/* Unlinks the body files no row refers to (left by a rolled-back batch or a crash). */
void bodies_sweep(struct store *s);

#endif
