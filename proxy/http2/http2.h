/* SPDX-License-Identifier: MIT */
/* http2.h - HTTP/2 towards the client: the server side of an nghttp2 session over the
 * decrypted byte stream. Bytes in (http2_recv), frames out (http2_send); each stream's request
 * comes to the sink as a flow_msg head (pseudo-headers turned into method and target, version
 * 20), its body in pieces, its end, and the stream's close; the response goes back with
 * http2_respond() and a body the sink hands over when nghttp2 asks (on_read_body).
 *
 * A request that could make an HTTP/1.1 origin misread it (CR, LF or NUL in a name or value,
 * uppercase names, connection-specific headers, transfer-encoding, a content-length that
 * disagrees with the DATA, a path or method that is not one) never reaches on_request: the
 * stream is reset (PROTOCOL_ERROR) and on_close says why. The other streams go on.
 *
 * Flow control is the caller's: nothing is acknowledged (WINDOW_UPDATE) until the caller says
 * the bytes were taken (http2_consume), so a stream whose bytes wait holds only its own window.
 * Server push is off. Knows nothing of exchanges, rules or upstreams. */
#ifndef HTTP2_H
#define HTTP2_H

#include "flow.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct evbuffer;
struct http2;

/* One stream of the session; lives from its HEADERS to on_close. */
struct http2_stream {
	int32_t id;
	struct flow_msg head; /* the request head: method, target (:path), version 20, headers
				 (regular ones, as received; cookies joined); its trailers
				 (head.trailers) come before on_end, also when on_request
				 took the rest of the head */
	char *authority;      /* owned: :authority (or Host), NULL if none */
	char *scheme;	      /* owned: :scheme, NULL if none */
	char *refused;	      /* owned: why the stream is refused, or NULL */
	size_t head_bytes;    /* name and value bytes of the head, for the size limit */
	int64_t start;	      /* util_now_us() at its first HEADERS byte */
	int responded;	      /* http2_respond() was called */
	void *user;	      /* the sink's, NULL until it sets it */
};

struct http2_sink {
	/* A valid request head is complete (st->head); end: no body follows. */
	void (*on_request)(void *arg, struct http2_stream *st, int end);
	/* Body bytes of st's request (borrowed); the caller calls http2_consume() once they
	 * are taken. */
	void (*on_data)(void *arg, struct http2_stream *st, const char *data, size_t len);
	void (*on_end)(void *arg, struct http2_stream *st); /* the request is complete */
	/* st is closing: why is NULL when both sides ended normally, else what ended it (a
	 * reset by the client, a refusal, the session's end); borrowed. st is freed after. */
	void (*on_close)(void *arg, struct http2_stream *st, const char *why);
	/* Up to len bytes of st's response body into buf: returns the count; *eof set when the
	 * body ends with them. 0 without *eof: none yet (http2_resume() once there are). */
	size_t (*on_read_body)(void *arg, struct http2_stream *st, char *buf, size_t len, int *eof);
	void *arg;
};

/* A server session: sink copied; window is each stream's receive window (the connection's is
 * window times the 100 streams allowed at once). Never NULL. */
struct http2 *http2_new(const struct http2_sink *sink, uint32_t window);
/* Closes every open stream (on_close with why) and frees h. NULL is a no-op. */
void http2_free(struct http2 *h, const char *why);

/* Feeds len bytes from the client. Returns 0, or -1 with *err (constant) when the session is
 * broken (a connection error: GOAWAY is queued, send it, then close). */
int http2_recv(struct http2 *h, const char *data, size_t len, const char **err);
/* Appends what nghttp2 has to send to out while out holds fewer than limit bytes. Returns 0,
 * or -1 with *err (constant) on failure. */
int http2_send(struct http2 *h, struct evbuffer *out, size_t limit, const char **err);
/* 1 when the session is over: nothing more to read nor to send (GOAWAY both ways). */
int http2_done(const struct http2 *h);
/* 1 when frames wait to be sent. */
int http2_want_write(const struct http2 *h);

/* The response to st: status and headers from head (borrowed; connection-specific headers
 * dropped, names lowercased). bodyless: no DATA follows; otherwise on_read_body gives it. */
void http2_respond(struct http2 *h, struct http2_stream *st, const struct flow_msg *head,
		   int bodyless);
/* st's response body ends with trailers (borrowed, copied; those that cannot go in HTTP/2 are
 * dropped): call it before on_read_body gives the body's end. */
void http2_trailers(struct http2_stream *st, const struct flow_msg *trailers);
/* Sends st an interim 100 (Continue) response. */
void http2_continue(struct http2 *h, struct http2_stream *st);
/* st's response body has bytes (or its end) again after on_read_body gave none. */
void http2_resume(struct http2 *h, struct http2_stream *st);
/* Resets st with code (an NGHTTP2_* error code); on_close follows. */
void http2_reset(struct http2 *h, struct http2_stream *st, uint32_t code);
/* n bytes of st's request body were taken: the client may send that many more. st may be
 * NULL (bytes of a stream that is gone: only the connection's window). */
void http2_consume(struct http2 *h, struct http2_stream *st, size_t n);
/* Ends the session with GOAWAY (NO_ERROR), to be sent before the connection closes. */
void http2_goaway(struct http2 *h);

#endif
