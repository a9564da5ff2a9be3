/* SPDX-License-Identifier: MIT */
/* evmem.c - recycled libevent buffer chains (see evmem.h). */
#include "evmem.h"

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

#include <event2/event.h>

/* Blocks of 2^CLASS_MIN .. 2^CLASS_MAX bytes are kept: smaller ones are rare (libevent's
 * chains start at 1 KiB), larger ones are bulk transfers, rare next to their bytes' cost. */
#define CLASS_MIN 10
#define CLASS_MAX 16
#define NCLASS (CLASS_MAX - CLASS_MIN + 1)
/* Blocks kept per class and thread: every connection of a busy loop turn may hold a chain or
 * two between its read and its write (tcache's 7 per size are gone at once), but no more than
 * KEEP_BYTES of a class: at most about 1.5 MiB held per thread. */
#define KEEP 64
#define KEEP_BYTES (256 * 1024)

struct cache {
	void *blk[NCLASS][KEEP];
	int n[NCLASS];
	int registered; /* the thread's exit frees what it holds (cache_key's destructor) */
};

static _Thread_local struct cache tc;
static pthread_key_t cache_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void drop_all(void *arg)
{
	struct cache *c = arg;
	for (int k = 0; k < NCLASS; k++)
		while (c->n[k] > 0)
			free(c->blk[k][--c->n[k]]);
	c->registered = 0;
}

static void make_key(void)
{
	pthread_key_create(&cache_key, drop_all);
}

/* The class that holds blocks of at least size bytes: the smallest 2^k >= size; -1 if none. */
static int class_for(size_t size)
{
	if (size <= (1u << (CLASS_MIN - 1)) || size > (1u << CLASS_MAX))
		return -1;
	int k = CLASS_MIN;
	while (((size_t)1 << k) < size)
		k++;
	return k - CLASS_MIN;
}

/* The class a block of usable size belongs to: the largest 2^k <= usable; -1 if none. */
static int class_of(size_t usable)
{
	if (usable < (1u << CLASS_MIN))
		return -1;
	int k = CLASS_MIN;
	while (k < CLASS_MAX && ((size_t)1 << (k + 1)) <= usable)
		k++;
	return k - CLASS_MIN;
}

void *evmem_malloc(size_t size)
{
	int k = class_for(size);
	if (k >= 0 && tc.n[k] > 0)
		return tc.blk[k][--tc.n[k]];
	return malloc(size);
}

void *evmem_realloc(void *p, size_t size)
{
	return realloc(p, size);
}

void evmem_free(void *p)
{
	if (!p)
		return;
	int k = class_of(malloc_usable_size(p));
	if (k < 0 || tc.n[k] == KEEP || ((size_t)tc.n[k] << (k + CLASS_MIN)) >= KEEP_BYTES) {
		free(p);
		return;
	}
	if (!tc.registered) {
		pthread_once(&key_once, make_key);
		pthread_setspecific(cache_key, &tc);
		tc.registered = 1;
	}
	tc.blk[k][tc.n[k]++] = p;
}

void evmem_install(void)
{
#if !defined(__SANITIZE_ADDRESS__)
	event_set_mem_functions(evmem_malloc, evmem_realloc, evmem_free);
#endif
}
