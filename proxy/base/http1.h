/* SPDX-License-Identifier: MIT */
/* http1.h - HTTP/1.x message framing on top of llhttp (strict: no lenient flags). Feeds bytes
 * in, calls the sink for each head, body chunk and end of message. Never buffers a body.
 *
 * http1_feed() stops right after a head and right after the end of a message, so the caller
 * knows exactly which bytes were head, body (still framed: the caller may relay them raw) or
 * the next pipelined message, and can act before feeding more. A message that switches
 * protocols (CONNECT, an accepted Upgrade) ends with http1_upgraded() true: what follows is not
 * HTTP and the parser refuses more bytes until http1_reset(). */
#ifndef HTTP1_H
#define HTTP1_H

#include "flow.h"

#include <stddef.h>
#include <sys/types.h>

enum http1_side {
	HTTP1_REQUEST = 0,
	HTTP1_RESPONSE = 1,
};

struct http1_sink {
	/* A head is complete. head belongs to the parser (method, target or status and reason,
	 * version, headers in wire order with case kept, head_size); the callee may move its
	 * contents out (then zero *head), else the parser clears it after the call. */
	void (*on_head)(void *arg, struct flow_msg *head);
	void (*on_body)(void *arg, const char *data, size_t len); /* de-chunked; borrowed */
	void (*on_end)(void *arg);
	void *arg;
	/* The trailer section of a chunked message, as received (in trailers' headers, borrowed:
	 * the callee copies what it keeps), right before its on_end; not called when there was
	 * none. May be NULL: the trailers are dropped (the bytes still pass as framed). */
	void (*on_trailers)(void *arg, const struct flow_msg *trailers);
};

struct http1;

/* A parser for one direction of one connection. sink is copied. Never NULL. */
struct http1 *http1_new(enum http1_side side, const struct http1_sink *sink);
void http1_free(struct http1 *p); /* NULL is a no-op */

/* Feeds up to len bytes (len 0 is fine: it lets a body-less message end after its head).
 * Returns the number of bytes consumed: fewer than len when parsing stopped after a head,
 * after a message end or at an upgrade. Returns -1 on malformed input with *err set to a
 * constant string naming what was wrong; the parser then refuses further input. */
ssize_t http1_feed(struct http1 *p, const char *data, size_t len, const char **err);
/* The peer closed its side. Ends a read-until-close response body (calls on_end) and returns
 * 0; returns 0 too when no message was in progress; -1 with *err when a message was cut. */
int http1_finish(struct http1 *p, const char **err);

/* Response parsers: the method of the request this response answers ("HEAD" means no body
 * whatever the headers say). Call before feeding the response; copied. */
void http1_set_request_method(struct http1 *p, const char *method);

int http1_in_head(const struct http1 *p);    /* 1 while no head has completed for the message */
int http1_in_message(const struct http1 *p); /* 1 when some bytes of a message were fed */
int http1_upgraded(const struct http1 *p);   /* 1 after a CONNECT/Upgrade message ended */
/* After on_end: 1 when the connection may carry another message (keep-alive). */
int http1_keep_alive(const struct http1 *p);
/* 1 when the current message's body runs until the connection closes. */
int http1_body_until_close(const struct http1 *p);
/* Forgets any state: the next byte starts a new message. */
void http1_reset(struct http1 *p);

#endif
