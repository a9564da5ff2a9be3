/* SPDX-License-Identifier: MIT */
/* api.c - the REST calls; see api.h and the README's "Web API". Each handler fills a struct
 * api_reply; JSON is built with jansson. Reads go through the web thread's own store_reader;
 * deletes, clears and settings through the store's writer queue.
 *
 * HAR (issue 6): GET /api/har hands the web thread a har_export to pull from (it writes the
 * pieces chunked as the socket takes them). POST /api/har takes the uploaded file and starts a
 * worker (harimport.c), so the web thread goes on serving; the worker wakes the web thread when
 * its answer is ready:
 *
 *   har_post: take body, harimport_start ──► worker: parse, check, feed the store
 *   api_import_poll ◄───────── wake() ─────── answer set
 *   api_import_finish: answer, harimport_free (joins)
 *
 * A reply cleared before its import is done (the client hung up) cancels it; the import is
 * then freed by api_import_poll() once its worker has ended.
 *
 * The rules and the filter help are apirules.c's; the JSON answers reply.c's. */
#include "api.h"

#include "apica.h"
#include "apiedit.h"
#include "apimessages.h"
#include "apioptions.h"
#include "apirules.h"
#include "eventlog.h"
#include "filter.h"
#include "har.h"
#include "harimport.h"
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
#include <time.h>

#define LIST_DEFAULT 100
#define LIST_MAX 10000

/* A HAR import as the web thread sees it: in api.imports until freed. Web thread only. */
struct api_import {
	struct api_import *next; /* api.imports */
	struct harimport *job;	 /* owned; the worker and its answer */
	void *owner;		 /* from the request; handed back by api_import_poll() */
	int orphan;		 /* the reply let go, nobody waits for the answer */
	int notified;		 /* ready() was called */
};


void api_init(struct api *a, struct store *store, const char *db_path, const char *ca_pem,
	      size_t ca_pem_len)
{
	memset(a, 0, sizeof *a);
	a->store = store;
	a->db_path = db_path ? xstrdup(db_path) : NULL;
	a->ca_pem = ca_pem;
	a->ca_pem_len = ca_pem_len;
}

void api_clear(struct api *a)
{
	api_import_stop(a);
	while (a->imports) {
		struct api_import *imp = a->imports;
		a->imports = imp->next;
		harimport_free(imp->job);
		free(imp);
	}
	store_reader_close(a->reader);
	free(a->db_path);
	free(a->rules);
	free(a->options);
	memset(a, 0, sizeof *a);
}

static void watch_release(struct api_reply *r)
{
	if (r->watch)
		atomic_store(&r->watch->id, 0);
	r->watch = NULL;
}

void api_reply_clear(struct api_reply *r)
{
	watch_release(r);
	free(r->body);
	har_export_free(r->har);
	if (r->import) {
		/* nobody waits for it now: stop it; api_import_poll() frees it once it ended */
		harimport_cancel(r->import->job);
		r->import->orphan = 1;
	}
	memset(r, 0, sizeof *r);
}

static struct store_reader *reader(struct api *a, struct api_reply *r)
{
	char err[256];
	if (a->reader)
		return a->reader;
	if (!a->db_path) {
		reply_error(r, 503, "no flow store");
		return NULL;
	}
	a->reader = store_reader_open(a->db_path, err, sizeof err);
	if (!a->reader)
		reply_errorf(r, 503, "cannot read the flow store: %s%s", err, "");
	return a->reader;
}

/* The reader, with rq's filter argument compiled into *filter (NULL when absent). NULL (the
 * reply filled in: 400 for a bad filter) when either fails; nothing to free then. */
static struct store_reader *filtered_reader(struct api *a, const struct api_request *rq,
					    struct api_reply *r, struct filter **filter)
{
	char err[512];
	*filter = NULL;
	if (rq->filter && rq->filter[0]) {
		*filter = filter_compile(rq->filter, err, sizeof err);
		if (!*filter) {
			reply_errorf(r, 400, "filter: %s%s", err, "");
			return NULL;
		}
	}
	struct store_reader *rd = reader(a, r);
	if (!rd) {
		filter_free(*filter);
		*filter = NULL;
	}
	return rd;
}

