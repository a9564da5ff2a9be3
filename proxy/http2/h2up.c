/* SPDX-License-Identifier: MIT */
/* h2up.c - an h2 origin for the streams of one HTTP/2 client connection (see h2up.h).
 *
 *   client stream ──h2conn.c──► exchange ──on_forward──► h2up_forward ──h2origin_submit──►
 *   h2 origin (one TLS connection, p->u) ──h2origin_recv──► origin_sink() ──► h2conn.c's
 *   downstream (s->resp) ──http2_send──► client
 *
 * The exchange keeps its slot (x.up, never connected) so that origin.c's rules, holds and
 * resumes run unchanged; only the bytes go here. Flow control both ways: request bytes leave
 * s->req for s->up_body (and are acknowledged to the client) only while s->up_body holds
 * fewer than STREAM_BUF, and nghttp2 sends them within the origin's window; response bytes
 * are acknowledged to the origin (h2origin_consume) as the client's session sends them
 * (h2up_sent), or at once when the intercept holds the response whole. So a slow client or a
 * paused stream holds only its own stream's window at the origin.
 *
 * Each stream has the upstream timeout of HTTP/1 (FLOWSCOPE_TIMEOUT): a timer armed when the
 * request is submitted and again at each sign of progress (response bytes from the origin,
 * request bytes or response bytes moving on). When it fires while the origin owes the stream
 * something (the request is sent whole and none of its response waits for the client), the
 * origin stream is reset (CANCEL) and the client gets a 504, or a reset once a head went out;
 * the connection's other streams go on. Stopped at the response's end.
 *
 * The origin's connection ending (EOF, error, a broken session) ends each of its streams with
 * a 502 or a reset, and new streams go over HTTP/1.1 slots; p stays (dead) until h2up_free(),
 * since it may end inside its own upstream's callback. */
#include "h2conn-t.h"

#include "alpn.h"
#include "h2origin.h"
#include "h2up.h"
#include "http2.h"
#include "origin.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

struct h2up {
	struct upstream u;  /* the origin connection (TLS, ALPN h2) */
	struct h2origin *o; /* owned: the client session over it */
	struct h2conn *h;   /* borrowed: the owner */
	char *host;	    /* owned: where it goes */
	int port;
	int busy;	   /* its session is calling back: not to be freed by prune() */
	int ready;	   /* connected and agreed to h2: frames may go */
	int dead;	   /* the connection or the session ended */
	struct h2up *next; /* in h->up2, newest first */
};

/* ---------------------------------------------------------------------------------------- */
/* The connection */

static void end(struct h2up *p, const char *why)
{
	if (p->dead)
		return;
	p->dead = 1;
	char *msg =
	    xasprintf("the h2 origin %s:%d: %s", p->u.host ? p->u.host : "?", p->u.port, why);
	log_debug("%s: %s", p->h->c->client_addr, msg);
	p->busy++;
	h2origin_free(p->o, msg); /* each stream's on_close: a 502, a reset or a retry */
	p->busy--;
	p->o = h2origin_new(STREAM_WINDOW); /* (empty, unusable: dead) */
	free(msg);
	upstream_close(&p->u);
	conn_want(p->h->c, CONN_WANT_UPSTREAM);
}

/* A connection made anew (the first one ended or sent GOAWAY): h2 again, or its streams fail. */
static void on_ready(void *arg, enum upstream_status st, const char *err)
{
	struct h2up *p = arg;
	conn_enter(p->h->c);
	if (st != UPSTREAM_OK)
		end(p, st == UPSTREAM_SELF ? "that is flowscope itself" : err);
	else if (alpn_chosen(bufferevent_openssl_get_ssl(p->u.bev)) != ALPN_H2)
		end(p, "no longer agrees to h2 (ALPN)");
	else {
		p->ready = 1;
		upstream_set_timeouts(&p->u, 0, 0);
		bufferevent_enable(p->u.bev, EV_READ | EV_WRITE);
		conn_want(p->h->c, CONN_WANT_UPSTREAM);
	}
	conn_leave(p->h->c);
}

