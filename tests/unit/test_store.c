/* SPDX-License-Identifier: MIT */
/* test_store.c - the flow store through store.h: schema and migration, BEGIN/END rows, END
 * without BEGIN, batching, listener notices, exact bytes, restart, delete/clear (and late events
 * of removed flows not bringing them back), store_exists(), pages and
 * totals, streamed and decoded bodies (every coding, chains, corrupt data, bombs), settings,
 * a full queue, a full database, a locked database, a read-only file; large bodies kept as files
 * beside the database (round trips, removal, the sweep of orphans, a missing file, a failing
 * file write, direct I/O past the page cache). */
#define _GNU_SOURCE /* O_DIRECT, mincore() */
#include "bodyfile.h"
#include "harness.h"
#include "schema.h"
#include "store.h"

#include "util.h"

#include <brotli/encode.h>
#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

static char dir[256];
static int dbn;

static char *new_path(void)
{
	return xasprintf("%s/t%d.db", dir, ++dbn);
}

static struct flow *mkflow(uint64_t id, const char *host, int status)
{
	struct flow *f = flow_new();
	f->id = id;
	f->kind = FLOW_HTTP;
	f->state = status ? FLOW_DONE : FLOW_PENDING;
	f->scheme = xstrdup("http");
	f->host = xstrdup(host);
	f->port = 80;
	f->path = xstrdup("/index.html?q=1");
	snprintf(f->client_addr, sizeof f->client_addr, "127.0.0.1:5000");
	f->request.present = 1;
	f->request.version = 11;
	f->request.method = xstrdup("GET");
	f->request.target = xstrdup("/index.html?q=1");
	flow_msg_add_header(&f->request, "Host", 4, host, strlen(host));
	f->t.start = 1700000000000000 + (int64_t)id;
	if (status) {
		f->response.present = 1;
		f->response.version = 11;
		f->response.status = status;
		f->response.reason = xstrdup("OK");
		flow_msg_add_header(&f->response, "Content-Type", 12, "text/html", 9);
		flow_msg_add_body(&f->response, "<html>hello</html>", 18, 1 << 20);
		f->t.end = f->t.start + 1000;
		snprintf(f->server_addr, sizeof f->server_addr, "10.0.0.1:80");
	}
	return f;
}

static long long q1(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -999;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return v;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	} else {
		fprintf(stderr, "q1 %s: %s\n", sql, sqlite3_errmsg(db));
	}
	sqlite3_close(db);
	return v;
}

