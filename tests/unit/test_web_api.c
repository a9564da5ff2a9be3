/* SPDX-License-Identifier: MIT */
/* test_web_api.c - the REST calls through api.h against a real store in a temp dir: list with
 * filter and paging, a bad filter's position, detail, bodies read piecewise (raw and gzip
 * decoded), delete and clear, rules (validation keeps the old ones), 501 without the proxy's
 * controls, 404/405. */
#include "api.h"
#include "har.h"
#include "harness.h"
#include "store.h"

#include "util.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static char dir[] = "/tmp/test_web_api.XXXXXX";
static char *path;
static struct store *store;
static struct api api;

static struct flow *mkflow(const char *host, const char *p, int status, const char *body,
			   size_t len, int gzip)
{
	struct flow *f = flow_new();
	f->state = FLOW_DONE;
	f->scheme = xstrdup("http");
	f->host = xstrdup(host);
	f->port = 80;
	f->path = xstrdup(p);
	f->request.present = 1;
	f->request.version = 11;
	f->request.method = xstrdup("GET");
	f->request.target = xstrdup(p);
	flow_msg_add_header(&f->request, "Host", 4, host, strlen(host));
	f->response.present = 1;
	f->response.version = 11;
	f->response.status = status;
	f->response.reason = xstrdup("OK");
	flow_msg_add_header(&f->response, "Content-Type", 12, "text/plain", 10);
	if (gzip)
		flow_msg_add_header(&f->response, "Content-Encoding", 16, "gzip", 4);
	flow_msg_add_body(&f->response, body, len, 1 << 22);
	f->t.start = util_now_us();
	f->t.end = f->t.start + 10;
	return f;
}

/* Waits (at most 30 s) for an import started by a call to end; 1 when it did. */
static int finish_import(struct api_reply *r)
{
	for (int i = 0; i < 30000 && !api_import_finish(&api, r); i++)
		usleep(1000);
	return r->import == NULL;
}

/* Runs one call (waiting for an import it starts); returns the parsed JSON answer (NULL for
 * non-JSON) and the status. */
static json_t *call(const char *method, const char *p, const char *filter, const char *body,
		    int *status)
{
	struct api_request rq = {.method = method,
				 .path = p,
				 .filter = filter,
				 .body = body,
				 .body_len = body ? strlen(body) : 0};
	struct api_reply r;
	api_handle(&api, &rq, &r);
	finish_import(&r);
	*status = r.status;
	json_t *j = r.body ? json_loadb(r.body, r.len, 0, NULL) : NULL;
	api_reply_clear(&r);
	return j;
}

/* The status of one call without a body, its answer dropped. */
static int status_of(const char *method, const char *p)
{
	int st;
	json_decref(call(method, p, NULL, NULL, &st));
	return st;
}

static json_int_t total(void)
{
	int st;
	json_t *j = call("GET", "/api/flows", NULL, NULL, &st);
	json_int_t t = json_integer_value(json_object_get(j, "total"));
	json_decref(j);
	return t;
}

static void wait_total(json_int_t want)
{
	for (int i = 0; i < 200 && total() != want; i++)
		usleep(20000);
}

static uint64_t first_id;
static char *big;
static size_t big_len = 1000000;
static unsigned char gz[1100000];
static uLongf gz_len;

static void setup(void)
{
	char err[256];
	ok(mkdtemp(dir) != NULL);
	path = xasprintf("%s/flows.db", dir);
	struct store_options o = {.body_limit = 1 << 22};
	store = store_open(path, &o, err, sizeof err);
	ok(store != NULL);
	api_init(&api, store, path, "PEM", 3);
	big = xmalloc(big_len);
	for (size_t i = 0; i < big_len; i++)
		big[i] = (char)('a' + (i * 7) % 26);
	/* gzip framing (windowBits 31) so Content-Encoding: gzip decodes */
	z_stream z = {0};
	deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (unsigned char *)big;
	z.avail_in = (uInt)big_len;
	z.next_out = gz;
	z.avail_out = sizeof gz;
	deflate(&z, Z_FINISH);
	gz_len = z.total_out;
	deflateEnd(&z);

	struct flow_sink sink = store_sink(store);
	struct flow *f = mkflow("a.example", "/one", 200, "hello", 5, 0);
	first_id = f->id;
	sink.emit(sink.arg, FLOW_EV_END, f);
	sink.emit(sink.arg, FLOW_EV_END, mkflow("b.example", "/two", 404, "", 0, 0));
	sink.emit(sink.arg, FLOW_EV_END, mkflow("a.example", "/big", 200, big, big_len, 0));
	sink.emit(sink.arg, FLOW_EV_END,
		  mkflow("c.example", "/gz", 200, (const char *)gz, gz_len, 1));
	wait_total(4);
	ok(total() == 4);
}

