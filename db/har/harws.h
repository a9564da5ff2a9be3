/* SPDX-License-Identifier: MIT */
/* harws.h - a WebSocket flow's messages in HAR, as Chrome and mitmproxy write them: the entry's
 * "_webSocketMessages" [{"type": "send"|"receive", "time": seconds since the epoch, "opcode":
 * 1|2, "data": text, or base64 for binary}], plus flowscope's "_webSocketClose" {"code",
 * "reason", "closed_by_client"} (harws.c). Internal to db/. */
#ifndef HARWS_H
#define HARWS_H

#include "store.h"
#include "wsmsg.h"

#include <jansson.h>

/* Adds the messages and the close of flow f (a WebSocket) read through r to entry e. Nothing
 * for a flow without messages or when the store cannot be read. */
void harws_export(struct store_reader *r, const struct flow *f, json_t *e);

/* The messages of HAR entry e as a batch (flow_id 0: the caller sets it), or NULL when it has
 * none. Lenient: items that are not objects, or whose opcode is not 1 or 2 (control frames),
 * are left out; "data" that is not a string counts as empty. */
struct wsmsg_batch *harws_import(json_t *e);

#endif