static char *qs(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *v = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return v;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
			v = xstrdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

static int streq_free(char *got, const char *want)
{
	int r = got && strcmp(got, want) == 0;
	if (!r)
		fprintf(stderr, "  got '%s', want '%s'\n", got ? got : "(null)", want);
	free(got);
	return r;
}

static void emit(struct store *s, enum flow_event ev, struct flow *f)
{
	struct flow_sink sink = store_sink(s);
	sink.emit(sink.arg, ev, f);
}

/* The rows of a version 1 store (as flowscope wrote it before the trigram index): one flow. */
static const char v1_rows[] =
    "UPDATE counts SET n=1 WHERE k=1;"
    "INSERT INTO flows(id,kind,state,host,port,url,resp_present,status) VALUES"
    " (5,'http','done','old.example',80,'http://old.example/',1,200);"
    "INSERT INTO hosts VALUES ('old.example');"
    "INSERT INTO bodies VALUES (11,5,1,'an old needle',13,0,NULL);";

/* Brings the database file p to schema version v with the store's own migrations (schema.c
 * never edits a released one, so these are the tables an older flowscope made), then runs rows
 * (NULL: none). Returns an SQLite code. */
static int at_version(const char *p, int v, const char *rows)
{
	sqlite3 *db;
	char err[256] = "";
	int rc = sqlite3_open(p, &db);
	if (rc == SQLITE_OK)
		rc = schema_migrate(db, v, err, sizeof err);
	if (rc == SQLITE_OK && rows)
		rc = sqlite3_exec(db, rows, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		fprintf(stderr, "  version %d: %s %s\n", v, err, sqlite3_errmsg(db));
	sqlite3_close(db);
	return rc;
}

static void on_id(void *arg, const struct flow *f)
{
	*(uint64_t *)arg = f->id;
}

static void test_migrate(void)
{
	char *p = new_path(), err[256];
	ok(at_version(p, 1, v1_rows) == SQLITE_OK);
	struct store *s = store_open(p, NULL, err, sizeof err);
	ok(s != NULL && store_max_id(s) == 5);
	struct flow *f = mkflow(6, "new.example", 200);
	flow_buf_clear(&f->response.body);
	flow_msg_add_body(&f->response, "a new needle", 12, 100);
	struct flow_sink sink = store_sink(s);
	sink.emit(sink.arg, FLOW_EV_END, f);
	/* Before indexing, both bodies are found by the regex path. */
	for (int i = 0; i < 500 && q1(p, "SELECT count(*) FROM flows") != 2; i++)
		usleep(10000);
	for (int i = 0; i < 500 && q1(p, "SELECT n FROM counts WHERE k=2") != 13; i++)
		usleep(10000);
	store_close(s);
	ok(q1(p, "PRAGMA user_version") == SCHEMA_VERSION);
	/* The old flow has no notes (version 4's mark and comment columns). */
	ok(q1(p, "SELECT count(*) FROM flows WHERE id=5 AND mark='' AND comment=''") == 1);
	/* It has no WebSocket messages (version 5's tables). */
	ok(q1(p, "SELECT count(*) FROM ws_messages") == 0 &&
	   q1(p, "SELECT count(*) FROM ws_close") == 0);
	/* The old body is marked as kept in SQLite (version 3's ext column). */
	ok(q1(p, "SELECT ext FROM bodies WHERE id=11") == 0);
	/* The writer indexed both bodies, the old one included, when it was idle. */
	ok(q1(p, "SELECT count(*) FROM body_fts") == 2);
	ok(q1(p, "SELECT n FROM counts WHERE k=2") == 13);
	struct store_reader *r = store_reader_open(p, err, sizeof err);
	const char *exprs[] = {"~bs 'old needle'", "~bs 'new needle'", "~d old & ~c 200"};
	uint64_t want[] = {5, 6, 5};
	for (int i = 0; i < 3; i++) {
		struct filter *flt = filter_compile(exprs[i], err, sizeof err);
		uint64_t id = 0, total = 0;
		ok(store_list(r, flt, 0, 10, on_id, &id, &total, err, sizeof err) == 0);
		ok(id == want[i] && total == 1);
		filter_free(flt);
	}
	store_reader_close(r);
	free(p);
}

static uint64_t count_of(const char *p, const char *expr)
{
	char err[256];
	struct store_reader *r = store_reader_open(p, err, sizeof err);
	struct filter *flt = filter_compile(expr, err, sizeof err);
	uint64_t id = 0, total = 99;
	if (store_list(r, flt, 0, 10, on_id, &id, &total, err, sizeof err) != 0)
		fprintf(stderr, "  %s: %s\n", expr, err);
	filter_free(flt);
	store_reader_close(r);
	return total;
}

/* Bodies trickling in as under steady traffic (small batches, more of them than one indexer
 * chunk): every body gets looked at; text lands in the index, binary is marked checked. */
static void test_index_trickle(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	enum { N = 1300 };
	for (uint64_t id = 1; id <= N; id++) {
		struct flow *f = mkflow(id, "trickle.example", 200);
		flow_buf_clear(&f->response.body);
		char body[64];
		int len = snprintf(body, sizeof body, "text %llu needle%s", (unsigned long long)id,
				   id % 100 == 0 ? "x" : "");
		if (id % 10 == 0)
			body[2] = '\0'; /* binary */
		flow_msg_add_body(&f->response, body, (size_t)len, 100);
		emit(s, FLOW_EV_END, f);
		if (id % 50 == 0)
			usleep(2000);
	}
	/* first every body stored (the writer gathers batches), then every one looked at */
	for (int i = 0; i < 1000 && q1(p, "SELECT count(*) FROM bodies") != N; i++)
		usleep(10000);
	for (int i = 0; i < 1000 && q1(p, "SELECT (SELECT n FROM counts WHERE k=2) >= "
					  "(SELECT max(id) FROM bodies)") != 1;
	     i++)
		usleep(10000);
	ok(q1(p, "SELECT count(*) FROM bodies") == N);
	ok(q1(p, "SELECT count(*) FROM body_fts") == N - N / 10);
	ok(q1(p, "SELECT count(*) FROM unindexed WHERE checked=1") == N / 10);
	ok(q1(p, "SELECT count(*) FROM unindexed WHERE checked=0") == 0);
	/* binary bodies are searched by regex: found all the same */
	ok(count_of(p, "~bs needlex") == N / 100);
	ok(count_of(p, "~bs needle") == N);
	ok(count_of(p, "~b 'text 1299 needle'") == 1);
	store_close(s);
	free(p);
}

/* A body rewritten after the indexer saw it is searched by its new text only. */
static void test_reindex(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	struct flow_sink sink = store_sink(s);
	struct flow *f = mkflow(1, "re.example", 200);
	flow_buf_clear(&f->response.body);
	flow_msg_add_body(&f->response, "alpha needle", 12, 100);
	sink.emit(sink.arg, FLOW_EV_END, f);
	for (int i = 0; i < 500 && q1(p, "SELECT n FROM counts WHERE k=2") != 3; i++)
		usleep(10000);
	ok(q1(p, "SELECT count(*) FROM body_fts") == 1);
	ok(count_of(p, "~bs needle") == 1);
	f = mkflow(1, "re.example", 200);
	flow_buf_clear(&f->response.body);
	flow_msg_add_body(&f->response, "beta haystack", 13, 100);
	sink.emit(sink.arg, FLOW_EV_END, f);
	for (int i = 0;
	     i < 500 && q1(p, "SELECT count(*) FROM bodies WHERE data='beta haystack'") != 1; i++)
		usleep(10000);
	ok(count_of(p, "~bs needle") == 0);
	ok(count_of(p, "~bs haystack") == 1);
	for (int i = 0; i < 500 && q1(p, "SELECT count(*) FROM unindexed") != 0; i++)
		usleep(10000);
	ok(q1(p, "SELECT count(*) FROM body_fts") == 1); /* indexed again, new text */
	ok(count_of(p, "~bs needle") == 0);
	ok(count_of(p, "~bs haystack") == 1);
	store_delete(s, 1);
	store_close(s);
	ok(q1(p, "SELECT count(*) FROM body_fts") == 0);
	ok(count_of(p, "~bs haystack") == 0);
	free(p);
}

static void test_schema(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	ok(s != NULL);
	ok(store_max_id(s) == 0);
	store_close(s);
	ok(q1(p, "PRAGMA user_version") == SCHEMA_VERSION);
	ok(streq_free(qs(p, "PRAGMA journal_mode"), "wal"));
	ok(q1(p, "SELECT count(*) FROM sqlite_master WHERE name IN ('flows','bodies','heads',"
		 "'hosts','settings','counts')") == 6);
	/* Every column the integration tests read exists. */
	ok(q1(p, "SELECT count(id)+count(kind)+count(state)+count(method)+count(scheme)+"
		 "count(host)+count(port)+count(path)+count(status)+count(error)+"
		 "count(request_body_size)+count(response_body_size)+count(request_truncated)+"
		 "count(response_truncated)+count(tls_sni)+count(tls_version)+count(client_addr)+"
		 "count(server_addr)+count(started_us)+count(ended_us)+count(bytes_up)+"
		 "count(bytes_down)+count(flags)+count(replay_of) FROM flows") == 0);
	/* Reopening a migrated store works; a newer schema is refused. */
	s = store_open(p, NULL, err, sizeof err);
	ok(s != NULL);
	store_close(s);
	sqlite3 *db;
	sqlite3_open(p, &db);
	sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL);
	sqlite3_close(db);
	s = store_open(p, NULL, err, sizeof err);
	ok(s == NULL);
	ok(strstr(err, "newer") != NULL);
	/* Not a database at all. */
	char *junk = new_path();
	FILE *fp = fopen(junk, "w");
	fputs("this is not a database, not at all, not even close....................", fp);
	fclose(fp);
	s = store_open(junk, NULL, err, sizeof err);
	ok(s == NULL && err[0]);
	store_close(s);
	/* Missing directory. */
	char *bad = xasprintf("%s/nodir/x.db", dir);
	ok(store_open(bad, NULL, err, sizeof err) == NULL);
	free(bad);
	free(junk);
	free(p);
}

struct rec {
	int n;
	enum store_change ch[64];
	uint64_t id[64];
	int state[64];
	size_t body_len[64];
	uint64_t body_size[64];
	int truncated[64]; /* the response's body_truncated */
};

static void on_change(void *arg, enum store_change ch, const struct flow *f)
{
	struct rec *r = arg;
	if (r->n >= 64)
		return;
	r->ch[r->n] = ch;
	r->id[r->n] = f ? f->id : 0;
	r->state[r->n] = f ? (int)f->state : -1;
	r->body_len[r->n] = f ? f->response.body.len : 0;
	r->body_size[r->n] = f ? f->response.body_size : 0;
	r->truncated[r->n] = f ? f->response.body_truncated : 0;
	r->n++;
}

static void wait_idle(struct store *s)
{
	struct store_stats st;
	for (int i = 0; i < 3000; i++) { /* 30 s: the test machine may be very busy */
		store_get_stats(s, &st);
		if (st.queued == 0) {
			usleep(20000);
			return;
		}
		usleep(10000);
	}
}

static void test_begin_end(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	struct rec rec = {0};
	store_set_listener(s, on_change, &rec);
	struct flow *f = mkflow(7, "example.com", 0);
	emit(s, FLOW_EV_BEGIN, f);
	wait_idle(s);
	ok(rec.n == 1 && rec.ch[0] == STORE_ADDED && rec.id[0] == 7);
	ok(streq_free(qs(p, "SELECT state FROM flows WHERE id=7"), "pending"));
	ok(q1(p, "SELECT status IS NULL FROM flows WHERE id=7") == 1);
	emit(s, FLOW_EV_END, mkflow(7, "example.com", 200));
	/* END without BEGIN, and an error flow. */
	struct flow *e = mkflow(9, "bad.example", 0);
	flow_set_error(e, "connection refused");
	emit(s, FLOW_EV_END, e);
	wait_idle(s);
	ok(rec.n == 3);
	ok(rec.ch[1] == STORE_UPDATED && rec.id[1] == 7 && rec.state[1] == FLOW_DONE);
	ok(rec.body_len[1] == 0 && rec.body_size[1] == 18); /* a summary: no bytes, real size */
	ok(rec.ch[2] == STORE_ADDED && rec.id[2] == 9);
	ok(store_max_id(s) == 9);
	store_close(s);
	ok(streq_free(qs(p, "SELECT state FROM flows WHERE id=7"), "done"));
	ok(q1(p, "SELECT status FROM flows WHERE id=7") == 200);
	ok(streq_free(qs(p, "SELECT kind||' '||method||' '||scheme||' '||host||':'||port||path "
			    "FROM flows WHERE id=7"),
		      "http GET http example.com:80/index.html?q=1"));
	ok(q1(p, "SELECT response_body_size FROM flows WHERE id=7") == 18);
	ok(q1(p, "SELECT count(*) FROM bodies WHERE flow_id=7 AND side=1 AND size=18") == 1);
	ok(streq_free(qs(p, "SELECT error FROM flows WHERE id=9"), "connection refused"));
	ok(streq_free(qs(p, "SELECT state FROM flows WHERE id=9"), "error"));
	ok(q1(p, "SELECT n FROM counts WHERE k=1") == 2);
	/* Restart: flows kept, ids continue. */
	s = store_open(p, NULL, err, sizeof err);
	ok(store_max_id(s) == 9);
	store_close(s);
	free(p);
}

static void test_exact_bytes(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	struct flow *f = mkflow(1, "h\xff\xfe.example", 200);
	free(f->path);
	f->path = xstrdup("/\xc3\x28\x01?x=\x80");
	static const char name[] = "X-Bin\x7f", value[] = "a\xff\x00z\r\x01";
	flow_msg_add_header(&f->request, name, sizeof name - 1, "v", 1);
	flow_msg_add_header(&f->response, "x-MiXeD-CaSe", 12, value, sizeof value - 1);
	flow_msg_add_header(&f->response, "Set-Cookie", 10, "a=1", 3);
	flow_msg_add_header(&f->response, "set-cookie", 10, "b=2", 3);
	char bin[1024];
	for (int i = 0; i < 1024; i++)
		bin[i] = (char)(i * 7);
	flow_buf_clear(&f->response.body);
	f->response.body_size = 0;
	flow_msg_add_body(&f->response, bin, sizeof bin, 1 << 20);
	flow_msg_add_body(&f->request, bin, 100, 1 << 20);
	struct flow *want = flow_dup(f);
	emit(s, FLOW_EV_END, f);
	store_close(s);
	struct store_reader *r = store_reader_open(p, err, sizeof err);
	ok(r != NULL);
	struct flow *g = store_get(r, 1);
	ok(g != NULL);
	if (!g)
		goto end;
	ok(strcmp(g->host, want->host) == 0);
	ok(strcmp(g->path, want->path) == 0);
	ok(g->request.num_headers == 2 && g->response.num_headers == 4);
	ok(g->request.headers[1].name_len == sizeof name - 1 &&
	   memcmp(g->request.headers[1].name, name, sizeof name - 1) == 0);
	const struct flow_header *h = &g->response.headers[1];
	ok(strcmp(h->name, "x-MiXeD-CaSe") == 0);
	ok(h->value_len == sizeof value - 1 && memcmp(h->value, value, sizeof value - 1) == 0);
	ok(strcmp(g->response.headers[2].value, "a=1") == 0);
	ok(strcmp(g->response.headers[3].name, "set-cookie") == 0);
	ok(g->response.body.len == 1024 && memcmp(g->response.body.data, bin, 1024) == 0);
	ok(g->request.body.len == 100 && memcmp(g->request.body.data, bin, 100) == 0);
	ok(g->response.status == 200 && strcmp(g->response.reason, "OK") == 0);
	ok(g->request.version == 11 && strcmp(g->request.target, "/index.html?q=1") == 0);
	ok(g->t.start == want->t.start && g->t.end == want->t.end);
	ok(strcmp(g->client_addr, "127.0.0.1:5000") == 0);
	ok(store_get(r, 12345) == NULL);
end:
	flow_free(g);
	flow_free(want);
	store_reader_close(r);
	free(p);
}

static void test_tls_tunnel_fields(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	struct flow *f = flow_new();
	f->id = 3;
	f->kind = FLOW_TUNNEL;
	f->state = FLOW_DONE;
	f->host = xstrdup("tunnel.example");
	f->port = 443;
	f->tls.sni = xstrdup("tunnel.example");
	f->tls.version = xstrdup("TLSv1.3");
	f->tls.cipher = xstrdup("TLS_AES_128_GCM_SHA256");
	f->tls.alpn = xstrdup("http/1.1");
	f->tls.cert_subject = xstrdup("CN=tunnel.example");
	f->tls.cert_issuer = xstrdup("CN=Test CA");
	f->tls.client_version = xstrdup("TLSv1.2");
	f->bytes_up = 1234;
	f->bytes_down = 56789;
	f->flags = FLOW_F_TLS | FLOW_F_MARKED | FLOW_F_REPLAY;
	f->replay_of = 2;
	f->t.start = 10;
	f->t.dns_done = 11;
	f->t.connect_done = 12;
	f->t.tls_done = 13;
	f->t.request_sent = 14;
	f->t.first_byte = 15;
	f->t.end = 16;
	emit(s, FLOW_EV_END, f);
	store_close(s);
	ok(streq_free(qs(p, "SELECT kind||state||host||port||tls_sni||tls_version||bytes_up||','||"
			    "bytes_down||','||flags||','||replay_of FROM flows"),
		      "tunneldonetunnel.example443tunnel.exampleTLSv1.31234,56789,21,2"));
	struct store_reader *r = store_reader_open(p, err, sizeof err);
	struct flow *g = store_get(r, 3);
	ok(g && g->kind == FLOW_TUNNEL && g->bytes_down == 56789 && g->replay_of == 2);
	ok(g && strcmp(g->tls.cipher, "TLS_AES_128_GCM_SHA256") == 0 &&
	   strcmp(g->tls.alpn, "http/1.1") == 0 && strcmp(g->tls.cert_issuer, "CN=Test CA") == 0 &&
	   strcmp(g->tls.client_version, "TLSv1.2") == 0 &&
	   strcmp(g->tls.cert_subject, "CN=tunnel.example") == 0);
	ok(g && g->t.dns_done == 11 && g->t.connect_done == 12 && g->t.tls_done == 13 &&
	   g->t.request_sent == 14 && g->t.first_byte == 15 && g->t.end == 16);
	ok(g && g->path == NULL && !g->request.present);
	flow_free(g);
	store_reader_close(r);
	free(p);
}

static void test_batching(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	enum { N = 20000 };
	for (uint64_t i = 1; i <= N; i++) {
		emit(s, FLOW_EV_BEGIN, mkflow(i, "batch.example", 0));
		emit(s, FLOW_EV_END, mkflow(i, "batch.example", 200));
	}
	store_close(s); /* drains */
	ok(q1(p, "SELECT count(*) FROM flows WHERE state='done'") == N);
	ok(q1(p, "SELECT n FROM counts WHERE k=1") == N);
	s = store_open(p, NULL, err, sizeof err);
	ok(store_max_id(s) == N);
	for (uint64_t i = N + 1; i <= N + 5000; i++)
		emit(s, FLOW_EV_END, mkflow(i, "batch.example", 200));
	struct store_stats st;
	wait_idle(s);
	store_get_stats(s, &st);
	ok(st.stored == 5000 && st.dropped == 0 && st.last_error == NULL);
	/* Many events share a commit when they arrive faster than commits happen. */
	ok(st.commits >= 1 && st.commits < 5000);
	fprintf(stderr, "  5000 events in %llu commits\n", (unsigned long long)st.commits);
	store_close(s);
	free(p);
}

static void test_delete_clear_listener(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	struct rec rec = {0};
	store_set_listener(s, on_change, &rec);
	for (uint64_t i = 1; i <= 3; i++)
		emit(s, FLOW_EV_END, mkflow(i, "d.example", 200));
	wait_idle(s);
	store_delete(s, 2);
	store_delete(s, 42); /* nothing to remove: no notice */
	wait_idle(s);
	ok(rec.n == 4 && rec.ch[3] == STORE_REMOVED && rec.id[3] == 2);
	ok(q1(p, "SELECT count(*) FROM flows") == 2);
	ok(q1(p, "SELECT count(*) FROM bodies WHERE flow_id=2") == 0);
	ok(q1(p, "SELECT count(*) FROM heads WHERE id=2") == 0);
	ok(q1(p, "SELECT n FROM counts WHERE k=1") == 2);
	store_clear(s);
	wait_idle(s);
	ok(rec.n == 5 && rec.ch[4] == STORE_RESET);
	ok(q1(p, "SELECT count(*) FROM flows") == 0);
	ok(q1(p, "SELECT count(*) FROM bodies") == 0);
	ok(q1(p, "SELECT count(*) FROM body_fts") == 0);
	ok(q1(p, "SELECT n FROM counts WHERE k=1") == 0);
	/* After a clear, ids go on (max_id is not reset) and new flows are stored. */
	emit(s, FLOW_EV_END, mkflow(4, "d.example", 200));
	wait_idle(s);
	ok(rec.n == 6 && rec.ch[5] == STORE_ADDED && rec.id[5] == 4);
	ok(count_of(p, "~bs hello") == 1);
	for (int i = 0; i < 500 && q1(p, "SELECT count(*) FROM body_fts") != 1; i++)
		usleep(10000);
	ok(count_of(p, "~bs hello") == 1); /* the same through the new trigram index */
	store_set_listener(s, NULL, NULL);
	store_close(s);
	free(p);
}

static void on_done(void *arg)
{
	__atomic_add_fetch((int *)arg, 1, __ATOMIC_SEQ_CST);
}

/* Write marks: each queued event gets the next; once store_done_mark() reaches the mark taken
 * after a write, a reader sees it, and the done listener has been told. The writer does not
 * let a hurried batch wait for company. */
static void test_write_marks(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	struct store_reader *r = store_reader_open(p, err, sizeof err);
	int dones = 0;
	store_set_done_listener(s, on_done, &dones);
	ok(store_write_mark(s) == 0 && store_done_mark(s) == 0);
	for (uint64_t i = 1; i <= 3; i++)
		emit(s, FLOW_EV_END, mkflow(i, "m.example", 200));
	uint64_t m = store_write_mark(s);
	ok(m == 3);
	for (int i = 0; i < 3000 && store_done_mark(s) < m; i++)
		usleep(1000);
	ok(store_done_mark(s) >= m);
	ok(__atomic_load_n(&dones, __ATOMIC_SEQ_CST) >= 1);
	ok(r && store_exists(r, 3) == 1);
	for (int round = 0; round < 20; round++) {
		uint64_t id = 1 + (uint64_t)round % 3;
		store_delete(s, id);
		m = store_write_mark(s);
		int64_t t0 = util_mono_us();
		while (store_done_mark(s) < m && util_mono_us() - t0 < 3000000)
			;
		ok(store_done_mark(s) >= m);
		ok(r && store_exists(r, id) == 0); /* read-your-writes */
		emit(s, FLOW_EV_END, mkflow(id, "m.example", 200));
	}
	store_set_done_listener(s, NULL, NULL);
	store_reader_close(r);
	store_close(s);
	free(p);
}

/* A flow left pending or paused by an earlier run ends, at the next open, with the error
 * "flowscope stopped before this flow ended" and no end time; done flows stay as they were. */
static void test_unfinished(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	emit(s, FLOW_EV_END, mkflow(1, "u.example", 200));
	emit(s, FLOW_EV_BEGIN, mkflow(2, "u.example", 0));
	struct flow *paused = mkflow(3, "u.example", 0);
	paused->state = FLOW_PAUSED;
	emit(s, FLOW_EV_UPDATE, paused);
	store_close(s);
	ok(q1(p, "SELECT count(*) FROM flows WHERE state IN ('pending','paused')") == 2);
	s = store_open(p, NULL, err, sizeof err);
	ok(s != NULL);
	ok(q1(p, "SELECT count(*) FROM flows WHERE state IN ('pending','paused')") == 0);
	ok(q1(p, "SELECT count(*) FROM flows WHERE state='error' AND ended_us IS NULL AND "
		 "error='flowscope stopped before this flow ended' AND id IN (2,3)") == 2);
	ok(streq_free(qs(p, "SELECT state FROM flows WHERE id=1"), "done"));
	ok(count_of(p, "~e") == 2);
	store_close(s);
	free(p);
}

/* store_exists(): present, never stored, deleted. */
static void test_exists(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	struct store_reader *r = store_reader_open(p, err, sizeof err);
	ok(r != NULL);
	if (!r)
		goto end;
	ok(store_exists(r, 1) == 0);
	emit(s, FLOW_EV_END, mkflow(1, "x.example", 200));
	emit(s, FLOW_EV_BEGIN, mkflow(2, "x.example", 0));
	wait_idle(s);
	ok(store_exists(r, 1) == 1);
	ok(store_exists(r, 2) == 1); /* a pending flow is there too */
	ok(store_exists(r, 3) == 0);
	ok(store_exists(r, UINT64_MAX) == 0);
	store_delete(s, 1);
	wait_idle(s);
	ok(store_exists(r, 1) == 0);
	ok(store_exists(r, 2) == 1);
end:
	store_reader_close(r);
	store_close(s);
	free(p);
}

/* Events still on their way when their flow is removed do not bring it back: the END of a
 * flow deleted while pending (in a later batch, or in the same batch as the delete), every
 * event of a flow in flight at a clear; flows after the clear, and a flow deleted when done
 * whose id comes again, are stored. */
static void test_gone(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	struct rec rec = {0};
	store_set_listener(s, on_change, &rec);
	emit(s, FLOW_EV_BEGIN, mkflow(1, "g.example", 0));
	emit(s, FLOW_EV_BEGIN, mkflow(2, "g.example", 0));
	emit(s, FLOW_EV_END, mkflow(3, "g.example", 200));
	wait_idle(s);
	ok(rec.n == 3);
	/* 1: deleted while pending; its UPDATE and END arrive after the commit */
	store_delete(s, 1);
	wait_idle(s);
	struct flow *u = mkflow(1, "g.example", 0);
	u->state = FLOW_PAUSED;
	emit(s, FLOW_EV_UPDATE, u);
	emit(s, FLOW_EV_END, mkflow(1, "g.example", 200));
	/* 2: the delete and the END in one batch (queued back to back) */
	store_delete(s, 2);
	emit(s, FLOW_EV_END, mkflow(2, "g.example", 200));
	wait_idle(s);
	ok(q1(p, "SELECT count(*) FROM flows WHERE id IN (1, 2)") == 0);
	ok(q1(p, "SELECT count(*) FROM heads WHERE id IN (1, 2)") == 0);
	ok(q1(p, "SELECT count(*) FROM bodies WHERE flow_id IN (1, 2)") == 0);
	ok(q1(p, "SELECT n FROM counts WHERE k=1") == 1);
	ok(rec.n == 5 && rec.ch[3] == STORE_REMOVED && rec.ch[4] == STORE_REMOVED);
	/* 3 was done when deleted: nothing of it was to come, so nothing is remembered; a flow
	 * with its id (only a test sends one) is stored */
	store_delete(s, 3);
	wait_idle(s);
	emit(s, FLOW_EV_END, mkflow(3, "g.example", 200));
	wait_idle(s);
	ok(q1(p, "SELECT count(*) FROM flows WHERE id=3") == 1);
	ok(rec.n == 7 && rec.ch[6] == STORE_ADDED && rec.id[6] == 3);

	/* a clear with 10 and 11 in flight: their late events, and an older id never stored,
	 * are dropped; 12 (after the clear) is stored */
	emit(s, FLOW_EV_BEGIN, mkflow(10, "g.example", 0));
	emit(s, FLOW_EV_BEGIN, mkflow(11, "g.example", 0));
	wait_idle(s);
	store_clear(s);
	emit(s, FLOW_EV_END, mkflow(10, "g.example", 200));
	wait_idle(s);
	emit(s, FLOW_EV_UPDATE, mkflow(11, "g.example", 0));
	emit(s, FLOW_EV_END, mkflow(11, "g.example", 200));
	emit(s, FLOW_EV_BEGIN, mkflow(9, "g.example", 0));
	emit(s, FLOW_EV_END, mkflow(9, "g.example", 200));
	emit(s, FLOW_EV_BEGIN, mkflow(12, "g.example", 0));
	emit(s, FLOW_EV_END, mkflow(12, "g.example", 200));
	wait_idle(s);
	ok(streq_free(qs(p, "SELECT group_concat(id) FROM flows"), "12"));
	ok(q1(p, "SELECT count(*) FROM bodies") == 1);
	ok(q1(p, "SELECT n FROM counts WHERE k=1") == 1);
	ok(rec.ch[rec.n - 1] == STORE_ADDED && rec.id[rec.n - 1] == 12);
	ok(rec.ch[rec.n - 2] == STORE_RESET);
	struct store_stats st;
	store_get_stats(s, &st);
	ok(st.dropped == 0); /* dropped as gone, not as lost */
	store_set_listener(s, NULL, NULL);
	store_close(s);
	/* nothing of it survives a restart (no late events do either): ids below the old
	 * watermark are stored again */
	s = store_open(p, NULL, err, sizeof err);
	emit(s, FLOW_EV_END, mkflow(5, "g.example", 200));
	store_close(s);
	ok(streq_free(qs(p, "SELECT group_concat(id) FROM (SELECT id FROM flows ORDER BY id)"),
		      "5,12"));
	free(p);
}

/* Many flows deleted while pending, their ENDs coming in two rounds: the set of remembered
 * deletes grows, forgets each id at its END (the others stay findable) and is empty after. */
static void test_gone_many(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	enum { N = 3000 };
	for (uint64_t i = 1; i <= N; i++)
		emit(s, FLOW_EV_BEGIN, mkflow(i, "m.example", 0));
	wait_idle(s);
	for (uint64_t i = 1; i <= N; i++)
		store_delete(s, i);
	wait_idle(s);
	/* every other END comes: the rest stay remembered, then those ENDs come too */
	for (uint64_t i = 1; i <= N; i += 2)
		emit(s, FLOW_EV_END, mkflow(i, "m.example", 200));
	wait_idle(s);
	for (uint64_t i = 2; i <= N; i += 2)
		emit(s, FLOW_EV_END, mkflow(i, "m.example", 200));
	wait_idle(s);
	ok(q1(p, "SELECT count(*) FROM flows") == 0);
	/* forgotten at its END: another END of 1 (which the proxy never sends) is stored */
	emit(s, FLOW_EV_END, mkflow(1, "m.example", 200));
	wait_idle(s);
	ok(q1(p, "SELECT count(*) FROM flows") == 1);
	store_close(s);
	free(p);
}

struct collect {
	uint64_t ids[200];
	int n;
};

static void on_flow(void *arg, const struct flow *f)
{
	struct collect *c = arg;
	if (c->n < 200)
		c->ids[c->n++] = f->id;
}

static void test_list(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	for (uint64_t i = 1; i <= 120; i++)
		emit(s, FLOW_EV_END,
		     mkflow(i, i % 3 ? "a.example" : "b.example", i % 2 ? 200 : 404));
	store_close(s);
	struct store_reader *r = store_reader_open(p, err, sizeof err);
	struct collect c = {0};
	uint64_t total = 0;
	ok(store_list(r, NULL, 0, 50, on_flow, &c, &total, err, sizeof err) == 0);
	ok(total == 120 && c.n == 50 && c.ids[0] == 120 && c.ids[49] == 71);
	struct collect c2 = {0};
	ok(store_list(r, NULL, c.ids[49], 50, on_flow, &c2, &total, err, sizeof err) == 0);
	ok(c2.n == 50 && c2.ids[0] == 70 && c2.ids[49] == 21);
	struct collect c3 = {0};
	ok(store_list(r, NULL, 21, 50, on_flow, &c3, NULL, err, sizeof err) == 0);
	ok(c3.n == 20 && c3.ids[19] == 1);
	struct filter *flt = filter_compile("~d b.example & ~c 404", err, sizeof err);
	struct collect c4 = {0};
	ok(store_list(r, flt, 0, 100, on_flow, &c4, &total, err, sizeof err) == 0);
	ok(total == 20 && c4.n == 20 && c4.ids[0] == 120);
	filter_free(flt);
	/* Summaries carry headers and sizes but not bodies. */
	struct flow *g = store_get(r, 5);
	ok(g && g->response.body.len == 18);
	flow_free(g);
	/* limit 0: only the total. */
	struct collect c5 = {0};
	ok(store_list(r, NULL, 0, 0, on_flow, &c5, &total, err, sizeof err) == 0 && c5.n == 0 &&
	   total == 120);
	store_reader_close(r);
	free(p);
}

struct sink {
	char *data;
	size_t len;
	int calls, stop_after;
};

static int on_chunk(void *arg, const char *data, size_t len)
{
	struct sink *k = arg;
	k->data = xrealloc(k->data, k->len + len + 1);
	memcpy(k->data + k->len, data, len);
	k->len += len;
	k->calls++;
	return k->stop_after && k->calls >= k->stop_after;
}

static size_t gz(const char *in, size_t len, char *out, size_t cap, int wbits)
{
	z_stream z = {0};
	deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (unsigned char *)in;
	z.avail_in = len;
	z.next_out = (unsigned char *)out;
	z.avail_out = cap;
	deflate(&z, Z_FINISH);
	size_t n = z.total_out;
	deflateEnd(&z);
	return n;
}

static struct flow *body_flow(uint64_t id, const char *enc, const char *body, size_t len,
			      int truncated)
{
	struct flow *f = mkflow(id, "body.example", 200);
	flow_buf_clear(&f->response.body);
	f->response.body_size = 0;
	if (enc)
		flow_msg_add_header(&f->response, "Content-Encoding", 16, enc, strlen(enc));
	flow_msg_add_body(&f->response, body, len, 1 << 26);
	if (truncated) {
		f->response.body_truncated = 1;
		f->response.body_size = len * 2;
	}
	return f;
}

static void test_bodies(void)
{
	char *p = new_path(), err[256];
	struct store_options o = {.body_limit = 1 << 26};
	struct store *s = store_open(p, &o, err, sizeof err);
	/* A text that compresses, long enough to span several 64 KiB chunks once decoded. */
	size_t plen = 300000;
	char *plain = xmalloc(plen);
	for (size_t i = 0; i < plen; i++)
		plain[i] = "abcdefghij klmnop\n"[i % 18] + (char)(i % 1000 == 0);
	size_t cap = plen + 1000;
	char *g = xmalloc(cap), *d = xmalloc(cap), *dz = xmalloc(cap), *b = xmalloc(cap),
	     *z = xmalloc(cap), *gb = xmalloc(cap), *bomb = xmalloc(1 << 20);
	size_t glen = gz(plain, plen, g, cap, 15 + 16);
	size_t dlen = gz(plain, plen, d, cap, -15);
	size_t dzlen = gz(plain, plen, dz, cap, 15);
	size_t blen = cap;
	BrotliEncoderCompress(5, 22, BROTLI_MODE_TEXT, plen, (const uint8_t *)plain, &blen,
			      (uint8_t *)b);
	size_t zlen = ZSTD_compress(z, cap, plain, plen, 3);
	/* "gzip, br": gzip first, then br over it. */
	size_t gblen = cap;
	BrotliEncoderCompress(5, 22, BROTLI_MODE_GENERIC, glen, (const uint8_t *)g, &gblen,
			      (uint8_t *)gb);
	/* 100 MiB of zeros in ~100 KiB of gzip. */
	char *zeros = xcalloc(1, 100 << 20);
	size_t bomblen = gz(zeros, 100 << 20, bomb, 1 << 20, 15 + 16);
	free(zeros);

	emit(s, FLOW_EV_END, body_flow(1, "gzip", g, glen, 0));
	emit(s, FLOW_EV_END, body_flow(2, "deflate", d, dlen, 0));
	emit(s, FLOW_EV_END, body_flow(3, "deflate", dz, dzlen, 0));
	emit(s, FLOW_EV_END, body_flow(4, "br", b, blen, 0));
	emit(s, FLOW_EV_END, body_flow(5, "zstd", z, zlen, 0));
	emit(s, FLOW_EV_END, body_flow(6, "gzip, br", gb, gblen, 0));
	emit(s, FLOW_EV_END, body_flow(7, "gzip", "not gzip at all", 15, 0));
	emit(s, FLOW_EV_END, body_flow(8, "gzip", bomb, bomblen, 0));
	emit(s, FLOW_EV_END, body_flow(9, "gzip", g, glen / 2, 1));  /* cut off, marked truncated */
	emit(s, FLOW_EV_END, body_flow(10, "gzip", g, glen / 2, 0)); /* cut off, not marked */
	emit(s, FLOW_EV_END, body_flow(11, "compress", "x", 1, 0));
	emit(s, FLOW_EV_END, body_flow(12, "identity", "plain", 5, 0));
	emit(s, FLOW_EV_END, body_flow(13, NULL, "", 0, 0));
	store_close(s);

	struct store_reader *r = store_reader_open(p, err, sizeof err);
	for (uint64_t id = 1; id <= 6; id++) {
		struct sink k = {0};
		int rc = store_body(r, id, 1, 1, on_chunk, &k, err, sizeof err);
		ok(rc == 0 && k.len == plen && memcmp(k.data, plain, plen) == 0);
		if (rc != 0)
			fprintf(stderr, "  flow %llu: %s\n", (unsigned long long)id, err);
		ok(k.calls >= 2); /* streamed in pieces */
		free(k.data);
	}
	struct sink k = {0};
	ok(store_body(r, 1, 1, 0, on_chunk, &k, err, sizeof err) == 0 && k.len == glen &&
	   memcmp(k.data, g, glen) == 0);
	free(k.data);
	memset(&k, 0, sizeof k);
	ok(store_body(r, 7, 1, 1, on_chunk, &k, err, sizeof err) == -1 && k.calls == 0);
	ok(strstr(err, "gzip") != NULL);
	ok(store_body(r, 8, 1, 1, on_chunk, &k, err, sizeof err) == -1 && k.calls == 0);
	ok(strstr(err, "larger") != NULL);
	ok(store_body(r, 9, 1, 1, on_chunk, &k, err, sizeof err) == 0 && k.len > 0 &&
	   memcmp(k.data, plain, k.len) == 0);
	free(k.data);
	memset(&k, 0, sizeof k);
	ok(store_body(r, 10, 1, 1, on_chunk, &k, err, sizeof err) == -1 && k.calls == 0);
	ok(store_body(r, 11, 1, 1, on_chunk, &k, err, sizeof err) == -1 && strstr(err, "compress"));
	ok(store_body(r, 12, 1, 1, on_chunk, &k, err, sizeof err) == 0 && k.len == 5);
	free(k.data);
	memset(&k, 0, sizeof k);
	ok(store_body(r, 13, 1, 1, on_chunk, &k, err, sizeof err) == 0 && k.calls == 0);
	ok(store_body(r, 13, 0, 0, on_chunk, &k, err, sizeof err) == 0 && k.calls == 0);
	ok(store_body(r, 99, 1, 0, on_chunk, &k, err, sizeof err) == -1 &&
	   strcmp(err, "no such flow") == 0);
	/* The consumer can stop early. */
	k.stop_after = 1;
	ok(store_body(r, 1, 1, 1, on_chunk, &k, err, sizeof err) == 0 && k.calls == 1);
	free(k.data);
	/* The decoded text is what body filters search. */
	struct filter *flt = filter_compile("~bs 'klmnop'", err, sizeof err);
	uint64_t total = 0;
	struct collect c = {0};
	ok(store_list(r, flt, 0, 50, on_flow, &c, &total, err, sizeof err) == 0);
	ok(total == 7); /* 1-6 and the cut-off 9; not 10 (fails, raw bytes searched) */
	filter_free(flt);
	store_reader_close(r);
	free(plain), free(g), free(d), free(dz), free(b), free(z), free(gb), free(bomb);
	free(p);
}

static void test_body_limit(void)
{
	char *p = new_path(), err[256];
	struct store_options o = {.body_limit = 10};
	struct store *s = store_open(p, &o, err, sizeof err);
	emit(s, FLOW_EV_END, body_flow(1, NULL, "0123456789abcdef", 16, 0));
	store_close(s);
	ok(q1(p, "SELECT response_truncated FROM flows WHERE id=1") == 1);
	ok(q1(p, "SELECT response_body_size FROM flows WHERE id=1") == 16);
	ok(q1(p, "SELECT length(data) FROM bodies WHERE id=3") == 10);
	free(p);
}

static void test_settings(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	store_set_setting(s, "rules", "{\"intercept\":\"~d x\"}");
	store_set_setting(s, "gone", "1");
	store_set_setting(s, "gone", NULL);
	wait_idle(s);
	struct store_reader *r = store_reader_open(p, err, sizeof err);
	char *v = store_reader_setting(r, "rules");
	ok(v && strcmp(v, "{\"intercept\":\"~d x\"}") == 0);
	free(v);
	ok(store_reader_setting(r, "gone") == NULL);
	ok(store_reader_setting(r, "never") == NULL);
	store_reader_close(r);
	store_close(s);
	free(p);
}

static volatile int hold;

static void on_slow(void *arg, enum store_change ch, const struct flow *f)
{
	(void)arg, (void)ch, (void)f;
	while (hold)
		usleep(1000);
}

static void test_queue_full(void)
{
	char *p = new_path(), err[256];
	struct store_options o = {.queue_max = 100};
	struct store *s = store_open(p, &o, err, sizeof err);
	hold = 1;
	store_set_listener(s, on_slow, NULL);
	emit(s, FLOW_EV_END, mkflow(1, "q.example", 200));
	usleep(100000); /* the writer is now stuck in the listener */
	for (uint64_t i = 2; i <= 300; i++)
		emit(s, FLOW_EV_END, mkflow(i, "q.example", 200));
	struct store_stats st;
	store_get_stats(s, &st);
	ok(st.dropped == 199 && st.queued == 101); /* 100 waiting, 1 in the writer */
	ok(st.last_error && strstr(st.last_error, "queue"));
	hold = 0;
	store_close(s);
	ok(q1(p, "SELECT count(*) FROM flows") == 101);
	free(p);
}

/* A full database: 60 pages (240 KiB) and a body just under the size that would go to a file
 * (256 KiB), so SQLite itself runs out of room. */
static void test_disk_full(void)
{
	char *p = new_path(), err[256];
	setenv("FLOWSCOPE_DB_MAX_PAGES", "60", 1);
	struct store_options o = {.body_limit = 1 << 20};
	struct store *s = store_open(p, &o, err, sizeof err);
	unsetenv("FLOWSCOPE_DB_MAX_PAGES");
	ok(s != NULL);
	char *big = xcalloc(1, 250000);
	emit(s, FLOW_EV_END, mkflow(1, "full.example", 200));
	wait_idle(s);
	emit(s, FLOW_EV_END, body_flow(2, NULL, big, 250000, 0));
	wait_idle(s);
	struct store_stats st;
	store_get_stats(s, &st);
	ok(st.dropped == 1 && st.stored == 1 && st.last_error != NULL);
	if (st.last_error)
		fprintf(stderr, "  last_error: %s\n", st.last_error);
	/* Small flows fit again: storing resumes by itself. */
	emit(s, FLOW_EV_END, mkflow(3, "full.example", 200));
	wait_idle(s);
	store_get_stats(s, &st);
	ok(st.stored == 2 && st.last_error == NULL);
	store_close(s);
	ok(q1(p, "SELECT group_concat(id) FROM flows") == 1 ||
	   q1(p, "SELECT count(*) FROM flows WHERE id IN (1,3)") == 2);
	ok(streq_free(qs(p, "PRAGMA integrity_check"), "ok"));
	free(big);
	free(p);
}

/* ---- large bodies as files beside the database ---- */

static int file_exists(const char *p, const char *name)
{
	char *f = xasprintf("%s-bodies/%s", p, name);
	struct stat st;
	int r = stat(f, &st) == 0;
	free(f);
	return r;
}

/* Body files in the store's directory (names starting with a digit). */
static int num_files(const char *p)
{
	char *d = xasprintf("%s-bodies", p);
	DIR *dp = opendir(d);
	free(d);
	int n = 0;
	for (struct dirent *de; dp && (de = readdir(dp));)
		n += de->d_name[0] >= '0' && de->d_name[0] <= '9';
	if (dp)
		closedir(dp);
	return n;
}

static void touch(const char *p, const char *name)
{
	char *f = xasprintf("%s-bodies/%s", p, name);
	FILE *fp = fopen(f, "w");
	if (fp) {
		fputs("orphan", fp);
		fclose(fp);
	}
	free(f);
}

/* Bytes that do not compress: a body stays as large once encoded. */
static char *noise(size_t len, unsigned seed)
{
	char *b = xmalloc(len);
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (char)(seed >> 16);
	}
	return b;
}