/* Feeds what the origin sent to the session. */
static void read_input(struct h2up *p)
{
	struct evbuffer *in = bufferevent_get_input(p->u.bev);
	struct evbuffer_iovec v;
	const char *err = NULL;
	while (!p->dead && evbuffer_peek(in, -1, NULL, &v, 1) == 1 && v.iov_len > 0) {
		p->busy++;
		int r = h2origin_recv(p->o, v.iov_base, v.iov_len, &err);
		p->busy--;
		evbuffer_drain(in, v.iov_len);
		if (r != 0) {
			h2up_flush(p->h); /* its GOAWAY */
			end(p, err);
		}
	}
}

static void on_read(void *arg)
{
	struct h2up *p = arg;
	struct conn *c = p->h->c;
	conn_enter(c);
	read_input(p);
	conn_want(c, CONN_WANT_UPSTREAM);
	conn_leave(c);
}

static void on_write(void *arg)
{
	struct h2up *p = arg;
	conn_enter(p->h->c);
	conn_want(p->h->c, CONN_WANT_UPSTREAM);
	conn_leave(p->h->c);
}

static void on_event(void *arg, short what, const char *why)
{
	struct h2up *p = arg;
	conn_enter(p->h->c);
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		read_input(p); /* what came before the end still counts (a GOAWAY, the last DATA) */
		end(p, why ? why : "closed the connection");
	}
	conn_leave(p->h->c);
}

static const struct upstream_ops up_ops = {on_ready, on_read, on_write, on_event};

static void no_head(void *arg, struct flow_msg *head)
{
	(void)arg, (void)head;
}

static void no_body(void *arg, const char *data, size_t len)
{
	(void)arg, (void)data, (void)len;
}

static void no_end(void *arg)
{
	(void)arg;
}

static struct h2up *add(struct h2conn *h, struct env_worker *w, struct dial_via via,
			const char *host, int port)
{
	struct h2up *p = xcalloc(1, sizeof *p);
	struct http1_sink unused = {no_head, no_body, no_end, p, NULL}; /* no HTTP/1 on it */
	upstream_init(&p->u, w, &up_ops, &unused, p);
	p->u.via = via;
	p->o = h2origin_new(STREAM_WINDOW);
	p->h = h;
	p->host = xstrdup(host);
	p->port = port;
	p->next = h->up2;
	h->up2 = p;
	return p;
}

void h2up_adopt(struct h2conn *h, struct upstream *from)
{
	struct h2up *p = add(h, from->w, from->via, from->host, from->port);
	upstream_move(&p->u, from);
	upstream_set_timeouts(&p->u, 0, 0);
	bufferevent_enable(p->u.bev, EV_READ | EV_WRITE);
	p->ready = 1;
}

/* Frees the ended connections that no stream uses any more (none of their callbacks runs). */
static void prune(struct h2conn *h)
{
	for (struct h2up **pp = &h->up2; *pp;) {
		struct h2up *p = *pp;
		if (!p->dead || p->busy) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		h2origin_free(p->o, NULL);
		upstream_clear(&p->u);
		free(p->host);
		free(p);
	}
}

/* The h2 origin for host:port that takes new streams: one in use, else a new connection to an
 * origin that spoke h2 on this client connection before (it ended, or sent GOAWAY), else
 * NULL. */
static struct h2up *origin_for(struct h2conn *h, const char *host, int port, int tls)
{
	struct h2up *known = NULL;
	if (!tls)
		return NULL;
	for (struct h2up *p = h->up2; p; p = p->next) {
		if (p->port != port || strcasecmp(p->host, host) != 0)
			continue;
		if (!p->dead && h2origin_usable(p->o) && !p->u.eof)
			return p;
		known = p;
	}
	if (!known)
		return NULL;
	struct conn *c = h->c;
	struct h2up *p = add(h, known->u.w, known->u.via, host, port);
	prune(h); /* (known among them, maybe) */
	int same = c->tun_host && strcasecmp(host, c->tun_host) == 0;
	upstream_connect(&p->u, host, port, 1, same && c->sni[0] ? c->sni : NULL,
			 UPSTREAM_ALPN(ALPN_H2));
	return p->dead ? NULL : p;
}

