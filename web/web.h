/* SPDX-License-Identifier: MIT */
/* web.h - the web server: REST API, the WebSocket event stream /api/events and the embedded
 * UI, on libwebsockets running its own loop on its own thread (Debian's lws has no libevent
 * loop).
 *
 *   struct web *w = web_new(&cfg, err, sizeof err);  binds, registers as the store's listener
 *   web_start(w);                                     starts the web thread
 *   ... web_stop(w) ...                               stops listening to the store, joins
 *   store_close(store); web_free(w);                  free after the store is closed
 */
#ifndef WEB_H
#define WEB_H

#include "control.h"
#include "store.h"

#include <stddef.h>

/* The name of the cookie that carries the API token (door.h's DOOR_COOKIE). */
#define WEB_TOKEN_COOKIE "flowscope_token"

struct web_config {
	const char *host;	/* bind address, "127.0.0.1" */
	int port;		/* 0 picks a free port; web_port() tells which */
	const char *token;	/* required, never empty: the API's token */
	struct store *store;	/* borrowed: deletes, clears, settings, the change listener */
	const char *db_path;	/* the web thread opens its own read-only store_reader on it */
	const char *static_dir; /* NULL: serve the UI embedded at build time; else from disk */
	const char *ca_pem;	/* borrowed (must outlive the web server); NULL: no /api/ca.pem */
	size_t ca_pem_len;
	const struct web_control *control; /* borrowed; the proxy's live controls, may be NULL */
};

/* Creates the server and binds its port; the config strings are copied (ca_pem is not).
 * NULL with a message in err on failure (bad address, port taken, empty token). */
struct web *web_new(const struct web_config *cfg, char *err, size_t errlen);
/* Starts the web thread. Returns 0, or -1 if it could not start. */
int web_start(struct web *w);
/* Stops listening to the store, stops the web thread and waits for it. Idempotent. */
void web_stop(struct web *w);
/* Frees everything (stops first if needed). Call after store_close() so that no listener
 * call can be running. NULL is a no-op. */
void web_free(struct web *w);
/* The port actually bound. */
int web_port(const struct web *w);

#endif