/* A version 2 store (v1 plus the trigram index), as flowscope wrote it before body files. */
static void test_migrate_v2(void)
{
	char *p = new_path(), err[256];
	ok(at_version(p, 1, v1_rows) == SQLITE_OK);
	ok(at_version(p, 2, NULL) == SQLITE_OK);
	struct store_options o = {.body_limit = 1 << 22};
	struct store *s = store_open(p, &o, err, sizeof err);
	ok(s != NULL && store_max_id(s) == 5);
	char *big = noise(400000, 2);
	emit(s, FLOW_EV_END, body_flow(6, NULL, big, 400000, 0));
	store_close(s);
	ok(q1(p, "PRAGMA user_version") == SCHEMA_VERSION);
	ok(q1(p, "SELECT ext FROM bodies WHERE id=11") == 0);
	ok(q1(p, "SELECT ext FROM bodies WHERE id=13") == 1);
	struct store_reader *r = store_reader_open(p, err, sizeof err);
	struct flow *g = store_get(r, 5);
	ok(g && g->response.body.len == 13 &&
	   memcmp(g->response.body.data, "an old needle", 13) == 0);
	flow_free(g);
	g = store_get(r, 6);
	ok(g && g->response.body.len == 400000 && memcmp(g->response.body.data, big, 400000) == 0);
	flow_free(g);
	store_reader_close(r);
	ok(count_of(p, "~bs 'old needle'") == 1);
	free(big);
	free(p);
}

