/* SPDX-License-Identifier: MIT */
/* fuzz_websocket.c - the WebSocket capture (frame parser, fragments, permessage-deflate, the
 * close). The first byte picks the direction (bit 0: from the client, whose frames must be
 * masked), whether permessage-deflate was agreed (bit 1, no context takeover with bit 2) and a
 * small message cap (bit 3); the rest is the stream. Invariants: the stream fed whole and fed
 * one byte at a time gives the same messages, close and error; indexes count from 0; a
 * message keeps at most the cap, truncated exactly when it kept less than its size; the
 * flow's content stays under its cap. */
#include "wscapture.h"

#include "check.h"
#include "flow.h"
#include "wsmsg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct seen {
	uint64_t num, bytes, hash;
	int closed, code, by_client;
	size_t limit;
};

static void on_messages(void *arg, struct wsmsg_batch *b)
{
	struct seen *s = arg;
	for (size_t i = 0; i < b->num; i++) {
		const struct wsmsg *m = &b->msgs[i];
		check(m->index == s->num);
		check(m->len <= s->limit && m->len <= m->size);
		check(m->truncated == (m->len < m->size));
		check(m->opcode == WSMSG_TEXT || m->opcode == WSMSG_BINARY);
		s->num++;
		s->bytes += m->len;
		for (size_t k = 0; k < m->len; k++)
			s->hash = s->hash * 31 + (unsigned char)m->data[k];
		s->hash = s->hash * 7 + m->size + (uint64_t)m->opcode;
	}
	if (b->has_close && b->close.closed) {
		s->closed = 1;
		s->code = b->close.code;
		s->by_client = b->close.closed_by_client;
	}
	wsmsg_batch_free(b);
}

static int run(const uint8_t *data, size_t size, unsigned flags, size_t step, struct seen *s)
{
	struct flow *f = flow_new();
	if (flags & 2) {
		const char *v = flags & 4 ? "permessage-deflate; client_no_context_takeover; "
					    "server_no_context_takeover"
					  : "permessage-deflate";
		flow_msg_add_header(&f->response, "Sec-WebSocket-Extensions", 24, v, strlen(v));
	}
	s->limit = flags & 8 ? 16 : 1 << 20;
	struct flow_sink sink = {.emit = NULL, .arg = s, .emit_messages = on_messages};
	struct wscapture *w = wscapture_new(f, s->limit, &sink);
	int rc = 0;
	for (size_t i = 0; i < size; i += step) {
		size_t n = size - i < step ? size - i : step;
		rc = wscapture_feed(w, flags & 1, data + i, n);
		wscapture_flush(w);
	}
	check(rc == 0 || wscapture_error(w) != NULL);
	wscapture_free(w);
	flow_free(f);
	check(s->bytes <= (uint64_t)s->limit * WSCAPTURE_FLOW_CAP_FACTOR);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	unsigned flags = data[0];
	struct seen whole = {0}, bytes = {0};
	int rc1 = run(data + 1, size - 1, flags, size, &whole);
	int rc2 = run(data + 1, size - 1, flags, 1, &bytes);
	check(rc1 == rc2);
	check(whole.num == bytes.num && whole.hash == bytes.hash && whole.bytes == bytes.bytes);
	check(whole.closed == bytes.closed && whole.code == bytes.code &&
	      whole.by_client == bytes.by_client);
	return 0;
}
