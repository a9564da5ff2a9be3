/* SPDX-License-Identifier: MIT */
/* test_har.c - HAR export and import through a real store in a temp file: flows go in by
 * store_sink(), the export is parsed back with jansson and checked field by field; Chrome- and
 * Firefox-shaped files import; broken files import nothing; export -> import into an empty
 * store -> export gives the same entries. With HAR_EXPORT_FILE set, the export of the test
 * flows is also written there, and the exports of the imported browser files beside it
 * (FILE.from-chrome.har, FILE.from-firefox.har), for tests/integration/data/har/validate.mjs. */
#define _GNU_SOURCE /* nftw() */
#include "har.h"

#include "codec.h"
#include "filter.h"
#include "flow.h"
#include "harness.h"
#include "store.h"
#include "util.h"

#include <ftw.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static char tmpdir[] = "/tmp/test_har.XXXXXX";

/* ---- helpers ---- */

static char *data_path(const char *name)
{
	/* __FILE__ is tests/unit/test_har.c (absolute under CMake). */
	const char *f = __FILE__;
	const char *end = strstr(f, "unit/test_har.c");
	return xasprintf("%.*sintegration/data/har/%s", (int)(end - f), f, name);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	struct flow_buf b = {0};
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		flow_buf_append(&b, chunk, n);
	fclose(fp);
	*len = b.len;
	flow_buf_append(&b, "", 1);
	return b.data;
}

static void wait_stored(struct store *s, uint64_t want)
{
	for (int i = 0; i < 12000; i++) { /* up to a minute on a loaded machine */
		struct store_stats st;
		store_get_stats(s, &st);
		if (st.queued == 0 && st.stored + st.dropped >= want)
			return;
		usleep(5000);
	}
}

static int on_write(void *arg, const char *data, size_t len)
{
	flow_buf_append(arg, data, len);
	return 0;
}

/* Exports the store at path; returns the parsed document (NULL on failure). */
static json_t *export_doc(const char *path, const char *expr, struct flow_buf *out)
{
	char err[256] = "";
	struct store_reader *r = store_reader_open(path, err, sizeof err);
	if (!r)
		return NULL;
	struct filter *flt = expr ? filter_compile(expr, err, sizeof err) : NULL;
	struct flow_buf buf = {0};
	int rc = har_export(r, flt, on_write, &buf, err, sizeof err);
	filter_free(flt);
	store_reader_close(r);
	if (rc != 0) {
		fprintf(stderr, "export: %s\n", err);
		flow_buf_clear(&buf);
		return NULL;
	}
	json_error_t jerr;
	json_t *doc = json_loadb(buf.data, buf.len, 0, &jerr);
	if (!doc)
		fprintf(stderr, "export is not JSON: %s (line %d)\n", jerr.text, jerr.line);
	if (out)
		*out = buf;
	else
		flow_buf_clear(&buf);
	return doc;
}

static json_t *entries_of(json_t *doc)
{
	return json_object_get(json_object_get(doc, "log"), "entries");
}

static const char *sget(json_t *o, const char *path)
{
	/* "a.b.c" */
	char buf[256];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *save, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
		o = json_object_get(o, k);
	return json_string_value(o);
}

static json_t *jget(json_t *o, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *save, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
		o = json_object_get(o, k);
	return o;
}

/* The value of the header named name in a HAR headers array, or NULL. */
static const char *hget(json_t *arr, const char *name)
{
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *h = json_array_get(arr, i);
		if (strcasecmp(sget(h, "name"), name) == 0)
			return sget(h, "value");
	}
	return NULL;
}

static char *gzip(const char *data, size_t len, size_t *out_len)
{
	z_stream z = {0};
	deflateInit2(&z, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
	size_t cap = deflateBound(&z, len) + 32;
	char *out = xmalloc(cap);
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap;
	deflate(&z, Z_FINISH);
	*out_len = z.total_out;
	deflateEnd(&z);
	return out;
}

static void hdr(struct flow_msg *m, const char *name, const char *value)
{
	flow_msg_add_header(m, name, strlen(name), value, strlen(value));
}

#define T0 1767225600000000LL /* 2026-01-01T00:00:00Z in microseconds */

static struct flow *http_flow(const char *scheme, const char *host, uint16_t port,
			      const char *method, const char *path, int64_t start)
{
	struct flow *f = flow_new();
	f->kind = FLOW_HTTP;
	f->state = FLOW_DONE;
	f->scheme = xstrdup(scheme);
	f->host = xstrdup(host);
	f->port = port;
	f->path = xstrdup(path);
	snprintf(f->client_addr, sizeof f->client_addr, "127.0.0.1:50123");
	snprintf(f->server_addr, sizeof f->server_addr, "93.184.216.34:%u", (unsigned)port);
	f->request.present = 1;
	f->request.version = 11;
	f->request.method = xstrdup(method);
	f->request.target = xstrdup(path);
	f->request.head_size = 120;
	f->t.start = start;
	f->t.request_sent = start + 1500;
	f->t.first_byte = start + 11500;
	f->t.end = start + 12750;
	return f;
}

static void respond(struct flow *f, int status, const char *reason)
{
	f->response.present = 1;
	f->response.version = 11;
	f->response.status = status;
	f->response.reason = xstrdup(reason);
	f->response.head_size = 80;
}

static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0,    0,
				    0,	  13,  'I', 'H', 'D',  'R',  0xff, 0xfe, 0x00, 0x80};
static const char html[] = "<html><body>caf\xc3\xa9 \xe2\x82\xac</body></html>\n";

