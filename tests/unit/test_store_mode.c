/* SPDX-License-Identifier: MIT */
/* test_store_mode.c - the listener a flow came through (struct flow's mode) in the store: the
 * migration that adds its column to an older store (old rows have none), the round trip
 * through a save and a read, ~mode in SQL and in memory agreeing, and HAR's _flowscope.mode
 * out and back in. store_close() commits what is queued: the checks read after it. */
#include "har.h"
#include "harness.h"
#include "schema.h"
#include "store.h"

#include "filter.h"
#include "util.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The schema main had before the mode column: stores out there are at this version. */
enum { BEFORE_MODE = 5 };

static char dir[] = "/tmp/test_store_mode.XXXXXX";
static int dbn;

static char *new_path(void)
{
	return xasprintf("%s/t%d.db", dir, ++dbn);
}

static struct flow *mkflow(uint64_t id, const char *mode)
{
	struct flow *f = flow_new();
	f->id = id;
	f->kind = FLOW_HTTP;
	f->state = FLOW_DONE;
	f->scheme = xstrdup("http");
	f->host = xstrdup("example.test");
	f->port = 80;
	f->path = xstrdup("/");
	snprintf(f->client_addr, sizeof f->client_addr, "127.0.0.1:5000");
	f->request.present = 1;
	f->request.version = 11;
	f->request.method = xstrdup("GET");
	f->request.target = xstrdup("/");
	f->t.start = 1700000000000000 + (int64_t)id;
	f->t.end = f->t.start + 1000;
	f->response.present = 1;
	f->response.version = 11;
	f->response.status = 200;
	f->response.reason = xstrdup("OK");
	flow_set_str(&f->mode, mode);
	return f;
}

static void on_id(void *arg, const struct flow *f)
{
	(void)f;
	(*(int *)arg)++;
}

/* How many flows of the store at p match expr, by SQL (store_list) */
static int count_sql(const char *p, const char *expr)
{
	char err[256];
	struct store_reader *r = store_reader_open(p, err, sizeof err);
	struct filter *flt = filter_compile(expr, err, sizeof err);
	int n = 0;
	uint64_t total = 0;
	if (!r || !flt || store_list(r, flt, 0, 100, on_id, &n, &total, err, sizeof err) != 0)
		fprintf(stderr, "  %s: %s\n", expr, err);
	filter_free(flt);
	store_reader_close(r);
	return (int)total;
}

/* A store made by the flowscope before this column, with one flow in it. */
static char *old_store(void)
{
	char *p = new_path(), err[256] = "";
	sqlite3 *db;
	sqlite3_open(p, &db);
	int rc = schema_migrate(db, BEFORE_MODE, err, sizeof err);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(
		    db,
		    "INSERT INTO flows(id,kind,state,host,port,url,resp_present,status)"
		    " VALUES (1,'http','done','old.test',80,'http://old.test/',1,200);"
		    "INSERT INTO hosts VALUES ('old.test');",
		    NULL, NULL, NULL);
	ok(rc == SQLITE_OK);
	sqlite3_close(db);
	return p;
}

static struct store *open_store(const char *p)
{
	char err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	if (!s)
		fprintf(stderr, "  open %s: %s\n", p, err);
	return s;
}

static void test_migrate(void)
{
	char *p = old_store();
	struct store *s = open_store(p);
	ok(s != NULL);
	struct flow_sink sink = store_sink(s);
	sink.emit(sink.arg, FLOW_EV_END, mkflow(2, "socks5@127.0.0.1:1080"));
	store_close(s);
	char err[256];
	struct store_reader *r = store_reader_open(p, err, sizeof err);
	struct flow *old = store_get(r, 1), *f2 = store_get(r, 2);
	ok(old != NULL && old->mode == NULL); /* recorded before there were listeners to name */
	ok(f2 != NULL && f2->mode && strcmp(f2->mode, "socks5@127.0.0.1:1080") == 0);
	flow_free(old);
	flow_free(f2);
	store_reader_close(r);
	ok(count_sql(p, "~mode .") == 1);
	ok(count_sql(p, "!~mode .") == 1);
	free(p);
}

static const char *const modes[] = {
    "regular@127.0.0.1:8080",
    "reverse:https://example:8443@0.0.0.0:8082",
    "upstream:http://proxy.test:3128@[::1]:8083",
    "transparent@0.0.0.0:8084",
    NULL,
};
#define NUM_MODES (sizeof modes / sizeof modes[0])

