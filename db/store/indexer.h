/* SPDX-License-Identifier: MIT */
/* indexer.h - the background trigram indexing of body text, run by the writer thread while it
 * keeps up (see indexer.c). Internal to db/store/. */
#ifndef INDEXER_H
#define INDEXER_H

#include "storeint.h"

#define INDEXER_CHUNK 500 /* bodies indexed per transaction */
/* The indexer waits for this long an empty queue, or for INDEXER_CHUNK bodies, before it runs:
 * under steady load the queue empties after every small batch, and a chunk of a few bodies
 * costs almost as much as a full one (a transaction, a commit, an FTS5 segment). */
#define INDEXER_IDLE_US 30000

/* One chunk of indexing, in its own transaction: first bodies listed as unchecked (rewritten
 * below the watermark), then bodies above the watermark, which then moves up. Clears
 * s->index_pending when there is nothing left (or on an error: it tries again after the next
 * batch). Writer thread only, without s->mu. */
void indexer_step(struct store *s);

#endif
