/* SPDX-License-Identifier: MIT */
/* api-t.h - the types the REST calls share: the api (the web thread's state for them), one
 * request, one reply, and a paused-flow call's watch. Types only: the entry points are in
 * api.h (set-up, routing), the store reader the handlers share in apicore.h, and each topic's
 * calls in its own api*.h. Threads and read-your-writes: see api.h. */
#ifndef API_T_H
#define API_T_H

#include "control.h"
#include "flow.h"
#include "store.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct apihar_import; /* apihar.c's */

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
	struct store_reader *reader; /* owned; apicore_reader() opens it */
	uint64_t reader_gen;	     /* store_file_generation() when reader was opened */
	const char *ca_pem;	     /* borrowed; NULL when there is none */
	size_t ca_pem_len;
	char *rules;   /* owned; the rules last PUT (JSON), NULL: read the store */
	char *options; /* owned; the options last PUT (JSON), NULL: read the store */
	const struct web_control *control; /* borrowed; NULL: replay/intercept calls answer 501 */
	/* Called on an import's worker thread when its answer is ready (lws_cancel_service()
	 * for the web server); NULL: none, the caller polls. Set before the first call. */
	void (*wake)(void *arg);
	void *wake_arg;
	struct apihar_import *imports; /* owned; every import not yet freed (web thread only) */
	struct eventlog *log;	       /* borrowed; NULL: GET /api/log answers an empty log */
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
	const char *type;  /* a stored body's: an image type to serve it as (preview), or NULL */
	const char *after; /* WebSocket messages: the index to list from (exclusive) */
	const char *body;  /* the request body, NULL when none */
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
	struct apihar_import *import; /* borrowed from api.imports */
	/* What the reply waits for (api_reply_ready()): the store's write mark (0: none), and a
	 * paused flow's change (watch NULL: none) until watch_until (util_mono_us() time). */
	uint64_t mark;
	struct api_watch *watch; /* borrowed from api.watches; released by api_reply_clear() */
	int64_t watch_until;
};

#endif
