/* SPDX-License-Identifier: MIT */
/* client.c - the dispatcher of one client connection: accepting it, the libevent callbacks
 * of its bufferevent and of its upstream, the drive loop that picks the protocol module for
 * the state it is in, and its end.
 *
 * States (c->state; conn-t.h):
 *
 *   REQ_HEAD ──head──► CONNECTING ──upstream ready──► EXCHANGE ──response end──► REQ_HEAD
 *      │                 (DNS, TCP, TLS)               (request body streams up,      │
 *      │                                                response streams down)      close
 *      └─CONNECT─► tunnel.c: TUNNEL (passed through) or TLS split ──► REQ_HEAD (decrypted)
 *   EXCHANGE ──101──► TUNNEL (WebSocket);  any ──fatal──► CLOSING (flush, then free)
 *   a reverse listener's connection starts in PEEK_HELLO (tunnel.c): TLS or not, then REQ_HEAD;
 *   a transparent listener's too, then a tunnel to its original destination (tunnel.c)
 *
 * Who does what: HTTP/1 towards the client is h1server.c's (requests) and h1relay.c's
 * (responses, as the exchange's downstream), HTTP/2 h2conn.c's, CONNECT and SOCKS tunnel.c's;
 * the flow's life is exchange.c's, driving the upstream origin.c's, the upstream connection
 * upstream.c's. What they share of the connection (closing, timeouts, backpressure, the
 * enter/leave bracket) is conn.c's, below them all: they never call this file. It reaches
 * this file only through struct conn_ops (conn-t.h): the drive loop, the free, the client's
 * callbacks.
 *
 * The drive loop: inner code never moves bytes on its own; it asks for it (conn_want()), and
 * the callback on its way out runs drive() (conn_leave()), which reads the client's input and
 * the upstream's while there is work and room. So no pump runs inside another.
 *
 * Ownership: struct conn owns the client bufferevent (BEV_OPT_CLOSE_ON_FREE, so the fd and SSL
 * go with it), the request parser, the exchange (its flow) and the upstream connection. Every
 * libevent callback (and every callback of the upstream) brackets its work in
 * conn_enter()/conn_leave(); inner code only calls conn_close(), and conn_leave() is the only
 * caller of free_conn(), so a conn is freed exactly once, never under a callback that still
 * uses it. */
#include "client.h"

#include "conn-t.h"
#include "h1relay.h"
#include "h1server.h"
#include "h2conn.h"
#include "origin.h"
#include "tls.h"
#include "tunnel.h"
#include "util.h"
#include "wscapture.h"

#include <assert.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

/* ---------------------------------------------------------------------------------------- */
/* The drive loop: move bytes while the state allows and the other side has room. */

/* The client closed and everything it sent was handled. */
static void client_drained(struct conn *c)
{
	if (!c->client_eof || evbuffer_get_length(bufferevent_get_input(c->client)) != 0)
		return;
	if (c->state == CONN_TUNNEL) {
		conn_close_after_flush(c, "client closed the tunnel");
	} else if (c->state == CONN_REQ_HEAD || c->state == CONN_PEEK_HELLO ||
		   c->state == CONN_SOCKS || c->state == CONN_H2) {
		conn_close_after_flush(c, "client closed");
	} else if ((c->state == CONN_EXCHANGE && !c->x.req_done) || c->state == CONN_HOLD_REQ) {
		exchange_fail(&c->x,
			      "client closed the connection before the request was complete");
		conn_close_after_flush(c, "client closed");
	}
	/* EXCHANGE with the request done: the response still goes out, then close */
}

