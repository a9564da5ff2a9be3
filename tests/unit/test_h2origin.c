/* SPDX-License-Identifier: MIT */
/* test_h2origin.c - the client side of HTTP/2 towards an origin (h2origin.h) against the
 * proxy's own server side (http2.h), in memory: an HTTP/1.1-shaped head turned into an h2
 * request (authority, lowercase names, no connection-specific headers), the response's head,
 * body and end, a request body given when it comes (deferred, resumed), flow control held
 * until the caller consumes, a reset by the origin on one stream while another completes, a
 * stream the caller cancels, and the session's end closing what is open. */
#include "h2origin.h"
#include "http2.h"

#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <nghttp2/nghttp2.h>

/* ---- the origin: http2.c's server side, answering each request at its end ---- */

struct origin {
	struct http2 *h;
	int requests, closes;
	size_t body_in;	 /* request body bytes seen */
	size_t body_out; /* response body bytes to send per stream */
	int reset_path;	 /* reset streams whose target contains "reset" */
	char seen[512];	 /* the last request: "METHOD target authority|name:value;..." */
	char why[160];	 /* on_close's reason of the last stream */
	size_t sent[16]; /* response bytes sent, by stream id / 2 */
	char trailers[256]; /* the last request's trailers: "name:value;..." */
};

static void or_request(void *arg, struct http2_stream *st, int end)
{
	struct origin *o = arg;
	const struct flow_msg *m = &st->head;
	o->requests++;
	int n = snprintf(o->seen, sizeof o->seen, "%s %s %s|", m->method, m->target,
			 st->authority ? st->authority : "-");
	for (size_t i = 0; i < m->num_headers && n < (int)sizeof o->seen; i++)
		n += snprintf(o->seen + n, sizeof o->seen - (size_t)n, "%s:%s;", m->headers[i].name,
			      m->headers[i].value);
	if (o->reset_path && strstr(m->target, "reset")) {
		http2_reset(o->h, st, NGHTTP2_REFUSED_STREAM);
		return;
	}
	if (end) {
		struct flow_msg head = {.status = 200};
		flow_msg_add_header(&head, "X-From", 6, "origin", 6);
		http2_respond(o->h, st, &head, 0);
		flow_msg_clear(&head);
	}
}

static void or_data(void *arg, struct http2_stream *st, const char *data, size_t len)
{
	struct origin *o = arg;
	(void)data;
	o->body_in += len;
	http2_consume(o->h, st, len);
}

static void or_end(void *arg, struct http2_stream *st)
{
	struct origin *o = arg;
	int n = 0;
	o->trailers[0] = 0;
	for (size_t i = 0; i < st->head.num_trailers && n < (int)sizeof o->trailers; i++)
		n += snprintf(o->trailers + n, sizeof o->trailers - (size_t)n, "%s:%s;",
			      st->head.trailers[i].name, st->head.trailers[i].value);
	or_request(arg, st, 1);
	((struct origin *)arg)->requests--;
}

static void or_close(void *arg, struct http2_stream *st, const char *why)
{
	struct origin *o = arg;
	(void)st;
	o->closes++;
	snprintf(o->why, sizeof o->why, "%s", why ? why : "");
}

static size_t or_body(void *arg, struct http2_stream *st, char *buf, size_t len, int *eof)
{
	struct origin *o = arg;
	size_t *sent = &o->sent[(st->id / 2) % 16];
	size_t n = o->body_out - *sent < len ? o->body_out - *sent : len;
	memset(buf, 'b', n);
	*sent += n;
	*eof = *sent == o->body_out;
	return n;
}

static struct origin *origin_new(size_t body_out)
{
	struct origin *o = calloc(1, sizeof *o);
	struct http2_sink sink = {or_request, or_data, or_end, or_close, or_body, o};
	o->h = http2_new(&sink, 65535);
	o->body_out = body_out;
	return o;
}

static void origin_free(struct origin *o)
{
	http2_free(o->h, "end");
	free(o);
}

/* ---- the proxy's side: one stream's ops record what came ---- */

struct got {
	int status, heads, ends, closes;
	size_t body;
	int consume; /* give the window back at once */
	struct h2origin *o;
	int32_t id;
	char header[64]; /* the first response header, "name:value" */
	char why[160];
	const char *req_body; /* the request body to give, NULL: none yet */
	size_t req_off;
	int req_eof;
	struct flow_msg req; /* its trailers follow the request body */
};

