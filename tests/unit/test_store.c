/* SPDX-License-Identifier: MIT */
/* test_store.c - the flow store through store.h: BEGIN/END rows, END without BEGIN, batching,
 * listener notices, write marks, exact bytes, restart, delete/clear (and late events of removed
 * flows not bringing them back), store_exists(), pages and totals, settings. The schema and its
 * migrations, bodies and faults have files of their own (test_store_*.c). */
#include "store_fixture.h"

#include "snappool.h"

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

/* The new rows of a batch go in by groups (rows.c): a group with rows that exist already
 * (their flows stored before, seen again with a BEGIN) keeps the rows before them, writes
 * those over and counts each flow once. */
static void test_group_existing(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	for (uint64_t i = 100; i <= 102; i++) {
		struct flow *f = mkflow(i, "g.example", 200);
		flow_buf_clear(&f->response.body);
		f->response.body_size = 0;
		flow_msg_add_body(&f->response, "old", 3, 1 << 20);
		emit(s, FLOW_EV_END, f);
	}
	wait_idle(s);
	for (uint64_t i = 1; i <= 40; i++) {
		uint64_t id = i == 5 ? 100 : i == 20 ? 101 : i;
		emit(s, FLOW_EV_BEGIN, mkflow(id, "g.example", 0));
		emit(s, FLOW_EV_END, mkflow(id, "g.example", 404));
	}
	wait_idle(s);
	ok(q1(p, "SELECT count(*) FROM flows") == 41);
	ok(q1(p, "SELECT n FROM counts WHERE k=1") == 41);
	ok(q1(p, "SELECT count(*) FROM flows WHERE status=404") == 40);
	ok(q1(p, "SELECT count(*) FROM flows WHERE id IN (100,101) AND status=404") == 2);
	ok(q1(p, "SELECT count(*) FROM flows f JOIN heads h USING (id) JOIN bodies b ON "
		 "b.id=f.id*2+1 WHERE f.url='http://g.example/index.html?q=1'") == 41);
	/* their bodies too (the group's bodies go in OR FAIL, the rest one by one) */
	ok(q1(p, "SELECT count(*) FROM bodies WHERE data=CAST('<html>hello</html>' AS BLOB)"
		 " AND size=18") == 40);
	ok(q1(p, "SELECT count(*) FROM bodies WHERE id=102*2+1 AND data=CAST('old' AS BLOB)") ==
	   1);
	store_close(s);
	free(p);
}

/* A flow of test_group_binds(): one of three shapes by id, so that each column of a group's row
 * changes between set, NULL and other values from one flow, group and batch to the next. */
static struct flow *shaped_flow(uint64_t id)
{
	int shape = (int)(id % 3);
	struct flow *f = mkflow(id, shape == 2 ? "b.example" : "a.example", shape ? 200 : 0);
	if (shape == 1) {
		f->error = xstrdup("reset");
		f->replay_of = id + 1000;
		f->tls.sni = xstrdup("a.example");
		f->t.dns_done = 7;
		free(f->path);
		f->path = xasprintf("/p%llu", (unsigned long long)id);
		char *t = xasprintf("st%llu", (unsigned long long)id);
		flow_msg_add_trailer(&f->response, "grpc-status", 11, t, strlen(t));
		free(t);
	}
	if (shape == 2) { /* the body of flow id, as long as shape 1's */
		flow_buf_clear(&f->response.body);
		f->response.body_size = 0;
		char b[32];
		snprintf(b, sizeof b, "body %013llu", (unsigned long long)id);
		flow_msg_add_body(&f->response, b, 18, 1 << 20);
		if (id % 2)
			flow_msg_add_header(&f->response, "X-Id", 4, b, strlen(b));
	}
	return f;
}

/* The group statements bind only the parameters that changed since their last run (rows.c,
 * bodies.c): every row still holds its own flow's values, NULLs included, across groups and
 * batches (what the last batch bound is gone by the next). */
