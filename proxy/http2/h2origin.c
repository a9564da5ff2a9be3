/* SPDX-License-Identifier: MIT */
/* h2origin.c - the client side of an HTTP/2 session towards an origin (see h2origin.h), glue
 * over nghttp2 1.52 (framing, HPACK, stream states, flow-control accounting, and its HTTP
 * messaging checks of the responses: a malformed response resets its stream).
 *
 * A stream: h2origin_submit() (a struct ostream, nghttp2's stream user data) -> HEADERS of the
 * response (on_header collects them; a 1xx head is dropped when its frame ends) -> the final
 * head (ops->on_head) -> DATA (ops->on_data) -> trailers (ops->on_trailers) -> END_STREAM
 * (ops->on_end) -> closed (on_stream_close: ops->on_close, the stream freed). A cancelled
 * stream stays in the list without ops until nghttp2 closes it; its bytes are consumed at
 * once.
 *
 * The request head comes from a flow_msg whose headers are HTTP/1.1's: the names that mean
 * something to one HTTP/1.1 connection only are dropped (RFC 9113 8.2.2), Host becomes
 * :authority when there is no other, names are lowercased (nghttp2 does it as it copies). */
#include "h2origin.h"

#include "h2wire.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <nghttp2/nghttp2.h>

struct ostream {
	const struct h2origin_ops *ops; /* NULL once cancelled */
	void *arg;
	int32_t id;
	struct flow_msg head; /* the response head (or trailers) being received */
	int final;	      /* the final head was passed on: more HEADERS are trailers */
	int ended;	      /* on_end ran */
	struct ostream *prev, *next;
};

struct h2origin {
	nghttp2_session *session;
	struct ostream *streams;
	size_t num_streams;
	int goaway; /* the origin sent GOAWAY, or the session broke */
	char why[160];
};

static struct ostream *stream_of(nghttp2_session *s, int32_t id)
{
	return nghttp2_session_get_stream_user_data(s, id);
}

/* ---------------------------------------------------------------------------------------- */
/* nghttp2 callbacks */