static void on_head(void *arg, struct flow_msg *head)
{
	struct got *g = arg;
	g->heads++;
	g->status = head->status * 100 + head->version; /* e.g. 20020 */
	if (head->num_headers)
		snprintf(g->header, sizeof g->header, "%s:%s", head->headers[0].name,
			 head->headers[0].value);
}

static void on_data(void *arg, const char *data, size_t len)
{
	struct got *g = arg;
	(void)data;
	g->body += len;
	if (g->consume)
		h2origin_consume(g->o, g->id, len);
}

static void on_end(void *arg)
{
	((struct got *)arg)->ends++;
}

static void on_close(void *arg, const char *why)
{
	struct got *g = arg;
	g->closes++;
	snprintf(g->why, sizeof g->why, "%s", why ? why : "");
}

static size_t on_read_body(void *arg, char *buf, size_t len, int *eof)
{
	struct got *g = arg;
	if (!g->req_body)
		return 0;
	size_t left = strlen(g->req_body) - g->req_off;
	size_t n = left < len ? left : len;
	memcpy(buf, g->req_body + g->req_off, n);
	g->req_off += n;
	*eof = g->req_eof && g->req_off == strlen(g->req_body);
	return n;
}

static const struct h2origin_ops ops = {on_head,  on_data,	NULL, on_end,
					on_close, on_read_body, NULL};

static const struct flow_msg *request_trailers(void *arg)
{
	return &((struct got *)arg)->req;
}

static const struct h2origin_ops ops_trailers = {
    on_head, on_data, NULL, on_end, on_close, on_read_body, request_trailers};

/* Moves frames both ways until neither side has more. */
static void pump(struct h2origin *c, struct origin *o)
{
	struct evbuffer *a = evbuffer_new(), *b = evbuffer_new();
	const char *err = NULL;
	for (int round = 0; round < 100; round++) {
		ok(h2origin_send(c, a, 1 << 20, &err) == 0);
		ok(http2_send(o->h, b, 1 << 20, &err) == 0);
		size_t la = evbuffer_get_length(a), lb = evbuffer_get_length(b);
		if (!la && !lb)
			break;
		if (la)
			ok(http2_recv(o->h, (const char *)evbuffer_pullup(a, -1), la, &err) == 0);
		if (lb)
			ok(h2origin_recv(c, (const char *)evbuffer_pullup(b, -1), lb, &err) == 0);
		evbuffer_drain(a, la);
		evbuffer_drain(b, lb);
	}
	evbuffer_free(a);
	evbuffer_free(b);
}

static int32_t submit(struct h2origin *c, struct got *g, const char *method, const char *path,
		      int body)
{
	struct flow_msg req = {.method = (char *)method};
	flow_msg_add_header(&req, "Host", 4, "example.test", 12);
	flow_msg_add_header(&req, "Connection", 10, "keep-alive", 10);
	flow_msg_add_header(&req, "Transfer-Encoding", 17, "chunked", 7);
	flow_msg_add_header(&req, "X-Mixed-Case", 12, "Value", 5);
	flow_msg_add_header(&req, "TE", 2, "trailers", 8);
	g->o = c;
	g->id = h2origin_submit(c, &req, "https", NULL, path, body, &ops, g);
	req.method = NULL; /* (not ours to free) */
	flow_msg_clear(&req);
	return g->id;
}

static void test_request(void)
{
	struct h2origin *c = h2origin_new(65535);
	struct origin *o = origin_new(1000);
	struct got g = {.consume = 1};
	ok(submit(c, &g, "GET", "/a?b", 0) == 1);
	ok(h2origin_streams(c) == 1);
	pump(c, o);
	ok(strcmp(o->seen, "GET /a?b example.test|x-mixed-case:Value;te:trailers;") == 0);
	ok(g.heads == 1 && g.status == 20020);
	ok(strcmp(g.header, "x-from:origin") == 0);
	ok(g.body == 1000 && g.ends == 1 && g.closes == 1 && g.why[0] == '\0');
	ok(h2origin_streams(c) == 0 && h2origin_usable(c));
	h2origin_free(c, "end");
	origin_free(o);
}

