/* SPDX-License-Identifier: MIT */
/* test_exchange.c - the exchange's message edits, without a connection: the token cookie
 * dropped from Cookie headers (and an emptied header removed), a message reframed for sending
 * whole, and the user's edit of a paused request or response (an absolute URL moves the
 * request and its Host, a bad status or scheme is refused and changes nothing). */
#include "exchange.h"

#include "conn.h"

#include "harness.h"

#include <string.h>

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
	struct conn_env env = {.cfg = &cfg};
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

int main(void)
{
	subtest("token cookie stripped", test_strip_cookie);
	subtest("message reframed", test_reframe);
	subtest("user edits", test_edit);
	return harness_done();
}