static int on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
		     size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *arg)
{
	(void)flags, (void)arg;
	struct ostream *n = stream_of(s, frame->hd.stream_id);
	if (!n || !n->ops || frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	if (nlen == 7 && memcmp(name, ":status", 7) == 0) {
		int st = 0;
		for (size_t i = 0; i < vlen && i < 3 && isdigit(value[i]); i++)
			st = st * 10 + (value[i] - '0');
		/* nghttp2 checks for three digits; "002" is three digits, not a status: the
		 * stream is reset (PROTOCOL_ERROR) and its flow ends with that error */
		if (st < 100)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		n->head.status = st;
		return 0;
	}
	if (nlen && name[0] == ':')
		return 0;
	flow_msg_add_header(&n->head, (const char *)name, nlen, (const char *)value, vlen);
	return 0;
}

/* The response is complete: on_end once. */
static void ended(struct ostream *n)
{
	if (n->ended || !n->ops)
		return;
	n->ended = 1;
	n->ops->on_end(n->arg);
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *frame, void *arg)
{
	struct h2origin *o = arg;
	if (frame->hd.type == NGHTTP2_GOAWAY) {
		o->goaway = 1;
		return 0;
	}
	struct ostream *n = frame->hd.stream_id ? stream_of(s, frame->hd.stream_id) : NULL;
	if (!n || !n->ops)
		return 0;
	int end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
	if (frame->hd.type == NGHTTP2_HEADERS) {
		if (!n->final && n->head.status >= 100 && n->head.status < 200) {
			flow_msg_clear(&n->head); /* an interim answer: the real one follows */
		} else if (!n->final) {
			n->final = 1;
			n->head.present = 1;
			n->head.version = 20;
			for (size_t i = 0; i < n->head.num_headers; i++)
				n->head.head_size += strlen(n->head.headers[i].name) +
						     strlen(n->head.headers[i].value) + 4;
			n->ops->on_head(n->arg, &n->head);
			flow_msg_clear(&n->head);
		} else {
			if (n->ops->on_trailers)
				n->ops->on_trailers(n->arg, &n->head);
			flow_msg_clear(&n->head);
		}
	}
	if (end && n->final && n->ops)
		ended(n);
	return 0;
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
			 size_t len, void *arg)
{
	(void)flags, (void)arg;
	struct ostream *n = stream_of(s, id);
	if (!n || !n->ops || !n->final) {
		nghttp2_session_consume(s, id, len); /* nobody takes them */
		return 0;
	}
	n->ops->on_data(n->arg, (const char *)data, len);
	return 0;
}

static void unlink_free(struct h2origin *o, struct ostream *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		o->streams = n->next;
	if (n->next)
		n->next->prev = n->prev;
	o->num_streams--;
	flow_msg_clear(&n->head);
	free(n);
}

const char h2origin_refused[] = "the origin refused the HTTP/2 stream unprocessed "
				"(REFUSED_STREAM or GOAWAY)";

/* A request that never left (its HEADERS could not be sent: GOAWAY came first): refused. */
static int on_not_sent(nghttp2_session *s, const nghttp2_frame *frame, int err, void *arg)
{
	struct h2origin *o = arg;
	(void)err;
	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	struct ostream *n = o->streams;
	while (n && n->id != frame->hd.stream_id)
		n = n->next;
	if (!n)
		return 0;
	if (n->ops)
		n->ops->on_close(n->arg, h2origin_refused);
	/* nghttp2 may have opened the stream already and closes it next (on_stream_close):
	 * it must not find this freed stream there */
	nghttp2_session_set_stream_user_data(s, frame->hd.stream_id, NULL);
	unlink_free(o, n);
	return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t code, void *arg)
{
	struct h2origin *o = arg;
	struct ostream *n = stream_of(s, id);
	if (!n)
		return 0;
	nghttp2_session_set_stream_user_data(s, id, NULL);
	if (n->ops) {
		const char *why = NULL;
		if (code == NGHTTP2_REFUSED_STREAM && !n->final)
			why = h2origin_refused; /* RFC 9113 8.7: not processed, may be retried */
		else if (code != NGHTTP2_NO_ERROR || !n->ended) {
			snprintf(o->why, sizeof o->why, "the origin reset the HTTP/2 stream (%s)",
				 nghttp2_http2_strerror(code));
			why = o->why;
		}
		n->ops->on_close(n->arg, why);
	}
	unlink_free(o, n);
	return 0;
}

static int dropped(const char *name, const char *value);

/* Submits the trailers of the request n's ops name, those that may go in HTTP/2 (no
 * connection-specific field, no Content-Length, no CR, LF or NUL). Returns 0 when some were
 * submitted (they end the stream), else -1. */
static int send_trailers(nghttp2_session *s, struct ostream *n)
{
	const struct flow_msg *m =
	    n->ops->request_trailers ? n->ops->request_trailers(n->arg) : NULL;
	if (!m || !m->num_trailers)
		return -1;
	nghttp2_nv *nv = xcalloc(m->num_trailers, sizeof *nv);
	size_t k = 0;
	for (size_t i = 0; i < m->num_trailers; i++) {
		const struct flow_header *t = &m->trailers[i];
		if (dropped(t->name, t->value) || strcasecmp(t->name, "content-length") == 0 ||
		    !t->name_len || strcspn(t->name, "\r\n") != t->name_len ||
		    strcspn(t->value, "\r\n") != t->value_len)
			continue; /* (strcspn stops at a NUL too) */
		nv[k++] = (nghttp2_nv){(uint8_t *)t->name, (uint8_t *)t->value, t->name_len,
				       t->value_len, NGHTTP2_NV_FLAG_NONE};
	}
	int rv = k ? nghttp2_submit_trailer(s, n->id, nv, k) : -1;
	free(nv);
	return rv == 0 ? 0 : -1;
}

static ssize_t on_read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
			    uint32_t *flags, nghttp2_data_source *src, void *arg)
{
	(void)id, (void)arg;
	struct ostream *n = src->ptr;
	int eof = 0;
	if (!n->ops) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		return 0;
	}
	size_t got = n->ops->on_read_body(n->arg, (char *)buf, len, &eof);
	if (eof) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		if (send_trailers(s, n) == 0)
			*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM; /* the trailers end the stream */
	} else if (got == 0) {
		return NGHTTP2_ERR_DEFERRED;
	}
	return (ssize_t)got;
}

/* ---------------------------------------------------------------------------------------- */
/* The session */

struct h2origin *h2origin_new(uint32_t window)
{
	struct h2origin *o = xcalloc(1, sizeof *o);
	nghttp2_session_callbacks *cb;
	nghttp2_option *opt;
	if (nghttp2_session_callbacks_new(&cb) != 0 || nghttp2_option_new(&opt) != 0)
		abort(); /* out of memory */
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	nghttp2_session_callbacks_set_on_frame_not_send_callback(cb, on_not_sent);
	nghttp2_option_set_no_auto_window_update(opt, 1);
	if (nghttp2_session_client_new2(&o->session, cb, o, opt) != 0)
		abort();
	nghttp2_session_callbacks_del(cb);
	nghttp2_option_del(opt);
	h2wire_settings(o->session, window);
	return o;
}

