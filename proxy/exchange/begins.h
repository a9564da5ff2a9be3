/* SPDX-License-Identifier: MIT */
/* begins.h - a flow's BEGIN event put off for a moment, per worker thread.
 *
 * A BEGIN makes a pending flow show in the store before its response came. Most responses
 * come within a few milliseconds, and their END (which writes the whole row) follows the
 * BEGIN into the same batch of the store's writer, which then throws the BEGIN away: its
 * snapshot, queueing and the writer's handling were work nobody saw (47.3 -> 43.9 µs of the
 * proxy's CPU per request once gone, at HTTPS c=50 on a fast origin: README, session 14). So an
 * exchange asks for its BEGIN to fire after BEGINS_DELAY_US instead (exchange_begin_soon()), and
 * takes the wait back when its UPDATE or END comes first. A flow still pending then is in the store
 * as before, BEGINS_DELAY_US later: well inside the writer's own gathering of a batch (up to 50 ms,
 * queue.h), so what the page shows does not change in a way a person notices.
 *
 * Each worker thread attaches its event loop once (begins_attach()); one timer per thread
 * fires the waits that are due, in order (one delay for all: the list is in due order). A
 * thread with no loop attached defers nothing: begins_defer() returns 0 and the caller emits
 * at once. */
#ifndef BEGINS_H
#define BEGINS_H

#include <stdint.h>

struct event_base;

#define BEGINS_DELAY_US 25000

/* One wait, inside the struct that owns it (struct exchange). Zeroed: not waiting. */
struct begin_wait {
	struct begin_wait *prev, *next;
	int64_t due;			    /* util_mono_us() time to fire */
	void (*fire)(struct begin_wait *w); /* called once, unlinked, on the owning thread */
};

/* This thread's loop runs the waits from now on / no longer (detaching fires the waits left:
 * their owners outlive the loop). */
void begins_attach(struct event_base *base);
void begins_detach(void);

/* Puts w on this thread's list, to fire(w) after BEGINS_DELAY_US. Returns 1, or 0 when this
 * thread has no loop attached (nothing done: fire now). */
int begins_defer(struct begin_wait *w, void (*fire)(struct begin_wait *w));
/* Takes w off the list if it is on it; returns 1 if it was. */
int begins_cancel(struct begin_wait *w);

#endif
