/* SPDX-License-Identifier: MIT */
/* events.h - the live event stream's ring buffer: one writer side (the store's listener, on
 * the store's writer thread) and many readers (WebSocket clients, on the web thread), each
 * with its own tail. The writer never waits for a reader: a reader whose tail fell off the
 * ring is handed {"type":"reset"} and continues from the head.          [lws minimal-ws-broker]
 *
 * Threads: everything here may be called from any thread; the ring is guarded by a mutex. */
#ifndef EVENTS_H
#define EVENTS_H

#include <stddef.h>
#include <stdint.h>

struct events;

/* wake(arg) is called after each publish, with the ring's lock held (it must be quick and
 * must not call back into events): the web server's lws_cancel_service(). */
typedef void (*events_wake_fn)(void *arg);

/* A ring of capacity messages (>= 2). */
struct events *events_new(size_t capacity);
void events_free(struct events *e); /* NULL is a no-op */
/* Sets or (NULL) removes the wake callback. When this returns, the old one is not running. */
void events_set_wake(struct events *e, events_wake_fn wake, void *arg);

/* Copies msg (len bytes) into the ring, dropping the oldest message when full, then wakes. */
void events_publish(struct events *e, const char *msg, size_t len);

/* The sequence number a new reader starts at (the next message to be published). */
uint64_t events_head(struct events *e);
/* 1 when *tail has something to read (a message, or a reset). */
int events_pending(struct events *e, uint64_t tail);
/* Copies the message at *tail into *buf (grown with xrealloc as needed; *cap is its size),
 * leaving `pre` bytes free in front (lws's LWS_PRE), and advances *tail. A reader that fell
 * behind gets {"type":"reset"} and *tail jumps to the head. Returns the message length, or
 * 0 when nothing is pending. */
size_t events_next(struct events *e, uint64_t *tail, size_t pre, char **buf, size_t *cap);

extern const char events_reset_msg[]; /* {"type":"reset"} */

#endif
