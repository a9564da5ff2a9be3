/* SPDX-License-Identifier: MIT */
/* test_web_json.c - flows as JSON: summary fields, ordered header pairs, bytes that are not
 * UTF-8 (latin-1 fallback, always valid JSON), events and errors. */
#include "harness.h"
#include "webjson.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static struct flow *sample(void)
{
	struct flow *f = flow_new();
	f->state = FLOW_DONE;
	f->flags = FLOW_F_TLS | FLOW_F_MARKED;
	flow_set_str(&f->scheme, "https");
	flow_set_str(&f->host, "example.com");
	f->port = 443;
	flow_set_str(&f->path, "/a?b=1");
	strcpy(f->client_addr, "127.0.0.1:5000");
	f->request.present = 1;
	f->request.version = 11;
	flow_set_str(&f->request.method, "GET");
	flow_set_str(&f->request.target, "/a?b=1");
	flow_msg_add_header(&f->request, "Host", 4, "example.com", 11);
	flow_msg_add_header(&f->request, "X-Latin", 7, "caf\xe9", 4);
	f->response.present = 1;
	f->response.version = 11;
	f->response.status = 200;
	flow_set_str(&f->response.reason, "OK");
	flow_msg_add_header(&f->response, "Content-Type", 12, "text/html", 9);
	flow_msg_add_body(&f->response, "hello", 5, 3);
	f->t.start = 1000;
	f->t.end = 3500;
	return f;
}

static void summary(void)
{
	struct flow *f = sample();
	json_t *j = webjson_summary(f);
	ok(json_integer_value(json_object_get(j, "id")) == (json_int_t)f->id);
	ok(strcmp(json_string_value(json_object_get(j, "state")), "done") == 0);
	ok(strcmp(json_string_value(json_object_get(j, "method")), "GET") == 0);
	ok(strcmp(json_string_value(json_object_get(j, "host")), "example.com") == 0);
	ok(json_integer_value(json_object_get(j, "status")) == 200);
	ok(strcmp(json_string_value(json_object_get(j, "content_type")), "text/html") == 0);
	ok(json_integer_value(json_object_get(j, "response_body_size")) == 5);
	ok(json_is_true(json_object_get(j, "response_truncated")));
	ok(json_is_true(json_object_get(j, "tls")));
	ok(json_is_true(json_object_get(j, "marked")));
	ok(json_is_false(json_object_get(j, "websocket")));
	ok(json_is_null(json_object_get(j, "replay_of")));
	ok(json_is_null(json_object_get(j, "server_addr")));
	json_t *t = json_object_get(j, "timings");
	ok(json_integer_value(json_object_get(t, "duration")) == 2500);
	ok(json_is_null(json_object_get(t, "dns_done")));
	ok(!json_object_get(j, "request"));
	json_decref(j);
	flow_free(f);
}

static void detail(void)
{
	struct flow *f = sample();
	json_t *j = webjson_flow(f);
	json_t *rq = json_object_get(j, "request");
	json_t *hs = json_object_get(rq, "headers");
	ok(json_array_size(hs) == 2);
	ok(strcmp(json_string_value(json_array_get(json_array_get(hs, 0), 0)), "Host") == 0);
	ok(strcmp(json_string_value(json_array_get(json_array_get(hs, 1), 1)), "caf\xc3\xa9") == 0);
	ok(json_is_true(json_object_get(rq, "latin1")));
	json_t *rs = json_object_get(j, "response");
	ok(json_integer_value(json_object_get(rs, "body_stored")) == 3);
	ok(!json_object_get(rs, "latin1"));
	size_t len;
	char *text = webjson_dump(j, &len);
	json_t *back = json_loads(text, 0, NULL);
	ok(back != NULL); /* always valid JSON */
	json_decref(back);
	free(text);
	flow_free(f);
}

static void strings(void)
{
	int l = 0;
	json_t *s = webjson_string("a\0b", 3, &l);
	ok(json_string_length(s) == 3 && l == 0);
	json_decref(s);
	s = webjson_string("\xff\xfe", 2, &l);
	ok(l == 1 && strcmp(json_string_value(s), "\xc3\xbf\xc3\xbe") == 0);
	json_decref(s);
	s = webjson_string(NULL, 0, NULL);
	ok(json_is_null(s));
	json_decref(s);
}

static void events(void)
{
	struct flow *f = sample();
	size_t len;
	char *m = webjson_event(STORE_ADDED, f, &len);
	json_t *j = json_loads(m, 0, NULL);
	ok(strcmp(json_string_value(json_object_get(j, "type")), "flow") == 0);
	ok(strcmp(json_string_value(json_object_get(j, "action")), "add") == 0);
	ok(json_integer_value(json_object_get(json_object_get(j, "flow"), "id")) ==
	   (json_int_t)f->id);
	json_decref(j);
	free(m);
	m = webjson_event(STORE_REMOVED, f, &len);
	ok(strstr(m, "\"remove\"") != NULL);
	free(m);
	m = webjson_event(STORE_RESET, NULL, &len);
	ok(strcmp(m, "{\"type\":\"reset\"}") == 0 && len == 16);
	free(m);
	m = webjson_error("bad \"x\"", &len);
	ok(strcmp(m, "{\"error\":\"bad \\\"x\\\"\"}") == 0);
	free(m);
	flow_free(f);
}

int main(void)
{
	subtest("summary", summary);
	subtest("detail", detail);
	subtest("strings", strings);
	subtest("events", events);
	return harness_done();
}