static void test_request_body(void)
{
	struct h2origin *c = h2origin_new(65535);
	struct origin *o = origin_new(0);
	struct got g = {.consume = 1};
	ok(submit(c, &g, "POST", "/up", 1) == 1);
	pump(c, o);
	ok(o->requests == 1 && o->body_in == 0 && g.heads == 0); /* the body is deferred */
	g.req_body = "0123456789";
	h2origin_resume(c, g.id);
	pump(c, o);
	ok(o->body_in == 10 && g.heads == 0);
	g.req_eof = 1;
	h2origin_resume(c, g.id);
	pump(c, o);
	ok(g.heads == 1 && g.ends == 1 && g.closes == 1);
	h2origin_free(c, "end");
	origin_free(o);
}

static void test_request_trailers(void)
{
	struct h2origin *c = h2origin_new(65535);
	struct origin *o = origin_new(0);
	struct got g = {.consume = 1, .req_body = "0123456789", .req_eof = 1};
	flow_msg_add_trailer(&g.req, "X-Checksum", 10, "abc", 3);
	flow_msg_add_trailer(&g.req, "Connection", 10, "close", 5); /* not in h2 */
	flow_msg_add_trailer(&g.req, "X-Bad", 5, "a\r\nb", 4);	    /* never */
	flow_msg_add_trailer(&g.req, "grpc-status", 11, "0", 1);
	struct flow_msg req = {.method = "POST"};
	flow_msg_add_header(&req, "Host", 4, "example.test", 12);
	g.o = c;
	g.id = h2origin_submit(c, &req, "https", NULL, "/up", 1, &ops_trailers, &g);
	req.method = NULL;
	flow_msg_clear(&req);
	pump(c, o);
	ok(o->body_in == 10);
	ok(strcmp(o->trailers, "x-checksum:abc;grpc-status:0;") == 0);
	ok(g.heads == 1 && g.ends == 1 && g.closes == 1 && g.why[0] == '\0');
	/* none to send: the body's end ends the stream */
	flow_msg_clear(&g.req);
	flow_msg_add_trailer(&g.req, "Content-Length", 14, "10", 2);
	g.req_off = 0;
	struct flow_msg req2 = {.method = "POST"};
	g.id = h2origin_submit(c, &req2, "https", "example.test", "/up", 1, &ops_trailers, &g);
	pump(c, o);
	ok(o->trailers[0] == 0 && g.ends == 2 && g.closes == 2 && g.why[0] == '\0');
	flow_msg_clear(&g.req);
	h2origin_free(c, "end");
	origin_free(o);
}

static void test_flow_control(void)
{
	struct h2origin *c = h2origin_new(16384);
	struct origin *o = origin_new(100000);
	struct got g = {0};
	submit(c, &g, "GET", "/big", 0);
	pump(c, o);
	ok(g.heads == 1 && g.body == 16384 && g.ends == 0); /* one window, not consumed */
	h2origin_consume(c, g.id, g.body);
	pump(c, o);
	ok(g.body == 32768);
	g.consume = 1;
	h2origin_consume(c, g.id, 16384);
	pump(c, o);
	ok(g.body == 100000 && g.ends == 1 && g.closes == 1);
	h2origin_free(c, "end");
	origin_free(o);
}

static void test_resets(void)
{
	struct h2origin *c = h2origin_new(65535);
	struct origin *o = origin_new(10);
	o->reset_path = 1;
	struct got a = {.consume = 1}, b = {.consume = 1}, k = {.consume = 1}, left = {0};
	submit(c, &a, "GET", "/reset", 0);
	submit(c, &b, "GET", "/fine", 0);
	pump(c, o);
	/* refused unprocessed: the caller may send it again elsewhere */
	ok(a.closes == 1 && a.heads == 0 && strcmp(a.why, h2origin_refused) == 0);
	ok(b.ends == 1 && b.closes == 1 && b.body == 10);
	/* a stream the caller gives up: no callback any more, the origin sees a reset */
	o->body_out = 100000;
	submit(c, &k, "GET", "/cancelled", 0);
	k.consume = 0;
	pump(c, o);
	int closes = o->closes;
	h2origin_cancel(c, k.id);
	pump(c, o);
	ok(o->closes == closes + 1 && strstr(o->why, "CANCEL"));
	ok(k.closes == 0);
	/* the session's end closes what is open with its reason */
	submit(c, &left, "GET", "/open", 0);
	h2origin_free(c, "the connection ended");
	ok(left.closes == 1 && strcmp(left.why, "the connection ended") == 0);
	origin_free(o);
}

int main(void)
{
	subtest("request", test_request);
	subtest("request body", test_request_body);
	subtest("request trailers", test_request_trailers);
	subtest("flow control", test_flow_control);
	subtest("resets", test_resets);
	return harness_done();
}
