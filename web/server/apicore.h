/* SPDX-License-Identifier: MIT */
/* apicore.h - what every topic of the REST calls (api*.c) shares besides the types of
 * api-t.h: the web thread's store reader, opened on first use, and the store's write error.
 * The handlers include this, never api.h, so that the router (api.c) sits above them. */
#ifndef APICORE_H
#define APICORE_H

#include "api-t.h"

struct filter;

/* The web thread's store reader (a->reader), opened on first use: NULL (r filled in: 503) when
 * there is no store or it cannot be opened. Owned by a. */
struct store_reader *apicore_reader(struct api *a, struct api_reply *r);
/* apicore_reader(), with rq's filter argument compiled into *filter (NULL when absent; the
 * caller filter_free()s it). NULL (r filled in: 400 for a bad filter) when either fails;
 * nothing to free then. */
struct store_reader *apicore_filtered_reader(struct api *a, const struct api_request *rq,
					     struct api_reply *r, struct filter **filter);
/* What the status line says when the store cannot be written ("Flows are not being stored:
 * ..."), or NULL when it works. Static per-thread text, valid until the next call. Any thread. */
const char *apicore_store_error(struct api *a);
/* GET /api/stats: the store writer's counters (store_stats: stored, dropped, queued, ...) and
 * "error": apicore_store_error()'s text while flows are not being stored, else the store's
 * last error (its file deleted and a fresh one started, a full queue, ...) or null; 503
 * without a store. */
void apicore_stats(struct api *a, struct api_reply *r);

#endif
