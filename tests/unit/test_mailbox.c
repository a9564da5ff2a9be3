/* SPDX-License-Identifier: MIT */
/* test_mailbox.c - a worker's mailbox (mailbox.h) on a lock-free event_base
 * (EVENT_BASE_FLAG_NOLOCK), as proxy.c uses it: many threads post at once and every job runs
 * once, on the worker, in each poster's order; one post at a time, each finding the list empty,
 * never loses its wake-up; a close (from a job, as the stop job does) while threads post loses
 * nothing: every job either runs or is dropped, once, and a poster's jobs that ran are the
 * first ones it posted; closing or freeing drops the jobs not run, in order, through their
 * drop function (ASan's leak check sees any that is lost); a job may post to its own mailbox.
 *
 * A job's arg is a malloc'd struct item; run and drop free it, and tally it in done[][]. */
#define _GNU_SOURCE /* pthread_timedjoin_np */
#include "mailbox.h"

#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#define POSTERS 8
#define PER_POSTER 20000

enum { RAN = 1, DROPPED = 2 };

struct item {
	int poster, seq;
};

static struct event_base *base;
static struct mailbox *mb;
static pthread_t worker;
/* what became of each job: RAN or DROPPED, or'ed in (so twice shows as a wrong value) */
static _Atomic unsigned char done[POSTERS][PER_POSTER];
static _Atomic int runs, drops;
/* worker thread only: the last seq run of each poster, and whether order held */
static int last_seq[POSTERS];
static int order_ok, thread_ok;
static int close_after; /* close the mailbox from the job that makes this many runs; 0: never */

static void reset(void)
{
	memset(done, 0, sizeof done);
	runs = drops = 0;
	for (int i = 0; i < POSTERS; i++)
		last_seq[i] = -1;
	order_ok = thread_ok = 1;
	close_after = 0;
}

static struct item *item_new(int poster, int seq)
{
	struct item *it = malloc(sizeof *it);
	it->poster = poster;
	it->seq = seq;
	return it;
}

static void run_item(void *arg)
{
	struct item *it = arg;
	if (!pthread_equal(pthread_self(), worker))
		thread_ok = 0;
	if (it->seq <= last_seq[it->poster])
		order_ok = 0;
	last_seq[it->poster] = it->seq;
	atomic_fetch_or(&done[it->poster][it->seq], RAN);
	int n = atomic_fetch_add(&runs, 1) + 1;
	free(it);
	if (close_after && n == close_after) {
		mailbox_close(mb); /* as proxy.c's stop job does */
		event_base_loopbreak(base);
	}
}

static void drop_item(void *arg)
{
	struct item *it = arg;
	atomic_fetch_or(&done[it->poster][it->seq], DROPPED);
	atomic_fetch_add(&drops, 1);
	free(it);
}

static void stop_loop(void *arg)
{
	(void)arg;
	event_base_loopbreak(base);
}

static struct event_base *new_base(void)
{
	struct event_config *ec = event_config_new();
	event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK);
	struct event_base *b = event_base_new_with_config(ec);
	event_config_free(ec);
	return b;
}

static void *worker_main(void *arg)
{
	(void)arg;
	event_base_dispatch(base);
	return NULL;
}

/* Joins the worker, or fails the test after 30 s: a lost wake-up leaves jobs unrun and the
 * worker waiting for ever. */
static void join_worker(void)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 30;
	if (pthread_timedjoin_np(worker, NULL, &deadline) != 0) {
		ok(!"the worker never finished: a job was not run");
		exit(harness_done());
	}
}

static void open_box(void)
{
	base = new_base();
	mb = mailbox_new(base);
	ok(base && mb);
}

static void close_box(void)
{
	mailbox_free(mb);
	event_base_free(base);
	mb = NULL;
	base = NULL;
}

/* ---- many posters at once ---- */

static _Atomic int post_failures;

static void *poster_main(void *arg)
{
	int p = (int)(intptr_t)arg;
	for (int i = 0; i < PER_POSTER; i++)
		if (mailbox_post(mb, run_item, drop_item, item_new(p, i)) != 0)
			atomic_fetch_add(&post_failures, 1);
	return NULL;
}

static void start_posters(pthread_t *t)
{
	for (int p = 0; p < POSTERS; p++)
		pthread_create(&t[p], NULL, poster_main, (void *)(intptr_t)p);
}

static void test_many_posters(void)
{
	pthread_t t[POSTERS];
	reset();
	post_failures = 0;
	open_box();
	pthread_create(&worker, NULL, worker_main, NULL);
	start_posters(t);
	for (int p = 0; p < POSTERS; p++)
		pthread_join(t[p], NULL);
	ok(mailbox_post(mb, stop_loop, NULL, NULL) == 0); /* after all of them */
	join_worker();
	ok(post_failures == 0);
	ok(runs == POSTERS * PER_POSTER);
	ok(drops == 0);
	ok(order_ok);
	ok(thread_ok);
	int once = 1;
	for (int p = 0; p < POSTERS; p++)
		for (int i = 0; i < PER_POSTER; i++)
			once &= done[p][i] == RAN;
	ok(once);
	close_box();
}

/* ---- one at a time: every post wakes the worker ---- */

#define PING_PONGS 5000

