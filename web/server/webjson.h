/* SPDX-License-Identifier: MIT */
/* webjson.h - flows as the JSON the web API speaks (jansson), shared by the REST calls and the
 * event stream. Strings from the wire that are not valid UTF-8 are read as latin-1 (each byte
 * one code point; the policy of jsontext.h, shared with HAR) and the object holding them gets
 * "latin1": true, so the JSON is always valid and no byte is lost. */
#ifndef WEBJSON_H
#define WEBJSON_H

#include "flow.h"
#include "store.h"

#include <jansson.h>
#include <stddef.h>

/* A flow summary: id, kind, state, method, scheme, host, port, path, status, reason,
 * content_type, body sizes and truncated marks, timings, error, flags as booleans, replay_of,
 * client_addr, server_addr, bytes. New reference. */
json_t *webjson_summary(const struct flow *f);
/* The whole flow: the summary's fields plus request and response heads (headers as ordered
 * [name, value] pairs), stored body sizes and TLS details. New reference. */
json_t *webjson_flow(const struct flow *f);
/* A string from bytes: jsontext_string() (UTF-8 as is, else latin-1 widened to UTF-8 with
 * *latin1 set to 1). NULL s gives JSON null. New reference. */
json_t *webjson_string(const char *s, size_t len, int *latin1);
/* The event stream message for a store change: {"type":"flow","action":...,"flow":{...}} or
 * {"type":"reset"}. Returns malloc'd text (caller frees), its length in *len. */
char *webjson_event(enum store_change change, const struct flow *f, size_t *len);
/* The event stream message for the store's state: {"type":"store","error": error or null}
 * (error: the store cannot be written, in words; NULL: it stores again). Malloc'd text. */
char *webjson_store_event(const char *error, size_t *len);
/* {"error": msg} as malloc'd text; its length in *len. */
char *webjson_error(const char *msg, size_t *len);
/* Serializes and releases j (a new reference); malloc'd text, its length in *len. */
char *webjson_dump(json_t *j, size_t *len);

#endif
