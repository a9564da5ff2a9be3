/* SPDX-License-Identifier: MIT */
/* indexer.h - the background trigram indexing of body text, run by the writer thread while it
 * keeps up (see indexer.c). Internal to db/store/. */
#ifndef INDEXER_H
#define INDEXER_H

#include "storeint.h"

#define INDEXER_CHUNK 500 /* bodies indexed per transaction */
/* The indexer waits for the queue to stay empty this long before it runs: under steady load
 * the queue empties after every small batch, and indexing then would put the index's cost
 * (a third to two thirds of the writer's CPU for small text bodies) on the traffic. */
#define INDEXER_IDLE_US 30000
/* While flows keep coming, the indexer waits: it runs only once this many bodies wait, so
 * that a burst of traffic pays for storing its flows and nothing else, and the index catches
 * up when the traffic pauses. Body filters read what waits with their regex (schema.c), so
 * the bound keeps that scan small: about 50 MB of 1 KiB bodies. */
#define INDEXER_BACKLOG_MAX 50000

/* 1 when the indexer puts text t (a body's, as IDX_TEXT in schema.c picks it) in body_fts:
 * not too long, and no NUL near the start (binary); 0 when it lists it in unindexed. */
int indexer_indexable(const char *t, size_t len);

/* Registers on the writer's connection db the SQL function fs_indexable(text) (1 when the
 * indexer puts text in body_fts, 0 when it lists it in unindexed), which ST_IDX_MARK_RANGE
 * uses: before schema_prepare(). Returns an SQLite code. */
int indexer_register(sqlite3 *db);

/* Once the writer's connection is ready: reads the watermark into s->fts_mark, and sets
 * s->index_clean when no body is above it (bodies.c lists binary bodies itself then). */
void indexer_open(struct store *s);

/* One chunk of indexing, in its own transaction: first bodies listed as unchecked (rewritten
 * below the watermark), then bodies above the watermark, which then moves up. Clears
 * s->index_pending when there is nothing left (or on an error: it tries again after the next
 * batch). Writer thread only, without s->mu. */
void indexer_step(struct store *s);

#endif
