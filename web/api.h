/* SPDX-License-Identifier: MIT */
/* api.h - the REST calls of the web API (design.md, "Web API"), apart from any socket: a
 * request (method, path, query arguments, body) goes in, a reply (status, JSON text, or the
 * recipe for a streamed body) comes out. webui.c does the HTTP and the access checks.
 *
 * Threads: a struct api belongs to the web thread; its store_reader is opened there. */
#ifndef API_H
#define API_H

#include "control.h"
#include "flow.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct api {
	struct store *store;	     /* borrowed */
	char *db_path;		     /* owned */
	struct store_reader *reader; /* owned; opened on first use, on the web thread */
	const char *ca_pem;	     /* borrowed; NULL when there is none */
	size_t ca_pem_len;
	char *rules; /* owned; the rules last PUT (JSON), NULL: read the store */
	const struct web_control *control; /* borrowed; NULL: replay/intercept calls answer 501 */
};

struct api_request {
	const char *method; /* "GET", "PUT", ... */
	const char *path;   /* "/api/flows/12" */
	const char *filter; /* query arguments, NULL when absent */
	const char *limit;
	const char *before;
	const char *decode;
	const char *body; /* the request body, NULL when none */
	size_t body_len;
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
	/* import != NULL: a HAR import checked whole, its flows still to be handed to the store
	 * with api_import_feed(); the JSON answer is filled in when the last one is */
	struct api_import *import; /* owned */
};

/* A HAR import: every entry was valid; flows [next, n) still wait for the store. They go in
 * pieces, each only while the store's queue is short, so a big file neither overflows the
 * queue (which drops flows) nor crowds out the proxy's own flows. */
struct api_import {
	struct flow **flows; /* owned */
	size_t n, cap, next;
	size_t skipped;
	uint64_t dropped0; /* the store's drop count before the first piece */
};

void api_init(struct api *a, struct store *store, const char *db_path, const char *ca_pem,
	      size_t ca_pem_len);
void api_clear(struct api *a);

/* Answers rq into *out (zeroed first). Always fills a status; errors are {"error": "..."}. */
void api_handle(struct api *a, const struct api_request *rq, struct api_reply *out);
/* Reads up to max bytes of a stored body, starting at offset, into buf. Returns the number of
 * bytes read (0 at the end), or -1 on error. */
ssize_t api_body_read(struct api *a, uint64_t id, int response, int decode, uint64_t offset,
		      char *buf, size_t max);
void api_reply_clear(struct api_reply *r);

/* Hands the next piece of r->import to the store when its queue has room. Returns 0 when
 * flows remain (call again later: the web thread uses a timer), 1 when all went in: r->import
 * is freed then and r holds the answer {"imported": N, "skipped": M}. */
int api_import_feed(struct api *a, struct api_reply *r);

#endif
