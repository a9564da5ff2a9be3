/* SPDX-License-Identifier: MIT */
/* control.h - what the web API asks of the proxy: replay a request, resume, edit or kill a
 * paused flow, apply new rules. main.c fills in struct web_control (web/ does not know proxy/);
 * this module turns the API's JSON shapes (design.md, "JSON shapes the calls share") into the
 * flows those calls take. Every function runs on the web thread and must not block. */
#ifndef CONTROL_H
#define CONTROL_H

#include "flow.h"

#include <stddef.h>
#include <stdint.h>

struct liveopts;  /* liveopts.h */
struct rulesjson; /* rulesjson.h */

struct web_control {
	/* Sends req (owned) as a new flow; returns its id, or 0 with err. */
	uint64_t (*replay)(void *arg, struct flow *req, char *err, size_t errlen);
	/* Resume / edit a paused flow with edit (owned, may be NULL); 0, or -1 with err. */
	int (*resume)(void *arg, uint64_t id, struct flow *edit, char *err, size_t errlen);
	int (*edit)(void *arg, uint64_t id, struct flow *edit, char *err, size_t errlen);
	int (*kill)(void *arg, uint64_t id, char *err, size_t errlen);
	/* Applies rules (borrowed; parsed, not yet compiled: their one compile is here); -1 with
	 * err keeps the old rules. */
	int (*set_rules)(void *arg, const struct rulesjson *rules, char *err, size_t errlen);
	/* Applies the live options (borrowed, already checked) to the next flows and upstream
	 * connections; NULL: the options are stored only. */
	void (*set_options)(void *arg, const struct liveopts *opts);
	void *arg;
};

/* The request to replay: a copy of orig's request side (bodies included), with json (the API's
 * request shape: method, url, headers, body or body_base64; every field optional; NULL or empty
 * for none) applied over it. replay_of is set to orig->id. *body_given (when not NULL) says
 * whether json gave a body. NULL with err when json is invalid. */
struct flow *control_replay_request(const struct flow *orig, const char *json, size_t len,
				    int *body_given, char *err, size_t errlen);

/* An edit of a paused flow from {"request": {...}} or {"response": {"status", "reason",
 * "headers", "body" | "body_base64"}}. In the result, only the part named is present; in it,
 * NULL strings, status 0 and num_headers 0 mean "keep", and a body is replaced exactly when
 * body.data is not NULL (an empty new body has data set and len 0). NULL with err if invalid. */
struct flow *control_edit(const char *json, size_t len, char *err, size_t errlen);

#endif
