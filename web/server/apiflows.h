/* SPDX-License-Identifier: MIT */
/* apiflows.h - the API's calls on stored flows (apiflows.c); api.c routes to them. Each fills r
 * (errors as {"error": "..."}). */
#ifndef APIFLOWS_H
#define APIFLOWS_H

#include "api-t.h"

#include <sys/types.h>

/* GET /api/flows: {"flows": [summaries, newest first], "total": N} from rq->before (an id) or,
 * with rq->position, {..., "position": P} from that position; rq->filter applied, rq->limit
 * rows (default 100, at most 10000). 400 for a bad argument; 500/503 carry "store_error" when
 * the store cannot be written. */
void apiflows_list(struct api *a, const struct api_request *rq, struct api_reply *r);
/* DELETE /api/flows: every flow, through the store's queue; answers {"cleared": true}. */
void apiflows_clear(struct api *a, struct api_reply *r);
/* The stored flow id (the caller flow_free()s it), or NULL with r filled in (503, 404). */
struct flow *apiflows_stored(struct api *a, uint64_t id, struct api_reply *r);
/* GET /api/flows/ID: the whole flow (webjson_flow()); 404 for no such flow. */
void apiflows_get(struct api *a, uint64_t id, struct api_reply *r);
/* DELETE /api/flows/ID: through the store's queue; answers {"deleted": ID}, 404 when absent. */
void apiflows_delete(struct api *a, uint64_t id, struct api_reply *r);
/* PATCH /api/flows/ID: the user's notes ({"mark", "comment"}); answers the summary once
 * stored; 400 for a bad document, 404 for no such flow. */
void apiflows_patch_notes(struct api *a, uint64_t id, const struct api_request *rq,
			  struct api_reply *r);
/* GET /api/flows/ID/request/body (response 0) or .../response/body (1), decoded when
 * rq->decode says so: r becomes a streamed answer (r->stream, its length known) read with
 * api_body_read(); 404 for no such flow, 422 for a body that does not decode. */
void apiflows_body(struct api *a, uint64_t id, int response, const struct api_request *rq,
		   struct api_reply *r);
/* api_body_read() (api.h): up to max bytes of flow id's stored body from offset into buf.
 * Returns the number of bytes read (0 at the end), or -1 on error (logged). */
ssize_t apiflows_body_read(struct api *a, uint64_t id, int response, int decode, uint64_t offset,
			   char *buf, size_t max);

#endif
