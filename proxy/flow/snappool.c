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
 * gives. Larger snapshots, and those that find their stack full, go to malloc and free. */
#include "snappool.h"

#include "util.h"

#include <pthread.h>
#include <stdlib.h>

#define SNAP_GRAIN 512
#define SNAP_CLASSES 16 /* up to 8 KiB */
#define SNAP_KEEP_MAX (128 * 1024 / SNAP_GRAIN)
#ifdef __SANITIZE_ADDRESS__
#define SNAP_KEEP_BYTES 0 /* every snapshot freed: ASan sees a use after its flow_free() */
#else
#define SNAP_KEEP_BYTES (128 * 1024)
#endif

static pthread_mutex_t snap_mu = PTHREAD_MUTEX_INITIALIZER;
static void *snap_kept[SNAP_CLASSES][SNAP_KEEP_MAX];
static int snap_len[SNAP_CLASSES];

/* Bytes of an allocation of class k. */
static size_t snap_bytes(int k)
{
	return (size_t)(k + 1) * SNAP_GRAIN;
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
	if (snap_len[k])
		p = snap_kept[k][--snap_len[k]];
	pthread_mutex_unlock(&snap_mu);
	return p ? p : xmalloc(snap_bytes(k));
}

/* Keeps p, of class k, while its stack has room; else frees it. */
static void snap_give(void *p, int k)
{
	pthread_mutex_lock(&snap_mu);
	if ((size_t)snap_len[k] < SNAP_KEEP_BYTES / snap_bytes(k)) {
		snap_kept[k][snap_len[k]++] = p;
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
	if (cls >= 0)
		snap_give(p, cls);
	else
		free(p);
}
