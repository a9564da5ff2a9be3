/* SPDX-License-Identifier: MIT */
/* h2conn.h - HTTP/2 towards the client (h2conn.c): each stream one exchange with an upstream of
 * its own (a pool per connection), the exchange's downstream. Called by the dispatcher
 * (client.c); runs inside the connection's conn_enter()/conn_leave(). */
#ifndef H2CONN_H
#define H2CONN_H

#include "conn-t.h"
#include "intercept.h"

/* The client agreed to HTTP/2 (ALPN h2) on the decrypted connection: c becomes CONN_H2. */
void h2conn_start(struct conn *c);
/* One step of reading the client's frames (CONN_H2). */
enum conn_step h2conn_read(struct conn *c);
/* Pumps the streams that wait for it (request bodies up, responses down) and sends frames. */
void h2conn_pump(struct conn *c);
/* The user's command for the paused flow id on one of c's streams (edit owned, may be NULL). */
void h2conn_command(struct conn *c, uint64_t id, enum intercept_cmd cmd, struct flow *edit);
/* 1 when no stream is open. */
int h2conn_idle(const struct conn *c);
/* Says GOAWAY to the client, then closes once it is sent (an idle connection's end). */
void h2conn_goaway(struct conn *c, const char *why);
/* Ends every stream (their flows fail with why, may be NULL) and frees the session and its
 * upstreams. A no-op when c has none. */
void h2conn_free(struct conn *c, const char *why);

#endif
