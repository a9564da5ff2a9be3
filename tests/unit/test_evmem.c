/* SPDX-License-Identifier: MIT */
/* test_evmem.c - evmem's recycling: a freed chain-sized block comes back to the next
 * allocation of its size class, in the same thread; other sizes and a full class go to
 * malloc; a block is always at least as large as asked; a thread's cache is freed when it
 * exits; libevent runs on it (buffers grown, drained and refilled). */
#include "evmem.h"

#include "harness.h"

#include <malloc.h>
#include <pthread.h>
#include <string.h>

#include <event2/buffer.h>

static void recycled(void)
{
	void *a = evmem_malloc(32768);
	memset(a, 1, 32768);
	evmem_free(a);
	void *b = evmem_malloc(20000); /* same class (16..32 KiB): the same block */
	ok(b == a);
	ok(malloc_usable_size(b) >= 20000);
	evmem_free(b);
	void *c = evmem_malloc(40000); /* the next class up: not that block */
	ok(c != a);
	ok(malloc_usable_size(c) >= 40000);
	evmem_free(c); /* 40000 holds 32 KiB: kept in that class, on top of a */
	void *d = evmem_malloc(32768);
	ok(d == c);
	evmem_free(d);
}

static void sizes(void)
{
	void *small = evmem_malloc(100), *big = evmem_malloc(1 << 20);
	ok(small && big);
	ok(malloc_usable_size(small) >= 100 && malloc_usable_size(big) >= (1 << 20));
	evmem_free(small);
	evmem_free(big);
	evmem_free(NULL);
	void *r = evmem_realloc(NULL, 3000);
	memset(r, 2, 3000);
	r = evmem_realloc(r, 9000);
	ok(r && ((unsigned char *)r)[2999] == 2 && malloc_usable_size(r) >= 9000);
	evmem_free(r);
}

static void full_class(void)
{
	enum { N = 100 };
	void *p[N];
	for (int i = 0; i < N; i++)
		p[i] = evmem_malloc(65536);
	for (int i = 0; i < N; i++)
		evmem_free(p[i]); /* the first few are kept, the rest freed */
	int again = 0;
	for (int i = 0; i < N; i++) {
		void *q = evmem_malloc(65536);
		for (int j = 0; j < N; j++)
			again += q == p[j];
		p[i] = q;
	}
	ok(again >= 1 && again < N);
	for (int i = 0; i < N; i++)
		evmem_free(p[i]);
}

static void *churn(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100; i++) {
		void *a = evmem_malloc(8192), *b = evmem_malloc(65536);
		evmem_free(a);
		evmem_free(b);
	}
	return NULL;
}

static void threads(void)
{
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		ok(pthread_create(&t[i], NULL, churn, NULL) == 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
}

static void with_libevent(void)
{
	struct evbuffer *b = evbuffer_new();
	char chunk[5000];
	memset(chunk, 'x', sizeof chunk);
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 10; i++)
			evbuffer_add(b, chunk, sizeof chunk);
		ok(evbuffer_get_length(b) == 10 * sizeof chunk);
		evbuffer_drain(b, evbuffer_get_length(b));
	}
	evbuffer_free(b);
}

int main(void)
{
	evmem_install();
	subtest("recycled", recycled);
	subtest("sizes", sizes);
	subtest("full_class", full_class);
	subtest("threads", threads);
	subtest("with_libevent", with_libevent);
	return harness_done();
}
