/* SPDX-License-Identifier: MIT */
/* wscapture.h - the messages of one WebSocket, read from a copy of the bytes relayed after the
 * 101: both directions' frames (wsframe.h), permessage-deflate undone (RFC 7692, with the
 * parameters the server's Sec-WebSocket-Extensions agreed), each message capped and handed to
 * the flow sink in batches (wsmsg.h). The relay itself never changes: bytes out = bytes in.
 *
 *   w = wscapture_new(flow, limit, &sink);      after the 101 (flow: its request + response)
 *   wscapture_tap(w, from_client, buf, n);      after n bytes were appended to buf
 *   ... -1: a malformed frame; wscapture_error() says what (end the socket)
 *   wscapture_free(w);                           hands the rest (and the close) to the sink
 *
 * Caps: a message keeps at most limit bytes, a flow at most WSCAPTURE_FLOW_CAP_FACTOR times
 * limit in all; past them messages are still recorded (size, time) with truncated content, so
 * an hours-long socket costs the proxy one message's buffer per direction. */
#ifndef WSCAPTURE_H
#define WSCAPTURE_H

#include "flow.h"

#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct wscapture;

#define WSCAPTURE_FLOW_CAP_FACTOR 64

/* A capture for flow f (borrowed for the call: its id and the handshake's headers) storing at
 * most limit bytes per message, emitting to sink (copied; its emit_messages may be NULL: then
 * nothing is recorded but frames are still checked). Never NULL. */
struct wscapture *wscapture_new(const struct flow *f, size_t limit, const struct flow_sink *sink);
/* Frees w after handing what it still holds (messages, the close) to the sink. NULL: no-op. */
void wscapture_free(struct wscapture *w);

/* Reads len bytes sent by the client (from_client) or the server. Returns 0, or -1 once a
 * malformed frame was seen in either direction (later calls do nothing and return -1). */
int wscapture_feed(struct wscapture *w, int from_client, const unsigned char *data, size_t len);
/* wscapture_feed() over the last n bytes of buf (peeked, not copied nor removed). */
int wscapture_tap(struct wscapture *w, int from_client, struct evbuffer *buf, size_t n);
/* Hands the messages gathered so far (and a new close) to the sink. */
void wscapture_flush(struct wscapture *w);
/* What was malformed ("client: reserved WebSocket opcode"), or NULL. Borrowed from w. */
const char *wscapture_error(const struct wscapture *w);

/* The permessage-deflate parameters the server agreed in its Sec-WebSocket-Extensions (every
 * such header of m): returns 1 when agreed, filling the no-context-takeover flags. */
int wscapture_deflate_params(const struct flow_msg *m, int *client_no_takeover,
			     int *server_no_takeover);

#endif