/* One step of reading the client's input in the current state. */
static enum conn_step client_step(struct conn *c)
{
	switch (c->state) {
	case CONN_REQ_HEAD:
	case CONN_EXCHANGE:
	case CONN_HOLD_REQ:
		return h1server_read(c);
	case CONN_PAUSED:
		/* nothing is read while paused; a client that left ends the flow */
		if (c->client_eof) {
			exchange_fail(&c->x, "client disconnected while paused");
			conn_close(c, "client left while paused");
		}
		return CONN_STEP_STOP;
	case CONN_SOCKS:
		return tunnel_socks_read(c);
	case CONN_H2:
		return h2conn_read(c);
	case CONN_PEEK_HELLO:
		tunnel_peek_hello(c);
		return c->state == CONN_PEEK_HELLO ? CONN_STEP_DRAINED : CONN_STEP_AGAIN;
	case CONN_TUNNEL:
		return h1relay_tunnel_read(c);
	default:
		return CONN_STEP_STOP; /* CONNECTING, TLS set-up: bytes wait in the input */
	}
}

static void pump_client(struct conn *c)
{
	enum conn_step s = CONN_STEP_AGAIN;
	while (s == CONN_STEP_AGAIN && !c->close_reason && c->state != CONN_CLOSING && c->client)
		s = client_step(c);
	if (s == CONN_STEP_DRAINED)
		client_drained(c);
}

/* Runs what inner code asked for (conn_want) until nothing is left or the connection closes.
 * Called by conn_leave() only (c->ops->drive), outside any pump. */
static void drive(struct conn *c)
{
	while (c->want && !c->close_reason) {
		unsigned want = c->want;
		c->want = 0;
		if (want & CONN_WANT_CLIENT)
			pump_client(c);
		if ((want & CONN_WANT_UPSTREAM) && !c->close_reason && c->h2)
			h2conn_pump(c);
		else if ((want & CONN_WANT_UPSTREAM) && !c->close_reason)
			h1relay_pump(c);
	}
	c->want = 0;
}

/* ---------------------------------------------------------------------------------------- */
/* The intercept's commands (intercept.c runs them on this worker) */

void client_command(void *conn, uint64_t id, enum intercept_cmd cmd, struct flow *edit)
{
	struct conn *c = conn;
	conn_enter(c);
	if (c->h2 && !c->close_reason) {
		h2conn_command(c, id, cmd, edit);
		conn_leave(c);
		return;
	}
	if (c->state != CONN_PAUSED || !c->x.paused || !c->x.flow || c->close_reason) {
		flow_free(edit);
		conn_leave(c);
		return;
	}
	origin_command(&c->x, cmd, edit);
	conn_leave(c);
}

/* ---------------------------------------------------------------------------------------- */
/* libevent callbacks: each one enters, works, and leaves (which drives, and may free). */

static void on_client_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	conn_enter(c);
	bevio_fill_input(bev);
	conn_want(c, CONN_WANT_CLIENT);
	conn_leave(c);
}

/* Output drained: finish a close, or resume the side that waited for room. */
static void on_write(struct conn *c, struct bufferevent *bev)
{
	if (c->state == CONN_CLOSING) {
		if (!conn_unsent(c->client) && !conn_unsent(c->up.bev))
			conn_close(c, "flushed");
		return;
	}
	if (bev == c->up.bev) {
		if (c->x.req_done && c->x.flow && !c->x.flow->t.request_sent)
			c->x.flow->t.request_sent = util_now_us();
		if (c->blocked_up) {
			c->blocked_up = 0;
			bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
			conn_want(c, CONN_WANT_CLIENT);
		}
	} else if (c->blocked_down) {
		c->blocked_down = 0;
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		conn_want(c, CONN_WANT_UPSTREAM);
	}
}

static void on_client_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	conn_enter(c);
	on_write(c, bev);
	conn_leave(c);
}

/* The client's connection failed (ERROR, checked before EOF: a reset often comes as EOF|ERROR
 * at once). */
