/* SPDX-License-Identifier: MIT */
/* intercept.h - the registry of paused flows (which worker and connection hold flow N) and
 * the hand-over of resume, edit and kill commands from the web thread to that worker. */
#ifndef INTERCEPT_H
#define INTERCEPT_H

#include "flow.h"

#include <stddef.h>
#include <stdint.h>

struct conn;
struct conn_worker;
struct intercept;

enum intercept_cmd {
	INTERCEPT_RESUME = 0, /* go on, after applying the edit if any */
	INTERCEPT_EDIT = 1,   /* apply the edit, stay paused */
	INTERCEPT_KILL = 2,   /* end the flow, tell the client */
};

struct intercept *intercept_new(void);
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

/* On the worker thread of w: connection c now holds paused flow id / no longer does. */
void intercept_add(struct intercept *ic, uint64_t id, struct conn_worker *w, struct conn *c);
void intercept_remove(struct intercept *ic, uint64_t id);

/* From any thread: queues cmd for the worker that holds flow id and returns; the worker runs
 * it (conn_command) unless the flow went away meanwhile. Takes edit (may be NULL). Returns 0,
 * or -1 with err ("flow 12 is not paused"). */
int intercept_send(struct intercept *ic, uint64_t id, enum intercept_cmd cmd, struct flow *edit,
		   char *err, size_t errlen);

#endif
