/* SPDX-License-Identifier: MIT */
/* harjson.h - HAR's encodings of values, both directions, shared by the export and the import:
 * strings (bytes that are not UTF-8 go out as Latin-1), dates in ISO 8601, and typed reads of
 * members. Internal to db/. */
#ifndef HARJSON_H
#define HARJSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* A new JSON string of the len bytes at data (NULL: ""): jsontext_string(), as they are when
 * UTF-8, else all of them read as Latin-1 (each byte the code point of the same value). */
json_t *harjson_str(const char *data, size_t len);
/* harjson_str() of a NUL-terminated s (NULL: ""). */
json_t *harjson_cstr(const char *s);

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
