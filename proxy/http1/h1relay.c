/* SPDX-License-Identifier: MIT */
/* h1relay.c - HTTP/1 towards the origin for a request of h1server.c: the head rebuilt
 * (origin-form target, Host from an absolute-form target, Proxy-Connection dropped) and sent on
 * the upstream connection (upstream.c: a kept-alive one to the same place when there is one),
 * then the response relayed back as it came: heads and bodies are moved between evbuffers
 * without copying (evbuffer_remove_buffer); only the stored copy of a body (capped at
 * body_limit) is a copy. Backpressure: the upstream is not read while the client's output
 * holds more than HIGH_WATER bytes, and is read again once it drained to half.
 *
 * A response the intercept holds is read whole into c->x.held instead and paused; a 101 turns
 * the connection into a raw tunnel (WebSocket). Nothing here frees the connection. */
#include "conn-t.h"

#include "util.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

static void response_ended(struct conn *c);

/* ---------------------------------------------------------------------------------------- */
/* Parser callbacks */

/* The final response head is in c->x.flow: hold the response if the intercept rule says so. */
static void check_response_hold(struct conn *c)
{
	struct flow *f = c->x.flow;
	if (!f || c->x.local_answer || f->response.status == 101 || f->response.status < 200)
		return;
	exchange_check_response_hold(&c->x);
	if (c->x.hold != EXCHANGE_RESPONSE)
		return;
	if (!c->x.held)
		c->x.held = evbuffer_new();
	evbuffer_drain(c->x.held, evbuffer_get_length(c->x.held));
}

static void on_resp_head(void *arg, struct flow_msg *head)
{
	struct conn *c = arg;
	c->events |= EV_HEAD;
	/* Interim 1xx answers (100 Continue) are relayed but not recorded; 101 is final. */
	if (head->status >= 100 && head->status < 200 && head->status != 101)
		return;
	c->x.resp_final = 1;
	c->x.update_due = 1;
	if (c->x.flow) {
		flow_msg_clear(&c->x.flow->response);
		c->x.flow->response = *head;
		memset(head, 0, sizeof *head);
		check_response_hold(c);
	}
}

static void on_resp_body(void *arg, const char *data, size_t len)
{
	struct conn *c = arg;
	if (c->x.flow)
		flow_msg_add_body(&c->x.flow->response, data, len, conn_env(c)->cfg->body_limit);
}

static void on_resp_end(void *arg)
{
	struct conn *c = arg;
	c->events |= EV_END;
}

struct http1_sink h1relay_sink(struct conn *c)
{
	struct http1_sink s = {on_resp_head, on_resp_body, on_resp_end, c};
	return s;
}

/* ---------------------------------------------------------------------------------------- */
/* The request */

/* Builds the head sent upstream into c->x.head_out (wire_request_head). */
static void build_head(struct conn *c, const char *path, const char *authority)
{
	if (!c->x.head_out)
		c->x.head_out = evbuffer_new();
	c->x.head_text.len = 0; /* its space is kept for the next request */
	wire_request_head(&c->x.head_text, &c->x.flow->request, path, authority);
	evbuffer_add(c->x.head_out, c->x.head_text.data, c->x.head_text.len);
}

void h1relay_forward(struct conn *c, char *authority, struct evbuffer *body)
{
	struct flow *f = c->x.flow;
	const char *host = f->host;
	int port = f->port, tls = f->scheme && strcmp(f->scheme, "https") == 0;
	build_head(c, f->path, authority);
	if (body)
		evbuffer_add_buffer(c->x.head_out, body);
	free(c->x.authority);
	c->x.authority = authority;
	c->x.retried = 0;
	http1_set_request_method(c->up.resp, f->request.method);
	free(c->t_host);
	c->t_host = xstrdup(host);
	c->t_port = port;
	c->t_tls = tls;
	c->purpose = UP_REQUEST;
	c->x.reused = upstream_reusable(&c->up, host, port, tls);
	if (c->x.reused) {
		h1relay_established(c); /* reuse the kept-alive connection */
		return;
	}
	conn_start_connect(c);
}

void h1relay_established(struct conn *c)
{
	/* send the head, then the body as it comes */
	upstream_describe(&c->up, c->x.flow);
	c->state = CONN_EXCHANGE;
	c->x.flow->bytes_up += evbuffer_get_length(c->x.head_out);
	bufferevent_write_buffer(c->up.bev, c->x.head_out);
	conn_set_timeout(c, c->up.bev, conn_env(c)->timeout_s, conn_env(c)->timeout_s);
	bufferevent_enable(c->up.bev, EV_READ | EV_WRITE);
	conn_want(c, CONN_WANT_CLIENT | CONN_WANT_UPSTREAM);
}

