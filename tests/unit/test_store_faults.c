/* SPDX-License-Identifier: MIT */
/* test_store_faults.c - the store when things go wrong: a full queue, a full database, a
 * database locked by another process, a read-only file. Each is said (stats, errors) and the
 * store goes on. */
#include "store_fixture.h"

#include <stdatomic.h>
#include <sys/stat.h>

/* held: the writer reached on_slow; atomic, as the writer thread and the test share them */
static atomic_int hold, held;

static void on_slow(void *arg, enum store_change ch, const struct flow *f)
{
	(void)arg, (void)ch, (void)f;
	held = 1;
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
	for (int i = 0; i < 30000 && !held; i++) /* <= 30 s: the writer's first batch */
		usleep(1000);
	ok(held); /* the writer is now stuck in the listener */
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

static const struct store_subtest subtests[] = {
    {"queue_full", test_queue_full},
    {"disk_full", test_disk_full},
    {"locked", test_locked},
    {"read_only", test_read_only},
};

int main(void)
{
	return store_fixture_run(subtests, sizeof subtests / sizeof subtests[0]);
}