/* SQL and filter_match agree on ~mode over flows of every listener (and none). */
static void test_filter(void)
{
	char *p = new_path();
	struct store *s = open_store(p);
	struct flow_sink sink = store_sink(s);
	struct flow *mem[NUM_MODES];
	for (size_t i = 0; i < NUM_MODES; i++) {
		mem[i] = mkflow(i + 1, modes[i]);
		sink.emit(sink.arg, FLOW_EV_END, flow_dup(mem[i]));
	}
	store_close(s);
	static const struct {
		const char *expr;
		int want;
	} probes[] = {
	    {"~mode .", 4},
	    {"~mode ^regular@", 1},
	    {"~mode '^reverse:https://example:8443@'", 1},
	    {"~mode '@.::1.:8083$'", 1},
	    {"~mode '^(transparent|upstream)'", 2},
	    {"~mode 0\\.0\\.0\\.0", 2},
	    {"!~mode socks5", 5},
	    {"~mode regular | ~mode transparent", 2},
	};
	char err[256];
	for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
		struct filter *flt = filter_compile(probes[i].expr, err, sizeof err);
		int in_memory = 0;
		for (size_t k = 0; flt && k < NUM_MODES; k++)
			in_memory += filter_match(flt, mem[k]);
		int by_sql = count_sql(p, probes[i].expr);
		ok(flt != NULL && in_memory == probes[i].want && by_sql == probes[i].want);
		if (in_memory != probes[i].want || by_sql != probes[i].want)
			fprintf(stderr, "  %s: memory %d, sql %d, want %d\n", probes[i].expr,
				in_memory, by_sql, probes[i].want);
		filter_free(flt);
	}
	for (size_t k = 0; k < NUM_MODES; k++)
		flow_free(mem[k]);
	free(p);
}

static int on_write(void *arg, const char *data, size_t len)
{
	flow_buf_append(arg, data, len);
	return 0;
}

/* Exports the store at p as HAR into out. */
static int export_to(const char *p, struct flow_buf *out)
{
	char err[256];
	struct store_reader *r = store_reader_open(p, err, sizeof err);
	int rc = r ? har_export(r, NULL, on_write, out, err, sizeof err) : -1;
	store_reader_close(r);
	return rc;
}

/* _flowscope.mode goes out with each flow that has one and comes back in on import; a mode
 * that is not one word is not taken. */
static void test_har(void)
{
	char *p = new_path();
	struct store *s = open_store(p);
	struct flow_sink sink = store_sink(s);
	sink.emit(sink.arg, FLOW_EV_END, mkflow(1, modes[1]));
	sink.emit(sink.arg, FLOW_EV_END, mkflow(2, NULL));
	store_close(s);
	struct flow_buf har = {0};
	ok(export_to(p, &har) == 0);
	json_t *doc = json_loadb(har.data, har.len, 0, NULL);
	json_t *entries = json_object_get(json_object_get(doc, "log"), "entries");
	ok(json_array_size(entries) == 2);
	json_t *e0 = json_object_get(json_array_get(entries, 0), "_flowscope");
	json_t *e1 = json_object_get(json_array_get(entries, 1), "_flowscope");
	ok(json_is_string(json_object_get(e0, "mode")) &&
	   strcmp(json_string_value(json_object_get(e0, "mode")), modes[1]) == 0);
	ok(json_object_get(e1, "mode") == NULL);
	/* a bad mode in an imported file: the entry is kept, the mode is not */
	json_object_set_new(e1, "mode", json_string("two words@h:1"));
	char *text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);

	char *q = new_path(), err[256];
	s = open_store(q);
	long n = har_import(text, strlen(text), store_sink(s), NULL, err, sizeof err);
	ok(n == 2);
	store_close(s);
	ok(count_sql(q, "~mode '^reverse:https://example:8443@0\\.0\\.0\\.0:8082$'") == 1);
	ok(count_sql(q, "~mode .") == 1);
	free(text);
	flow_buf_clear(&har);
	free(p);
	free(q);
}

static int rm_dir(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	int rc = system(cmd);
	free(cmd);
	return rc;
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	subtest("migrate", test_migrate);
	subtest("filter", test_filter);
	subtest("har", test_har);
	rm_dir();
	return harness_done();
}
