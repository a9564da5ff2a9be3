/* SPDX-License-Identifier: MIT */
/* apiflows.c - the API's calls on stored flows (apiflows.h): the list, one flow, its notes, the
 * clear, and a stored body, counted here and then streamed piecewise by the web thread
 * (apiflows_body_read()). Reads go through the web thread's store_reader (apicore_reader());
 * deletes, clears and notes through the store's writer queue, their replies held until the store
 * has them (r->mark). */
#include "apiflows.h"

#include "apicore.h"
#include "filter.h"
#include "reply.h"
#include "util.h"
#include "webjson.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LIST_DEFAULT 100
#define LIST_MAX 10000

static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A list that failed: its {"error"} answer also carries "store_error" when the store cannot
 * be written (a deleted file cannot be read either), for the page's status line. */
static void add_store_error(struct api *a, struct api_reply *r)
{
	const char *store_error = apicore_store_error(a);
	json_t *j = r->status >= 500 && store_error ? json_loadb(r->body, r->len, 0, NULL) : NULL;
	if (!j)
		return;
	json_object_set_new(j, "store_error", json_string(store_error));
	free(r->body);
	reply_json(r, r->status, j);
}

/* ---- GET /api/flows ---- */

static void on_summary(void *arg, const struct flow *f)
{
	json_array_append_new(arg, webjson_summary(f));
}

void apiflows_list(struct api *a, const struct api_request *rq, struct api_reply *r)
{
	char err[512];
	uint64_t limit = LIST_DEFAULT, before = 0, total = 0, position = 0;
	if (rq->limit && (parse_uint(rq->limit, LIST_MAX, &limit) != 0 || limit == 0)) {
		reply_error(r, 400, "limit: expected a number from 1 to 10000");
		return;
	}
	if (rq->before && parse_uint(rq->before, UINT64_MAX, &before) != 0) {
		reply_error(r, 400, "before: expected a flow id");
		return;
	}
	if (rq->position && (rq->before || parse_uint(rq->position, UINT64_MAX, &position) != 0)) {
		reply_error(r, 400,
			    rq->before ? "position and before: give one of them"
				       : "position: expected a number");
		return;
	}
	struct filter *filter = NULL;
	struct store_reader *rd = apicore_filtered_reader(a, rq, r, &filter);
	if (!rd) {
		add_store_error(a, r);
		return;
	}
	json_t *flows = json_array();
	int rc = rq->position ? store_list_at(rd, filter, rq->filter, position, (int)limit,
					      on_summary, flows, &total, err, sizeof err)
			      : store_list(rd, filter, before, (int)limit, on_summary, flows,
					   &total, err, sizeof err);
	if (rc != 0) {
		json_decref(flows);
		filter_free(filter);
		reply_errorf(r, 500, "cannot list flows: %s%s", err, "");
		add_store_error(a, r);
		return;
	}
	filter_free(filter);
	json_t *o = json_object();
	json_object_set_new(o, "flows", flows);
	json_object_set_new(o, "total", json_integer((json_int_t)total));
	if (rq->position)
		json_object_set_new(o, "position", json_integer((json_int_t)position));
	const char *store_error = apicore_store_error(a);
	if (store_error) /* the page shows it in its status line */
		json_object_set_new(o, "store_error", json_string(store_error));
	reply_json(r, 200, o);
}

/* ---- GET/DELETE /api/flows/ID ---- */

struct flow *apiflows_stored(struct api *a, uint64_t id, struct api_reply *r)
{
	struct store_reader *rd = apicore_reader(a, r);
	if (!rd)
		return NULL;
	struct flow *f = store_get(rd, id);
	if (!f)
		reply_error(r, 404, "no such flow");
	return f;
}

void apiflows_get(struct api *a, uint64_t id, struct api_reply *r)
{
	struct flow *f = apiflows_stored(a, id, r);
	if (!f)
		return;
	reply_json(r, 200, webjson_flow(f));
	flow_free(f);
}

void apiflows_delete(struct api *a, uint64_t id, struct api_reply *r)
{
	struct store_reader *rd = apicore_reader(a, r);
	if (!rd)
		return;
	/* only whether it is there: loading the flow would read its bodies (MiBs) for nothing */
	int found = store_exists(rd, id);
	if (found < 0) {
		reply_error(r, 503, "cannot read the flow store");
		return;
	}
	if (!found) {
		reply_error(r, 404, "no such flow");
		return;
	}
	store_delete(a->store, id);
	r->mark = store_write_mark(a->store);
	reply_one(r, "deleted", json_integer((json_int_t)id));
}

/* ---- PATCH /api/flows/ID: the user's notes ---- */

static void on_one(void *arg, const struct flow *f)
{
	*(struct flow **)arg = flow_dup(f);
}

/* {"mark": "red" | "", "comment": "…"}, either or both: written through the store's queue;
 * the answer (the summary with its new notes) comes once it is stored. */
