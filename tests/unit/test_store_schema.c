/* SPDX-License-Identifier: MIT */
/* test_store_schema.c - the store's schema and its migrations: a fresh file gets the current
 * tables; files an older flowscope wrote (version 1, version 2) open, keep their flows and are
 * brought up to date; the trigram index is rebuilt (reindex) and fed as bodies trickle in. */
#include "store_fixture.h"

#include "schema.h"

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

static void test_schema(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	ok(s != NULL);
	ok(store_max_id(s) == 0);
	store_close(s);
	ok(q1(p, "PRAGMA user_version") == SCHEMA_VERSION);
	ok(streq_free(qs(p, "PRAGMA journal_mode"), "wal"));
	ok(q1(p, "PRAGMA page_size") == SCHEMA_PAGE_SIZE); /* a new store's pages */
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
	ok(q1(p, "PRAGMA page_size") == 4096); /* an older store keeps the pages it was made with */
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
	     i < 500 &&
	     q1(p, "SELECT count(*) FROM bodies WHERE CAST(data AS TEXT)='beta haystack'") != 1;
	     i++)
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

/* Every body the indexer passed is in body_fts or listed as checked, both sides, whatever its
 * kind: text (indexed), binary, shorter than a trigram, over 256 KiB (listed); an empty body has
 * no row. Bodies stored after that, above the watermark, are found by the same filters. */
