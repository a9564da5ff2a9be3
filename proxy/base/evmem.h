/* SPDX-License-Identifier: MIT */
/* evmem.h - libevent's allocations, with its buffer chains recycled per thread.
 *
 * libevent frees an evbuffer's chains as soon as it is drained and allocates a fresh one for
 * the next read (a power of two of up to 32 KiB for a TLS record). A small keep-alive exchange
 * then costs four malloc()s and free()s of sizes glibc serves from its bins, not its
 * per-thread cache (tcache stops at about 1 KiB): some 350 instructions per pair. evmem keeps
 * a few freed blocks per power of two in the thread that freed them and hands them back to
 * the next allocation of that size, and passes everything else to malloc. */
#ifndef EVMEM_H
#define EVMEM_H

#include <stddef.h>

/* Gives libevent evmem's allocator (event_set_mem_functions()). Call once, first thing in
 * main(), before any other libevent call: a block must be freed by the allocator that
 * made it. A no-op under AddressSanitizer, whose use-after-free checks a cache would blind. */
void evmem_install(void);

/* The allocator itself (for tests): malloc(), realloc() and free() with the recycling. */
void *evmem_malloc(size_t size);
void *evmem_realloc(void *p, size_t size);
void evmem_free(void *p);

#endif
