/* SPDX-License-Identifier: MIT */
/* harws.c - WebSocket messages to and from HAR (see harws.h).
 *
 * Export writes each message as Chrome does: text as it is, binary as base64. A text message
 * that is not UTF-8 cannot be a JSON string: it goes as base64 too, marked "_base64": true, so
 * that the import gives back the same bytes. Timestamps: Chrome's seconds (a double), exact
 * to the microsecond for dates of this century. */
#include "harws.h"

#include "b64.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int on_message(void *arg, const struct wsmsg *m)
{
	json_t *o = json_object();
	json_object_set_new(o, "type", json_string(m->from_client ? "send" : "receive"));
	json_object_set_new(o, "time", json_real((double)m->ts / 1e6));
	json_object_set_new(o, "opcode", json_integer(m->opcode));
	json_t *text =
	    m->opcode == WSMSG_TEXT ? json_stringn(m->data ? m->data : "", m->len) : NULL;
	if (!text) {
		char *b = b64_encode(m->data, m->len, NULL);
		text = json_string(b);
		free(b);
		if (m->opcode == WSMSG_TEXT)
			json_object_set_new(o, "_base64", json_true());
	}
	json_object_set_new(o, "data", text);
	json_array_append_new(arg, o);
	return 0;
}

void harws_export(struct store_reader *r, const struct flow *f, json_t *e)
{
	char err[128];
	struct wsmsg_close c;
	json_t *arr = json_array();
	if (!(f->flags & FLOW_F_WEBSOCKET) || store_messages(r, f->id, -1, INT32_MAX, on_message,
							     arr, NULL, &c, err, sizeof err) != 0) {
		json_decref(arr);
		return;
	}
	json_object_set_new(e, "_webSocketMessages", arr);
	if (c.closed) {
		json_t *o = json_object();
		json_object_set_new(o, "code", json_integer(c.code));
		json_object_set_new(o, "reason", json_string(c.reason ? c.reason : ""));
		json_object_set_new(o, "closed_by_client", json_boolean(c.closed_by_client));
		json_object_set_new(e, "_webSocketClose", o);
	}
	wsmsg_close_clear(&c);
}

/* One item of "_webSocketMessages" into m; -1 when it is not a data message. */
static int read_message(json_t *it, struct wsmsg *m)
{
	json_t *op = json_object_get(it, "opcode"), *data = json_object_get(it, "data");
	json_t *t = json_object_get(it, "time");
	if (!json_is_object(it) || !json_is_integer(op))
		return -1;
	m->opcode = (int)json_integer_value(op);
	if (m->opcode != WSMSG_TEXT && m->opcode != WSMSG_BINARY)
		return -1;
	const char *type = json_string_value(json_object_get(it, "type"));
	m->from_client = type && strcmp(type, "send") == 0;
	double secs = json_is_number(t) ? json_number_value(t) : 0;
	m->ts = isfinite(secs) && secs > 0 && secs < 1e11 ? (int64_t)(secs * 1e6 + 0.5) : 0;
	const char *s = json_string_value(data);
	size_t len = s ? json_string_length(data) : 0;
	int b64 = m->opcode == WSMSG_BINARY || json_is_true(json_object_get(it, "_base64"));
	if (s && b64 && b64_decode(s, len, &m->data, &m->len) == 0) {
		m->size = m->len;
		return 0;
	}
	m->data = s ? xstrndup(s, len) : NULL; /* not base64 after all: kept as it came */
	m->len = m->size = s ? len : 0;
	return 0;
}

static void read_close(json_t *o, struct wsmsg_batch *b)
{
	json_t *code = json_object_get(o, "code");
	if (!json_is_object(o) || !json_is_integer(code))
		return;
	b->has_close = 1;
	b->close.closed = 1;
	b->close.code = (int)json_integer_value(code);
	b->close.closed_by_client = json_is_true(json_object_get(o, "closed_by_client"));
	const char *reason = json_string_value(json_object_get(o, "reason"));
	b->close.reason = reason && *reason ? xstrdup(reason) : NULL;
}

struct wsmsg_batch *harws_import(json_t *e)
{
	json_t *arr = json_object_get(e, "_webSocketMessages");
	json_t *close = json_object_get(e, "_webSocketClose");
	if (!json_is_array(arr) && !json_is_object(close))
		return NULL;
	struct wsmsg_batch *b = wsmsg_batch_new(0);
	size_t i;
	json_t *it;
	json_array_foreach(arr, i, it)
	{
		struct wsmsg m = {.index = b->num};
		if (read_message(it, &m) == 0)
			wsmsg_batch_add(b, &m);
	}
	read_close(close, b);
	return b;
}
