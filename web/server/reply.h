/* SPDX-License-Identifier: MIT */
/* reply.h - the REST API's answers as JSON, filled into a struct api_reply (api-t.h). Each sets
 * status, content type and a malloc'd body that api_reply_clear() frees. */
#ifndef REPLY_H
#define REPLY_H

#include "api-t.h"

#include <jansson.h>

extern const char reply_json_mime[]; /* "application/json" */

/* status with the JSON document j; takes j (a new reference). */
void reply_json(struct api_reply *r, int status, json_t *j);
/* 200 with {key: value}; takes value (a new reference). */
void reply_one(struct api_reply *r, const char *key, json_t *value);
/* 200 with text, a JSON document already (copied). */
void reply_json_text(struct api_reply *r, const char *text);
/* status with {"error": msg}. */
void reply_error(struct api_reply *r, int status, const char *msg);
/* reply_error() with msg made from fmt and two string arguments. */
void reply_errorf(struct api_reply *r, int status, const char *fmt, const char *a1, const char *a2);

#endif