/* A flow id: 1 to 20 digits, not 0. */
static int parse_id(const char *s, size_t len, uint64_t *out)
{
	if (len == 0 || len > 20)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v == 0)
		return -1;
	*out = v;
	return 0;
}

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

const char *api_store_error(struct api *a)
{
	static const char what[] = " (see flowscope's log for what to do)";
	static __thread char msg[256];
	if (!a->store)
		return NULL;
	struct store_stats st;
	store_get_stats(a->store, &st);
	if (!st.write_error)
		return NULL;
	snprintf(msg, sizeof msg, "Flows are not being stored: %s%s", st.write_error, what);
	return msg;
}

/* A list that failed: its {"error"} answer also carries "store_error" when the store cannot
 * be written (a deleted file cannot be read either), for the page's status line. */
static void add_store_error(struct api *a, struct api_reply *r)
{
	const char *store_error = api_store_error(a);
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

static void list_flows(struct api *a, const struct api_request *rq, struct api_reply *r)
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
		reply_error(r, 400, rq->before ? "position and before: give one of them"
					       : "position: expected a number");
		return;
	}
	struct filter *filter = NULL;
	struct store_reader *rd = filtered_reader(a, rq, r, &filter);
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
	const char *store_error = api_store_error(a);
	if (store_error) /* the page shows it in its status line */
		json_object_set_new(o, "store_error", json_string(store_error));
	reply_json(r, 200, o);
}

/* ---- GET/DELETE /api/flows/ID ---- */

/* The stored flow id (the caller frees it), or NULL with the reply filled in (503, 404). */
static struct flow *stored_flow(struct api *a, uint64_t id, struct api_reply *r)
{
	struct store_reader *rd = reader(a, r);
	if (!rd)
		return NULL;
	struct flow *f = store_get(rd, id);
	if (!f)
		reply_error(r, 404, "no such flow");
	return f;
}

static void get_flow(struct api *a, uint64_t id, struct api_reply *r)
{
	struct flow *f = stored_flow(a, id, r);
	if (!f)
		return;
	reply_json(r, 200, webjson_flow(f));
	flow_free(f);
}

