/* SPDX-License-Identifier: MIT */
/* replay.h - what proxy.c does for replays (proxy_replay() in proxy.h): each worker gets a
 * replay_worker, the place where replays run on that worker's event_base. proxy_replay() hands
 * a job to one worker from any thread; the worker sends it upstream and records the flow. */
#ifndef REPLAY_H
#define REPLAY_H

#include "dial.h"
#include "flow.h"

struct env_worker;
struct mailbox;
struct replay_worker;

/* Replay state for worker w (an event on w->base); replay_start() hands jobs over through mb
 * (borrowed: w's mailbox, which ends the jobs it holds when closed). Call before the worker
 * thread starts. */
struct replay_worker *replay_worker_new(struct env_worker *w, struct mailbox *mb);
/* Ends every replay of rw that arrived (queued or running) with error `why`. On the worker's
 * thread, or after it ended (proxy shutdown); close the mailbox first: it ends the replays
 * still on their way, and refuses new ones. */
void replay_worker_close_all(struct replay_worker *rw, const char *why);
/* Frees rw (closing what is left) once the worker thread has ended. NULL is a no-op. */
void replay_worker_free(struct replay_worker *rw);

/* From any thread (proxy_replay() in proxy.h): sends req (taken, may be NULL) again through
 * via (copied; its strings must outlive the replay: proxy.c's), its If-None-Match and
 * If-Modified-Since dropped when anticache, on the worker of rws (n of them) that the
 * request's scheme, host and port pick. Returns the new flow's id (BEGIN is emitted before
 * it returns), or 0 with err. Once the worker's mailbox is closed (the proxy is stopping) the
 * flow ends at once with the error "proxy shutting down". */
uint64_t replay_start(struct replay_worker *const *rws, int n, struct flow *req,
		      const struct dial_via *via, int anticache, char *err, size_t errlen);

#endif
