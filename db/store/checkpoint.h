/* SPDX-License-Identifier: MIT */
/* checkpoint.h - the store's checkpointer thread: copies the WAL back into the database on a
 * connection of its own, so that the writer thread only appends to the WAL. */
#ifndef CHECKPOINT_H
#define CHECKPOINT_H

#include "storeint.h"

#include <sys/types.h>

/* WAL bytes (frames times the page size) after which the writer asks for a checkpoint
 * (SQLite's default auto-checkpoint point, 1,000 pages of 4 KiB). In bytes, so that a store
 * with larger pages checkpoints as often. */
#define CHECKPOINT_BYTES (1000 * 4096)
/* WAL bytes after which the writer checkpoints itself after its commit, when the
 * checkpointer has not kept up (a writer that never pauses: a checkpoint that runs beside
 * it can never see the WAL wholly copied at the start of the writer's next transaction, so
 * the WAL would only grow). */
#define CHECKPOINT_BYTES_MAX (4000 * 4096)

/* Past the newest CHECKPOINT_CACHE_KEEP bytes of the database file, the pages the checkpoints
 * appended leave the kernel's page cache once (checkpoint_drop_aged()): a store that only grows
 * would otherwise grow the page cache by every flow it records, and new page-cache pages are
 * what its copies cost most (README, session 14: on this project's VM, the checkpointer's CPU
 * per request tripled once the store passed 1 GB). Pages a reader brings back stay: only what
 * ages out while the proxy writes is dropped, and only once. */
#define CHECKPOINT_CACHE_KEEP ((off_t)256 << 20)

/* fd (the database file, any descriptor) is size bytes long; *upto: where the last drop
 * ended, -1 before the first (which only starts counting). Drops from the page cache the clean
 * pages of [*upto, size - keep) and moves *upto there; a file that shrank (cleared and
 * vacuumed, or replaced) starts over. Returns the bytes dropped. */
off_t checkpoint_drop_aged(int fd, off_t size, off_t keep, off_t *upto);

/* Starts the checkpointer of s (s->ckpt_* initialized here). Returns 0, or -1 when the thread
 * could not start: the writer then checkpoints in its own thread (checkpoint_wal_hook()). */
int checkpoint_start(struct store *s);

/* Stops and joins the checkpointer and closes its connection. Safe when it never started. */
void checkpoint_stop(struct store *s);

/* Installs on the writer's connection db the WAL hook that asks for checkpoints (it replaces
 * SQLite's auto-checkpoint). Call after each (re)open. */
void checkpoint_wal_hook(struct store *s, sqlite3 *db);

#endif
