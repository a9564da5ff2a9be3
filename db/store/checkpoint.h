/* SPDX-License-Identifier: MIT */
/* checkpoint.h - the store's checkpointer thread: copies the WAL back into the database on a
 * connection of its own, so that the writer thread only appends to the WAL. */
#ifndef CHECKPOINT_H
#define CHECKPOINT_H

#include "storeint.h"

/* WAL bytes (frames times the page size) after which the writer asks for a checkpoint
 * (SQLite's default auto-checkpoint point, 1,000 pages of 4 KiB). In bytes, so that a store
 * with larger pages checkpoints as often. */
#define CHECKPOINT_BYTES (1000 * 4096)
/* WAL bytes after which the writer checkpoints itself after its commit, when the
 * checkpointer has not kept up (a writer that never pauses: a checkpoint that runs beside
 * it can never see the WAL wholly copied at the start of the writer's next transaction, so
 * the WAL would only grow). */
#define CHECKPOINT_BYTES_MAX (4000 * 4096)

/* Starts the checkpointer of s (s->ckpt_* initialized here). Returns 0, or -1 when the thread
 * could not start: the writer then checkpoints in its own thread (checkpoint_wal_hook()). */
int checkpoint_start(struct store *s);

/* Stops and joins the checkpointer and closes its connection. Safe when it never started. */
void checkpoint_stop(struct store *s);

/* Installs on the writer's connection db the WAL hook that asks for checkpoints (it replaces
 * SQLite's auto-checkpoint). Call after each (re)open. */
void checkpoint_wal_hook(struct store *s, sqlite3 *db);

#endif
