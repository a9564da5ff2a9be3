/* SPDX-License-Identifier: MIT */
/* api.h - the REST calls of the web API (design.md, "Web API"), apart from any socket: a
 * request (method, path, query arguments, body) goes in, a reply (status, JSON text, or the
 * recipe for a streamed body) comes out. webui.c does the HTTP and the access checks.
 *
 * Threads: a struct api belongs to the web thread; its store_reader is opened there. A HAR
 * import (POST /api/har) runs on a worker thread of its own: the call returns at once with
 * reply.import set, the worker calls wake() when the answer is ready, and the web thread then
 * picks it up with api_import_poll() and api_import_finish().
 *
 * Read-your-writes: a write call's reply is ready only once the store has what it wrote
 * (api_reply_ready()); until then the web thread holds it back without blocking. A write that
 * goes through the store's queue (delete, clear, rules, a HAR import, a replay's new flow)
 * waits for its write mark (store.h); one the proxy carries out on its own thread (edit,
 * resume, kill of a paused flow) waits for the next committed change of that flow, at most
 * API_WATCH_US.
 *
 * Layout: the types are in api-t.h, the store reader every call shares in apicore.h, and the
 * calls by topic in api*.c (api.c lists them); this header is the web thread's entry, all of
 * it api.c's, which hands each call to its topic's module. */
#ifndef API_H
#define API_H

#include "api-t.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

void api_init(struct api *a, struct store *store, const char *db_path, const char *ca_pem,
	      size_t ca_pem_len);
/* Stops every import (api_import_stop()) and frees everything. */
void api_clear(struct api *a);

/* Answers rq into *out (zeroed first). Always fills a status; errors are {"error": "..."}. */
void api_handle(struct api *a, const struct api_request *rq, struct api_reply *out);
/* Reads up to max bytes of a stored body, starting at offset, into buf. Returns the number of
 * bytes read (0 at the end), or -1 on error. */
ssize_t api_body_read(struct api *a, uint64_t id, int response, int decode, uint64_t offset,
		      char *buf, size_t max);
/* Frees what r owns (body, HAR export), lets go of its watch and cancels its import if that
 * still runs (api_import_poll() frees it later); r is zeroed. */
void api_reply_clear(struct api_reply *r);
/* 1 when r may be sent: the store's writer is done with r->mark and r->watch saw its change or
 * timed out; 0 while it must wait (the web thread is woken by the store's done listener or by
 * api_flow_changed()). Releases the watch once ready. */
int api_reply_ready(struct api *a, struct api_reply *r);
/* What the status line says when the store cannot be written ("Flows are not being stored:
 * ..."), or NULL when it works. Static per-thread text, valid until the next call. Any thread. */
const char *api_store_error(struct api *a);
/* From the store's listener (writer thread): flow id was committed. Returns 1 when a held reply
 * waited for it (wake the web thread), else 0. */
int api_flow_changed(struct api *a, uint64_t id);

/* HAR imports (apihar.c does the work). After a wake: calls ready(arg, owner) (unless ready
 * is NULL) once for each import whose answer is now ready and still wanted, and frees the imports
 * that ended after their reply was cleared. */
void api_import_poll(struct api *a, void (*ready)(void *arg, void *owner), void *arg);
/* 1 when r->import is done: r then holds its answer ({"imported": N, "skipped": M[,
 * "skipped_entries": [...]]}, or 400 {"error"} and nothing imported) and r->import is NULL; 0
 * while it runs. */
int api_import_finish(struct api *a, struct api_reply *r);
/* Cancels every import and waits for their workers (from any thread, once no other thread
 * uses a: the web thread has stopped). Afterwards wake is never called. */
void api_import_stop(struct api *a);

#endif
