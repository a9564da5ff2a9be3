/* SPDX-License-Identifier: MIT */
/* apiedit.c - see apiedit.h.
 *
 * An edit is parsed and checked by control_edit() (the one reader of the edit shapes, as for
 * paused flows), applied here to the flow as stored, and written back through the store's
 * queue with store_edit(), which keeps the unedited flow as its original on the first edit.
 * The parts of the parsed edit are moved into the flow, not copied. A replaced body is the
 * decoded content, as the page shows it (GET .../body?decode=1): it is encoded again with the
 * message's Content-Encoding after the edit (gzip, deflate, br, zstd, or a chain of them;
 * codec.h), and sets the body's size and an existing Content-Length to the encoded length, as
 * mitmproxy's message.content does; a coding that cannot be applied again refuses the edit
 * (400) with its name. Only complete flows are edited here: a pending flow is still being
 * written by the proxy, and a paused one is the proxy's to edit; its edit's body is encoded
 * here all the same (apiedit_encode_new_body()) before it goes to the proxy, which sends the body
 * it is given as it is and only sets its Content-Length. */
#include "apiedit.h"

#include "codec.h"
#include "control.h"
#include "reply.h"
#include "util.h"
#include "webjson.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The stored flow id, or NULL with r answered (404). */
static struct flow *load(struct store_reader *rd, uint64_t id, struct api_reply *r)
{
	struct flow *f = store_get(rd, id);
	if (!f)
		reply_error(r, 404, "no such flow");
	return f;
}

/* 0 when f may be edited, duplicated or reverted; else -1 with r answered (409). */
static int complete(const struct flow *f, struct api_reply *r)
{
	char msg[160];
	if (f->state != FLOW_DONE && f->state != FLOW_ERROR)
		snprintf(msg, sizeof msg, "flow %" PRIu64 " is still in progress", f->id);
	else if (f->kind != FLOW_HTTP || !f->request.present)
		snprintf(msg, sizeof msg, "flow %" PRIu64 " is not an HTTP exchange", f->id);
	else
		return 0;
	reply_error(r, 409, msg);
	return -1;
}

/* The stored flow id when it may be duplicated or reverted (complete()); else NULL with r
 * answered (404, 409). */
static struct flow *load_complete(struct store_reader *rd, uint64_t id, struct api_reply *r)
{
	struct flow *f = load(rd, id, r);
	if (f && complete(f, r) != 0) {
		flow_free(f);
		return NULL;
	}
	return f;
}

static void swap_str(char **a, char **b)
{
	char *t = *a;
	*a = *b;
	*b = t;
}

/* Encodes body (the decoded content) again as m's Content-Encoding says, in place. Returns 0,
 * or -1 with err filled when a coding cannot be applied. */
static int encode_again(const struct flow_msg *m, struct flow_buf *body, char *err, size_t errlen)
{
	const struct flow_header *ce = flow_msg_header(m, "Content-Encoding");
	if (!ce || !codec_is_encoded(ce->value))
		return 0;
	char *out = NULL;
	size_t len = 0;
	if (codec_encode_all(ce->value, body->data ? body->data : "", body->len, &out, &len) != 0) {
		snprintf(
		    err, errlen,
		    "the new body cannot be encoded as Content-Encoding \"%.100s\" (a coding "
		    "flowscope cannot apply: gzip, deflate, br and zstd can): remove or change "
		    "that header to save it",
		    ce->value);
		return -1;
	}
	flow_buf_clear(body);
	flow_buf_append(body, out, len);
	free(out);
	return 0;
}

/* Sets each Content-Length of m to len. */
static void set_length(struct flow_msg *m, size_t len)
{
	for (size_t i = 0; i < m->num_headers; i++) {
		struct flow_header *h = &m->headers[i];
		if (strcasecmp(h->name, "Content-Length") == 0) {
			free(h->value);
			h->value = xasprintf("%zu", len);
			h->value_len = strlen(h->value);
		}
	}
}

/* The new body of src into dst (src gets dst's old one, freed with it), encoded again as dst's
 * Content-Encoding says. Returns 0, or -1 with err filled. */
static int take_body(struct flow_msg *dst, struct flow_msg *src, char *err, size_t errlen)
{
	if (encode_again(dst, &src->body, err, errlen) != 0)
		return -1;
	struct flow_buf t = dst->body;
	dst->body = src->body;
	src->body = t;
	dst->body_size = dst->body.len;
	dst->body_truncated = 0;
	set_length(dst, dst->body.len);
	return 0;
}

int apiedit_encode_new_body(struct flow *e, const struct flow *stored, char *err, size_t errlen)
{
	struct flow_msg *em = e->request.present ? &e->request : &e->response;
	if (!em->body.data)
		return 0;
	const struct flow_msg *headers = em->num_headers || !stored ? em
					 : e->request.present	    ? &stored->request
								    : &stored->response;
	if (encode_again(headers, &em->body, err, errlen) != 0)
		return -1;
	em->body_size = em->body.len;
	set_length(em, em->body.len);
	return 0;
}

