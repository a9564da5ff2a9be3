/* SPDX-License-Identifier: MIT */
/* test_http2.c - the server side of the HTTP/2 module (http2.h) against nghttp2's own client
 * session, in memory: what a request becomes (pseudo-headers to method and target, cookies
 * joined, version 20), the shapes refused with their reason and a reset while the connection
 * goes on, flow control held until the caller consumes, and what a response turns into on the
 * wire (lowercase names, no connection-specific headers, no length on a 204). */
#include "http2.h"

#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <nghttp2/nghttp2.h>

/* ---- the server's sink: records what it was told ---- */

struct server {
	struct http2 *h;
	int requests, ends, closes, consume; /* consume: give the window back at once */
	size_t data;			     /* body bytes seen */
	char method[16], target[64], cookie[64], first_header[32], why[160];
	int respond;		       /* answer each request at its end */
	const struct flow_msg *answer; /* the head to answer with */
};

static void on_request(void *arg, struct http2_stream *st, int end)
{
	struct server *s = arg;
	const struct flow_msg *m = &st->head;
	const struct flow_header *c = flow_msg_header(m, "cookie");
	s->requests++;
	snprintf(s->method, sizeof s->method, "%s", m->method);
	snprintf(s->target, sizeof s->target, "%s/%d", m->target, m->version);
	snprintf(s->cookie, sizeof s->cookie, "%s", c ? c->value : "");
	snprintf(s->first_header, sizeof s->first_header, "%s",
		 m->num_headers ? m->headers[0].name : "");
	if (end && s->respond)
		http2_respond(s->h, st, s->answer, 0);
}

static void on_data(void *arg, struct http2_stream *st, const char *data, size_t len)
{
	struct server *s = arg;
	(void)data;
	s->data += len;
	if (s->consume)
		http2_consume(s->h, st, len);
}

static void on_end(void *arg, struct http2_stream *st)
{
	struct server *s = arg;
	s->ends++;
	if (s->respond)
		http2_respond(s->h, st, s->answer, 0);
}

static void on_close(void *arg, struct http2_stream *st, const char *why)
{
	struct server *s = arg;
	(void)st;
	s->closes++;
	snprintf(s->why, sizeof s->why, "%s", why ? why : "");
}

static size_t on_read_body(void *arg, struct http2_stream *st, char *buf, size_t len, int *eof)
{
	(void)arg;
	(void)st;
	size_t n = len < 5 ? len : 5;
	memcpy(buf, "hello", n);
	*eof = 1;
	return n;
}

/* ---- the client: nghttp2's own session ---- */

struct client {
	nghttp2_session *session;
	uint32_t reset_code; /* of the last RST_STREAM */
	int status;
	char headers[256]; /* "name:value;" of the response */
	size_t body;
	int ended;
};

static int cl_on_header(nghttp2_session *ss, const nghttp2_frame *f, const uint8_t *name,
			size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *arg)
{
	struct client *c = arg;
	(void)ss, (void)f, (void)flags;
	if (nlen == 7 && memcmp(name, ":status", 7) == 0)
		c->status = atoi((const char *)value);
	else
		snprintf(c->headers + strlen(c->headers), sizeof c->headers - strlen(c->headers),
			 "%.*s:%.*s;", (int)nlen, name, (int)vlen, value);
	return 0;
}

static int cl_on_data(nghttp2_session *ss, uint8_t flags, int32_t id, const uint8_t *d, size_t len,
		      void *arg)
{
	struct client *c = arg;
	(void)ss, (void)flags, (void)id, (void)d;
	c->body += len;
	return 0;
}

static int cl_on_frame(nghttp2_session *ss, const nghttp2_frame *f, void *arg)
{
	struct client *c = arg;
	(void)ss;
	if (f->hd.type == NGHTTP2_RST_STREAM)
		c->reset_code = f->rst_stream.error_code;
	if (f->hd.flags & NGHTTP2_FLAG_END_STREAM)
		c->ended = 1;
	return 0;
}

