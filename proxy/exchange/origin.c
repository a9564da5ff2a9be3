/* SPDX-License-Identifier: MIT */
/* origin.c - an exchange towards its origin (see origin.h): the request head rebuilt
 * (origin-form target, Host from an absolute-form target, Proxy-Connection dropped; wire.h)
 * and sent on the upstream connection (upstream.c: a kept-alive one to the same place when
 * there is one), then the response read back as the upstream's parser frames it and handed to
 * the protocol module (x->down).
 *
 * The fast path: the request body and the response are moved between evbuffers without
 * copying (evbuffer_remove_buffer); the protocol module gets the response bytes as an evbuffer
 * and a length, never as a copy. A protocol with a framing of its own leaves on_response_raw
 * NULL and gets the head and the de-chunked body instead (the decoded path). Only the stored
 * copy of a body (capped at body_limit) is a copy on the fast path. Backpressure: the upstream is
 * not read while x->down->is_full() says the client's side holds too much; the protocol asks for
 * the pump again once it drained.
 *
 * A response the intercept holds is read whole into x->held instead and paused; a 101 ends the
 * exchange as UPGRADED (the protocol relays raw from then on). Nothing here frees the
 * connection or the exchange. */
#include "origin.h"

#include "bevio.h"
#include "env.h"
#include "upstream.h"
#include "url.h"
#include "util.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

/* Events the response parser reports to the pump (x->events). */
enum { ORIGIN_EV_HEAD = 1, ORIGIN_EV_END = 2 };

static void response_ended(struct exchange *x);

/* ---------------------------------------------------------------------------------------- */
/* Parser callbacks */

/* The final response head is in x->flow: hold the response if the intercept rule says so. */
static void check_response_hold(struct exchange *x)
{
	struct flow *f = x->flow;
	if (!f || x->local_answer || f->response.status == 101 || f->response.status < 200)
		return;
	exchange_check_response_hold(x);
	if (x->hold != EXCHANGE_RESPONSE)
		return;
	if (!x->held)
		x->held = evbuffer_new();
	evbuffer_drain(x->held, evbuffer_get_length(x->held));
}

static void on_resp_head(void *arg, struct flow_msg *head)
{
	struct exchange *x = arg;
	x->events |= ORIGIN_EV_HEAD;
	/* Interim 1xx answers (100 Continue) are relayed but not recorded; 101 is final. */
	if (head->status >= 100 && head->status < 200 && head->status != 101)
		return;
	x->resp_final = 1;
	x->update_due = 1;
	if (x->flow) {
		flow_msg_clear(&x->flow->response);
		x->flow->response = *head;
		memset(head, 0, sizeof *head);
		check_response_hold(x);
		if (!x->down->on_response_raw && x->hold != EXCHANGE_RESPONSE)
			x->down->on_response_head(x->down_arg, &x->flow->response);
	}
}

static void on_resp_body(void *arg, const char *data, size_t len)
{
	struct exchange *x = arg;
	if (x->flow)
		flow_msg_add_body(&x->flow->response, data, len, env_body_limit(x->env));
	if (x->down->on_response_raw)
		return; /* the fast path moves the framed bytes after the feed */
	if (x->hold == EXCHANGE_RESPONSE)
		evbuffer_add(x->held, data, len); /* the decoded body, for a release */
	else
		x->down->on_response_body(x->down_arg, data, len);
}

static void on_resp_end(void *arg)
{
	struct exchange *x = arg;
	x->events |= ORIGIN_EV_END;
}

/* A chunked response's trailers: kept in the flow (the fast path relays their bytes). */
static void on_resp_trailers(void *arg, const struct flow_msg *trailers)
{
	struct exchange *x = arg;
	if (x->flow && x->resp_final)
		flow_msg_add_trailers(&x->flow->response, trailers);
}