static void list(void)
{
	int st;
	json_t *j = call("GET", "/api/flows", "~c 404", NULL, &st);
	ok(st == 200);
	ok(json_integer_value(json_object_get(j, "total")) == 1);
	ok(strcmp(json_string_value(
		      json_object_get(json_array_get(json_object_get(j, "flows"), 0), "path")),
		  "/two") == 0);
	json_decref(j);
	j = call("GET", "/api/flows", "~x", NULL, &st);
	ok(st == 400);
	ok(strstr(json_string_value(json_object_get(j, "error")), "at ") != NULL);
	json_decref(j);
	struct api_request rq = {
	    .method = "GET", .path = "/api/flows", .limit = "1", .before = "0"};
	struct api_reply r;
	api_handle(&api, &rq, &r);
	j = json_loadb(r.body, r.len, 0, NULL);
	ok(json_array_size(json_object_get(j, "flows")) == 1);
	ok(json_integer_value(json_object_get(j, "total")) == 4);
	json_decref(j);
	api_reply_clear(&r);
	rq.limit = "0";
	api_handle(&api, &rq, &r);
	ok(r.status == 400);
	api_reply_clear(&r);
}

/* call() on /api/flows/ID of the first flow stored. */
static json_t *call_first(const char *method, int *st)
{
	char p[64];
	snprintf(p, sizeof p, "/api/flows/%llu", (unsigned long long)first_id);
	return call(method, p, NULL, NULL, st);
}

static void detail(void)
{
	int st;
	json_t *j = call_first("GET", &st);
	ok(st == 200);
	ok(strcmp(json_string_value(json_array_get(
		      json_array_get(json_object_get(json_object_get(j, "request"), "headers"), 0),
		      0)),
		  "Host") == 0);
	json_decref(j);
	j = call("GET", "/api/flows/99999", NULL, NULL, &st);
	ok(st == 404 && json_object_get(j, "error"));
	json_decref(j);
	ok(status_of("GET", "/api/flows/0") == 404);
}

static void read_all(uint64_t id, int decode, uint64_t want_len, const char *want)
{
	char p[96];
	snprintf(p, sizeof p, "/api/flows/%llu/response/body", (unsigned long long)id);
	struct api_request rq = {.method = "GET", .path = p, .decode = decode ? "1" : NULL};
	struct api_reply r;
	api_handle(&api, &rq, &r);
	ok(r.status == 200 && r.stream && r.stream_len == want_len);
	ok(strstr(r.disposition, "attachment") != NULL);
	char *got = xmalloc(want_len + 1);
	uint64_t off = 0;
	char piece[65536];
	for (;;) {
		ssize_t n = api_body_read(&api, id, 1, decode, off, piece, sizeof piece);
		if (n <= 0)
			break;
		if (off + (uint64_t)n > want_len)
			break;
		memcpy(got + off, piece, (size_t)n);
		off += (uint64_t)n;
	}
	ok(off == want_len && memcmp(got, want, want_len) == 0);
	free(got);
	api_reply_clear(&r);
}

static void bodies(void)
{
	read_all(first_id, 0, 5, "hello");
	read_all(first_id + 2, 0, big_len, big);
	read_all(first_id + 3, 1, big_len, big);
	read_all(first_id + 3, 0, gz_len, (const char *)gz);
	ok(status_of("GET", "/api/flows/99999/response/body") == 404);
}

static void rules(void)
{
	int st;
	json_t *j = call("GET", "/api/rules", NULL, NULL, &st);
	ok(st == 200 && json_array_size(json_object_get(j, "ignore_hosts")) == 0);
	json_decref(j);
	const char *good = "{\"ignore_hosts\":[\"^x\\\\.com:443$\"],\"intercept\":\"~d a\","
			   "\"block\":[{\"filter\":\"~u ads\"}]}";
	j = call("PUT", "/api/rules", NULL, good, &st);
	ok(st == 200);
	ok(json_integer_value(
	       json_object_get(json_array_get(json_object_get(j, "block"), 0), "status")) == 403);
	json_decref(j);
	const char *bad[] = {"{\"ignore_hosts\":[\"(\"]}",
			     "{\"allow_hosts\":\"x\"}",
			     "{\"intercept\":\"~x\"}",
			     "{\"block\":[{\"filter\":\"~x\"}]}",
			     "{\"block\":[{\"filter\":\"~u a\",\"status\":600}]}",
			     "[]",
			     "nope"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		j = call("PUT", "/api/rules", NULL, bad[i], &st);
		ok(st == 400 && json_is_string(json_object_get(j, "error")));
		json_decref(j);
	}
	j = call("GET", "/api/rules", NULL, NULL, &st);
	ok(strcmp(json_string_value(json_object_get(j, "intercept")), "~d a") == 0);
	json_decref(j);
}