/* A 1 MiB body and a content-encoded one over 300 KiB: kept as files, read back byte for
 * byte through store_get and store_body, searched by the body filters, skipped by the
 * indexer, removed with a rewrite, a delete and a clear. Small bodies stay in SQLite. */
static void test_body_files(void)
{
	char *p = new_path(), err[256];
	struct store_options o = {.body_limit = 1 << 22};
	struct store *s = store_open(p, &o, err, sizeof err);
	size_t blen = 1 << 20;
	char *big = noise(blen, 1);
	memcpy(big + 700000, "needle-in-a-file", 16);
	/* hex text compresses to about half: over 300 KiB stored, more decoded */
	size_t plen = 720000, cap = plen + 1000;
	char *plain = xmalloc(plen), *g = xmalloc(cap);
	char *hex = noise(plen, 3);
	for (size_t i = 0; i < plen; i++)
		plain[i] = "0123456789abcdef"[(unsigned char)hex[i] & 15];
	free(hex);
	memcpy(plain + 500000, "gz-needle-xyz", 13);
	size_t glen = gz(plain, plen, g, cap, 15 + 16);
	ok(glen > 300 * 1024);
	emit(s, FLOW_EV_END, body_flow(1, NULL, big, blen, 0));
	emit(s, FLOW_EV_END, body_flow(2, "gzip", g, glen, 0));
	emit(s, FLOW_EV_END, mkflow(3, "small.example", 200));
	wait_idle(s);

	/* where the bytes are */
	ok(file_exists(p, "3") && !file_exists(p, "3.text"));
	ok(file_exists(p, "5") && file_exists(p, "5.text"));
	ok(!file_exists(p, "7") && num_files(p) == 3);
	ok(q1(p, "SELECT ext*10+length(data) FROM bodies WHERE id=3") == 10);
	ok(q1(p, "SELECT ext*10+length(data)+(text IS NULL) FROM bodies WHERE id=5") == 31);
	ok(q1(p, "SELECT ext*1000000+length(data) FROM bodies WHERE id=7") == 18);
	ok(q1(p, "SELECT size FROM bodies WHERE id=3") == (long long)blen);

	/* store_get and store_body give the same bytes */
	struct store_reader *r = store_reader_open(p, err, sizeof err);
	struct flow *f = store_get(r, 1);
	ok(f && f->response.body.len == blen && memcmp(f->response.body.data, big, blen) == 0);
	ok(f && !f->response.body_truncated);
	flow_free(f);
	f = store_get(r, 2);
	ok(f && f->response.body.len == glen && memcmp(f->response.body.data, g, glen) == 0);
	flow_free(f);
	struct sink k = {0};
	ok(store_body(r, 1, 1, 0, on_chunk, &k, err, sizeof err) == 0);
	ok(k.len == blen && memcmp(k.data, big, blen) == 0 && k.calls >= 2); /* in pieces */
	free(k.data);
	memset(&k, 0, sizeof k);
	ok(store_body(r, 2, 1, 0, on_chunk, &k, err, sizeof err) == 0);
	ok(k.len == glen && memcmp(k.data, g, glen) == 0);
	free(k.data);
	memset(&k, 0, sizeof k);
	ok(store_body(r, 2, 1, 1, on_chunk, &k, err, sizeof err) == 0);
	ok(k.len == plen && memcmp(k.data, plain, plen) == 0);
	free(k.data);
	memset(&k, 0, sizeof k);
	k.stop_after = 1; /* the consumer can stop early */
	ok(store_body(r, 1, 1, 0, on_chunk, &k, err, sizeof err) == 0 && k.calls == 1);
	free(k.data);
	store_reader_close(r);

	/* the body filters search the files: raw bytes, and the decoded text of flow 2 */
	ok(count_of(p, "~bs needle-in-a-file") == 1);
	ok(count_of(p, "~bs 'needle-in-a-f.le'") == 1);
	ok(count_of(p, "~bs 'gz-needle-x'") == 1);
	ok(count_of(p, "~b gz-needle & ~d body.example") == 1);
	ok(count_of(p, "~bq needle-in-a-file") == 0); /* requests have no body */
	ok(count_of(p, "~bs hello") == 1);	      /* the small one, in SQLite */

	/* the indexer lists the file bodies as checked, never indexes them */
	for (int i = 0; i < 500 && q1(p, "SELECT n FROM counts WHERE k=2") < 7; i++)
		usleep(10000);
	ok(q1(p, "SELECT count(*) FROM unindexed WHERE checked=1 AND id IN (3,5)") == 2);
	ok(q1(p, "SELECT count(*) FROM body_fts WHERE rowid IN (3,5)") == 0);
	ok(q1(p, "SELECT count(*) FROM body_fts WHERE rowid=7") == 1);

	/* a large body rewritten with a small one: its file goes */
	struct flow *small = body_flow(1, NULL, "tiny", 4, 0);
	emit(s, FLOW_EV_END, small);
	wait_idle(s);
	ok(!file_exists(p, "3"));
	ok(streq_free(qs(p, "SELECT data FROM bodies WHERE id=3"), "tiny"));
	ok(q1(p, "SELECT ext FROM bodies WHERE id=3") == 0);
	ok(count_of(p, "~bs needle-in-a-file") == 0);
	/* a large body rewritten with another large one: one file, the new bytes */
	big[0] ^= 1;
	emit(s, FLOW_EV_END, body_flow(1, NULL, big, blen, 0));
	wait_idle(s);
	ok(file_exists(p, "3") && num_files(p) == 3);
	r = store_reader_open(p, err, sizeof err);
	f = store_get(r, 1);
	ok(f && f->response.body.len == blen && memcmp(f->response.body.data, big, blen) == 0);
	flow_free(f);
	store_reader_close(r);

	/* delete: both files of flow 2 go; the others stay */
	store_delete(s, 2);
	wait_idle(s);
	ok(!file_exists(p, "5") && !file_exists(p, "5.text") && file_exists(p, "3"));
	/* clear: every file goes */
	emit(s, FLOW_EV_END, body_flow(4, NULL, big, blen, 0));
	wait_idle(s);
	ok(file_exists(p, "9"));
	store_clear(s);
	wait_idle(s);
	ok(num_files(p) == 0);
	/* flows after the clear get files again */
	emit(s, FLOW_EV_END, body_flow(20, NULL, big, blen, 0));
	wait_idle(s);
	ok(file_exists(p, "41") && num_files(p) == 1);
	store_close(s);
	ok(streq_free(qs(p, "PRAGMA integrity_check"), "ok"));
	free(big), free(plain), free(g);
	free(p);
}