struct http1_sink origin_sink(struct exchange *x)
{
	struct http1_sink s = {on_resp_head, on_resp_body, on_resp_end, x, on_resp_trailers};
	return s;
}

/* ---------------------------------------------------------------------------------------- */
/* The request */

/* Builds the head sent upstream into x->head_out (wire_request_head); absolute: to an
 * upstream proxy, in absolute-form with its Proxy-Authorization (upstream.h). */
static void build_head(struct exchange *x, int absolute)
{
	struct flow *f = x->flow;
	if (!x->head_out)
		x->head_out = evbuffer_new();
	x->head_text.len = 0; /* its space is kept for the next request */
	char *abs = NULL, hostport[300];
	if (absolute) {
		url_format_authority(hostport, sizeof hostport, f->host, f->port, 80);
		abs = xasprintf("http://%s%s", hostport, f->path);
	}
	wire_request_head(&x->head_text, &f->request, abs ? abs : f->path, x->authority);
	free(abs);
	char *auth = absolute ? upstream_proxy_auth_line(x->up) : NULL;
	if (auth && x->head_text.len >= 2) { /* before the head's final CRLF */
		x->head_text.len -= 2;
		flow_buf_append(&x->head_text, auth, strlen(auth));
		flow_buf_append(&x->head_text, "\r\n", 2);
	}
	free(auth);
	evbuffer_add(x->head_out, x->head_text.data, x->head_text.len);
}

/* Reaches x->flow's host:port anew: the client's SNI goes along unless an intercept edit sent
 * the request elsewhere. */
static void connect_up(struct exchange *x, int tls)
{
	const struct flow *f = x->flow;
	int same = x->via_host && strcasecmp(f->host, x->via_host) == 0;
	x->down->on_pause_reading(x->down_arg);
	upstream_connect(x->up, f->host, f->port, tls, same ? x->via_sni : NULL, 0);
}

/* origin_forward(); chunk: body is a released request's, raw (the flow's), to go chunked with
 * the trailers over HTTP/1.1 (an h2 origin gets it raw, the trailers in HEADERS: h2up.c). */
static void forward(struct exchange *x, char *authority, struct evbuffer *body, int chunk)
{
	struct flow *f = x->flow;
	int tls = f->scheme && strcmp(f->scheme, "https") == 0;
	if (authority != x->authority) {
		free(x->authority);
		x->authority = authority;
	}
	if (x->down->on_forward && x->down->on_forward(x->down_arg, body))
		return; /* the protocol carries it (HTTP/2 to an h2 origin) */
	x->reused = upstream_reusable(x->up, f->host, f->port, tls);
	build_head(x, upstream_absolute(x->up, x->reused, tls));
	if (body && chunk) {
		/* the released body (a copy of the flow's) goes chunked, with the trailers */
		struct flow_buf b = {0};
		wire_chunked_body(&b, &f->request);
		evbuffer_drain(body, evbuffer_get_length(body));
		evbuffer_add(body, b.data, b.len);
		flow_buf_clear(&b);
	}
	if (body)
		evbuffer_add_buffer(x->head_out, body);
	if (x->resp_head)
		evbuffer_drain(x->resp_head, evbuffer_get_length(x->resp_head));
	x->retried = 0;
	http1_set_request_method(x->up->resp, f->request.method);
	if (x->reused) {
		origin_ready(x); /* reuse the kept-alive connection */
		return;
	}
	connect_up(x, tls);
}

void origin_forward(struct exchange *x, char *authority, struct evbuffer *body)
{
	forward(x, authority, body, 0);
}

/* Nothing that follows can still refuse the request: all of it was read, or it is an HTTP/1
 * request without a body. Its head may then be written at once rather than queued (a body
 * found malformed later in the same callback closes the upstream before a queued head went). */
static int request_whole(const struct exchange *x)
{
	const struct flow_msg *rq = &x->flow->request;
	return x->req_done || (rq->version < 20 && !flow_msg_header(rq, "Content-Length") &&
			       !flow_msg_header(rq, "Transfer-Encoding"));
}

