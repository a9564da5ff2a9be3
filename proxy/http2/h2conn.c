/* SPDX-License-Identifier: MIT */
/* h2conn.c - HTTP/2 towards the client on a decrypted connection (the client connection's state
 * CONN_H2): each stream of the session (http2.c) is one exchange (exchange.c) with its own upstream
 * connection, HTTP/1.1 to the origin (origin.c drives it), and this file is the exchange's
 * downstream (the decoded path: response head, body pieces, end, error page).
 *
 *   client bytes ──http2_recv──► on_request ──► exchange + slot ──origin.c──► HTTP/1.1 origin
 *   client ◄──http2_send── DATA ◄── s->resp ◄── on_response_body ◄──────────────────┘
 *
 * Upstreams: a pool of slots per client connection (struct slot, each an upstream.c
 * connection). A stream takes a slot when its request starts (a kept-alive one to the same
 * place first), and gives it back when its response ended: idle, it carries the next stream's
 * request. As many stay idle as streams may run at once: a client that keeps 100 streams busy
 * would otherwise pay a new upstream handshake for most of its requests (8 idle: 1.6k requests/s
 * at 1 connection x 100 streams; 100 idle: 8.9k). Slots live until the client connection ends,
 * so x->up never dangles.
 *
 * Flow control is the backpressure. Request body bytes wait in s->req until the origin takes
 * them (origin_room), and only then are they acknowledged to the client (http2_consume), so a
 * stream whose origin is slow, or that is being connected, holds only its own window. The
 * response body waits in s->resp until nghttp2 sends it (within the client's window); the
 * origin is not read for that stream while s->resp is over STREAM_BUF or the client's output
 * is over HIGH_WATER (is_full).
 *
 * Everything runs inside conn_enter()/conn_leave(); this file asks for work with conn_want()
 * (CONN_WANT_UPSTREAM: h2conn_pump() pumps the streams that want it, then sends), and frames
 * are sent (http2_send) only from h2conn_read() and h2conn_pump(), never under an origin.c
 * callback: a stream is freed in on_close(), which only nghttp2's send or receive calls. */
#include "h2conn.h"

#include "h2conn-t.h"

#include "alpn.h"
#include "h2up.h"
#include "http2.h"
#include "origin.h"
#include "url.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <nghttp2/nghttp2.h>

static void stream_error_page(struct h2s *s, int status, const char *reason, const char *msg);

/* ---------------------------------------------------------------------------------------- */
/* Upstream slots */

static void sink_head(void *arg, struct flow_msg *head)
{
	struct slot *sl = arg;
	sl->sink.on_head(sl->sink.arg, head);
}

static void sink_body(void *arg, const char *data, size_t len)
{
	struct slot *sl = arg;
	sl->sink.on_body(sl->sink.arg, data, len);
}

static void sink_end(void *arg)
{
	struct slot *sl = arg;
	sl->sink.on_end(sl->sink.arg);
}

/* An HTTP/1.1 origin's chunked trailers: kept in the flow, relayed after the body. */
static void sink_trailers(void *arg, const struct flow_msg *trailers)
{
	struct slot *sl = arg;
	sl->sink.on_trailers(sl->sink.arg, trailers);
	if (sl->s && sl->s->st && !sl->s->over)
		http2_trailers(sl->s->st, trailers);
}

static void on_up_ready(void *arg, enum upstream_status st, const char *err)
{
	struct slot *sl = arg;
	struct conn *c = sl->h->c;
	conn_enter(c);
	struct h2s *s = sl->s;
	if (!s) {
		upstream_close(&sl->u);
	} else if (st == UPSTREAM_OK) {
		origin_ready(&s->x);
	} else if (st == UPSTREAM_SELF) {
		char *msg = xasprintf("refusing to proxy a request to %s:%d: that is flowscope "
				      "itself (its proxy or web address)",
				      sl->u.host, sl->u.port);
		upstream_close(&sl->u);
		stream_error_page(s, 403, "Forbidden", msg);
		free(msg);
	} else {
		origin_failed(&s->x, err);
	}
	conn_leave(c);
}

