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

/* On the worker thread of w: connection c now holds paused flow id / no longer does. */
void intercept_add(struct intercept *ic, uint64_t id, struct conn_worker *w, struct conn *c);
void intercept_remove(struct intercept *ic, uint64_t id);

/* From any thread: queues cmd for the worker that holds flow id and returns; the worker runs
 * it (conn_command) unless the flow went away meanwhile. Takes edit (may be NULL). Returns 0,
 * or -1 with err ("flow 12 is not paused"). */
int intercept_send(struct intercept *ic, uint64_t id, enum intercept_cmd cmd, struct flow *edit,
		   char *err, size_t errlen);

#endif
