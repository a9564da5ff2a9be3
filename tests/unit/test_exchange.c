/* SPDX-License-Identifier: MIT */
/* test_exchange.c - the exchange's message edits, without a connection: the token cookie
 * dropped from Cookie headers (and an emptied header removed), a message reframed for sending
 * whole, and the user's edit of a paused request or response (an absolute URL moves the
 * request and its Host, a bad status or scheme is refused and changes nothing). Then an
 * exchange driven through its protocol-independent interface (origin.h) against an origin on
 * a bufferevent pair, with a fake downstream: the raw (HTTP/1) path, the decoded path (what
 * HTTP/2 will use) with a kept-alive upstream reused, and a malformed response. */
#include "exchange.h"

#include "env.h"
#include "intercept.h"
#include "origin.h"
#include "rules.h"
#include "upstream.h"

#include "harness.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

static void hdr(struct flow_msg *m, const char *n, const char *v)
{
	flow_msg_add_header(m, n, strlen(n), v, strlen(v));
}

static const char *value(const struct flow_msg *m, const char *n)
{
	const struct flow_header *h = flow_msg_header(m, n);
	return h ? h->value : NULL;
}

static void test_strip_cookie(void)
{
	struct flow *f = flow_new();
	hdr(&f->request, "Cookie", "a=1; flowscope_token=x ;b=2");
	hdr(&f->request, "Cookie", " flowscope_token = y ");
	hdr(&f->request, "Cookie", "flowscope_tokenx=3");
	exchange_strip_cookie(&f->request, "flowscope_token");
	ok(f->request.num_headers == 2);
	ok(strcmp(f->request.headers[0].value, "a=1; b=2") == 0);
	ok(strcmp(f->request.headers[1].value, "flowscope_tokenx=3") == 0);
	exchange_strip_cookie(&f->request, NULL); /* none configured: nothing goes */
	ok(f->request.num_headers == 2);
	flow_free(f);

	/* Each bare ';' comes out as "; ": the result is longer than the header was. (An earlier
	 * copy sized its output by the input and overflowed the heap here.) */
	f = flow_new();
	char v[256] = "";
	for (int i = 0; i < 40; i++)
		strcat(v, "x;");
	strcat(v, "flowscope_token=y");
	hdr(&f->request, "Cookie", v);
	exchange_strip_cookie(&f->request, "flowscope_token");
	ok(f->request.num_headers == 1 && f->request.headers[0].value_len == 40 * 3 - 2);
	flow_free(f);
}

static void test_reframe(void)
{
	struct flow *f = flow_new();
	hdr(&f->request, "Transfer-Encoding", "chunked");
	hdr(&f->request, "X", "1");
	flow_buf_append(&f->request.body, "hello", 5);
	exchange_reframe(&f->request);
	ok(value(&f->request, "Transfer-Encoding") == NULL);
	ok(value(&f->request, "Content-Length") &&
	   strcmp(value(&f->request, "Content-Length"), "5") == 0);
	ok(f->request.body_size == 5);
	flow_free(f);
}

static void test_edit(void)
{
	struct proxy_config cfg = {.token_cookie = "flowscope_token", .body_limit = 1024};
	struct env env = {.cfg = &cfg};
	struct exchange x;
	char err[256];
	exchange_init(&x, &env);
	struct flow *f = exchange_start(&x, "127.0.0.1:1", 0);
	flow_set_str(&f->request.method, "GET");
	flow_set_str(&f->scheme, "http");
	flow_set_str(&f->host, "a.test");
	f->port = 80;
	flow_set_str(&f->path, "/old");
	x.paused = EXCHANGE_REQUEST; /* as if paused (no registry here) */

	struct flow *e = flow_new();
	flow_set_str(&e->request.target, "https://[::1]:8443/new?q");
	hdr(&e->request, "Cookie", "flowscope_token=t");
	ok(exchange_apply_edit(&x, e, err, sizeof err) == 0);
	ok(strcmp(f->scheme, "https") == 0 && strcmp(f->host, "::1") == 0 && f->port == 8443);
	ok(strcmp(f->path, "/new?q") == 0);
	ok(x.authority && strcmp(x.authority, "[::1]:8443") == 0);
	ok(f->request.num_headers == 0); /* the token cookie is never forwarded */
	flow_free(e);

	e = flow_new();
	flow_set_str(&e->request.target, "ftp://a.test/");
	ok(exchange_apply_edit(&x, e, err, sizeof err) == -1 && strstr(err, "scheme"));
	flow_set_str(&e->request.target, "http://a b/");
	ok(exchange_apply_edit(&x, e, err, sizeof err) == -1);
	ok(strcmp(f->host, "::1") == 0); /* unchanged */
	flow_free(e);

	x.paused = EXCHANGE_RESPONSE;
	e = flow_new();
	e->response.status = 42;
	ok(exchange_apply_edit(&x, e, err, sizeof err) == -1 && strstr(err, "bad status"));
	e->response.status = 404;
	ok(exchange_apply_edit(&x, e, err, sizeof err) == 0 && f->response.status == 404);
	ok(f->response.reason && strcmp(f->response.reason, "Not Found") == 0);
	flow_free(e);
	x.paused = EXCHANGE_NONE;
	exchange_clear(&x);
}

