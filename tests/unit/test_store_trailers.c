/* SPDX-License-Identifier: MIT */
/* test_store_trailers.c - a flow's trailers (HTTP/2 trailing HEADERS, kept beside the headers
 * in struct flow_msg): copied by flow_dup() and flow_snapshot(), written by the store and read
 * back (store_get) in order, NULL columns for a flow without any, kept through an edit and in
 * the edit's kept original (Revert brings them back), a store of the version before them (8)
 * migrated with its row reading none; in HAR, exported as "_trailers" (absent when none) and
 * imported back, the second export equal to the first. */
#define _GNU_SOURCE /* nftw() */
#include "har_fixture.h"
#include "schema.h"

#include <sqlite3.h>

static void trailer(struct flow_msg *m, const char *name, const char *value)
{
	flow_msg_add_trailer(m, name, strlen(name), value, strlen(value));
}

/* An h2 flow with request trailers (x-req-sum) and response trailers (grpc-status, grpc-message
 * with a byte that is not UTF-8), or none when plain. */
static struct flow *h2_flow(int64_t start, int plain)
{
	struct flow *f = http_flow("https", "grpc.example", 443, "POST", "/svc/Call", start);
	f->request.version = 20;
	hdr(&f->request, "content-type", "application/grpc");
	flow_msg_add_body(&f->request, "abc", 3, 1 << 20);
	respond(f, 200, "");
	f->response.version = 20;
	hdr(&f->response, "content-type", "application/grpc");
	flow_msg_add_body(&f->response, "def", 3, 1 << 20);
	if (!plain) {
		trailer(&f->request, "x-req-sum", "abc");
		trailer(&f->response, "grpc-status", "0");
		trailer(&f->response, "grpc-message", "caf\xe9");
	}
	return f;
}

static int same_pairs(const struct flow_header *a, size_t na, const struct flow_header *b,
		      size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (a[i].name_len != b[i].name_len || a[i].value_len != b[i].value_len ||
		    memcmp(a[i].name, b[i].name, a[i].name_len) != 0 ||
		    memcmp(a[i].value, b[i].value, a[i].value_len) != 0)
			return 0;
	return 1;
}

static int same_trailers(const struct flow *a, const struct flow *b)
{
	return same_pairs(a->request.trailers, a->request.num_trailers, b->request.trailers,
			  b->request.num_trailers) &&
	       same_pairs(a->response.trailers, a->response.num_trailers, b->response.trailers,
			  b->response.num_trailers);
}

static void test_copies(void)
{
	struct flow *f = h2_flow(T0, 0);
	ok(f->request.num_trailers == 1 && f->response.num_trailers == 2);
	struct flow *d = flow_dup(f), *s = flow_snapshot(f);
	ok(same_trailers(f, d));
	ok(same_trailers(f, s));
	ok(s->response.trailers != f->response.trailers); /* packed in the snapshot's block */
	ok(strcmp(s->response.trailers[1].value, "caf\xe9") == 0);
	flow_free(f);
	ok(strcmp(s->response.trailers[0].name, "grpc-status") == 0); /* owns its copy */
	struct flow *t = flow_snapshot_take(d);
	ok(t->request.num_trailers == 1 && strcmp(t->request.trailers[0].value, "abc") == 0);
	flow_free(t);
	flow_free(s);
	struct flow *plain = h2_flow(T0, 1), *ps = flow_snapshot(plain);
	ok(!ps->request.trailers && !ps->response.trailers && ps->response.num_trailers == 0);
	flow_free(ps);
	flow_free(plain);
}

/* The flow id once the reader sees it (the writer batches), or NULL after a minute. */
static struct flow *get(const char *path, uint64_t id)
{
	char err[256];
	struct store_reader *r = store_reader_open(path, err, sizeof err);
	struct flow *f = NULL;
	for (int i = 0; r && i < 6000 && !(f = store_get(r, id)); i++)
		usleep(10000);
	store_reader_close(r);
	return f;
}