static void on_up_read(void *arg)
{
	struct slot *sl = arg;
	conn_enter(sl->h->c);
	if (sl->s)
		h2conn_kick(sl->s);
	else
		upstream_close(&sl->u); /* an idle upstream that talks: not HTTP to us */
	conn_leave(sl->h->c);
}

static void on_up_write(void *arg)
{
	struct slot *sl = arg;
	conn_enter(sl->h->c);
	struct h2s *s = sl->s;
	if (s && s->x.req_done && s->x.flow && !s->x.flow->t.request_sent)
		s->x.flow->t.request_sent = util_now_us();
	if (s && s->blocked_up) {
		s->blocked_up = 0;
		bufferevent_setwatermark(sl->u.bev, EV_WRITE, 0, 0);
		h2conn_kick(s);
	}
	conn_leave(sl->h->c);
}

static void on_up_event(void *arg, short what, const char *why)
{
	struct slot *sl = arg;
	struct conn *c = sl->h->c;
	struct h2s *s = sl->s;
	conn_enter(c);
	if (!s) {
		upstream_close(&sl->u); /* an idle kept-alive upstream went away */
	} else if ((what & BEV_EVENT_TIMEOUT) && !s->x.req_done && (what & BEV_EVENT_READING)) {
		bufferevent_enable(sl->u.bev, EV_READ); /* still uploading: no answer expected */
	} else if (what & BEV_EVENT_TIMEOUT) {
		char *msg = xasprintf("%s:%d did not answer within %d s", sl->u.host, sl->u.port,
				      conn_env(c)->timeout_s);
		upstream_close(&sl->u);
		stream_error_page(s, 502, "Bad Gateway", msg);
		free(msg);
	} else if (what & BEV_EVENT_ERROR) {
		if (!s->x.paused)
			origin_pump(&s->x); /* what came before the error still goes */
		if (sl->s == s && sl->u.bev)
			origin_closed(&s->x, why);
	} else {
		h2conn_kick(s);
	}
	conn_leave(c);
}

static const struct upstream_ops slot_ops = {on_up_ready, on_up_read, on_up_write, on_up_event};

/* A slot for a request to host:port: a kept-alive one to that place, else an unused one,
 * else a new one. */
static struct slot *take_slot(struct h2conn *h, const char *host, int port, int tls)
{
	struct slot *free_one = NULL;
	for (struct slot *sl = h->slots; sl; sl = sl->next) {
		if (sl->s)
			continue;
		if (upstream_reusable(&sl->u, host, port, tls))
			return sl;
		if (!free_one && !sl->u.host)
			free_one = sl;
	}
	if (free_one)
		return free_one;
	struct slot *sl = xcalloc(1, sizeof *sl);
	struct http1_sink trampoline = {sink_head, sink_body, sink_end, sl, sink_trailers};
	upstream_init(&sl->u, h->c->w, &slot_ops, &trampoline, sl);
	sl->u.via = conn_via(h->c);
	sl->h = h;
	sl->next = h->slots;
	h->slots = sl;
	return sl;
}

