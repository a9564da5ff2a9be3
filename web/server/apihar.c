/* SPDX-License-Identifier: MIT */
/* apihar.c - HAR over the API (issue 6). GET /api/har hands the web thread a har_export to pull
 * from (it writes the pieces chunked as the socket takes them). POST /api/har takes the
 * uploaded file and starts a worker (harimport.c), so the web thread goes on serving; the
 * worker wakes the web thread when its answer is ready:
 *
 *   apihar_post: take body, harimport_start ──► worker: parse, check, feed the store
 *   apihar_poll ◄───────────── wake() ─────── answer set
 *   apihar_finish: answer, harimport_free (joins)
 *
 * A reply cleared before its import is done (the client hung up) cancels it (apihar_cancel());
 * the import is then freed by apihar_poll() once its worker has ended. */
#include "apihar.h"

#include "apicore.h"
#include "filter.h"
#include "har.h"
#include "harimport.h"
#include "reply.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A HAR import as the web thread sees it: in api.imports until freed. Web thread only. */
struct apihar_import {
	struct apihar_import *next; /* api.imports */
	struct harimport *job;	    /* owned; the worker and its answer */
	void *owner;		    /* from the request; handed back by apihar_poll() */
	int orphan;		    /* the reply let go, nobody waits for the answer */
	int notified;		    /* ready() was called */
};

void apihar_get(struct api *a, const struct api_request *rq, struct api_reply *r)
{
	char err[512];
	struct filter *filter = NULL;
	struct store_reader *rd = apicore_filtered_reader(a, rq, r, &filter);
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

void apihar_post(struct api *a, const struct api_request *rq, struct api_reply *r)
{
	if (!a->store) {
		reply_error(r, 503, "no flow store");
		return;
	}
	/* one whose client left after its wake has no wake to come: free it now */
	apihar_poll(a, NULL, NULL);
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
	struct apihar_import *imp = xcalloc(1, sizeof *imp);
	imp->job = job;
	imp->owner = rq->owner;
	imp->next = a->imports;
	a->imports = imp;
	r->import = imp;
}

/* Unlinks imp from a->imports, waits for its worker (which has ended or is about to) and
 * frees it. */
static void import_reap(struct api *a, struct apihar_import *imp)
{
	for (struct apihar_import **p = &a->imports; *p; p = &(*p)->next)
		if (*p == imp) {
			*p = imp->next;
			break;
		}
	harimport_free(imp->job);
	free(imp);
}

void apihar_poll(struct api *a, void (*ready)(void *arg, void *owner), void *arg)
{
	struct apihar_import *imp = a->imports, *next;
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

int apihar_finish(struct api *a, struct api_reply *r)
{
	struct apihar_import *imp = r->import;
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

void apihar_stop(struct api *a)
{
	for (struct apihar_import *imp = a->imports; imp; imp = imp->next)
		harimport_cancel(imp->job);
	for (struct apihar_import *imp = a->imports; imp; imp = imp->next)
		harimport_join(imp->job);
	a->wake = NULL;
}

void apihar_cancel(struct apihar_import *imp)
{
	/* nobody waits for it now: stop it; apihar_poll() frees it once it ended */
	harimport_cancel(imp->job);
	imp->orphan = 1;
}

void apihar_clear(struct api *a)
{
	apihar_stop(a);
	while (a->imports) {
		struct apihar_import *imp = a->imports;
		a->imports = imp->next;
		harimport_free(imp->job);
		free(imp);
	}
}
