/* SPDX-License-Identifier: MIT */
/* h2wire.h - what both ends of the proxy's HTTP/2 sessions do alike (http2.c towards the
 * client, h2origin.c towards origins): the settings each side announces, and frames out of an
 * nghttp2 session into an evbuffer. */
#ifndef H2WIRE_H
#define H2WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>

struct evbuffer;

#define H2WIRE_MAX_STREAMS 100 /* streams open at once, each way */

/* Submits SETTINGS (H2WIRE_MAX_STREAMS, each stream's receive window, no push) and opens the
 * connection's window to window times H2WIRE_MAX_STREAMS, so that every stream may fill its
 * own window without starving the others. */
void h2wire_settings(nghttp2_session *s, uint32_t window);
/* Appends what s has to send to out while out holds fewer than limit bytes. Returns 0, or -1
 * with *err (constant). */
int h2wire_send(nghttp2_session *s, struct evbuffer *out, size_t limit, const char **err);

#endif
