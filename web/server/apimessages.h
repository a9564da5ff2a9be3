/* SPDX-License-Identifier: MIT */
/* apimessages.h - GET /api/flows/ID/messages: a WebSocket flow's messages (apimessages.c). */
#ifndef APIMESSAGES_H
#define APIMESSAGES_H

#include "api-t.h"

#include <jansson.h>

#define APIMESSAGES_DEFAULT 1000 /* messages per answer without ?limit= */
#define APIMESSAGES_MAX 10000	 /* ... and at most */

/* Answers {"messages": [...], "total": N, "close_code", "close_reason", "closed_by_client",
 * "error"} for flow id from rd (borrowed), messages with an index above ?after= (all without
 * it), at most ?limit=; 404 for no such flow, 400 for bad arguments. */
void apimessages_get(struct store_reader *rd, uint64_t id, const struct api_request *rq,
		     struct api_reply *r);

/* One message as the API shows it: {"index", "from_client", "type", "content" (text that is
 * UTF-8) or "content_base64", "timestamp" (µs), "size", "truncated"}. A new reference. */
json_t *apimessages_json(const struct wsmsg *m);

#endif