void origin_ready(struct exchange *x)
{
	/* send the head, then the body as it comes */
	upstream_describe(x->up, x->flow);
	struct bufferevent *bev = x->up->bev;
	size_t len = evbuffer_get_length(x->head_out);
	x->flow->bytes_up += len;
	/* enable first (only what is off: enabling arms the write event), then write at once */
	short off = (EV_READ | EV_WRITE) & ~bufferevent_get_enabled(bev);
	if (off)
		bufferevent_enable(bev, off);
	if (request_whole(x) && bevio_send(bev, x->head_out, len) == len) {
		if (x->req_done && !x->flow->t.request_sent)
			x->flow->t.request_sent = util_now_us();
	} else {
		bufferevent_write_buffer(bev, x->head_out);
	}
	upstream_set_timeouts(x->up, x->env->timeout_s, x->env->timeout_s);
	x->down->on_resume_reading(x->down_arg);
}

void origin_failed(struct exchange *x, const char *msg)
{
	upstream_close(x->up);
	x->down->on_error_page(x->down_arg, 502, "Bad Gateway", msg);
}

int origin_request(struct exchange *x, char *authority)
{
	int hold = 0, block = exchange_decide(x, &hold);
	if (hold) /* shown at once: the user is to act on it */
		exchange_emit(x, FLOW_EV_BEGIN);
	else
		exchange_begin_soon(x);
	if (block) {
		free(authority);
		return block;
	}
	if (hold && exchange_request_too_big(x)) {
		exchange_not_held(x, EXCHANGE_REQUEST);
		hold = 0;
	} else if (hold && exchange_charge(x, x->flow->request.head_size) != 0) {
		exchange_over_budget(x, EXCHANGE_REQUEST); /* a held message costs its head */
		hold = 0;
	}
	if (!hold) {
		origin_forward(x, authority, NULL);
		return ORIGIN_SENT;
	}
	free(x->authority);
	x->authority = authority;
	x->hold = EXCHANGE_REQUEST;
	if (!x->held)
		x->held = evbuffer_new();
	evbuffer_drain(x->held, evbuffer_get_length(x->held));
	return ORIGIN_HELD;
}

int origin_room(const struct exchange *x)
{
	struct bufferevent *bev = x->up->bev;
	if (x->hold == EXCHANGE_REQUEST)
		return 1; /* read whole into x->held */
	return bev && evbuffer_get_length(bufferevent_get_output(bev)) < BEVIO_HIGH_WATER;
}

void origin_request_body(struct exchange *x, struct evbuffer *src, size_t n)
{
	if (x->hold == EXCHANGE_REQUEST) {
		evbuffer_remove_buffer(src, x->held, n);
		int over_budget = exchange_charge(x, n) != 0;
		if (!over_budget && !x->flow->request.body_truncated)
			return;
		/* over the limit or the budget after all: send what came, as it came */
		if (over_budget)
			exchange_over_budget(x, EXCHANGE_REQUEST);
		else
			exchange_not_held(x, EXCHANGE_REQUEST);
		exchange_uncharge(x);
		x->hold = EXCHANGE_NONE;
		origin_forward(x, x->authority, x->held);
		return;
	}
	evbuffer_remove_buffer(src, bufferevent_get_output(x->up->bev), n);
	if (x->flow)
		x->flow->bytes_up += (uint64_t)n;
}

void origin_request_end(struct exchange *x)
{
	x->req_done = 1;
	if (x->hold == EXCHANGE_REQUEST) {
		evbuffer_drain(x->held, evbuffer_get_length(x->held));
		x->down->on_paused(x->down_arg, EXCHANGE_REQUEST);
		return;
	}
	if (x->up->bev && evbuffer_get_length(bufferevent_get_output(x->up->bev)) == 0 && x->flow &&
	    !x->flow->t.request_sent)
		x->flow->t.request_sent = util_now_us();
}

