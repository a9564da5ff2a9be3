/* SPDX-License-Identifier: MIT */
/* reply.c - the REST API's answers as JSON: a document, its text, one member, an error. */
#include "reply.h"

#include "util.h"
#include "webjson.h"

#include <stdio.h>
#include <string.h>

const char reply_json_mime[] = "application/json";

void reply_json(struct api_reply *r, int status, json_t *j)
{
	r->status = status;
	r->content_type = reply_json_mime;
	r->body = webjson_dump(j, &r->len);
}

/* 200 with {key: value}; takes value (a new reference). */
void reply_one(struct api_reply *r, const char *key, json_t *value)
{
	json_t *o = json_object();
	json_object_set_new(o, key, value);
	reply_json(r, 200, o);
}

void reply_json_text(struct api_reply *r, const char *text)
{
	r->status = 200;
	r->content_type = reply_json_mime;
	r->body = xstrdup(text);
	r->len = strlen(text);
}

void reply_error(struct api_reply *r, int status, const char *msg)
{
	r->status = status;
	r->content_type = reply_json_mime;
	r->body = webjson_error(msg, &r->len);
}

void reply_errorf(struct api_reply *r, int status, const char *fmt, const char *a1, const char *a2)
{
	char msg[600];
	snprintf(msg, sizeof msg, fmt, a1, a2);
	reply_error(r, status, msg);
}
