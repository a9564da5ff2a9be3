/* SPDX-License-Identifier: MIT */
/* positions.h - where a position of a list is (store_list_at(), store.h). Internal to db/store:
 * the cache a reader keeps for it, and what positions.c needs of reader.c. */
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

/* From reader.c: the reader's connection, and its two cache slots (each NULL until first used):
 * [0] for all flows, [1] for the last filter. */
sqlite3 *reader_db(struct store_reader *r);
struct positions **reader_positions(struct store_reader *r); /* an array of 2 */

#endif
