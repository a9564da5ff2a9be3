/* SPDX-License-Identifier: MIT */
/* reader.h - what the other files of db/store/ may take of a reader (reader.c) beyond store.h's
 * contract. Internal to db/store. */
#ifndef READER_H
#define READER_H

#include "store.h"

#include <sqlite3.h>

/* The read-only connection of r (borrowed from r), for a caller's own statements on it. */
sqlite3 *reader_db(struct store_reader *r);

#endif
