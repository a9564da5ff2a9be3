/* SPDX-License-Identifier: MIT */
/* api.c - the REST calls; see api.h and the README's "Web API". Each handler fills a struct
 * api_reply; JSON is built with jansson. Reads go through the web thread's own store_reader
 * (apicore.c, opened on first use); deletes, clears and settings through the store's writer
 * queue. This file holds the api's life and the routing, the top of the calls: it includes
 * every topic's header, and the topics take the types from api-t.h and the reader from
 * apicore.h, never from api.h. api.h's other entries are handed on to the topic that does the
 * work. The calls by topic:
 *
 *   apiflows.c    the list, one flow, its notes, the clear, stored bodies
 *   apiproxy.c    what the proxy carries out: replay, a paused flow's resume, edit, kill
 *   apiedit.c     a complete flow edited, reverted or duplicated in the store
 *   apihar.c      HAR export and import (the import on a worker thread)
 *   apimessages.c a WebSocket flow's messages
 *   apirules.c    the rules and the filter help;  apioptions.c the live options
 *   apica.c       the CA certificate;  reply.c the JSON answers */
#include "api.h"

#include "apica.h"
#include "apicore.h"
#include "apiedit.h"
#include "apiflows.h"
#include "apihar.h"
#include "apimessages.h"
#include "apioptions.h"
#include "apiproxy.h"
#include "apirules.h"
#include "eventlog.h"
#include "har.h"
#include "reply.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	apihar_clear(a);
	store_reader_close(a->reader);
	free(a->db_path);
	free(a->rules);
	free(a->options);
	memset(a, 0, sizeof *a);
}

void api_reply_clear(struct api_reply *r)
{
	apiproxy_release(r);
	free(r->body);
	har_export_free(r->har);
	if (r->import)
		apihar_cancel(r->import);
	memset(r, 0, sizeof *r);
}

/* ---- api.h's entries that a topic's module carries out ---- */

ssize_t api_body_read(struct api *a, uint64_t id, int response, int decode, uint64_t offset,
		      char *buf, size_t max)
{
	return apiflows_body_read(a, id, response, decode, offset, buf, max);
}

int api_reply_ready(struct api *a, struct api_reply *r)
{
	return apiproxy_ready(a, r);
}

int api_flow_changed(struct api *a, uint64_t id)
{
	return apiproxy_flow_changed(a, id);
}

const char *api_store_error(struct api *a)
{
	return apicore_store_error(a);
}

void api_import_poll(struct api *a, void (*ready)(void *arg, void *owner), void *arg)
{
	apihar_poll(a, ready, arg);
}

int api_import_finish(struct api *a, struct api_reply *r)
{
	return apihar_finish(a, r);
}

void api_import_stop(struct api *a)
{
	apihar_stop(a);
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

/* ---- rules (apirules.c) ---- */

static void get_rules(struct api *a, struct api_reply *r)
{
	struct store_reader *rd = NULL;
	if (!a->rules && !(rd = apicore_reader(a, r)))
		return;
	apirules_get(a, rd, r);
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
			apiflows_get(a, id, r);
		else if (is(rq, "DELETE"))
			apiflows_delete(a, id, r);
		else if (is(rq, "PUT"))
			apiproxy_edit(a, id, rq, r);
		else if (is(rq, "PATCH"))
			apiflows_patch_notes(a, id, rq, r);
		else
			bad_method(r);
	} else if (strcmp(rest, "/request/body") == 0 || strcmp(rest, "/response/body") == 0) {
		if (is(rq, "GET"))
			apiflows_body(a, id, strncmp(rest, "/response", 9) == 0, rq, r);
		else
			bad_method(r);
	} else if (strcmp(rest, "/messages") == 0) {
		struct store_reader *rd = is(rq, "GET") ? apicore_reader(a, r) : NULL;
		if (!is(rq, "GET"))
			bad_method(r);
		else if (rd)
			apimessages_get(rd, id, rq, r);
	} else if (strcmp(rest, "/replay") == 0) {
		if (is(rq, "POST"))
			apiproxy_replay(a, id, rq, r);
		else
			bad_method(r);
	} else if (strcmp(rest, "/revert") == 0 || strcmp(rest, "/duplicate") == 0) {
		if (!is(rq, "POST"))
			bad_method(r);
		else if (apicore_reader(a, r)) /* apiedit.c's */
			(rest[1] == 'r' ? apiedit_revert : apiedit_duplicate)(a, a->reader, id, r);
	} else if (strcmp(rest, "/resume") == 0 || strcmp(rest, "/kill") == 0) {
		if (is(rq, "POST"))
			apiproxy_paused(a, id, rest + 1, rq, r);
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
			apiflows_list(a, rq, r);
		else if (is(rq, "DELETE"))
			apiflows_clear(a, r);
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
		if (a->options || apicore_reader(a, r)) /* else apicore_reader() answered 503 */
			apioptions_handle(a, a->reader, rq, r);
	} else if (strcmp(p, "ca.pem") == 0 || strcmp(p, "ca.der") == 0) {
		if (is(rq, "GET"))
			apica_reply(a, strcmp(p, "ca.der") == 0, r);
		else
			bad_method(r);
	} else if (strcmp(p, "har") == 0) {
		if (is(rq, "GET"))
			apihar_get(a, rq, r);
		else if (is(rq, "POST"))
			apihar_post(a, rq, r);
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
			reply_json(r, 200,
				   a->log ? eventlog_json(a->log, 0)
					  : json_pack("{s:[]}", "entries"));
	} else if (strcmp(p, "stats") == 0) {
		if (is(rq, "GET"))
			apicore_stats(a, r);
		else
			bad_method(r);
	} else if (strcmp(p, "events") == 0) {
		reply_error(r, 400, "WebSocket upgrade required");
	} else {
		reply_error(r, 404, "no such call");
	}
}