void apiflows_patch_notes(struct api *a, uint64_t id, const struct api_request *rq,
			  struct api_reply *r)
{
	char err[256];
	json_t *j = rq->body ? json_loadb(rq->body, rq->body_len, 0, NULL) : NULL;
	json_t *mark = json_object_get(j, "mark"), *comment = json_object_get(j, "comment");
	const char *why =
	    !json_is_object(j)	? "expected a JSON object"
	    : !mark && !comment ? "expected \"mark\" or \"comment\""
	    : mark && (!json_is_string(mark) || !store_note_mark_valid(json_string_value(mark)))
		? "mark: one of \"\", red, orange, yellow, green, blue, purple, grey"
	    : comment && (!json_is_string(comment) || json_string_length(comment) > 10000)
		? "comment: a string of at most 10000 bytes"
		: NULL;
	struct store_reader *rd = NULL;
	struct flow *f = NULL;
	if (why) {
		reply_error(r, 400, why);
	} else if (!(rd = apicore_reader(a, r))) {
		/* the reply says why */
	} else if (store_list(rd, NULL, id + 1, 1, on_one, &f, NULL, err, sizeof err) != 0) {
		reply_errorf(r, 503, "cannot read the flow store: %s%s", err, "");
	} else if (!f || f->id != id) {
		reply_error(r, 404, "no such flow");
	} else {
		if (mark)
			flow_set_str(&f->mark, json_string_value(mark));
		if (comment)
			flow_set_str(&f->comment, json_string_value(comment));
		json_t *o = webjson_summary(f);
		store_note(a->store, f); /* takes f */
		f = NULL;
		r->mark = store_write_mark(a->store);
		reply_json(r, 200, o);
	}
	flow_free(f);
	json_decref(j);
}

void apiflows_clear(struct api *a, struct api_reply *r)
{
	store_clear(a->store);
	r->mark = store_write_mark(a->store);
	reply_one(r, "cleared", json_true());
}

/* ---- bodies ---- */

struct body_read {
	uint64_t skip; /* bytes still to skip */
	char *buf;     /* NULL: only count */
	size_t max, got;
	uint64_t total; /* bytes seen */
};

static int on_body_chunk(void *arg, const char *data, size_t len)
{
	struct body_read *b = arg;
	b->total += len;
	if (!b->buf)
		return 0;
	if (b->skip >= len) {
		b->skip -= len;
		return 0;
	}
	data += b->skip;
	len -= (size_t)b->skip;
	b->skip = 0;
	size_t n = len < b->max - b->got ? len : b->max - b->got;
	memcpy(b->buf + b->got, data, n);
	b->got += n;
	return b->got == b->max; /* full: stop the store here */
}

ssize_t apiflows_body_read(struct api *a, uint64_t id, int response, int decode, uint64_t offset,
			   char *buf, size_t max)
{
	char err[256];
	if (!a->reader || max == 0)
		return -1;
	struct body_read b = {.skip = offset, .buf = buf, .max = max};
	if (store_body(a->reader, id, response, decode, on_body_chunk, &b, err, sizeof err) != 0) {
		log_warn("web: reading body of flow %" PRIu64 ": %s", id, err);
		return -1;
	}
	return (ssize_t)b.got;
}

/* The Content-Type a stored body is served as: an image type the UI previews it as (`type`
 * names one of these), else bytes. Either way with a download disposition and a sandboxing
 * CSP, so that opening its address in a tab of its own runs nothing in our origin (an SVG's
 * script included); an <img> shows it and never runs its script. */
static const char *body_type(const char *type)
{
	static const char *const images[] = {
	    "image/png",     "image/jpeg", "image/gif",	   "image/webp",
	    "image/avif",    "image/bmp",  "image/x-icon", "image/vnd.microsoft.icon",
	    "image/svg+xml", "image/apng"};
	for (size_t i = 0; type && i < sizeof images / sizeof images[0]; i++)
		if (strcasecmp(type, images[i]) == 0)
			return images[i];
	return "application/octet-stream";
}

void apiflows_body(struct api *a, uint64_t id, int response, const struct api_request *rq,
		   struct api_reply *r)
{
	char err[256];
	struct store_reader *rd = apicore_reader(a, r);
	if (!rd)
		return;
	int decode = rq->decode && strcmp(rq->decode, "0") != 0 && rq->decode[0];
	/* a first pass counts the bytes (and finds decoding errors before any header is sent);
	 * the web thread then streams them piecewise */
	struct body_read b = {0};
	if (store_body(rd, id, response, decode, on_body_chunk, &b, err, sizeof err) != 0) {
		if (strcmp(err, "no such flow") == 0)
			reply_error(r, 404, err);
		else
			reply_errorf(r, 422, "cannot decode the body: %s%s", err, "");
		return;
	}
	r->status = 200;
	r->content_type = body_type(rq->type);
	r->stream = 1;
	r->id = id;
	r->response = response;
	r->decode = decode;
	r->stream_len = b.total;
	snprintf(r->disposition, sizeof r->disposition,
		 "attachment; filename=\"flow-%" PRIu64 "-%s%s.bin\"", id,
		 response ? "response" : "request", decode ? "-decoded" : "");
}