static void client_error(struct conn *c, struct bufferevent *bev)
{
	char buf[256];
	const char *why =
	    c->state == CONN_TLS_CLIENT ? tls_bev_error_text(bev, buf, sizeof buf) : NULL;
	char *msg;
	if (c->state == CONN_TLS_CLIENT)
		msg = xasprintf("client TLS handshake failed: %s (the client probably does "
				"not trust the flowscope CA)",
				why ? why : "error");
	else if (c->state == CONN_PAUSED)
		msg = xstrdup("client disconnected while paused");
	else
		msg = xasprintf("client connection error: %s",
				why ? why : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	exchange_fail(&c->x, msg);
	free(msg);
	conn_close(c, "client error");
}

static void client_eof(struct conn *c, struct bufferevent *bev)
{
	c->client_eof = 1;
	if (c->state == CONN_TLS_CLIENT) {
		exchange_fail(&c->x, "client closed the connection during the TLS handshake "
				     "(it probably does not trust the flowscope CA)");
		conn_close(c, "client left");
	} else if (c->state == CONN_CLOSING) {
		conn_close(c, "client left");
	} else if (c->state == CONN_EXCHANGE && c->x.req_done && bufferevent_openssl_get_ssl(bev)) {
		/* A plain client may half-close after its request and still read the answer; a
		 * TLS client that closes is gone. */
		exchange_fail(&c->x, "client closed the connection before the response was "
				     "complete");
		conn_close(c, "client left");
	} else {
		conn_want(c, CONN_WANT_CLIENT);
	}
}

/* No byte from the client for the timeout. Bytes it sent that wait for room upstream, or a
 * client waiting for the upstream, are not its fault; a head or request body that stalls is
 * (h1server_timed_out(): 408). */
static void client_timeout(struct conn *c, struct bufferevent *bev)
{
	int unread = evbuffer_get_length(bufferevent_get_input(bev)) != 0;
	if (c->state == CONN_REQ_HEAD && !http1_in_message(c->req)) {
		c->orderly = 1;
		conn_close(c, "idle timeout");
	} else if (c->state == CONN_H2 && h2conn_idle(c)) {
		h2conn_goaway(c, "idle timeout");
	} else if (c->state == CONN_H2) {
		bufferevent_enable(bev, EV_READ); /* streams wait on their upstreams */
	} else if (c->state == CONN_TUNNEL || c->state == CONN_CONNECTING || unread ||
		   (c->state == CONN_EXCHANGE && c->x.req_done)) {
		bufferevent_enable(bev, EV_READ); /* waiting on the upstream is fine */
	} else if (c->state == CONN_REQ_HEAD || c->state == CONN_EXCHANGE ||
		   c->state == CONN_HOLD_REQ) {
		h1server_timed_out(c);
	} else {
		char *msg = xasprintf("client timed out (%d s)", conn_env(c)->timeout_s);
		exchange_fail(&c->x, msg);
		free(msg);
		conn_close(c, "client timeout");
	}
}

static void on_client_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	conn_enter(c);
	if (what & BEV_EVENT_CONNECTED) {
		tls_drop_prefix(bufferevent_openssl_get_ssl(bev));
		bevio_read_ahead(bev);
		tunnel_client_ready(c); /* the TLS handshake with the client is done */
		if (c->state == CONN_REQ_HEAD &&
		    tls_client_alpn_h2(bufferevent_openssl_get_ssl(bev)))
			h2conn_start(c);
	} else if (what & BEV_EVENT_ERROR)
		client_error(c, bev);
	else if (what & BEV_EVENT_EOF)
		client_eof(c, bev);
	else if ((what & BEV_EVENT_TIMEOUT) && bevio_timeout_wanted(bev, &c->client_to, what))
		client_timeout(c, bev);
	conn_leave(c);
}

/* ---------------------------------------------------------------------------------------- */
/* Callbacks of the upstream connection (upstream.c) */

static void on_up_read(void *arg)
{
	struct conn *c = arg;
	conn_enter(c);
	conn_want(c, CONN_WANT_UPSTREAM);
	conn_leave(c);
}