/* A store at p holding flow 1 with a 300000-byte response body of noise(seed), in its file
 * "3". Returns the body (caller frees). */
static char *one_big_body(const char *p, unsigned seed)
{
	char err[256];
	struct store_options o = {.body_limit = 1 << 22};
	struct store *s = store_open(p, &o, err, sizeof err);
	char *big = noise(300000, seed);
	emit(s, FLOW_EV_END, body_flow(1, NULL, big, 300000, 0));
	store_close(s);
	return big;
}

/* Files no row refers to (a rolled-back batch, a crash mid-write) are swept at open; files
 * that rows refer to, and names that are not body files, stay. */
static void test_body_file_orphans(void)
{
	char *p = new_path(), err[256];
	struct store_options o = {.body_limit = 1 << 22};
	char *big = one_big_body(p, 4);
	ok(file_exists(p, "3"));
	touch(p, "99");
	touch(p, "3.text"); /* flow 1's body has no text: not referenced */
	touch(p, "41.text");
	touch(p, "5.tmp");
	touch(p, "keep-me");
	struct store *s = store_open(p, &o, err, sizeof err);
	ok(s != NULL);
	ok(file_exists(p, "3") && file_exists(p, "keep-me"));
	ok(!file_exists(p, "99") && !file_exists(p, "3.text") && !file_exists(p, "41.text"));
	ok(!file_exists(p, "5.tmp") && num_files(p) == 1);
	store_close(s);
	free(big);
	free(p);
}

