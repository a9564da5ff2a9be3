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
 * API_WATCH_US. */
#ifndef API_H
#define API_H

#include "control.h"
#include "flow.h"
#include "store.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct api_import;
struct filter;

#define API_WATCHES 32	     /* paused-flow calls waiting at once; more are answered at once */
#define API_WATCH_US 2000000 /* how long such a call waits for its flow's change */

/* A paused-flow call waiting for its flow's next committed change. id is written by the web
 * thread (0: free), hit by the store's writer thread (api_flow_changed()). */
struct api_watch {
	_Atomic uint64_t id;
	atomic_int hit;
};

struct api {
	struct store *store;	     /* borrowed */
	char *db_path;		     /* owned */
	struct store_reader *reader; /* owned; opened on first use, on the web thread */
	const char *ca_pem;	     /* borrowed; NULL when there is none */
	size_t ca_pem_len;
	char *rules; /* owned; the rules last PUT (JSON), NULL: read the store */
	char *options; /* owned; the options last PUT (JSON), NULL: read the store */
	const struct web_control *control; /* borrowed; NULL: replay/intercept calls answer 501 */
	/* Called on an import's worker thread when its answer is ready (lws_cancel_service()
	 * for the web server); NULL: none, the caller polls. Set before the first call. */
	void (*wake)(void *arg);
	void *wake_arg;
	struct api_import *imports; /* owned; every import not yet freed (web thread only) */
	struct eventlog *log;	    /* borrowed; NULL: GET /api/log answers an empty log */
	struct api_watch watches[API_WATCHES]; /* id 0: free */
};

struct api_request {
	const char *method; /* "GET", "PUT", ... */
	const char *path;   /* "/api/flows/12" */
	const char *filter; /* query arguments, NULL when absent */
	const char *limit;
	const char *before;
	const char *position; /* GET /api/flows: rows from this position on (store_list_at()) */
	const char *decode;
	const char *type; /* a stored body's: an image type to serve it as (preview), or NULL */
	const char *after; /* WebSocket messages: the index to list from (exclusive) */
	const char *body; /* the request body, NULL when none */
	size_t body_len;
	/* NULL, or where the caller keeps body (malloc'd): a call that uses the body after it
	 * returns (a HAR import) takes it from there and leaves NULL */
	char **take_body;
	void *owner; /* opaque: what api_import_poll() hands back when this call's import ends */
};

struct api_reply {
	int status;
	const char *content_type; /* static string */
	char *body;		  /* owned; the whole answer unless stream is set */
	size_t len;
	/* stream != 0: the answer is a stored body of stream_len bytes, to be read piecewise with
	 * api_body_read(); body is NULL then */
	int stream;
	uint64_t id;
	int response;
	int decode;
	uint64_t stream_len;
	char disposition[96]; /* Content-Disposition for streamed bodies */
	/* har != NULL: the answer is a HAR document of unknown length, pulled piece by piece
	 * with har_export_next() (sent chunked); body is NULL then */
	struct har_export *har; /* owned */
	/* import != NULL: a HAR import running on its worker; status and body are not known
	 * yet: api_import_finish() fills them in once it is done. api_reply_clear() before that
	 * cancels it (what was handed to the store so far stays). */
	struct api_import *import; /* borrowed from api.imports */
	/* What the reply waits for (api_reply_ready()): the store's write mark (0: none), and a
	 * paused flow's change (watch NULL: none) until watch_until (util_mono_us() time). */
	uint64_t mark;
	struct api_watch *watch; /* borrowed from api.watches; released by api_reply_clear() */
	int64_t watch_until;
};

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

/* The web thread's store reader, opened on first use: NULL (r filled in: 503) when there is no
 * store or it cannot be opened. Owned by a. For the api*.c files. */
struct store_reader *api_reader(struct api *a, struct api_reply *r);
/* api_reader(), with rq's filter argument compiled into *filter (NULL when absent; the caller
 * filter_free()s it). NULL (r filled in: 400 for a bad filter) when either fails; nothing to
 * free then. For the api*.c files. */
struct store_reader *api_filtered_reader(struct api *a, const struct api_request *rq,
					 struct api_reply *r, struct filter **filter);

/* HAR imports (the functions are apihar.c's). After a wake: calls ready(arg, owner) (unless ready
 * is NULL) once for each import whose answer is now ready and still wanted, and frees the imports
 * that ended after their reply was cleared. */
void api_import_poll(struct api *a, void (*ready)(void *arg, void *owner), void *arg);
/* 1 when r->import is done: r then holds its answer ({"imported": N, "skipped": M[, "skipped_entries": [...]]}, or 400
 * {"error"} and nothing imported) and r->import is NULL; 0 while it runs. */
int api_import_finish(struct api *a, struct api_reply *r);
/* Cancels every import and waits for their workers (from any thread, once no other thread
 * uses a: the web thread has stopped). Afterwards wake is never called. */
void api_import_stop(struct api *a);

#endif