static void on_up_write(void *arg)
{
	struct conn *c = arg;
	conn_enter(c);
	on_write(c, c->up.bev);
	conn_leave(c);
}

/* The upstream connection is up (TCP only for a CONNECT to decrypt), or could not be made. */
static void on_up_ready(void *arg, enum upstream_status st, const char *err)
{
	struct conn *c = arg;
	conn_enter(c);
	if (st == UPSTREAM_OK) {
		if (c->state == CONN_TLS_UPSTREAM)
			tunnel_start_client_tls(c);
		else if (c->purpose == UP_SPLIT)
			tunnel_answer(
			    c); /* TCP is up; TLS starts once the ClientHello gave the SNI */
		else if (c->purpose == UP_PASS)
			tunnel_passed(c);
		else
			origin_ready(&c->x);
	} else if (st == UPSTREAM_SELF) {
		char *msg = xasprintf("refusing to proxy a request to %s:%d: that is "
				      "flowscope itself (its proxy or web address)",
				      c->up.host, c->up.port);
		conn_free_upstream(c);
		if (!c->tun_answered && !(c->lst->mode == PROXY_SOCKS5 && c->purpose == UP_PASS))
			h1server_send_error(c, 403, "Forbidden", msg);
		else if (tunnel_connect_failed(c, msg) != 0) /* in-band, or in SOCKS's terms */
			h1server_send_error(c, 502, "Bad Gateway", msg);
		free(msg);
	} else if (c->state == CONN_TLS_UPSTREAM) {
		/* Tell the client over TLS: forge for the name it asked for, then answer its first
		 * request with this error. */
		free(c->pending_error);
		c->pending_error = xstrdup(err);
		conn_free_upstream(c);
		tunnel_start_client_tls(c);
	} else if (c->purpose == UP_REQUEST) {
		origin_failed(&c->x, err); /* 502 */
	} else if (tunnel_connect_failed(c, err) != 0) {
		h1server_send_error(c, 502, "Bad Gateway", err);
	}
	conn_leave(c);
}

/* The connected upstream closed, failed or timed out. */
static void on_up_event(void *arg, short what, const char *why)
{
	struct conn *c = arg;
	conn_enter(c);
	if ((what & BEV_EVENT_TIMEOUT) && c->state == CONN_EXCHANGE && !c->x.req_done &&
	    (what & BEV_EVENT_READING)) {
		bufferevent_enable(c->up.bev, EV_READ); /* still uploading: no answer expected */
	} else if (what & BEV_EVENT_TIMEOUT) {
		char *msg = xasprintf("%s:%d did not answer within %d s", c->up.host, c->up.port,
				      conn_env(c)->timeout_s);
		if (c->state == CONN_EXCHANGE) {
			conn_free_upstream(c);
			h1server_send_error(c, 502, "Bad Gateway", msg);
		} else if (c->state == CONN_TUNNEL) {
			bufferevent_enable(c->up.bev, EV_READ);
		} else {
			conn_free_upstream(c);
		}
		free(msg);
	} else if (what & BEV_EVENT_ERROR) {
		/* buffered input is still relayed; then the close counts as an error */
		if (c->state == CONN_EXCHANGE || c->state == CONN_TUNNEL)
			h1relay_pump(c);
		if (c->up.bev && !c->close_reason)
			h1relay_upstream_closed(c, why);
	} else {
		conn_want(c, CONN_WANT_UPSTREAM);
	}
	conn_leave(c);
}

static const struct upstream_ops up_ops = {on_up_ready, on_up_read, on_up_write, on_up_event};

/* ---------------------------------------------------------------------------------------- */
/* Lifetime */

/* Ends the client's TLS session with a close_notify when the proxy closes on purpose. A body
 * that runs until the connection closes is complete only with one: strict clients (OpenSSL
 * 3's default, Python's without suppress_ragged_eofs) report an end without it as an error.
 * After a response was cut short upstream it is left out, so that the client sees the cut.
 * Never waits for the client's reply. */