/* A body file gone missing: the flow still reads, its body empty and truncated; filters and
 * streaming do not fail. */
static void test_body_file_missing(void)
{
	char *p = new_path(), err[256];
	char *big = one_big_body(p, 5);
	char *f3 = xasprintf("%s-bodies/3", p);
	ok(unlink(f3) == 0);
	free(f3);
	struct store_reader *r = store_reader_open(p, err, sizeof err);
	struct flow *f = store_get(r, 1);
	ok(f && f->response.body.len == 0 && f->response.body_truncated);
	ok(f && f->response.body_size == 300000);
	flow_free(f);
	struct sink k = {0};
	ok(store_body(r, 1, 1, 0, on_chunk, &k, err, sizeof err) == 0 && k.calls == 0);
	ok(store_body(r, 1, 1, 1, on_chunk, &k, err, sizeof err) == 0 && k.calls == 0);
	store_reader_close(r);
	ok(count_of(p, "~bs x") == 0);
	ok(count_of(p, "~d body.example") == 1);
	free(big);
	free(p);
}

/* A body file that cannot be written (FLOWSCOPE_DB_MAX_FILE_BYTES stands in for a full disk)
 * never loses the flow: the body is kept in SQLite when it fits there, else stored empty and
 * marked truncated. */
static void test_body_file_write_fails(void)
{
	char *p = new_path(), err[256];
	struct store_options o = {.body_limit = 1 << 22};
	setenv("FLOWSCOPE_DB_MAX_FILE_BYTES", "1", 1);
	struct store *s = store_open(p, &o, err, sizeof err);
	char *big = noise(1 << 20, 6);
	emit(s, FLOW_EV_END, body_flow(1, NULL, big, 1 << 20, 0));
	wait_idle(s);
	struct store_stats st;
	store_get_stats(s, &st);
	ok(st.stored == 1 && st.dropped == 0);
	store_close(s);
	ok(num_files(p) == 0);
	ok(q1(p, "SELECT ext*10000000+length(data) FROM bodies WHERE id=3") == 1 << 20);
	struct store_reader *r = store_reader_open(p, err, sizeof err);
	struct flow *f = store_get(r, 1);
	ok(f && f->response.body.len == 1 << 20 &&
	   memcmp(f->response.body.data, big, 1 << 20) == 0);
	flow_free(f);
	store_reader_close(r);

	/* No room in the database either: the flow is kept, its body empty and truncated. */
	char *p2 = new_path();
	setenv("FLOWSCOPE_DB_MAX_PAGES", "60", 1);
	s = store_open(p2, &o, err, sizeof err);
	unsetenv("FLOWSCOPE_DB_MAX_PAGES");
	unsetenv("FLOWSCOPE_DB_MAX_FILE_BYTES");
	struct rec rec = {0};
	store_set_listener(s, on_change, &rec);
	emit(s, FLOW_EV_END, body_flow(1, NULL, big, 1 << 20, 0));
	emit(s, FLOW_EV_END, mkflow(2, "after.example", 200));
	wait_idle(s);
	store_get_stats(s, &st);
	ok(st.stored == 2 && st.dropped == 0 && st.last_error == NULL);
	/* the listener hears the summary as stored: that body is cut */
	ok(rec.n >= 1 && rec.id[0] == 1 && rec.truncated[0] == 1);
	store_close(s);
	ok(q1(p2, "SELECT count(*) FROM flows") == 2);
	ok(q1(p2, "SELECT response_truncated*10+response_body_size FROM flows WHERE id=1") ==
	   10 + (1 << 20));
	ok(q1(p2, "SELECT length(data)*10+truncated FROM bodies WHERE id=3") == 1);
	ok(streq_free(qs(p2, "PRAGMA integrity_check"), "ok"));
	free(p2);
	free(big);
	free(p);
}

