/* SPDX-License-Identifier: MIT */
/* apimessages.c - a WebSocket flow's messages as the API answers them (design.md, "API
 * additions"): a page of messages in index order, then how the socket closed. Text that is
 * valid UTF-8 is "content"; binary messages and text that is not UTF-8 travel as
 * "content_base64", so the JSON always holds exactly the stored bytes. */
#include "apimessages.h"

#include "b64.h"
#include "reply.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

json_t *apimessages_json(const struct wsmsg *m)
{
	json_t *o = json_object();
	json_object_set_new(o, "index", json_integer((json_int_t)m->index));
	json_object_set_new(o, "from_client", json_boolean(m->from_client));
	json_object_set_new(
	    o, "type",
	    json_string(wsmsg_type_name(m->opcode) ? wsmsg_type_name(m->opcode) : "binary"));
	/* jansson refuses text that is not UTF-8: then it goes as base64 */
	json_t *text =
	    m->opcode == WSMSG_TEXT ? json_stringn(m->data ? m->data : "", m->len) : NULL;
	if (text) {
		json_object_set_new(o, "content", text);
	} else {
		char *b = b64_encode(m->data, m->len, NULL);
		json_object_set_new(o, "content_base64", json_string(b));
		free(b);
	}
	json_object_set_new(o, "timestamp", json_integer((json_int_t)m->ts));
	json_object_set_new(o, "size", json_integer((json_int_t)m->size));
	json_object_set_new(o, "truncated", json_boolean(m->truncated));
	return o;
}

static int on_message(void *arg, const struct wsmsg *m)
{
	json_array_append_new(arg, apimessages_json(m));
	return 0;
}

static int parse_num(const char *s, long long min, long long max, long long *out)
{
	char *end;
	if (!s || !*s)
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static json_t *str_or_null(const char *s)
{
	json_t *j = s ? json_string(s) : NULL;
	return j ? j : json_null();
}

void apimessages_get(struct store_reader *rd, uint64_t id, const struct api_request *rq,
		     struct api_reply *r)
{
	char err[256];
	long long after = -1, limit = APIMESSAGES_DEFAULT;
	if (rq->after && parse_num(rq->after, -1, INT64_MAX, &after) != 0) {
		reply_error(r, 400, "after: expected a message index");
		return;
	}
	if (rq->limit && parse_num(rq->limit, 1, APIMESSAGES_MAX, &limit) != 0) {
		reply_error(r, 400, "limit: expected a number from 1 to 10000");
		return;
	}
	int exists = store_exists(rd, id);
	if (exists <= 0) {
		reply_error(r, exists < 0 ? 503 : 404,
			    exists < 0 ? "cannot read the flow store" : "no such flow");
		return;
	}
	json_t *msgs = json_array();
	uint64_t total = 0;
	struct wsmsg_close c;
	if (store_messages(rd, id, after, (int)limit, on_message, msgs, &total, &c, err,
			   sizeof err) != 0) {
		json_decref(msgs);
		reply_errorf(r, 500, "cannot read messages: %s%s", err, "");
		return;
	}
	json_t *o = json_object();
	json_object_set_new(o, "messages", msgs);
	json_object_set_new(o, "total", json_integer((json_int_t)total));
	json_object_set_new(o, "closed_by_client",
			    c.closed ? json_boolean(c.closed_by_client) : json_null());
	json_object_set_new(o, "close_code", c.closed ? json_integer(c.code) : json_null());
	json_object_set_new(o, "close_reason", str_or_null(c.closed ? c.reason : NULL));
	json_object_set_new(o, "error", str_or_null(c.error));
	wsmsg_close_clear(&c);
	reply_json(r, 200, o);
}