/* What edit e sets of one side, moved into m: its headers when it gives any, its body. Returns
 * 0, or -1 with err filled. */
static int take_msg(struct flow_msg *m, struct flow_msg *em, char *err, size_t errlen)
{
	if (em->num_headers) {
		struct flow_msg t = *m;
		m->headers = em->headers;
		m->num_headers = em->num_headers;
		m->cap_headers = em->cap_headers;
		em->headers = t.headers;
		em->num_headers = t.num_headers;
		em->cap_headers = t.cap_headers;
	}
	if (em->body.data)
		return take_body(m, em, err, errlen);
	return 0;
}

/* Moves what edit e (control_edit()'s) sets into f. Returns 0, or -1 with err filled (f is
 * then half edited: the caller drops it). */
static int apply(struct flow *f, struct flow *e, char *err, size_t errlen)
{
	if (e->request.present) {
		if (e->request.method)
			swap_str(&f->request.method, &e->request.method);
		if (e->scheme) { /* a new URL: scheme, host, port, path and target */
			swap_str(&f->scheme, &e->scheme);
			swap_str(&f->host, &e->host);
			swap_str(&f->path, &e->path);
			swap_str(&f->request.target, &e->request.target);
			f->port = e->port;
		}
		if (take_msg(&f->request, &e->request, err, errlen) != 0)
			return -1;
	} else {
		if (e->response.status)
			f->response.status = e->response.status;
		if (e->response.reason)
			swap_str(&f->response.reason, &e->response.reason);
		if (take_msg(&f->response, &e->response, err, errlen) != 0)
			return -1;
	}
	f->flags |= FLOW_F_MODIFIED;
	return 0;
}

/* Queues f (taken) as the stored flow's new state and answers it once stored. */
static void write_back(struct api *a, struct flow *f, struct flow *original, int revert,
		       struct api_reply *r)
{
	reply_json(r, 200, webjson_flow(f));
	store_edit(a->store, f, original, revert);
	r->mark = store_write_mark(a->store);
}

int apiedit_put(struct api *a, struct store_reader *rd, uint64_t id, const struct api_request *rq,
		struct api_reply *r)
{
	char err[512];
	struct flow *f = load(rd, id, r);
	if (!f)
		return 0;
	if (f->state == FLOW_PAUSED || f->state == FLOW_PENDING) {
		flow_free(f); /* paused, or about to be as far as the store knows: the proxy's */
		return 1;
	}
	struct flow *e =
	    complete(f, r) == 0 ? control_edit(rq->body, rq->body_len, err, sizeof err) : NULL;
	if (e && e->response.present && !f->response.present) {
		reply_error(r, 409, "the flow has no response to edit");
	} else if (e) {
		struct flow *kept = store_original(rd, id);
		struct flow *original = kept ? NULL : flow_dup(f); /* the first edit keeps it */
		flow_free(kept);
		if (apply(f, e, err, sizeof err) == 0) {
			write_back(a, f, original, 0, r);
			f = NULL;
		} else {
			flow_free(original);
			reply_error(r, 400, err);
		}
	} else if (!r->status) {
		reply_error(r, 400, err);
	}
	flow_free(e);
	flow_free(f);
	return 0;
}

void apiedit_revert(struct api *a, struct store_reader *rd, uint64_t id, struct api_reply *r)
{
	struct flow *f = load_complete(rd, id, r);
	if (!f)
		return;
	struct flow *o = store_original(rd, id);
	if (!o) {
		reply_error(r, 409, "the flow was not edited: nothing to revert");
		flow_free(f);
		return;
	}
	swap_str(&f->scheme, &o->scheme);
	swap_str(&f->host, &o->host);
	swap_str(&f->path, &o->path);
	f->port = o->port;
	struct flow_msg t = f->request;
	f->request = o->request;
	o->request = t;
	t = f->response;
	f->response = o->response;
	o->response = t;
	f->flags &= ~(unsigned)FLOW_F_MODIFIED;
	flow_free(o);
	write_back(a, f, NULL, 1, r);
}

void apiedit_duplicate(struct api *a, struct store_reader *rd, uint64_t id, struct api_reply *r)
{
	struct flow *f = load_complete(rd, id, r);
	if (!f)
		return;
	f->id = flow_next_id();
	f->flags = (f->flags & ~(unsigned)FLOW_F_IMPORTED) | FLOW_F_DUPLICATE;
	/* its notes are written apart, after it (as a HAR import does) */
	struct flow *notes =
	    (f->mark && f->mark[0]) || (f->comment && f->comment[0]) ? flow_dup(f) : NULL;
	uint64_t new_id = f->id;
	int websocket = (f->flags & FLOW_F_WEBSOCKET) != 0;
	struct flow_sink sink = store_sink(a->store);
	sink.emit(sink.arg, FLOW_EV_END, f);
	if (notes)
		store_note(a->store, notes);
	if (websocket) /* its messages are copied in the store, after it */
		store_copy_messages(a->store, id, new_id);
	r->mark = store_write_mark(a->store);
	reply_one(r, "id", json_integer((json_int_t)new_id));
}
