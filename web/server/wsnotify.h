/* SPDX-License-Identifier: MIT */
/* wsnotify.h - the event stream's notices of new WebSocket messages, at most one per flow
 * every WSNOTIFY_US: {"type":"messages","id":N}. The store's writer thread reports each
 * commit's flows (wsnotify_changed()); a flow told of less than WSNOTIFY_US ago waits, and the
 * web thread publishes what waited once its time came (wsnotify_flush(), on a timer). A page
 * that hears of a flow it shows reads its messages after the last index it has, so a notice
 * stands for any number of messages. Any thread; a mutex guards the table. */
#ifndef WSNOTIFY_H
#define WSNOTIFY_H

#include "events.h"

#include <pthread.h>
#include <stdint.h>

#define WSNOTIFY_US 100000 /* one notice per flow per 100 ms at most */
#define WSNOTIFY_SLOTS 256 /* flows remembered at once (by id hash; a collision tells at once) */

struct wsnotify {
	pthread_mutex_t mu;
	struct wsnotify_slot {
		uint64_t id;	 /* 0: free */
		int64_t last_us; /* when its last notice went out (util_mono_us()) */
		int pending;	 /* a notice waits for its time */
	} slots[WSNOTIFY_SLOTS];
};

void wsnotify_init(struct wsnotify *n);
void wsnotify_clear(struct wsnotify *n);
/* Flow id has new messages: publishes its notice to ev now, or keeps it pending. Returns 1
 * when a notice became pending (the web thread must flush within WSNOTIFY_US), else 0. */
int wsnotify_changed(struct wsnotify *n, struct events *ev, uint64_t id);
/* Publishes the pending notices whose time came. Returns the µs until the next one is due,
 * or 0 when none waits. */
int64_t wsnotify_flush(struct wsnotify *n, struct events *ev);

#endif
