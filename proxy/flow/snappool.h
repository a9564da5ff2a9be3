/* SPDX-License-Identifier: MIT */
/* snappool.h - recycled allocations for flow snapshots (flow_snapshot()), which workers make
 * and the store's writer frees: small ones come back from a per-size stack, not from malloc. */
#ifndef SNAPPOOL_H
#define SNAPPOOL_H

#include <stddef.h>

/* An allocation of at least size (> 0) bytes; never NULL. *cls is its class, to hand back to
 * snappool_free(): -1 when it came from malloc (too large for any class). */
void *snappool_alloc(size_t size, int *cls);
/* Frees p, from snappool_alloc() with class cls: keeps it for the next snapshot of its class
 * while that class's stack has room. */
void snappool_free(void *p, int cls);
/* From snappool_hold() on, this thread's snappool_free() calls keep what they free on a list
 * of the thread's own, without the lock; snappool_release() gives it all back under one lock
 * (for a thread that frees many snapshots in a row: the store's writer, a batch at a time). */
void snappool_hold(void);
void snappool_release(void);

#endif