/* The flows the export tests use; returns how many were emitted. */
static int make_flows(struct flow_sink sink)
{
	int n = 0;
	/* 1: https GET, fresh connection with DNS, TCP, TLS; gzip html; cookies; query. */
	struct flow *f = http_flow("https", "example.com", 443, "GET",
				   "/search?q=a%20b&lang=fr&x=%C3%A9t%C3%A9&flag", T0);
	f->flags = FLOW_F_TLS | FLOW_F_MARKED;
	f->t.dns_done = T0 + 2000;
	f->t.connect_done = T0 + 5000;
	f->t.tls_done = T0 + 9000;
	f->t.request_sent = T0 + 9500;
	f->t.first_byte = T0 + 30000;
	f->t.end = T0 + 31234;
	f->tls.sni = xstrdup("example.com");
	f->tls.version = xstrdup("TLSv1.3");
	f->tls.cipher = xstrdup("TLS_AES_128_GCM_SHA256");
	hdr(&f->request, "Host", "example.com");
	hdr(&f->request, "Cookie", "sid=abc123; theme=dark");
	hdr(&f->request, "X-Odd", "caf\xe9"); /* Latin-1, not UTF-8 */
	respond(f, 200, "OK");
	hdr(&f->response, "Content-Type", "text/html; charset=utf-8");
	hdr(&f->response, "Content-Encoding", "gzip");
	hdr(&f->response, "Set-Cookie",
	    "sid=xyz; Path=/; Domain=example.com; Expires=Wed, 21 Oct 2026 07:28:00 GMT; "
	    "HttpOnly; Secure; SameSite=Lax");
	size_t zlen;
	char *z = gzip(html, strlen(html), &zlen);
	flow_msg_add_body(&f->response, z, zlen, 1 << 20);
	free(z);
	sink.emit(sink.arg, FLOW_EV_END, f), n++;

	/* 2: http POST form, on a reused connection (no dns/connect); 302 redirect. */
	f = http_flow("http", "shop.test", 8080, "POST", "/login", T0 + 100000);
	hdr(&f->request, "Host", "shop.test:8080");
	hdr(&f->request, "Content-Type", "application/x-www-form-urlencoded");
	const char *form = "user=ann+smith&pass=caf%C3%A9%26co&empty=";
	flow_msg_add_body(&f->request, form, strlen(form), 1 << 20);
	respond(f, 302, "Found");
	hdr(&f->response, "Location", "http://shop.test:8080/home");
	hdr(&f->response, "Content-Length", "0");
	sink.emit(sink.arg, FLOW_EV_END, f), n++;

	/* 3: binary response and a binary request body. */
	f = http_flow("http", "img.test", 80, "PUT", "/up.png", T0 + 200000);
	f->request.version = 10;
	hdr(&f->request, "Content-Type", "application/octet-stream");
	flow_msg_add_body(&f->request, (const char *)png, sizeof png, 1 << 20);
	respond(f, 200, "OK");
	f->response.version = 10;
	hdr(&f->response, "Content-Type", "image/png");
	flow_msg_add_body(&f->response, (const char *)png, sizeof png, 1 << 20);
	sink.emit(sink.arg, FLOW_EV_END, f), n++;

	/* 4: a failure: upstream refused; no response. */
	f = http_flow("https", "down.test", 443, "GET", "/", T0 + 300000);
	f->state = FLOW_ERROR;
	f->error = xstrdup("upstream connection refused");
	f->server_addr[0] = '\0';
	f->t.dns_done = T0 + 300000 + 800;
	f->t.request_sent = f->t.first_byte = 0;
	f->t.end = T0 + 300000 + 2000;
	sink.emit(sink.arg, FLOW_EV_END, f), n++;

	/* 5: a passed-through tunnel. */
	f = flow_new();
	f->kind = FLOW_TUNNEL;
	f->state = FLOW_DONE;
	f->scheme = xstrdup("https");
	f->host = xstrdup("pinned.test");
	f->port = 443;
	snprintf(f->client_addr, sizeof f->client_addr, "127.0.0.1:50200");
	snprintf(f->server_addr, sizeof f->server_addr, "[2001:db8::5]:443");
	f->request.present = 1;
	f->request.version = 11;
	f->request.method = xstrdup("CONNECT");
	f->request.target = xstrdup("pinned.test:443");
	f->t.start = T0 + 400000;
	f->t.dns_done = T0 + 401000;
	f->t.connect_done = T0 + 402000;
	f->t.end = T0 + 900000;
	f->bytes_up = 5000;
	f->bytes_down = 70000;
	sink.emit(sink.arg, FLOW_EV_END, f), n++;

	/* 6: truncated body (stored less than seen), a body that does not decode. */
	f = http_flow("http", "big.test", 80, "GET", "/big.txt", T0 + 500000);
	respond(f, 200, "OK");
	hdr(&f->response, "Content-Type", "text/plain");
	flow_msg_add_body(&f->response, "0123456789", 10, 4);
	sink.emit(sink.arg, FLOW_EV_END, f), n++;
	f = http_flow("http", "broken.test", 80, "GET", "/x", T0 + 600000);
	respond(f, 200, "OK");
	hdr(&f->response, "Content-Encoding", "gzip");
	flow_msg_add_body(&f->response, "not gzip at all", 15, 1 << 20);
	sink.emit(sink.arg, FLOW_EV_END, f), n++;

	/* 8: a malformed request that failed before it had a method or host. */
	f = flow_new();
	f->kind = FLOW_HTTP;
	f->state = FLOW_ERROR;
	f->scheme = xstrdup("http");
	snprintf(f->client_addr, sizeof f->client_addr, "127.0.0.1:50300");
	f->t.start = T0 + 700000;
	f->t.end = T0 + 700100;
	f->error = xstrdup("malformed request: bad method");
	sink.emit(sink.arg, FLOW_EV_END, f), n++;

	/* 9: IPv6 literal host with a port. */
	f = http_flow("http", "::1", 8081, "GET", "/v6", T0 + 800000);
	respond(f, 204, "No Content");
	sink.emit(sink.arg, FLOW_EV_END, f), n++;
	return n;
}

/* A store at tmpdir/name with the test flows in it. */
static struct store *open_store(const char *name, char **path)
{
	char err[256] = "";
	*path = xasprintf("%s/%s", tmpdir, name);
	struct store *s = store_open(*path, NULL, err, sizeof err);
	if (!s)
		fprintf(stderr, "store_open: %s\n", err);
	return s;
}

/* A store at tmpdir/name holding the test flows (make_flows(), their number in *n), all written.
 * NULL when it cannot be opened. */
static struct store *stored_flows(const char *name, char **path, int *n)
{
	struct store *s = open_store(name, path);
	*n = s ? make_flows(store_sink(s)) : 0;
	if (s)
		wait_stored(s, (uint64_t)*n);
	return s;
}

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

