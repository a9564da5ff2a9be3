/* SPDX-License-Identifier: MIT */
/* store_fixture.h - what the store's unit tests (test_store*.c) share: a temporary folder per
 * run with a fresh database path per test, a flow to store (mkflow, body_flow), one-value
 * queries straight on the file (q1, qs), events into the store's sink (emit), a listener that
 * records its notices (struct rec, on_change), waiting for an idle writer (wait_idle), and
 * store_fixture_run() for main(). Include it (it includes harness.h) from each of those files,
 * first. */
#ifndef STORE_FIXTURE_H
#define STORE_FIXTURE_H

#include "harness.h"
#include "store.h"
#include "util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static int dbn;

static inline char *new_path(void)
{
	return xasprintf("%s/t%d.db", dir, ++dbn);
}

static inline struct flow *mkflow(uint64_t id, const char *host, int status)
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

static inline long long q1(const char *path, const char *sql)
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

static inline char *qs(const char *path, const char *sql)
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

static inline int streq_free(char *got, const char *want)
{
	int r = got && strcmp(got, want) == 0;
	if (!r)
		fprintf(stderr, "  got '%s', want '%s'\n", got ? got : "(null)", want);
	free(got);
	return r;
}

static inline void emit(struct store *s, enum flow_event ev, struct flow *f)
{
	struct flow_sink sink = store_sink(s);
	sink.emit(sink.arg, ev, f);
}

static inline void on_id(void *arg, const struct flow *f)
{
	*(uint64_t *)arg = f->id;
}

static inline uint64_t count_of(const char *p, const char *expr)
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

struct collect {
	uint64_t ids[200];
	int n;
};

static inline void on_flow(void *arg, const struct flow *f)
{
	struct collect *c = arg;
	if (c->n < 200)
		c->ids[c->n++] = f->id;
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

static inline void on_change(void *arg, enum store_change ch, const struct flow *f)
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

/* Waits (<= 30 s) until the writer is done with every event queued so far: committed, the
 * listener told, or dropped and counted (store_write_mark(), store_done_mark()). */
static inline void wait_idle(struct store *s)
{
	uint64_t m = store_write_mark(s);
	for (int i = 0; i < 30000 && store_done_mark(s) < m; i++)
		usleep(1000);
}

/* Bytes that do not compress: a body stays as large once encoded. */
static inline char *noise(size_t len, unsigned seed)
{
	char *b = xmalloc(len);
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (char)(seed >> 16);
	}
	return b;
}

static inline struct flow *body_flow(uint64_t id, const char *enc, const char *body, size_t len,
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

struct store_subtest {
	const char *name;
	void (*fn)(void);
};

/* Runs each of the n subtests with dir a fresh temporary folder (removed afterwards), the
 * store's log quiet; returns main()'s exit status (harness_done()). */
static inline int store_fixture_run(const struct store_subtest *t, size_t n)
{
	snprintf(dir, sizeof dir, "/tmp/test_store.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	log_set_level(LOG_ERROR + 1);
	for (size_t i = 0; i < n; i++)
		subtest(t[i].name, t[i].fn);
	char *cmd = xasprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
	free(cmd);
	return harness_done();
}

#endif