static void test_index_contract(void)
{
	char *p = new_path(), err[256];
	struct store_options o = {.body_limit = 1 << 20};
	struct store *s = store_open(p, &o, err, sizeof err);
	char *big = xmalloc(300000);
	memset(big, 'a', 300000);
	memcpy(big + 1000, "bigneedle", 9);
	for (uint64_t id = 1; id <= 40; id++) {
		struct flow *f = mkflow(id, "contract.example", 200);
		flow_buf_clear(&f->response.body);
		char body[64];
		int len = snprintf(body, sizeof body, "resp %llu needle", (unsigned long long)id);
		if (id % 4 == 1)
			body[3] = '\0'; /* binary */
		if (id % 4 == 2)
			len = 2; /* "re": too short for a trigram */
		if (id % 8 == 3)
			flow_msg_add_body(&f->response, big, 300000, 1 << 20);
		else if (id % 8 != 7)
			flow_msg_add_body(&f->response, body, (size_t)len, 100);
		flow_msg_add_body(&f->request, "req needle", 10, 100);
		emit(s, FLOW_EV_END, f);
	}
	for (int i = 0; i < 1000 && q1(p, "SELECT (SELECT n FROM counts WHERE k=2) >= "
					  "(SELECT max(id) FROM bodies)") != 1;
	     i++)
		usleep(10000);
	ok(q1(p, "SELECT count(*) FROM bodies") == 40 + 35);
	ok(q1(p, "SELECT count(*) FROM bodies WHERE id NOT IN (SELECT rowid FROM body_fts) AND "
		 "id NOT IN (SELECT id FROM unindexed)") == 0);
	ok(q1(p, "SELECT count(*) FROM bodies b JOIN unindexed u ON u.id=b.id "
		 "WHERE u.id IN (SELECT rowid FROM body_fts)") == 0);
	ok(q1(p, "SELECT count(*) FROM unindexed WHERE checked=0") == 0);
	/* listed: 10 binary, 10 short, 5 large; indexed: the 40 requests and 10 text responses */
	ok(q1(p, "SELECT count(*) FROM unindexed") == 25);
	ok(q1(p, "SELECT count(*) FROM body_fts") == 50);
	ok(count_of(p, "~bq 'req needle'") == 40);
	ok(count_of(p, "~bs needle") == 25); /* text, binary and large ones */
	ok(count_of(p, "~bs bigneedle") == 5);
	/* more, read at once: above the watermark (or indexed meanwhile), found alike */
	for (uint64_t id = 41; id <= 44; id++) {
		struct flow *f = mkflow(id, "contract.example", 200);
		flow_buf_clear(&f->response.body);
		flow_msg_add_body(&f->response, id % 2 ? "late\0needle" : "late needle", 11, 100);
		emit(s, FLOW_EV_END, f);
	}
	wait_idle(s);
	ok(count_of(p, "~bs 'late.needle'") == 4);
	ok(count_of(p, "~bs needle") == 29);
	store_close(s);
	ok(q1(p,
	      "SELECT count(*) FROM bodies WHERE id <= (SELECT n FROM counts WHERE k=2) AND "
	      "id NOT IN (SELECT rowid FROM body_fts) AND id NOT IN (SELECT id FROM unindexed)") ==
	   0);
	free(big);
	free(p);
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

/* Binary bodies of fresh flows are listed by the writer as it writes them, and the watermark
 * moves over them in the batch (bodies.c): flows that end out of id order, a text body among
 * them, a flow whose BEGIN was committed before its END. The contract holds after each step:
 * every body up to the watermark is in body_fts or listed, and the filters find every body. */
static uint64_t unaccounted(const char *p)
{
	return (uint64_t)q1(p,
			    "SELECT count(*) FROM bodies WHERE id <= (SELECT n FROM counts "
			    "WHERE k=2) AND id NOT IN (SELECT rowid FROM body_fts) AND id NOT IN "
			    "(SELECT id FROM unindexed)");
}

static struct flow *bin_flow(uint64_t id, int text)
{
	struct flow *f = mkflow(id, "writer.example", 200);
	flow_buf_clear(&f->response.body);
	char body[64];
	int len = snprintf(body, sizeof body, "bin %llu needle", (unsigned long long)id);
	if (!text)
		body[3] = '\0';
	flow_msg_add_body(&f->response, body, (size_t)len, 100);
	return f;
}

static void test_index_by_writer(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	emit(s, FLOW_EV_BEGIN, mkflow(100, "writer.example", 0));
	wait_idle(s);
	for (uint64_t k = 0; k < 64; k++) { /* ids 1..64, out of order */
		uint64_t id = k * 37 % 64 + 1;
		emit(s, FLOW_EV_BEGIN, mkflow(id, "writer.example", 0));
		emit(s, FLOW_EV_END, bin_flow(id, 0));
	}
	wait_idle(s);
	ok(unaccounted(p) == 0);
	ok(count_of(p, "~bs needle") == 64);
	/* a text body ends the writer's listing until the indexer caught up */
	for (uint64_t id = 65; id < 100; id++) {
		emit(s, FLOW_EV_BEGIN, mkflow(id, "writer.example", 0));
		emit(s, FLOW_EV_END, bin_flow(id, id == 70));
	}
	emit(s, FLOW_EV_END, bin_flow(100, 0)); /* its row was committed before */
	wait_idle(s);
	ok(unaccounted(p) == 0);
	ok(count_of(p, "~bs needle") == 100);
	ok(count_of(p, "~bs 'bin 70 needle'") == 1);
	for (int i = 0; i < 1000 && q1(p, "SELECT (SELECT n FROM counts WHERE k=2) >= "
					  "(SELECT max(id) FROM bodies)") != 1;
	     i++)
		usleep(10000);
	ok(q1(p, "SELECT count(*) FROM body_fts") == 1);
	ok(q1(p, "SELECT count(*) FROM unindexed WHERE checked=1") == 99);
	for (uint64_t id = 101; id <= 140; id++) { /* caught up: listed by the writer again */
		emit(s, FLOW_EV_BEGIN, mkflow(id, "writer.example", 0));
		emit(s, FLOW_EV_END, bin_flow(id, 0));
	}
	wait_idle(s);
	ok(q1(p, "SELECT n FROM counts WHERE k=2") >= 140 * 2);
	ok(q1(p, "SELECT count(*) FROM unindexed WHERE checked=1") == 139);
	ok(unaccounted(p) == 0);
	ok(count_of(p, "~bs needle") == 140);
	store_close(s);
	free(p);
}

/* Under load a flow's BEGIN and its END often fall in different batches: its body is then
 * written on its own, not with a group, and the writer lists it too when it is binary, so the
 * watermark goes on moving with the writer's commits (the indexer, idle for INDEXER_IDLE_US
 * first, has nothing to walk). A text body written so is left to the indexer. */
static void test_index_late_end(void)
{
	char *p = new_path(), err[256];
	struct store *s = store_open(p, NULL, err, sizeof err);
	for (uint64_t id = 1; id <= 20; id++)
		emit(s, FLOW_EV_BEGIN, mkflow(id, "late.example", 0));
	wait_idle(s);
	for (uint64_t id = 1; id <= 40; id++) { /* 1..20 committed pending before */
		if (id > 20)
			emit(s, FLOW_EV_BEGIN, mkflow(id, "late.example", 0));
		emit(s, FLOW_EV_END, bin_flow(id, 0));
	}
	wait_idle(s);
	ok(q1(p, "SELECT n FROM counts WHERE k=2") == 40 * 2 + 1); /* at once, by the writer */
	ok(q1(p, "SELECT count(*) FROM unindexed WHERE checked=1") == 40);
	ok(unaccounted(p) == 0);
	ok(count_of(p, "~bs needle") == 40);
	emit(s, FLOW_EV_BEGIN, mkflow(41, "late.example", 0));
	wait_idle(s);
	emit(s, FLOW_EV_END, bin_flow(41, 1)); /* text: the indexer's */
	wait_idle(s);
	for (int i = 0; i < 1000 && q1(p, "SELECT count(*) FROM body_fts") != 1; i++)
		usleep(10000);
	ok(q1(p, "SELECT count(*) FROM body_fts") == 1);
	ok(unaccounted(p) == 0);
	ok(count_of(p, "~bs 'bin 41 needle'") == 1);
	store_close(s);
	free(p);
}

static const struct store_subtest subtests[] = {
    {"schema", test_schema},
    {"migrate", test_migrate},
    {"reindex", test_reindex},
    {"index_trickle", test_index_trickle},
    {"migrate_v2", test_migrate_v2},
    {"index_contract", test_index_contract},
    {"index_by_writer", test_index_by_writer},
    {"index_late_end", test_index_late_end},
};

int main(void)
{
	return store_fixture_run(subtests, sizeof subtests / sizeof subtests[0]);
}
