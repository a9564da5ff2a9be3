/* SPDX-License-Identifier: MIT */
/* test_wsstore.c - WebSocket messages in the store: queued through store_sink() after their
 * flow, read back in pages with store_messages() (content, direction, type, sizes, the close),
 * capped at the body limit, heard of by the messages listener once per commit, copied to a
 * duplicate (store_copy_messages(), the close too), and gone with their flow on a delete or a
 * clear; a batch for a flow deleted while open is dropped. */
#include "store.h"

#include "harness.h"
#include "util.h"
#include "wsmsg.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[] = "/tmp/test_wsstore_XXXXXX";
static uint64_t heard[16];
static int num_heard;

static void on_messages(void *arg, uint64_t id)
{
	(void)arg;
	if (num_heard < 16)
		heard[num_heard++] = id;
}

static void settle(struct store *s)
{
	uint64_t m = store_write_mark(s);
	int64_t t0 = util_mono_us();
	while (store_done_mark(s) < m && util_mono_us() - t0 < 5000000)
		usleep(1000);
}

static struct wsmsg_batch *batch(uint64_t id, uint64_t first, size_t n)
{
	struct wsmsg_batch *b = wsmsg_batch_new(id);
	for (size_t i = 0; i < n; i++) {
		char *text = xasprintf("message %zu", (size_t)(first + i));
		struct wsmsg m = {.index = first + i,
				  .from_client = (int)((first + i) % 2 == 0),
				  .opcode = (first + i) % 3 == 2 ? WSMSG_BINARY : WSMSG_TEXT,
				  .ts = 1000000 + (int64_t)(first + i),
				  .size = strlen(text),
				  .data = text,
				  .len = strlen(text)};
		wsmsg_batch_add(b, &m);
	}
	return b;
}

struct seen {
	uint64_t idx[64];
	char text[64][32];
	int n;
};

static int on_message(void *arg, const struct wsmsg *m)
{
	struct seen *s = arg;
	if (s->n < 64) {
		s->idx[s->n] = m->index;
		snprintf(s->text[s->n], sizeof s->text[0], "%.*s", (int)m->len, m->data);
		s->n++;
	}
	return 0;
}

static struct flow *ws_flow(void)
{
	struct flow *f = flow_new();
	flow_set_str(&f->host, "echo.example");
	flow_set_str(&f->scheme, "http");
	flow_set_str(&f->path, "/ws");
	f->flags |= FLOW_F_WEBSOCKET;
	return f;
}

static void test_store_messages(void)
{
	char err[256];
	struct store_options o = {.body_limit = 8};
	struct store *s = store_open(path, &o, err, sizeof err);
	struct store_reader *r = store_reader_open(path, err, sizeof err);
	ok(s && r);
	if (!s || !r)
		goto end;
	store_set_messages_listener(s, on_messages, NULL);
	struct flow_sink sink = store_sink(s);
	struct flow *f = ws_flow(), *g = ws_flow();
	uint64_t id = f->id, gid = g->id;
	sink.emit(sink.arg, FLOW_EV_BEGIN, f);
	sink.emit(sink.arg, FLOW_EV_BEGIN, g);
	sink.emit_messages(sink.arg, batch(id, 0, 5));
	struct wsmsg_batch *b = batch(id, 5, 3);
	b->has_close = 1;
	b->close = (struct wsmsg_close){
	    .closed = 1, .closed_by_client = 1, .code = 4000, .reason = xstrdup("bye")};
	sink.emit_messages(sink.arg, b);
	sink.emit_messages(sink.arg, batch(gid, 0, 2));
	settle(s);
	ok(num_heard >= 2); /* each flow once per commit; both heard of */

	struct seen seen = {0};
	uint64_t total = 0;
	struct wsmsg_close c;
	ok(store_messages(r, id, -1, 4, on_message, &seen, &total, &c, err, sizeof err) == 0);
	ok(total == 8 && seen.n == 4 && seen.idx[0] == 0 && seen.idx[3] == 3);
	ok(strcmp(seen.text[0], "message ") == 0); /* cut to the body limit (8 bytes) */
	ok(c.closed && c.closed_by_client && c.code == 4000 && strcmp(c.reason, "bye") == 0);
	wsmsg_close_clear(&c);
	seen.n = 0;
	ok(store_messages(r, id, 3, 100, on_message, &seen, NULL, NULL, err, sizeof err) == 0);
	ok(seen.n == 4 && seen.idx[0] == 4 && seen.idx[3] == 7);

	/* copied to a duplicate, the close too; the listener hears of the copy */
	struct flow *h = ws_flow();
	uint64_t hid = h->id;
	sink.emit(sink.arg, FLOW_EV_END, h);
	store_copy_messages(s, id, hid);
	store_copy_messages(s, gid + 1000, hid + 1000); /* none to copy: nothing happens */
	num_heard = 0;
	settle(s);
	ok(num_heard == 1 && heard[0] == hid);
	seen.n = 0;
	ok(store_messages(r, hid, -1, 100, on_message, &seen, &total, &c, err, sizeof err) == 0);
	ok(total == 8 && seen.n == 8 && seen.idx[7] == 7 && strcmp(seen.text[7], "message ") == 0);
	ok(c.closed && c.closed_by_client && c.code == 4000 && strcmp(c.reason, "bye") == 0);
	wsmsg_close_clear(&c);

	/* a delete takes the messages along (not the copy's); late batches of a deleted open flow
	 * are dropped */
	store_delete(s, id);
	sink.emit_messages(sink.arg, batch(id, 8, 2));
	settle(s);
	ok(store_messages(r, id, -1, 100, on_message, &seen, &total, &c, err, sizeof err) == 0);
	ok(total == 0 && !c.closed);
	ok(store_messages(r, hid, -1, 100, on_message, &seen, &total, NULL, err, sizeof err) == 0 &&
	   total == 8);
	/* a clear takes everything */
	ok(store_messages(r, gid, -1, 100, on_message, &seen, &total, NULL, err, sizeof err) == 0 &&
	   total == 2);
	store_clear(s);
	settle(s);
	ok(store_messages(r, gid, -1, 100, on_message, &seen, &total, NULL, err, sizeof err) == 0 &&
	   total == 0);
end:
	store_reader_close(r);
	store_close(s);
}

int main(void)
{
	int fd = mkstemp(path);
	close(fd);
	subtest("messages in the store", test_store_messages);
	unlink(path);
	char aux[64];
	snprintf(aux, sizeof aux, "%s-wal", path);
	unlink(aux);
	snprintf(aux, sizeof aux, "%s-shm", path);
	unlink(aux);
	return harness_done();
}
