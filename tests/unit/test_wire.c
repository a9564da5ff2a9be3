/* SPDX-License-Identifier: MIT */
/* test_wire.c - wire.h: header name and value validity, request and response heads, a chunked
 * body with a request's trailers and when a request can carry them. */
#include "wire.h"

#include "harness.h"

#include <stdlib.h>
#include <string.h>

static int head_is(struct flow_buf *b, const char *want)
{
	int same = b->len == strlen(want) && memcmp(b->data, want, b->len) == 0;
	if (!same)
		fprintf(stderr, "got: %.*s\n", (int)b->len, b->data ? b->data : "");
	flow_buf_clear(b);
	return same;
}

static void hdr(struct flow_msg *m, const char *name, const char *value)
{
	flow_msg_add_header(m, name, strlen(name), value, strlen(value));
}

static void test_token(void)
{
	ok(wire_is_token("GET", 3));
	ok(wire_is_token("X-Custom_1.b!#$%&'*+^`|~", 24));
	ok(!wire_is_token("", 0));
	ok(!wire_is_token(NULL, 0));
	const char *bad[] = {"a b",  "a:b", "a(b",  "a)b",   "a,b",	 "a/b",
			     "a;b",  "a=b", "a\"b", "a@b",   "a[b",	 "a{b",
			     "a\\b", "a?b", "a\tb", "a\x7f", "a\xc3\xa9"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ok(!wire_is_token(bad[i], strlen(bad[i])));
	ok(!wire_is_token("a\0b", 3));
}

static void test_field_value(void)
{
	ok(wire_is_field_value("", 0));
	ok(wire_is_field_value("text/html; q=0.9", 16));
	ok(wire_is_field_value("caf\xe9 \t\x01\x7f", 8)); /* recorded bytes pass through */
	ok(!wire_is_field_value("a\rb", 3));
	ok(!wire_is_field_value("a\nX-Injected: 1", 15));
	ok(!wire_is_field_value("a\0b", 3));
}

static void test_check_headers(void)
{
	struct flow_msg m = {0};
	size_t bad = 99;
	hdr(&m, "Host", "h");
	hdr(&m, "X-A", "1");
	ok(wire_check_headers(&m, &bad) == 0 && bad == 99);
	hdr(&m, "X B", "1");
	ok(wire_check_headers(&m, &bad) == -1 && bad == 2);
	flow_msg_clear(&m);
	hdr(&m, "X", "a\r\nb");
	ok(wire_check_headers(&m, &bad) == -1 && bad == 0);
	flow_msg_clear(&m);
}

static void test_lines(void)
{
	struct flow_buf b = {0};
	wire_request_line(&b, "GET", "/x?y", 11);
	ok(head_is(&b, "GET /x?y HTTP/1.1\r\n"));
	wire_request_line(&b, "POST", "/", 10);
	ok(head_is(&b, "POST / HTTP/1.0\r\n"));
	wire_status_line(&b, 11, 404, "Not Found");
	ok(head_is(&b, "HTTP/1.1 404 Not Found\r\n"));
	wire_status_line(&b, 10, 200, NULL);
	ok(head_is(&b, "HTTP/1.0 200 \r\n"));
	wire_header(&b, "A", 1, "b", 1);
	ok(head_is(&b, "A: b\r\n"));
}

static void test_request_head(void)
{
	static const struct {
		const char *method;
		int version;
		const char *headers[6][2]; /* name and value, up to a NULL name */
		const char *target, *host;
		/* the heads written with host and with NULL */
		const char *with_host, *without_host;
	} cases[] = {
	    {"GET",
	     11,
	     {{"Accept", "*/*"},
	      {"host", "old:81"},
	      {"Proxy-Connection", "keep-alive"},
	      {"Host", "second"},
	      {"X-Z", ""}},
	     "/p",
	     "new.example",
	     "GET /p HTTP/1.1\r\nAccept: */*\r\nhost: new.example\r\nX-Z: \r\n\r\n",
	     "GET /p HTTP/1.1\r\nAccept: */*\r\nhost: old:81\r\nX-Z: \r\n\r\n"},
	    {"HEAD",
	     10,
	     {{"Accept", "*/*"}},
	     "/",
	     "[::1]:8080",
	     "HEAD / HTTP/1.0\r\nAccept: */*\r\nHost: [::1]:8080\r\n\r\n",
	     "HEAD / HTTP/1.0\r\nAccept: */*\r\n\r\n"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct flow_msg m = {0};
		struct flow_buf b = {0};
		flow_set_str(&m.method, cases[i].method);
		m.version = cases[i].version;
		for (size_t j = 0; j < 6 && cases[i].headers[j][0]; j++)
			hdr(&m, cases[i].headers[j][0], cases[i].headers[j][1]);
		wire_request_head(&b, &m, cases[i].target, cases[i].host);
		ok(head_is(&b, cases[i].with_host));
		wire_request_head(&b, &m, cases[i].target, NULL);
		ok(head_is(&b, cases[i].without_host));
		flow_msg_clear(&m);
	}
}

static void test_response_head(void)
{
	struct flow_msg m = {0};
	struct flow_buf b = {0};
	m.version = 11;
	m.status = 200;
	m.reason = "OK";
	hdr(&m, "Content-Length", "0");
	hdr(&m, "Proxy-Connection", "kept"); /* a response is written as it is */
	wire_response_head(&b, &m);
	ok(head_is(&b, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nProxy-Connection: kept\r\n\r\n"));
	m.reason = NULL;
	flow_msg_clear(&m);
}

static void trailer(struct flow_msg *m, const char *name, const char *value)
{
	flow_msg_add_trailer(m, name, strlen(name), value, strlen(value));
}

static void test_chunked_body(void)
{
	struct flow_msg m = {0};
	struct flow_buf b = {0};
	wire_chunked_body(&b, &m);
	ok(head_is(&b, "0\r\n\r\n"));
	trailer(&m, "X-Checksum", "abc");
	trailer(&m, "content-length", "5");	    /* would frame the message: left out */
	trailer(&m, "X-Bad", "a\r\nX-Injected: 1"); /* would add a line: left out */
	trailer(&m, "x-lower", "a b");
	wire_chunked_body(&b, &m);
	ok(head_is(&b, "0\r\nX-Checksum: abc\r\nx-lower: a b\r\n\r\n"));
	flow_buf_append(&m.body, "0123456789abcdefg", 17);
	wire_chunked_body(&b, &m);
	ok(head_is(&b, "11\r\n0123456789abcdefg\r\n0\r\nX-Checksum: abc\r\nx-lower: a b\r\n\r\n"));
	flow_msg_clear(&m);
}

static void test_sends_trailers(void)
{
	struct flow_msg m = {0};
	m.version = 11;
	hdr(&m, "Transfer-Encoding", "chunked");
	ok(!wire_sends_trailers(&m)); /* none to send */
	trailer(&m, "Transfer-Encoding", "chunked");
	ok(!wire_sends_trailers(&m)); /* none that may go */
	trailer(&m, "X-Checksum", "abc");
	ok(wire_sends_trailers(&m));
	hdr(&m, "Content-Length", "5"); /* Transfer-Encoding wins over a length */
	ok(wire_sends_trailers(&m));
	m.version = 10; /* no chunked coding */
	ok(!wire_sends_trailers(&m));
	m.version = 20;
	ok(wire_sends_trailers(&m));
	flow_msg_clear(&m);

	m.version = 11;
	trailer(&m, "X-Checksum", "abc");
	ok(wire_sends_trailers(&m)); /* no framing header (an h2 flow, an edit): chunked */
	hdr(&m, "Content-Length", "5");
	ok(!wire_sends_trailers(&m)); /* a length alone: the body goes without them */
	flow_msg_clear(&m);
}

int main(void)
{
	subtest("token", test_token);
	subtest("field value", test_field_value);
	subtest("check headers", test_check_headers);
	subtest("start lines and header lines", test_lines);
	subtest("request head", test_request_head);
	subtest("response head", test_response_head);
	subtest("chunked body", test_chunked_body);
	subtest("when trailers go", test_sends_trailers);
	return harness_done();
}