/* A released request keeps its trailers (wire_sends_trailers(), on the headers as edited): it
 * goes chunked, the trailers in the last chunk, as it came. An edit whose headers give a
 * Content-Length and no Transfer-Encoding asked for a body of that length, which cannot carry
 * them (nor can HTTP/1.0): it goes as edited, without them, and the flow records none, as it
 * records what was sent. The edit cannot remove trailers, so refusing it would leave the user
 * no way to send that body at all. */
static void resume_request(struct exchange *x)
{
	struct flow *f = x->flow;
	struct flow_msg *m = &f->request;
	exchange_unpause(x);
	int chunk = wire_sends_trailers(m);
	exchange_reframe(m);
	if (chunk) {
		exchange_remove_headers(m, "Content-Length");
		flow_msg_add_header(m, "Transfer-Encoding", 17, "chunked", 7);
	} else if (m->num_trailers) {
		log_info("flow %llu: released without its trailers (%s)", (unsigned long long)f->id,
			 m->version == 10 ? "HTTP/1.0" : "the body is framed by a Content-Length");
		for (size_t i = 0; i < m->num_trailers; i++)
			flow_msg_free_header(m, &m->trailers[i]);
		m->num_trailers = 0;
	}
	evbuffer_drain(x->held, evbuffer_get_length(x->held));
	evbuffer_add(x->held, m->body.data, m->body.len);
	exchange_emit(x, FLOW_EV_UPDATE); /* pending again, as it goes */
	forward(x, x->authority, x->held, chunk);
}

/* ---------------------------------------------------------------------------------------- */
/* The response */

/* A held response turned out larger than the limit or the budget (the note says which): relay
 * it as it came from here on. */
static void release_response(struct exchange *x)
{
	exchange_uncharge(x);
	x->hold = EXCHANGE_NONE;
	x->resp_started = 1;
	size_t n = evbuffer_get_length(x->held);
	x->flow->bytes_down += n;
	if (x->down->on_response_raw) {
		x->down->on_response_raw(x->down_arg, x->held, n);
		return;
	}
	x->down->on_response_head(x->down_arg, &x->flow->response);
	if (n)
		x->down->on_response_body(x->down_arg, (const char *)evbuffer_pullup(x->held, -1),
					  n);
	evbuffer_drain(x->held, n);
}

/* The response is complete: pause it if held, else finish as usual. */
static void response_complete(struct exchange *x)
{
	if (x->hold == EXCHANGE_RESPONSE) {
		evbuffer_drain(x->held, evbuffer_get_length(x->held));
		x->down->on_paused(x->down_arg, EXCHANGE_RESPONSE);
		return;
	}
	response_ended(x);
}

/* The response is complete: finish the flow, keep or drop the upstream, tell the protocol. */
static void response_ended(struct exchange *x)
{
	struct http1 *resp = x->up->resp;
	int upgraded = http1_upgraded(resp);
	int up_keep = http1_keep_alive(resp) && x->req_done && !upgraded;
	unsigned how = http1_body_until_close(resp) ? EXCHANGE_END_UNTIL_CLOSE : 0;
	if (x->flow && x->flow->t.first_byte == 0)
		x->flow->t.first_byte = util_now_us();
	if (upgraded && x->flow && x->flow->response.status == 101) {
		/* WebSocket (or another protocol): relayed raw; the flow ends when it closes. */
		x->flow->flags |= FLOW_F_WEBSOCKET;
		upstream_set_timeouts(x->up, 0, 0);
		if (x->update_due) {
			x->update_due = 0; /* the store hears of the 101 now */
			exchange_emit(x, FLOW_EV_UPDATE);
		}
		x->down->on_response_end(x->down_arg, EXCHANGE_END_UPGRADED);
		return;
	}
	if (x->flow)
		exchange_emit(x, FLOW_EV_END);
	if (!up_keep)
		upstream_close(x->up);
	else if (x->up->bev)
		upstream_set_timeouts(x->up, 0, 0); /* idle keep-alive upstream: no read timeout */
	x->down->on_response_end(x->down_arg, how);
}