static void routes(void)
{
	int st;
	json_t *j;
	/* Without the proxy's controls (no struct web_control), these say so. */
	const char *m501[][2] = {{"POST", "/api/flows/1/replay"},
				 {"POST", "/api/flows/1/resume"},
				 {"POST", "/api/flows/1/kill"}};
	for (size_t i = 0; i < 3; i++)
		ok(status_of(m501[i][0], m501[i][1]) == 501);
	/* a complete flow is edited where it stands, without the proxy (no edit given: 400) */
	ok(status_of("PUT", "/api/flows/1") == 400);
	j = call("GET", "/api/nope", NULL, NULL, &st);
	ok(st == 404 && json_object_get(j, "error"));
	json_decref(j);
	ok(status_of("POST", "/api/rules") == 405);
	struct api_request rq = {.method = "GET", .path = "/api/ca.pem"};
	struct api_reply r;
	api_handle(&api, &rq, &r);
	ok(r.status == 200 && r.len == 3 && memcmp(r.body, "PEM", 3) == 0);
	api_reply_clear(&r);
}

static void removal(void)
{
	int st;
	json_t *j = call_first("DELETE", &st);
	ok(st == 200);
	json_decref(j);
	wait_total(3);
	ok(total() == 3);
	j = call_first("DELETE", &st);
	ok(st == 404);
	json_decref(j);
	ok(status_of("DELETE", "/api/flows") == 200);
	wait_total(0);
	ok(total() == 0);
}

/* A write's reply is ready once the store has committed it, and the next read sees it; the
 * list answer has no store_error while the store writes. */
static void read_your_writes(void)
{
	int st;
	for (int round = 0; round < 20; round++) {
		struct flow_sink sink = store_sink(store);
		struct flow *f = mkflow("w.example", "/w", 200, "w", 1, 0);
		uint64_t id = f->id;
		sink.emit(sink.arg, FLOW_EV_END, f);
		wait_total(1);
		char p[64];
		snprintf(p, sizeof p, "/api/flows/%llu", (unsigned long long)id);
		struct api_request rq = {.method = "DELETE", .path = p};
		struct api_reply r;
		api_handle(&api, &rq, &r);
		ok(r.status == 200 && r.mark > 0);
		for (int i = 0; i < 30000 && !api_reply_ready(&api, &r); i++)
			usleep(100);
		ok(api_reply_ready(&api, &r));
		api_reply_clear(&r);
		ok(status_of("GET", p) == 404); /* at once: no wait between the two */
		ok(total() == 0);
	}
	ok(api_flow_changed(&api, 12345) == 0); /* no paused-flow call waits */
	json_t *j = call("GET", "/api/flows", NULL, NULL, &st);
	ok(st == 200 && json_object_get(j, "store_error") == NULL);
	json_decref(j);
}

static const char har_doc[] =
    "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"t\",\"version\":\"1\"},"
    "\"entries\":[{\"startedDateTime\":\"2026-11-22T10:00:00.000Z\",\"time\":1,"
    "\"request\":{\"method\":\"GET\",\"url\":\"http://h.example/x\",\"httpVersion\":"
    "\"HTTP/1.1\",\"cookies\":[],\"headers\":[],\"queryString\":[],\"headersSize\":-1,"
    "\"bodySize\":0},\"response\":{\"status\":200,\"statusText\":\"OK\",\"httpVersion\":"
    "\"HTTP/1.1\",\"cookies\":[],\"headers\":[],\"content\":{\"size\":2,\"mimeType\":"
    "\"text/plain\",\"text\":\"ok\"},\"redirectURL\":\"\",\"headersSize\":-1,\"bodySize\":2},"
    "\"cache\":{},\"timings\":{\"send\":0,\"wait\":1,\"receive\":0}}]}}";

static atomic_int wakes;

static void on_wake(void *arg)
{
	(void)arg;
	atomic_fetch_add(&wakes, 1);
}

struct ready {
	void *owner[4];
	int n;
};

static void on_ready(void *arg, void *owner)
{
	struct ready *rd = arg;
	if (rd->n < 4)
		rd->owner[rd->n++] = owner;
}

