/* SPDX-License-Identifier: MIT */
/* webhttp.h - the HTTP side of the web server (webhttp.c): what webui.c's protocol callback
 * hands over for plain HTTP requests and for the door of a WebSocket upgrade. Every function
 * runs on the web thread; each returns what the lws callback should return (0 goes on, -1
 * hangs up) unless it says otherwise. */
#ifndef WEBHTTP_H
#define WEBHTTP_H

#include "webui-t.h"

#include <stddef.h>

/* LWS_CALLBACK_HTTP: checks the door, then answers path (borrowed) at once, or starts taking
 * the request's body (answered by webhttp_on_body_done()), or waits for a HAR import. */
int webhttp_on_request(struct lws *wsi, struct web *w, struct conn *c, const char *path);
/* LWS_CALLBACK_HTTP_BODY: keeps len bytes of data (borrowed) up to the call's limit. */
int webhttp_on_body(struct conn *c, const char *data, size_t len);
/* LWS_CALLBACK_HTTP_BODY_COMPLETION: answers the call whose body has arrived. */
int webhttp_on_body_done(struct lws *wsi, struct web *w, struct conn *c);
/* LWS_CALLBACK_HTTP_WRITEABLE: writes the next piece of the answer; at its end, finishes the
 * transaction (the connection may serve the next request). */
int webhttp_on_writeable(struct lws *wsi, struct web *w, struct conn *c);
/* api_import_poll()'s ready callback: owner is the wsi of the import's request; makes it
 * writable so that webhttp_on_writeable() sends the answer. arg is unused. */
void webhttp_on_import_ready(void *arg, void *owner);
/* After a wake: makes every held answer's connection writable, so that webhttp_on_writeable()
 * sends those the store has caught up with. */
void webhttp_wake_held(struct web *w);
/* Frees everything c holds (request, answer, write buffer) and zeroes those fields. */
void webhttp_conn_clear(struct conn *c);

/* The door for a WebSocket upgrade: only /api/events, with token, Host and Origin checked.
 * Returns 0 when it may pass, else the status to refuse it with and *why (static text). */
int webhttp_upgrade_refusal(struct lws *wsi, struct web *w, const char **why);
/* Refuses an upgrade with a JSON answer {"error": why} written at once. Returns 1 (lws then
 * closes the connection) or -1 when the write failed. */
int webhttp_refuse_upgrade(struct lws *wsi, int status, const char *why);

#endif
