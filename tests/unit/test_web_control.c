/* SPDX-License-Identifier: MIT */
/* test_web_control.c - control.h: the API's request and response shapes as flows, checked by
 * the wire-text toolkit (url.h, wire.h, b64.h) so that what is accepted can be sent. */
#include "control.h"

#include "harness.h"

#include <string.h>

static char err[256];

static struct flow *edit(const char *json)
{
	err[0] = '\0';
	return control_edit(json, strlen(json), err, sizeof err);
}

static int refused(const char *json, const char *needle)
{
	struct flow *f = edit(json);
	int r = f == NULL && strstr(err, needle) != NULL;
	if (!r)
		fprintf(stderr, "%s -> '%s'\n", json, err);
	flow_free(f);
	return r;
}

/* One check per row: {json, a text the refusal must contain}. */
static void refused_all(const char *const rows[][2], size_t n)
{
	for (size_t i = 0; i < n; i++)
		ok(refused(rows[i][0], rows[i][1]));
}

/* URLs an edit must refuse, and why. */
static const char *const url_refusals[][2] = {
	{"{\"request\":{\"url\":\"ftp://h/\"}}", "http://"},
	{"{\"request\":{\"url\":\"wss://h/\"}}", "http://"},
	{"{\"request\":{\"url\":\"/only/a/path\"}}", "http://"},
	{"{\"request\":{\"url\":\"http://u:p@h/\"}}", "user:password"},
	{"{\"request\":{\"url\":\"http://h/a b\"}}", "spaces"},
	{"{\"request\":{\"url\":\"http://h:0/\"}}", "bad port"},
	{"{\"request\":{\"url\":\"http://a'b/\"}}", "bad host"},
	{"{\"request\":{\"url\":\"http://h\\u0000x/\"}}", "JSON"}, /* jansson refuses NUL */
};

/* Header names, methods and reasons an edit must refuse (names and methods are tokens: what
 * replay can send). */
static const char *const header_refusals[][2] = {
	{"{\"request\":{\"headers\":[[\"X(Y)\",\"1\"]]}}", "headers[0]"},
	{"{\"request\":{\"headers\":[[\"A\",\"1\"],[\"X Y\",\"1\"]]}}", "headers[1]"},
	{"{\"request\":{\"headers\":[[\"X\",\"a\\r\\nB: c\"]]}}", "headers[0]"},
	{"{\"request\":{\"headers\":[[\"\",\"a\"]]}}", "headers[0]"},
	{"{\"request\":{\"method\":\"G(ET\"}}", "token"},
	{"{\"request\":{\"method\":\"GET\\u0000X\"}}", "JSON"},
	{"{\"request\":{\"method\":\"\"}}", "token"},
	{"{\"response\":{\"reason\":\"OK\\r\\nX: y\"}}", "reason"},
};

static void test_url(void)
{
	struct flow *f = edit("{\"request\":{\"url\":\"HTTP://h.example:81/a?b#frag\"}}");
	ok(f && strcmp(f->scheme, "http") == 0 && strcmp(f->host, "h.example") == 0 &&
	   f->port == 81 && strcmp(f->path, "/a?b") == 0 && strcmp(f->request.target, "/a?b") == 0);
	flow_free(f);
	f = edit("{\"request\":{\"url\":\"https://[::1]?q=1\"}}");
	ok(f && strcmp(f->scheme, "https") == 0 && strcmp(f->host, "::1") == 0 && f->port == 443 &&
	   strcmp(f->path, "/?q=1") == 0);
	flow_free(f);
	refused_all(url_refusals, sizeof url_refusals / sizeof *url_refusals);
}

static void test_headers_and_method(void)
{
	struct flow *f = edit("{\"request\":{\"method\":\"PATCH\",\"headers\":[[\"X-Ok\","
			      "\"caf\\u00e9 \\t\"],[\"Accept\",\"\"]]}}");
	ok(f && strcmp(f->request.method, "PATCH") == 0 && f->request.num_headers == 2 &&
	   strcmp(f->request.headers[0].value, "caf\xc3\xa9 \t") == 0);
	flow_free(f);
	refused_all(header_refusals, sizeof header_refusals / sizeof *header_refusals);
	f = edit("{\"response\":{\"status\":201,\"reason\":\"Made\"}}");
	ok(f && f->response.status == 201 && strcmp(f->response.reason, "Made") == 0);
	flow_free(f);
}

static void test_body(void)
{
	struct flow *f = edit("{\"request\":{\"body_base64\":\"QQBCDQr/\"}}");
	ok(f && f->request.body.len == 6 && memcmp(f->request.body.data, "A\0B\r\n\xff", 6) == 0);
	flow_free(f);
	f = edit("{\"response\":{\"body_base64\":\"QQ\\n\"}}"); /* padding left out, a newline */
	ok(f && f->response.body.len == 1 && f->response.body.data[0] == 'A');
	flow_free(f);
	f = edit("{\"response\":{\"body_base64\":\"\"}}");
	ok(f && f->response.body.data && f->response.body.len == 0);
	flow_free(f);
	ok(refused("{\"request\":{\"body_base64\":\"Q\"}}", "base64"));
	ok(refused("{\"request\":{\"body_base64\":\"QQ==QQ==\"}}", "base64"));
}

int main(void)
{
	subtest("url", test_url);
	subtest("headers and method", test_headers_and_method);
	subtest("bodies", test_body);
	return harness_done();
}
