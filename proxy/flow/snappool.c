/* SPDX-License-Identifier: MIT */
/* snappool.c - recycled snapshot allocations.
 *
 * A snapshot is made on a worker and freed on the store's writer. glibc hands a block of over
 * 1 KiB freed on another thread back to the allocating thread's arena under its lock, and the
 * worker's next malloc takes the slow path (bins, consolidation): about 450 instructions
 * for each of the two snapshots of a request. Snapshots of up to 8 KiB (a small flow's,
 * bodies included) are therefore allocated in classes of SNAP_GRAIN bytes, which waste at
 * most that much each while they wait in the store's queue, and up to SNAP_KEEP_BYTES of each
 * class wait on a stack for the next snapshot; a lock, since workers take and the writer
 * gives. Larger snapshots, and those that find their stack full, go to malloc and free.
 *
 * The writer frees a whole batch of snapshots at a time: between snappool_hold() and
 * snappool_release() a thread's frees wait on a list of its own (linked through the freed
 * blocks themselves), and go back to the stacks under one lock, instead of one lock per
 * snapshot, which the workers' takes had to wait for. A stack keeps up to a batch's worth (the
 * proxy's 1 KiB flows at ~22k/s: ~1,100 flows a batch, a 1 KiB and a 2 KiB snapshot each):
 * with 128 KiB a class, most snapshots were freed on the writer into the workers' arenas
 * (_int_free, unlink_chunk under the arena's lock) and allocated again there. What the stacks
 * keep was in use a moment before, and freed it would stay in glibc's arenas anyway (their
 * trim threshold is 8 MiB, main.c). */
#include "snappool.h"

#include "util.h"

#include <pthread.h>
#include <stdlib.h>

#define SNAP_GRAIN 512
#define SNAP_CLASSES 16 /* up to 8 KiB */
#define SNAP_KEEP_MAX (4 * 1024 * 1024 / SNAP_GRAIN)
#ifdef __SANITIZE_ADDRESS__
#define SNAP_KEEP_BYTES 0 /* every snapshot freed: ASan sees a use after its flow_free() */
#else
#define SNAP_KEEP_BYTES (4 * 1024 * 1024) /* a class's stack */
#endif
#define SNAP_KEEP_TOTAL (8 * 1024 * 1024) /* all the stacks */

static pthread_mutex_t snap_mu = PTHREAD_MUTEX_INITIALIZER;
static void *snap_kept[SNAP_CLASSES][SNAP_KEEP_MAX];
static int snap_len[SNAP_CLASSES];
static size_t snap_kept_bytes; /* in all the stacks */

/* This thread's frees since snappool_hold(), per class: each block's first word links to the
 * next. */
static _Thread_local int held_on;
static _Thread_local void *held[SNAP_CLASSES];

/* Bytes of an allocation of class k. */
static size_t snap_bytes(int k)
{
	return (size_t)(k + 1) * SNAP_GRAIN;
}

/* 1 when the stack of class k has room for one more (under snap_mu). */
static int snap_room(int k)
{
	return (size_t)snap_len[k] < SNAP_KEEP_BYTES / snap_bytes(k) &&
	       snap_kept_bytes + snap_bytes(k) <= SNAP_KEEP_TOTAL;
}

/* Pushes p on the stack of class k, which has room (under snap_mu). */
static void snap_push(void *p, int k)
{
	snap_kept[k][snap_len[k]++] = p;
	snap_kept_bytes += snap_bytes(k);
}

/* The class of a snapshot of size bytes (> 0), or -1 when it is too large for any. */
static int snap_class(size_t size)
{
	return size <= snap_bytes(SNAP_CLASSES - 1) ? (int)((size - 1) / SNAP_GRAIN) : -1;
}

/* An allocation of class k: a kept one, else a new one. */
static void *snap_take(int k)
{
	void *p = NULL;
	pthread_mutex_lock(&snap_mu);
	if (snap_len[k]) {
		p = snap_kept[k][--snap_len[k]];
		snap_kept_bytes -= snap_bytes(k);
	}
	pthread_mutex_unlock(&snap_mu);
	return p ? p : xmalloc(snap_bytes(k));
}

/* Keeps p, of class k, while its stack has room; else frees it. */
static void snap_give(void *p, int k)
{
	pthread_mutex_lock(&snap_mu);
	if (snap_room(k)) {
		snap_push(p, k);
		p = NULL;
	}
	pthread_mutex_unlock(&snap_mu);
	free(p);
}

void *snappool_alloc(size_t size, int *cls)
{
	*cls = snap_class(size);
	return *cls >= 0 ? snap_take(*cls) : xmalloc(size);
}

void snappool_free(void *p, int cls)
{
	if (cls < 0) {
		free(p);
	} else if (held_on && SNAP_KEEP_BYTES > 0) {
		*(void **)p = held[cls];
		held[cls] = p;
	} else {
		snap_give(p, cls);
	}
}

void snappool_hold(void)
{
	held_on = 1;
}

void snappool_release(void)
{
	held_on = 0;
	void *rest = NULL; /* the blocks the stacks had no room for */
	pthread_mutex_lock(&snap_mu);
	for (int k = 0; k < SNAP_CLASSES; k++) {
		void *p = held[k];
		for (; p && snap_room(k); p = *(void **)p)
			snap_push(p, k);
		held[k] = NULL;
		while (p) {
			void *next = *(void **)p;
			*(void **)p = rest;
			rest = p;
			p = next;
		}
	}
	pthread_mutex_unlock(&snap_mu);
	while (rest) {
		void *next = *(void **)rest;
		free(rest);
		rest = next;
	}
}