static void delete_flow(struct api *a, uint64_t id, struct api_reply *r)
{
	struct store_reader *rd = reader(a, r);
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
static void patch_notes(struct api *a, uint64_t id, const struct api_request *rq,
			struct api_reply *r)
{
	char err[256];
	json_t *j = rq->body ? json_loadb(rq->body, rq->body_len, 0, NULL) : NULL;
	json_t *mark = json_object_get(j, "mark"), *comment = json_object_get(j, "comment");
	const char *why = !json_is_object(j) ? "expected a JSON object"
			  : !mark && !comment ? "expected \"mark\" or \"comment\""
			  : mark && (!json_is_string(mark) ||
				     !store_note_mark_valid(json_string_value(mark)))
			      ? "mark: one of \"\", red, orange, yellow, green, blue, purple, grey"
			  : comment && (!json_is_string(comment) || json_string_length(comment) > 10000)
			      ? "comment: a string of at most 10000 bytes"
			      : NULL;
	struct store_reader *rd = NULL;
	struct flow *f = NULL;
	if (why) {
		reply_error(r, 400, why);
	} else if (!(rd = reader(a, r))) {
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

static void clear_flows(struct api *a, struct api_reply *r)
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

ssize_t api_body_read(struct api *a, uint64_t id, int response, int decode, uint64_t offset,
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

static void get_body(struct api *a, uint64_t id, int response, const struct api_request *rq,
		     struct api_reply *r)
{
	char err[256];
	struct store_reader *rd = reader(a, r);
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

/* ---- rules (apirules.c) ---- */

static void get_rules(struct api *a, struct api_reply *r)
{
	struct store_reader *rd = NULL;
	if (!a->rules && !(rd = reader(a, r)))
		return;
	apirules_get(a, rd, r);
}

/* ---- HAR ---- */

static void har_get(struct api *a, const struct api_request *rq, struct api_reply *r)
{
	char err[512];
	struct filter *filter = NULL;
	struct store_reader *rd = filtered_reader(a, rq, r, &filter);
	if (!rd)
		return;
	/* collects the matching ids now (16 bytes each); the filter is not needed afterwards */
	r->har = har_export_new(rd, filter, err, sizeof err);
	filter_free(filter);
	if (!r->har) {
		reply_errorf(r, 500, "cannot export: %s%s", err, "");
		return;
	}
	r->status = 200;
	r->content_type = "application/json; charset=utf-8";
	time_t now = time(NULL);
	struct tm tm;
	char name[40];
	gmtime_r(&now, &tm);
	strftime(name, sizeof name, "flowscope-%Y%m%d-%H%M%S.har", &tm);
	snprintf(r->disposition, sizeof r->disposition, "attachment; filename=\"%s\"", name);
}

static void har_post(struct api *a, const struct api_request *rq, struct api_reply *r)
{
	if (!a->store) {
		reply_error(r, 503, "no flow store");
		return;
	}
	/* one whose client left after its wake has no wake to come: free it now */
	api_import_poll(a, NULL, NULL);
	char *data = NULL;
	if (rq->take_body && *rq->take_body == rq->body) {
		data = *rq->take_body; /* no copy of what may be 256 MiB */
		*rq->take_body = NULL;
	} else if (rq->body_len) {
		data = xmalloc(rq->body_len);
		memcpy(data, rq->body, rq->body_len);
	}
	struct harimport *job = harimport_start(a->store, data, rq->body_len, a->wake, a->wake_arg);
	if (!job) {
		reply_error(r, 503, "cannot start the import");
		return;
	}
	struct api_import *imp = xcalloc(1, sizeof *imp);
	imp->job = job;
	imp->owner = rq->owner;
	imp->next = a->imports;
	a->imports = imp;
	r->import = imp;
}

/* Unlinks imp from a->imports, waits for its worker (which has ended or is about to) and
 * frees it. */
static void import_reap(struct api *a, struct api_import *imp)
{
	for (struct api_import **p = &a->imports; *p; p = &(*p)->next)
		if (*p == imp) {
			*p = imp->next;
			break;
		}
	harimport_free(imp->job);
	free(imp);
}

void api_import_poll(struct api *a, void (*ready)(void *arg, void *owner), void *arg)
{
	struct api_import *imp = a->imports, *next;
	for (; imp; imp = next) {
		next = imp->next;
		if (!harimport_done(imp->job))
			continue;
		if (imp->orphan) {
			import_reap(a, imp);
		} else if (!imp->notified && ready) {
			imp->notified = 1;
			ready(arg, imp->owner);
		}
	}
}

int api_import_finish(struct api *a, struct api_reply *r)
{
	struct api_import *imp = r->import;
	if (!imp)
		return 1;
	if (!harimport_done(imp->job))
		return 0;
	r->import = NULL;
	r->content_type = reply_json_mime;
	r->status = harimport_take_answer(imp->job, &r->body, &r->len);
	import_reap(a, imp);
	/* the worker handed every flow to the store's queue before its answer was ready */
	r->mark = store_write_mark(a->store);
	return 1;
}

void api_import_stop(struct api *a)
{
	for (struct api_import *imp = a->imports; imp; imp = imp->next)
		harimport_cancel(imp->job);
	for (struct api_import *imp = a->imports; imp; imp = imp->next)
		harimport_join(imp->job);
	a->wake = NULL;
}

/* ---- replay and paused flows: handed to the proxy through a->control ---- */

/* 1 when the proxy's control named by what ("replay", "resume", "edit", "kill") is there. */
static int have_control(struct api *a, const char *what, struct api_reply *r)
{
	const struct web_control *c = a->control;
	int have = c && (strcmp(what, "replay") == 0   ? c->replay != NULL
			 : strcmp(what, "resume") == 0 ? c->resume != NULL
			 : strcmp(what, "edit") == 0   ? c->edit != NULL
						       : c->kill != NULL);
	if (have)
		return 1;
	reply_error(r, 501, "the proxy's controls are not available");
	return 0;
}

static void replay_flow(struct api *a, uint64_t id, const struct api_request *rq,
			struct api_reply *r)
{
	char err[512];
	if (!have_control(a, "replay", r))
		return;
	struct flow *orig = stored_flow(a, id, r);
	if (!orig)
		return;
	struct flow *req = control_replay_request(orig, rq->body, rq->body_len, err, sizeof err);
	flow_free(orig);
	if (!req) {
		reply_error(r, 400, err);
		return;
	}
	uint64_t new_id = a->control->replay(a->control->arg, req, err, sizeof err);
	if (!new_id) {
		reply_error(r, 502, err);
		return;
	}
	/* the proxy queued the new flow's BEGIN before it returned: answer once it is stored */
	if (a->store)
		r->mark = store_write_mark(a->store);
	reply_one(r, "id", json_integer((json_int_t)new_id));
}

/* A free watch for flow id, taken (web thread only), or NULL when all are busy. */
static struct api_watch *watch_take(struct api *a, uint64_t id)
{
	for (size_t i = 0; i < API_WATCHES; i++) {
		struct api_watch *wt = &a->watches[i];
		if (atomic_load(&wt->id) == 0) {
			atomic_store(&wt->hit, 0);
			atomic_store(&wt->id, id);
			return wt;
		}
	}
	return NULL;
}

int api_flow_changed(struct api *a, uint64_t id)
{
	int woke = 0;
	for (size_t i = 0; i < API_WATCHES; i++)
		if (atomic_load(&a->watches[i].id) == id) {
			atomic_store(&a->watches[i].hit, 1);
			woke = 1;
		}
	return woke;
}

int api_reply_ready(struct api *a, struct api_reply *r)
{
	if (r->mark && a->store && store_done_mark(a->store) < r->mark)
		return 0;
	if (r->watch && !atomic_load(&r->watch->hit) && util_mono_us() < r->watch_until)
		return 0;
	watch_release(r);
	return 1;
}

/* POST /resume (optional edit), PUT (edit), POST /kill on a paused flow. */
static void paused_flow(struct api *a, uint64_t id, const char *what, const struct api_request *rq,
			struct api_reply *r)
{
	char err[512];
	const struct web_control *c = a->control;
	if (!have_control(a, what, r))
		return;
	struct flow *edit = NULL;
	if (what[0] != 'k' && (rq->body_len || what[0] == 'e')) {
		edit = control_edit(rq->body, rq->body_len, err, sizeof err);
		if (!edit) {
			reply_error(r, 400, err);
			return;
		}
	}
	/* watched before the proxy's worker can act on it: its change cannot slip by */
	r->watch = a->store ? watch_take(a, id) : NULL;
	r->watch_until = util_mono_us() + API_WATCH_US;
	int rc = what[0] == 'r'	  ? c->resume(c->arg, id, edit, err, sizeof err)
		 : what[0] == 'e' ? c->edit(c->arg, id, edit, err, sizeof err)
				  : c->kill(c->arg, id, err, sizeof err);
	if (rc != 0) {
		watch_release(r);
		reply_error(r, 409, err);
	} else {
		reply_one(r, "id", json_integer((json_int_t)id));
	}
}

/* PUT /api/flows/ID: a paused flow's edit goes to the proxy, a complete one's to the store. */
static void edit_flow(struct api *a, uint64_t id, const struct api_request *rq, struct api_reply *r)
{
	if (reader(a, r) && apiedit_put(a, a->reader, id, rq, r))
		paused_flow(a, id, "edit", rq, r);
}

/* ---- routing ---- */

static int is(const struct api_request *rq, const char *m)
{
	return strcmp(rq->method, m) == 0;
}

static void bad_method(struct api_reply *r)
{
	reply_error(r, 405, "method not allowed");
}

/* /api/flows/ID[/rest] */
static void flow_routes(struct api *a, const struct api_request *rq, const char *p,
			struct api_reply *r)
{
	const char *slash = strchr(p, '/');
	size_t idlen = slash ? (size_t)(slash - p) : strlen(p);
	uint64_t id;
	if (parse_id(p, idlen, &id) != 0) {
		reply_error(r, 404, "no such call (bad flow id)");
		return;
	}
	const char *rest = slash ? slash : "";
	if (!*rest) {
		if (is(rq, "GET"))
			get_flow(a, id, r);
		else if (is(rq, "DELETE"))
			delete_flow(a, id, r);
		else if (is(rq, "PUT"))
			edit_flow(a, id, rq, r);
		else if (is(rq, "PATCH"))
			patch_notes(a, id, rq, r);
		else
			bad_method(r);
	} else if (strcmp(rest, "/request/body") == 0 || strcmp(rest, "/response/body") == 0) {
		if (is(rq, "GET"))
			get_body(a, id, strncmp(rest, "/response", 9) == 0, rq, r);
		else
			bad_method(r);
	} else if (strcmp(rest, "/messages") == 0) {
		struct store_reader *rd = is(rq, "GET") ? reader(a, r) : NULL;
		if (!is(rq, "GET"))
			bad_method(r);
		else if (rd)
			apimessages_get(rd, id, rq, r);
	} else if (strcmp(rest, "/replay") == 0) {
		if (is(rq, "POST"))
			replay_flow(a, id, rq, r);
		else
			bad_method(r);
	} else if (strcmp(rest, "/revert") == 0 || strcmp(rest, "/duplicate") == 0) {
		if (!is(rq, "POST"))
			bad_method(r);
		else if (reader(a, r)) /* apiedit.c's */
			(rest[1] == 'r' ? apiedit_revert : apiedit_duplicate)(a, a->reader, id, r);
	} else if (strcmp(rest, "/resume") == 0 || strcmp(rest, "/kill") == 0) {
		if (is(rq, "POST"))
			paused_flow(a, id, rest + 1, rq, r);
		else
			bad_method(r);
	} else {
		reply_error(r, 404, "no such call");
	}
}

void api_handle(struct api *a, const struct api_request *rq, struct api_reply *r)
{
	memset(r, 0, sizeof *r);
	const char *p = rq->path;
	if (strncmp(p, "/api/", 5) != 0) {
		reply_error(r, 404, "no such call");
		return;
	}
	p += 5;
	if (strcmp(p, "flows") == 0) {
		if (is(rq, "GET"))
			list_flows(a, rq, r);
		else if (is(rq, "DELETE"))
			clear_flows(a, r);
		else
			bad_method(r);
	} else if (strncmp(p, "flows/", 6) == 0) {
		flow_routes(a, rq, p + 6, r);
	} else if (strcmp(p, "rules") == 0) {
		if (is(rq, "GET"))
			get_rules(a, r);
		else if (is(rq, "PUT"))
			apirules_put(a, rq, r);
		else
			bad_method(r);
	} else if (strcmp(p, "options") == 0) {
		if (a->options || reader(a, r)) /* else reader() answered 503 */
			apioptions_handle(a, a->reader, rq, r);
	} else if (strcmp(p, "ca.pem") == 0 || strcmp(p, "ca.der") == 0) {
		if (is(rq, "GET"))
			apica_reply(a, strcmp(p, "ca.der") == 0, r);
		else
			bad_method(r);
	} else if (strcmp(p, "har") == 0) {
		if (is(rq, "GET"))
			har_get(a, rq, r);
		else if (is(rq, "POST"))
			har_post(a, rq, r);
		else
			bad_method(r);
	} else if (strcmp(p, "filter-help") == 0) {
		if (is(rq, "GET"))
			apirules_filter_help(r);
		else
			bad_method(r);
	} else if (strcmp(p, "log") == 0) {
		if (!is(rq, "GET"))
			bad_method(r);
		else /* the event log (eventlog.h) */
			reply_json(r, 200, a->log ? eventlog_json(a->log, 0) : json_pack("{s:[]}", "entries"));
	} else if (strcmp(p, "events") == 0) {
		reply_error(r, 400, "WebSocket upgrade required");
	} else {
		reply_error(r, 404, "no such call");
	}
}