/* s is done with its slot: idle (kept alive, up to MAX_IDLE) or closed. */
static void release_slot(struct h2s *s)
{
	struct slot *sl = s->slot;
	if (!sl)
		return;
	sl->s = NULL;
	s->slot = NULL;
	s->blocked_up = 0;
	if (!sl->u.bev)
		return;
	size_t idle = 0;
	for (struct slot *o = s->h->slots; o; o = o->next)
		idle += !o->s && o->u.bev;
	if (idle > MAX_IDLE || !s->x.req_done) {
		upstream_close(&sl->u);
		return;
	}
	upstream_set_timeouts(&sl->u, 0, 0);
	bufferevent_setwatermark(sl->u.bev, EV_WRITE, 0, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* The exchange's downstream */

static void on_response_head(void *arg, const struct flow_msg *head)
{
	struct h2s *s = arg;
	s->x.flow->response.version = 20;
	s->bodyless = strcmp(s->x.flow->request.method, "HEAD") == 0 || head->status == 204 ||
		      head->status == 304;
	/* END_STREAM waits for the exchange's end, even without a body: the origin's parser may
	 * see the end of a body-less response only with its next bytes. A 101 has no HTTP/2
	 * form: on_response_end() answers 502 instead. */
	if (s->st && head->status != 101)
		http2_respond(s->h->session, s->st, head, 0);
	h2conn_kick(s);
}

static void on_response_body(void *arg, const char *data, size_t len)
{
	struct h2s *s = arg;
	if (len == 0 || s->bodyless)
		return; /* empty pieces wake no one; a body where none may be is not sent */
	evbuffer_add(s->resp, data, len);
	if (s->st)
		http2_resume(s->h->session, s->st);
	h2conn_kick(s);
}

static void on_response_msg(void *arg, const struct flow_msg *m, int bodyless)
{
	struct h2s *s = arg;
	s->x.flow->response.version = 20;
	if (s->st)
		http2_respond(s->h->session, s->st, m, bodyless);
	if (!bodyless)
		evbuffer_add(s->resp, m->body.data, m->body.len);
	s->x.flow->bytes_down += m->body.len;
	h2conn_kick(s);
}

static void on_response_end(void *arg, unsigned how)
{
	struct h2s *s = arg;
	if (how & EXCHANGE_END_UPGRADED) {
		/* a 101 the request never asked for (Upgrade is refused on h2): nothing to relay */
		upstream_close(&s->slot->u);
		s->resp_done = 0;
		stream_error_page(s, 502, "Bad Gateway",
				  "the origin switched protocols (101), which HTTP/2 cannot carry");
		return;
	}
	s->resp_done = 1;
	s->over = 1;
	release_slot(s);
	if (s->st)
		http2_resume(s->h->session, s->st);
	h2conn_kick(s);
}

static void on_error_page(void *arg, int status, const char *reason, const char *msg)
{
	stream_error_page(arg, status, reason, msg);
}

/* The exchange failed with msg: a page when no response head went out, else a reset. */
static void stream_error_page(struct h2s *s, int status, const char *reason, const char *msg)
{
	struct http2_stream *st = s->st;
	if (st && !st->responded) {
		struct flow_msg head = {.status = status};
		flow_msg_add_header(&head, "content-type", 12, "text/plain; charset=utf-8", 25);
		http2_respond(s->h->session, st, &head, 0);
		flow_msg_clear(&head);
		evbuffer_add_printf(s->resp, "%d %s\n\n%s\n\nflowscope\n", status, reason, msg);
	} else if (st) {
		http2_reset(s->h->session, st, NGHTTP2_INTERNAL_ERROR);
	}
	log_debug("%s: stream %d: %d %s", s->h->c->client_addr, st ? st->id : 0, status, msg);
	s->resp_done = 1;
	s->over = 1;
	h2up_detach(s);
	if (s->slot)
		upstream_close(&s->slot->u);
	release_slot(s);
	exchange_fail(&s->x, msg);
	if (st)
		http2_resume(s->h->session, st);
	h2conn_kick(s);
}

static int is_full(void *arg)
{
	struct h2s *s = arg;
	struct conn *c = s->h->c;
	if (evbuffer_get_length(s->resp) < STREAM_BUF && !conn_over(c->client))
		return 0;
	if (conn_over(c->client))
		conn_block_on(c->client, &c->blocked_down);
	s->blocked_down = 1;
	return 1;
}

static void on_pause_reading(void *arg)
{
	struct h2s *s = arg;
	s->up_ready = 0; /* the upstream is being reached: the body waits for the head */
}

static void on_resume_reading(void *arg)
{
	struct h2s *s = arg;
	s->up_ready = 1;
	h2conn_kick(s);
}

static void on_paused(void *arg, enum exchange_side side)
{
	struct h2s *s = arg;
	if (s->slot && s->slot->u.bev)
		upstream_set_timeouts(&s->slot->u, 0, 0);
	exchange_pause(&s->x, side, s->h->c->w->base, s->h->c);
}

static int on_forward(void *arg, struct evbuffer *body)
{
	return h2up_forward(arg, body); /* to the h2 origin, if it is this request's */
}

static const struct exchange_downstream h2_down = {
    .on_response_head = on_response_head,
    .on_response_body = on_response_body,
    .on_response_msg = on_response_msg,
    .on_response_end = on_response_end,
    .on_error_page = on_error_page,
    .is_full = is_full,
    .on_pause_reading = on_pause_reading,
    .on_resume_reading = on_resume_reading,
    .on_paused = on_paused,
    .on_forward = on_forward,
};

/* ---------------------------------------------------------------------------------------- */
/* Requests */

/* Fills where f goes: the tunnel's host (a reverse listener's server), and what the client's
 * TLS was. Returns the Host to send (owned, may be NULL): :authority, or the reverse
 * listener's server (unless keep_host_header keeps :authority). */
static char *route(struct conn *c, struct flow *f, const char *path, const char *authority)
{
	const struct proxy_listener *l = c->lst;
	char *host = NULL;
	if (c->tun_host) {
		flow_put_str(f, &f->scheme, c->tun_tls ? "https" : "http");
		flow_put_str(f, &f->host, c->tun_host);
		f->port = (uint16_t)c->tun_port;
		host = authority ? xstrdup(authority) : NULL;
	} else {
		char a[URL_HOST_MAX + 16];
		url_format_authority(a, sizeof a, l->target_host, l->target_port,
				     l->target_tls ? 443 : 80);
		flow_put_str(f, &f->scheme, l->target_tls ? "https" : "http");
		flow_put_str(f, &f->host, l->target_host);
		f->port = (uint16_t)l->target_port;
		host = xstrdup(authority && conn_env(c)->cfg->keep_host_header ? authority : a);
	}
	flow_set_str(&f->path, path ? path : "/");
	f->flags |= FLOW_F_TLS;
	flow_put_str(f, &f->tls.sni, c->sni[0] ? c->sni : NULL);
	flow_put_str(f, &f->tls.client_version, c->client_tls_version);
	return host;
}

/* A block rule's answer, made here; the flow ends with it. */
static void answer_blocked(struct h2s *s, int status)
{
	const char *type, *body;
	size_t len;
	exchange_block_answer(&s->x, status, &type, &body, &len);
	struct flow_msg head = {.status = s->x.flow->response.status};
	flow_msg_add_header(&head, "content-type", 12, type, strlen(type));
	http2_respond(s->h->session, s->st, &head, 0);
	flow_msg_clear(&head);
	evbuffer_add(s->resp, body, len);
	s->x.flow->response.version = 20;
	s->x.local_answer = s->x.resp_started = 1;
	s->resp_done = s->over = 1;
	release_slot(s);
	exchange_emit(&s->x, FLOW_EV_END);
	h2conn_kick(s);
}

static void on_request(void *arg, struct http2_stream *st, int end)
{
	struct h2conn *h = arg;
	struct conn *c = h->c;
	struct h2s *s = xcalloc(1, sizeof *s);
	s->h = h;
	s->st = st;
	s->req = evbuffer_new();
	s->resp = evbuffer_new();
	st->user = s;
	s->next = h->streams;
	if (h->streams)
		h->streams->prev = s;
	h->streams = s;
	exchange_init(&s->x, conn_env(c));
	s->x.mode = c->lst->label;
	s->x.down = &h2_down;
	s->x.down_arg = s;
	s->x.via_host = c->tun_host;
	s->x.via_sni = c->sni[0] ? c->sni : NULL;
	struct flow *f = exchange_start(&s->x, c->client_addr, st->start);
	f->stream_id = (uint32_t)st->id;
	f->request = st->head;
	memset(&st->head, 0, sizeof st->head);
	char *authority = route(c, f, f->request.target, st->authority);
	exchange_strip_cookie(&f->request, conn_env(c)->cfg->token_cookie);
	if (end)
		s->req_ended = 1;
	else if (!flow_msg_header(&f->request, "content-length")) {
		/* HTTP/1.1 needs the body framed: chunked, as it comes */
		flow_msg_add_header(&f->request, "transfer-encoding", 17, "chunked", 7);
		s->chunked = 1;
	}
	const struct flow_header *ex = flow_msg_header(&f->request, "expect");
	if (ex && strcasecmp(ex->value, "100-continue") == 0) {
		/* answered here, as HTTP/1 does: the body comes while the origin is reached */
		http2_continue(h->session, st);
		exchange_remove_headers(&f->request, "expect");
	}
	s->slot = take_slot(h, f->host, f->port, strcmp(f->scheme, "https") == 0);
	s->slot->s = s;
	s->slot->sink = origin_sink(&s->x);
	s->x.up = &s->slot->u;
	if (c->pending_error) {
		free(authority);
		exchange_emit(&s->x, FLOW_EV_BEGIN);
		stream_error_page(s, 502, "Bad Gateway", c->pending_error);
		return;
	}
	int r = origin_request(&s->x, authority);
	if (r != ORIGIN_SENT && r != ORIGIN_HELD)
		answer_blocked(s, r);
	h2conn_kick(s);
}

static void on_data(void *arg, struct http2_stream *st, const char *data, size_t len)
{
	struct h2s *s = st->user;
	(void)arg;
	if (s->x.flow)
		flow_msg_add_body(&s->x.flow->request, data, len,
				  env_body_limit(conn_env(s->h->c)));
	evbuffer_add(s->req, data, len);
	h2conn_kick(s);
}

static void on_end(void *arg, struct http2_stream *st)
{
	struct h2s *s = st->user;
	(void)arg;
	if (s->x.flow && st->head.num_trailers) { /* the request's trailers, kept in the flow */
		struct flow_msg *rq = &s->x.flow->request;
		for (size_t i = 0; i < st->head.num_trailers; i++)
			flow_msg_add_trailer(
			    rq, st->head.trailers[i].name, st->head.trailers[i].name_len,
			    st->head.trailers[i].value, st->head.trailers[i].value_len);
	}
	s->req_ended = 1;
	h2conn_kick(s);
}

/* The last chunk of a request body chunked for HTTP/1.1, with the client's trailers (nghttp2
 * checked their names and values; those that frame the message are left out). */
static void last_chunk(struct evbuffer *out, const struct flow_msg *rq)
{
	evbuffer_add(out, "0\r\n", 3);
	for (size_t i = 0; i < rq->num_trailers; i++) {
		const struct flow_header *t = &rq->trailers[i];
		if (strcasecmp(t->name, "content-length") != 0 &&
		    strcasecmp(t->name, "transfer-encoding") != 0)
			evbuffer_add_printf(out, "%s: %s\r\n", t->name, t->value);
	}
	evbuffer_add(out, "\r\n", 2);
}

/* Moves request body bytes to the exchange as far as the upstream takes them; each byte taken
 * is given back to the client's window. */
static void feed_request(struct h2s *s)
{
	struct http2 *session = s->h->session;
	size_t len;
	if (s->up_id && !s->over && s->x.hold != EXCHANGE_REQUEST) {
		h2up_feed(s); /* HTTP/2 to the origin: no HTTP/1.1 framing */
		return;
	}
	while ((len = evbuffer_get_length(s->req)) > 0) {
		if (s->over || !s->x.flow) {
			evbuffer_drain(s->req, len); /* answered already: dropped */
			http2_consume(session, s->st, len);
			continue;
		}
		if ((s->x.hold != EXCHANGE_REQUEST && !s->up_ready) || !origin_room(&s->x)) {
			if (s->up_ready && s->x.up->bev) {
				s->blocked_up = 1;
				bufferevent_setwatermark(s->x.up->bev, EV_WRITE,
							 BEVIO_HIGH_WATER / 2, 0);
			}
			return;
		}
		if (len > BEVIO_HIGH_WATER)
			len = BEVIO_HIGH_WATER;
		if (s->chunked) {
			struct evbuffer *chunk = evbuffer_new();
			evbuffer_add_printf(chunk, "%zx\r\n", len);
			evbuffer_remove_buffer(s->req, chunk, len);
			evbuffer_add(chunk, "\r\n", 2);
			origin_request_body(&s->x, chunk, evbuffer_get_length(chunk));
			evbuffer_free(chunk);
		} else {
			origin_request_body(&s->x, s->req, len);
		}
		http2_consume(session, s->st, len);
	}
	if (!s->req_ended || s->req_sent || s->over || !s->x.flow)
		return;
	if (s->chunked) {
		if ((s->x.hold != EXCHANGE_REQUEST && !s->up_ready) || !origin_room(&s->x))
			return;
		struct evbuffer *last = evbuffer_new();
		last_chunk(last, &s->x.flow->request);
		origin_request_body(&s->x, last, evbuffer_get_length(last));
		evbuffer_free(last);
	}
	s->req_sent = 1;
	origin_request_end(&s->x);
}

/* The stream closed: an exchange still running ends with why (or a generic reason). A stream
 * refused before its request started is recorded as a failed flow of its own. */
static void record_refused(struct h2conn *h, struct http2_stream *st, const char *why)
{
	struct exchange x;
	exchange_init(&x, conn_env(h->c));
	x.mode = h->c->lst->label;
	struct flow *f = exchange_start(&x, h->c->client_addr, st->start);
	f->stream_id = (uint32_t)st->id;
	f->request = st->head;
	memset(&st->head, 0, sizeof st->head);
	f->request.present = 1;
	f->request.version = 20;
	free(route(h->c, f, f->request.target, NULL));
	log_info("%s: stream %d refused: %s", h->c->client_addr, st->id, why);
	exchange_fail(&x, why);
	exchange_clear(&x);
}

static void on_close(void *arg, struct http2_stream *st, const char *why)
{
	struct h2conn *h = arg;
	struct h2s *s = st->user;
	if (!s) {
		if (st->refused)
			record_refused(h, st, st->refused);
		return;
	}
	s->st = NULL;
	if (s->x.flow) {
		exchange_unpause(&s->x);
		if (s->slot)
			upstream_close(
			    &s->slot->u); /* in the middle of an exchange: not reusable */
		exchange_fail(&s->x, why ? why
					 : "the HTTP/2 stream closed before the exchange was "
					   "complete");
	}
	release_slot(s);
	h2up_detach(s);
	http2_consume(h->session, NULL, evbuffer_get_length(s->req));
	if (s->prev)
		s->prev->next = s->next;
	else
		h->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	exchange_clear(&s->x);
	evbuffer_free(s->req);
	evbuffer_free(s->resp);
	if (s->up_body)
		evbuffer_free(s->up_body);
	free(s);
}

static size_t on_read_body(void *arg, struct http2_stream *st, char *buf, size_t len, int *eof)
{
	struct h2s *s = st->user;
	(void)arg;
	if (!s) {
		*eof = 1;
		return 0;
	}
	int n = evbuffer_remove(s->resp, buf, len);
	size_t left = evbuffer_get_length(s->resp);
	if (n > 0 && s->unacked)
		h2up_sent(s, (size_t)n); /* the h2 origin may send that much more */
	if (left == 0 && s->resp_done)
		*eof = 1;
	if (s->blocked_down && left < STREAM_BUF / 2)
		h2conn_kick(s);
	return n > 0 ? (size_t)n : 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Driving the session */

/* Sends what nghttp2 has, up to the client's high-water mark; ends the connection when the
 * session is over. */
static void flush(struct conn *c)
{
	const char *err = NULL;
	if (http2_send(c->h2->session, bufferevent_get_output(c->client), HIGH_WATER, &err) != 0) {
		log_info("%s: HTTP/2: %s", c->client_addr, err);
		conn_close(c, err);
		return;
	}
	if (conn_over(c->client))
		conn_block_on(c->client, &c->blocked_down);
	else if (evbuffer_get_length(bufferevent_get_input(c->client)))
		conn_want(c, CONN_WANT_CLIENT); /* frames left unread while the output was full */
	else if (http2_done(c->h2->session))
		conn_close_after_flush(c, "HTTP/2 session over");
}

void h2conn_start(struct conn *c)
{
	struct h2conn *h = xcalloc(1, sizeof *h);
	struct http2_sink sink = {on_request, on_data, on_end, on_close, on_read_body, h};
	h->c = c;
	h->session = http2_new(&sink, STREAM_WINDOW);
	c->h2 = h;
	c->state = CONN_H2;
	/* the connection made to forge the certificate carries the first stream's request */
	if (c->up.bev && c->up.connected && !c->pending_error && c->up.tls &&
	    alpn_chosen(bufferevent_openssl_get_ssl(c->up.bev)) == ALPN_H2) {
		h2up_adopt(h, &c->up); /* the origin speaks h2: its streams go there as such */
	} else if (c->up.bev && c->up.connected && !c->pending_error) {
		struct slot *sl = take_slot(h, c->up.host, c->up.port, c->up.tls);
		upstream_move(&sl->u, &c->up);
		upstream_set_timeouts(&sl->u, 0, 0);
	}
	conn_free_upstream(c); /* the streams have upstreams of their own */
	conn_set_client_timeout(c, conn_env(c)->timeout_s, 0);
	conn_want(c, CONN_WANT_CLIENT | CONN_WANT_UPSTREAM);
}

enum conn_step h2conn_read(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->client);
	struct evbuffer_iovec v;
	if (conn_over(c->client)) {
		conn_block_on(c->client, &c->blocked_down); /* the client does not read */
		return CONN_STEP_STOP;
	}
	if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
		return CONN_STEP_DRAINED;
	const char *err = NULL;
	int r = http2_recv(c->h2->session, v.iov_base, v.iov_len, &err);
	evbuffer_drain(in, v.iov_len);
	if (r != 0) {
		char *msg = xasprintf("HTTP/2 connection error from the client: %s", err);
		log_info("%s: %s", c->client_addr, msg);
		flush(c);
		http2_free(c->h2->session, msg);
		c->h2->session = NULL;
		free(msg);
		conn_close_after_flush(c, "HTTP/2 connection error");
		return CONN_STEP_STOP;
	}
	conn_want(c, CONN_WANT_UPSTREAM); /* sends what the frames asked for */
	return CONN_STEP_AGAIN;
}

void h2conn_pump(struct conn *c)
{
	struct h2conn *h = c->h2;
	if (!h || !h->session)
		return;
	for (struct h2s *s = h->streams; s && !c->close_reason; s = s->next) {
		if (!s->want && !s->blocked_down)
			continue;
		s->want = s->blocked_down = 0;
		feed_request(s);
		if (s->x.flow && s->slot && s->slot->u.bev && !s->x.paused && !s->over)
			origin_pump(&s->x);
		if (s->up_id && s->x.update_due && s->x.flow && !s->x.paused) {
			s->x.update_due = 0; /* an h2 origin's head, its body still coming */
			exchange_emit(&s->x, FLOW_EV_UPDATE);
		}
	}
	h2up_flush(h);
	if (!c->close_reason && c->state == CONN_H2)
		flush(c);
	if (!c->close_reason)
		h2up_flush(h); /* the window updates for what the client's session just sent */
}

void h2conn_command(struct conn *c, uint64_t id, enum intercept_cmd cmd, struct flow *edit)
{
	for (struct h2s *s = c->h2 ? c->h2->streams : NULL; s; s = s->next) {
		if (s->x.paused && s->x.paused_id == id && s->x.flow) {
			origin_command(&s->x, cmd, edit);
			h2conn_kick(s);
			return;
		}
	}
	flow_free(edit);
}

int h2conn_idle(const struct conn *c)
{
	return !c->h2 || !c->h2->streams;
}

void h2conn_goaway(struct conn *c, const char *why)
{
	const char *err = NULL;
	if (c->h2 && c->h2->session) {
		http2_goaway(c->h2->session);
		http2_send(c->h2->session, bufferevent_get_output(c->client), HIGH_WATER, &err);
	}
	conn_close_after_flush(c, why);
}

void h2conn_free(struct conn *c, const char *why)
{
	struct h2conn *h = c->h2;
	if (!h)
		return;
	char *msg = xasprintf("the HTTP/2 connection ended before the response was complete (%s)",
			      why ? why : "closed");
	http2_free(h->session, msg);
	h2up_free(h, msg);
	free(msg);
	while (h->slots) {
		struct slot *sl = h->slots;
		h->slots = sl->next;
		upstream_clear(&sl->u);
		free(sl);
	}
	free(h);
	c->h2 = NULL;
}
