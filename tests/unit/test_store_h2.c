/* SPDX-License-Identifier: MIT */
/* test_store_h2.c - what the store keeps of an HTTP/2 flow: the stream id written and read
 * back (store_get), 0 for a flow without one, and a store made before the stream id existed
 * (the version before, with a row) opened and migrated, its row reading 0. */
#include "harness.h"
#include "schema.h"
#include "store.h"

#include "util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static struct flow *mkflow(uint64_t id, uint32_t stream_id)
{
	struct flow *f = flow_new();
	f->id = id;
	f->kind = FLOW_HTTP;
	f->state = FLOW_DONE;
	f->scheme = xstrdup("https");
	f->host = xstrdup("h2.example");
	f->port = 443;
	f->path = xstrdup("/");
	f->stream_id = stream_id;
	f->request.present = 1;
	f->request.version = 20;
	f->request.method = xstrdup("GET");
	f->request.target = xstrdup("/");
	f->response.present = 1;
	f->response.version = 20;
	f->response.status = 200;
	return f;
}

/* The flow id once the reader sees it (the writer batches), or NULL after 5 s. */
static struct flow *get(const char *p, uint64_t id)
{
	char err[256];
	struct store_reader *r = store_reader_open(p, err, sizeof err);
	struct flow *f = NULL;
	for (int i = 0; r && i < 500 && !(f = store_get(r, id)); i++)
		usleep(10000);
	store_reader_close(r);
	return f;
}

static void test_stream_id(void)
{
	char *p = xasprintf("%s/s.db", dir), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	ok(s != NULL);
	struct flow_sink sink = store_sink(s);
	sink.emit(sink.arg, FLOW_EV_END, mkflow(1, 7));
	sink.emit(sink.arg, FLOW_EV_END, mkflow(2, 0));
	struct flow *a = get(p, 1), *b = get(p, 2);
	ok(a && a->stream_id == 7 && a->request.version == 20);
	ok(b && b->stream_id == 0);
	flow_free(a);
	flow_free(b);
	store_close(s);
	free(p);
}

static void test_migrated(void)
{
	char *p = xasprintf("%s/m.db", dir), err[256];
	sqlite3 *db;
	ok(sqlite3_open(p, &db) == SQLITE_OK);
	/* the version before stream ids (8), with a flow of its time */
	ok(schema_migrate(db, 7, err, sizeof err) == SQLITE_OK);
	ok(sqlite3_exec(db,
			"INSERT INTO flows(id,kind,state,host,port,url) VALUES"
			" (3,'http','done','old.example',443,'https://old.example/');",
			NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	struct store *s = store_open(p, NULL, err, sizeof err);
	ok(s != NULL);
	struct flow_sink sink = store_sink(s);
	sink.emit(sink.arg, FLOW_EV_END, mkflow(4, 5));
	struct flow *old = get(p, 3), *f = get(p, 4);
	ok(old && old->stream_id == 0);
	ok(f && f->stream_id == 5);
	flow_free(old);
	flow_free(f);
	store_close(s);
	free(p);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_store_h2.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	subtest("stream id", test_stream_id);
	subtest("migrated", test_migrated);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
	return harness_done();
}