/* Pages of the file name in dir that are in the page cache. */
static size_t cached_pages(const char *dir, const char *name)
{
	char *f = xasprintf("%s/%s", dir, name);
	int fd = open(f, O_RDONLY);
	free(f);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0)
		return fd >= 0 ? (close(fd), 0) : (size_t)-1;
	size_t pages = ((size_t)st.st_size + 4095) / 4096, n = 0;
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	unsigned char *vec = xmalloc(pages);
	if (map != MAP_FAILED && mincore(map, (size_t)st.st_size, vec) == 0)
		for (size_t i = 0; i < pages; i++)
			n += vec[i] & 1;
	if (map != MAP_FAILED)
		munmap(map, (size_t)st.st_size);
	free(vec);
	close(fd);
	return n;
}

/* A body that starts on a page boundary goes to its file past the page cache, all but its
 * last partial page, where the filesystem has direct I/O; any other goes through the cache.
 * Each reads back exact. */
static void test_body_file_direct(void)
{
	char *p = new_path(), *bdir = bodyfile_dir(p);
	size_t len = (1 << 20) + 123;
	char *src = noise(len + 1, 9), *al = xmalloc_aligned(4096, len + 1);
	memcpy(al, src, len + 1);
	ok(bodyfile_write(bdir, 1, BODYFILE_DATA, al, len) == 0);	   /* direct, then tail */
	ok(bodyfile_write(bdir, 2, BODYFILE_DATA, al, 1 << 20) == 0);	   /* direct only */
	ok(bodyfile_write(bdir, 3, BODYFILE_DATA, al + 1, len) == 0);	   /* not aligned */
	ok(bodyfile_write(bdir, 4, BODYFILE_TEXT, al, 3 * 4096 + 5) == 0); /* too small */

	/* Does this filesystem honour O_DIRECT? (tmpfs refuses it; ext4 with data=journal takes
	 * it and still goes through the cache.) */
	char *probe = xasprintf("%s/probe", bdir);
	int fd = open(probe, O_WRONLY | O_CREAT | O_DIRECT, 0600);
	int direct_io = fd >= 0 && write(fd, al, 4096) == 4096;
	if (fd >= 0)
		close(fd);
	direct_io = direct_io && cached_pages(bdir, "probe") == 0;
	unlink(probe);
	free(probe);
	if (direct_io) {
		ok(cached_pages(bdir, "1") == 1); /* the tail page */
		ok(cached_pages(bdir, "2") == 0);
		ok(cached_pages(bdir, "3") == 257);
		ok(cached_pages(bdir, "4.text") == 4);
	} else {
		fprintf(stderr, "# %s has no direct I/O: every body goes through the cache\n",
			bdir);
	}

	struct {
		uint64_t id;
		enum bodyfile_kind kind;
		const char *want;
		size_t len;
	} back[] = {{1, BODYFILE_DATA, src, len},
		    {2, BODYFILE_DATA, src, 1 << 20},
		    {3, BODYFILE_DATA, src + 1, len},
		    {4, BODYFILE_TEXT, src, 3 * 4096 + 5}};
	for (size_t i = 0; i < sizeof back / sizeof back[0]; i++) {
		char *got = NULL;
		size_t got_len = 0;
		ok(bodyfile_read(bdir, back[i].id, back[i].kind, &got, &got_len) == 0 &&
		   got_len == back[i].len && memcmp(got, back[i].want, got_len) == 0);
		free(got);
	}
	free(src), free(al), free(bdir), free(p);
}

