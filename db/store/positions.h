/* SPDX-License-Identifier: MIT */
/* positions.h - where a position of a list is (store_list_at(), store.h). Internal to db/store:
 * the cache a reader keeps for it. reader.c holds the cache and calls this; this knows nothing
 * of the reader. */
#ifndef POSITIONS_H
#define POSITIONS_H

#include "store.h"

#include <sqlite3.h>

/* Every POSITIONS_STEP-th matching id is kept: a position is then found by reading at most
 * this many ids from the nearest one. */
#define POSITIONS_STEP 128

struct positions;

/* Frees a reader's cache. NULL is a no-op. */
void positions_free(struct positions *p);

/* store_list_at()'s index work, inside the caller's read transaction on db: brings the cache for
 * filter (NULL: all flows; key its text) up to date in slots (a reader's two, each NULL until
 * first used and then allocated here: [0] for all flows, [1] for the last filter), sets *total
 * to the number of matching flows and *id to the id of the flow at position (0 from the newest),
 * or 0 when position is past the end or want_id is 0. Returns 0, or -1 with err filled (the
 * cache is then forgotten, to be built again). */
int positions_find(sqlite3 *db, struct positions *slots[2], const struct filter *filter,
		   const char *key, uint64_t position, int want_id, uint64_t *id, uint64_t *total,
		   char *err, size_t errlen);

#endif
