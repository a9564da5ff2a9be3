/* SPDX-License-Identifier: MIT */
/* h2once.h - one request over HTTP/2 on an upstream connection whose ALPN agreed to h2 (a
 * replay, replay.c): the flow's request goes as one stream (head and stored body), its
 * response comes back into the flow (head, body capped at the limit, version 20), and done
 * tells the outcome once. The caller owns the upstream and passes its events on. */
#ifndef H2ONCE_H
#define H2ONCE_H

#include "flow.h"

#include <stddef.h>

struct h2once;
struct upstream;

/* Runs once: err NULL when the response is complete, else why there is none (borrowed). */
typedef void (*h2once_done_fn)(void *arg, const char *err);

/* Sends f's request (f->scheme, host, port, path, request head and body) on u (connected,
 * TLS, ALPN h2), first dropping from it (version 20 now) the headers h2 does not send
 * (h2origin_not_sent()), so that it records what went; f is borrowed and must outlive the
 * returned object. Never NULL; done may
 * run from inside any h2once call, never from this one. */
struct h2once *h2once_start(struct upstream *u, struct flow *f, size_t body_limit,
			    h2once_done_fn done, void *arg);
/* u's input has bytes: read them. */
void h2once_read(struct h2once *q);
/* u's output drained: send what waits. */
void h2once_write(struct h2once *q);
/* u closed or failed with why (may be NULL): done with an error unless it ran. */
void h2once_closed(struct h2once *q, const char *why);
/* NULL is a no-op; done does not run. */
void h2once_free(struct h2once *q);

#endif
