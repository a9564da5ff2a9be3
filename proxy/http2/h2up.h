/* SPDX-License-Identifier: MIT */
/* h2up.h - an h2 origin for the streams of one HTTP/2 client connection (h2conn.c): the
 * tunnel's upstream connection, when its ALPN agreed to h2, carries the streams whose origin
 * it is as streams of its own (h2origin.c), HTTP/2 both ways; the other streams, and every
 * stream once the origin sent GOAWAY, go over HTTP/1.1 slots as before.
 *
 *   h2up_adopt(h, &c->up)       at h2conn_start(), when the upstream said h2
 *   h2up_forward(s, body)       the exchange's on_forward: 1 when it took s's request
 *   h2up_feed(s)                moves s's request body on (h2conn_pump)
 *   h2up_sent(s, n)             n response bytes of s went to the client: the origin's window
 *   h2up_flush(h)               the origin session's frames go out (h2conn_pump)
 *   h2up_detach(s)              s is going away: its origin stream is cancelled
 *   h2up_free(h, why)           at the client connection's end
 *
 * All run inside conn_enter()/conn_leave(). */
#ifndef H2UP_H
#define H2UP_H

#include <stddef.h>

struct evbuffer;
struct h2conn;
struct h2s;
struct upstream;

/* Takes from's connection (connected, TLS with ALPN h2) as h's h2 origin; from is closed. */
void h2up_adopt(struct h2conn *h, struct upstream *from);
/* Submits s's routed request (x.flow) to h's h2 origin when it is the request's host:port
 * and takes new streams, body (may be NULL) first. Returns 1 when taken, else 0. */
int h2up_forward(struct h2s *s, struct evbuffer *body);
/* Moves s's request body from s->req to its origin stream as far as the stream's buffer
 * takes it (each byte given back to the client's window), then the request's end. */
void h2up_feed(struct h2s *s);
/* n bytes of s's response went to the client: that much of the origin's window goes back. */
void h2up_sent(struct h2s *s, size_t n);
/* Sends what the origin session has (up to the upstream's high-water mark). */
void h2up_flush(struct h2conn *h);
/* s no longer wants its origin stream (reset by the client, failed): cancelled. */
void h2up_detach(struct h2s *s);
/* Frees h's h2 origin (its streams end with why). NULL h->up2 is a no-op. */
void h2up_free(struct h2conn *h, const char *why);

#endif