void h1relay_request_ended(struct conn *c)
{
	c->x.req_done = 1;
	c->req_keep_alive = http1_keep_alive(c->req);
	if (c->up.bev && evbuffer_get_length(bufferevent_get_output(c->up.bev)) == 0 && c->x.flow &&
	    !c->x.flow->t.request_sent)
		c->x.flow->t.request_sent = util_now_us();
}

/* ---------------------------------------------------------------------------------------- */
/* The response */

/* A held response turned out larger than the limit: relay it as it came from here on. */
static void release_response(struct conn *c)
{
	exchange_not_held(&c->x, EXCHANGE_RESPONSE);
	c->x.hold = EXCHANGE_NONE;
	c->x.resp_started = 1;
	c->x.flow->bytes_down += evbuffer_get_length(c->x.held);
	evbuffer_add_buffer(bufferevent_get_output(c->client), c->x.held);
}

/* The response is complete: pause it if held, else finish as usual. */
static void response_complete(struct conn *c)
{
	if (c->x.hold == EXCHANGE_RESPONSE) {
		evbuffer_drain(c->x.held, evbuffer_get_length(c->x.held));
		conn_pause(c, EXCHANGE_RESPONSE);
		return;
	}
	response_ended(c);
}

/* The response is complete: finish the flow and decide what both connections do next. */
static void response_ended(struct conn *c)
{
	int upgraded = http1_upgraded(c->up.resp);
	int up_keep = http1_keep_alive(c->up.resp) && c->x.req_done && !upgraded;
	if (c->x.flow && c->x.flow->t.first_byte == 0)
		c->x.flow->t.first_byte = util_now_us();
	if (upgraded && c->x.flow && c->x.flow->response.status == 101) {
		/* WebSocket (or another protocol): relay raw; the flow ends when it closes. */
		c->x.flow->flags |= FLOW_F_WEBSOCKET;
		c->state = CONN_TUNNEL;
		conn_set_timeout(c, c->client, 0, 0);
		conn_set_timeout(c, c->up.bev, 0, 0);
		conn_want(c, CONN_WANT_CLIENT | CONN_WANT_UPSTREAM);
		return;
	}
	if (c->x.flow)
		exchange_emit(&c->x, FLOW_EV_END);
	if (http1_upgraded(c->req))
		http1_reset(c->req); /* the upgrade was refused: HTTP goes on */
	int client_keep = c->x.req_done && c->req_keep_alive && !http1_body_until_close(c->up.resp) &&
			  !c->client_eof;
	if (!up_keep)
		conn_free_upstream(c);
	if (!client_keep) {
		if (!c->x.req_done)
			log_debug("%s: response ended before the request", c->client_addr);
		conn_close_after_flush(c, "exchange done");
		return;
	}
	c->state = CONN_REQ_HEAD;
	c->x.req_start = 0;
	conn_set_timeout(c, c->client, conn_env(c)->timeout_s, 0);
	if (c->up.bev)
		conn_set_timeout(c, c->up.bev, 0,
				 0); /* idle keep-alive upstream: no read timeout */
	conn_want(c, CONN_WANT_CLIENT);
}

void h1relay_upstream_closed(struct conn *c, const char *why)
{
	const char *err = NULL;
	if (c->state == CONN_TUNNEL) {
		conn_close_after_flush(c, "upstream closed the tunnel");
		return;
	}
	if (c->state != CONN_EXCHANGE) {
		/* an idle keep-alive connection went away */
		conn_free_upstream(c);
		return;
	}
	if (http1_in_message(c->up.resp) && c->x.resp_final && http1_finish(c->up.resp, &err) == 0) {
		/* a body that runs until close just ended */
		c->events = 0;
		response_complete(c);
		return;
	}
	const char *m = c->x.flow ? c->x.flow->request.method : "";
	if (c->x.reused && !c->x.retried && !c->x.resp_started && !http1_in_message(c->up.resp) &&
	    c->x.req_done && c->x.flow && c->x.flow->request.body_size == 0 &&
	    (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "OPTIONS") == 0)) {
		/* The server closed a kept-alive connection just as we sent on it (its idle
		 * timeout): send the request again, once, on a new connection, as browsers do. */
		log_debug("%s: %s:%d closed a kept-alive connection; retrying", c->client_addr,
			  c->up.host, c->up.port);
		c->x.retried = 1;
		c->x.reused = 0;
		conn_free_upstream(c);
		evbuffer_drain(c->x.head_out, evbuffer_get_length(c->x.head_out));
		build_head(c, c->x.flow->path, c->x.authority);
		c->x.flow->bytes_up = 0;
		conn_start_connect(c);
		return;
	}
	char *msg;
	if (!c->x.resp_final)
		msg = xasprintf("%s:%d closed the connection without answering%s%s", c->up.host,
				c->up.port, why ? ": " : "", why ? why : "");
	else
		msg = xasprintf("%s:%d closed the connection in the middle of the response "
				"body%s%s",
				c->up.host, c->up.port, why ? ": " : "", why ? why : "");
	conn_free_upstream(c);
	h1server_send_error(c, 502, "Bad Gateway", msg); /* after response bytes: only closes */
	free(msg);
}

