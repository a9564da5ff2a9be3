/* SPDX-License-Identifier: MIT */
/* test_web_events.c - the event ring: order, per-reader tails, a reader that fell behind gets
 * a reset and continues from the head, and a publisher thread never waits for readers. */
#include "events.h"
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int wakes;
static void on_wake(void *arg)
{
	(void)arg;
	wakes++;
}

static void order(void)
{
	struct events *e = events_new(4);
	char *buf = NULL;
	size_t cap = 0, n;
	uint64_t a = events_head(e), b = a;
	events_set_wake(e, on_wake, NULL);
	ok(!events_pending(e, a));
	ok(events_next(e, &a, 16, &buf, &cap) == 0);
	events_publish(e, "one", 3);
	events_publish(e, "two", 3);
	ok(wakes == 2);
	ok(events_pending(e, a));
	n = events_next(e, &a, 16, &buf, &cap);
	ok(n == 3 && memcmp(buf + 16, "one", 3) == 0);
	n = events_next(e, &a, 16, &buf, &cap);
	ok(n == 3 && memcmp(buf + 16, "two", 3) == 0);
	ok(events_next(e, &a, 16, &buf, &cap) == 0);
	/* b still reads both */
	n = events_next(e, &b, 0, &buf, &cap);
	ok(n == 3 && memcmp(buf, "one", 3) == 0);
	events_set_wake(e, NULL, NULL);
	events_publish(e, "three", 5);
	ok(wakes == 2);
	free(buf);
	events_free(e);
}

static void fall_behind(void)
{
	struct events *e = events_new(4);
	char *buf = NULL, msg[16];
	size_t cap = 0, n;
	uint64_t slow = events_head(e), fast = slow;
	for (int i = 0; i < 10; i++) {
		int len = snprintf(msg, sizeof msg, "m%d", i);
		events_publish(e, msg, (size_t)len);
		n = events_next(e, &fast, 0, &buf, &cap);
		ok(n == (size_t)len && memcmp(buf, msg, n) == 0);
	}
	n = events_next(e, &slow, 0, &buf, &cap);
	ok(n == strlen(events_reset_msg) && memcmp(buf, events_reset_msg, n) == 0);
	ok(!events_pending(e, slow));
	events_publish(e, "m10", 3);
	n = events_next(e, &slow, 0, &buf, &cap);
	ok(n == 3 && memcmp(buf, "m10", 3) == 0);
	/* exactly capacity behind is still readable */
	uint64_t edge = events_head(e);
	for (int i = 0; i < 4; i++)
		events_publish(e, "x", 1);
	n = events_next(e, &edge, 0, &buf, &cap);
	ok(n == 1 && buf[0] == 'x');
	free(buf);
	events_free(e);
}

static struct events *shared;
static atomic_int published;

static void *publisher(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100000; i++)
		events_publish(shared, "{\"type\":\"flow\"}", 15);
	atomic_store(&published, 1);
	return NULL;
}

/* A reader racing a publisher sees only whole messages or resets, and ends at the head. */
static void threads(void)
{
	shared = events_new(128);
	pthread_t t;
	char *buf = NULL;
	size_t cap = 0;
	uint64_t tail = events_head(shared);
	int got = 0, resets = 0, bad = 0;
	pthread_create(&t, NULL, publisher, NULL);
	while (!atomic_load(&published) || events_pending(shared, tail)) {
		size_t n = events_next(shared, &tail, 16, &buf, &cap);
		if (n == strlen(events_reset_msg) && memcmp(buf + 16, events_reset_msg, n) == 0)
			resets++;
		else if (n == 15 && memcmp(buf + 16, "{\"type\":\"flow\"}", 15) == 0)
			got++;
		else if (n)
			bad++;
	}
	pthread_join(t, NULL);
	ok(bad == 0);
	ok(got + resets > 0);
	ok(tail == events_head(shared));
	ok(events_head(shared) == 100000);
	free(buf);
	events_free(shared);
}

int main(void)
{
	subtest("order", order);
	subtest("fall_behind", fall_behind);
	subtest("threads", threads);
	return harness_done();
}