static void client_init(struct client *c)
{
	nghttp2_session_callbacks *cb;
	memset(c, 0, sizeof *c);
	nghttp2_session_callbacks_new(&cb);
	nghttp2_session_callbacks_set_on_header_callback(cb, cl_on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, cl_on_data);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, cl_on_frame);
	nghttp2_option *opt;
	nghttp2_option_new(&opt);
	nghttp2_option_set_no_http_messaging(opt, 1); /* so that it sends what we ask */
	nghttp2_session_client_new2(&c->session, cb, c, opt);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cb);
	nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, NULL, 0);
}

/* Moves frames both ways until neither side has anything to send. */
static void exchange_frames(struct client *c, struct server *s)
{
	struct evbuffer *out = evbuffer_new();
	for (int round = 0; round < 50; round++) {
		const uint8_t *d;
		ssize_t n;
		int moved = 0;
		const char *err = NULL;
		while ((n = nghttp2_session_mem_send(c->session, &d)) > 0) {
			ok(http2_recv(s->h, (const char *)d, (size_t)n, &err) == 0);
			moved = 1;
		}
		ok(http2_send(s->h, out, 1 << 20, &err) == 0);
		size_t len = evbuffer_get_length(out);
		if (len) {
			moved = 1;
			ok(nghttp2_session_mem_recv(c->session, evbuffer_pullup(out, -1), len) ==
			   (ssize_t)len);
			evbuffer_drain(out, len);
		}
		if (!moved)
			break;
	}
	evbuffer_free(out);
}

