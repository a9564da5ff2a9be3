/* SPDX-License-Identifier: MIT */
/* h1relay.c - HTTP/1 as the downstream of an exchange: what origin.c hands back (response
 * bytes, a held response, the end, an error page, backpressure, a pause) turned into bytes
 * on the client's connection and the connection's next state.
 *
 * The fast path: HTTP/1 towards the client speaks the origin's framing, so the response is
 * relayed as it came: on_response_raw() moves the bytes from the upstream's input to the
 * client's output with evbuffer_remove_buffer(), no copy (a small response through c->soon,
 * written straight to the socket as the callback ends: conn_flush_soon()). After the response,
 * the connection waits for the next request, becomes a raw tunnel (101: WebSocket) or closes.
 * Nothing here frees the connection. */
#include "h1relay.h"

#include "bevio.h"
#include "h1server.h"
#include "origin.h"
#include "util.h"
#include "wire.h"
#include "wscapture.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

/* The response's bytes as the parser frames them (head, then body): a small response is held
 * in c->soon until the callback ends, so that it goes out whole. */
static void on_response_raw(void *arg, struct evbuffer *src, size_t n)
{
	struct conn *c = arg;
	size_t held = c->soon ? evbuffer_get_length(c->soon) : 0;
	if (held + n <= COALESCE_MAX && !conn_unsent(c->client)) {
		if (!c->soon)
			c->soon = evbuffer_new();
		if (c->soon) {
			evbuffer_remove_buffer(src, c->soon, n);
			return;
		}
	}
	conn_flush_soon(c);
	struct evbuffer *out = bufferevent_get_output(c->client);
	evbuffer_remove_buffer(src, out, n);
	if (evbuffer_get_length(out) <= COALESCE_MAX && bufferevent_openssl_get_ssl(c->client))
		evbuffer_pullup(out, -1);
}

static void on_response_msg(void *arg, const struct flow_msg *m, int bodyless)
{
	struct conn *c = arg;
	conn_flush_soon(c);
	struct evbuffer *out = bufferevent_get_output(c->client);
	size_t before = evbuffer_get_length(out);
	c->x.head_text.len = 0;
	wire_response_head(&c->x.head_text, m);
	evbuffer_add(out, c->x.head_text.data, c->x.head_text.len);
	if (!bodyless)
		evbuffer_add(out, m->body.data, m->body.len);
	c->x.flow->bytes_down += evbuffer_get_length(out) - before;
	c->state = CONN_EXCHANGE;
}

/* The request asked to upgrade to a WebSocket. */
static int is_websocket(const struct flow_msg *req)
{
	const struct flow_header *h = flow_msg_header(req, "Upgrade");
	for (size_t i = 0; h && i + 9 <= h->value_len; i++)
		if (strncasecmp(h->value + i, "websocket", 9) == 0)
			return 1;
	return 0;
}

/* n bytes were just appended to out, from the client (from_client) or the upstream: a
 * WebSocket's capture reads them; a malformed frame ends the socket with the flow's error. */
static void ws_tap(struct conn *c, int from_client, struct evbuffer *out, size_t n)
{
	if (!c->ws || !n)
		return;
	if (wscapture_tap(c->ws, from_client, out, n) != 0) {
		/* what was relayed (the bad frame too) still goes out; then the socket ends */
		if (c->x.flow)
			flow_set_error(c->x.flow, wscapture_error(c->ws));
		if (c->state != CONN_CLOSING)
			conn_close_after_flush(c, "malformed WebSocket frame");
	}
	wscapture_flush(c->ws);
}