static void test_one_at_a_time(void)
{
	reset();
	open_box();
	pthread_create(&worker, NULL, worker_main, NULL);
	int waited_out = 0;
	for (int i = 0; i < PING_PONGS && !waited_out; i++) {
		mailbox_post(mb, run_item, drop_item, item_new(0, i));
		/* up to 5 s for it: a lost wake-up would leave it in the list */
		for (int spin = 0; atomic_load(&runs) <= i; spin++) {
			if (spin > 50000) {
				waited_out = 1;
				break;
			}
			struct timespec ts = {0, 100 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	ok(!waited_out);
	ok(runs == PING_PONGS);
	ok(order_ok);
	mailbox_post(mb, stop_loop, NULL, NULL);
	join_worker();
	close_box();
}

/* ---- closed from a job while threads post ---- */

static void test_close_while_posting(void)
{
	pthread_t t[POSTERS];
	reset();
	post_failures = 0;
	close_after = POSTERS * PER_POSTER / 4;
	open_box();
	pthread_create(&worker, NULL, worker_main, NULL);
	start_posters(t);
	for (int p = 0; p < POSTERS; p++)
		pthread_join(t[p], NULL);
	join_worker();
	ok(runs == close_after);
	ok(runs + drops == POSTERS * PER_POSTER);
	ok(order_ok);
	/* each job once; the jobs of a poster that ran are its first ones */
	int once = 1, prefix = 1;
	for (int p = 0; p < POSTERS; p++) {
		int dropped = 0;
		for (int i = 0; i < PER_POSTER; i++) {
			once &= done[p][i] == RAN || done[p][i] == DROPPED;
			if (done[p][i] == DROPPED)
				dropped = 1;
			else if (dropped)
				prefix = 0;
		}
	}
	ok(once);
	ok(prefix);
	ok(mailbox_post(mb, run_item, drop_item, item_new(0, 0)) == -1); /* dropped at once */
	close_box();
}

/* ---- close and free without a loop ---- */

static int drop_order[8], num_dropped;

static void note_drop(void *arg)
{
	drop_order[num_dropped++] = *(int *)arg;
	free(arg);
}

static void no_run(void *arg)
{
	(void)arg;
	ok(0); /* never runs: the loop never does */
}

static int *num(int v)
{
	int *p = malloc(sizeof *p);
	*p = v;
	return p;
}

static void test_free_drops(void)
{
	num_dropped = 0;
	open_box();
	for (int i = 0; i < 3; i++)
		ok(mailbox_post(mb, no_run, note_drop, num(i)) == 0);
	ok(mailbox_post(mb, no_run, NULL, NULL) == 0); /* no drop: nothing to free */
	close_box();
	ok(num_dropped == 3);
	ok(drop_order[0] == 0 && drop_order[1] == 1 && drop_order[2] == 2);
}

/* ---- a job closes the mailbox: the rest of its batch is dropped ---- */

static int ran_first;

static void close_from_job(void *arg)
{
	(void)arg;
	ran_first = 1;
	mailbox_close(mb);
	mailbox_close(mb); /* twice: a no-op */
}

static void test_close_from_job(void)
{
	ran_first = num_dropped = 0;
	open_box();
	ok(mailbox_post(mb, close_from_job, NULL, NULL) == 0);
	ok(mailbox_post(mb, no_run, note_drop, num(1)) == 0);
	ok(mailbox_post(mb, no_run, note_drop, num(2)) == 0);
	event_base_loop(base, EVLOOP_NONBLOCK);
	ok(ran_first);
	ok(num_dropped == 2 && drop_order[0] == 1 && drop_order[1] == 2);
	ok(mailbox_post(mb, no_run, note_drop, num(3)) == -1);
	ok(num_dropped == 3 && drop_order[2] == 3); /* on the posting thread, at once */
	/* the mailbox's event is gone: the loop has nothing left to wait for */
	ok(event_base_loop(base, 0) == 1);
	close_box();
}

/* ---- a job posts to its own mailbox ---- */

static int steps[2], num_steps;

static void second(void *arg)
{
	(void)arg;
	steps[num_steps++] = 2;
}

static void first(void *arg)
{
	(void)arg;
	steps[num_steps++] = 1;
	ok(mailbox_post(mb, second, NULL, NULL) == 0);
	ok(num_steps == 1); /* not run from inside this one */
}

static void test_post_from_job(void)
{
	num_steps = 0;
	open_box();
	mailbox_post(mb, first, NULL, NULL);
	for (int i = 0; i < 10 && num_steps < 2; i++)
		event_base_loop(base, EVLOOP_ONCE);
	ok(num_steps == 2 && steps[0] == 1 && steps[1] == 2);
	close_box();
}

int main(void)
{
	subtest("many posters: each job once, on the worker, in order", test_many_posters);
	subtest("one post at a time: no wake-up lost", test_one_at_a_time);
	subtest("closed from a job while threads post: nothing lost", test_close_while_posting);
	subtest("free drops the jobs not run, in order", test_free_drops);
	subtest("a job closes: the rest of its batch is dropped", test_close_from_job);
	subtest("a job posts to its own mailbox", test_post_from_job);
	mailbox_free(NULL);
	return harness_done();
}