static long long count(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return v;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void test_stored(void)
{
	char *path;
	struct store *s = open_store("stored.db", &path);
	ok(s != NULL);
	struct flow *f = h2_flow(T0, 0), *plain = h2_flow(T0 + 1, 1);
	uint64_t id = f->id, pid = plain->id;
	struct flow *want = flow_dup(f);
	struct flow_sink sink = store_sink(s);
	sink.emit(sink.arg, FLOW_EV_END, f);
	sink.emit(sink.arg, FLOW_EV_END, plain);
	wait_stored(s, 2);
	struct flow *a = get(path, id), *b = get(path, pid);
	ok(a && same_trailers(a, want));
	ok(a && a->response.num_headers == 1); /* the headers stay the headers */
	ok(b && b->request.num_trailers == 0 && b->response.num_trailers == 0);
	ok(count(path, "select count(*) from heads where req_trailers is null and "
		       "resp_trailers is null") == 1);
	flow_free(a);
	flow_free(b);
	flow_free(want);
	store_close(s);
	free(path);
}

/* An edit keeps the trailers (it cannot change them), and the kept original has them too, so
 * that a revert brings them back. */
static void test_edited(void)
{
	char *path, err[256];
	struct store *s = open_store("edited.db", &path);
	struct flow *f = h2_flow(T0 + 5, 0), *want = flow_dup(f);
	uint64_t id = f->id;
	struct flow_sink sink = store_sink(s);
	sink.emit(sink.arg, FLOW_EV_END, f);
	wait_stored(s, 1);
	struct flow *e = get(path, id), *orig = e ? flow_dup(e) : NULL;
	ok(e != NULL);
	if (!e) {
		flow_free(want);
		store_close(s);
		free(path);
		return;
	}
	hdr(&e->request, "x-edited", "1");
	store_edit(s, e, orig, 0);
	struct store_reader *r = store_reader_open(path, err, sizeof err);
	struct flow *o = NULL;
	for (int i = 0; r && i < 6000 && !(o = store_original(r, id)); i++)
		usleep(10000);
	ok(o && same_trailers(o, want));
	struct flow *now = store_get(r, id);
	ok(now && now->request.num_headers == want->request.num_headers + 1);
	ok(now && same_trailers(now, want));
	flow_free(now);
	flow_free(o);
	store_reader_close(r);
	flow_free(want);
	store_close(s);
	free(path);
}

/* The store's version before trailers (they came with version 9): pinned, not SCHEMA_VERSION - 1,
 * which would stop testing this migration the day a version 11 lands. */
enum { BEFORE_TRAILERS = 8 };

static void test_migrated(void)
{
	char *path = xasprintf("%s/old.db", tmpdir), err[256];
	sqlite3 *db;
	ok(sqlite3_open(path, &db) == SQLITE_OK);
	ok(schema_migrate(db, BEFORE_TRAILERS, err, sizeof err) == SQLITE_OK);
	ok(sqlite3_exec(db, "SELECT req_trailers FROM heads", NULL, NULL, NULL) != SQLITE_OK);
	ok(sqlite3_exec(db,
			"INSERT INTO flows(id,kind,state,host,port,url) VALUES"
			" (900,'http','done','old.example',443,'https://old.example/');"
			"INSERT INTO heads(id,req_headers,resp_headers) VALUES (900,x'',x'');",
			NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	struct store *s = store_open(path, NULL, err, sizeof err);
	ok(s != NULL);
	struct flow *old = get(path, 900);
	ok(old && old->request.num_trailers == 0 && old->response.num_trailers == 0);
	struct flow *f = h2_flow(T0 + 2, 0), *want = flow_dup(f);
	uint64_t id = f->id;
	struct flow_sink sink = store_sink(s);
	sink.emit(sink.arg, FLOW_EV_END, f);
	struct flow *back = get(path, id);
	ok(back && same_trailers(back, want));
	flow_free(old);
	flow_free(back);
	flow_free(want);
	store_close(s);
	free(path);
}

/* The value of name in a HAR "_trailers" array, or NULL. */
static const char *har_trailer(json_t *msg, const char *name)
{
	json_t *arr = json_object_get(msg, "_trailers");
	return json_is_array(arr) ? hget(arr, name) : NULL;
}

static void test_har(void)
{
	char *p1, *p2, err[256] = "";
	struct store *s1 = open_store("har1.db", &p1);
	struct flow_sink sink = store_sink(s1);
	sink.emit(sink.arg, FLOW_EV_END, h2_flow(T0 + 10, 0));
	sink.emit(sink.arg, FLOW_EV_END, h2_flow(T0 + 20, 1));
	wait_stored(s1, 2);
	struct flow_buf raw = {0};
	json_t *d1 = export_doc(p1, NULL, &raw);
	json_t *e = entries_of(d1);
	ok(json_array_size(e) == 2);
	json_t *with = NULL, *without = NULL;
	for (size_t i = 0; i < json_array_size(e); i++) {
		json_t *en = json_array_get(e, i);
		if (json_object_get(jget(en, "response"), "_trailers"))
			with = en;
		else
			without = en;
	}
	ok(with && without);
	ok(with && json_array_size(jget(with, "response._trailers")) == 2);
	ok(with && har_trailer(jget(with, "response"), "grpc-status") &&
	   strcmp(har_trailer(jget(with, "response"), "grpc-status"), "0") == 0);
	ok(with && har_trailer(jget(with, "response"), "grpc-message") &&
	   strcmp(har_trailer(jget(with, "response"), "grpc-message"), "caf\xc3\xa9") == 0);
	ok(with && har_trailer(jget(with, "request"), "x-req-sum") &&
	   strcmp(har_trailer(jget(with, "request"), "x-req-sum"), "abc") == 0);
	ok(without && !json_object_get(jget(without, "request"), "_trailers"));

	struct store *s2 = open_store("har2.db", &p2);
	long got = har_import(raw.data, raw.len, store_sink(s2), NULL, err, sizeof err);
	if (got < 0)
		fprintf(stderr, "import: %s\n", err);
	ok(got == 2);
	wait_stored(s2, 2);
	flow_buf_clear(&raw);
	json_t *d2 = export_doc(p2, NULL, NULL);
	ok(d2 && json_equal(entries_of(d1), entries_of(d2)));
	ok(count(p2, "select count(*) from heads where resp_trailers is not null") == 1);

	/* a HAR whose _trailers is not an array is refused with a clear error */
	const char *bad =
	    "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"t\",\"version\":\"1\"},"
	    "\"entries\":[{\"startedDateTime\":\"2026-01-01T00:00:00.000Z\",\"time\":1,"
	    "\"request\":{\"method\":\"GET\",\"url\":\"https://x.example/\","
	    "\"httpVersion\":\"HTTP/2.0\",\"cookies\":[],\"headers\":[],"
	    "\"queryString\":[],\"headersSize\":-1,\"bodySize\":0},"
	    "\"response\":{\"status\":200,\"statusText\":\"\",\"httpVersion\":"
	    "\"HTTP/2.0\",\"cookies\":[],\"headers\":[],\"_trailers\":7,\"content\":"
	    "{\"size\":0,\"mimeType\":\"\"},\"redirectURL\":\"\",\"headersSize\":-1,"
	    "\"bodySize\":0},\"cache\":{},\"timings\":{\"send\":0,\"wait\":1,"
	    "\"receive\":0}}]}}";
	err[0] = '\0';
	got = har_import(bad, strlen(bad), store_sink(s2), NULL, err, sizeof err);
	ok(got < 0 && strstr(err, "_trailers"));
	json_decref(d1);
	json_decref(d2);
	store_close(s1);
	store_close(s2);
	free(p1);
	free(p2);
}

int main(void)
{
	if (har_fixture_start() != 0)
		return 1;
	subtest("flow copies", test_copies);
	subtest("stored", test_stored);
	subtest("edited", test_edited);
	subtest("migrated", test_migrated);
	subtest("HAR", test_har);
	return har_fixture_end();
}