void origin_response_done(struct exchange *x)
{
	response_complete(x);
}

/* The origin closed a kept-alive connection just as we sent on it (its idle timeout): 1 when
 * the request may be sent again, once, on a new connection, as browsers do. Not a chunked one
 * (trailers, even with no body): the retry sends the head only. */
static int may_retry(const struct exchange *x)
{
	const char *m = x->flow ? x->flow->request.method : "";
	return x->reused && !x->retried && !x->resp_started && !http1_in_message(x->up->resp) &&
	       x->req_done && x->flow && x->flow->request.body_size == 0 &&
	       !flow_msg_header(&x->flow->request, "Transfer-Encoding") &&
	       (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "OPTIONS") == 0);
}

void origin_closed(struct exchange *x, const char *why)
{
	const char *err = NULL;
	struct upstream *u = x->up;
	if (http1_in_message(u->resp) && x->resp_final && http1_finish(u->resp, &err) == 0) {
		/* a body that runs until close just ended */
		x->events = 0;
		response_complete(x);
		return;
	}
	if (may_retry(x)) {
		log_debug("%s: %s:%d closed a kept-alive connection; retrying",
			  x->flow->client_addr, u->host, u->port);
		int tls = u->tls;
		x->retried = 1;
		x->reused = 0;
		upstream_close(u);
		evbuffer_drain(x->head_out, evbuffer_get_length(x->head_out));
		build_head(x, upstream_absolute(u, 0, tls));
		x->flow->bytes_up = 0;
		connect_up(x, tls);
		return;
	}
	char *msg;
	if (!x->resp_final)
		msg = xasprintf("%s:%d closed the connection without answering%s%s", u->host,
				u->port, why ? ": " : "", why ? why : "");
	else
		msg = xasprintf("%s:%d closed the connection in the middle of the response "
				"body%s%s",
				u->host, u->port, why ? ": " : "", why ? why : "");
	upstream_close(u);
	x->down->on_error_page(x->down_arg, 502, "Bad Gateway", msg); /* late: only a cut */
	free(msg);
}

/* The chunk of r bytes at the front of in was parsed: to the client, or into x->held. */
static void hand_down(struct exchange *x, struct evbuffer *in, size_t r)
{
	int raw = x->down->on_response_raw != NULL;
	if (x->hold == EXCHANGE_RESPONSE) {
		/* an intercepted response: kept until resumed (or found too large); the decoded
		 * path kept the body in on_resp_body() */
		if (raw)
			evbuffer_remove_buffer(in, x->held, r);
		else
			evbuffer_drain(in, r);
		if (exchange_charge(x, r) != 0) {
			exchange_over_budget(x, EXCHANGE_RESPONSE);
			release_response(x);
		} else if (x->flow->response.body_truncated) {
			exchange_not_held(x, EXCHANGE_RESPONSE);
			release_response(x);
		}
		return;
	}
	x->resp_started = 1;
	if (x->flow)
		x->flow->bytes_down += (uint64_t)r;
	if (raw)
		x->down->on_response_raw(x->down_arg, in, r);
	else
		evbuffer_drain(in, r); /* handed on decoded during the feed */
}

/* The r bytes parsed at the front of in: handed down, unless they are part of a response head
 * that is not complete yet. Those wait in x->resp_head, so that a head that turns out too large
 * or malformed becomes a 502 page instead of a response cut after its first bytes. */