/* Moves the upstream's bytes to the client (or into c->x.held) as the parser frames them. */
static void pump_response(struct conn *c)
{
	const char *err = NULL;
	while (!c->close_reason && c->state != CONN_CLOSING && c->up.bev) {
		struct evbuffer *in = bufferevent_get_input(c->up.bev);
		if (c->state == CONN_TUNNEL) {
			conn_relay_raw(c->up.bev, c->client, &c->blocked_down,
				       c->x.flow ? &c->x.flow->bytes_down : &(uint64_t){0});
			if (c->blocked_down)
				return;
			break;
		}
		if (c->state != CONN_EXCHANGE) {
			if (c->state == CONN_REQ_HEAD && evbuffer_get_length(in)) {
				/* bytes from an idle upstream: it is not speaking HTTP to us */
				conn_free_upstream(c);
				return;
			}
			break;
		}
		if (!c->x.hold && conn_over(c->client)) {
			conn_block_on(c->client, &c->blocked_down);
			return;
		}
		size_t avail;
		int64_t no_flow = 1; /* (no first byte to record) */
		c->events = 0;
		ssize_t r = upstream_feed(&c->up, c->x.flow ? &c->x.flow->t.first_byte : &no_flow,
					  &avail, &err);
		if (r < 0) {
			char *msg = xasprintf("invalid response from %s:%d: %s", c->up.host,
					      c->up.port, err);
			conn_free_upstream(c);
			h1server_send_error(c, 502, "Bad Gateway", msg);
			free(msg);
			return;
		}
		if (r && c->x.hold == EXCHANGE_RESPONSE) {
			/* an intercepted response: kept until resumed (or found too large) */
			evbuffer_remove_buffer(in, c->x.held, (size_t)r);
			if (c->x.flow->response.body_truncated)
				release_response(c);
		} else if (r) {
			evbuffer_remove_buffer(in, bufferevent_get_output(c->client), (size_t)r);
			c->x.resp_started = 1;
			if (c->x.flow)
				c->x.flow->bytes_down += (uint64_t)r;
		}
		if (c->events & EV_END) {
			if (!c->x.resp_final)
				continue; /* an interim 1xx: the real response follows */
			response_complete(c);
			return;
		}
		if (r == 0 || avail == 0)
			break;
	}
	if (c->up.bev && c->up.eof && !c->close_reason &&
	    evbuffer_get_length(bufferevent_get_input(c->up.bev)) == 0)
		h1relay_upstream_closed(c, NULL);
}

/* When a response head arrived but the response goes on (a long body, a WebSocket), the store
 * hears of the head now (FLOW_EV_UPDATE); short responses end within the same call and cost no
 * extra event. */
void h1relay_pump(struct conn *c)
{
	pump_response(c);
	if (c->x.update_due && c->x.flow && !c->close_reason &&
	    (c->state == CONN_EXCHANGE || c->state == CONN_TUNNEL)) {
		c->x.update_due = 0;
		exchange_emit(&c->x, FLOW_EV_UPDATE);
	}
}

void h1relay_resume_response(struct conn *c)
{
	struct flow *f = c->x.flow;
	struct flow_msg *m = &f->response;
	exchange_unpause(&c->x);
	int bodyless = (f->request.method && strcmp(f->request.method, "HEAD") == 0) ||
		       m->status == 204 || m->status == 304;
	if (!bodyless)
		exchange_reframe(m);
	struct evbuffer *out = bufferevent_get_output(c->client);
	size_t before = evbuffer_get_length(out);
	c->x.head_text.len = 0;
	wire_response_head(&c->x.head_text, m);
	evbuffer_add(out, c->x.head_text.data, c->x.head_text.len);
	if (!bodyless)
		evbuffer_add(out, m->body.data, m->body.len);
	f->bytes_down += evbuffer_get_length(out) - before;
	c->x.resp_started = 1;
	c->state = CONN_EXCHANGE;
	if (c->up.bev)
		conn_set_timeout(c, c->up.bev, 0, 0);
	response_ended(c);
}
