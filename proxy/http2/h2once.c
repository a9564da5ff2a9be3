/* SPDX-License-Identifier: MIT */
/* h2once.c - one request over HTTP/2 on an upstream connection (see h2once.h), with the
 * h2origin.c client session: the stored body is given as nghttp2 asks, the response body is
 * consumed as it comes (it is stored, capped, never relayed), frames go out up to the
 * upstream's high-water mark and again when it drained. */
#include "h2once.h"

#include "bevio.h"
#include "h2origin.h"
#include "upstream.h"
#include "url.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

struct h2once {
	struct upstream *u; /* borrowed */
	struct flow *f;	    /* borrowed */
	struct h2origin *o; /* owned */
	size_t limit, sent; /* body_limit; request body bytes given */
	int32_t id;
	h2once_done_fn done;
	void *arg;
	int over; /* done ran */
};

static void finish(struct h2once *q, const char *err)
{
	if (q->over)
		return;
	q->over = 1;
	if (!q->f->t.end)
		q->f->t.end = util_now_us();
	q->done(q->arg, err);
}

static void on_head(void *arg, struct flow_msg *head)
{
	struct h2once *q = arg;
	if (!q->f->t.first_byte)
		q->f->t.first_byte = util_now_us();
	flow_msg_clear(&q->f->response);
	q->f->response = *head;
	memset(head, 0, sizeof *head);
}

static void on_data(void *arg, const char *data, size_t len)
{
	struct h2once *q = arg;
	flow_msg_add_body(&q->f->response, data, len, q->limit);
	q->f->bytes_down += len;
	h2origin_consume(q->o, q->id, len);
}

static void on_trailers(void *arg, const struct flow_msg *trailers)
{
	struct h2once *q = arg;
	for (size_t i = 0; i < trailers->num_headers; i++)
		flow_msg_add_trailer(&q->f->response, trailers->headers[i].name,
				     trailers->headers[i].name_len, trailers->headers[i].value,
				     trailers->headers[i].value_len);
}

static void on_end(void *arg)
{
	finish(arg, NULL);
}

static void on_close(void *arg, const char *why)
{
	if (why)
		finish(arg, why);
}

static size_t on_read_body(void *arg, char *buf, size_t len, int *eof)
{
	struct h2once *q = arg;
	const struct flow_buf *b = &q->f->request.body;
	size_t n = b->len - q->sent < len ? b->len - q->sent : len;
	memcpy(buf, b->data + q->sent, n);
	q->sent += n;
	*eof = q->sent == b->len;
	if (*eof && !q->f->t.request_sent)
		q->f->t.request_sent = util_now_us();
	return n;
}

/* A replayed request's trailers go with it, as they were captured. */
static const struct flow_msg *request_trailers(void *arg)
{
	struct h2once *q = arg;
	return &q->f->request;
}

/* Drops from m the headers that h2 does not send (h2origin_not_sent()): the record says what
 * went. Above all the Transfer-Encoding: chunked that replayreq.c wrote for an HTTP/1.1 wire
 * when the request has trailers; on h2 they go in a trailing HEADERS frame instead. */
static void drop_not_sent(struct flow_msg *m)
{
	size_t j = 0;
	for (size_t i = 0; i < m->num_headers; i++) {
		if (h2origin_not_sent(m->headers[i].name, m->headers[i].value))
			flow_msg_free_header(m, &m->headers[i]);
		else
			m->headers[j++] = m->headers[i];
	}
	m->num_headers = j;
}

static const struct h2origin_ops ops = {on_head,  on_data,	on_trailers,	 on_end,
					on_close, on_read_body, request_trailers};

void h2once_write(struct h2once *q)
{
	const char *err = NULL;
	if (q->over || !q->u->bev)
		return;
	if (h2origin_send(q->o, bufferevent_get_output(q->u->bev), BEVIO_HIGH_WATER, &err) != 0)
		finish(q, err);
}

struct h2once *h2once_start(struct upstream *u, struct flow *f, size_t body_limit,
			    h2once_done_fn done, void *arg)
{
	struct h2once *q = xcalloc(1, sizeof *q);
	q->u = u;
	q->f = f;
	q->limit = body_limit;
	q->done = done;
	q->arg = arg;
	q->o = h2origin_new(256 * 1024);
	char authority[URL_HOST_MAX + 16];
	url_format_authority(authority, sizeof authority, f->host, f->port, 443);
	f->request.version = 20;
	drop_not_sent(&f->request);
	q->id = h2origin_submit(q->o, &f->request, f->scheme, authority, f->path,
				f->request.body.len > 0, &ops, q);
	f->bytes_up += f->request.head_size + f->request.body.len;
	if (f->request.body.len == 0)
		f->t.request_sent = util_now_us();
	return q;
}

void h2once_read(struct h2once *q)
{
	struct evbuffer *in = bufferevent_get_input(q->u->bev);
	struct evbuffer_iovec v;
	const char *err = NULL;
	while (!q->over && evbuffer_peek(in, -1, NULL, &v, 1) == 1 && v.iov_len > 0) {
		int r = h2origin_recv(q->o, v.iov_base, v.iov_len, &err);
		evbuffer_drain(in, v.iov_len);
		if (r != 0)
			finish(q, err);
	}
	h2once_write(q); /* window updates, settings acknowledged */
}

void h2once_closed(struct h2once *q, const char *why)
{
	h2once_read(q);
	finish(q, why ? why : "the origin closed the HTTP/2 connection before the response");
}

void h2once_free(struct h2once *q)
{
	if (!q)
		return;
	q->over = 1; /* done never runs from here */
	h2origin_free(q->o, "replay abandoned");
	free(q);
}