static double num(json_t *o, const char *path)
{
	return json_number_value(jget(o, path));
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

static void save_export(const char *suffix, const struct flow_buf *raw);

/* ---- export ---- */

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

/* ---- import ---- */

struct got {
	struct flow *v[64];
	int num;
};

static void on_emit(void *arg, enum flow_event ev, struct flow *f)
{
	struct got *g = arg;
	(void)ev;
	if (g->num < 64)
		g->v[g->num++] = f;
	else
		flow_free(f);
}

static void got_clear(struct got *g)
{
	for (int i = 0; i < g->num; i++)
		flow_free(g->v[i]);
	g->num = 0;
}

static long import_file(const char *name, struct got *g, struct har_skipped *skipped, char *err,
			size_t errlen)
{
	char *p = data_path(name);
	size_t len = 0;
	char *data = read_all(p, &len);
	free(p);
	if (!data) {
		snprintf(err, errlen, "cannot read %s", name);
		return -1;
	}
	long n = har_import(data, len, (struct flow_sink){.emit = on_emit, .arg = g}, skipped, err,
			    errlen);
	free(data);
	return n;
}

/* Imports the NUL-terminated doc into g, nothing skipped; returns har_import()'s count. */
static long import_doc(const char *doc, struct got *g)
{
	char err[256] = "";
	long n = har_import(doc, strlen(doc), (struct flow_sink){.emit = on_emit, .arg = g}, NULL,
			    err, sizeof err);
	if (n < 0)
		fprintf(stderr, "har_import: %s\n", err);
	return n;
}

static const char *h(const struct flow_msg *m, const char *name)
{
	const struct flow_header *x = flow_msg_header(m, name);
	return x ? x->value : NULL;
}

static void test_import_chrome(void)
{
	struct got g = {0};
	char err[256] = "";
	struct har_skipped skipped = {99, NULL};
	long n = import_file("chrome.har", &g, &skipped, err, sizeof err);
	if (n < 0)
		fprintf(stderr, "chrome.har: %s\n", err);
	ok(n == 5);
	ok(skipped.num == 1); /* the data: URL */
	ok(skipped.list && strstr(skipped.list[0].reason, "scheme \"data\"") != NULL);
	har_skipped_clear(&skipped);
	ok(g.num == 5);
	if (g.num != 5)
		goto end;
	struct flow *f = g.v[0];
	ok(f->flags & FLOW_F_IMPORTED);
	ok(f->flags & FLOW_F_TLS);
	ok(f->state == FLOW_DONE);
	ok(f->kind == FLOW_HTTP);
	ok(strcmp(f->scheme, "https") == 0);
	ok(strcmp(f->host, "shop.example.com") == 0);
	ok(f->port == 443);
	ok(strcmp(f->path, "/?q=flow%20scope&lang=en") == 0);
	ok(strcmp(f->request.method, "GET") == 0);
	ok(strcmp(f->request.target, f->path) == 0);
	/* pseudo-headers dropped, :authority became Host, first */
	ok(strcmp(f->request.headers[0].name, "Host") == 0);
	ok(strcmp(f->request.headers[0].value, "shop.example.com") == 0);
	ok(h(&f->request, ":path") == NULL);
	ok(strcmp(h(&f->request, "cookie"), "sid=abc123; theme=dark") == 0);
	ok(f->response.present && f->response.status == 200);
	/* the body is gzip again, as its header says */
	ok(f->response.body.len >= 18 && (unsigned char)f->response.body.data[0] == 0x1f &&
	   (unsigned char)f->response.body.data[1] == 0x8b);
	ok(f->response.body_size == 110);
	/* timings: start .120, blocked 2.1, dns 12.5, connect 55.8 with ssl 30.2 */
	int64_t start = 1709633730120000LL;
	ok(f->t.start == start);
	ok(f->t.dns_done == start + 2100 + 12500);
	ok(f->t.connect_done == start + 2100 + 12500 + 55800 - 30200);
	ok(f->t.tls_done == start + 2100 + 12500 + 55800);
	ok(f->t.request_sent == f->t.tls_done + 300);
	ok(f->t.first_byte == f->t.request_sent + 150400);
	ok(f->t.end == f->t.first_byte + 33221);
	ok(strcmp(f->server_addr, "93.184.216.34:443") == 0);

	f = g.v[1];
	ok(strcmp(f->request.method, "POST") == 0);
	ok(f->request.body.len == 26 && memcmp(f->request.body.data, "{\"item\"", 7) == 0);
	ok(f->t.dns_done == 0 && f->t.connect_done == 0);
	ok(f->response.status == 201);
	ok(f->response.body.len > 0); /* brotli */

	f = g.v[2];
	ok(f->port == 8443);
	ok(f->response.body.len == 68 && memcmp(f->response.body.data, "\x89PNG", 4) == 0);
	ok(strcmp(f->server_addr, "[2001:db8::7]:8443") == 0);

	f = g.v[3];
	ok(f->state == FLOW_ERROR);
	ok(f->error && strcmp(f->error, "net::ERR_NAME_NOT_RESOLVED") == 0);
	ok(!f->response.present);
	ok(strcmp(f->host, "tracker.invalid") == 0);

	f = g.v[4];
	ok(f->flags & FLOW_F_WEBSOCKET);
	ok(strcmp(f->scheme, "https") == 0);
	ok(f->response.status == 101);
end:
	got_clear(&g);
}

static void test_import_firefox(void)
{
	const char *files[] = {"firefox.har", "firefox-bom.har"};
	for (int k = 0; k < 2; k++) {
		struct got g = {0};
		char err[256] = "";
		long n = import_file(files[k], &g, NULL, err, sizeof err);
		if (n < 0)
			fprintf(stderr, "%s: %s\n", files[k], err);
		ok(n == 5);
		if (g.num != 5) {
			got_clear(&g);
			continue;
		}
		struct flow *f = g.v[0];
		ok(strcmp(f->host, "intranet.example.org") == 0);
		ok(f->port == 8080);
		ok(strcmp(f->scheme, "http") == 0);
		ok(!(f->flags & FLOW_F_TLS));
		/* +01:00: 11:20:01.250+01:00 is 10:20:01.250Z */
		ok(f->t.start == 1709634001250000LL);
		ok(f->request.head_size == 371);
		ok(f->response.head_size == 214);
		ok(f->response.body.len > 0 && f->response.body.data[0] == 0x78); /* zlib */
		ok(f->response.body_size == f->response.body.len); /* bodySize -1: what we hold */
		f = g.v[1];
		ok(f->request.body.len == 37 &&
		   memcmp(f->request.body.data, "user=ann+smith&pass=caf%C3%A9%26co&x=", 37) == 0);
		ok(f->response.status == 302);
		ok(strcmp(h(&f->response, "Location"), "/home") == 0);
		f = g.v[2];
		ok(strcmp(f->path, "/logo.svg") == 0); /* fragment dropped */
		ok(f->response.status == 304 && f->response.body.len == 0);
		ok(strcmp(f->server_addr, "[2001:db8::1]:443") == 0);
		f = g.v[3];
		ok(f->response.body.len == 8 && memcmp(f->response.body.data, "wOF2", 4) == 0);
		f = g.v[4];
		ok(!f->response.present);
		ok(f->state == FLOW_DONE);
		got_clear(&g);
	}
	/* form params without text: the body is built from them */
	const char *doc =
	    "{\"log\":{\"entries\":[{\"startedDateTime\":\"2024-01-01T00:00:00Z\","
	    "\"request\":{\"method\":\"POST\",\"url\":\"http://a.test/f\",\"headers\":[],"
	    "\"postData\":{\"mimeType\":\"application/x-www-form-urlencoded\",\"params\":["
	    "{\"name\":\"a b\",\"value\":\"\xc3\xa9&\"},{\"name\":\"c\"}]}},"
	    "\"response\":{\"status\":200,\"headers\":[]},\"time\":5}]}}";
	struct got g = {0};
	ok(import_doc(doc, &g) == 1);
	if (g.num == 1) {
		struct flow *f = g.v[0];
		ok(f->request.body.len == 16 &&
		   memcmp(f->request.body.data, "a+b=%C3%A9%26&c=", 16) == 0);
		ok(f->t.end == f->t.start + 5000); /* from "time" alone */
	}
	got_clear(&g);
}

static void test_import_broken(void)
{
	static const struct {
		const char *doc;
		const char *err;
	} cases[] = {
	    {"", "not JSON"},
	    {"{\"log\":{\"entries\":[", "not JSON"},
	    {"[]", "log missing"},
	    {"{\"log\":{}}", "log.entries missing"},
	    {"{\"log\":{\"entries\":{}}}", "log.entries missing or not an array"},
	    {"{\"log\":{\"entries\":[1]}}", "entry 1: not an object"},
#define OKE                                                                                        \
	"{\"startedDateTime\":\"2024-01-01T00:00:00Z\",\"request\":{\"method\":\"GET\","           \
	"\"url\":\"http://a.test/\",\"headers\":[]},\"response\":{\"status\":200,"                 \
	"\"headers\":[]}}"
	    {"{\"log\":{\"entries\":[" OKE "," OKE ",{\"startedDateTime\":\"2024-01-01T00:00:00Z\","
	     "\"request\":{\"method\":\"GET\",\"headers\":[]},\"response\":{\"status\":200,"
	     "\"headers\":[]}}]}}",
	     "entry 3: request.url missing"},
	    {"{\"log\":{\"entries\":[" OKE
	     ",{\"request\":{\"method\":\"GET\",\"url\":\"http://a/\","
	     "\"headers\":[]},\"response\":{\"status\":200,\"headers\":[]}}]}}",
	     "entry 2: startedDateTime missing"},
	    {"{\"log\":{\"entries\":[{\"startedDateTime\":\"2024-01-01T00:00:00Z\",\"request\":{"
	     "\"url\":\"http://a/"
	     "\",\"headers\":[]},\"response\":{\"status\":200,\"headers\":[]}}]}}",
	     "entry 1: request.method missing"},
	    {"{\"log\":{\"entries\":[{\"startedDateTime\":\"2024-01-01T00:00:00Z\",\"request\":{"
	     "\"method\":\"GET\",\"url\":\"http://a/\"},\"response\":{\"status\":200,\"headers\":"
	     "[]}}]}}",
	     "entry 1: request.headers missing"},
	    {"{\"log\":{\"entries\":[{\"startedDateTime\":\"2024-01-01T00:00:00Z\",\"request\":{"
	     "\"method\":\"GET\",\"url\":\"http://a/\",\"headers\":[]},\"response\":{"
	     "\"status\":\"200\",\"headers\":[]}}]}}",
	     "entry 1: response.status missing or not an integer"},
	    {"{\"log\":{\"entries\":[{\"startedDateTime\":\"2024-01-01T00:00:00Z\",\"request\":{"
	     "\"method\":\"GET\",\"url\":\"http://a/\",\"headers\":[]},\"response\":{"
	     "\"status\":200}}]}}",
	     "entry 1: response.headers missing"},
	    {"\xff\xfe{\0", "UTF-16"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct got g = {0};
		char err[256] = "";
		size_t len = strlen(cases[i].doc);
		if (cases[i].doc[0] == '\xff')
			len = 4;
		long n =
		    har_import(cases[i].doc, len, (struct flow_sink){.emit = on_emit, .arg = &g},
			       NULL, err, sizeof err);
		ok(n == -1);
		ok(g.num == 0);
		ok(strstr(err, cases[i].err) != NULL);
		if (!strstr(err, cases[i].err))
			fprintf(stderr, "case %zu: got \"%s\", want \"%s\"\n", i, err,
				cases[i].err);
		got_clear(&g);
	}
	/* the UTF-16 sample file */
	struct got g = {0};
	char err[256] = "";
	ok(import_file("chrome-utf16.har", &g, NULL, err, sizeof err) == -1);
	ok(strstr(err, "UTF-16") != NULL);
	ok(g.num == 0);
	/* an empty log imports nothing, successfully */
	ok(har_import("{\"log\":{\"entries\":[]}}", 22,
		      (struct flow_sink){.emit = on_emit, .arg = &g}, NULL, err, sizeof err) == 0);
}

/* An entry flowscope cannot represent is skipped, with its position (from 0) and why, and
 * the entries around it are imported. */
static void test_import_skipped(void)
{
#define ENTRY(req, resp)                                                                           \
	"{\"startedDateTime\":\"2024-01-01T00:00:00Z\",\"request\":{" req "},\"response\":{" resp  \
	"}}"
#define GOODREQ "\"method\":\"GET\",\"url\":\"http://a/\",\"headers\":[]"
#define GOODRESP "\"status\":200,\"headers\":[]"
	static const struct {
		const char *entry;
		const char *reason;
	} cases[] = {
	    {ENTRY("\"method\":\"G T\",\"url\":\"http://a/\",\"headers\":[]", GOODRESP),
	     "request.method is not a valid method"},
	    {"{\"startedDateTime\":\"yesterday\",\"request\":{" GOODREQ "},\"response\":{" GOODRESP
	     "}}",
	     "startedDateTime is not an ISO 8601 date"},
	    {ENTRY("\"method\":\"GET\",\"url\":\"http://a/\",\"headers\":[{\"name\":\"X\","
		   "\"value\":\"a\\r\\nEvil: 1\"}]",
		   GOODRESP),
	     "request.headers[0].value contains CR, LF or NUL"},
	    {ENTRY("\"method\":\"GET\",\"url\":\"http://a/\",\"headers\":[{\"name\":\"a b\","
		   "\"value\":\"1\"}]",
		   GOODRESP),
	     "request.headers[0].name is not a valid header name"},
	    {ENTRY("\"method\":\"GET\",\"url\":\"http://a:99999/\",\"headers\":[]", GOODRESP),
	     "request.url has a bad port"},
	    {ENTRY("\"method\":\"GET\",\"url\":\"http:///\",\"headers\":[]", GOODRESP),
	     "request.url has no host"},
	    {ENTRY("\"method\":\"GET\",\"url\":\"/relative\",\"headers\":[]", GOODRESP),
	     "request.url is not an absolute URL"},
	    {ENTRY("\"method\":\"GET\",\"url\":\"blob:https://a/1\",\"headers\":[]", GOODRESP),
	     "request.url: scheme \"blob\" is not http(s) or ws(s)"},
	    {ENTRY("\"method\":\"GET\",\"url\":\"\xc3\xa9x:y\",\"headers\":[]", GOODRESP),
	     "request.url: scheme \"??x\""},
	    {ENTRY(GOODREQ, "\"status\":200,\"headers\":[],\"content\":{\"text\":\"!!!\","
			    "\"encoding\":\"base64\"}"),
	     "response.content.text is not valid base64"},
	    {ENTRY(GOODREQ, "\"status\":200,\"headers\":[],\"content\":{\"text\":\"x\","
			    "\"encoding\":\"rot13\"}"),
	     "response.content: unknown encoding \"rot13\""},
	    {ENTRY(GOODREQ, "\"status\":42,\"headers\":[]"), "response.status 42 is out of range"},
	    {ENTRY(GOODREQ, "\"status\":-2,\"headers\":[]"), "response.status -2 is out of range"},
	    {ENTRY(GOODREQ, "\"status\":200,\"statusText\":\"OK\\r\\nX: 1\",\"headers\":[]"),
	     "response.statusText contains CR or LF"},
	    {ENTRY(GOODREQ, "\"status\":0,\"headers\":[],\"content\":{\"text\":\"hi\"}"),
	     "response.content has a body but no response.status"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *doc =
		    xasprintf("{\"log\":{\"entries\":[%s,%s,%s]}}", ENTRY(GOODREQ, GOODRESP),
			      cases[i].entry, ENTRY(GOODREQ, GOODRESP));
		struct got g = {0};
		struct har_skipped sk = {0};
		char err[256] = "";
		long n =
		    har_import(doc, strlen(doc), (struct flow_sink){.emit = on_emit, .arg = &g},
			       &sk, err, sizeof err);
		ok(n == 2 && g.num == 2);
		ok(sk.num == 1 && sk.list && sk.list[0].index == 1);
		ok(sk.list && strstr(sk.list[0].reason, cases[i].reason) != NULL);
		if (n != 2 || !sk.list || !strstr(sk.list[0].reason, cases[i].reason))
			fprintf(stderr, "case %zu: got %ld \"%s\" \"%s\"\n", i, n, err,
				sk.list ? sk.list[0].reason : "");
		har_skipped_clear(&sk);
		got_clear(&g);
		free(doc);
	}
	/* more than HAR_SKIPS_LISTED: all counted, the first listed, in order */
	struct flow_buf b = {0};
	flow_buf_append(&b, "{\"log\":{\"entries\":[", 19);
	for (int i = 0; i < HAR_SKIPS_LISTED + 20; i++) {
		const char *e =
		    ENTRY("\"method\":\"GET\",\"url\":\"data:,x\",\"headers\":[]", GOODRESP);
		if (i)
			flow_buf_append(&b, ",", 1);
		flow_buf_append(&b, e, strlen(e));
	}
	flow_buf_append(&b, "]}}", 3);
	struct got g = {0};
	struct har_skipped sk = {0};
	char err[256] = "";
	ok(har_import(b.data, b.len, (struct flow_sink){.emit = on_emit, .arg = &g}, &sk, err,
		      sizeof err) == 0);
	ok(sk.num == HAR_SKIPS_LISTED + 20);
	ok(sk.list && sk.list[HAR_SKIPS_LISTED - 1].index == HAR_SKIPS_LISTED - 1);
	har_skipped_clear(&sk);
	ok(sk.num == 0 && !sk.list);
	flow_buf_clear(&b);
	/* a structural fault after a skipped entry still refuses the file, and lists nothing */
	const char *doc = "{\"log\":{\"entries\":[" ENTRY(
	    "\"method\":\"GET\",\"url\":\"data:,x\",\"headers\":[]",
	    GOODRESP) "," ENTRY("\"method\":\"GET\",\"headers\":[]", GOODRESP) "]}}";
	sk.num = 7;
	ok(har_import(doc, strlen(doc), (struct flow_sink){.emit = on_emit, .arg = &g}, &sk, err,
		      sizeof err) == -1);
	ok(strstr(err, "entry 2: request.url missing") != NULL);
	ok(sk.num == 0 && !sk.list && g.num == 0);
}

/* A request that failed, as each tool records it, becomes an error flow with its text; no
 * response without a failure is a request still waiting (done, no response). */
static void test_import_failed(void)
{
	static const struct {
		const char *entry;
		int state;
		const char *error;
	} cases[] = {
	    /* Playwright: status -1 and _failureText */
	    {ENTRY(GOODREQ, "\"status\":-1,\"headers\":[],\"_failureText\":"
			    "\"net::ERR_CONNECTION_REFUSED\""),
	     FLOW_ERROR, "net::ERR_CONNECTION_REFUSED"},
	    /* Playwright: still waiting when the recording stopped */
	    {ENTRY(GOODREQ, "\"status\":-1,\"headers\":[]"), FLOW_DONE, NULL},
	    /* Chrome, mitmproxy */
	    {ENTRY(GOODREQ, "\"status\":0,\"headers\":[],\"_error\":\"net::ERR_FAILED\""),
	     FLOW_ERROR, "net::ERR_FAILED"},
	    /* mitmproxy without an error: "_error": null */
	    {ENTRY(GOODREQ, "\"status\":0,\"headers\":[],\"_error\":null"), FLOW_DONE, NULL},
	    /* the failure on the entry */
	    {"{\"startedDateTime\":\"2024-01-01T00:00:00Z\",\"_error\":\"reset\",\"request\":"
	     "{" GOODREQ "},\"response\":{\"status\":0,\"headers\":[]}}",
	     FLOW_ERROR, "reset"},
	    /* Charles */
	    {ENTRY(GOODREQ, "\"_charlesStatus\":\"FAILED\",\"status\":0,\"headers\":[]"),
	     FLOW_ERROR, "Charles status FAILED"},
	    {ENTRY(GOODREQ, "\"_charlesStatus\":\"COMPLETE\",\"status\":200,\"statusText\":null,"
			    "\"headers\":[]"),
	     FLOW_DONE, NULL},
	    /* a failure with a malformed URL: its host may be empty */
	    {ENTRY("\"method\":\"GET\",\"url\":\"http:///x\",\"headers\":[]",
		   "\"status\":0,\"headers\":[],\"_error\":\"bad URL\""),
	     FLOW_ERROR, "bad URL"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *doc = xasprintf("{\"log\":{\"entries\":[%s]}}", cases[i].entry);
		struct got g = {0};
		char err[256] = "";
		long n =
		    har_import(doc, strlen(doc), (struct flow_sink){.emit = on_emit, .arg = &g},
			       NULL, err, sizeof err);
		ok(n == 1 && g.num == 1);
		if (g.num == 1) {
			struct flow *f = g.v[0];
			ok((int)f->state == cases[i].state);
			ok(cases[i].error ? f->error && strcmp(f->error, cases[i].error) == 0
					  : f->error == NULL);
			ok(f->response.present ==
			   (strstr(cases[i].entry, "\"status\":200") != NULL));
		} else {
			fprintf(stderr, "case %zu: got %ld \"%s\"\n", i, n, err);
		}
		got_clear(&g);
		free(doc);
	}
	/* a CONNECT from another tool, in authority form, is a tunnel; Playwright's TLS details */
	static const char tunnel[] = ENTRY(
	    "\"method\":\"CONNECT\",\"url\":\"www.example.net:443\",\"headers\":[]", GOODRESP);
	static const char pw[] =
	    "{\"startedDateTime\":\"2024-01-01T00:00:00Z\",\"serverIPAddress\":\"192.0.2.9\","
	    "\"_serverPort\":8443,\"_securityDetails\":{\"protocol\":\"TLS 1.3\","
	    "\"subjectName\":\"a.test\",\"issuer\":\"Test CA\"},\"request\":{\"method\":"
	    "\"GET\",\"url\":\"https://a.test/\",\"headers\":[]},\"response\":{" GOODRESP "}}";
	char *doc = xasprintf("{\"log\":{\"entries\":[%s,%s]}}", tunnel, pw);
	struct got g = {0};
	ok(import_doc(doc, &g) == 2);
	if (g.num == 2) {
		struct flow *f = g.v[0];
		ok(f->kind == FLOW_TUNNEL);
		ok(strcmp(f->host, "www.example.net") == 0 && f->port == 443);
		ok(strcmp(f->request.target, "www.example.net:443") == 0);
		f = g.v[1];
		ok(f->tls.version && strcmp(f->tls.version, "TLS 1.3") == 0);
		ok(f->tls.cert_subject && strcmp(f->tls.cert_subject, "a.test") == 0);
		ok(f->tls.cert_issuer && strcmp(f->tls.cert_issuer, "Test CA") == 0);
		ok(strcmp(f->server_addr, "192.0.2.9:8443") == 0);
		ok(f->port == 443);
	}
	got_clear(&g);
	free(doc);
#undef ENTRY
#undef GOODREQ
#undef GOODRESP
}

/* What each tool writes (hand-made files in each one's shape, tests/integration/data/har):
 * every file imports, failed requests as error flows, what cannot be represented skipped. */
static void test_import_tools(void)
{
	static const struct {
		const char *file;
		long n;		    /* flows */
		size_t skipped;	    /* entries skipped */
		int error_at;	    /* the flow that failed, or -1 */
		const char *error;  /* its text */
		int no_response_at; /* a flow without response and error, or -1 */
	} files[] = {
	    {"playwright-chromium.har", 4, 0, 2, "net::ERR_CONNECTION_REFUSED", 3},
	    {"safari.har", 3, 1, -1, NULL, 2},
	    {"charles.har", 5, 0, 3, "Charles status FAILED", 2},
	    {"fiddler.har", 4, 0, -1, NULL, 1},
	    {"httptoolkit.har", 4, 0, -1, NULL, 2},
	    {"mitmproxy-savehar.har", 4, 0, 2, "Connection refused", -1},
	};
	for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
		struct got g = {0};
		struct har_skipped sk = {0};
		char err[256] = "";
		long n = import_file(files[k].file, &g, &sk, err, sizeof err);
		if (n != files[k].n)
			fprintf(stderr, "%s: %ld %s\n", files[k].file, n, err);
		ok(n == files[k].n && g.num == n);
		ok(sk.num == files[k].skipped);
		for (int i = 0; i < g.num; i++) {
			struct flow *f = g.v[i];
			ok((f->state == FLOW_ERROR) == (i == files[k].error_at));
			if (i == files[k].error_at)
				ok(f->error && strcmp(f->error, files[k].error) == 0 &&
				   !f->response.present);
			ok(f->response.present ==
			   (i != files[k].error_at && i != files[k].no_response_at));
		}
		har_skipped_clear(&sk);
		got_clear(&g);
	}
	/* details of a few */
	struct got g = {0};
	struct har_skipped sk = {0};
	char err[256] = "";
	if (import_file("playwright-chromium.har", &g, NULL, err, sizeof err) == 4) {
		struct flow *f = g.v[0];
		ok(strcmp(f->tls.version, "TLS 1.3") == 0);
		ok(strcmp(f->tls.cert_subject, "app.example.test") == 0);
		ok(strcmp(f->server_addr, "203.0.113.10:443") == 0);
		ok(strcmp(f->request.headers[0].name, "Host") == 0); /* from :authority */
		ok(strcmp(g.v[1]->request.method, "POST") == 0 && g.v[1]->request.body.len == 22);
	}
	got_clear(&g);
	if (import_file("safari.har", &g, &sk, err, sizeof err) == 3) {
		ok(sk.num == 1 && sk.list[0].index == 2 && strstr(sk.list[0].reason, "\"data\""));
		ok(g.v[1]->response.body.len == 70 &&
		   memcmp(g.v[1]->response.body.data, "\x89PNG", 4) == 0);
		/* gzip again, as its header says */
		ok((unsigned char)g.v[0]->response.body.data[0] == 0x1f);
	}
	har_skipped_clear(&sk);
	got_clear(&g);
	if (import_file("charles.har", &g, NULL, err, sizeof err) == 5) {
		ok(g.v[0]->response.status == 200 && strcmp(g.v[0]->response.reason, "") == 0);
		ok(h(&g.v[0]->response, ":status") == NULL);
		ok(g.v[1]->request.body.len == 23 &&
		   memcmp(g.v[1]->request.body.data, "user=demo&pass=hunter+2", 23) == 0);
		ok(g.v[2]->kind == FLOW_TUNNEL && strcmp(g.v[2]->host, "pinned.example.test") == 0);
		/* 11:00:00.123+01:00 */
		ok(g.v[0]->t.start == 1772445600123000LL);
	}
	got_clear(&g);
	if (import_file("fiddler.har", &g, NULL, err, sizeof err) == 4) {
		/* seven digits of fraction: microseconds kept, the rest dropped */
		ok(g.v[0]->t.start == 1772452800123456LL);
		ok(g.v[1]->kind == FLOW_TUNNEL && g.v[1]->port == 443);
		ok(g.v[2]->response.status == 502 && g.v[2]->state == FLOW_DONE);
	}
	got_clear(&g);
	if (import_file("httptoolkit.har", &g, NULL, err, sizeof err) == 4) {
		ok(g.v[1]->response.body.len == 0 && g.v[1]->response.body_size == 512000);
		ok(g.v[2]->request.body.len == 11);
		ok(g.v[3]->flags & FLOW_F_WEBSOCKET);
	}
	got_clear(&g);
	if (import_file("mitmproxy-savehar.har", &g, NULL, err, sizeof err) == 4) {
		ok(g.v[0]->request.body.len == 19); /* the text, not the params again */
		ok(g.v[0]->t.start == 1772460000123456LL);
		ok(strcmp(g.v[2]->host, "refused.example.test") == 0 && g.v[2]->port == 8081);
		ok(strcmp(g.v[3]->scheme, "https") == 0 && g.v[3]->response.status == 101);
	}
	got_clear(&g);
}

/* The document is walked entry by entry: the outer objects in any layout, every other value
 * still checked as JSON, a syntax error anywhere winning over an invalid entry (the file is
 * not JSON, whatever its entries), positions counted from the start of the file. */
static void test_import_walk(void)
{
#define OK1                                                                                        \
	"{\"startedDateTime\":\"2024-01-01T00:00:00Z\",\"request\":{\"method\":\"GET\","           \
	"\"url\":\"http://a.test/\",\"headers\":[]},\"response\":{\"status\":200,"                 \
	"\"headers\":[]}}"
	static const struct {
		const char *doc;
		long n;		 /* flows, or -1 */
		const char *err; /* part of the error when n is -1 */
	} cases[] = {
	    {"{\"log\":{\"entries\":[" OK1 "," OK1 "]}}", 2, NULL},
	    {" \r\n\t{ \"x\" : [1, {\"y\": null}] , \"log\" :\n{\"pages\": [{}], \"entries\" "
	     ":\n[ " OK1 " ] , \"z\": \"\\u00e9\" } }\n ",
	     1, NULL},
	    {"\xef\xbb\xbf{\"log\":{\"entries\":[]}}", 0, NULL},
	    {"{\"log\":{\"pages\":[1,],\"entries\":[" OK1 "]}}", -1, "not JSON"},
	    {"{\"log\":{\"entries\":[" OK1 "]}} x", -1, "not JSON"},
	    {"{\"log\":{\"entries\":[" OK1 "]}}}", -1, "not JSON"},
	    {"{\"log\":{\"entries\":[" OK1 " " OK1 "]}}", -1, "not JSON"},
	    {"{\"log\" {\"entries\":[]}}", -1, "not JSON"},
	    {"{\"log\":{\"entries\":[]},}", -1, "not JSON"},
	    {"{\"a\\u0000b\":1,\"log\":{\"entries\":[]}}", -1, "not JSON"},
	    {"{\"log\":{\"entries\":[{}]}, \"tail\": tru}", -1, "not JSON"},
	    {"{\n\"log\":\n{\"entries\": [1 x]}}", -1, "not JSON: line 3"},
	    {"[{\"log\":{\"entries\":[]}}]", -1, "log missing or not an object"},
	    {"[1,", -1, "not JSON"},
	    {"\"log\"", -1, "not JSON"},
	    {"{\"log\":[]}", -1, "log missing or not an object"},
	    {"{\"log\":{\"entries\":[]},\"log\":{\"entries\":[]}}", -1, "log appears twice"},
	    {"{\"log\":{\"entries\":[],\"entries\":[]}}", -1, "log.entries appears twice"},
	    {"{\"log\":{\"entries\":[" OK1 ",{}," OK1 "]}}", -1, "entry 2: "},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct got g = {0};
		char err[256] = "";
		long n = har_import(cases[i].doc, strlen(cases[i].doc),
				    (struct flow_sink){.emit = on_emit, .arg = &g}, NULL, err,
				    sizeof err);
		ok(n == cases[i].n);
		ok(g.num == (n < 0 ? 0 : n));
		if (cases[i].err)
			ok(strstr(err, cases[i].err) != NULL);
		if (n != cases[i].n || (cases[i].err && !strstr(err, cases[i].err)))
			fprintf(stderr, "case %zu: got %ld \"%s\"\n", i, n, err);
		got_clear(&g);
	}
}

/* har_import_take(): the same import from a buffer it frees (ASan checks that it does, on
 * every path), and a cancel stops it with nothing emitted. */
static void test_import_take(void)
{
	static const char doc[] = "{\"log\":{\"entries\":[" OK1 "," OK1 "]}}";
	struct got g = {0};
	char err[256] = "";
	struct har_skipped skipped = {9, NULL};
	atomic_int cancel = 0;
	ok(har_import_take(xstrdup(doc), strlen(doc), &cancel,
			   (struct flow_sink){.emit = on_emit, .arg = &g}, &skipped, err,
			   sizeof err) == 2);
	ok(g.num == 2 && skipped.num == 0 && !skipped.list);
	got_clear(&g);
	ok(har_import_take(xstrdup("{\"log\":5}"), 9, NULL,
			   (struct flow_sink){.emit = on_emit, .arg = &g}, NULL, err,
			   sizeof err) == -1);
	ok(strstr(err, "log missing") != NULL);
	ok(har_import_take(NULL, 0, NULL, (struct flow_sink){.emit = on_emit, .arg = &g}, NULL, err,
			   sizeof err) == -1);
	ok(strstr(err, "not JSON") != NULL);
	atomic_store(&cancel, 1);
	ok(har_import_take(xstrdup(doc), strlen(doc), &cancel,
			   (struct flow_sink){.emit = on_emit, .arg = &g}, NULL, err,
			   sizeof err) == -1);
	ok(strcmp(err, "cancelled") == 0);
	ok(g.num == 0);
#undef OK1
}

/* codec_encode_all(), which the import uses to store bodies as their Content-Encoding says:
 * what it writes decodes back (codec_decode_all()), chains applied in header order; an
 * unknown coding, or two without a comma, is refused. */
static void test_encode(void)
{
	static const char *const encs[] = {
	    "gzip", "x-gzip", "deflate", "br", "zstd", "gzip, br", " identity ,zstd ,", "", NULL};
	size_t len = strlen(html);
	for (size_t i = 0; i < sizeof encs / sizeof *encs; i++) {
		char *out = NULL, *back = NULL;
		size_t out_len = 0, back_len = 0;
		ok(codec_encode_all(encs[i], html, len, &out, &out_len) == 0);
		ok(out &&
		   codec_decode_all(encs[i], out, out_len, 0, 1 << 20, &back, &back_len) == 0);
		ok(back && back_len == len && memcmp(back, html, len) == 0);
		free(out);
		free(back);
	}
	char *out = NULL;
	size_t out_len;
	ok(codec_encode_all("gzip br", html, len, &out, &out_len) == -1 && !out);
	ok(codec_encode_all("compress", html, len, &out, &out_len) == -1 && !out);
}

/* ---- round trip ---- */

static void test_round_trip(void)
{
	char *p1, *p2;
	int n;
	struct store *s1 = stored_flows("rt1.db", &p1, &n);
	struct flow_buf raw = {0};
	json_t *d1 = export_doc(p1, NULL, &raw);
	struct store *s2 = open_store("rt2.db", &p2);
	char err[256] = "";
	long got = har_import(raw.data, raw.len, store_sink(s2), NULL, err, sizeof err);
	if (got < 0)
		fprintf(stderr, "round trip import: %s\n", err);
	ok(got == n);
	wait_stored(s2, (uint64_t)n);
	flow_buf_clear(&raw);
	json_t *d2 = export_doc(p2, NULL, &raw);
	ok(d1 && d2);
	json_t *e1 = entries_of(d1), *e2 = entries_of(d2);
	ok(json_array_size(e1) == json_array_size(e2));
	for (size_t i = 0; i < json_array_size(e1) && i < json_array_size(e2); i++) {
		int same = json_equal(json_array_get(e1, i), json_array_get(e2, i));
		ok(same);
		if (!same) {
			char *a = json_dumps(json_array_get(e1, i), JSON_COMPACT);
			char *b = json_dumps(json_array_get(e2, i), JSON_COMPACT);
			fprintf(stderr, "entry %zu differs:\n%s\n%s\n", i, a, b);
			free(a);
			free(b);
		}
	}
	json_decref(d1);
	json_decref(d2);
	flow_buf_clear(&raw);
	store_close(s1);
	store_close(s2);
	free(p1);
	free(p2);
}

/* Writes an export next to $HAR_EXPORT_FILE (for validate.mjs), when that is set. */
static void save_export(const char *suffix, const struct flow_buf *raw)
{
	const char *out = getenv("HAR_EXPORT_FILE");
	if (!out || !raw->data)
		return;
	char *p = xasprintf("%s%s", out, suffix);
	FILE *fp = fopen(p, "wb");
	if (fp) {
		fwrite(raw->data, 1, raw->len, fp);
		fclose(fp);
	}
	free(p);
}

/* A browser's file: import, export (generation 1), import that, export (generation 2): the
 * two exports have the same entries. Returns generation 1 (caller json_decref()s). */
static json_t *browser_round_trip(const char *file, size_t want)
{
	char *p1, *p2, err[256] = "";
	char *fp = data_path(file);
	size_t len;
	char *data = read_all(fp, &len);
	free(fp);
	struct store *s1 = open_store("b1.db", &p1), *s2 = open_store("b2.db", &p2);
	long n = har_import(data, len, store_sink(s1), NULL, err, sizeof err);
	free(data);
	ok(n == (long)want);
	wait_stored(s1, (uint64_t)n);
	struct flow_buf raw = {0};
	json_t *d1 = export_doc(p1, NULL, &raw);
	save_export(strstr(file, "chrome") ? ".from-chrome.har" : ".from-firefox.har", &raw);
	long n2 = har_import(raw.data, raw.len, store_sink(s2), NULL, err, sizeof err);
	ok(n2 == n);
	wait_stored(s2, (uint64_t)n2);
	flow_buf_clear(&raw);
	json_t *d2 = export_doc(p2, NULL, NULL);
	ok(d1 && d2 && json_equal(entries_of(d1), entries_of(d2)));
	ok(json_array_size(entries_of(d1)) == want);
	json_decref(d2);
	store_close(s1);
	store_close(s2);
	unlink(p1);
	unlink(p2);
	free(p1);
	free(p2);
	return d1;
}

static void test_round_trip_browsers(void)
{
	json_t *d = browser_round_trip("chrome.har", 5);
	if (d && json_array_size(entries_of(d)) == 5) {
		json_t *e = json_array_get(entries_of(d), 0);
		ok(strcmp(
		       sget(e, "response.content.text"),
		       "<!doctype html>\n<html><head><title>Shop \xc3\xa9t\xc3\xa9</title></head>"
		       "<body><p>Hello</p></body></html>\n") == 0);
		ok(strcmp(sget(e, "request.url"),
			  "https://shop.example.com/?q=flow%20scope&lang=en") == 0);
		ok(strcmp(hget(jget(e, "request.headers"), "Host"), "shop.example.com") == 0);
		ok(num(e, "timings.connect") == 55.8);
		ok(num(e, "timings.ssl") == 30.2);
		ok(num(e, "timings.dns") == 14.6); /* blocked has no field: it joins dns */
		ok(strcmp(sget(e, "serverIPAddress"), "93.184.216.34") == 0);
		e = json_array_get(entries_of(d), 2);
		ok(strcmp(sget(e, "serverIPAddress"), "2001:db8::7") == 0);
		ok(strcmp(sget(e, "response.content.encoding"), "base64") == 0);
		e = json_array_get(entries_of(d), 3);
		ok(strcmp(sget(e, "response._error"), "net::ERR_NAME_NOT_RESOLVED") == 0);
		e = json_array_get(entries_of(d), 4);
		ok(strcmp(sget(e, "request.url"), "wss://shop.example.com/live") == 0);
	}
	json_decref(d);
	/* each tool's file: what was imported exports and imports again the same */
	static const struct {
		const char *file;
		size_t n;
	} tools[] = {{"playwright-chromium.har", 4},
		     {"safari.har", 3},
		     {"charles.har", 5},
		     {"fiddler.har", 4},
		     {"httptoolkit.har", 4},
		     {"mitmproxy-savehar.har", 4}};
	for (size_t i = 0; i < sizeof tools / sizeof *tools; i++)
		json_decref(browser_round_trip(tools[i].file, tools[i].n));
	d = browser_round_trip("firefox.har", 5);
	if (d && json_array_size(entries_of(d)) == 5) {
		json_t *e = json_array_get(entries_of(d), 0);
		ok(strcmp(sget(e, "startedDateTime"), "2024-03-05T10:20:01.250Z") == 0);
		ok(strcmp(sget(e, "response.content.text"),
			  "<html><body><h1>Intranet</h1><p>Caf\xc3\xa9 menu</p></body></html>\n") ==
		   0);
		e = json_array_get(entries_of(d), 1);
		ok(strcmp(sget(e, "request.postData.text"),
			  "user=ann+smith&pass=caf%C3%A9%26co&x=") == 0);
		ok(strcmp(sget(e, "response.redirectURL"), "/home") == 0);
	}
	json_decref(d);
}

/* nftw() callback: removes each file, then its directory (FTW_DEPTH). */
static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(path);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	flow_seed_ids(1);
	subtest("export", test_export);
	subtest("export abort", test_export_abort);
	subtest("export pull", test_export_pull);
	subtest("export pages", test_export_pages);
	subtest("import chrome", test_import_chrome);
	subtest("import firefox", test_import_firefox);
	subtest("import broken", test_import_broken);
	subtest("import skipped", test_import_skipped);
	subtest("import failed", test_import_failed);
	subtest("import each tool's file", test_import_tools);
	subtest("import walk", test_import_walk);
	subtest("import take", test_import_take);
	subtest("body encoding", test_encode);
	subtest("round trip", test_round_trip);
	subtest("round trip of browser files", test_round_trip_browsers);
	if (nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return harness_done();
}