static void head_or_down(struct exchange *x, struct evbuffer *in, size_t r)
{
	int head_done = (x->events & ORIGIN_EV_HEAD) != 0;
	if (!head_done && !http1_in_head(x->up->resp) &&
	    (!x->resp_head || !evbuffer_get_length(x->resp_head))) {
		hand_down(x, in, r);
		return;
	}
	if (!x->resp_head)
		x->resp_head = evbuffer_new();
	evbuffer_remove_buffer(in, x->resp_head, r);
	if (head_done)
		hand_down(x, x->resp_head, evbuffer_get_length(x->resp_head));
}

/* Moves the upstream's bytes down as the parser frames them. Returns 1 when the exchange
 * ended or failed (x->down was told), 0 when it waits for bytes or room. */
static int pump_response(struct exchange *x)
{
	const char *err = NULL;
	while (x->up->bev) {
		struct evbuffer *in = bufferevent_get_input(x->up->bev);
		if (!x->hold && x->down->is_full(x->down_arg))
			return 0;
		size_t avail;
		int64_t no_flow = 1; /* (no first byte to record) */
		x->events = 0;
		ssize_t r =
		    upstream_feed(x->up, x->flow ? &x->flow->t.first_byte : &no_flow, &avail, &err);
		if (r < 0) {
			char *msg = xasprintf("invalid response from %s:%d: %s", x->up->host,
					      x->up->port, err);
			upstream_close(x->up);
			x->down->on_error_page(x->down_arg, 502, "Bad Gateway", msg);
			free(msg);
			return 1;
		}
		if (r)
			head_or_down(x, in, (size_t)r);
		if (x->events & ORIGIN_EV_END) {
			if (!x->resp_final)
				continue; /* an interim 1xx: the real response follows */
			response_complete(x);
			return 1;
		}
		if (r == 0 || avail == 0)
			break;
	}
	if (x->up->bev && x->up->eof &&
	    evbuffer_get_length(bufferevent_get_input(x->up->bev)) == 0) {
		origin_closed(x, NULL);
		return 1;
	}
	return 0;
}

/* When a response head arrived but the response goes on (a long body), the store hears of the
 * head now (FLOW_EV_UPDATE); short responses end within the same call and cost no extra
 * event. */
void origin_pump(struct exchange *x)
{
	if (pump_response(x))
		return;
	if (x->update_due && x->flow) {
		x->update_due = 0;
		exchange_emit(x, FLOW_EV_UPDATE);
	}
}

static void resume_response(struct exchange *x)
{
	struct flow *f = x->flow;
	struct flow_msg *m = &f->response;
	exchange_unpause(x);
	int bodyless = (f->request.method && strcmp(f->request.method, "HEAD") == 0) ||
		       m->status == 204 || m->status == 304;
	if (!bodyless)
		exchange_reframe(m);
	x->resp_started = 1;
	x->down->on_response_msg(x->down_arg, m, bodyless);
	if (x->up->bev)
		upstream_set_timeouts(x->up, 0, 0);
	response_ended(x);
}

/* ---------------------------------------------------------------------------------------- */
/* The user's command */

void origin_command(struct exchange *x, enum intercept_cmd cmd, struct flow *edit)
{
	char err[256];
	if (edit && cmd != INTERCEPT_KILL) {
		if (exchange_apply_edit(x, edit, err, sizeof err) != 0)
			log_warn("flow %llu: edit refused: %s", (unsigned long long)x->flow->id,
				 err);
		else if (cmd == INTERCEPT_EDIT)
			exchange_emit(x, FLOW_EV_UPDATE);
	}
	flow_free(edit);
	if (cmd == INTERCEPT_RESUME) {
		if (x->paused == EXCHANGE_REQUEST)
			resume_request(x);
		else
			resume_response(x);
	} else if (cmd == INTERCEPT_KILL) {
		exchange_unpause(x);
		log_info("flow %llu killed by the user", (unsigned long long)x->flow->id);
		flow_set_error(x->flow, "killed");
		upstream_close(x->up);
		x->down->on_error_page(x->down_arg, 502, "Bad Gateway", "killed by the user");
	}
}