/* NO_COPY: nghttp2 would lowercase a copied name, and the test must send it as it is */
#define NV(n, v)                                                                                   \
	{                                                                                          \
		(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1,                      \
		    NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE                   \
	}

static int32_t get(struct client *c, const nghttp2_nv *extra, size_t num_extra, int end)
{
	nghttp2_nv nv[12] = {NV(":method", "GET"), NV(":scheme", "https"),
			     NV(":authority", "example.com"), NV(":path", "/a?b=1")};
	size_t n = 4;
	for (size_t i = 0; i < num_extra && n < 12; i++) {
		size_t k = 0;
		while (k < 4 && strcmp((const char *)nv[k].name, (const char *)extra[i].name) != 0)
			k++;
		if (k < 4)
			nv[k] = extra[i]; /* a pseudo-header replaced */
		else
			nv[n++] = extra[i];
	}
	return nghttp2_submit_headers(c->session, end ? NGHTTP2_FLAG_END_STREAM : 0, -1, NULL, nv,
				      n, NULL);
}

static struct server *server_new(void)
{
	struct server *s = calloc(1, sizeof *s);
	struct http2_sink sink = {on_request, on_data, on_end, on_close, on_read_body, s};
	s->h = http2_new(&sink, 65535);
	s->consume = 1;
	return s;
}

static void server_free(struct server *s)
{
	http2_free(s->h, "end");
	free(s);
}

/* ---- tests ---- */

static void test_request(void)
{
	struct server *s = server_new();
	struct client c;
	client_init(&c);
	nghttp2_nv extra[] = {NV("user-agent", "t"), NV("cookie", "a=1"), NV("cookie", "b=2")};
	get(&c, extra, 3, 1);
	exchange_frames(&c, s);
	ok(s->requests == 1 && s->ends == 0); /* END_STREAM on HEADERS: no separate end */
	ok(strcmp(s->method, "GET") == 0 && strcmp(s->target, "/a?b=1/20") == 0);
	ok(strcmp(s->cookie, "a=1; b=2") == 0);
	ok(strcmp(s->first_header, "user-agent") == 0);
	nghttp2_session_del(c.session);
	server_free(s);
}

static void test_refused(void)
{
	static const struct {
		nghttp2_nv nv;
		const char *why;
	} rows[] = {
	    {NV("x-a", "b\r\nx-c: d"), "CR, LF or NUL in a header value"},
	    {NV("x-a", "b\nc"), "CR, LF or NUL in a header value"},
	    {NV("X-Upper", "1"), "uppercase header name"},
	    {NV("x a", "1"), "invalid character in a header name"},
	    {NV("transfer-encoding", "chunked"), "connection-specific header"},
	    {NV("connection", "close"), "connection-specific header"},
	    {NV("upgrade", "h2c"), "connection-specific header"},
	    {NV("te", "gzip"), "te header other than"},
	    {NV("content-length", "1x"), "invalid content-length"},
	    {NV(":path", "/a b"), "space or control character in :path"},
	    {NV(":path", "a"), ":path must start with /"},
	    {NV(":method", "G T"), "invalid :method"},
	    {NV(":method", "CONNECT"), "CONNECT over HTTP/2"},
	    {NV(":scheme", "ftp"), "not http(s)"},
	    {NV(":authority", "a@b"), "invalid :authority"},
	    {NV(":status", "200"), "unknown pseudo-header"},
	};
	struct server *s = server_new();
	struct client c;
	client_init(&c);
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		c.reset_code = 0;
		s->why[0] = 0;
		get(&c, &rows[i].nv, 1, 1);
		exchange_frames(&c, s);
		ok(s->requests == 0 && c.reset_code == NGHTTP2_PROTOCOL_ERROR);
		ok(strstr(s->why, rows[i].why) && strstr(s->why, "malformed HTTP/2 request: "));
		if (!strstr(s->why, rows[i].why))
			fprintf(stderr, "  row %zu: %s\n", i, s->why);
	}
	/* a body longer, then shorter, than announced */
	nghttp2_nv cl = NV("content-length", "3");
	for (int longer = 1; longer >= 0; longer--) {
		int32_t id = get(&c, &cl, 1, 0);
		exchange_frames(&c, s);
		static const char body[] = "abcdef";
		struct evbuffer *b = evbuffer_new();
		/* DATA frames by hand: 9-byte header, then the payload, END_STREAM */
		size_t len = longer ? 6 : 2;
		uint8_t hd[9] = {0,
				 0,
				 (uint8_t)len,
				 NGHTTP2_DATA,
				 NGHTTP2_FLAG_END_STREAM,
				 (uint8_t)(id >> 24),
				 (uint8_t)(id >> 16),
				 (uint8_t)(id >> 8),
				 (uint8_t)id};
		evbuffer_add(b, hd, 9);
		evbuffer_add(b, body, len);
		const char *err = NULL;
		ok(http2_recv(s->h, (const char *)evbuffer_pullup(b, -1), 9 + len, &err) == 0);
		evbuffer_free(b);
		c.reset_code = 0;
		exchange_frames(&c, s);
		ok(strstr(s->why, "content-length disagrees with the DATA") != NULL);
		ok(s->data == (longer ? 0 : 2)); /* never more than announced */
		s->data = 0;
	}
	/* and the connection goes on */
	s->respond = 1;
	struct flow_msg head = {.status = 200};
	s->answer = &head;
	int before = s->requests;
	get(&c, NULL, 0, 1);
	exchange_frames(&c, s);
	ok(s->requests == before + 1 && c.status == 200 && c.body == 5);
	nghttp2_session_del(c.session);
	server_free(s);
}

