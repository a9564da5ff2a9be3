/* SPDX-License-Identifier: MIT */
/* apiproxy.c - the API's calls that the proxy carries out, handed over through a->control
 * (control.h, which turns their JSON into flows): a replay of a stored flow, and a paused
 * flow's resume, edit and kill (a complete flow's edit is the store's: apiedit.c; a paused
 * flow's new body is encoded here first, as that one's is). A replay's
 * reply waits for the new flow's write mark; a paused-flow call takes a watch (struct
 * api_watch) on its flow first, so that the store's next commit of that flow, seen on the
 * writer thread (apiproxy_flow_changed()), lets the reply go (apiproxy_ready()), or API_WATCH_US
 * pass. */
#include "apiproxy.h"

#include "apicore.h"
#include "apiedit.h"
#include "apiflows.h"
#include "reply.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

void apiproxy_release(struct api_reply *r)
{
	if (r->watch)
		atomic_store(&r->watch->id, 0);
	r->watch = NULL;
}

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

void apiproxy_replay(struct api *a, uint64_t id, const struct api_request *rq, struct api_reply *r)
{
	char err[512];
	if (!have_control(a, "replay", r))
		return;
	struct flow *orig = apiflows_stored(a, id, r);
	if (!orig)
		return;
	int body_given = 0;
	struct flow *req =
	    control_replay_request(orig, rq->body, rq->body_len, &body_given, err, sizeof err);
	flow_free(orig);
	/* A new body is the decoded text, as for an edit: it goes up encoded again. */
	if (req && body_given && apiedit_encode_new_body(req, NULL, err, sizeof err) != 0) {
		flow_free(req);
		req = NULL;
	}
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

int apiproxy_flow_changed(struct api *a, uint64_t id)
{
	int woke = 0;
	for (size_t i = 0; i < API_WATCHES; i++)
		if (atomic_load(&a->watches[i].id) == id) {
			atomic_store(&a->watches[i].hit, 1);
			woke = 1;
		}
	return woke;
}

int apiproxy_ready(struct api *a, struct api_reply *r)
{
	if (r->mark && a->store && store_done_mark(a->store) < r->mark)
		return 0;
	if (r->watch && !atomic_load(&r->watch->hit) && util_mono_us() < r->watch_until)
		return 0;
	apiproxy_release(r);
	return 1;
}

/* Encodes the new body of edit e of paused flow id with its message's Content-Encoding
 * (apiedit_encode_new_body()); the stored flow gives the headers when e gives none. Returns 0,
 * or -1 with r answered (400: a coding that cannot be applied again; 503: no store to read). */
static int encode_edit(struct api *a, uint64_t id, struct flow *e, struct api_reply *r)
{
	char err[512];
	const struct flow_msg *em = e->request.present ? &e->request : &e->response;
	struct flow *stored = NULL;
	if (em->body.data && !em->num_headers && a->db_path) {
		struct store_reader *rd = apicore_reader(a, r);
		if (!rd)
			return -1;
		stored = store_get(rd, id); /* NULL: not there, the proxy answers that */
	}
	int rc = apiedit_encode_new_body(e, stored, err, sizeof err);
	flow_free(stored);
	if (rc != 0)
		reply_error(r, 400, err);
	return rc;
}

void apiproxy_paused(struct api *a, uint64_t id, const char *what, const struct api_request *rq,
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
		if (encode_edit(a, id, edit, r) != 0) {
			flow_free(edit);
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
		apiproxy_release(r);
		reply_error(r, 409, err);
	} else {
		reply_one(r, "id", json_integer((json_int_t)id));
	}
}

void apiproxy_edit(struct api *a, uint64_t id, const struct api_request *rq, struct api_reply *r)
{
	if (apicore_reader(a, r) && apiedit_put(a, a->reader, id, rq, r))
		apiproxy_paused(a, id, "edit", rq, r);
}
