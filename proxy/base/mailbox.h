/* SPDX-License-Identifier: MIT */
/* mailbox.h - jobs handed to one worker thread from any thread: a mutex-guarded FIFO of
 * (run, drop, arg) and an eventfd that one persistent event on the worker's event_base reads.
 * It is the only way other threads reach a worker (stop, intercept commands, replays), so the
 * worker's base never sees another thread and runs without libevent's locks
 * (EVENT_BASE_FLAG_NOLOCK, no evthread_use_pthreads()). */
#ifndef MAILBOX_H
#define MAILBOX_H

struct event_base;
struct mailbox;

typedef void mailbox_fn(void *arg);

/* A mailbox whose jobs run on base's loop. NULL if no eventfd or event could be made. On
 * base's thread, or before that thread starts. */
struct mailbox *mailbox_new(struct event_base *base);

/* From any thread: queues run(arg) to be called once on base's thread, after the jobs this
 * thread posted before. The mailbox owns arg from now on: if the mailbox is closed, or closes
 * before the job runs, drop(arg) is called instead (drop may be NULL: arg needs no freeing).
 * Returns 0, or -1 when it was closed already (drop has been called, on this thread). */
int mailbox_post(struct mailbox *mb, mailbox_fn *run, mailbox_fn *drop, void *arg);

/* On base's thread (a job may call it), or once that thread has ended: refuses new posts and
 * drops every job not run yet, in order. Closing twice is a no-op. */
void mailbox_close(struct mailbox *mb);

/* Closes mb if still open, then frees it. Before base is freed. NULL is a no-op. */
void mailbox_free(struct mailbox *mb);

#endif
