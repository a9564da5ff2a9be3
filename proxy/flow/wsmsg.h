/* SPDX-License-Identifier: MIT */
/* wsmsg.h - WebSocket messages as every layer sees them: the proxy's capture (proxy/websocket/)
 * fills a batch of the messages of one flow and hands it to the sink's emit_messages(); the
 * store writes it beside the flow; the web API and HAR read struct wsmsg back.
 *
 * A message is stored as its content after the frames were put together (and inflated, for
 * permessage-deflate), at most the cap: size is the real size, truncated says content was
 * cut. Indexes count a flow's data messages from 0 in wire order (both directions share
 * them). Control frames are not messages; the close handshake is kept as the batch's close
 * part. No libevent here. */
#ifndef WSMSG_H
#define WSMSG_H

#include <stddef.h>
#include <stdint.h>

/* The message types (the opcode of the first frame). */
enum { WSMSG_TEXT = 1, WSMSG_BINARY = 2 };

struct wsmsg {
	uint64_t index;	 /* 0, 1, 2 ... in the flow, both directions */
	int from_client; /* 1: client to server */
	int opcode;	 /* WSMSG_TEXT or WSMSG_BINARY */
	int64_t ts;	 /* when its last frame was seen, µs since the epoch */
	uint64_t size;	 /* the message's real (inflated) size in bytes */
	int truncated;	 /* 1: data holds fewer than size bytes (the cap) */
	char *data;	 /* owned in a batch (borrowed when a reader hands it out); may be NULL */
	size_t len;
};

/* How a socket ended, as far as the capture saw it. */
struct wsmsg_close {
	int closed;	      /* 1: a Close frame was seen */
	int closed_by_client; /* who sent the first Close frame */
	int code;	      /* its status code; 1005 when the frame had none */
	char *reason;	      /* owned; its reason text, NULL when none */
	char *error;	      /* owned; a malformed frame ended the socket: what it was, or NULL */
};

/* What the capture hands the sink at once: messages of one flow, and its close when known. */
struct wsmsg_batch {
	uint64_t flow_id;
	struct wsmsg *msgs; /* owned array of num */
	size_t num, cap;
	size_t bytes;		  /* content bytes the batch holds (for queue bounds) */
	int has_close;		  /* close below is news: store it */
	struct wsmsg_close close; /* owned strings */
};

/* A new empty batch of flow_id's messages; never NULL. */
struct wsmsg_batch *wsmsg_batch_new(uint64_t flow_id);
/* Appends m, taking m->data (may be NULL). */
void wsmsg_batch_add(struct wsmsg_batch *b, const struct wsmsg *m);
/* Frees b and what it owns. NULL is a no-op. */
void wsmsg_batch_free(struct wsmsg_batch *b);
/* Frees what c owns and zeroes it. */
void wsmsg_close_clear(struct wsmsg_close *c);

/* "text" or "binary" for an opcode (NULL for any other). */
const char *wsmsg_type_name(int opcode);

#endif
