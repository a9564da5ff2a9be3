/* SPDX-License-Identifier: MIT */
/* intercept.h - the registry of paused flows (which worker and connection hold flow N) and
 * the hand-over of resume, edit and kill commands from the web thread to that worker. */
#ifndef INTERCEPT_H
#define INTERCEPT_H

#include "flow.h"

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct intercept;
struct mailbox;

enum intercept_cmd {
	INTERCEPT_RESUME = 0, /* go on, after applying the edit if any */
	INTERCEPT_EDIT = 1,   /* apply the edit, stay paused */
	INTERCEPT_KILL = 2,   /* end the flow, tell the client */
};

/* Runs cmd for paused flow id on the thread of the owner that registered it (intercept_add()),
 * from that thread's loop; takes edit (may be NULL). The client connection's dispatcher gives
 * it: the registry reaches the connections only through it. */
typedef void intercept_run_fn(void *owner, uint64_t id, enum intercept_cmd cmd, struct flow *edit);

/* A registry whose commands run through run. */
struct intercept *intercept_new(intercept_run_fn *run);
void intercept_free(struct intercept *ic); /* NULL is a no-op; drops queued edits */

/* The memory budget of held and paused flows, all together (default INTERCEPT_BUDGET). Set
 * before the workers start. */
#define INTERCEPT_BUDGET ((size_t)256 << 20)
void intercept_set_budget(struct intercept *ic, size_t bytes);
size_t intercept_budget(const struct intercept *ic);
/* From any thread: takes n bytes of the budget. Returns 0, or -1 (nothing taken) when that
 * would go over it. */
int intercept_charge(struct intercept *ic, size_t n);
/* Gives back n bytes taken by intercept_charge(). */
void intercept_uncharge(struct intercept *ic, size_t n);

/* Before the workers start: commands for the connections of loop base go through mb
 * (borrowed; mailbox.h), which runs them on base's thread. Once per worker. */
void intercept_add_worker(struct intercept *ic, struct event_base *base, struct mailbox *mb);

/* On the worker thread of loop base: owner (borrowed) now holds paused flow id / no longer
 * does. */
void intercept_add(struct intercept *ic, uint64_t id, struct event_base *base, void *owner);
void intercept_remove(struct intercept *ic, uint64_t id);

/* From any thread: queues cmd for the worker that holds flow id and returns; the worker runs
 * it (the registry's run) unless the flow went away meanwhile. Takes edit (may be NULL). Returns 0,
 * or -1 with err ("flow 12 is not paused"). */
int intercept_send(struct intercept *ic, uint64_t id, enum intercept_cmd cmd, struct flow *edit,
		   char *err, size_t errlen);

#endif
