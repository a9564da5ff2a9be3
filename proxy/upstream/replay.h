/* SPDX-License-Identifier: MIT */
/* replay.h - what proxy.c does for replays (proxy_replay() in proxy.h): each worker gets a
 * replay_worker, the place where replays run on that worker's event_base. proxy_replay() hands
 * a job to one worker from any thread; the worker sends it upstream and records the flow. */
#ifndef REPLAY_H
#define REPLAY_H

#include "dial.h"
#include "proxy.h"

struct conn_worker;
struct replay_worker;

/* Replay state for worker w (an event on w->base). Call before the worker thread starts. */
struct replay_worker *replay_worker_new(struct conn_worker *w);
/* Ends every replay of rw (queued or running) with error `why` and refuses new ones. On the
 * worker's thread, or after it ended (proxy shutdown). */
void replay_worker_close_all(struct replay_worker *rw, const char *why);
/* Frees rw (closing what is left) once the worker thread has ended. NULL is a no-op. */
void replay_worker_free(struct replay_worker *rw);

/* From proxy.c: how many workers there are, and worker i (0 <= i < the count). */
int proxy_num_workers(const struct proxy *p);
struct conn_worker *proxy_worker(struct proxy *p, int i);
/* From proxy.c: the upstream proxy that a replay of a flow recorded through mode (struct
 * flow's, "NAME@HOST:PORT"; may be NULL) goes through: the proxy of this run's upstream:
 * listener of the same NAME with --upstream-auth, else none (a mode from an imported file
 * never names a proxy of its own). Its strings live as long as p. */
struct dial_via proxy_replay_via(const struct proxy *p, const char *mode);

#endif
