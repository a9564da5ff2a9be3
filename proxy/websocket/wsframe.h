/* SPDX-License-Identifier: MIT */
/* wsframe.h - RFC 6455 framing, one direction of one socket: bytes in (any split), frames
 * checked and unmasked, data messages put back together across their fragments, control
 * frames whole. Never buffers a data frame: its payload goes to the sink piece by piece.
 *
 *   struct wsframe p;  wsframe_init(&p, from_client, allow_rsv1, &sink);
 *   wsframe_feed(&p, data, len, &err) ...          on_begin / on_data* / on_end, on_control
 *
 * The checks (a violation is an error, and the parser stays failed): reserved opcodes, RSV
 * bits (RSV1 only on a message's first frame and only when permessage-deflate was agreed),
 * masking (client frames masked, server frames not), control frames fragmented or over 125
 * bytes, a continuation without a message or a new message inside one, lengths not in their
 * shortest form or with the top bit set. Text is not checked for UTF-8 here (a compressed
 * message is only text after inflating). */
#ifndef WSFRAME_H
#define WSFRAME_H

#include <stddef.h>
#include <stdint.h>

enum {
	WSFRAME_CONT = 0x0,
	WSFRAME_TEXT = 0x1,
	WSFRAME_BINARY = 0x2,
	WSFRAME_CLOSE = 0x8,
	WSFRAME_PING = 0x9,
	WSFRAME_PONG = 0xA,
};

struct wsframe_sink {
	/* A data message starts: opcode TEXT or BINARY; compressed: RSV1 was set. */
	void (*on_begin)(void *arg, int opcode, int compressed);
	/* Unmasked payload of the current message (borrowed; any split, possibly empty). */
	void (*on_data)(void *arg, const unsigned char *data, size_t len);
	/* The message's final frame ended. */
	void (*on_end)(void *arg);
	/* A whole control frame (CLOSE, PING, PONG) with its unmasked payload (borrowed). */
	void (*on_control)(void *arg, int opcode, const unsigned char *data, size_t len);
	void *arg;
};

struct wsframe {
	struct wsframe_sink sink; /* copied */
	int from_client;	  /* frames must be masked */
	int allow_rsv1;		  /* permessage-deflate was agreed */
	int in_message;		  /* a data message is open (fragments may follow) */
	const char *error;	  /* non-NULL once failed: the first violation */
	/* The frame being read: */
	unsigned char hdr[14]; /* its header so far */
	size_t hdr_len, hdr_need;
	int opcode, fin;
	uint64_t left;	       /* payload bytes still to come */
	unsigned char mask[4]; /* its masking key */
	int masked;
	uint64_t pos;		/* payload bytes read so far (the mask's phase) */
	unsigned char ctl[125]; /* a control frame's payload */
	size_t ctl_len;
};

/* The error texts (compare pointers; their words go in the flow's error). */
extern const char wsframe_err_opcode[];
extern const char wsframe_err_rsv[];
extern const char wsframe_err_mask[];
extern const char wsframe_err_control[];
extern const char wsframe_err_sequence[];
extern const char wsframe_err_length[];

/* Sets p up for one direction: from_client (frames must be masked) or from the server
 * (frames must not be); allow_rsv1 when permessage-deflate was agreed. sink is copied. */
void wsframe_init(struct wsframe *p, int from_client, int allow_rsv1,
		  const struct wsframe_sink *sink);
/* Feeds len bytes. Returns 0, or -1 with *err set to one of the texts above (and every later
 * call fails the same way without reading). The sink's callbacks run inside. */
int wsframe_feed(struct wsframe *p, const unsigned char *data, size_t len, const char **err);

#endif
