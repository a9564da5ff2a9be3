/* SPDX-License-Identifier: MIT */
/* harwalk.h - the streaming walker of a HAR import: reads a HAR document without loading it
 * whole into jansson, one entry at a time, and checks that all of it is JSON. Internal to db/. */
#ifndef HARWALK_H
#define HARWALK_H

#include "harctx.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>

/* Called with each element of log.entries, in order (borrowed: freed after the call), while
 * the walker's harctx has .entry set to its 1-based number. Returns 0, or -1 to refuse it
 * with the error set in that harctx (harctx_fail()). */
typedef int (*harwalk_entry_fn)(void *arg, json_t *entry);

/* Walks the document data of len bytes (UTF-8 with or without a BOM; data is borrowed and may
 * be NULL only when len is 0): hands each entry of log.entries to fn, until fn refuses one,
 * and checks every other value as JSON. cancel (NULL: never), once non-zero, stops the walk
 * between values with "cancelled". Returns 0 when the document is a HAR and fn took every
 * entry, else -1 with the error in c: the first of not JSON ("not JSON: line L column C:
 * what"), not a HAR ("log missing or not an object", "log appears twice", a UTF-16 file, ...),
 * "cancelled", and the entry fn refused. */
int harwalk_doc(const char *data, size_t len, const atomic_int *cancel, harwalk_entry_fn fn,
		void *arg, struct harctx *c);

#endif
