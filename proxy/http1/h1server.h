/* SPDX-License-Identifier: MIT */
/* h1server.h - HTTP/1 towards the client (h1server.c): request heads, routing, the proxy's own
 * pages, request bodies handed to the exchange (held whole while intercepted). Called by the
 * dispatcher (client.c) and by h1relay.c; runs inside the connection's conn_enter()/
 * conn_leave(). */
#ifndef H1SERVER_H
#define H1SERVER_H

#include "conn-t.h"

/* The parser sink for requests from the client of c. */
struct http1_sink h1server_sink(struct conn *c);
/* One step of reading the client's input in states REQ_HEAD, EXCHANGE and HOLD_REQ. */
enum conn_step h1server_read(struct conn *c);
/* An error page (when nothing of a response reached the client yet) and a close; the flow
 * ends with msg as its error. */
void h1server_send_error(struct conn *c, int status, const char *reason, const char *msg);
/* The client was too slow: a head not whole within the timeout, or a request body that made
 * no progress for it. 408 when nothing of a response went out yet, the flow ended with the
 * error, and a close. While discarding: the close. */
void h1server_timed_out(struct conn *c);
/* The response to the request being read ended first (how as for on_response_end): the rest
 * of the request body is dropped as it comes, within the timeout, then the connection waits
 * for the next request (or closes, for an until-close response). */
void h1server_discard_rest(struct conn *c, unsigned how);

#endif
