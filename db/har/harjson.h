/* SPDX-License-Identifier: MIT */
/* harjson.h - HAR's encodings of values, both directions, shared by the export and the import:
 * strings (bytes that are not UTF-8 go out as Latin-1), bodies in base64, dates in ISO 8601,
 * and typed reads of members. Internal to db/. */
#ifndef HARJSON_H
#define HARJSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* A new JSON string of the len bytes at data (NULL: ""): as they are when UTF-8, else with
 * each byte that is not part of a valid sequence mapped to the code point of the same value
 * (Latin-1). Never NULL. */
json_t *harjson_str(const char *data, size_t len);
/* harjson_str() of a NUL-terminated s (NULL: ""). */
json_t *harjson_cstr(const char *s);

/* A new JSON string of the base64 of the len bytes at data (OpenSSL's EVP_EncodeBlock). */
json_t *harjson_base64(const char *data, size_t len);
/* Decodes base64 text (white space ignored, padding optional) into a malloc'd *out (caller
 * frees) of *out_len bytes. Returns 0, or -1 (nothing allocated) when it is not base64. */
int harjson_unbase64(const char *in, size_t len, char **out /* OUT */, size_t *out_len /* OUT */);

/* A new JSON string "YYYY-MM-DDTHH:MM:SS.mmmZ" of us microseconds since the epoch (negative:
 * the epoch). */
json_t *harjson_iso(int64_t us);
/* Parses ISO 8601 "YYYY-MM-DDTHH:MM:SS[.frac][Z|+HH:MM|+HHMM]" (no zone: UTC) into
 * microseconds since the epoch. Returns 0, or -1 (*us untouched). */
int harjson_parse_iso(const char *s, int64_t *us /* OUT */);

/* The string member key of obj (borrowed from obj), its length in *len (may be NULL; the
 * string may hold NUL bytes); NULL when missing or not a string. */
const char *harjson_get_str(json_t *obj, const char *key, size_t *len /* OUT */);
/* The number member key of obj (integer or real); def when missing or not a number. */
double harjson_get_num(json_t *obj, const char *key, double def);

#endif
