/* SPDX-License-Identifier: MIT */
/* test_positions.c - store_list_at(): the rows at any position of a list, all flows and
 * filtered, checked against store_list() walked page by page; and the index kept right while
 * flows are added above it, deleted below it, and the store is cleared. */
#include "harness.h"
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct flow *mkflow(uint64_t id)
{
	struct flow *f = flow_new();
	f->id = id;
	f->kind = FLOW_HTTP;
	f->state = FLOW_DONE;
	f->scheme = xstrdup("http");
	f->host = xstrdup(id % 3 == 0 ? "three.example" : "other.example");
	f->port = 80;
	f->path = xstrdup("/");
	f->request.present = 1;
	f->request.method = xstrdup("GET");
	f->request.target = xstrdup("/");
	f->response.present = 1;
	f->response.status = 200;
	return f;
}

static void add(struct store *s, uint64_t from, uint64_t to)
{
	struct flow_sink sink = store_sink(s);
	for (uint64_t id = from; id <= to; id++)
		sink.emit(sink.arg, FLOW_EV_END, mkflow(id));
}

static void wait_done(struct store *s)
{
	uint64_t mark = store_write_mark(s);
	while (store_done_mark(s) < mark)
		usleep(1000);
}

struct ids {
	uint64_t v[20000];
	size_t n;
};

static void on_id(void *arg, const struct flow *f)
{
	struct ids *ids = arg;
	if (ids->n < sizeof ids->v / sizeof ids->v[0])
		ids->v[ids->n++] = f->id;
}

/* The whole list, newest first, as store_list() pages it. */
static void whole(struct store_reader *r, const struct filter *flt, struct ids *out)
{
	char err[256];
	out->n = 0;
	uint64_t before = 0;
	for (;;) {
		size_t had = out->n;
		store_list(r, flt, before, 500, on_id, out, NULL, err, sizeof err);
		if (out->n == had)
			break;
		before = out->v[out->n - 1];
	}
}

/* Every position (stepped) of the list gives the rows store_list() has there. */
static int agrees(struct store_reader *r, const char *key, const struct ids *want)
{
	char err[256];
	struct filter *flt = key ? filter_compile(key, err, sizeof err) : NULL;
	int good = 1;
	static struct ids got;
	for (uint64_t p = 0; p < want->n + 2; p += 37) {
		uint64_t total = 0;
		got.n = 0;
		if (store_list_at(r, flt, key, p, 10, on_id, &got, &total, err, sizeof err) != 0 ||
		    total != want->n)
			good = 0;
		size_t expect = p >= want->n ? 0 : want->n - p < 10 ? want->n - p : 10;
		if (got.n != expect)
			good = 0;
		for (size_t i = 0; good && i < got.n; i++)
			good = got.v[i] == want->v[p + i];
		if (!good) {
			fprintf(stderr, "  %s: position %llu: %zu rows, total %llu\n",
				key ? key : "all", (unsigned long long)p, got.n,
				(unsigned long long)total);
			break;
		}
	}
	filter_free(flt);
	return good;
}

static char path[256];

static void check(struct store_reader *r)
{
	char err[256];
	static struct ids all, three;
	struct filter *flt = filter_compile("~d three", err, sizeof err);
	whole(r, NULL, &all);
	whole(r, flt, &three);
	ok(agrees(r, NULL, &all));
	ok(agrees(r, "~d three", &three));
	filter_free(flt);
}

static void test_positions(void)
{
	char err[256];
	struct store *s = store_open(path, NULL, err, sizeof err);
	ok(s != NULL);
	add(s, 1, 3000);
	wait_done(s);
	struct store_reader *r = store_reader_open(path, err, sizeof err);
	ok(r != NULL);
	check(r);
	add(s, 3001, 3500); /* above the indexes: they are extended */
	wait_done(s);
	check(r);
	for (uint64_t id = 10; id < 2000; id += 7) /* below: built again */
		store_delete(s, id);
	wait_done(s);
	check(r);
	store_clear(s);
	wait_done(s);
	check(r);
	add(s, 5000, 5300);
	wait_done(s);
	check(r);
	store_reader_close(r);
	store_close(s);
}

int main(void)
{
	char dir[] = "/tmp/test_positions.XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof path, "%s/flows.db", dir);
	log_set_level(LOG_ERROR + 1);
	subtest("positions", test_positions);
	char *cmd = xasprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
	free(cmd);
	return harness_done();
}
