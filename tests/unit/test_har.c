/* SPDX-License-Identifier: MIT */
/* test_har.c - HAR export through a real store in a temp file: flows go in by store_sink(),
 * the export is parsed back with jansson and checked field by field (the _flowscope fields,
 * tunnels, truncated and encoded bodies included), an export that its writer
 * aborts, pulled in steps, and in pages. Import and round trips: test_har_import.c and
 * test_har_roundtrip.c. With HAR_EXPORT_FILE set, the export of the test flows is also written
 * there, for tests/integration/data/har/validate.mjs. */
#define _GNU_SOURCE /* nftw() */
#include "har_fixture.h"

/* 1 when the entries are in order of startedDateTime, oldest first. */
static int oldest_first(json_t *es)
{
	for (size_t i = 1; i < json_array_size(es); i++)
		if (strcmp(sget(json_array_get(es, i - 1), "startedDateTime"),
			   sget(json_array_get(es, i), "startedDateTime")) > 0)
			return 0;
	return 1;
}

static json_t *find_entry(json_t *entries, const char *url)
{
	for (size_t i = 0; i < json_array_size(entries); i++) {
		const char *u = sget(json_array_get(entries, i), "request.url");
		if (u && strcmp(u, url) == 0)
			return json_array_get(entries, i);
	}
	return NULL;
}

/* One expected field of an entry: a string ('s'), an integer ('i'), a number ('n') or absent
 * ('-'); one check each. */
struct field {
	const char *path;
	char kind;
	const char *s;
	double n;
};

static void check_fields(json_t *e, const struct field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *got;
		switch (f[i].kind) {
		case 's':
			got = sget(e, f[i].path);
			ok(got && strcmp(got, f[i].s) == 0);
			break;
		case 'i':
			ok(json_integer_value(jget(e, f[i].path)) == (json_int_t)f[i].n);
			break;
		case 'n':
			ok(num(e, f[i].path) == f[i].n);
			break;
		default:
			ok(jget(e, f[i].path) == NULL);
		}
	}
}

#define CHECK_FIELDS(e, ...)                                                                       \
	check_fields((e), (const struct field[]){__VA_ARGS__},                                     \
		     sizeof((const struct field[]){__VA_ARGS__}) / sizeof(struct field))