static ssize_t read_big(nghttp2_session *ss, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
			nghttp2_data_source *src, void *arg)
{
	size_t *left = src->ptr;
	(void)ss, (void)id, (void)arg;
	size_t n = len < *left ? len : *left;
	memset(buf, 'x', n);
	*left -= n;
	if (*left == 0)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static struct http2_stream *last_stream;

static void on_data_keep(void *arg, struct http2_stream *st, const char *data, size_t len)
{
	last_stream = st;
	on_data(arg, st, data, len);
}

static void test_flow_control(void)
{
	struct server *s = calloc(1, sizeof *s);
	struct http2_sink sink = {on_request, on_data_keep, on_end, on_close, on_read_body, s};
	s->h = http2_new(&sink, 65535);
	struct client c;
	client_init(&c);
	size_t left = 200000;
	nghttp2_nv nv[] = {NV(":method", "POST"), NV(":scheme", "https"),
			   NV(":authority", "example.com"), NV(":path", "/up")};
	nghttp2_data_provider dp = {.source.ptr = &left, .read_callback = read_big};
	ok(nghttp2_submit_request(c.session, NULL, nv, 4, &dp, NULL) == 1);
	exchange_frames(&c, s);
	/* nothing consumed: the stream's window is all the client may send */
	ok(s->requests == 1 && s->data == 65535 && s->ends == 0);
	http2_consume(s->h, last_stream, 40000);
	exchange_frames(&c, s);
	ok(s->data == 65535 + 40000);
	while (s->ends == 0 && s->data < 200000) {
		http2_consume(s->h, last_stream, 65535);
		exchange_frames(&c, s);
	}
	ok(s->data == 200000 && s->ends == 1);
	nghttp2_session_del(c.session);
	server_free(s);
}

static void test_response(void)
{
	struct server *s = server_new();
	struct client c;
	client_init(&c);
	struct flow_msg head = {.status = 204};
	flow_msg_add_header(&head, "Content-Type", 12, "text/plain", 10);
	flow_msg_add_header(&head, "Connection", 10, "keep-alive, X-Hop", 17);
	flow_msg_add_header(&head, "X-Hop", 5, "1", 1);
	flow_msg_add_header(&head, "Transfer-Encoding", 17, "chunked", 7);
	flow_msg_add_header(&head, "Content-Length", 14, "11", 2);
	flow_msg_add_header(&head, "X-Peer", 6, "1", 1);
	s->respond = 1;
	s->answer = &head;
	get(&c, NULL, 0, 1);
	exchange_frames(&c, s);
	ok(c.status == 204);
	ok(strcmp(c.headers, "content-type:text/plain;x-peer:1;") == 0);
	if (strcmp(c.headers, "content-type:text/plain;x-peer:1;") != 0)
		fprintf(stderr, "  headers: %s\n", c.headers);
	ok(c.ended);
	flow_msg_clear(&head);
	nghttp2_session_del(c.session);
	server_free(s);
	ok(1);
}

/* A client that opens and resets stream after stream gets GOAWAY (ENHANCE_YOUR_CALM). */
static void test_rapid_reset(void)
{
	struct server *s = server_new();
	struct client c;
	client_init(&c);
	exchange_frames(&c, s);
	struct evbuffer *out = evbuffer_new();
	const char *err = NULL;
	int r = 0, i;
	for (i = 0; i < 1000 && r == 0; i++) {
		int32_t id = get(&c, NULL, 0, 0);
		const uint8_t *d;
		ssize_t n;
		for (int k = 0; k < 2; k++) {
			/* HEADERS out first: nghttp2 drops a stream reset before it was sent */
			if (k == 1)
				nghttp2_submit_rst_stream(c.session, NGHTTP2_FLAG_NONE, id,
							  NGHTTP2_CANCEL);
			while (r == 0 && (n = nghttp2_session_mem_send(c.session, &d)) > 0)
				r = http2_recv(s->h, (const char *)d, (size_t)n, &err);
		}
		http2_send(s->h, out, 1 << 20, &err);
		evbuffer_drain(out, evbuffer_get_length(out));
	}
	ok(r == -1 && err && strstr(err, "rapid reset"));
	ok(i > 200 && i < 1000);
	evbuffer_free(out);
	nghttp2_session_del(c.session);
	server_free(s);
}

int main(void)
{
	subtest("request", test_request);
	subtest("refused", test_refused);
	subtest("flow control", test_flow_control);
	subtest("response", test_response);
	subtest("rapid reset", test_rapid_reset);
	return harness_done();
}
