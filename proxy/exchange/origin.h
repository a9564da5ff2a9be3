/* SPDX-License-Identifier: MIT */
/* origin.h - an exchange towards its origin: choosing and driving the upstream connection
 * (upstream.c) for the request in x->flow, the response read back and handed to the protocol
 * module through x->down (struct exchange_downstream in exchange.h), the intercept's hold of a
 * response and the resumes. Knows nothing of the client's framing or socket.
 *
 * What the protocol module calls, in the order of a request:
 *
 *   origin_request(x, authority)            the routed head is in x->flow: the rules decide,
 *                                           then blocked, held or sent up (origin_forward())
 *   origin_room(x) / origin_request_body()  the request body, as it comes (into x->held
 *                                           while held)
 *   origin_request_end(x)                   the whole request was handed over (a held one
 *                                           pauses: x->down->on_paused)
 *   origin_pump(x)                          the upstream has bytes (from the drive loop)
 *   origin_command(x, cmd, edit)            the user's edit, resume or kill of a pause
 *
 * and what the owner of the upstream's callbacks (client.c, h2conn.c) passes on: origin_ready(),
 * origin_failed(), origin_closed(). Everything runs inside the owner's enter()/leave(); after a
 * callback of x->down that ends the exchange (on_response_end, on_error_page, on_paused) x is
 * not touched again by the function that called it. */
#ifndef ORIGIN_H
#define ORIGIN_H

#include "exchange.h"
#include "http1.h"
#include "intercept.h"

#include <stddef.h>

struct evbuffer;

/* The parser sink for the responses that come to x (upstream_init() copies it). */
struct http1_sink origin_sink(struct exchange *x);

enum { ORIGIN_SENT = 0, ORIGIN_HELD = -1 };

/* The request in x->flow is routed (scheme, host, port, path): the rules of the moment decide
 * and BEGIN goes to the sink. Returns a block rule's status (x->flow's response is for the
 * protocol to fill with exchange_block_answer() and write), ORIGIN_HELD (the intercept holds
 * it: the body goes into x->held, whole, unless it turns out over the limit), or ORIGIN_SENT
 * (origin_forward()). authority (owned, may be NULL) as for origin_forward(). */
int origin_request(struct exchange *x, char *authority);
/* Sends the request in x->flow to its origin: on x->up when it is a kept-alive connection to
 * the same place, else on a new one (x->down->on_pause_reading until it is up). authority
 * (owned, may be NULL) is the Host to send; body (may be NULL) is moved after the head. */
void origin_forward(struct exchange *x, char *authority, struct evbuffer *body);
/* x->up is connected (TLS up when wanted): the head goes, the protocol may read on. */
void origin_ready(struct exchange *x);
/* Reaching the origin failed with msg: the protocol's error page (502). */
void origin_failed(struct exchange *x, const char *msg);
/* 1 when the upstream can take request body bytes now (connected and not over its
 * high-water mark). */
int origin_room(const struct exchange *x);
/* Moves n bytes (still framed as the client sent them) from the front of src to the upstream,
 * without copying, or into x->held while the request is held (sent as it came, held bytes
 * first, once it turns out over the limit). */
void origin_request_body(struct exchange *x, struct evbuffer *src, size_t n);
/* The whole request was handed over. */
void origin_request_end(struct exchange *x);
/* Reads what the upstream sent and hands it to the protocol module, or into x->held; ends the
 * response (or fails) when the upstream closed. */
void origin_pump(struct exchange *x);
/* The upstream closed or failed with why (may be NULL) and its input is consumed: the end of a
 * body that runs until close, a retry of an idempotent request on a kept-alive connection
 * that the origin closed, or an error. */
void origin_closed(struct exchange *x, const char *why);
/* The response of a request that x->down->on_forward took is complete (its head and body went
 * through origin_sink()): paused when held, else the flow ends and x->down->on_response_end. */
void origin_response_done(struct exchange *x);
/* The user's command on paused x (edit owned, may be NULL): the edit applied (EDIT: an UPDATE
 * tells the store), then RESUME sends the held side on from the flow (a response re-framed,
 * then ended), KILL ends the exchange with an error page. */
void origin_command(struct exchange *x, enum intercept_cmd cmd, struct flow *edit);

#endif