static void test_locked(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	sqlite3 *db;
	sqlite3_open(p, &db);
	/* a new store's writer starts by indexing (a short write transaction): wait it out */
	sqlite3_busy_timeout(db, 5000);
	ok(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
	emit(s, FLOW_EV_END, mkflow(1, "lock.example", 200));
	struct store_stats st;
	for (int i = 0; i < 1000; i++) { /* the busy timeout is 2 s */
		store_get_stats(s, &st);
		if (st.dropped)
			break;
		usleep(10000);
	}
	ok(st.dropped == 1 && st.last_error && strstr(st.last_error, "locked"));
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	emit(s, FLOW_EV_END, mkflow(2, "lock.example", 200));
	wait_idle(s);
	store_get_stats(s, &st);
	ok(st.stored == 1 && st.last_error == NULL);
	store_close(s);
	ok(q1(p, "SELECT count(*) FROM flows") == 1);
	free(p);
}

static void test_read_only(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	emit(s, FLOW_EV_END, mkflow(1, "ro.example", 200));
	store_close(s);
	char *cmd = xasprintf("chattr +i %s 2>/dev/null", p);
	if (system(cmd) != 0) {
		fprintf(stderr, "  chattr not available: read-only case skipped\n");
		free(cmd);
		free(p);
		return;
	}
	free(cmd);
	s = store_open(p, NULL, err, sizeof err);
	ok(s != NULL);		  /* opens degraded, keeps accepting flows */
	ok(store_max_id(s) == 1); /* read through a read-only connection */
	emit(s, FLOW_EV_END, mkflow(2, "ro.example", 200));
	wait_idle(s);
	struct store_stats st;
	store_get_stats(s, &st);
	ok(st.dropped == 1 && st.stored == 0 && st.last_error != NULL);
	if (st.last_error)
		fprintf(stderr, "  last_error: %s\n", st.last_error);
	cmd = xasprintf("chattr -i %s", p);
	ok(system(cmd) == 0);
	free(cmd);
	usleep(1100000); /* the writer retries opening at most once a second */
	emit(s, FLOW_EV_END, mkflow(3, "ro.example", 200));
	wait_idle(s);
	store_get_stats(s, &st);
	ok(st.stored == 1 && st.last_error == NULL);
	store_close(s);
	ok(q1(p, "SELECT group_concat(id, ',') = '1,3' FROM flows") == 1);
	free(p);
}

static const struct {
	const char *name;
	void (*fn)(void);
} subtests[] = {
    {"schema", test_schema},
    {"migrate", test_migrate},
    {"reindex", test_reindex},
    {"index_trickle", test_index_trickle},
    {"begin_end", test_begin_end},
    {"exact_bytes", test_exact_bytes},
    {"tls_tunnel_fields", test_tls_tunnel_fields},
    {"batching", test_batching},
    {"delete_clear_listener", test_delete_clear_listener},
    {"exists", test_exists},
    {"write_marks", test_write_marks},
    {"unfinished", test_unfinished},
    {"gone", test_gone},
    {"gone_many", test_gone_many},
    {"list", test_list},
    {"bodies", test_bodies},
    {"body_limit", test_body_limit},
    {"settings", test_settings},
    {"queue_full", test_queue_full},
    {"disk_full", test_disk_full},
    {"migrate_v2", test_migrate_v2},
    {"body_files", test_body_files},
    {"body_file_orphans", test_body_file_orphans},
    {"body_file_missing", test_body_file_missing},
    {"body_file_write_fails", test_body_file_write_fails},
    {"body_file_direct", test_body_file_direct},
    {"locked", test_locked},
    {"read_only", test_read_only},
};

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_store.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	log_set_level(LOG_ERROR + 1);
	for (size_t i = 0; i < sizeof subtests / sizeof subtests[0]; i++)
		subtest(subtests[i].name, subtests[i].fn);
	char *cmd = xasprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
	free(cmd);
	return harness_done();
}