/* The response is complete: decide what the client connection does next. */
static void on_response_end(void *arg, unsigned how)
{
	struct conn *c = arg;
	conn_flush_soon(c);
	if (how & EXCHANGE_END_UPGRADED) {
		/* WebSocket (or another protocol): relay raw; the flow ends when it closes. A
		 * WebSocket's messages are read from a copy as they pass (ws_tap()). */
		c->state = CONN_TUNNEL;
		if (c->x.flow && is_websocket(&c->x.flow->request) && !c->ws)
			c->ws = wscapture_new(c->x.flow, env_body_limit(conn_env(c)),
					      &conn_env(c)->cfg->sink);
		conn_set_client_timeout(c, 0, 0);
		conn_want(c, CONN_WANT_CLIENT | CONN_WANT_UPSTREAM);
		return;
	}
	if (!c->up.bev)
		c->blocked_up = 0;
	if (http1_upgraded(c->req))
		http1_reset(c->req); /* the upgrade was refused: HTTP goes on */
	if (!c->x.req_done && !c->client_eof && !c->close_reason) {
		/* answered early (401, 413): closing on unread bytes would reset the connection,
		 * and the client could lose the answer */
		h1server_discard_rest(c, how);
		return;
	}
	int client_keep = c->x.req_done && c->req_keep_alive && !(how & EXCHANGE_END_UNTIL_CLOSE) &&
			  !c->client_eof;
	if (!client_keep) {
		if (!c->x.req_done)
			log_debug("%s: response ended before the request", c->client_addr);
		conn_close_after_flush(c, "exchange done");
		return;
	}
	c->state = CONN_REQ_HEAD;
	c->x.req_start = 0;
	conn_set_client_timeout(c, conn_env(c)->timeout_s, 0);
	conn_want(c, CONN_WANT_CLIENT);
}

static void on_error_page(void *arg, int status, const char *reason, const char *msg)
{
	struct conn *c = arg;
	conn_flush_soon(c);
	if (!c->up.bev)
		c->blocked_up = 0;
	h1server_send_error(c, status, reason, msg);
}

static int is_full(void *arg)
{
	struct conn *c = arg;
	if (!conn_over(c->client))
		return 0;
	conn_block_on(c->client, &c->blocked_down);
	return 1;
}

static void on_pause_reading(void *arg)
{
	struct conn *c = arg;
	conn_flush_soon(c);
	c->blocked_up = 0;
	c->state = CONN_CONNECTING;
}

static void on_resume_reading(void *arg)
{
	struct conn *c = arg;
	c->state = CONN_EXCHANGE;
	conn_want(c, CONN_WANT_CLIENT | CONN_WANT_UPSTREAM);
}

static void on_paused(void *arg, enum exchange_side side)
{
	conn_flush_soon(arg);
	conn_pause(arg, side);
}

static const struct exchange_downstream h1_down = {
    .on_response_raw = on_response_raw,
    .on_response_msg = on_response_msg,
    .on_response_end = on_response_end,
    .on_error_page = on_error_page,
    .is_full = is_full,
    .on_pause_reading = on_pause_reading,
    .on_resume_reading = on_resume_reading,
    .on_paused = on_paused,
};

void h1relay_attach(struct conn *c)
{
	c->x.up = &c->up;
	c->x.down = &h1_down;
	c->x.down_arg = c;
}

void h1relay_pump(struct conn *c)
{
	if (!c->up.bev)
		return;
	struct evbuffer *in = bufferevent_get_input(c->up.bev);
	if (c->state == CONN_EXCHANGE) {
		origin_pump(&c->x);
		return;
	}
	if (c->state == CONN_TUNNEL) {
		uint64_t moved = 0;
		conn_relay_raw(c->up.bev, c->client, &c->blocked_down, &moved);
		if (c->x.flow)
			c->x.flow->bytes_down += moved;
		ws_tap(c, 0, bufferevent_get_output(c->client), (size_t)moved);
		if (c->blocked_down || c->state != CONN_TUNNEL)
			return;
	} else if (c->state == CONN_REQ_HEAD && evbuffer_get_length(in)) {
		/* bytes from an idle upstream: it is not speaking HTTP to us */
		conn_free_upstream(c);
		return;
	}
	if (c->up.eof && !c->close_reason && evbuffer_get_length(in) == 0)
		h1relay_upstream_closed(c, NULL);
}

enum conn_step h1relay_tunnel_read(struct conn *c)
{
	if (!c->up.bev)
		return CONN_STEP_STOP;
	uint64_t moved = 0;
	conn_relay_raw(c->client, c->up.bev, &c->blocked_up, &moved);
	if (c->x.flow)
		c->x.flow->bytes_up += moved;
	ws_tap(c, 1, bufferevent_get_output(c->up.bev), (size_t)moved);
	return c->blocked_up || c->state != CONN_TUNNEL ? CONN_STEP_STOP : CONN_STEP_DRAINED;
}

void h1relay_upstream_closed(struct conn *c, const char *why)
{
	if (c->state == CONN_TUNNEL)
		conn_close_after_flush(c, "upstream closed the tunnel");
	else if (c->state == CONN_EXCHANGE)
		origin_closed(&c->x, why);
	else
		conn_free_upstream(c); /* an idle keep-alive connection went away */
}