/* Runs after removal: the store is empty. */
static void har(void)
{
	int st;
	char *upload = xstrdup(har_doc);
	struct api_request rq = {.method = "POST",
				 .path = "/api/har",
				 .body = upload,
				 .body_len = strlen(har_doc),
				 .take_body = &upload,
				 .owner = &st};
	struct api_reply r;
	api.wake = on_wake;
	api_handle(&api, &rq, &r);
	/* the call returns at once: the worker owns the upload now and answers later */
	ok(r.import != NULL && r.body == NULL);
	ok(upload == NULL);
	for (int i = 0; i < 30000 && atomic_load(&wakes) == 0; i++)
		usleep(1000);
	ok(atomic_load(&wakes) == 1);
	struct ready rd = {0};
	api_import_poll(&api, on_ready, &rd);
	ok(rd.n == 1 && rd.owner[0] == &st); /* the request's owner, once */
	api_import_poll(&api, on_ready, &rd);
	ok(rd.n == 1);
	ok(api_import_finish(&api, &r) == 1);
	ok(r.status == 200 && r.import == NULL && r.body != NULL);
	ok(api.imports == NULL);
	json_t *j = r.body ? json_loadb(r.body, r.len, 0, NULL) : NULL;
	ok(json_integer_value(json_object_get(j, "imported")) == 1);
	ok(json_integer_value(json_object_get(j, "skipped")) == 0);
	json_decref(j);
	api_reply_clear(&r);
	wait_total(1);
	ok(total() == 1);

	j = call("POST", "/api/har", NULL, "{\"log\": {\"entries\": [{}]}}", &st);
	ok(st == 400 && json_is_string(json_object_get(j, "error")));
	json_decref(j);
	usleep(100000);
	ok(total() == 1);

	/* a reply cleared before its import ends (the client left): the import is stopped and
	 * freed by a later poll; a body not offered to take is copied */
	atomic_store(&wakes, 0);
	rq = (struct api_request){
	    .method = "POST", .path = "/api/har", .body = har_doc, .body_len = strlen(har_doc)};
	api_handle(&api, &rq, &r);
	ok(r.import != NULL);
	api_reply_clear(&r);
	for (int i = 0; i < 30000 && atomic_load(&wakes) == 0; i++)
		usleep(1000);
	rd.n = 0;
	api_import_poll(&api, on_ready, &rd);
	ok(rd.n == 0 && api.imports == NULL);
	/* one still running when the api stops: api_clear() (main) stops and frees it */
	api_handle(&api, &rq, &r);
	ok(r.import != NULL);
	api_import_stop(&api);
	ok(api.wake == NULL);
	ok(api_import_finish(&api, &r) == 1 && r.import == NULL); /* stopped: over */
	api_reply_clear(&r);
	api.wake = on_wake;
	usleep(100000);
	ok(total() <= 3); /* each cancelled import stored its one flow, or nothing */

	rq = (struct api_request){.method = "GET", .path = "/api/har", .filter = "~d h.example"};
	api_handle(&api, &rq, &r);
	ok(r.status == 200 && r.har != NULL && r.body == NULL);
	ok(r.content_type && strcmp(r.content_type, "application/json; charset=utf-8") == 0);
	ok(strncmp(r.disposition, "attachment; filename=\"flowscope-", 32) == 0);
	char *doc = NULL;
	size_t len = 0;
	const char *piece;
	size_t plen;
	while (r.har && har_export_next(r.har, &piece, &plen)) {
		doc = xrealloc(doc, len + plen);
		memcpy(doc + len, piece, plen);
		len += plen;
	}
	api_reply_clear(&r);
	j = doc ? json_loadb(doc, len, 0, NULL) : NULL;
	json_t *e = json_array_get(json_object_get(json_object_get(j, "log"), "entries"), 0);
	ok(e && strcmp(json_string_value(json_object_get(json_object_get(e, "request"), "url")),
		       "http://h.example/x") == 0);
	json_decref(j);
	free(doc);

	j = call("GET", "/api/har", "~x", NULL, &st);
	ok(st == 400 && json_is_string(json_object_get(j, "error")));
	json_decref(j);
}

int main(void)
{
	subtest("setup", setup);
	if (store) {
		subtest("list", list);
		subtest("detail", detail);
		subtest("bodies", bodies);
		subtest("rules", rules);
		subtest("routes", routes);
		subtest("removal", removal);
		subtest("read_your_writes", read_your_writes);
		subtest("har", har);
	}
	api_clear(&api);
	store_close(store);
	free(big);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
	free(path);
	return harness_done();
}
