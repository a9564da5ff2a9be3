/* SPDX-License-Identifier: MIT */
/* wsframe.c - RFC 6455 frames of one direction (see wsframe.h).
 *
 * States: a frame's header is gathered byte by byte into hdr (2 bytes, then the extended
 * length and the mask key as the first two bytes say: at most 14); then its payload streams:
 * a data frame's is unmasked in small pieces on the stack and handed on, a control frame's
 * (125 bytes at most) is collected and handed on whole. No allocation.
 *
 * Why not Debian's libwslay: its event API owns the socket (its recv/send callbacks) and
 * writes the frames it sends itself, which a relay that must pass the bytes on unchanged cannot
 * use; its frame API (wslay_frame_recv) still pulls bytes through a callback, one frame per
 * call, and neither part undoes permessage-deflate. What we need is a push parser over a copy:
 * this one, about 150 lines, fuzzed by fuzz_websocket. */
#include "wsframe.h"

#include <string.h>

const char wsframe_err_opcode[] = "reserved WebSocket opcode";
const char wsframe_err_rsv[] = "WebSocket frame with reserved bits set";
const char wsframe_err_mask[] = "WebSocket frame masked wrongly for its direction";
const char wsframe_err_control[] = "WebSocket control frame fragmented or over 125 bytes";
const char wsframe_err_sequence[] = "WebSocket continuation frame out of sequence";
const char wsframe_err_length[] = "WebSocket frame length not valid";

void wsframe_init(struct wsframe *p, int from_client, int allow_rsv1,
		  const struct wsframe_sink *sink)
{
	memset(p, 0, sizeof *p);
	p->sink = *sink;
	p->from_client = from_client;
	p->allow_rsv1 = allow_rsv1;
	p->hdr_need = 2;
}

static int fail(struct wsframe *p, const char *why)
{
	p->error = why;
	return -1;
}

/* The first two header bytes are in: check them and say how long the header is. */
static int check_start(struct wsframe *p)
{
	unsigned b0 = p->hdr[0], b1 = p->hdr[1];
	int op = b0 & 0x0f, rsv = (b0 >> 4) & 7, control = op >= 8;
	p->fin = (b0 & 0x80) != 0;
	p->opcode = op;
	p->masked = (b1 & 0x80) != 0;
	if ((op > WSFRAME_BINARY && op < WSFRAME_CLOSE) || op > WSFRAME_PONG)
		return fail(p, wsframe_err_opcode);
	/* RSV1 is permessage-deflate's "compressed" bit: first frame of a data message only */
	if ((rsv & 3) || (rsv == 4 && (!p->allow_rsv1 || control || op == WSFRAME_CONT)))
		return fail(p, wsframe_err_rsv);
	if (p->masked != p->from_client)
		return fail(p, wsframe_err_mask);
	unsigned len7 = b1 & 0x7f;
	if (control && (!p->fin || len7 > 125))
		return fail(p, wsframe_err_control);
	if (!control && (op == WSFRAME_CONT) != p->in_message)
		return fail(p, wsframe_err_sequence);
	p->hdr_need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (p->masked ? 4 : 0);
	return 0;
}

/* The whole header is in: the length, the mask, and the start of a message. */
static int start_payload(struct wsframe *p)
{
	unsigned len7 = p->hdr[1] & 0x7f;
	size_t at = 2;
	uint64_t len = len7;
	if (len7 >= 126) {
		size_t n = len7 == 126 ? 2 : 8;
		len = 0;
		for (size_t i = 0; i < n; i++)
			len = len << 8 | p->hdr[at + i];
		at += n;
		/* the shortest form only; a 64-bit length has its top bit clear */
		if ((len7 == 126 && len < 126) || (len7 == 127 && (len <= 0xffff || len >> 63)))
			return fail(p, wsframe_err_length);
	}
	if (p->masked)
		memcpy(p->mask, p->hdr + at, 4);
	p->left = len;
	p->pos = 0;
	p->ctl_len = 0;
	if (p->opcode == WSFRAME_TEXT || p->opcode == WSFRAME_BINARY) {
		p->in_message = 1;
		p->sink.on_begin(p->sink.arg, p->opcode, (p->hdr[0] & 0x40) != 0);
	}
	return 0;
}

/* The frame's payload is complete. */
static void end_frame(struct wsframe *p)
{
	if (p->opcode >= WSFRAME_CLOSE) {
		p->sink.on_control(p->sink.arg, p->opcode, p->ctl, p->ctl_len);
	} else if (p->fin) {
		p->in_message = 0;
		p->sink.on_end(p->sink.arg);
	}
	p->hdr_len = 0;
	p->hdr_need = 2;
}

/* Up to len payload bytes of the current frame; returns how many were used. */
static size_t payload(struct wsframe *p, const unsigned char *data, size_t len)
{
	size_t n = len < p->left ? len : (size_t)p->left;
	unsigned char piece[4096];
	for (size_t done = 0; done < n;) {
		size_t k = n - done < sizeof piece ? n - done : sizeof piece;
		for (size_t i = 0; i < k; i++)
			piece[i] = data[done + i] ^ (p->masked ? p->mask[(p->pos + i) & 3] : 0);
		if (p->opcode >= WSFRAME_CLOSE) {
			memcpy(p->ctl + p->ctl_len, piece, k); /* left <= 125 for these */
			p->ctl_len += k;
		} else {
			p->sink.on_data(p->sink.arg, piece, k);
		}
		p->pos += k;
		done += k;
	}
	p->left -= n;
	return n;
}

int wsframe_feed(struct wsframe *p, const unsigned char *data, size_t len, const char **err)
{
	size_t i = 0;
	while (!p->error) {
		if (p->hdr_len < p->hdr_need) {
			if (i == len)
				break;
			p->hdr[p->hdr_len++] = data[i++];
			if (p->hdr_len == 2 && check_start(p) != 0)
				break;
			if (p->hdr_len == p->hdr_need && start_payload(p) != 0)
				break;
			if (p->hdr_len < p->hdr_need)
				continue;
		}
		i += payload(p, data + i, len - i);
		if (p->left)
			break; /* the rest of the payload comes with the next bytes */
		end_frame(p);
	}
	if (p->error) {
		*err = p->error;
		return -1;
	}
	return 0;
}
