/* SPDX-License-Identifier: MIT */
/* harimport.h - one HAR import (POST /api/har) on a worker thread of its own, so that the web
 * thread goes on serving while a file of up to 256 MiB is checked and stored. The web thread
 * starts it, may cancel it, learns that it is done (the worker's wake, then harimport_done())
 * and takes its answer; api.c keeps the list of running imports.
 *
 * Threads: harimport_start(), harimport_take_answer(), harimport_join() and harimport_free()
 * belong to one thread (the web thread); harimport_cancel() and harimport_done() may be called
 * from any thread. */
#ifndef HARIMPORT_H
#define HARIMPORT_H

#include "store.h"

#include <stddef.h>

struct harimport;

/* Starts a worker that imports data (len bytes, malloc'd; the import owns it from this call
 * on, also when it fails) into store (borrowed; must outlive the import) and, once its answer
 * is set, calls wake(wake_arg) on the worker thread (wake may be NULL). Returns NULL when no
 * thread could be started. */
struct harimport *harimport_start(struct store *store, char *data, size_t len,
				  void (*wake)(void *arg), void *wake_arg);
/* Asks the worker to stop: the flows not yet handed to the store are dropped, those handed
 * over stay. Its answer is set all the same. */
void harimport_cancel(struct harimport *imp);
/* 1 once the answer is set (the worker ends right after), else 0. */
int harimport_done(struct harimport *imp);
/* The answer of a done import: returns its HTTP status and hands over its JSON body in *body
 * (malloc'd, the caller frees; {"imported": N, "skipped": M[, "skipped_entries": [...]]} or {"error": "..."}) and *len.
 * Call once, after harimport_done() said 1. */
int harimport_take_answer(struct harimport *imp, char **body, size_t *len);
/* Waits for the worker to end; returns at once when it was joined before. */
void harimport_join(struct harimport *imp);
/* Joins the worker and frees everything. NULL is a no-op. */
void harimport_free(struct harimport *imp);

#endif