static void say_close_notify(struct conn *c)
{
	SSL *ssl = c->client ? bufferevent_openssl_get_ssl(c->client) : NULL;
	if (!ssl || !c->orderly || c->cut_short || !SSL_is_init_finished(ssl))
		return;
	SSL_shutdown(ssl); /* non-blocking socket: sent now or not at all */
	ERR_clear_error();
}

static void free_conn(struct conn *c)
{
	exchange_unpause(&c->x);
	wscapture_free(c->ws); /* its last messages and close go before the flow's END */
	if (c->x.flow) {
		struct flow *f = c->x.flow;
		if ((f->kind == FLOW_TUNNEL || (f->flags & FLOW_F_WEBSOCKET)) &&
		    !c->shutting_down && c->x.begun)
			exchange_emit(&c->x, FLOW_EV_END); /* a tunnel's normal end */
		else
			exchange_fail(&c->x, c->pending_error ? c->pending_error : c->close_reason);
	}
	h2conn_free(c, c->close_reason);
	conn_free_upstream(c);
	say_close_notify(c);
	if (c->client)
		bufferevent_free(c->client);
	http1_free(c->req);
	upstream_clear(&c->up);
	exchange_clear(&c->x);
	free(c->tun_host);
	free(c->t_host);
	free(c->pending_error);
	free(c->client_tls_version);
	if (c->head_timer)
		event_free(c->head_timer);
	if (c->soon)
		evbuffer_free(c->soon);
	if (c->prev)
		c->prev->next = c->next;
	else
		c->w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

/* What conn.c (below the protocol modules) calls up here for. */
static const struct conn_ops ops = {drive, free_conn, on_client_read, on_client_write,
				    on_client_event};

static void nodelay(evutil_socket_t fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void client_accept(struct env_worker *w, evutil_socket_t fd, const struct sockaddr *addr,
		   int addrlen, const struct proxy_listener *l)
{
	(void)addrlen;
	struct transparent_dst tr = {"", 0};
	if (l->mode == PROXY_TRANSPARENT && transparent_original_dst(w->env, fd, addr, &tr) != 0) {
		evutil_closesocket(fd);
		return;
	}
	nodelay(fd);
	struct bufferevent *bev =
	    bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!bev) {
		evutil_closesocket(fd);
		return;
	}
	struct conn *c = xcalloc(1, sizeof *c);
	c->ops = &ops;
	c->w = w;
	c->lst = l;
	c->tr = tr;
	env_addr_text(addr, c->client_addr, sizeof c->client_addr);
	struct http1_sink rs = h1server_sink(c), ps = origin_sink(&c->x);
	c->req = http1_new(HTTP1_REQUEST, &rs);
	upstream_init(&c->up, w, &up_ops, &ps, c);
	c->up.via = conn_via(c);
	exchange_init(&c->x, w->env);
	c->x.mode = l->label;
	h1relay_attach(c);
	/* a reverse or transparent listener's client may speak TLS: its first bytes tell */
	int peek = l->mode == PROXY_REVERSE || l->mode == PROXY_TRANSPARENT;
	c->state = peek ? CONN_PEEK_HELLO : l->mode == PROXY_SOCKS5 ? CONN_SOCKS : CONN_REQ_HEAD;
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	conn_set_client(c, bev);
	conn_set_client_timeout(c, w->env->timeout_s, 0);
	bufferevent_enable(c->client, EV_READ | EV_WRITE);
}

void client_close_all(struct env_worker *w, const char *why)
{
	while (w->conns) {
		struct conn *c = w->conns;
		/* runs from the stop event, never under a callback of c */
		assert(c->depth == 0);
		conn_enter(c);
		c->close_reason = why;
		c->shutting_down = 1;
		conn_leave(c); /* frees c, as for any other close */
	}
}