static void test_export(void)
{
	char *path;
	int n;
	struct store *s = stored_flows("export.db", &path, &n);
	ok(s != NULL);
	if (!s)
		return;
	struct flow_buf raw = {0};
	json_t *doc = export_doc(path, NULL, &raw);
	ok(doc != NULL);
	save_export("", &raw);
	flow_buf_clear(&raw);
	if (!doc)
		goto end;
	ok(strcmp(sget(doc, "log.version"), "1.2") == 0);
	ok(strcmp(sget(doc, "log.creator.name"), "flowscope") == 0);
	json_t *es = entries_of(doc);
	ok(json_array_size(es) == (size_t)n);
	ok(oldest_first(es));

	/* 1 */
	json_t *e =
	    find_entry(es, "https://example.com/search?q=a%20b&lang=fr&x=%C3%A9t%C3%A9&flag");
	ok(e != NULL);
	if (e) {
		ok(strcmp(sget(e, "startedDateTime"), "2026-01-01T00:00:00.000Z") == 0);
		ok(strcmp(sget(e, "request.method"), "GET") == 0);
		ok(strcmp(sget(e, "request.httpVersion"), "HTTP/1.1") == 0);
		ok(strcmp(sget(e, "response.httpVersion"), "HTTP/1.1") == 0);
		ok(strcmp(sget(e, "serverIPAddress"), "93.184.216.34") == 0);
		ok(strcmp(sget(e, "connection"), "50123") == 0);
		ok(strcmp(sget(e, "_flowscope_kind"), "http") == 0);
		json_t *qs = jget(e, "request.queryString");
		ok(json_array_size(qs) == 4);
		ok(strcmp(sget(json_array_get(qs, 0), "name"), "q") == 0);
		ok(strcmp(sget(json_array_get(qs, 0), "value"), "a b") == 0);
		ok(strcmp(sget(json_array_get(qs, 2), "value"), "\xc3\xa9t\xc3\xa9") == 0);
		ok(strcmp(sget(json_array_get(qs, 3), "name"), "flag") == 0);
		ok(strcmp(sget(json_array_get(qs, 3), "value"), "") == 0);
		json_t *ck = jget(e, "request.cookies");
		ok(json_array_size(ck) == 2);
		ok(strcmp(sget(json_array_get(ck, 1), "name"), "theme") == 0);
		ok(strcmp(sget(json_array_get(ck, 1), "value"), "dark") == 0);
		/* Latin-1 header byte as U+00E9 */
		ok(strcmp(hget(jget(e, "request.headers"), "X-Odd"), "caf\xc3\xa9") == 0);
		json_t *sc = json_array_get(jget(e, "response.cookies"), 0);
		ok(strcmp(sget(sc, "name"), "sid") == 0);
		ok(strcmp(sget(sc, "value"), "xyz") == 0);
		ok(strcmp(sget(sc, "path"), "/") == 0);
		ok(strcmp(sget(sc, "domain"), "example.com") == 0);
		ok(sget(sc, "expires") &&
		   strcmp(sget(sc, "expires"), "2026-10-21T07:28:00.000Z") == 0);
		ok(json_is_true(jget(sc, "httpOnly")));
		ok(json_is_true(jget(sc, "secure")));
		ok(strcmp(sget(e, "response.content.text"), html) == 0);
		ok(jget(e, "response.content.encoding") == NULL);
		ok(num(e, "response.content.size") == strlen(html));
		ok(strcmp(sget(e, "response.content.mimeType"), "text/html; charset=utf-8") == 0);
		ok(json_integer_value(jget(e, "response.bodySize")) > 0);
		ok(json_integer_value(jget(e, "request.headersSize")) == 120);
		ok(json_integer_value(jget(e, "request.bodySize")) == 0);
		ok(strcmp(sget(e, "response.redirectURL"), "") == 0);
		/* timings: connect includes ssl; time is the sum */
		ok(num(e, "timings.blocked") == -1);
		ok(num(e, "timings.dns") == 2.0);
		ok(num(e, "timings.connect") == 7.0);
		ok(num(e, "timings.ssl") == 4.0);
		ok(num(e, "timings.send") == 0.5);
		ok(num(e, "timings.wait") == 20.5);
		ok(num(e, "timings.receive") == 1.234);
		ok(num(e, "time") == 31.234);
		ok(json_integer_value(jget(e, "_flowscope.flags")) == (FLOW_F_TLS | FLOW_F_MARKED));
		ok(strcmp(sget(e, "_flowscope.tls.version"), "TLSv1.3") == 0);
		ok(jget(e, "request.postData") == NULL);
	}

	/* 2: form post, redirect, reused connection */
	e = find_entry(es, "http://shop.test:8080/login");
	ok(e != NULL);
	if (e) {
		ok(strcmp(sget(e, "request.postData.mimeType"),
			  "application/x-www-form-urlencoded") == 0);
		ok(strcmp(sget(e, "request.postData.text"),
			  "user=ann+smith&pass=caf%C3%A9%26co&empty=") == 0);
		json_t *pp = jget(e, "request.postData.params");
		ok(json_array_size(pp) == 3);
		ok(strcmp(sget(json_array_get(pp, 0), "value"), "ann smith") == 0);
		ok(strcmp(sget(json_array_get(pp, 1), "value"), "caf\xc3\xa9&co") == 0);
		CHECK_FIELDS(
		    e, {"response.redirectURL", 's', "http://shop.test:8080/home", 0},
		    {"request.bodySize", 'i', NULL, 41}, {"response.status", 'i', NULL, 302},
		    {"response.statusText", 's', "Found", 0}, {"timings.dns", 'n', NULL, -1},
		    {"timings.connect", 'n', NULL, -1}, {"timings.ssl", 'n', NULL, -1},
		    {"timings.send", 'n', NULL, 1.5}, {"time", 'n', NULL, 12.75});
	}

	/* 3: binary bodies as base64 */
	e = find_entry(es, "http://img.test/up.png");
	ok(e != NULL);
	if (e) {
		CHECK_FIELDS(e, {"request.httpVersion", 's', "HTTP/1.0", 0},
			     {"response.content.encoding", 's', "base64", 0},
			     {"request.postData._encoding", 's', "base64", 0},
			     {"response.content.text", 's', "iVBORw0KGgoAAAANSUhEUv/+AIA=", 0},
			     {"response.content.size", 'n', NULL, sizeof png});
	}

	/* 4: failure */
	e = find_entry(es, "https://down.test/");
	ok(e != NULL);
	if (e) {
		CHECK_FIELDS(e, {"response.status", 'i', NULL, 0},
			     {"response._error", 's', "upstream connection refused", 0},
			     {"response.bodySize", 'i', NULL, -1},
			     {"response.headersSize", 'i', NULL, -1},
			     {"serverIPAddress", '-', NULL, 0}, {"timings.dns", 'n', NULL, 0.8},
			     {"timings.send", 'n', NULL, 1.2} /* the rest of its life */,
			     {"time", 'n', NULL, 2.0});
	}

	/* 5: tunnel */
	e = find_entry(es, "https://pinned.test");
	ok(e != NULL);
	if (e) {
		CHECK_FIELDS(
		    e, {"request.method", 's', "CONNECT", 0}, {"_flowscope_kind", 's', "tunnel", 0},
		    {"response.status", 'i', NULL, 0}, {"serverIPAddress", 's', "2001:db8::5", 0},
		    {"time", 'n', NULL, 500.0});
		ok(json_integer_value(json_array_get(jget(e, "_flowscope.bytes"), 1)) == 70000);
	}

	/* 6, 7: truncated, undecodable */
	e = find_entry(es, "http://big.test/big.txt");
	ok(e != NULL);
	if (e) {
		CHECK_FIELDS(e, {"response.content.text", 's', "0123", 0},
			     {"response.content.size", 'n', NULL, 10},
			     {"response.bodySize", 'i', NULL, 10});
		ok(json_is_true(json_array_get(jget(e, "_flowscope.truncated"), 1)));
	}
	e = find_entry(es, "http://broken.test/x");
	ok(e != NULL);
	if (e) {
		ok(strcmp(sget(e, "response.content.text"), "not gzip at all") == 0);
		ok(json_is_true(json_array_get(jget(e, "_flowscope.encoded"), 1)));
	}

	/* 8, 9 */
	e = find_entry(es, "http:///");
	ok(e != NULL);
	if (e)
		ok(strcmp(sget(e, "response._error"), "malformed request: bad method") == 0);
	ok(find_entry(es, "http://[::1]:8081/v6") != NULL);
	json_decref(doc);

	/* a filter */
	doc = export_doc(path, "~d example.com | ~m POST", NULL);
	ok(doc && json_array_size(entries_of(doc)) == 2);
	json_decref(doc);
	doc = export_doc(path, "~d nothing.matches", NULL);
	ok(doc && json_array_size(entries_of(doc)) == 0);
	json_decref(doc);
end:
	store_close(s);
	free(path);
}