void h2up_flush(struct h2conn *h)
{
	const char *err = NULL;
	for (struct h2up *p = h->up2; p; p = p->next) {
		if (p->dead || !p->ready || !p->u.bev)
			continue;
		p->busy++;
		int r = h2origin_send(p->o, bufferevent_get_output(p->u.bev), HIGH_WATER, &err);
		p->busy--;
		if (r != 0)
			end(p, err);
	}
}

void h2up_free(struct h2conn *h, const char *why)
{
	while (h->up2) {
		struct h2up *p = h->up2;
		h->up2 = p->next;
		h2origin_free(p->o, why);
		upstream_clear(&p->u);
		free(p->host);
		free(p);
	}
}

/* ---------------------------------------------------------------------------------------- */
/* A stream's timeout */

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct h2s *s = arg;
	struct conn *c = s->h->c;
	conn_enter(c);
	if (!s->req_sent || s->unacked > 0) {
		/* the origin may be waiting on us (the rest of the request, its window) */
		evtimer_add(s->up_timer, c->w->timeout_tv);
	} else if (s->up_id && !s->over) {
		char *msg = xasprintf("the origin sent nothing for %d s", conn_env(c)->timeout_s);
		/* cancels the origin stream */
		s->x.down->on_error_page(s->x.down_arg, 504, "Gateway Timeout", msg);
		free(msg);
		conn_want(c, CONN_WANT_UPSTREAM);
	}
	conn_leave(c);
}

/* The origin made progress on s (or may now): the timeout counts from now. */
static void progress(struct h2s *s)
{
	struct conn *c = s->h->c;
	if (!s->up_timer)
		s->up_timer = evtimer_new(c->w->base, on_timeout, s);
	evtimer_add(s->up_timer, c->w->timeout_tv);
}

static void stop_timer(struct h2s *s)
{
	if (s->up_timer)
		evtimer_del(s->up_timer);
}

/* ---------------------------------------------------------------------------------------- */
/* A stream's response */

static void on_head(void *arg, struct flow_msg *head)
{
	struct h2s *s = arg;
	struct http1_sink sk = origin_sink(&s->x);
	if (s->x.flow && !s->x.flow->t.first_byte)
		s->x.flow->t.first_byte = util_now_us();
	progress(s);
	sk.on_head(sk.arg, head);
}

static void on_data(void *arg, const char *data, size_t len)
{
	struct h2s *s = arg;
	struct http1_sink sk = origin_sink(&s->x);
	size_t before = evbuffer_get_length(s->resp);
	progress(s);
	if (s->x.flow)
		s->x.flow->bytes_down += len;
	sk.on_body(sk.arg, data, len);
	size_t queued = evbuffer_get_length(s->resp) - before;
	s->unacked += queued;
	/* what did not wait for the client (held whole, or a body where none may be) goes back
	 * to the origin's window now */
	h2origin_consume(s->up2->o, s->up_id, len - queued);
}

static void on_trailers(void *arg, const struct flow_msg *trailers)
{
	struct h2s *s = arg;
	progress(s);
	if (s->x.flow) /* kept in the flow as received */
		for (size_t i = 0; i < trailers->num_headers; i++)
			flow_msg_add_trailer(&s->x.flow->response, trailers->headers[i].name,
					     trailers->headers[i].name_len,
					     trailers->headers[i].value,
					     trailers->headers[i].value_len);
	if (s->st && !s->over)
		http2_trailers(s->st, trailers); /* relayed after the body */
}

static void on_end(void *arg)
{
	struct h2s *s = arg;
	struct http1_sink sk = origin_sink(&s->x);
	stop_timer(s);
	sk.on_end(sk.arg);
	origin_response_done(&s->x);
}

static void on_close(void *arg, const char *why)
{
	struct h2s *s = arg;
	s->up_id = 0;
	s->up2 = NULL;
	stop_timer(s);
	/* not processed by the origin (its GOAWAY crossed the request): once more, on a new
	 * connection, when nothing of its body was given to the old one */
	if (why == h2origin_refused && !s->over && s->x.flow && !s->x.resp_final &&
	    !s->up_retried && !s->up_sent) {
		s->up_retried = 1;
		if (h2up_forward(s, NULL))
			return;
	}
	if (why && !s->over)
		s->x.down->on_error_page(s->x.down_arg, 502, "Bad Gateway", why);
}

