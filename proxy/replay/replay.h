/* SPDX-License-Identifier: MIT */
/* replay.h - what proxy.c does for replays (proxy_replay() in proxy.h): each worker gets a
 * replay_worker, the place where replays run on that worker's event_base. proxy_replay() hands
 * a job to one worker from any thread; the worker sends it upstream and records the flow. */
#ifndef REPLAY_H
#define REPLAY_H

#include "dial.h"
#include "flow.h"

struct env_worker;
struct replay_worker;

/* Replay state for worker w (an event on w->base). Call before the worker thread starts. */
struct replay_worker *replay_worker_new(struct env_worker *w);
/* Ends every replay of rw (queued or running) with error `why` and refuses new ones. On the
 * worker's thread, or after it ended (proxy shutdown). */
void replay_worker_close_all(struct replay_worker *rw, const char *why);
/* Frees rw (closing what is left) once the worker thread has ended. NULL is a no-op. */
void replay_worker_free(struct replay_worker *rw);

/* From any thread (proxy_replay() in proxy.h): sends req (taken, may be NULL) again through
 * via (copied; its strings must outlive the replay: proxy.c's), its If-None-Match and
 * If-Modified-Since dropped when anticache, on the worker of rws (n of them) that the
 * request's scheme, host and port pick. Returns the new flow's id (BEGIN is emitted before
 * it returns), or 0 with err. */
uint64_t replay_start(struct replay_worker *const *rws, int n, struct flow *req,
		      const struct dial_via *via, int anticache, char *err, size_t errlen);

#endif
