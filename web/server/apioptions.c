/* SPDX-License-Identifier: MIT */
/* apioptions.c - GET/PUT /api/options.
 *
 * The options are kept as JSON text in the store's setting "options", beside the rules: the
 * store is where the live settings already survive a restart, written through the one writer
 * queue (no second file to write safely), and a --db of its own carries its own working set.
 * A PUT is checked whole (liveopts_parse()) before anything changes; the proxy then takes the
 * new values for its next flows and upstream connections (web_control.set_options: atomic
 * stores it reads without a lock), the store its new body limit, and the text is queued for
 * the store and also kept in struct api, so a GET right after sees it. */
#include "apioptions.h"

#include "eventlog.h"
#include "liveopts.h"
#include "reply.h"
#include "util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The current options into *o: the last accepted, the stored, or the defaults. */
static void current(struct api *a, struct store_reader *rd, struct liveopts *o)
{
	char err[300];
	liveopts_defaults(o);
	char *text = a->options ? xstrdup(a->options)
		     : rd	? store_reader_setting(rd, "options")
				: NULL;
	if (text && liveopts_parse(text, strlen(text), o, err, sizeof err) != 0)
		liveopts_defaults(o); /* the start-up refused it too, and said so */
	free(text);
}

static void get(struct api *a, struct store_reader *rd, struct api_reply *r)
{
	struct liveopts o;
	current(a, rd, &o);
	char *text = liveopts_dump(&o);
	reply_json_text(r, text);
	free(text);
}

static void put(struct api *a, struct store_reader *rd, const struct api_request *rq,
		struct api_reply *r)
{
	char err[300];
	struct liveopts o;
	current(a, rd, &o);
	if (liveopts_parse(rq->body, rq->body_len, &o, err, sizeof err) != 0) {
		reply_error(r, 400, err);
		return;
	}
	const struct web_control *c = a->control;
	if (c && c->set_options)
		c->set_options(c->arg, &o);
	char *text = liveopts_dump(&o);
	if (a->store) {
		store_set_body_limit(a->store, o.body_limit);
		store_set_setting(a->store, "options", text);
		r->mark = store_write_mark(a->store);
	}
	char *line = xasprintf("options applied: %s", text);
	eventlog_add(a->log, LOG_INFO, "options", line);
	free(line);
	free(a->options);
	a->options = text;
	reply_json_text(r, text);
}

void apioptions_handle(struct api *a, struct store_reader *rd, const struct api_request *rq,
		       struct api_reply *r)
{
	if (strcmp(rq->method, "GET") == 0)
		get(a, rd, r);
	else if (strcmp(rq->method, "PUT") == 0 || strcmp(rq->method, "PATCH") == 0)
		put(a, rd, rq, r);
	else
		reply_error(r, 405, "method not allowed");
}