static void test_group_binds(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	enum { N = 16 * 7 + 5 };
	for (int batch = 0; batch < 3; batch++) {
		for (uint64_t i = 1; i <= N; i++) {
			uint64_t id = (uint64_t)batch * N + i;
			emit(s, FLOW_EV_BEGIN, mkflow(id, "a.example", 0));
			emit(s, FLOW_EV_END, shaped_flow(id));
		}
		wait_idle(s);
	}
	store_close(s);
	ok(q1(p, "SELECT count(*) FROM flows") == 3 * N);
	ok(q1(p, "SELECT count(*) FROM flows WHERE id%3=0 AND state='pending' AND status IS NULL"
		 " AND error IS NULL AND replay_of IS NULL AND tls_sni IS NULL AND dns_us IS NULL"
		 " AND host='a.example' AND path='/index.html?q=1' AND resp_present=0"
		 " AND server_addr='' AND ended_us IS NULL") == N);
	ok(q1(p, "SELECT count(*) FROM flows WHERE id%3=1 AND state='done' AND status=200"
		 " AND error='reset' AND replay_of=id+1000 AND tls_sni='a.example' AND dns_us=7"
		 " AND path='/p'||id AND url='http://a.example/p'||id AND resp_ctype='text/html'"
		 " AND ended_us=started_us+1000") == N);
	ok(q1(p, "SELECT count(*) FROM flows WHERE id%3=2 AND state='done' AND status=200"
		 " AND error IS NULL AND replay_of IS NULL AND tls_sni IS NULL AND dns_us IS NULL"
		 " AND host='b.example' AND url='http://b.example/index.html?q=1'") == N);
	ok(q1(p, "SELECT count(*) FROM bodies b JOIN flows f ON b.id=f.id*2+1 WHERE"
		 " CASE f.id%3 WHEN 1 THEN b.data=CAST('<html>hello</html>' AS BLOB)"
		 " WHEN 2 THEN b.data=CAST(printf('body %013d', f.id) AS BLOB) END"
		 " AND b.size=18 AND b.truncated=0 AND b.text IS NULL") == 2 * N);
	ok(q1(p, "SELECT count(*) FROM bodies") == 2 * N);
	/* the heads: headers NULL without a response, trailers NULL without trailers */
	ok(q1(p, "SELECT count(*) FROM heads h JOIN flows f USING (id) WHERE"
		 " instr(h.req_headers, CAST(f.host AS BLOB)) > 0 AND h.req_trailers IS NULL AND"
		 " CASE f.id%3 WHEN 0 THEN h.resp_headers IS NULL AND h.resp_trailers IS NULL"
		 " WHEN 1 THEN instr(h.resp_trailers, CAST('st'||f.id AS BLOB)) > 0"
		 " AND length(h.resp_trailers)=8+11+2+length(f.id)"
		 " WHEN 2 THEN h.resp_trailers IS NULL AND (f.id%2=0) ="
		 " (instr(h.resp_headers, CAST(printf('body %013d', f.id) AS BLOB)) = 0) END") ==
	   3 * N);
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
	for (int i = 0; i < 10000 && store_done_mark(s) < m; i++)
		usleep(1000);
	ok(store_done_mark(s) >= m);
	ok(__atomic_load_n(&dones, __ATOMIC_SEQ_CST) >= 1);
	ok(r && store_exists(r, 3) == 1);
	for (int round = 0; round < 20; round++) {
		uint64_t id = 1 + (uint64_t)round % 3;
		store_delete(s, id);
		m = store_write_mark(s);
		int64_t t0 = util_mono_us();
		/* 10 s, sleeping: a spinning wait takes a core the writer needs on a small machine
		 */
		while (store_done_mark(s) < m && util_mono_us() - t0 < 10000000)
			usleep(100);
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

/* The writer frees a batch's snapshots between snappool_hold() and snappool_release(): they
 * go back to their class's stack at the release, and the next snapshots of that class reuse
 * them (every one is freed instead under ASan, which must see a use after free). */
static void test_snappool_hold(void)
{
	enum { N = 40, SIZE = 7000 }; /* a class no other test's snapshots use */
	void *p[N], *q[N];
	int cls[N], c;
	for (int i = 0; i < N; i++) {
		p[i] = snappool_alloc(SIZE, &cls[i]);
		memset(p[i], i, SIZE);
	}
	ok(cls[0] >= 0);
	snappool_hold();
	for (int i = 0; i < N; i++)
		snappool_free(p[i], cls[i]);
	snappool_release();
	int reused = 0;
	for (int i = 0; i < N; i++) {
		q[i] = snappool_alloc(SIZE, &c);
		for (int j = 0; j < N; j++)
			reused += q[i] == p[j];
	}
#ifdef __SANITIZE_ADDRESS__
	ok(reused >= 0);
#else
	ok(reused == N);
#endif
	snappool_hold(); /* an empty release, then frees that do not wait */
	snappool_release();
	for (int i = 0; i < N; i++)
		snappool_free(q[i], c);
	void *big = snappool_alloc(64 * 1024, &c); /* no class: malloc and free */
	ok(c == -1);
	snappool_hold();
	snappool_free(big, c);
	snappool_release();
}


/* The first event of a flow is its END or an UPDATE, flagged FLOW_EV_UNBEGUN (the proxy put the
 * BEGIN off, then dropped it: begins.h): the writer inserts the row at once, in groups as for
 * a BEGIN and its END, and tells the listener it was added; an END after such an UPDATE, in the
 * same batch or a later one, writes over that row. */
static void test_unbegun(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	struct rec rec = {0};
	store_set_listener(s, on_change, &rec);
	enum { N = 40 }; /* two whole groups of 16 rows and a short one */
	for (int i = 1; i <= N; i++)
		emit(s, FLOW_EV_END | FLOW_EV_UNBEGUN, mkflow((uint64_t)i, "u.example", 200));
	wait_idle(s);
	int added = 0;
	for (int i = 0; i < rec.n; i++)
		added += rec.ch[i] == STORE_ADDED && rec.state[i] == FLOW_DONE;
	ok(rec.n == N && added == N);
	ok(q1(p, "SELECT count(*) FROM flows WHERE state='done' AND status=200") == N);
	ok(q1(p, "SELECT count(*) FROM heads WHERE id<=40 AND req_headers IS NOT NULL") == N);
	ok(q1(p, "SELECT count(*) FROM bodies WHERE side=1 AND size=18") == N);
	ok(q1(p, "SELECT n FROM counts WHERE k=1") == N);
	/* A paused flow's UPDATE first, its END in the same batch (most likely) ... */
	struct flow *u = mkflow(50, "u.example", 0);
	u->state = FLOW_PAUSED;
	rec.n = 0;
	emit(s, FLOW_EV_UPDATE | FLOW_EV_UNBEGUN, u);
	emit(s, FLOW_EV_END, mkflow(50, "u.example", 204));
	/* ... and in a batch of its own, then the END in the next one. */
	struct flow *v = mkflow(51, "u.example", 0);
	v->state = FLOW_PAUSED;
	emit(s, FLOW_EV_UPDATE | FLOW_EV_UNBEGUN, v);
	wait_idle(s);
	ok(streq_free(qs(p, "SELECT state FROM flows WHERE id=51"), "paused"));
	emit(s, FLOW_EV_END, mkflow(51, "u.example", 201));
	wait_idle(s);
	ok(q1(p, "SELECT status FROM flows WHERE id=50 AND state='done'") == 204);
	ok(q1(p, "SELECT status FROM flows WHERE id=51 AND state='done'") == 201);
	ok(q1(p, "SELECT count(*) FROM bodies WHERE flow_id IN (50,51) AND side=1") == 2);
	ok(q1(p, "SELECT n FROM counts WHERE k=1") == N + 2);
	int added50 = 0, added51 = 0;
	for (int i = 0; i < rec.n; i++) {
		added50 += rec.id[i] == 50 && rec.ch[i] == STORE_ADDED;
		added51 += rec.id[i] == 51 && rec.ch[i] == STORE_ADDED;
	}
	ok(added50 == 1 && added51 == 1);
	store_close(s);
	ok(q1(p, "SELECT count(*) FROM flows") == N + 2);
	free(p);
}

static const struct store_subtest subtests[] = {
    {"begin_end", test_begin_end},
    {"exact_bytes", test_exact_bytes},
    {"tls_tunnel_fields", test_tls_tunnel_fields},
    {"batching", test_batching},
    {"group_existing", test_group_existing},
    {"delete_clear_listener", test_delete_clear_listener},
    {"exists", test_exists},
    {"write_marks", test_write_marks},
    {"unfinished", test_unfinished},
    {"gone", test_gone},
    {"gone_many", test_gone_many},
    {"list", test_list},
    {"group_binds", test_group_binds},
    {"settings", test_settings},
    {"snappool_hold", test_snappool_hold},
    {"unbegun", test_unbegun},
};

int main(void)
{
	return store_fixture_run(subtests, sizeof subtests / sizeof subtests[0]);
}
