/* SPDX-License-Identifier: MIT */
/* apiproxy.h - the API's calls that the proxy carries out through a->control (apiproxy.c);
 * api.c routes to them. Without the control asked for they answer 501. */
#ifndef APIPROXY_H
#define APIPROXY_H

#include "api-t.h"

/* POST /api/flows/ID/replay (optional edits in the body, control_replay_request()): answers
 * {"id": NEW} once the new flow is stored; 400 for a bad edit, 404 for no such flow, 502 when
 * the proxy refused it. */
void apiproxy_replay(struct api *a, uint64_t id, const struct api_request *rq, struct api_reply *r);
/* what "resume" (POST, optional edit in the body), "edit" (PUT) or "kill" (POST) on the paused
 * flow id: answers {"id": ID} once the proxy's change of it is stored (or API_WATCH_US passed);
 * 400 for a bad edit, 409 when the proxy refused (not paused). */
void apiproxy_paused(struct api *a, uint64_t id, const char *what, const struct api_request *rq,
		     struct api_reply *r);
/* PUT /api/flows/ID: a complete flow's edit goes to the store (apiedit_put()), a paused one's
 * to the proxy (apiproxy_paused()). */
void apiproxy_edit(struct api *a, uint64_t id, const struct api_request *rq, struct api_reply *r);
/* api_reply_ready() (api.h): 1 when r may be sent (r->mark written, r->watch hit or timed
 * out), releasing the watch; 0 while it must wait. */
int apiproxy_ready(struct api *a, struct api_reply *r);
/* api_flow_changed() (api.h), on the store's writer thread: flow id was committed. Returns 1
 * when a watch waited for it, else 0. */
int apiproxy_flow_changed(struct api *a, uint64_t id);
/* Lets go of r's watch (NULL: none). */
void apiproxy_release(struct api_reply *r);

#endif