void h2origin_free(struct h2origin *o, const char *why)
{
	if (!o)
		return;
	while (o->streams) {
		struct ostream *n = o->streams;
		nghttp2_session_set_stream_user_data(o->session, n->id, NULL);
		if (n->ops)
			n->ops->on_close(n->arg, why);
		unlink_free(o, n);
	}
	nghttp2_session_del(o->session);
	free(o);
}

int h2origin_recv(struct h2origin *o, const char *data, size_t len, const char **err)
{
	ssize_t r = nghttp2_session_mem_recv(o->session, (const uint8_t *)data, len);
	if (r < 0) {
		o->goaway = 1;
		*err = nghttp2_strerror((int)r);
		return -1;
	}
	return 0;
}

int h2origin_send(struct h2origin *o, struct evbuffer *out, size_t limit, const char **err)
{
	if (h2wire_send(o->session, out, limit, err) == 0)
		return 0;
	o->goaway = 1;
	return -1;
}

int h2origin_usable(const struct h2origin *o)
{
	return !o->goaway && nghttp2_session_want_read(o->session);
}

size_t h2origin_streams(const struct h2origin *o)
{
	return o->num_streams;
}

int h2origin_not_sent(const char *name, const char *value)
{
	static const char *const names[] = {"connection",	 "keep-alive", "proxy-connection",
					    "transfer-encoding", "upgrade",    "http2-settings"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (strcasecmp(name, names[i]) == 0)
			return 1;
	return strcasecmp(name, "te") == 0 && strcasecmp(value, "trailers") != 0;
}

/* The headers that do not go as headers: those above, pseudo-headers, and Host (it becomes
 * :authority). */
static int dropped(const char *name, const char *value)
{
	return name[0] == ':' || strcasecmp(name, "host") == 0 || h2origin_not_sent(name, value);
}

static nghttp2_nv nv_of(const char *name, const char *value)
{
	nghttp2_nv nv = {(uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value),
			 NGHTTP2_NV_FLAG_NONE};
	return nv;
}

int32_t h2origin_submit(struct h2origin *o, const struct flow_msg *req, const char *scheme,
			const char *authority, const char *path, int body,
			const struct h2origin_ops *ops, void *arg)
{
	if (!h2origin_usable(o))
		return -1;
	const struct flow_header *host = flow_msg_header(req, "host");
	if (!authority || !authority[0])
		authority = host ? host->value : "";
	nghttp2_nv *nv = xcalloc(req->num_headers + 4, sizeof *nv);
	size_t k = 0;
	nv[k++] = nv_of(":method", req->method ? req->method : "GET");
	nv[k++] = nv_of(":scheme", scheme);
	nv[k++] = nv_of(":authority", authority);
	nv[k++] = nv_of(":path", path && path[0] ? path : "/");
	for (size_t i = 0; i < req->num_headers; i++) /* nghttp2 lowercases the names it copies */
		if (!dropped(req->headers[i].name, req->headers[i].value))
			nv[k++] = nv_of(req->headers[i].name, req->headers[i].value);
	struct ostream *n = xcalloc(1, sizeof *n);
	n->ops = ops;
	n->arg = arg;
	nghttp2_data_provider dp = {.source.ptr = n, .read_callback = on_read_body};
	int32_t id = nghttp2_submit_request(o->session, NULL, nv, k, body ? &dp : NULL, n);
	free(nv);
	if (id < 0) {
		free(n);
		return -1;
	}
	n->id = id;
	n->next = o->streams;
	if (o->streams)
		o->streams->prev = n;
	o->streams = n;
	o->num_streams++;
	return id;
}

void h2origin_resume(struct h2origin *o, int32_t id)
{
	if (stream_of(o->session, id))
		nghttp2_session_resume_data(o->session, id);
}

void h2origin_consume(struct h2origin *o, int32_t id, size_t n)
{
	if (n)
		nghttp2_session_consume(o->session, id, n);
}

void h2origin_cancel(struct h2origin *o, int32_t id)
{
	struct ostream *n = o->streams;
	while (n && n->id != id)
		n = n->next; /* (a request still queued has no nghttp2 stream yet) */
	if (!n || !n->ops)
		return;
	n->ops = NULL;
	if (!n->ended)
		nghttp2_submit_rst_stream(o->session, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
}