static int on_write_abort(void *arg, const char *data, size_t len)
{
	(void)data, (void)len;
	return ++*(int *)arg >= 3;
}

static void test_export_abort(void)
{
	char *path, err[256] = "";
	int n;
	struct store *s = stored_flows("abort.db", &path, &n);
	struct store_reader *r = store_reader_open(path, err, sizeof err);
	int calls = 0;
	ok(har_export(r, NULL, on_write_abort, &calls, err, sizeof err) == -1);
	ok(strcmp(err, "aborted") == 0);
	ok(calls == 3);
	store_reader_close(r);
	store_close(s);
	free(path);
}

/* The pull API gives the same bytes as the push one, one entry a piece. */
static void test_export_pull(void)
{
	char *path, err[256] = "";
	int n;
	struct store *s = stored_flows("pull.db", &path, &n);
	struct store_reader *r = store_reader_open(path, err, sizeof err);
	struct flow_buf push = {0}, pull = {0};
	ok(har_export(r, NULL, on_write, &push, err, sizeof err) == 0);
	struct filter *flt = filter_compile("~m GET", err, sizeof err);
	struct har_export *x = har_export_new(r, flt, err, sizeof err);
	filter_free(flt); /* not needed after _new */
	ok(x != NULL);
	const char *data;
	size_t len;
	int pieces = 0;
	while (x && har_export_next(x, &data, &len)) {
		flow_buf_append(&pull, data, len);
		pieces++;
	}
	ok(har_export_next(x, &data, &len) == 0); /* stays at the end */
	har_export_free(x);
	ok(pieces == 2 + 5); /* head, the five GETs, tail */
	flow_buf_clear(&pull);
	x = har_export_new(r, NULL, err, sizeof err);
	while (har_export_next(x, &data, &len))
		flow_buf_append(&pull, data, len);
	har_export_free(x);
	ok(push.len == pull.len && memcmp(push.data, pull.data, push.len) == 0);
	flow_buf_clear(&push);
	flow_buf_clear(&pull);
	har_export_free(NULL);
	store_reader_close(r);
	store_close(s);
	free(path);
}

/* Many flows: more than one store_list() page, order kept. */
static void test_export_pages(void)
{
	char *path;
	struct store *s = open_store("pages.db", &path);
	struct flow_sink sink = store_sink(s);
	int n = 2500; /* more than one page of LIST_PAGE (2000) */
	for (int i = 0; i < n; i++) {
		char p[32];
		snprintf(p, sizeof p, "/%d", i);
		/* start times descending with the id for a third of them: order is by time */
		int64_t start = T0 + (i % 3 == 0 ? (int64_t)(n - i) * 1000 : (int64_t)i * 1000);
		struct flow *f = http_flow("http", "p.test", 80, "GET", p, start);
		respond(f, 200, "OK");
		sink.emit(sink.arg, FLOW_EV_END, f);
	}
	wait_stored(s, (uint64_t)n);
	json_t *doc = export_doc(path, NULL, NULL);
	json_t *es = entries_of(doc);
	ok(json_array_size(es) == (size_t)n);
	ok(oldest_first(es));
	json_decref(doc);
	store_close(s);
	free(path);
}

int main(void)
{
	if (har_fixture_start() != 0)
		return 1;
	subtest("export", test_export);
	subtest("export abort", test_export_abort);
	subtest("export pull", test_export_pull);
	subtest("export pages", test_export_pages);
	return har_fixture_end();
}
