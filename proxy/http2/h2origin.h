/* SPDX-License-Identifier: MIT */
/* h2origin.h - HTTP/2 towards an origin: the client side of an nghttp2 session over the
 * upstream's decrypted byte stream, as http2.h is the server side towards the client. Bytes in
 * (h2origin_recv), frames out (h2origin_send); each request is submitted as a stream
 * (h2origin_submit) from a flow_msg head (HTTP/1.1-only headers dropped, names lowercased,
 * Host as :authority), its body read from the caller when nghttp2 asks (on_read_body), and the
 * response comes back to that stream's ops: head, body pieces, trailers, end, close.
 *
 * Flow control is the caller's, as in http2.h: received body bytes are acknowledged
 * (WINDOW_UPDATE) only once the caller says they were taken (h2origin_consume), so a stream
 * whose client is slow, or whose response is held, stops only its own stream at the origin.
 * Server push is refused. Knows nothing of exchanges, sockets or the store. */
#ifndef H2ORIGIN_H
#define H2ORIGIN_H

#include "flow.h"

#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct h2origin;

/* What one stream's response does; each runs with the arg given to h2origin_submit(). */
struct h2origin_ops {
	/* The final response head (1xx are not passed on): status, headers as received, version
	 * 20. The callee may move the head's contents out (it is cleared after). */
	void (*on_head)(void *arg, struct flow_msg *head);
	/* Body bytes (borrowed); h2origin_consume() once they are taken. */
	void (*on_data)(void *arg, const char *data, size_t len);
	/* Trailers after the body (headers of trailers, borrowed); may be NULL: dropped. */
	void (*on_trailers)(void *arg, const struct flow_msg *trailers);
	void (*on_end)(void *arg); /* the response is complete */
	/* The stream is gone: why NULL after on_end, else what ended it (a reset by the origin,
	 * GOAWAY, the session's end); borrowed. The last call for arg. why is h2origin_refused
	 * itself when the origin did not process the request (GOAWAY below its id,
	 * REFUSED_STREAM, or never sent): it may be sent again on another connection. */
	void (*on_close)(void *arg, const char *why);
	/* Up to len bytes of the request body into buf: returns the count; *eof set when the body
	 * ends with them. 0 without *eof: none yet (h2origin_resume() once there are). */
	size_t (*on_read_body)(void *arg, char *buf, size_t len, int *eof);
	/* Asked once, when on_read_body gave the body's end: the request whose trailers end the
	 * stream after the body (borrowed; those that may not go in HTTP/2 are left out), or
	 * NULL (none). May be NULL: no trailers. */
	const struct flow_msg *(*request_trailers)(void *arg);
};

/* The why of on_close for a request the origin did not process (compare the pointer). */
extern const char h2origin_refused[];

/* A client session: window is each stream's receive window (the connection's is window times
 * 100). Never NULL. */
struct h2origin *h2origin_new(uint32_t window);
/* Closes every open stream (on_close with why) and frees o. NULL is a no-op. */
void h2origin_free(struct h2origin *o, const char *why);

/* Feeds len bytes from the origin. Returns 0, or -1 with *err (constant) when the session is
 * broken (GOAWAY queued: send it, then close; h2origin_free() tells the streams). */
int h2origin_recv(struct h2origin *o, const char *data, size_t len, const char **err);
/* Appends what nghttp2 has to send to out while out holds fewer than limit bytes. Returns 0,
 * or -1 with *err (constant). */
int h2origin_send(struct h2origin *o, struct evbuffer *out, size_t limit, const char **err);
/* 1 when new streams may be submitted: no GOAWAY came and the session is alive. */
int h2origin_usable(const struct h2origin *o);
/* The number of streams submitted and not yet closed. */
size_t h2origin_streams(const struct h2origin *o);

/* 1 when h2origin_submit() leaves header name: value out for meaning something only to one
 * HTTP/1.1 connection (RFC 9113 8.2.2): Connection, Keep-Alive, Proxy-Connection,
 * Transfer-Encoding, Upgrade, HTTP2-Settings, a TE other than "trailers". (Host goes too, as
 * :authority.) */
int h2origin_not_sent(const char *name, const char *value);
/* Submits the request head (method, headers; version ignored) to scheme://authority path.
 * body: on_read_body gives the body; 0: END_STREAM with the head. ops is borrowed and must
 * outlive the stream. Returns the stream id (> 0), or -1 (nothing was called). */
int32_t h2origin_submit(struct h2origin *o, const struct flow_msg *req, const char *scheme,
			const char *authority, const char *path, int body,
			const struct h2origin_ops *ops, void *arg);
/* Stream id's request body has bytes (or its end) again after on_read_body gave none. */
void h2origin_resume(struct h2origin *o, int32_t id);
/* n body bytes of stream id were taken: the origin may send that many more. */
void h2origin_consume(struct h2origin *o, int32_t id, size_t n);
/* The caller is done with stream id (its client went away): RST_STREAM(CANCEL) is sent and no
 * callback runs for it any more. Unknown or closed ids are a no-op. */
void h2origin_cancel(struct h2origin *o, int32_t id);

#endif