/* ---------------------------------------------------------------------------------------- */
/* An exchange driven through origin.h */

struct rig {
	struct event_base *base;
	struct bufferevent *origin; /* the origin's end of the pair */
	struct env_worker w;
	struct proxy_config cfg;
	struct env env;
	struct upstream up;
	struct exchange x;
	struct exchange_downstream down;
	struct evbuffer *got; /* what the fake client got */
	int status, ends, errors, resumed, ended_flows, last_status;
	unsigned how;
};

static void on_raw(void *arg, struct evbuffer *src, size_t n)
{
	struct rig *r = arg;
	evbuffer_remove_buffer(src, r->got, n);
}

static void on_head(void *arg, const struct flow_msg *head)
{
	struct rig *r = arg;
	r->status = head->status;
}

static void on_body(void *arg, const char *data, size_t len)
{
	struct rig *r = arg;
	evbuffer_add(r->got, data, len);
}

static void on_end(void *arg, unsigned how)
{
	struct rig *r = arg;
	r->ends++;
	r->how = how;
}

static void on_error(void *arg, int status, const char *reason, const char *msg)
{
	struct rig *r = arg;
	(void)reason;
	r->errors++;
	r->status = status;
	exchange_fail(&r->x, msg);
}

static int never_full(void *arg)
{
	(void)arg;
	return 0;
}

static void on_resume(void *arg)
{
	struct rig *r = arg;
	r->resumed++;
}

static void nop(void *arg)
{
	(void)arg;
}

static void on_paused(void *arg, enum exchange_side side)
{
	(void)arg, (void)side;
}

static void sink(void *arg, enum flow_event ev, struct flow *f)
{
	struct rig *r = arg;
	if (ev == FLOW_EV_END) {
		r->ended_flows++;
		r->last_status = f->response.status;
	}
	flow_free(f);
}

static void up_ready(void *arg, enum upstream_status st, const char *err)
{
	(void)arg, (void)st, (void)err;
}

static void up_event(void *arg, short what, const char *why)
{
	(void)arg, (void)what, (void)why;
}

static const struct upstream_ops up_ops = {up_ready, nop, nop, up_event};

static const struct exchange_downstream raw_down = {
    .on_response_raw = on_raw,
    .on_response_end = on_end,
    .on_error_page = on_error,
    .is_full = never_full,
    .on_pause_reading = nop,
    .on_resume_reading = on_resume,
    .on_paused = on_paused,
};

/* An exchange whose upstream is connected to the rig's origin (a bufferevent pair). */
static void rig_open(struct rig *r, int decoded)
{
	char err[128];
	memset(r, 0, sizeof *r);
	r->base = event_base_new();
	r->w.base = r->base;
	r->w.env = &r->env;
	r->cfg.body_limit = 1024;
	r->cfg.sink.emit = sink;
	r->cfg.sink.arg = r;
	r->env.cfg = &r->cfg;
	r->env.rules = rules_live_new(rules_new(NULL, 0, NULL, 0, err, sizeof err));
	r->env.timeout_s = 0;
	struct bufferevent *pair[2];
	bufferevent_pair_new(r->base, 0, pair);
	r->origin = pair[1];
	bufferevent_enable(r->origin, EV_READ | EV_WRITE);
	struct http1_sink s = origin_sink(&r->x);
	upstream_init(&r->up, &r->w, &up_ops, &s, r);
	r->up.bev = pair[0];
	r->up.host = strdup("origin.test");
	r->up.port = 80;
	r->up.connected = 1;
	exchange_init(&r->x, &r->env);
	r->x.up = &r->up;
	r->down = raw_down;
	if (decoded) {
		/* what a protocol with a framing of its own gets */
		r->down.on_response_raw = NULL;
		r->down.on_response_head = on_head;
		r->down.on_response_body = on_body;
	}
	r->x.down = &r->down;
	r->x.down_arg = r;
	r->got = evbuffer_new();
}

static void rig_close(struct rig *r)
{
	exchange_clear(&r->x);
	upstream_clear(&r->up);
	bufferevent_free(r->origin);
	evbuffer_free(r->got);
	rules_live_free(r->env.rules);
	event_base_free(r->base);
}

/* A GET for path as h1server.c would start it; returns origin_request()'s answer. */
static int rig_get(struct rig *r, const char *path)
{
	struct flow *f = exchange_start(&r->x, "127.0.0.1:1", 0);
	flow_set_str(&f->request.method, "GET");
	flow_set_str(&f->request.target, path);
	f->request.version = 11;
	f->request.present = 1;
	hdr(&f->request, "Host", "origin.test");
	flow_set_str(&f->scheme, "http");
	flow_set_str(&f->host, "origin.test");
	f->port = 80;
	flow_set_str(&f->path, path);
	r->x.req_done = r->x.resp_started = r->x.resp_final = 0;
	int rc = origin_request(&r->x, NULL);
	origin_request_end(&r->x);
	return rc;
}

