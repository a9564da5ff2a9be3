/* SPDX-License-Identifier: MIT */
/* test_store_edit.c - a captured flow edited where it stands, through store.h: store_edit()
 * writes the edit over the stored flow and keeps the first edit's original (store_original()
 * reads it back, headers and bodies byte for byte), a later edit leaves it, a revert forgets
 * it, a delete or a clear takes it along, and an edit of a flow deleted meanwhile does not
 * bring the flow back. */
#include "store.h"

#include "harness.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[] = "/tmp/test_store_edit_XXXXXX";

static void settle(struct store *s)
{
	uint64_t m = store_write_mark(s);
	int64_t t0 = util_mono_us();
	while (store_done_mark(s) < m && util_mono_us() - t0 < 5000000)
		usleep(1000);
}

static struct flow *captured(uint64_t id)
{
	struct flow *f = flow_new();
	f->id = id;
	f->kind = FLOW_HTTP;
	f->state = FLOW_DONE;
	f->scheme = xstrdup("http");
	f->host = xstrdup("example.com");
	f->port = 80;
	f->path = xstrdup("/a");
	f->request = (struct flow_msg){.present = 1, .version = 11};
	f->request.method = xstrdup("GET");
	f->request.target = xstrdup("/a");
	flow_msg_add_header(&f->request, "Host", 4, "example.com", 11);
	f->response = (struct flow_msg){.present = 1, .version = 11, .status = 200};
	f->response.reason = xstrdup("OK");
	flow_msg_add_header(&f->response, "Content-Length", 14, "3", 1);
	flow_msg_add_body(&f->response, "a\0b", 3, 1 << 20);
	f->t.start = 1700000000000000;
	f->t.end = f->t.start + 1000;
	return f;
}

/* f edited: response 404 "edited", request POST to /b. */
static struct flow *edited(const struct flow *orig)
{
	struct flow *f = flow_dup(orig);
	f->flags |= FLOW_F_MODIFIED;
	f->response.status = 404;
	flow_buf_clear(&f->response.body);
	flow_msg_add_body(&f->response, "edited", 6, 1 << 20);
	flow_set_str(&f->request.method, "POST");
	flow_set_str(&f->path, "/b");
	return f;
}

static void edit_and_revert(void)
{
	char err[256];
	struct store *s = store_open(path, NULL, err, sizeof err);
	struct store_reader *r = store_reader_open(path, err, sizeof err);
	ok(s && r);
	struct flow_sink sink = store_sink(s);
	struct flow *orig = captured(7);
	sink.emit(sink.arg, FLOW_EV_END, flow_dup(orig));
	settle(s);
	ok(store_original(r, 7) == NULL); /* never edited */

	store_edit(s, edited(orig), flow_dup(orig), 0);
	settle(s);
	struct flow *got = store_get(r, 7);
	ok(got && got->response.status == 404 && (got->flags & FLOW_F_MODIFIED));
	ok(got && got->response.body.len == 6 && memcmp(got->response.body.data, "edited", 6) == 0);
	ok(got && strcmp(got->request.method, "POST") == 0 && strcmp(got->path, "/b") == 0);
	flow_free(got);
	struct flow *o = store_original(r, 7);
	ok(o && o->response.status == 200 && strcmp(o->response.reason, "OK") == 0);
	ok(o && o->response.body.len == 3 && memcmp(o->response.body.data, "a\0b", 3) == 0);
	ok(o && o->response.body_size == 3 && o->response.num_headers == 1);
	ok(o && strcmp(o->request.method, "GET") == 0 && strcmp(o->path, "/a") == 0);
	ok(o && strcmp(o->request.headers[0].value, "example.com") == 0);
	ok(o && strcmp(o->scheme, "http") == 0 && strcmp(o->host, "example.com") == 0);
	flow_free(o);

	/* a second edit, with what it read as "original": the first original stays */
	struct flow *again = edited(orig);
	again->response.status = 500;
	store_edit(s, again, edited(orig), 0);
	settle(s);
	o = store_original(r, 7);
	ok(o && o->response.status == 200);
	flow_free(o);

	/* revert: the original written back, the kept one forgotten */
	struct flow *back = flow_dup(orig);
	store_edit(s, back, NULL, 1);
	settle(s);
	got = store_get(r, 7);
	ok(got && got->response.status == 200 && !(got->flags & FLOW_F_MODIFIED));
	flow_free(got);
	ok(store_original(r, 7) == NULL);

	/* delete and clear take the originals along */
	store_edit(s, edited(orig), flow_dup(orig), 0);
	store_delete(s, 7);
	settle(s);
	ok(store_original(r, 7) == NULL && store_exists(r, 7) == 0);
	/* an edit of a deleted flow does not bring it back */
	store_edit(s, edited(orig), flow_dup(orig), 0);
	settle(s);
	ok(store_exists(r, 7) == 0 && store_original(r, 7) == NULL);

	struct flow *other = captured(8);
	sink.emit(sink.arg, FLOW_EV_END, flow_dup(other));
	store_edit(s, edited(other), flow_dup(other), 0);
	settle(s);
	o = store_original(r, 8);
	ok(o != NULL);
	flow_free(o);
	store_clear(s);
	settle(s);
	ok(store_original(r, 8) == NULL);
	flow_free(other);
	flow_free(orig);
	store_reader_close(r);
	store_close(s);
}

int main(void)
{
	int fd = mkstemp(path);
	close(fd);
	subtest("edit and revert", edit_and_revert);
	static const char *const files[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		char aux[64];
		snprintf(aux, sizeof aux, "%s%s", path, files[i]);
		unlink(aux);
	}
	return harness_done();
}
