/* SPDX-License-Identifier: MIT */
/* har_fixture.h - what the HAR unit tests (test_har*.c) share: a temporary folder (tmpdir) for
 * their stores, the files of tests/integration/data/har, a store filled with the test flows
 * (make_flows: HTTP and HTTPS, bodies of each kind, a tunnel, a truncated and an encoded body),
 * an export parsed back with jansson (export_doc) and read by path (sget, jget, hget, num), a
 * document imported into a new store (import_into), export -> import -> export (round_trip), and
 * save_export() for $HAR_EXPORT_FILE. Include it (it includes harness.h) from each of those
 * files, first; main() brackets its subtests with har_fixture_start() and har_fixture_end(). */
#ifndef HAR_FIXTURE_H
#define HAR_FIXTURE_H

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

static inline char *data_path(const char *name)
{
	/* __FILE__ is tests/unit/har_fixture.h (absolute under CMake). */
	const char *f = __FILE__;
	const char *end = strstr(f, "unit/har_fixture.h");
	return xasprintf("%.*sintegration/data/har/%s", (int)(end - f), f, name);
}

static inline char *read_all(const char *path, size_t *len)
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

static inline void wait_stored(struct store *s, uint64_t want)
{
	for (int i = 0; i < 12000; i++) { /* up to a minute on a loaded machine */
		struct store_stats st;
		store_get_stats(s, &st);
		if (st.queued == 0 && st.stored + st.dropped >= want)
			return;
		usleep(5000);
	}
}

static inline int on_write(void *arg, const char *data, size_t len)
{
	flow_buf_append(arg, data, len);
	return 0;
}

/* Exports the store at path; returns the parsed document (NULL on failure). */
static inline json_t *export_doc(const char *path, const char *expr, struct flow_buf *out)
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

static inline json_t *entries_of(json_t *doc)
{
	return json_object_get(json_object_get(doc, "log"), "entries");
}

static inline const char *sget(json_t *o, const char *path)
{
	/* "a.b.c" */
	char buf[256];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *save, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
		o = json_object_get(o, k);
	return json_string_value(o);
}

static inline json_t *jget(json_t *o, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *save, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
		o = json_object_get(o, k);
	return o;
}

/* The value of the header named name in a HAR headers array, or NULL. */
static inline const char *hget(json_t *arr, const char *name)
{
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *h = json_array_get(arr, i);
		if (strcasecmp(sget(h, "name"), name) == 0)
			return sget(h, "value");
	}
	return NULL;
}

static inline char *gzip(const char *data, size_t len, size_t *out_len)
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

static inline void hdr(struct flow_msg *m, const char *name, const char *value)
{
	flow_msg_add_header(m, name, strlen(name), value, strlen(value));
}

#define T0 1767225600000000LL /* 2026-01-01T00:00:00Z in microseconds */

static inline struct flow *http_flow(const char *scheme, const char *host, uint16_t port,
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

static inline void respond(struct flow *f, int status, const char *reason)
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
static inline int make_flows(struct flow_sink sink)
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
static inline struct store *open_store(const char *name, char **path)
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
static inline struct store *stored_flows(const char *name, char **path, int *n)
{
	struct store *s = open_store(name, path);
	*n = s ? make_flows(store_sink(s)) : 0;
	if (s)
		wait_stored(s, (uint64_t)*n);
	return s;
}

/* Writes an export next to $HAR_EXPORT_FILE (for validate.mjs), when that is set. */
static inline void save_export(const char *suffix, const struct flow_buf *raw)
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

/* Imports the HAR document data (len bytes) into a new store at tmpdir/name (its path in *path,
 * malloc'd) and waits until what it imported is written; checks (ok) that want entries came
 * in. Returns the store (the caller store_close()s it; NULL when it cannot be opened) and the
 * number imported in *got (-1 on a refused document, said on stderr). */
static inline struct store *import_into(const char *name, char **path, const char *data, size_t len,
					long want, long *got)
{
	char err[256] = "";
	struct store *s = open_store(name, path);
	long n = s ? har_import(data, len, store_sink(s), NULL, err, sizeof err) : -1;
	if (n < 0)
		fprintf(stderr, "import into %s: %s\n", name, err);
	ok(n == want);
	if (s && n > 0)
		wait_stored(s, (uint64_t)n);
	if (got)
		*got = n;
	return s;
}

/* The round trip: exports the store at path (parsed into *d1), imports that export into a new
 * store at tmpdir/name (checking that want entries came in), and exports that store (parsed
 * into *d2). With save set, the first export is also written with that suffix (save_export()).
 * NULL documents where an export failed; the caller json_decref()s both. The second store is
 * closed and its file removed. */
static inline void round_trip(const char *path, const char *name, long want, const char *save,
			      json_t **d1, json_t **d2)
{
	struct flow_buf raw = {0};
	char *p2;
	*d1 = export_doc(path, NULL, &raw);
	if (save)
		save_export(save, &raw);
	struct store *s2 = import_into(name, &p2, raw.data ? raw.data : "", raw.len, want, NULL);
	flow_buf_clear(&raw);
	*d2 = export_doc(p2, NULL, NULL);
	store_close(s2);
	unlink(p2);
	free(p2);
}

static inline double num(json_t *o, const char *path)
{
	return json_number_value(jget(o, path));
}

/* nftw() callback: removes each file, then its directory (FTW_DEPTH). */
static inline int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	return remove(path);
}

/* Makes tmpdir and seeds flow ids; returns 0, or -1 (said) when the folder cannot be made. */
static inline int har_fixture_start(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return -1;
	}
	flow_seed_ids(1);
	return 0;
}

/* Removes tmpdir; returns main()'s exit status (harness_done()). */
static inline int har_fixture_end(void)
{
	if (nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return harness_done();
}

#endif