/* The origin answers text; the exchange reads it. */
static void rig_answer(struct rig *r, const char *text)
{
	bufferevent_write(r->origin, text, strlen(text));
	event_base_loop(r->base, EVLOOP_NONBLOCK);
	origin_pump(&r->x);
}

static int got_is(struct rig *r, const char *want)
{
	size_t n = evbuffer_get_length(r->got);
	int same =
	    n == strlen(want) && (n == 0 || memcmp(evbuffer_pullup(r->got, -1), want, n) == 0);
	evbuffer_drain(r->got, n);
	return same;
}

static void test_origin_raw(void)
{
	struct rig r;
	rig_open(&r, 0);
	ok(rig_get(&r, "/a") == ORIGIN_SENT);
	ok(r.x.reused == 1 && r.resumed == 1);
	event_base_loop(r.base, EVLOOP_NONBLOCK);
	struct evbuffer *req = bufferevent_get_input(r.origin);
	ok(evbuffer_search(req, "GET /a HTTP/1.1\r\n", 17, NULL).pos == 0);
	evbuffer_drain(req, evbuffer_get_length(req));
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
	rig_answer(&r, resp);
	ok(got_is(&r, resp)); /* relayed as it came, head and all */
	ok(r.ends == 1 && r.how == 0 && r.ended_flows == 1 && r.last_status == 200);
	ok(r.x.flow == NULL && r.up.bev != NULL); /* the flow went to the sink; kept alive */
	rig_close(&r);
}

static void test_origin_decoded(void)
{
	struct rig r;
	rig_open(&r, 1);
	ok(rig_get(&r, "/b") == ORIGIN_SENT);
	rig_answer(&r, "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
		       "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
	ok(r.status == 201 && got_is(&r, "hello world"));
	ok(r.ends == 1 && r.ended_flows == 1 && r.last_status == 201);
	/* the next request to the same place goes on the same connection */
	ok(rig_get(&r, "/c") == ORIGIN_SENT && r.x.reused == 1 && r.resumed == 2);
	rig_answer(&r, "HTTP/1.1 204 No Content\r\n\r\n");
	ok(r.status == 204 && got_is(&r, "") && r.ends == 2 && r.last_status == 204);
	rig_close(&r);
}

static void test_origin_malformed(void)
{
	struct rig r;
	rig_open(&r, 0);
	ok(rig_get(&r, "/d") == ORIGIN_SENT);
	rig_answer(&r, "HTTX/9 nonsense\r\n\r\n");
	ok(r.errors == 1 && r.status == 502 && r.ends == 0 && r.ended_flows == 1);
	ok(r.up.bev == NULL); /* the upstream was dropped */
	ok(got_is(&r, ""));
	rig_close(&r);
}

/* A response head is held until it is whole and valid: nothing of a head that turns out
 * broken reaches the client, so it gets the 502 page. */
static void test_origin_head_held(void)
{
	struct rig r;
	rig_open(&r, 0);
	ok(rig_get(&r, "/e") == ORIGIN_SENT);
	rig_answer(&r, "HTTP/1.1 200 OK\r\nX-A: 1\r\n");
	ok(got_is(&r, "") && r.errors == 0);
	rig_answer(&r, "Content-Length: 2\r\n\r\nok");
	ok(got_is(&r, "HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nok"));
	ok(r.ends == 1 && r.last_status == 200);
	ok(rig_get(&r, "/f") == ORIGIN_SENT);
	rig_answer(&r, "HTTP/1.1 200 OK\r\nX-A: 1\r\n");
	rig_answer(&r, "Bad Header\r\n\r\n");
	ok(got_is(&r, "") && r.errors == 1 && r.status == 502);
	rig_close(&r);
}

/* The budget of held and paused flows: what is charged must fit, and comes back. */
static void test_budget(void)
{
	struct intercept *ic = intercept_new(NULL);
	ok(intercept_budget(ic) == INTERCEPT_BUDGET);
	intercept_set_budget(ic, 100);
	ok(intercept_charge(ic, 60) == 0);
	ok(intercept_charge(ic, 50) == -1); /* 110 > 100: nothing taken */
	ok(intercept_charge(ic, 40) == 0);  /* exactly full */
	ok(intercept_charge(ic, 1) == -1);
	intercept_uncharge(ic, 60);
	ok(intercept_charge(ic, 50) == 0);
	ok(intercept_charge(ic, SIZE_MAX) == -1);
	intercept_uncharge(ic, 90);
	ok(intercept_charge(ic, 100) == 0);
	intercept_free(ic);
}

int main(void)
{
	subtest("token cookie stripped", test_strip_cookie);
	subtest("message reframed", test_reframe);
	subtest("user edits", test_edit);
	subtest("origin: raw path", test_origin_raw);
	subtest("origin: decoded path, kept alive", test_origin_decoded);
	subtest("origin: malformed response", test_origin_malformed);
	subtest("origin: response head held until whole", test_origin_head_held);
	subtest("the budget of held flows", test_budget);
	return harness_done();
}
