/* SPDX-License-Identifier: MIT */
/* queue.h - the bounded FIFO between the proxy's workers and the store's writer thread (see
 * queue.c). The producers' side is store.h's (store_sink(), store_delete(), store_clear(),
 * store_set_setting()); these are the writer's side. Every function here is called with s->mu
 * held. Internal to db/store/. */
#ifndef QUEUE_H
#define QUEUE_H

#include "storeint.h"

#define QUEUE_MAX_EVENTS 200000 /* events waiting for the writer, by default */
#define QUEUE_BATCH_MAX 20000	/* events per transaction at most */
/* Bytes of flows waiting (not yet taken by the writer) past which emit waits, by default:
 * about 2,500 small flows, 50 ms or so of the writer's work, or two captured 4 MiB bodies; with
 * the batch the writer has in hand, what the queue holds stays under twice that. */
#define QUEUE_WAIT_BYTES ((size_t)8 << 20)
/* A batch of fewer events than QUEUE_BATCH_MIN waits up to BATCH_GATHER_US (queue.c, 50 ms:
 * below what a person watching the list notices) for more before it is written: under steady
 * traffic the writer would otherwise wake for every few events, and a commit costs about the
 * same (the WAL frames of every page it touched) for 5 events as for 100; a flow's BEGIN and
 * END then also often share a batch and cost one write. A write call of the API does not
 * wait for company (store_write_mark()). From 5 ms and 256 events to 50 ms and 4096, the
 * writer's CPU per small flow at 8,000 flows/s went from 28 to 17.5 µs (bench_store). */
#define QUEUE_BATCH_MIN 4096

/* Waits on s->cond until signalled or until due (util_mono_us() time). */
void queue_wait_until(struct store *s, int64_t due);
/* With events queued: lets a small batch grow for a moment (see QUEUE_BATCH_MIN). */
void queue_gather(struct store *s);
/* Takes up to QUEUE_BATCH_MAX events off the front (s->head must not be NULL): returns them as
 * a NULL-terminated list the caller owns (free with queue_free()), their number in *n and the
 * bytes they hold in *bytes. They count as in flight, and their bytes as queued, until
 * queue_done(); the producers waiting for room may go on. */
struct ev *queue_take(struct store *s, size_t *n /* OUT */, size_t *bytes /* OUT */);
/* The batch taken last, of that many bytes, was committed or dropped. */
void queue_done(struct store *s, size_t bytes);

/* Frees a list of events and all they own. NULL is a no-op. Needs no lock. */
void queue_free(struct ev *list);

#endif
