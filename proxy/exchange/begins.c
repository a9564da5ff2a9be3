/* SPDX-License-Identifier: MIT */
/* begins.c - BEGIN events put off for a moment, per worker thread; begins.h says why. */
#include "begins.h"

#include "util.h"

#include <stddef.h>

#include <event2/event.h>

/* This thread's waits, oldest first (one delay for all: also the order they fall due). */
static _Thread_local struct {
	struct event *timer; /* NULL: no loop attached */
	struct begin_wait *head, *tail;
} waits;

static void unlink_wait(struct begin_wait *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		waits.head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		waits.tail = w->prev;
	w->prev = w->next = NULL;
}

/* Whether w is on this thread's list: only the head has no prev there. */
static int is_linked(const struct begin_wait *w)
{
	return w->prev || waits.head == w;
}

static void arm(int64_t now)
{
	int64_t in = waits.head->due - now;
	if (in < 0)
		in = 0;
	struct timeval tv = {.tv_sec = (time_t)(in / 1000000),
			     .tv_usec = (suseconds_t)(in % 1000000)};
	evtimer_add(waits.timer, &tv);
}

/* The timer: fires every wait that is due (each may defer or cancel others), then waits for
 * the next one. Waits taken back meanwhile just left the list. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	int64_t now = util_mono_us();
	while (waits.head && waits.head->due <= now) {
		struct begin_wait *w = waits.head;
		unlink_wait(w);
		w->fire(w);
	}
	if (waits.head && !evtimer_pending(waits.timer, NULL))
		arm(now);
}

void begins_attach(struct event_base *base)
{
	waits.timer = evtimer_new(base, on_timer, NULL);
	waits.head = waits.tail = NULL;
}

void begins_detach(void)
{
	while (waits.head) { /* an exchange that outlives the loop: its BEGIN goes now */
		struct begin_wait *w = waits.head;
		unlink_wait(w);
		w->fire(w);
	}
	if (waits.timer)
		event_free(waits.timer);
	waits.timer = NULL;
}

int begins_defer(struct begin_wait *w, void (*fire)(struct begin_wait *w))
{
	if (!waits.timer)
		return 0;
	if (is_linked(w))
		unlink_wait(w);
	int64_t now = util_mono_us();
	w->fire = fire;
	w->due = now + BEGINS_DELAY_US;
	w->next = NULL;
	w->prev = waits.tail;
	if (waits.tail)
		waits.tail->next = w;
	else
		waits.head = w;
	waits.tail = w;
	if (!evtimer_pending(waits.timer, NULL))
		arm(now);
	return 1;
}

int begins_cancel(struct begin_wait *w)
{
	if (!is_linked(w))
		return 0;
	unlink_wait(w);
	return 1;
}
