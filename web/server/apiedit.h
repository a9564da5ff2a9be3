/* SPDX-License-Identifier: MIT */
/* apiedit.h - a captured flow edited where it stands, as mitmweb edits one: PUT
 * /api/flows/ID on a complete flow, POST /api/flows/ID/revert, POST /api/flows/ID/duplicate
 * (apiedit.c). An edit of a paused flow is the proxy's (api.c hands it on). */
#ifndef APIEDIT_H
#define APIEDIT_H

#include "api-t.h"

/* PUT /api/flows/ID with {"request": {...}} or {"response": {...}} (control_edit()'s shapes):
 * applied to the stored flow, which then says "modified"; its first edit keeps what was
 * captured (store_edit()). A new body is the decoded content: it is stored encoded again with
 * the message's Content-Encoding after the edit. Returns 1, answering nothing, when the flow is
 * paused or still pending (the caller hands the edit to the proxy, which edits a paused flow
 * and refuses others), else 0 with r filled: the edited flow, 400 for a bad edit or a coding
 * that cannot be applied again, 404 for no such flow, 409 for a tunnel or a response not
 * there. */
int apiedit_put(struct api *a, struct store_reader *rd, uint64_t id, const struct api_request *rq,
		struct api_reply *r);
/* Encodes the new body of edit e (control_edit()'s, for a paused flow; or a replay's request
 * when the replay gave a body), when it gives one, in place with the Content-Encoding its
 * message will have: that of e's own headers when it gives any, else that of the same side of
 * stored (the paused flow as stored; NULL: none). A
 * Content-Length among e's headers becomes the encoded length. Returns 0, or -1 with err
 * filled when the coding cannot be applied again (e is then unchanged). */
int apiedit_encode_new_body(struct flow *e, const struct flow *stored, char *err, size_t errlen);
/* POST /api/flows/ID/revert: what was captured comes back; answers the flow, 409 when it was
 * not edited (or was reverted since), 404 for no such flow. */
void apiedit_revert(struct api *a, struct store_reader *rd, uint64_t id, struct api_reply *r);
/* POST /api/flows/ID/duplicate: a copy with a new id that says "duplicate" (its notes, and a
 * WebSocket's messages and close, too); answers {"id": NEW} once all of it is readable, 404
 * for no such flow, 409 while in progress. */
void apiedit_duplicate(struct api *a, struct store_reader *rd, uint64_t id, struct api_reply *r);

#endif
