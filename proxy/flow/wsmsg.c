/* SPDX-License-Identifier: MIT */
/* wsmsg.c - batches of WebSocket messages (see wsmsg.h). */
#include "wsmsg.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

struct wsmsg_batch *wsmsg_batch_new(uint64_t flow_id)
{
	struct wsmsg_batch *b = xcalloc(1, sizeof *b);
	b->flow_id = flow_id;
	return b;
}

void wsmsg_batch_add(struct wsmsg_batch *b, const struct wsmsg *m)
{
	if (b->num == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 16;
		b->msgs = xrealloc(b->msgs, b->cap * sizeof *b->msgs);
	}
	b->msgs[b->num++] = *m;
	b->bytes += m->len;
}

void wsmsg_close_clear(struct wsmsg_close *c)
{
	free(c->reason);
	free(c->error);
	memset(c, 0, sizeof *c);
}

void wsmsg_batch_free(struct wsmsg_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->num; i++)
		free(b->msgs[i].data);
	free(b->msgs);
	wsmsg_close_clear(&b->close);
	free(b);
}

const char *wsmsg_type_name(int opcode)
{
	return opcode == WSMSG_TEXT ? "text" : opcode == WSMSG_BINARY ? "binary" : NULL;
}