static size_t on_read_body(void *arg, char *buf, size_t len, int *eof)
{
	struct h2s *s = arg;
	int n = evbuffer_remove(s->up_body, buf, len);
	size_t left = evbuffer_get_length(s->up_body);
	s->up_sent |= n > 0;
	if (n > 0)
		progress(s);
	if (left == 0 && s->req_sent) {
		*eof = 1;
		if (s->x.flow && !s->x.flow->t.request_sent)
			s->x.flow->t.request_sent = util_now_us();
	}
	if (left < STREAM_BUF / 2 && evbuffer_get_length(s->req))
		h2conn_kick(s);
	return n > 0 ? (size_t)n : 0;
}

/* The client's request trailers (h2conn.c keeps them in the flow at the request's end, before
 * the body's end can be given): they go on to the origin. */
static const struct flow_msg *request_trailers(void *arg)
{
	struct h2s *s = arg;
	return s->x.flow ? &s->x.flow->request : NULL;
}

static const struct h2origin_ops stream_ops = {on_head,	 on_data,      on_trailers,	on_end,
					       on_close, on_read_body, request_trailers};

/* ---------------------------------------------------------------------------------------- */
/* A stream's request */

int h2up_forward(struct h2s *s, struct evbuffer *body)
{
	struct flow *f = s->x.flow;
	int tls = f->scheme && strcmp(f->scheme, "https") == 0;
	struct h2up *p = origin_for(s->h, f->host, f->port, tls);
	if (!p)
		return 0;
	if (!s->up_body)
		s->up_body = evbuffer_new();
	if (s->chunked) /* HTTP/2 frames the body itself: no chunks, nor the header that said so */
		exchange_remove_headers(&f->request, "transfer-encoding");
	s->chunked = 0;
	if (body)
		evbuffer_add_buffer(s->up_body, body);
	int has_body = !s->req_ended || evbuffer_get_length(s->req) ||
		       evbuffer_get_length(s->up_body) || f->request.body_size;
	if (s->req_ended && !evbuffer_get_length(s->req))
		s->req_sent = 1; /* everything is in up_body already */
	int32_t id = h2origin_submit(p->o, &f->request, f->scheme, s->x.authority, f->path,
				     has_body, &stream_ops, s);
	if (id < 0)
		return 0;
	s->up_id = id;
	s->up2 = p;
	s->up_ready = 1;
	progress(s);
	if (p->ready)
		upstream_describe(&p->u, f);
	f->bytes_up += f->request.head_size;
	if (s->req_sent) {
		s->x.req_done = 1;
		if (!has_body)
			f->t.request_sent = util_now_us();
	}
	h2conn_kick(s);
	return 1;
}

void h2up_feed(struct h2s *s)
{
	struct h2up *p = s->up2;
	size_t moved = 0, len;
	while ((len = evbuffer_get_length(s->req)) > 0 &&
	       evbuffer_get_length(s->up_body) < STREAM_BUF) {
		if (len > STREAM_BUF)
			len = STREAM_BUF;
		evbuffer_remove_buffer(s->req, s->up_body, len);
		http2_consume(s->h->session, s->st, len);
		if (s->x.flow)
			s->x.flow->bytes_up += len;
		moved += len;
	}
	if (s->req_ended && !evbuffer_get_length(s->req) && !s->req_sent) {
		s->req_sent = 1;
		origin_request_end(&s->x);
		moved = 1;
	}
	if (moved && p && s->up_id)
		h2origin_resume(p->o, s->up_id);
}

void h2up_sent(struct h2s *s, size_t n)
{
	struct h2up *p = s->up2;
	if (n > s->unacked)
		n = s->unacked;
	s->unacked -= n;
	if (p && !p->dead && s->up_id) {
		h2origin_consume(p->o, s->up_id, n);
		if (n)
			progress(s);
	}
}

void h2up_detach(struct h2s *s)
{
	struct h2up *p = s->up2;
	if (p && !p->dead && s->up_id)
		h2origin_cancel(p->o, s->up_id);
	s->up_id = 0;
	if (s->up_timer)
		event_free(s->up_timer);
	s->up_timer = NULL;
}
