/* SPDX-License-Identifier: MIT */
/* test_store_bound.c - the writer's queue bounded by bytes (backpressure): producers that
 * outrun a slow writer wait for it instead of growing the queue, every flow is still recorded
 * whole, and a writer that is stuck does not hang the producers. The WAL is bounded too, with
 * its checkpoints off the writer's thread. */
#include "store_fixture.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#define BOUND ((size_t)1 << 20)
#define BODY ((size_t)65536)
#define BODY_STR "65536"
#define PER_THREAD 100

/* shared with the writer thread, hence atomic */
static atomic_int slow_ms; /* the listener sleeps this long per notice (a slow writer) */
static atomic_int hold, held;

static void on_slow(void *arg, enum store_change ch, const struct flow *f)
{
	(void)arg, (void)ch, (void)f;
	held = 1;
	if (slow_ms)
		usleep((useconds_t)slow_ms * 1000);
	while (hold)
		usleep(1000);
}

struct producer {
	struct store *s;
	uint64_t first;
};

/* Emits PER_THREAD flows with BODY-byte bodies, a BEGIN and an END each, as the proxy does. */
static void *produce(void *arg)
{
	struct producer *p = arg;
	char *body = noise(BODY, (unsigned)p->first);
	for (uint64_t i = 0; i < PER_THREAD; i++) {
		emit(p->s, FLOW_EV_BEGIN, mkflow(p->first + i, "bound.example", 0));
		emit(p->s, FLOW_EV_END, body_flow(p->first + i, NULL, body, BODY, 0));
	}
	free(body);
	return NULL;
}

/* A store at p whose producers wait past BOUND queued bytes. */
static struct store *open_bound(const char *p)
{
	char err[256];
	struct store_options o = {.body_limit = 1 << 20, .queue_bytes = BOUND};
	return store_open(p, &o, err, sizeof err);
}

/* Two producers push 12.8 MiB of bodies through a 1 MiB bound into a writer slowed by its
 * listener: they wait, what waits stays within the bound (plus what each producer adds after
 * its wait), with the writer's batch in hand twice that, and every flow is stored with its
 * whole body. */
static void test_backpressure(void)
{
	char *p = new_path();
	struct store *s = open_bound(p);
	ok(s != NULL);
	slow_ms = 5;
	store_set_listener(s, on_slow, NULL);
	struct producer pr[2] = {{s, 1}, {s, 1001}};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, produce, &pr[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	wait_idle(s);
	struct store_stats st;
	store_get_stats(s, &st);
	ok(st.waits > 0);
	ok(st.dropped == 0 && st.bodies_shed == 0);
	/* each of the two producers may add one event after its wait ended; the writer's batch
	 * was such a queue */
	ok(st.queued_bytes_peak <= 2 * (BOUND + 2 * (BODY + 8192)));
	if (st.queued_bytes_peak > 2 * (BOUND + 2 * (BODY + 8192)))
		fprintf(stderr, "  peak %llu bytes queued\n",
			(unsigned long long)st.queued_bytes_peak);
	ok(st.queued == 0 && st.queued_bytes == 0);
	store_set_listener(s, NULL, NULL);
	slow_ms = 0;
	store_close(s);
	ok(q1(p, "SELECT count(*) FROM flows") == 2 * PER_THREAD);
	ok(q1(p, "SELECT count(*) FROM flows WHERE state='done' AND response_truncated=0 AND "
		 "response_body_size=" BODY_STR) == 2 * PER_THREAD);
	ok(q1(p, "SELECT count(*) FROM bodies WHERE side=1 AND length(data)=" BODY_STR) ==
	   2 * PER_THREAD);
	free(p);
}

/* A writer stuck (its listener never returns for a while): the producer waits for it once,
 * about 2 s, then stops waiting until it catches up; nothing is lost once it does. */
static void test_stuck_writer(void)
{
	char *p = new_path();
	struct store *s = open_bound(p);
	hold = 1;
	held = 0;
	store_set_listener(s, on_slow, NULL);
	emit(s, FLOW_EV_END, mkflow(1, "stuck.example", 200));
	for (int i = 0; i < 30000 && !held; i++) /* <= 30 s: the writer's first batch */
		usleep(1000);
	ok(held);
	char *body = noise(BODY, 9);
	int64_t t0 = util_mono_us();
	for (uint64_t i = 2; i <= 60; i++) /* 3.7 MiB: over the bound, under the hard bounds */
		emit(s, FLOW_EV_END, body_flow(i, NULL, body, BODY, 0));
	int64_t took = util_mono_us() - t0;
	free(body);
	struct store_stats st;
	store_get_stats(s, &st);
	ok(st.waits == 1);			/* one wait ran out; the rest did not wait */
	ok(took >= 1900000 && took < 20000000); /* about 2 s, not 2 s per flow */
	ok(st.dropped == 0 && st.bodies_shed == 0);
	hold = 0;
	wait_idle(s);
	store_set_listener(s, NULL, NULL);
	store_close(s);
	ok(q1(p, "SELECT count(*) FROM flows") == 60);
	free(p);
}

static long long file_size(const char *path, const char *suffix)
{
	char *f = xasprintf("%s%s", path, suffix);
	struct stat st;
	long long n = stat(f, &st) == 0 ? (long long)st.st_size : -1;
	free(f);
	return n;
}

/* 80 MiB of bodies through the writer: the WAL is copied back into the database while flows
 * arrive (by the checkpointer, or by the writer when that one lags), so the WAL file never
 * grows past the writer's bound of 4,000 pages plus one batch (about 20 MB), and the database
 * file holds the flows before the store closes. */
static void test_wal_bounded(void)
{
	char *p = new_path();
	struct store *s = open_bound(p);
	ok(s != NULL);
	char *body = noise(BODY, 11);
	for (uint64_t i = 1; i <= 1280; i++)
		emit(s, FLOW_EV_END, body_flow(i, NULL, body, BODY, 0));
	free(body);
	wait_idle(s);
	long long db = 0;
	for (int i = 0; i < 30000 && (db = file_size(p, "")) < (40ll << 20); i++)
		usleep(1000); /* the last checkpoint may still run */
	ok(db >= (40ll << 20));
	long long wal = file_size(p, "-wal");
	ok(wal > 0 && wal <= 4000ll * 4120 + 4 * (long long)BOUND);
	if (wal > 4000ll * 4120 + 4 * (long long)BOUND)
		fprintf(stderr, "  WAL of %lld bytes\n", wal);
	struct store_stats st;
	store_get_stats(s, &st);
	ok(st.dropped == 0);
	store_close(s);
	ok(file_size(p, "-wal") <= 0); /* the last connection's close removes it */
	ok(q1(p, "SELECT count(*) FROM bodies WHERE side=1 AND length(data)=" BODY_STR) == 1280);
	free(p);
}

int main(void)
{
	static const struct store_subtest tests[] = {
	    {"backpressure", test_backpressure},
	    {"stuck_writer", test_stuck_writer},
	    {"wal_bounded", test_wal_bounded},
	};
	return store_fixture_run(tests, sizeof tests / sizeof tests[0]);
}
