/* SPDX-License-Identifier: MIT */
/* loadgen_h2.c - loadgen's --h2 mode: streams on an nghttp2 client session over the
 * connection's TLS; each stream's user data is its start time and status, a record on the
 * connection's list of streams in flight (nghttp2_session_del() calls no callback for the
 * streams still open: h2_end() frees what the list holds). A stream that ends gives one sample
 * and, while the run goes on, starts the next. */
#include "loadgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

struct h2stream {
	uint64_t t_start; /* ns: HEADERS submitted */
	int status;
	struct h2stream *prev, *next; /* conn.h2_streams */
};

static void unlink_stream(struct conn *c, struct h2stream *st)
{
	if (st->prev)
		st->prev->next = st->next;
	else
		c->h2_streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
}

static int h2_submit(struct conn *c)
{
	const struct config *cfg = c->w->cfg;
	char authority[300];
	snprintf(authority, sizeof authority, "%s:%d", c->name, cfg->port);
	nghttp2_nv nv[] = {
	    {(uint8_t *)":method", (uint8_t *)"GET", 7, 3, NGHTTP2_NV_FLAG_NONE},
	    {(uint8_t *)":scheme", (uint8_t *)"https", 7, 5, NGHTTP2_NV_FLAG_NONE},
	    {(uint8_t *)":authority", (uint8_t *)authority, 10, strlen(authority),
	     NGHTTP2_NV_FLAG_NONE},
	    {(uint8_t *)":path", (uint8_t *)cfg->path, 5, strlen(cfg->path), NGHTTP2_NV_FLAG_NONE},
	    {(uint8_t *)"user-agent", (uint8_t *)"flowscope-loadgen", 10, 17, NGHTTP2_NV_FLAG_NONE},
	};
	struct h2stream *st = calloc(1, sizeof *st);
	if (!st)
		die("out of memory");
	st->t_start = now_ns();
	if (nghttp2_submit_request(c->h2, NULL, nv, sizeof nv / sizeof *nv, NULL, st) < 0) {
		free(st);
		return -1;
	}
	st->next = c->h2_streams;
	if (st->next)
		st->next->prev = st;
	c->h2_streams = st;
	c->h2_open++;
	return 0;
}

/* Sends what the session has. Returns -1 on a session error. */
static int h2_flush(struct conn *c)
{
	const uint8_t *d;
	ssize_t n;
	while ((n = nghttp2_session_mem_send(c->h2, &d)) > 0)
		evbuffer_add(bufferevent_get_output(c->bev), d, (size_t)n);
	return n < 0 ? -1 : 0;
}

static int h2_on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
			size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *arg)
{
	(void)arg, (void)flags;
	struct h2stream *st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if (st && nlen == 7 && memcmp(name, ":status", 7) == 0 && vlen == 3)
		st->status = atoi((const char *)value);
	return 0;
}

static int h2_on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
		      size_t len, void *arg)
{
	struct conn *c = arg;
	(void)s, (void)flags, (void)id, (void)data;
	if (counting(c->w, now_ns()))
		c->w->body_bytes += len;
	return 0;
}

/* A stream ended: its sample, and the next stream while the run goes on. */
static int h2_on_close(nghttp2_session *s, int32_t id, uint32_t code, void *arg)
{
	struct conn *c = arg;
	struct worker *w = c->w;
	struct h2stream *st = nghttp2_session_get_stream_user_data(s, id);
	if (!st)
		return 0;
	c->h2_open--;
	w->served += code == NGHTTP2_NO_ERROR && st->status >= 200 && st->status < 400;
	if (counting(w, st->t_start)) {
		if (code == NGHTTP2_NO_ERROR && st->status >= 200 && st->status < 400) {
			w->requests++;
			add_sample(w, now_ns() - st->t_start);
		} else {
			w->errors++;
		}
	}
	unlink_stream(c, st);
	free(st);
	nghttp2_session_set_stream_user_data(s, id, NULL);
	if (may_issue(w))
		h2_submit(c);
	return 0;
}

void h2_start(struct conn *c)
{
	nghttp2_session_callbacks *cb;
	if (nghttp2_session_callbacks_new(&cb) != 0)
		die("out of memory");
	nghttp2_session_callbacks_set_on_header_callback(cb, h2_on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, h2_on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, h2_on_close);
	if (nghttp2_session_client_new(&c->h2, cb, c) != 0)
		die("nghttp2_session_client_new failed");
	nghttp2_session_callbacks_del(cb);
	nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
	nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, 1);
	nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, 1 << 26);
	c->state = ST_SENT;
	for (int i = 0; i < c->w->cfg->h2; i++) {
		if (i > 0 && !may_issue(c->w)) /* (start_conn counted the first) */
			break;
		h2_submit(c);
	}
	h2_flush(c);
}

int h2_input(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len = evbuffer_get_length(in);
	if (len && nghttp2_session_mem_recv(c->h2, evbuffer_pullup(in, -1), len) < 0) {
		conn_done(c, 1);
		return 1;
	}
	evbuffer_drain(in, len);
	if (h2_flush(c) != 0 || (c->h2_open == 0 && !nghttp2_session_want_write(c->h2))) {
		conn_done(c, c->h2_open != 0);
		return 1;
	}
	return 0;
}

void h2_end(struct conn *c)
{
	if (!c->h2)
		return;
	nghttp2_session_del(c->h2); /* (the start times of streams still open are lost) */
	c->h2 = NULL;
	while (c->h2_streams) {
		struct h2stream *st = c->h2_streams;
		c->h2_streams = st->next;
		free(st);
	}
	c->h2_open = 0;
}
